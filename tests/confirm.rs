//! Completing a code reset (`POST .../password-reset/confirm`) end to end: the real handler
//! and SDK against moto, with Cognito's code checks played by the project's stand-in
//! (`support/cognito_codes.py`), since moto accepts any code, ignores `SECRET_HASH` and leaves
//! the user in `RESET_REQUIRED`.

mod support;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, UserStatusType};
use resetgate::App;
use serde_json::{Value, json};
use support::{
    cognito::{Pool, SignIn},
    standin::{self, control},
};

const OWN: &str = "/v1/targets/app-users/password-reset";
const CONFIRM: &str = "/v1/targets/app-users/password-reset/confirm";
const NEW_PASSWORD: &str = "Quiet-Harbour-Lantern-42!";

fn alice() -> Value {
    json!({"sub": "sub-alice", "cognito:username": "alice"})
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The answer's status and JSON body.
async fn invoke(app: &App, path: &str, body: Value) -> (u16, Value) {
    let mut event = support::http_api_event(path, alice(), &body.to_string());
    event["headers"]["idempotency-key"] = format!("it-{}", unique()).into();
    let response = app
        .handle_event(&event.to_string(), &lambda_http::Context::default())
        .await;
    let body = serde_json::from_str(&response.body).expect("a JSON body");
    (response.status_code, body)
}

/// A confirm by alice with `code` and `password`: the answer's status and JSON body.
async fn confirm(app: &App, code: &str, password: &str) -> (u16, Value) {
    invoke(app, CONFIRM, json!({"code": code, "password": password})).await
}

/// A pool on moto reached through the code stand-in, and a second app client with a secret
/// (held in Secrets Manager, as a deployment holds it).
struct World {
    _moto: std::sync::Arc<support::Moto>,
    codes: support::Server,
    moto_sdk: SdkConfig,
    proxied: SdkConfig,
    pool: Pool,
    secret_client: String,
    secret_arn: String,
}

impl World {
    async fn new() -> Self {
        let moto = support::moto();
        let moto_sdk = support::sdk_config(&moto.endpoint).await;
        let codes = standin::cognito_codes(&moto.endpoint);
        let proxied = support::sdk_config(&codes.endpoint).await;
        let pool = Pool::create(&moto_sdk).await;
        let client = pool
            .client
            .create_user_pool_client()
            .user_pool_id(&pool.id)
            .client_name("resetgate-recovery")
            .generate_secret(true)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .send()
            .await
            .expect("create_user_pool_client")
            .user_pool_client
            .expect("client");
        let secret_client = client.client_id().expect("id").to_owned();
        let secret = client
            .client_secret()
            .expect("a generated secret")
            .to_owned();
        let secret_arn = aws_sdk_secretsmanager::Client::new(&moto_sdk)
            .create_secret()
            .name(format!("resetgate-recovery-{}", unique()))
            .secret_string(secret)
            .send()
            .await
            .expect("create_secret")
            .arn()
            .expect("arn")
            .to_owned();
        Self {
            _moto: moto,
            codes,
            moto_sdk,
            proxied,
            pool,
            secret_client,
            secret_arn,
        }
    }

    /// The demo configuration on this pool, its recovery client changed by `recovery`.
    async fn app(&self, recovery: impl FnOnce(&mut Value)) -> App {
        let mut config: Value = serde_json::from_str(&self.pool.config()).expect("json");
        recovery(&mut config["targets"][0]);
        // Many guesses from one caller: the function's own limits are tested in-process.
        config["targets"][0]["rateLimits"] = json!({"perAccountPerHour": 0, "perCallerPerHour": 0});
        support::app(
            &config.to_string(),
            &self.proxied,
            &aws_sdk_dynamodb::Client::new(&self.moto_sdk),
        )
        .await
        .0
    }

    /// The code the user was sent (the stand-in's stand-in for their mailbox).
    fn code(&self) -> String {
        control(
            &self.codes,
            "GET",
            &format!("/_codes/{}/alice", self.pool.id),
            None,
        )["code"]
            .as_str()
            .expect("a code was sent")
            .to_owned()
    }

    fn confirm_calls(&self) -> u64 {
        control(&self.codes, "GET", "/_codes/calls", None)["ConfirmForgotPassword"]
            .as_u64()
            .unwrap_or(0)
    }
}

/// The whole flow with an app client that has a secret: a `code` reset, a wrong code (400
/// `INVALID_CODE`), then the right one with the `SECRET_HASH` from Secrets Manager: 200, the
/// user confirmed with the new password and their sessions revoked; the code is then spent.
#[tokio::test]
async fn a_code_reset_is_completed_with_the_secret_hash() {
    let w = World::new().await;
    let (client, arn) = (w.secret_client.clone(), w.secret_arn.clone());
    let app = w
        .app(|target| {
            target["recoveryClientId"] = client.into();
            target["recoveryClientSecretArn"] = arn.into();
        })
        .await;
    let refresh = w
        .pool
        .refresh_token("alice", &support::cognito::seed_password("alice"))
        .await;

    let (status, body) = invoke(&app, OWN, json!({"mode": "code"})).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(w.pool.status("alice").await, UserStatusType::ResetRequired);
    let code = w.code();

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = confirm(&app, wrong, NEW_PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_CODE")),
        "{body}"
    );

    let (status, body) = confirm(&app, &code, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"target": "app-users", "username": "alice", "mode": "confirm",
            "mustChangeAtNextSignIn": false, "sessionsRevoked": true})
    );
    assert_eq!(w.pool.status("alice").await, UserStatusType::Confirmed);
    assert!(
        w.pool.sign_in("alice", NEW_PASSWORD).await == SignIn::Tokens,
        "the new password signs in"
    );
    assert!(
        !w.pool.refreshes(&refresh).await,
        "the old refresh token is revoked"
    );

    // The code is spent: a new request with it is INVALID_CODE, and nothing changes.
    let (status, body) = confirm(&app, &code, "Another-Quiet-Harbour-43!").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_CODE")),
        "{body}"
    );
    assert!(w.pool.sign_in("alice", NEW_PASSWORD).await == SignIn::Tokens);
    assert_eq!(
        w.confirm_calls(),
        3,
        "one ConfirmForgotPassword per request"
    );
}

