//! The function's own CPU per warm request, without I/O: each step of the request path, and the
//! whole handler with an in-memory store and a back-end that answers at once. The sum of the
//! steps (or the whole) is what resetgate adds to the AWS calls. Run with `make bench-cpu`.

use std::{collections::HashMap, sync::Arc};

use divan::{Bencher, black_box};
use resetgate::{
    App, BoxFuture, Config, Keyring, PasswordResets, ResetAdapter, SystemClock,
    auth::{self, Caller, Subject},
    idempotency::{self, IdempotencyKey, RateLimits},
    password,
    reset::{Delivery, Mode, ResetOutcome, ResetRequest},
    testkit::MemoryStore,
};
use secrecy::SecretString;

fn main() {
    // Audit and other lines are formatted and written (to a sink), as in production.
    let subscriber = resetgate::logging::subscriber(tracing::Level::INFO, std::io::sink);
    let _ = tracing::subscriber::set_global_default(subscriber);
    divan::main();
}

const KEY: &str = "benchmark-hmac-key-0123456789abcdef0123456789";
const EVENT: &str = include_str!("../../../events/self-generate.json");
const SET_EVENT: &str = include_str!("../../../events/self-set.json");

/// The demo configuration with rate limits off (every iteration is the same caller and
/// account), as `make bench` runs it.
fn config() -> Config {
    let document = include_str!("../../../config/demo.json")
        .replace("${USER_POOL_ID}", "us-east-1_BenchPool1")
        .replace("${RECOVERY_CLIENT_ID}", "benchrecoveryclient1");
    let mut document: serde_json::Value = serde_json::from_str(&document).expect("json");
    for target in document["targets"].as_array_mut().expect("targets") {
        target["rateLimits"] = serde_json::json!({"perAccountPerHour": 0, "perCallerPerHour": 0});
    }
    Config::parse(&document.to_string(), SecretString::from(KEY)).expect("config")
}

/// The function over `config()`, every target answered by [`Instant`], records in the test
/// kit's in-memory store (the same semantics as the DynamoDB one).
fn app() -> App {
    App::new(
        PasswordResets::new(
            config(),
            Box::new(MemoryStore::returning_old()),
            Arc::new(SystemClock),
            |_| Ok(Box::new(Instant) as Box<dyn ResetAdapter>),
        )
        .expect("app"),
    )
}

/// A back-end that answers at once with a generated password (the generation is ours: it is
/// part of the measured CPU).
struct Instant;

impl ResetAdapter for Instant {
    fn inspect<'a>(
        &'a self,
        lookup: &'a resetgate::reset::Lookup<'a>,
    ) -> BoxFuture<'a, Result<resetgate::reset::Account, resetgate::Error>> {
        let account = resetgate::reset::Account {
            canonical: Some(lookup.username.to_owned()),
            ..Default::default()
        };
        Box::pin(async move { Ok(account) })
    }
    fn reset<'a>(
        &'a self,
        request: &'a ResetRequest<'a>,
    ) -> BoxFuture<'a, Result<ResetOutcome, resetgate::Error>> {
        let password = (request.mode == Mode::Generate)
            .then(|| password::generate(request.generated_password_length, request.username));
        Box::pin(async move {
            Ok(ResetOutcome {
                must_change_at_next_sign_in: true,
                password,
                expires_at: None,
                delivery: None::<Delivery>,
            })
        })
    }
}

/// The whole workflow's back-end: the account read has groups (each checked against the
/// target's privileged groups), names and a verified e-mail address, and its sessions are
/// ended after the reset, as a Cognito target does.
struct Workflow;

