//! The canary sweep: canary secrets (a password, a reset code, a bearer token, idempotency
//! keys, the keyed-hash secret) pushed through success and failure paths of every back-end
//! (Cognito on moto, confirms included; Directory Service and FinSpace on the stand-in), in
//! process and through the real runtime entry point (the built binary under a Lambda Runtime
//! API). None of them, nor a generated password, may appear in any log line at TRACE (metric
//! lines included), in any response body (a generated password only in the one answer that
//! delivers it), in any `Debug` output, in any stored item, in any event a SIEM receives or in
//! any e-mail sent. Also: exactly one well-formed audit line per request, and a replay is a replay (no
//! second reset call, no password repeated).

mod support;

use std::{
    io::Write,
    sync::{Arc, LazyLock, Mutex},
};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use resetgate::{App, Config, PasswordResets, SystemClock};
use secrecy::SecretString;
use serde_json::{Value, json};
use support::{Server, calls::Calls, cognito::Pool, runtime, standin};

/// In every secret below. Not hex, so that no keyed hash (64 hex digits) can contain it by
/// chance.
const CANARY: &str = "cnry7q";
const STRONG: &str = "Canary-cnry7q-Passw0rd!";
/// Refused by the user pool's policy (no symbol), after our own screen accepted it.
const WEAK_FOR_POOL: &str = "Canarycnry7qPassw0rd";
/// Refused by the directory's policy (two classes of four), after our own screen accepted it.
const WEAK_FOR_DIRECTORY: &str = "alllowercasecnry7qletters";
const KEY: &str = "idem-cnry7q-key";
/// A reset code (moto accepts any code it did not send under its own prefix).
const CODE: &str = "cnry7q-731904";
const TOKEN: &str = "Bearer eyJcnry7q.token";
/// The keyed-hash secret of these deployments.
const HMAC_KEY: &str = "hmac-cnry7q-canary-key-0123456789abcdef0123";

/// The demo's Directory Service and FinSpace ids (`config/demo.json`), seeded on the stand-in
/// from `config/demo-standin.json`.
const DIRECTORY: &str = "d-1234567890";

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

/// The Cognito calls of the in-process function, counted on the wire.
static COGNITO_CALLS: LazyLock<Calls> = LazyLock::new(Calls::default);

fn counting_cognito(sdk: &SdkConfig) -> aws_sdk_cognitoidentityprovider::Client {
    aws_sdk_cognitoidentityprovider::Client::from_conf(
        aws_sdk_cognitoidentityprovider::config::Builder::from(sdk)
            .interceptor(COGNITO_CALLS.clone())
            .build(),
    )
}

/// Reset calls every back-end has seen: Cognito's (counted on the wire) and the stand-in's.
fn reset_calls(standin: &Server) -> u64 {
    let cognito = COGNITO_CALLS.count("AdminSetUserPassword")
        + COGNITO_CALLS.count("AdminResetUserPassword")
        + COGNITO_CALLS.count("ConfirmForgotPassword");
    let state = standin::state(standin);
    let count = |name: &str| state["calls"][name].as_u64().unwrap_or(0);
    cognito as u64 + count("directory.ResetUserPassword") + count("finspace.ResetUserPassword")
}

