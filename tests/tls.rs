//! The AWS clients' TLS: certificates are verified against the store the function gives its
//! HTTPS client (`wiring::https_client`), the Amazon Trust Services roots in a deployment.
//! Against moto behind `support/tls_proxy.py`, whose certificate comes from a CA of its own:
//! trusted when that CA is the store, refused by the Amazon roots and by the system's store.

mod support;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider::config::Credentials;
use aws_smithy_types::error::display::DisplayErrorContext;
use resetgate::wiring::{AMAZON_TRUST_SERVICES, https_client};

async fn sdk_trusting(endpoint: &str, roots: Option<&[u8]>) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tls"))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .http_client(https_client(roots))
        .load()
        .await
}

#[tokio::test]
async fn aws_calls_verify_certificates_against_the_store_they_are_given() {
    let moto = support::moto();
    let (proxy, test_ca) = support::standin::tls_proxy(&moto.endpoint);

    // The store holds the proxy's CA: the call goes through, over TLS.
    let trusted =
        aws_sdk_secretsmanager::Client::new(&sdk_trusting(&proxy.endpoint, Some(&test_ca)).await);
    let name = format!("resetgate-tls-{}", std::process::id());
    trusted
        .create_secret()
        .name(&name)
        .secret_string("over-tls")
        .send()
        .await
        .expect("a call through a certificate the store trusts");
    let read = trusted
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("read back");
    assert_eq!(read.secret_string(), Some("over-tls"));

    // The deployment's store (the Amazon roots) and the system's refuse that certificate.
    for (store, roots) in [
        ("Amazon Trust Services", Some(AMAZON_TRUST_SERVICES)),
        ("the system's", None),
    ] {
        let client =
            aws_sdk_secretsmanager::Client::new(&sdk_trusting(&proxy.endpoint, roots).await);
        let error = client
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .expect_err(store);
        let text = format!("{}", DisplayErrorContext(&error)).to_lowercase();
        assert!(
            text.contains("certificate") || text.contains("unknownissuer"),
            "{store}: refused for its certificate, not something else: {text}"
        );
    }
}
