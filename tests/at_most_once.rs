//! At most one reset call per request, with slow and throttling back-ends: the real handler
//! and SDK against moto behind a proxy that answers late after the call took effect
//! (`support/late_proxy.py`), and against the Directory Service stand-in's faults.
//!
//! Each invocation has 8 s left: the reset call gets what remains after the claim and the
//! reads, less the record's completion (about 6 s). A back-end that answers after 3 or 5 s is
//! waited for (200); one that answers after 8 s is not (503 `outcome_unknown`), and the retry
//! with the same key reconciles instead of resetting again.

mod support;

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use resetgate::App;
use serde_json::{Value, json};
use support::{
    Server,
    cognito::{Pool, SignIn},
    standin,
};

const SET: &str = "AWSCognitoIdentityProviderService.AdminSetUserPassword";
const RESET: &str = "AWSCognitoIdentityProviderService.AdminResetUserPassword";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

struct Answer {
    status: u16,
    body: Value,
    retry_after: Option<String>,
    replayed: bool,
}

/// One request by `claims` to `path` with `body` under `key`, with 8 s left in the invocation.
async fn call(app: &App, claims: Value, path: &str, body: Value, key: &str) -> Answer {
    let mut event = support::http_api_event(path, claims, &body.to_string());
    event["headers"]["idempotency-key"] = key.into();
    let mut context = lambda_http::Context::default();
    context.request_id = "at-most-once".into();
    context.deadline = now_ms() + 8_000;
    let response = app.handle_event(&event.to_string(), &context).await;
    Answer {
        status: response.status_code,
        body: serde_json::from_str(&response.body).expect("json body"),
        retry_after: response.headers.get("retry-after").cloned(),
        replayed: response.headers.contains_key("idempotent-replayed"),
    }
}

/// A Cognito world of its own: moto, a pool, and the app's Cognito calls through a late proxy.
struct Slow {
    _moto: Arc<Server>,
    proxy: Server,
    pool: Pool,
    app: App,
}

async fn slow_cognito() -> Slow {
    let moto = support::moto();
    let moto_sdk = support::sdk_config(&moto.endpoint).await;
    let proxy = standin::late_proxy(&moto.endpoint);
    let proxied = support::sdk_config(&proxy.endpoint).await;
    let pool = Pool::create(&moto_sdk).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto_sdk);
    let (app, _) = support::app(&pool.config(), &proxied, &dynamodb).await;
    Slow {
        _moto: moto,
        proxy,
        pool,
        app,
    }
}

impl Slow {
    fn late(&self, operation: &str, delay_ms: u64) {
        standin::control(
            &self.proxy,
            "POST",
            "/_proxy/late",
            Some(&json!({"operation": operation, "delayMs": delay_ms, "count": 1})),
        );
    }

    fn calls(&self, operation: &str) -> u64 {
        standin::control(&self.proxy, "GET", "/_proxy/calls", None)[operation]
            .as_u64()
            .unwrap_or(0)
    }
}

fn alice() -> Value {
    json!({"sub": "sub-alice", "cognito:username": "alice"})
}

const OWN: &str = "/v1/targets/app-users/password-reset";

/// 3 and 5 s: waited for, one call each. 8 s: 503 `outcome_unknown` after one call, though the
/// password was set; the retry sees it was (Cognito's `UserLastModifiedDate` and status) and
/// answers 200 without a second call, never a 422 from a password-history refusal.
#[tokio::test]
async fn a_slow_set_is_sent_once_and_reconciled() {
    let slow = slow_cognito().await;
    for (n, delay) in [3_000, 5_000].into_iter().enumerate() {
        slow.late(SET, delay);
        let password = format!("Slow-But-Sure-{n}-Passw0rd!");
        let before = slow.calls(SET);
        let answer = call(
            &slow.app,
            alice(),
            OWN,
            json!({"mode": "set", "password": password}),
            &format!("set-{delay}"),
        )
        .await;
        assert_eq!(answer.status, 200, "{delay} ms: {}", answer.body);
        assert_eq!(slow.calls(SET) - before, 1, "{delay} ms: sent once");
        assert_eq!(slow.pool.sign_in("alice", &password).await, SignIn::Tokens);
    }

    slow.late(SET, 8_000);
    let password = "Answered-Too-Late-Passw0rd!";
    let before = slow.calls(SET);
    let body = json!({"mode": "set", "password": password});
    let answer = call(&slow.app, alice(), OWN, body.clone(), "set-late").await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.body["code"], "UPSTREAM_UNAVAILABLE");
    assert_eq!(answer.body["reason"], "outcome_unknown");
    assert!(answer.retry_after.is_some());
    assert_eq!(slow.calls(SET) - before, 1, "sent once, not retried");
    // It did take effect.
    assert_eq!(slow.pool.sign_in("alice", password).await, SignIn::Tokens);

    let retry = call(&slow.app, alice(), OWN, body.clone(), "set-late").await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.body["mustChangeAtNextSignIn"], false);
    assert_eq!(slow.calls(SET) - before, 1, "reconciled, not sent again");
    let replay = call(&slow.app, alice(), OWN, body, "set-late").await;
    assert!(replay.replayed);
}