/// The function for `document` as `wiring::app` builds it (each target's adapter from its
/// settings, clients shared per service), under the canary keyed-hash secret, with Cognito
/// reached through `cognito_sdk` (its calls counted) and the other back-ends through
/// `standin_sdk`, its records in a fresh table. Returns the table too.
async fn app(
    document: &str,
    cognito_sdk: &SdkConfig,
    standin_sdk: &SdkConfig,
    dynamodb: &aws_sdk_dynamodb::Client,
) -> (App, String) {
    let config = Config::parse(document, SecretString::from(HMAC_KEY)).expect("config");
    let (events, notifications) = (config.events.clone(), config.notifications.clone());
    let table = support::dynamo::create_table(dynamodb).await;
    let store = resetgate::idempotency::DynamoStore::new(dynamodb.clone(), table.clone());
    let mut cognito = resetgate::Clients::new(cognito_sdk);
    cognito.get(counting_cognito);
    let other = resetgate::Clients::new(standin_sdk);
    let mut resets = support::resets_over(config, Box::new(store), cognito, other);
    // As `wiring::app` does, on moto.
    if let Some(events) = events {
        resets = resets.with_events(Box::new(resetgate::EventBridgeBus::new(
            aws_sdk_eventbridge::Client::new(cognito_sdk),
            events.event_bus_name,
        )));
    }
    if let Some(notifications) = notifications {
        resets = resets.with_notifications(
            Box::new(resetgate::SesMailer::new(
                aws_sdk_sesv2::Client::new(cognito_sdk),
                notifications.from_address,
            )),
            notifications.contact,
        );
    }
    (App::new(resets), table)
}

fn request(path: &str, claims: Value, headers: Value, body: &str) -> String {
    let mut event = support::http_api_event(path, claims, body);
    event["headers"] = headers;
    event.to_string()
}

/// What a retry must be answered with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replay {
    /// A fresh execution: no `Idempotent-Replayed`.
    No,
    /// The stored answer of a `set`: replayed, and no password in it.
    Set,
    /// The stored answer of a `generate`: replayed, `"passwordDelivered": "earlier"`, the
    /// password not repeated.
    Generated,
}

/// One request of the sweep.
struct Case<'a> {
    why: &'static str,
    app: &'a App,
    path: &'a str,
    claims: Value,
    /// `"idempotency-key": KEY` becomes the case's own key, `KEY-<index>`.
    headers: Value,
    body: String,
    status: u16,
    /// Reset calls the back-ends see for this request.
    resets: u64,
    replay: Replay,
}

