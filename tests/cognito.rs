//! The Cognito slice end to end: the real handler and the real SDK against moto's server, with
//! each user's real state asserted after every call.

mod support;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::types::UserStatusType;
use resetgate::App;
use serde_json::{Value, json};
use support::cognito::{Pool, SignIn, seed_password};

struct Answer {
    status: u16,
    headers: std::collections::BTreeMap<String, String>,
    body: Value,
}

/// The app over moto's DynamoDB, with adapters from `cognito_sdk`.
async fn app(config: &str, cognito_sdk: &SdkConfig, moto_sdk: &SdkConfig) -> App {
    support::app(
        config,
        cognito_sdk,
        &aws_sdk_dynamodb::Client::new(moto_sdk),
    )
    .await
    .0
}

async fn invoke(app: &App, event: &Value) -> Answer {
    let mut context = lambda_http::Context::default();
    context.request_id = "it-request".into();
    let response = app.handle_event(&event.to_string(), &context).await;
    let value = serde_json::to_value(&response).expect("serialisable");
    Answer {
        status: response.status_code,
        headers: response
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        body: serde_json::from_str(value["body"].as_str().expect("body")).expect("json body"),
    }
}

/// An HTTP API 2.0 event by `claims` to `path` with `body` and a fresh idempotency key.
fn request(path: &str, claims: Value, body: Value) -> Value {
    let mut event = support::http_api_event(path, claims, &body.to_string());
    event["headers"]["idempotency-key"] = format!("it-{}", rand_suffix()).into();
    event
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn alice() -> Value {
    json!({"sub": "sub-alice", "cognito:username": "alice"})
}
fn helen() -> Value {
    json!({"sub": "sub-helen", "cognito:username": "helen", "cognito:groups": "[helpdesk]"})
}
fn mallory() -> Value {
    json!({"sub": "sub-mallory", "cognito:username": "mallory", "cognito:groups": "[superhelpdesk helpdesk-readonly]"})
}

const OWN: &str = "/v1/targets/app-users/password-reset";
fn user_path(name: &str) -> String {
    format!("/v1/targets/app-users/users/{name}/password-reset")
}

struct World {
    _moto: std::sync::Arc<support::Moto>,
    sdk: SdkConfig,
    pool: Pool,
    app: App,
}

async fn world() -> World {
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let pool = Pool::create(&sdk).await;
    let app = app(&pool.config(), &sdk, &sdk).await;
    World {
        _moto: moto,
        sdk,
        pool,
        app,
    }
}

#[tokio::test]
async fn generate_sets_a_temporary_password_that_signs_in_once() {
    let w = world().await;
    let answer = invoke(&w.app, &request(OWN, alice(), json!({"mode": "generate"}))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["mustChangeAtNextSignIn"], true);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let password = answer.body["password"].as_str().expect("password returned");
    assert_eq!(
        w.pool.status("alice").await,
        UserStatusType::ForceChangePassword
    );
    assert_eq!(
        w.pool.sign_in("alice", password).await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );
    assert_ne!(
        w.pool.sign_in("alice", &seed_password("alice")).await,
        SignIn::Tokens
    );
}

#[tokio::test]
async fn code_puts_the_user_in_reset_required() {
    let w = world().await;
    let answer = invoke(
        &w.app,
        &request(
            OWN,
            alice(),
            json!({"mode": "code", "clientMetadata": {"portal": "it"}}),
        ),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["delivery"], "verified_contact");
    assert!(answer.body.get("password").is_none());
    assert_eq!(w.pool.status("alice").await, UserStatusType::ResetRequired);
}

#[tokio::test]
async fn set_makes_the_chosen_password_permanent() {
    let w = world().await;
    let chosen = "Violet-Lantern-Passw0rd-88!";
    let answer = invoke(
        &w.app,
        &request(OWN, alice(), json!({"mode": "set", "password": chosen})),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["mustChangeAtNextSignIn"], false);
    assert!(
        answer.body.get("password").is_none(),
        "a chosen password is never echoed"
    );
    assert_eq!(w.pool.status("alice").await, UserStatusType::Confirmed);
    assert_eq!(w.pool.sign_in("alice", chosen).await, SignIn::Tokens);
}

#[tokio::test]
async fn an_admin_resets_another_user() {
    let w = world().await;
    let answer = invoke(
        &w.app,
        &request(&user_path("bob"), helen(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["username"], "bob");
    assert_eq!(
        w.pool.status("bob").await,
        UserStatusType::ForceChangePassword
    );
    assert_eq!(w.pool.status("helen").await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn refusals_change_nothing() {
    let w = world().await;
    let cases: Vec<(Value, String, Value, u16, &str)> = vec![
        // A non-admin naming another user, in every mode.
        (
            mallory(),
            user_path("bob"),
            json!({"mode": "generate"}),
            403,
            "FORBIDDEN",
        ),
        (
            mallory(),
            user_path("bob"),
            json!({"mode": "code"}),
            403,
            "FORBIDDEN",
        ),
        (
            alice(),
            user_path("bob"),
            json!({"mode": "set", "password": "Takeover-Passw0rd-1!"}),
            403,
            "FORBIDDEN",
        ),
        // Protected, whatever the case.
        (
            helen(),
            user_path("break-glass"),
            json!({"mode": "generate"}),
            422,
            "TARGET_NOT_ELIGIBLE",
        ),
        (
            helen(),
            user_path("BREAK-GLASS"),
            json!({"mode": "generate"}),
            422,
            "TARGET_NOT_ELIGIBLE",
        ),
        // Our policy, before any call.
        (
            helen(),
            user_path("bob"),
            json!({"mode": "set", "password": "short"}),
            422,
            "PASSWORD_REJECTED",
        ),
    ];
    for (claims, path, body, status, code) in cases {
        let answer = invoke(&w.app, &request(&path, claims, body.clone())).await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (status, Some(code)),
            "{path} {body}"
        );
    }
    for user in ["bob", "break-glass"] {
        assert_eq!(
            w.pool.status(user).await,
            UserStatusType::Confirmed,
            "{user}"
        );
        assert_eq!(
            w.pool.sign_in(user, &seed_password(user)).await,
            SignIn::Tokens,
            "{user}"
        );
    }
}

#[tokio::test]
async fn back_end_answers_map_to_the_contract() {
    let w = world().await;
    // Unknown user.
    let answer = invoke(
        &w.app,
        &request(&user_path("nobody"), helen(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (404, Some("USER_NOT_FOUND"))
    );

    // The pool's own policy (symbols required) refuses a password ours accepts.
    let answer = invoke(
        &w.app,
        &request(
            OWN,
            alice(),
            json!({"mode": "set", "password": "NoSymbolsHere12345"}),
        ),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (422, Some("PASSWORD_REJECTED")),
        "{}",
        answer.body
    );
    assert_eq!(answer.body["reason"], "policy");
    assert_eq!(
        w.pool.sign_in("alice", &seed_password("alice")).await,
        SignIn::Tokens
    );

    // A disabled account is not reset.
    w.pool.disable("bob").await;
    let answer = invoke(
        &w.app,
        &request(&user_path("bob"), helen(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (422, Some("TARGET_NOT_ELIGIBLE"))
    );
}

#[tokio::test]
async fn a_missing_pool_is_an_internal_error_without_details() {
    let w = world().await;
    let config = w
        .pool
        .config()
        .replace(&w.pool.id, "us-east-1_0000000000000000000000000000dead");
    let broken = app(&config, &w.sdk, &w.sdk).await;
    let answer = invoke(&broken, &request(OWN, alice(), json!({"mode": "generate"}))).await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (500, Some("INTERNAL"))
    );
    assert!(!answer.body.to_string().contains("ResourceNotFound"));
    assert_eq!(answer.body["requestId"], "it-request");
}

#[tokio::test]
async fn an_unreachable_cognito_is_503_with_retry_after() {
    // Nothing listens on this port: every attempt fails to connect.
    let moto = support::moto();
    let moto_sdk = support::sdk_config(&moto.endpoint).await;
    let sdk = support::sdk_config(&format!("http://127.0.0.1:{}", support::free_port())).await;
    let config =
        include_str!("../config/demo.json").replace("${USER_POOL_ID}", "us-east-1_Unreachable1");
    let answer = invoke(
        &app(&config, &sdk, &moto_sdk).await,
        &request(OWN, alice(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (503, Some("UPSTREAM_UNAVAILABLE"))
    );
    assert!(answer.headers["retry-after"].parse::<u64>().is_ok());
}
