//! The canary sweep: a canary password and a canary idempotency key pushed through success and
//! failure paths; neither (nor a generated password) may appear in any log line at TRACE, in
//! any response body except the one that delivers a generated password, or in any `Debug`
//! output. Also: exactly one well-formed audit line per request.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use resetgate::App;
use serde_json::{Value, json};
use support::cognito::Pool;

const CANARY: &str = "7f3a9c";
const STRONG: &str = "Canary-7f3a9c-Passw0rd!";
const WEAK_FOR_POOL: &str = "Canary7f3a9cPassw0rd";
const KEY: &str = "idem-7f3a9c-key";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn request(path: &str, claims: Value, headers: Value, body: &str) -> String {
    let mut event = support::http_api_event(path, claims, body);
    event["headers"] = headers;
    event.to_string()
}

#[tokio::test]
async fn no_secret_reaches_a_log_a_body_or_a_debug_string() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing::subscriber::set_global_default(resetgate::logging::subscriber(
        tracing::Level::TRACE,
        move || writer.clone(),
    ))
    .expect("first subscriber");

    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let pool = Pool::create(&sdk).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let (app, table) = support::app(&pool.config(), &sdk, &dynamodb).await;
    let unreachable_sdk =
        support::sdk_config(&format!("http://127.0.0.1:{}", support::free_port())).await;
    let (unreachable, unreachable_table) =
        support::app(&pool.config(), &unreachable_sdk, &dynamodb).await;

    // A back-end adapter with a bug: it panics, quoting the password.
    struct Panicking;
    impl resetgate::reset::ResetAdapter for Panicking {
        fn inspect<'a>(
            &'a self,
            _: &'a resetgate::reset::Lookup<'a>,
        ) -> resetgate::BoxFuture<'a, Result<resetgate::reset::Account, resetgate::Error>> {
            Box::pin(async { Ok(resetgate::reset::Account::default()) })
        }
        fn reset<'a>(
            &'a self,
            request: &'a resetgate::reset::ResetRequest<'a>,
        ) -> resetgate::BoxFuture<'a, Result<resetgate::reset::ResetOutcome, resetgate::Error>>
        {
            use secrecy::ExposeSecret;
            panic!(
                "bug while resetting with {:?}",
                request.password.map(|p| p.expose_secret().to_owned())
            )
        }
    }
    resetgate::logging::install_panic_hook();
    let panicking = {
        let config = resetgate::Config::parse(
            &pool.config(),
            secrecy::SecretString::from(support::HMAC_KEY),
        )
        .expect("config");
        let table = support::dynamo::create_table(&dynamodb).await;
        let store = resetgate::idempotency::DynamoStore::new(dynamodb.clone(), table);
        App::new(
            resetgate::PasswordResets::new(
                config,
                Box::new(store),
                std::sync::Arc::new(resetgate::SystemClock),
                |_| Ok(Box::new(Panicking) as Box<dyn resetgate::reset::ResetAdapter>),
            )
            .expect("app"),
        )
    };

    let alice = json!({"sub": "sub-alice", "cognito:username": "alice"});
    let helen =
        json!({"sub": "sub-helen", "cognito:username": "helen", "cognito:groups": "[helpdesk]"});
    let own = "/v1/targets/app-users/password-reset";
    let bob = "/v1/targets/app-users/users/bob/password-reset";
    let json_key = json!({"content-type": "application/json", "idempotency-key": KEY, "authorization": format!("Bearer eyJ{CANARY}.token")});
    let set = |password: &str| json!({"mode": "set", "password": password}).to_string();

    let replay_key =
        json!({"content-type": "application/json", "idempotency-key": format!("{KEY}-0")});
    let cases: Vec<(&App, &str, Value, Value, String, u16)> = vec![
        (&app, own, alice.clone(), json_key.clone(), set(STRONG), 200),
        (
            &app,
            own,
            alice.clone(),
            json_key.clone(),
            set(WEAK_FOR_POOL),
            422,
        ),
        (&app, own, alice.clone(), json_key.clone(), set(CANARY), 422),
        (
            &app,
            own,
            alice.clone(),
            json_key.clone(),
            json!({"mode": "generate", "password": STRONG}).to_string(),
            400,
        ),
        (
            &app,
            own,
            alice.clone(),
            json_key.clone(),
            json!({"mode": STRONG}).to_string(),
            400,
        ),
        (
            &app,
            own,
            alice.clone(),
            json_key.clone(),
            format!(r#"{{"mode":"set","password":"{STRONG}""#),
            400,
        ),
        (
            &app,
            own,
            alice.clone(),
            json!({"content-type": "application/json", "idempotency-key": format!("{KEY} x")}),
            set(STRONG),
            400,
        ),
        (
            &app,
            own,
            alice.clone(),
            json!({"content-type": "application/json"}),
            json!({"mode": "set", "password": STRONG, "clientToken": KEY}).to_string(),
            200,
        ),
        (
            &app,
            own,
            alice.clone(),
            json!({"content-type": "text/plain", "idempotency-key": KEY}),
            set(STRONG),
            415,
        ),
        (&app, bob, alice.clone(), json_key.clone(), set(STRONG), 403),
        (
            &app,
            "/v1/targets/app-users/users/nobody/password-reset",
            helen.clone(),
            json_key.clone(),
            set(STRONG),
            404,
        ),
        (
            &app,
            own,
            json!({"cognito:username": "alice"}),
            json_key.clone(),
            set(STRONG),
            401,
        ),
        (
            &unreachable,
            own,
            alice.clone(),
            json_key.clone(),
            set(STRONG),
            503,
        ),
        (
            &app,
            bob,
            helen.clone(),
            json_key.clone(),
            json!({"mode": "generate"}).to_string(),
            200,
        ),
        // A retry of the first request: replayed.
        (
            &app,
            own,
            alice.clone(),
            replay_key.clone(),
            set(STRONG),
            200,
        ),
        // The panic path.
        (
            &panicking,
            own,
            alice.clone(),
            json_key.clone(),
            set(STRONG),
            500,
        ),
    ];
    let mut context = lambda_http::Context::default();
    context.request_id = "canary-request".into();
    let mut generated = Vec::new();
    let requests = cases.len();
    for (index, (app, path, claims, mut headers, body, status)) in cases.into_iter().enumerate() {
        // A key of its own per case (the canary inside), so each case is a request of its own.
        let key = format!("{KEY}-{index}");
        if headers["idempotency-key"] == KEY {
            headers["idempotency-key"] = key.clone().into();
        }
        let body = body.replace(KEY, &key);
        let response = app
            .handle_event(&request(path, claims, headers, &body), &context)
            .await;
        assert_eq!(response.status_code, status, "{path} {}", response.body);
        let parsed: Value = serde_json::from_str(&response.body).expect("json");
        if let Some(password) = parsed["password"].as_str() {
            generated.push(password.to_owned());
        } else {
            assert!(
                !response.body.contains(CANARY),
                "body leaks: {}",
                response.body
            );
        }
        let debug = format!("{response:?}");
        assert!(!debug.contains(CANARY), "Debug leaks: {debug}");
        if let Some(password) = parsed["password"].as_str() {
            assert!(
                !debug.contains(password),
                "Debug shows a generated password: {debug}"
            );
        }
    }
    assert_eq!(generated.len(), 1, "one generate");

    // No stored item holds a secret, a raw key, or an unkeyed digest of a password.
    let sha256 = |text: &str| {
        use sha2::Digest;
        sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut items = support::dynamo::scan(&dynamodb, &table).await;
    items.extend(support::dynamo::scan(&dynamodb, &unreachable_table).await);
    assert!(!items.is_empty(), "records were written");
    for item in &items {
        let text = format!("{item:?}");
        assert!(
            !text.contains(CANARY),
            "stored item leaks the canary: {text}"
        );
        assert!(
            !text.contains(&sha256(STRONG)) && !text.contains(&sha256(WEAK_FOR_POOL)),
            "unkeyed digest stored: {text}"
        );
        for password in &generated {
            assert!(
                !text.contains(password.as_str()),
                "stored item holds a generated password: {text}"
            );
        }
    }

    let logs = String::from_utf8(capture.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
        .expect("utf-8 logs");
    assert!(logs.lines().count() > requests, "TRACE logs were captured");
    for line in logs.lines() {
        assert!(!line.contains(CANARY), "log line leaks the canary: {line}");
        for password in &generated {
            assert!(
                !line.contains(password.as_str()),
                "log line leaks a generated password: {line}"
            );
        }
    }

    assert!(
        logs.contains("panic (message withheld)"),
        "the panic was logged, without its message"
    );

    let audits: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("every log line is JSON"))
        .filter(|line| line["audit"] == true)
        .collect();
    assert_eq!(audits.len(), requests, "one audit line per request");
    for audit in &audits {
        for field in [
            "event",
            "outcome",
            "code",
            "admin",
            "replayed",
            "requestId",
            "durationMs",
            "timestamp",
            "level",
        ] {
            assert!(
                audit.get(field).is_some(),
                "audit line lacks {field}: {audit}"
            );
        }
        assert_eq!(audit["requestId"], "canary-request");
    }
    let events: Vec<&str> = audits
        .iter()
        .map(|a| a["event"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(events[0], "authn_password_change");
    assert_eq!(events[9], "authz_fail");
    assert_eq!(events[11], "authz_fail");
    assert_eq!(events[13], "authz_admin");
    assert_eq!(audits[0]["actor"], "sub-alice");
    assert_eq!(audits[0]["username"], "alice");
    assert_eq!(
        audits[0]["sourceIp"].as_str().map(|ip| !ip.is_empty()),
        Some(true)
    );
    assert_eq!(
        audits[0]["idempotencyKeyRef"].as_str().map(str::len),
        Some(64)
    );
    assert_eq!(audits[1]["code"], "PASSWORD_REJECTED");
}