/// `code`: a second call would mail a second code. `generate`: the password was never
/// delivered, so the retry runs again with a new one.
#[tokio::test]
async fn a_slow_code_is_reconciled_and_a_slow_generate_runs_again() {
    let slow = slow_cognito().await;
    slow.late(RESET, 8_000);
    let code = json!({"mode": "code"});
    let answer = call(&slow.app, alice(), OWN, code.clone(), "code-late").await;
    assert_eq!(
        (answer.status, answer.body["reason"].clone()),
        (503, json!("outcome_unknown")),
        "{}",
        answer.body
    );
    let retry = call(&slow.app, alice(), OWN, code, "code-late").await;
    assert_eq!(retry.status, 202, "{}", retry.body);
    assert_eq!(slow.calls(RESET), 1, "one code mailed");

    let bob = json!({"sub": "sub-bob", "cognito:username": "bob"});
    slow.late(SET, 8_000);
    let generate = json!({"mode": "generate"});
    let answer = call(
        &slow.app,
        bob.clone(),
        OWN,
        generate.clone(),
        "generate-late",
    )
    .await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(slow.calls(SET), 1);
    let retry = call(&slow.app, bob, OWN, generate, "generate-late").await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    let password = retry.body["password"]
        .as_str()
        .expect("a new password")
        .to_owned();
    assert_eq!(slow.calls(SET), 2, "one call per request");
    assert_eq!(
        slow.pool.sign_in("bob", &password).await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );
}

/// The Directory Service stand-in: a throttle (which Directory Service did not execute) is sent
/// again; a throttle every time is 503 with Retry-After and frees the key; an answer held 8 s
/// after the reset took effect is one call and 503 `outcome_unknown`. The directory shows
/// nothing to reconcile with, so the retry runs again: one call per request.
#[tokio::test]
async fn directory_resets_under_throttling_and_delay() {
    let server = standin::private();
    let moto = support::moto();
    let moto_sdk = support::sdk_config(&moto.endpoint).await;
    let standin_sdk = support::sdk_config(&server.endpoint).await;
    standin::seed(
        &server,
        &json!({"directories": {"d-1234567890": {"kind": "SimpleAD", "dsData": false,
        "users": {"alice.smith": {"enabled": true}}}}}),
    );
    let pool = Pool::create(&moto_sdk).await;
    let mut config: Value = serde_json::from_str(&pool.config()).expect("config");
    for target in config["targets"].as_array_mut().expect("targets") {
        if target["service"] == "directory" {
            target["refuseDisabled"] = false.into();
        }
    }
    let config = resetgate::Config::parse(
        &config.to_string(),
        secrecy::SecretString::from(support::HMAC_KEY),
    )
    .expect("config");
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto_sdk);
    let table = support::dynamo::create_table(&dynamodb).await;
    let app = support::app_over(
        config,
        Box::new(resetgate::idempotency::DynamoStore::new(dynamodb, table)),
        &moto_sdk,
        &standin_sdk,
    );
    let alice = json!({"sub": "sub-alice", "custom:ad_username": "alice.smith"});
    let own = "/v1/targets/corp-ad/password-reset";
    let calls = || {
        standin::state(&server)["calls"]["directory.ResetUserPassword"]
            .as_u64()
            .unwrap_or(0)
    };
    let rate_exceeded = |count: u64| {
        json!({"service": "directory", "operation": "ResetUserPassword", "count": count,
        "status": 400, "error": "ClientException", "message": "Rate exceeded"})
    };

    standin::fault(&server, &rate_exceeded(1));
    let answer = call(
        &app,
        alice.clone(),
        own,
        json!({"mode": "generate"}),
        "dir-throttled-once",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(calls(), 2, "throttled once, sent again");

    // Throttled on each of the three attempts: 503, and the key is free for later.
    standin::fault(&server, &rate_exceeded(3));
    let answer = call(
        &app,
        alice.clone(),
        own,
        json!({"mode": "generate"}),
        "dir-throttled",
    )
    .await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(answer.retry_after.is_some());
    assert_eq!(calls(), 5, "three attempts");
    let later = call(
        &app,
        alice.clone(),
        own,
        json!({"mode": "generate"}),
        "dir-throttled",
    )
    .await;
    assert_eq!(later.status, 200, "{}", later.body);
    assert!(!later.replayed);
    assert_eq!(calls(), 6);

    let before = calls();
    standin::fault(
        &server,
        &json!({"service": "directory", "operation": "ResetUserPassword", "count": 1,
        "delayMs": 8_000, "afterApply": true}),
    );
    let answer = call(
        &app,
        alice.clone(),
        own,
        json!({"mode": "generate"}),
        "dir-late",
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["reason"].clone()),
        (503, json!("outcome_unknown")),
        "{}",
        answer.body
    );
    assert_eq!(calls() - before, 1, "sent once");
    let retry = call(&app, alice, own, json!({"mode": "generate"}), "dir-late").await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(calls() - before, 2, "one call per request");
}