impl ResetAdapter for Workflow {
    fn inspect<'a>(
        &'a self,
        lookup: &'a resetgate::reset::Lookup<'a>,
    ) -> BoxFuture<'a, Result<resetgate::reset::Account, resetgate::Error>> {
        let account = resetgate::reset::Account {
            canonical: Some(lookup.username.to_owned()),
            groups: ["staff", "finance-readers", "vpn-users", "wiki-editors"]
                .map(str::to_owned)
                .to_vec(),
            personal: ["Alice", "Liddell", "alice"].map(str::to_owned).to_vec(),
            email: Some("alice@example.com".to_owned()),
            ..Default::default()
        };
        Box::pin(async move { Ok(account) })
    }

    fn revoke_sessions<'a>(
        &'a self,
        _username: &'a str,
    ) -> Option<BoxFuture<'a, Result<(), resetgate::Error>>> {
        Some(Box::pin(async { Ok(()) }))
    }

    fn reset<'a>(
        &'a self,
        request: &'a ResetRequest<'a>,
    ) -> BoxFuture<'a, Result<ResetOutcome, resetgate::Error>> {
        Instant.reset(request)
    }
}

/// A bus and a mailer that take what they are given (already serialised and formatted by the
/// function, which is the measured part) and drop it.
struct Discard;

impl resetgate::EventBus for Discard {
    fn publish<'a>(&'a self, detail: String) -> BoxFuture<'a, Result<(), String>> {
        black_box(detail);
        Box::pin(async { Ok(()) })
    }
}

impl resetgate::Mailer for Discard {
    fn send<'a>(
        &'a self,
        to: &'a str,
        subject: String,
        body: String,
    ) -> BoxFuture<'a, Result<(), String>> {
        black_box((to, subject, body));
        Box::pin(async { Ok(()) })
    }
}

/// The function over `config()` with the whole workflow of a `generate` reset on: the
/// privileged-group check over the account's groups, sessions ended, an event of the decision
/// and the user told by e-mail.
fn workflow_app() -> App {
    App::new(
        PasswordResets::new(
            config(),
            Box::new(MemoryStore::returning_old()),
            Arc::new(SystemClock),
            |_| Ok(Box::new(Workflow) as Box<dyn ResetAdapter>),
        )
        .expect("app")
        .with_events(Box::new(Discard))
        .with_notifications(Box::new(Discard), "the IT service desk".to_owned()),
    )
}

/// The whole handler for a fresh `generate` reset: event parsing, routing, caller, body, key,
/// authorization, checks, fingerprint, rate-limit keys, claim (in memory), password
/// generation, response, audit line.
#[divan::bench]
fn whole_request(bencher: Bencher) {
    fresh_requests(bencher, &app(), EVENT, "demo-self-generate-0001");
}

/// Runs `app` on `template` with its idempotency key `key` replaced by a fresh one per
/// iteration, so every request is a real claim, not a replay; each must answer 200.
fn fresh_requests(bencher: Bencher, app: &App, template: &str, key: &str) {
    // Otherwise every iteration after the first would be a replay, and still answer 200.
    assert!(
        template.contains(key),
        "the template has no idempotency key {key:?}"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut context = lambda_http::Context::default();
    context.request_id = "bench".into();
    let mut n = 0u64;
    bencher
        .with_inputs(|| {
            n += 1;
            template.replace(key, &format!("bench-key-{n}"))
        })
        .bench_local_refs(|event| {
            let response = runtime.block_on(app.handle_event(event, &context));
            assert_eq!(response.status_code, 200, "{}", response.body);
            black_box(response)
        });
}

/// What `lambda_http` does with an event: try the REST shape, then HTTP API's, so a payload
/// 2.0 event is parsed twice.
#[divan::bench]
fn parse_event_as_lambda_request() -> lambda_http::Request {
    let request: lambda_http::request::LambdaRequest =
        serde_json::from_str(black_box(EVENT)).expect("event");
    request.into()
}

/// What the handler does with a payload 2.0 event: recognise it, parse it once.
#[divan::bench]
fn parse_event_as_http_api_v2() -> lambda_http::Request {
    #[derive(serde::Deserialize)]
    struct Shape<'a> {
        #[serde(borrow)]
        version: Option<std::borrow::Cow<'a, str>>,
    }
    let shape: Shape = serde_json::from_str(black_box(EVENT)).expect("shape");
    assert_eq!(shape.version.as_deref(), Some("2.0"));
    let request: lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest =
        serde_json::from_str(black_box(EVENT)).expect("event");
    lambda_http::request::LambdaRequest::ApiGatewayV2(request).into()
}