/// Every stored item: no canary, no generated password, no unkeyed digest of a password.
fn assert_items_hold_no_secret(
    items: &[std::collections::HashMap<String, AttributeValue>],
    generated: &[String],
) {
    let sha256 = |text: &str| {
        use sha2::Digest;
        sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert!(!items.is_empty(), "records were written");
    for item in items {
        let text = format!("{item:?}");
        assert!(
            !text.contains(CANARY),
            "stored item leaks the canary: {text}"
        );
        for password in [STRONG, WEAK_FOR_POOL, WEAK_FOR_DIRECTORY] {
            assert!(
                !text.contains(&sha256(password)),
                "unkeyed digest stored: {text}"
            );
        }
        for password in generated {
            assert!(
                !text.contains(password.as_str()),
                "stored item holds a generated password: {text}"
            );
        }
    }
}

/// The pool's configuration with `events` on a new bus whose rule feeds a new queue, and
/// `notifications` from a verified sender: returns it and the queue's URL.
async fn sinks(sdk: &SdkConfig, pool: &Pool) -> (String, String) {
    let bus = format!("canary-{}", pool.id.replace('_', "-"));
    let queue_url = support::sinks::bus_to_queue(sdk, &bus).await;
    support::sinks::verified_sender(sdk, "no-reply@example.com").await;
    let mut config: Value = serde_json::from_str(&pool.config()).expect("json");
    config["events"] = json!({"eventBusName": bus});
    config["notifications"] =
        json!({"fromAddress": "no-reply@example.com", "contact": "the IT helpdesk"});
    (config.to_string(), queue_url)
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
    // A stand-in of this test's own: its call counts are this test's alone.
    let standin = standin::private();
    standin::seed(
        &standin,
        &serde_json::from_str(include_str!("../config/demo-standin.json")).expect("demo seed"),
    );
    let standin_sdk = support::sdk_config(&standin.endpoint).await;
    let pool = Pool::create(&sdk).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    // Every decision's event goes to a bus whose rule feeds a queue, and users are e-mailed:
    // both are swept too.
    let (sinks, events_queue) = sinks(&sdk, &pool).await;
    let (app, table) = app(&sinks, &sdk, &standin_sdk, &dynamodb).await;
    let unreachable_sdk = support::sdk_config(&support::unreachable_endpoint()).await;
    let (unreachable, unreachable_table) =
        self::app(&pool.config(), &unreachable_sdk, &standin_sdk, &dynamodb).await;

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
    let (panicking, panicking_table) = {
        let config = Config::parse(&pool.config(), SecretString::from(HMAC_KEY)).expect("config");
        let table = support::dynamo::create_table(&dynamodb).await;
        let store = resetgate::idempotency::DynamoStore::new(dynamodb.clone(), table.clone());
        let app = App::new(
            PasswordResets::new(config, Box::new(store), Arc::new(SystemClock), |_| {
                Ok(Box::new(Panicking) as Box<dyn resetgate::reset::ResetAdapter>)
            })
            .expect("app"),
        );
        (app, table)
    };

    let alice = json!({"sub": "sub-alice", "cognito:username": "alice"});
    let helen =
        json!({"sub": "sub-helen", "cognito:username": "helen", "cognito:groups": "[helpdesk]"});
    let alice_ad = json!({"sub": "sub-alice-ad", "custom:ad_username": "alice.smith"});
    let dana = json!({"sub": "sub-dana", "cognito:groups": "[ad-helpdesk]"});
    let alice_fs = json!({"sub": "sub-alice-fs", "custom:finspace_user_id": "uid-alice-0001"});
    let own = "/v1/targets/app-users/password-reset";
    let bob = "/v1/targets/app-users/users/bob/password-reset";
    let own_ad = "/v1/targets/corp-ad/password-reset";
    let bob_ad = "/v1/targets/corp-ad/users/bob.jones/password-reset";
    let own_fs = "/v1/targets/research/password-reset";
    let confirm = "/v1/targets/app-users/password-reset/confirm";
    let confirm_with = |code: &str| json!({"code": code, "password": STRONG}).to_string();
    let json_key =
        json!({"content-type": "application/json", "idempotency-key": KEY, "authorization": TOKEN});
    let set = |password: &str| json!({"mode": "set", "password": password}).to_string();
    let generate = json!({"mode": "generate"}).to_string();
    // A retry of case `n`: its key, its body.
    let retry_of = |n: usize| json!({"content-type": "application/json", "idempotency-key": format!("{KEY}-{n}"), "authorization": TOKEN});

    let case =
        |why, app, path, claims: &Value, headers: &Value, body: String, status, resets| Case {
            why,
            app,
            path,
            claims: claims.clone(),
            headers: headers.clone(),
            body,
            status,
            resets,
            replay: Replay::No,
        };
    let cases: Vec<Case> = vec![
        // 0
        case(
            "a chosen password",
            &app,
            own,
            &alice,
            &json_key,
            set(STRONG),
            200,
            1,
        ),
        case(
            "a password the pool refuses",
            &app,
            own,
            &alice,
            &json_key,
            set(WEAK_FOR_POOL),
            422,
            1,
        ),
        case(
            "a password our screen refuses",
            &app,
            own,
            &alice,
            &json_key,
            set(CANARY),
            422,
            0,
        ),
        case(
            "a password with generate",
            &app,
            own,
            &alice,
            &json_key,
            json!({"mode": "generate", "password": STRONG}).to_string(),
            400,
            0,
        ),
        case(
            "the canary as the mode",
            &app,
            own,
            &alice,
            &json_key,
            json!({"mode": STRONG}).to_string(),
            400,
            0,
        ),
        // 5
        case(
            "a truncated body quoting the password",
            &app,
            own,
            &alice,
            &json_key,
            format!(r#"{{"mode":"set","password":"{STRONG}""#),
            400,
            0,
        ),
        case(
            "an idempotency key with a space",
            &app,
            own,
            &alice,
            &json!({"content-type": "application/json", "idempotency-key": format!("{KEY} x")}),
            set(STRONG),
            400,
            0,
        ),
        case(
            "the key as the body's clientToken",
            &app,
            own,
            &alice,
            &json!({"content-type": "application/json"}),
            json!({"mode": "set", "password": STRONG, "clientToken": KEY}).to_string(),
            200,
            1,
        ),
        case(
            "not JSON",
            &app,
            own,
            &alice,
            &json!({"content-type": "text/plain", "idempotency-key": KEY}),
            set(STRONG),
            415,
            0,
        ),
        case(
            "another user's account",
            &app,
            bob,
            &alice,
            &json_key,
            set(STRONG),
            403,
            0,
        ),
        // 10
        case(
            "an unknown user",
            &app,
            "/v1/targets/app-users/users/nobody/password-reset",
            &helen,
            &json_key,
            set(STRONG),
            404,
            0,
        ),
        case(
            "no sub",
            &app,
            own,
            &json!({"cognito:username": "alice"}),
            &json_key,
            set(STRONG),
            401,
            0,
        ),
        case(
            "Cognito unreachable",
            &unreachable,
            own,
            &alice,
            &json_key,
            set(STRONG),
            503,
            0,
        ),
        case(
            "an admin generates",
            &app,
            bob,
            &helen,
            &json_key,
            generate.clone(),
            200,
            1,
        ),
        Case {
            replay: Replay::Set,
            ..case(
                "a retry of case 0",
                &app,
                own,
                &alice,
                &retry_of(0),
                set(STRONG),
                200,
                0,
            )
        },
        // 15
        Case {
            replay: Replay::Generated,
            ..case(
                "a retry of case 13",
                &app,
                bob,
                &helen,
                &retry_of(13),
                generate.clone(),
                200,
                0,
            )
        },
        case(
            "a chosen directory password",
            &app,
            own_ad,
            &alice_ad,
            &json_key,
            set(STRONG),
            200,
            1,
        ),
        case(
            "a password the directory refuses",
            &app,
            own_ad,
            &alice_ad,
            &json_key,
            set(WEAK_FOR_DIRECTORY),
            422,
            1,
        ),
        case(
            "a directory admin generates",
            &app,
            bob_ad,
            &dana,
            &json_key,
            generate.clone(),
            200,
            1,
        ),
        Case {
            replay: Replay::Set,
            ..case(
                "a retry of case 16",
                &app,
                own_ad,
                &alice_ad,
                &retry_of(16),
                set(STRONG),
                200,
                0,
            )
        },
        // 20
        case(
            "FinSpace generates",
            &app,
            own_fs,
            &alice_fs,
            &json_key,
            generate.clone(),
            200,
            1,
        ),
        Case {
            replay: Replay::Generated,
            ..case(
                "a retry of case 20",
                &app,
                own_fs,
                &alice_fs,
                &retry_of(20),
                generate.clone(),
                200,
                0,
            )
        },
        // The panic path.
        case(
            "a panicking adapter",
            &panicking,
            own,
            &alice,
            &json_key,
            set(STRONG),
            500,
            0,
        ),
        // 23: a confirm, its code the canary's.
        case(
            "a confirm with a code",
            &app,
            confirm,
            &helen,
            &json_key,
            confirm_with(CODE),
            200,
            1,
        ),
        case(
            "a confirm whose code Cognito refuses",
            &app,
            confirm,
            &helen,
            &json_key,
            confirm_with(&format!("moto-confirmation-code:{CODE}")),
            400,
            1,
        ),
        // 25
        case(
            "a confirm with a code that cannot be one",
            &app,
            confirm,
            &helen,
            &json_key,
            confirm_with(&format!("{CODE} 1")),
            400,
            0,
        ),
        Case {
            replay: Replay::Set,
            ..case(
                "a retry of case 23",
                &app,
                confirm,
                &helen,
                &retry_of(23),
                confirm_with(CODE),
                200,
                0,
            )
        },
    ];
    let mut context = lambda_http::Context::default();
    context.request_id = "canary-request".into();
    let mut generated = Vec::new();
    let mut answers = Vec::new();
    let requests = cases.len();
    for (index, case) in cases.into_iter().enumerate() {
        let Case {
            why,
            app,
            path,
            claims,
            mut headers,
            body,
            status,
            resets,
            replay,
        } = case;
        // A key of its own per case (the canary inside), so each case is a request of its own.
        let key = format!("{KEY}-{index}");
        if headers["idempotency-key"] == KEY {
            headers["idempotency-key"] = key.clone().into();
        }
        let body = body.replace(KEY, &key);
        let calls_before = reset_calls(&standin);
        // The project's panic hook (it withholds the message) only while the panicking
        // adapter runs: elsewhere a failing assertion should say what failed.
        let panics = std::ptr::eq(app, &panicking);
        if panics {
            resetgate::logging::install_panic_hook();
        }
        let response = app
            .handle_event(&request(path, claims, headers, &body), &context)
            .await;
        if panics {
            let _ = std::panic::take_hook();
        }
        assert_eq!(
            response.status_code, status,
            "{index} {why}: {}",
            response.body
        );
        assert_eq!(
            reset_calls(&standin) - calls_before,
            resets,
            "{index} {why}: reset calls the back-ends saw"
        );
        assert!(
            !response.body.contains(CANARY),
            "{index} {why}: body leaks: {}",
            response.body
        );
        let parsed: Value = serde_json::from_str(&response.body).expect("json");
        let replayed = response
            .headers
            .get("idempotent-replayed")
            .map(String::as_str);
        match replay {
            Replay::No => assert_eq!(replayed, None, "{index} {why}"),
            Replay::Set | Replay::Generated => {
                assert_eq!(replayed, Some("true"), "{index} {why}");
                assert!(parsed.get("password").is_none(), "{index} {why}: {parsed}");
                let delivered = (replay == Replay::Generated).then_some("earlier");
                assert_eq!(
                    parsed["passwordDelivered"].as_str(),
                    delivered,
                    "{index} {why}: {parsed}"
                );
            }
        }
        if let Some(password) = parsed["password"].as_str() {
            generated.push(password.to_owned());
        }
        let debug = format!("{response:?}");
        assert!(
            !debug.contains(CANARY),
            "{index} {why}: Debug leaks: {debug}"
        );
        if let Some(password) = parsed["password"].as_str() {
            assert!(
                !debug.contains(password),
                "{index} {why}: Debug shows a generated password: {debug}"
            );
        }
        answers.push(parsed);
    }
    assert_eq!(generated.len(), 3, "one password per fresh generate");

    // The stand-in's paths were taken: the directory holds the chosen and the generated
    // password, FinSpace issued the one delivered.
    let state = standin::state(&standin);
    let users = &state["directories"][DIRECTORY]["users"];
    assert_eq!(users["alice.smith"]["password"], STRONG);
    assert_eq!(users["bob.jones"]["password"], answers[18]["password"]);
    assert_eq!(
        state["finspace"]["users"]["uid-alice-0001"]["lastPassword"],
        answers[20]["password"]
    );

    assert_eq!(answers[23]["mode"], "confirm");
    assert_eq!(answers[24]["code"], "INVALID_CODE");

    // No event a SIEM received and no e-mail sent holds a secret or a generated password.
    let events = support::sinks::drain(&sdk, &events_queue).await;
    assert!(
        events.iter().any(|e| e["detail"]["activity_id"] == 3),
        "the confirm's Password Change event: {events:#?}"
    );
    let mails = support::sinks::sent_mails(&moto);
    assert!(!mails.is_empty(), "users were told");
    let published = format!("{events:?}{mails:?}");
    assert!(
        !published.contains(CANARY),
        "an event or e-mail leaks: {published}"
    );
    for password in &generated {
        assert!(!published.contains(password.as_str()), "{published}");
    }

    // No stored item holds a secret, a raw key, or an unkeyed digest of a password.
    let mut items = Vec::new();
    for table in [&table, &unreachable_table, &panicking_table] {
        items.extend(support::dynamo::scan(&dynamodb, table).await);
    }
    assert_items_hold_no_secret(&items, &generated);

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
    for replay in [14, 15, 19, 21, 26] {
        assert_eq!(audits[replay]["replayed"], true, "{replay}");
    }
}

/// The same canaries through `main`: the built binary, its init (the keyed-hash secret read
/// from Secrets Manager on moto), the `lambda_runtime` loop and its logging, under a Lambda
/// Runtime API. Its whole stdout and stderr at TRACE, every answer and every stored item are
/// searched.
#[tokio::test]
async fn no_secret_reaches_the_output_of_the_function_binary() {
    // This test's own SDK calls (creating the secret, among others) stay out of the other
    // test's captured logs: everything on this thread goes nowhere.
    let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let standin = standin::private();
    standin::seed(
        &standin,
        &serde_json::from_str(include_str!("../config/demo-standin.json")).expect("demo seed"),
    );
    let pool = Pool::create(&sdk).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let table = support::dynamo::create_table(&dynamodb).await;
    let secret = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(format!("resetgate-hmac-{table}"))
        .secret_string(HMAC_KEY)
        .send()
        .await
        .expect("create_secret");
    let secret_arn = secret.arn().expect("secret ARN").to_owned();
    let mut config: Value = serde_json::from_str(&pool.config()).expect("config");
    config["idempotency"]["table"] = table.clone().into();

    let mut function = runtime::Function::start(
        env!("CARGO_BIN_EXE_resetgate"),
        &[
            ("RESETGATE_CONFIG", config.to_string()),
            ("RESETGATE_HMAC_KEY_SECRET_ARN", secret_arn),
            ("AWS_LAMBDA_LOG_LEVEL", "TRACE".into()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
            ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
            (
                "AWS_ENDPOINT_URL_DIRECTORY_SERVICE",
                standin.endpoint.clone(),
            ),
            (
                "AWS_ENDPOINT_URL_DIRECTORY_SERVICE_DATA",
                standin.endpoint.clone(),
            ),
            ("AWS_ENDPOINT_URL_FINSPACE_DATA", standin.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ],
    );

    let alice = json!({"sub": "sub-alice", "cognito:username": "alice"});
    let helen =
        json!({"sub": "sub-helen", "cognito:username": "helen", "cognito:groups": "[helpdesk]"});
    let alice_ad = json!({"sub": "sub-alice-ad", "custom:ad_username": "alice.smith"});
    let alice_fs = json!({"sub": "sub-alice-fs", "custom:finspace_user_id": "uid-alice-0001"});
    let headers = |key: &str| json!({"content-type": "application/json", "idempotency-key": format!("{KEY}-rt-{key}"), "authorization": TOKEN});
    let set = |password: &str| json!({"mode": "set", "password": password}).to_string();
    let generate = json!({"mode": "generate"}).to_string();
    let own = "/v1/targets/app-users/password-reset";
    let mut no_authorizer: Value =
        serde_json::from_str(&request(own, alice.clone(), headers("a"), &set(STRONG)))
            .expect("json");
    no_authorizer["requestContext"]
        .as_object_mut()
        .expect("context")
        .remove("authorizer");
    // (why, event, status, a generated password in the answer)
    let invocations: Vec<(&str, String, u16, bool)> = vec![
        (
            "a chosen password",
            request(own, alice.clone(), headers("1"), &set(STRONG)),
            200,
            false,
        ),
        (
            "its retry",
            request(own, alice.clone(), headers("1"), &set(STRONG)),
            200,
            false,
        ),
        (
            "a password the pool refuses",
            request(own, alice.clone(), headers("2"), &set(WEAK_FOR_POOL)),
            422,
            false,
        ),
        (
            "an admin generates",
            request(
                "/v1/targets/app-users/users/bob/password-reset",
                helen,
                headers("3"),
                &generate,
            ),
            200,
            true,
        ),
        (
            "a chosen directory password",
            request(
                "/v1/targets/corp-ad/password-reset",
                alice_ad,
                headers("4"),
                &set(STRONG),
            ),
            200,
            false,
        ),
        (
            "FinSpace generates",
            request(
                "/v1/targets/research/password-reset",
                alice_fs,
                headers("5"),
                &generate,
            ),
            200,
            true,
        ),
        (
            "a truncated body quoting the password",
            request(
                own,
                alice.clone(),
                headers("6"),
                &format!(r#"{{"mode":"set","password":"{STRONG}""#),
            ),
            400,
            false,
        ),
        ("no authorizer", no_authorizer.to_string(), 401, false),
        (
            "not an API Gateway event",
            json!({"password": STRONG, "token": TOKEN}).to_string(),
            401,
            false,
        ),
    ];
    let mut generated = Vec::new();
    for (why, event, status, delivers) in &invocations {
        let answer = match function.invoke(event) {
            runtime::Reported::Response(answer) => answer,
            runtime::Reported::Error(error) => panic!("{why}: the invocation failed: {error}"),
        };
        assert!(
            !answer.contains(CANARY),
            "{why}: the answer leaks: {answer}"
        );
        let answer: Value = serde_json::from_str(&answer).expect("a proxy response");
        assert_eq!(answer["statusCode"], *status, "{why}: {answer}");
        let body: Value =
            serde_json::from_str(answer["body"].as_str().expect("a body")).expect("a JSON body");
        match body["password"].as_str() {
            Some(password) => {
                assert!(delivers, "{why}: a password where none is due: {body}");
                generated.push(password.to_owned());
            }
            None => assert!(!delivers, "{why}: no password: {body}"),
        }
    }
    let (stdout, stderr) = function.stop();

    // What the function wrote: TRACE logs, one audit line per invocation, no secret.
    let lines: Vec<&str> = stdout.lines().chain(stderr.lines()).collect();
    assert!(
        lines.len() > invocations.len(),
        "TRACE logs were captured:\n{stdout}\n{stderr}"
    );
    for line in &lines {
        assert!(
            !line.contains(CANARY),
            "the function's output leaks the canary: {line}"
        );
        for password in &generated {
            assert!(
                !line.contains(password.as_str()),
                "the function's output leaks a generated password: {line}"
            );
        }
    }
    let audits: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["audit"] == true)
        .collect();
    assert_eq!(
        audits.len(),
        invocations.len(),
        "one audit line per invocation"
    );
    // The function read its keyed-hash secret from Secrets Manager: the audit line's key
    // reference is keyed with it.
    let keyring = resetgate::Keyring::new(&SecretString::from(HMAC_KEY));
    assert_eq!(
        audits[0]["idempotencyKeyRef"].as_str(),
        Some(
            keyring
                .digest_hex(
                    "idempotency-key",
                    &[b"sub-alice", format!("{KEY}-rt-1").as_bytes()]
                )
                .as_str()
        ),
        "{}",
        audits[0]
    );
    assert_eq!(audits[1]["replayed"], true, "{}", audits[1]);

    let items = support::dynamo::scan(&dynamodb, &table).await;
    assert_items_hold_no_secret(&items, &generated);
    // Four resets reached the back-ends: the chosen password, the admin's, the directory's
    // and FinSpace's; the retry and the refusals did not reset.
    let state = standin::state(&standin);
    assert_eq!(
        state["directories"][DIRECTORY]["users"]["alice.smith"]["password"],
        STRONG
    );
    assert_eq!(
        state["finspace"]["users"]["uid-alice-0001"]["lastPassword"],
        generated[1].as_str()
    );
    assert_eq!(
        pool.sign_in("alice", STRONG).await,
        support::cognito::SignIn::Tokens
    );
}
