//! The composition root: the SDK configuration and clients, the idempotency store, one
//! adapter per target and the use case, built once at cold start. `main` calls [`init`]; the
//! integration tests build the same thing against local endpoints with [`app`].

use std::{collections::HashMap, sync::Arc, time::Duration};

use aws_config::{
    BehaviorVersion, Region, SdkConfig, environment::EnvironmentVariableCredentialsProvider,
    timeout::TimeoutConfig,
};
use aws_smithy_http_client::{
    Builder,
    tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode},
};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use secrecy::SecretString;

use crate::{
    app::PasswordResets,
    aws::Clients,
    clock::SystemClock,
    config::{self, Config, HmacKeySource, read_secret},
    error::InitError,
    events::EventBridgeBus,
    http::App,
    idempotency::{DynamoStore, Store},
    notify::SesMailer,
};

/// The roots of Amazon Trust Services, which issues the AWS service endpoints' certificates
/// (`certs/README.md`: where they come from, their fingerprints).
pub const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The SDK configuration of a deployment: region and credentials from the Lambda environment,
/// timeouts that keep every back-end call well inside API Gateway's 29 s and the function's
/// own timeout, retries included (standard retry mode: 3 attempts), and an HTTPS client that
/// trusts the Amazon Trust Services roots (or the system's store: [`config::system_ca_store`]).
pub async fn sdk_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(4))
        .operation_timeout(Duration::from_secs(10))
        .build();
    let roots = (!config::system_ca_store()).then_some(AMAZON_TRUST_SERVICES);
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .http_client(https_client(roots));
    match environment_region() {
        // Lambda puts the execution role's credentials and the region in the environment, and
        // the default chains would find them there first. Naming the environment's providers
        // saves building the chains' later links at every cold start: the profile providers,
        // web identity with an STS client of its own, container and instance metadata (init's
        // CPU 2.41 -> 2.19 ms, BENCHMARKS.md). Elsewhere, a local run with a profile say, the
        // default chains apply.
        Some(region) if environment_credentials() => {
            loader
                .region(region)
                .credentials_provider(EnvironmentVariableCredentialsProvider::new())
                .load()
                .await
        }
        _ => loader.load().await,
    }
}

/// The region from the environment, where the default chain looks first: `AWS_REGION`, else
/// `AWS_DEFAULT_REGION` (a blank value counts as unset).
fn environment_region() -> Option<Region> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|region| !region.trim().is_empty())
        .map(Region::new)
}

/// Whether the environment holds credentials (as Lambda's always does): the default chain
/// would take them before any other source.
fn environment_credentials() -> bool {
    ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .iter()
        .all(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// The SDK's own HTTPS client (rustls with aws-lc, as its default), trusting exactly the PEM
/// certificates `roots`, or the system's store with `None`. Certificates are always verified.
/// Reading the system's store (a bundle, and on some systems a directory of a file per root)
/// was 2-3 ms of every cold start (BENCHMARKS.md).
pub fn https_client(roots: Option<&[u8]>) -> SharedHttpClient {
    let trust = match roots {
        Some(pem) => TrustStore::empty().with_pem_certificate(pem),
        None => TrustStore::default(),
    };
    // Building the context cannot fail (the certificates are parsed when a connection is
    // first made); were it ever to, the SDK's default context verifies against the system's.
    let tls = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_default();
    Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(tls)
        .build_https()
}

/// The whole function from the environment: the keyed-hash secret (one `GetSecretValue` in a
/// deployment), the configuration, the DynamoDB store and every target's adapter.
pub async fn init() -> Result<App, InitError> {
    let sdk = sdk_config().await;
    let key = HmacKeySource::from_env()?
        .resolve(&aws_sdk_secretsmanager::Client::new(&sdk))
        .await?;
    let config = Config::from_env(key)?;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.idempotency.table.clone(),
    );
    app(config, Box::new(store), &sdk).await
}

/// The function for `config`, with its records in `store` and its back-ends reached with
/// `sdk`: the secrets the back-ends name read (concurrently, once), then each target's adapter
/// from its settings, SDK clients shared per service.
pub async fn app(config: Config, store: Box<dyn Store>, sdk: &SdkConfig) -> Result<App, InitError> {
    let mut clients = Clients::new(sdk);
    let secrets = backend_secrets(&config, &mut clients).await?;
    let mut clients = clients.with_secrets(secrets);
    let events = config.events.clone();
    let notifications = config.notifications.clone();
    let mut resets = PasswordResets::new(config, store, Arc::new(SystemClock), |target| {
        target.backend().adapter(&target.name, &mut clients)
    })?;
    if let Some(events) = events {
        resets = resets.with_events(Box::new(EventBridgeBus::new(
            clients.get(aws_sdk_eventbridge::Client::new),
            events.event_bus_name,
        )));
    }
    if let Some(notifications) = notifications {
        let mailer = SesMailer::new(
            clients.get(aws_sdk_sesv2::Client::new),
            notifications.from_address.clone(),
        );
        resets = resets.with_notifications(Box::new(mailer), notifications.contact);
    }
    Ok(App::new(resets))
}

/// Every secret a target's back-end names ([`crate::reset::Backend::secret_ids`]), read once
/// and concurrently; an unreadable one stops the init, naming the target and the key.
async fn backend_secrets(
    config: &Config,
    clients: &mut Clients<'_>,
) -> Result<HashMap<String, SecretString>, InitError> {
    let mut wanted: Vec<(String, &str)> = Vec::new();
    for target in &config.targets {
        for (key, secret_id) in target.backend().secret_ids() {
            if !wanted.iter().any(|(_, id)| *id == secret_id) {
                wanted.push((format!("targets[{}].{key}", target.name), secret_id));
            }
        }
    }
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let client = clients.get(aws_sdk_secretsmanager::Client::new);
    let read = futures_util::future::try_join_all(wanted.iter().map(|(named_by, id)| {
        let client = &client;
        async move {
            read_secret(client, id, named_by)
                .await
                .map(|secret| ((*id).to_owned(), secret))
        }
    }))
    .await?;
    Ok(read.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::STANDARD};
    use sha2::{Digest, Sha256};

    use super::AMAZON_TRUST_SERVICES;

    /// The compiled-in roots are exactly the five Amazon Trust Services publishes
    /// (amazontrust.com/repository), by their SHA-256 fingerprints.
    #[test]
    fn the_trusted_roots_are_amazon_trust_services() {
        let pem = std::str::from_utf8(AMAZON_TRUST_SERVICES).expect("PEM is text");
        let fingerprints: Vec<String> = pem
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                let body = block
                    .split("-----END CERTIFICATE-----")
                    .next()
                    .unwrap_or_default();
                let der = STANDARD
                    .decode(body.split_whitespace().collect::<String>())
                    .expect("base64");
                Sha256::digest(der)
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect()
            })
            .collect();
        assert_eq!(
            fingerprints,
            [
                // Amazon Root CA 1 to 4, then Starfield Services Root Certificate Authority - G2.
                "8ECDE6884F3D87B1125BA31AC3FCB13D7016DE7F57CC904FE1CB97C6AE98196E",
                "1BA5B2AA8C65401A82960118F80BEC4F62304D83CEC4713A19C39C011EA46DB4",
                "18CE6CFE7BF14E60B2E347B8DFE868CB31D02EBB3ADA271569F50343B46DB3A4",
                "E35D28419ED02025CFA69038CD623962458DA5C695FBDEA3C22B0BFB25897092",
                "568D6905A2C88708A4B3025190EDCFEDB1974A606A13C6E5290FCB2AE63EDAB5",
            ]
        );
    }
}
