//! Users told of a reset, end to end on moto: SES v2 from a verified identity to the address
//! Cognito holds (verified), read back from moto's own record of sent messages.

mod support;

use serde_json::{Value, json};
use support::cognito::Pool;

const CANARY: &str = "Canary-Mosaic-Harbour-19";

#[tokio::test]
async fn a_reset_is_mailed_to_the_verified_address_without_the_password() {
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let pool = Pool::create(&sdk).await;
    support::sinks::verified_sender(&sdk, "no-reply@example.com").await;

    let mut config: Value = serde_json::from_str(&pool.config()).expect("json");
    config["notifications"] =
        json!({"fromAddress": "no-reply@example.com", "contact": "the IT helpdesk, +1 555 0100"});
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let (app, _) = support::app(&config.to_string(), &sdk, &dynamodb).await;

    // Every pool of this test run shares moto's one SES: an address of this pool's own.
    let before =
        support::sinks::sent_to(&support::sinks::sent_mails(&moto), "alice@example.com").len();
    let alice = json!({"sub": "sub-alice", "cognito:username": "alice"});
    let mut event = support::http_api_event(
        "/v1/targets/app-users/password-reset",
        alice.clone(),
        &json!({"mode": "set", "password": CANARY}).to_string(),
    );
    event["headers"]["idempotency-key"] = format!("mail-{}", pool.id).into();
    let response = app
        .handle_event(&event.to_string(), &lambda_http::Context::default())
        .await;
    assert_eq!(response.status_code, 200, "{}", response.body);
    // The replay tells nobody again.
    app.handle_event(&event.to_string(), &lambda_http::Context::default())
        .await;

    let sent = support::sinks::sent_to(&support::sinks::sent_mails(&moto), "alice@example.com");
    let ours: Vec<&Value> = sent[before..]
        .iter()
        .filter(|message| {
            message["body"]
                .as_str()
                .is_some_and(|body| body.contains("app-users"))
        })
        .collect();
    assert_eq!(ours.len(), 1, "{sent:#?}");
    let message = ours[0];
    assert_eq!(message["source"], "no-reply@example.com");
    let body = message["body"].as_str().expect("a body");
    assert!(body.contains("the IT helpdesk, +1 555 0100"), "{body}");
    assert!(body.contains("signed in as you"), "{body}");
    assert!(!body.contains(CANARY), "the password: {body}");
    assert!(!message.to_string().contains(CANARY));
}