/// A client secret the deployment does not hold: Cognito refuses the hash, the answer is 500
/// `INTERNAL` (the operator's fix, never the user's), and the code stays usable.
#[tokio::test]
async fn a_recovery_client_secret_the_deployment_lacks_is_its_error() {
    let w = World::new().await;
    let client = w.secret_client.clone();
    let app = w
        .app(|target| target["recoveryClientId"] = client.into())
        .await;
    let (status, _) = invoke(&app, OWN, json!({"mode": "code"})).await;
    assert_eq!(status, 202);
    let code = w.code();
    let (status, body) = confirm(&app, &code, NEW_PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("INTERNAL")),
        "{body}"
    );
    assert_eq!(w.pool.status("alice").await, UserStatusType::ResetRequired);
    assert_eq!(w.code(), code, "the code is not spent");
}

/// Cognito's own limit on wrong codes (five per code) is 429 `RATE_LIMITED`, even for the
/// right code after it; an expired code is `INVALID_CODE`; a new code works again.
#[tokio::test]
async fn cognitos_attempt_limit_and_expiry_are_the_contracts_answers() {
    let w = World::new().await;
    let app = w.app(|_| {}).await; // the pool's app client, without a secret
    let (status, _) = invoke(&app, OWN, json!({"mode": "code"})).await;
    assert_eq!(status, 202);
    let code = w.code();
    for guess in 0..5 {
        let wrong = format!("{:06}", 900_000 + guess);
        let (status, body) = confirm(&app, &wrong, NEW_PASSWORD).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("INVALID_CODE")),
            "{body}"
        );
    }
    let (status, body) = confirm(&app, &code, NEW_PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );
    assert_eq!(w.confirm_calls(), 6, "a limited call is not sent again");

    // A new code; expired before use.
    let (status, _) = invoke(&app, OWN, json!({"mode": "code"})).await;
    assert_eq!(status, 202);
    let code = w.code();
    control(
        &w.codes,
        "POST",
        &format!("/_codes/{}/alice/expire", w.pool.id),
        None,
    );
    let (status, body) = confirm(&app, &code, NEW_PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_CODE")),
        "{body}"
    );

    // A fresh one works, and the pool's own policy still applies (moto's policy needs a
    // symbol: refused as `policy`, the code kept).
    let (status, _) = invoke(&app, OWN, json!({"mode": "code"})).await;
    assert_eq!(status, 202);
    let code = w.code();
    let (status, body) = confirm(&app, &code, "QuietHarbourLantern42").await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("policy")),
        "{body}"
    );
    let (status, body) = confirm(&app, &code, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.pool.sign_in("alice", NEW_PASSWORD).await, SignIn::Tokens);
}

/// On moto itself (which accepts any code), the confirm reaches `ConfirmForgotPassword` after
/// `AdminResetUserPassword`, as the moto test asks.
#[tokio::test]
async fn moto_accepts_a_confirm_after_a_code_reset() {
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let pool = Pool::create(&sdk).await;
    let app = support::app(&pool.config(), &sdk, &aws_sdk_dynamodb::Client::new(&sdk))
        .await
        .0;
    let (status, _) = invoke(&app, OWN, json!({"mode": "code"})).await;
    assert_eq!(status, 202);
    let (status, body) = confirm(&app, "123456", NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessionsRevoked"], true);
}
