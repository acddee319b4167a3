//! The function's own CPU per warm request, without I/O: each step of the request path, and the
//! whole handler with an in-memory store and a back-end that answers at once. The sum of the
//! steps (or the whole) is what resetgate adds to the AWS calls. Run with `make bench-cpu`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use divan::{Bencher, black_box};
use resetgate::{
    App, Config,
    auth::{self, Caller, Subject},
    idempotency::{
        self, Claim, Counter, IdempotencyKey, Record, Store, StoreError, StoredResponse,
    },
    keys::Keyring,
    password,
    reset::{BoxFuture, Delivery, Mode, ResetAdapter, ResetOutcome, ResetRequest},
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

fn config() -> Config {
    let document = include_str!("../../../config/demo.json")
        .replace("${USER_POOL_ID}", "us-east-1_BenchPool1");
    Config::parse(&document, SecretString::from(KEY)).expect("config")
}

/// A store that keeps records in memory, with DynamoDB's semantics for what the bench does.
#[derive(Default)]
struct MemoryStore(Mutex<HashMap<String, Record>>);

impl Store for MemoryStore {
    fn put_if_absent<'a>(
        &'a self,
        record: &'a Record,
        _: &'a [Counter],
        _: u64,
        _: u64,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        let mut records = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let claim = match records.get(&record.id) {
            Some(existing) => Claim::Exists(Some(existing.clone())),
            None => {
                records.insert(record.id.clone(), record.clone());
                Claim::Claimed
            }
        };
        Box::pin(async move { Ok(claim) })
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        let record = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        Box::pin(async move { Ok(record) })
    }
    fn complete<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a StoredResponse,
        _: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn delete<'a>(&'a self, id: &'a str, _: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        Box::pin(async { Ok(()) })
    }
    fn mark_unknown<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn take_over<'a>(
        &'a self,
        _: &'a Record,
        _: &'a str,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async { Ok(Claim::Busy) })
    }
    fn count<'a>(&'a self, _: &'a Counter) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async { Ok(Claim::Claimed) })
    }
}

/// A back-end that answers at once with a generated password (the generation is ours: it is
/// part of the measured CPU).
struct Instant;

impl ResetAdapter for Instant {
    fn check_username(&self, _: &str) -> Result<(), resetgate::Error> {
        Ok(())
    }
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

/// The whole handler for a fresh `generate` reset: event parsing, routing, caller, body, key,
/// authorization, checks, fingerprint, rate-limit keys, claim (in memory), password
/// generation, response, audit line.
#[divan::bench]
fn whole_request(bencher: Bencher) {
    let store = Arc::new(MemoryStore::default());
    let app = App::new(config(), Box::new(SharedStore(store.clone())), |_| {
        Ok(Box::new(Instant) as Box<dyn ResetAdapter>)
    })
    .expect("app");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut context = lambda_http::Context::default();
    context.request_id = "bench".into();
    let mut n = 0u64;
    // A fresh key per iteration, so every request is a real claim, not a replay.
    bencher
        .with_inputs(|| {
            n += 1;
            EVENT.replace("demo-self-generate-0001", &format!("bench-key-{n}"))
        })
        .bench_local_refs(|event| {
            let response = runtime.block_on(app.handle_event(event, &context));
            assert_eq!(response.status_code, 200);
            black_box(response)
        });
}

struct SharedStore(Arc<MemoryStore>);

impl Store for SharedStore {
    fn put_if_absent<'a>(
        &'a self,
        r: &'a Record,
        c: &'a [Counter],
        s: u64,
        m: u64,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        self.0.put_if_absent(r, c, s, m)
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        self.0.get(id)
    }
    fn complete<'a>(
        &'a self,
        id: &'a str,
        claim: &'a str,
        r: &'a StoredResponse,
        e: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.0.complete(id, claim, r, e)
    }
    fn delete<'a>(&'a self, id: &'a str, claim: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.0.delete(id, claim)
    }
    fn mark_unknown<'a>(
        &'a self,
        id: &'a str,
        claim: &'a str,
        at: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.0.mark_unknown(id, claim, at)
    }
    fn take_over<'a>(
        &'a self,
        r: &'a Record,
        previous: &'a str,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        self.0.take_over(r, previous)
    }
    fn count<'a>(&'a self, c: &'a Counter) -> BoxFuture<'a, Result<Claim, StoreError>> {
        self.0.count(c)
    }
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
    let request = lambda_http::request::from_str(EVENT).expect("event");
    let context = lambda_http::RequestExt::request_context_ref(&request).cloned();
    bencher.bench_local(|| {
        let caller = Caller::from_context(context.as_ref(), "cognito:groups").expect("caller");
        auth::check_token(&caller, &config.tokens).expect("token");
        let grant = auth::authorize(&caller, &config.targets[0], Subject::Own).expect("grant");
        auth::check_not_protected(&config.targets[0], &grant.username).expect("not protected");
        black_box(grant)
    });
}

#[divan::bench]
fn idempotency_key_and_fingerprint(bencher: Bencher) {
    let keyring = Keyring::new(&SecretString::from(KEY));
    let limits = resetgate::config::RateLimits::default();
    bencher.bench_local(|| {
        let key = IdempotencyKey::from_request([b"demo-self-generate-0001".as_slice()], None)
            .expect("key");
        let reference = key.reference(&keyring, "7d5f2c1e-1111-4a4a-9c9c-a11ce0000001");
        let fingerprint =
            idempotency::fingerprint(&keyring, "app-users", "alice", Mode::Generate, None, None);
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

#[divan::bench]
fn whole_request_set_mode(bencher: Bencher) {
    let app = App::new(config(), Box::new(MemoryStore::default()), |_| {
        Ok(Box::new(Instant) as Box<dyn ResetAdapter>)
    })
    .expect("app");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let context = lambda_http::Context::default();
    let mut n = 0u64;
    bencher
        .with_inputs(|| {
            n += 1;
            SET_EVENT.replace("demo-self-set-0001", &format!("bench-set-{n}"))
        })
        .bench_local_refs(|event| black_box(runtime.block_on(app.handle_event(event, &context))));
}