#[divan::bench]
fn caller_and_authorization(bencher: Bencher) {
    let config = config();
    // The claims as the handler takes them from the authorizer context.
    let event: serde_json::Value = serde_json::from_str(EVENT).expect("event");
    let claims: HashMap<String, String> =
        serde_json::from_value(event["requestContext"]["authorizer"]["jwt"]["claims"].clone())
            .expect("claims");
    let access = &config.targets[0].access;
    bencher.bench_local(|| {
        let caller = Caller::from_claims(Some(claims.clone()), "cognito:groups").expect("caller");
        auth::check_token(&caller, &config.tokens).expect("token");
        let grant = auth::authorize(&caller, access, Subject::Own).expect("grant");
        auth::check_not_protected(access, &grant.username).expect("not protected");
        black_box(grant)
    });
}

#[divan::bench]
fn idempotency_key_and_fingerprint(bencher: Bencher) {
    let keyring = Keyring::new(&SecretString::from(KEY));
    let limits = RateLimits::default();
    bencher.bench_local(|| {
        let key = IdempotencyKey::from_request([b"demo-self-generate-0001".as_slice()], None)
            .expect("key");
        let reference = key.reference(&keyring, "7d5f2c1e-1111-4a4a-9c9c-a11ce0000001");
        let fingerprint =
            idempotency::fingerprint(&keyring, "app-users", "alice", "generate", None, None, None);
        let rate =
            idempotency::rate_limits(&keyring, "app-users", "7d5f2c1e-1111", "alice", limits);
        black_box((reference, fingerprint, rate))
    });
}

/// One check of a chosen password: length, context words, the breached-password screen and
/// the zxcvbn estimate, for a strong password of 16, 64 and 256 code points (the budget: under
/// 1 ms of CPU at 64; under 5 ms at 256, judged whole).
#[divan::bench(args = [16, 64, 256])]
fn password_policy_check(bencher: Bencher, length: usize) {
    let words = [
        "Blue", "Harbour", "Lantern", "Orbit", "Violet", "Quarry", "Mosaic", "Tundra",
    ];
    let mut chosen = String::new();
    let mut i = 0;
    while chosen.chars().count() < length {
        chosen.push_str(words[i % words.len()]);
        chosen.push(char::from(b'0' + (i % 10) as u8));
        i += 1;
    }
    let chosen: String = chosen.chars().take(length).collect();
    let chosen = SecretString::from(chosen);
    bencher.bench(|| {
        password::check(
            black_box(&chosen),
            password::Context {
                username: "alice",
                target: "app-users",
                personal: &[],
            },
            8,
            256,
            3,
        )
    });
}

#[divan::bench]
fn password_generation() -> SecretString {
    password::generate(black_box(20), "alice")
}

/// The whole handler for a fresh `set` reset: as `whole_request`, with the chosen password
/// checked (length, context words, the breached-password screen, the strength estimate).
#[divan::bench]
fn whole_request_set_mode(bencher: Bencher) {
    fresh_requests(bencher, &app(), SET_EVENT, "demo-self-set-0001");
}

/// The whole handler for a fresh `generate` reset with every check and side effect of the
/// workflow on (#17's budget: under 100 µs): as `whole_request`, plus the privileged-group
/// check over four groups, the session revocation, the event and the e-mail, each built and
/// handed to a sink that drops it.
#[divan::bench]
fn whole_request_full_workflow(bencher: Bencher) {
    fresh_requests(bencher, &workflow_app(), EVENT, "demo-self-generate-0001");
}
