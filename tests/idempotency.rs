//! Idempotency against real DynamoDB engines: dynalite (atomic conditional writes, ignores
//! ALL_OLD) and moto (returns ALL_OLD; not atomic under concurrency, so no race test on it).

mod support;

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use resetgate::{
    App, Config, ManualClock, PasswordResets, SystemClock,
    idempotency::{Begin, DynamoStore, Idempotency, StoredResponse},
    reset::{CognitoAdapter, ResetAdapter},
};
use secrecy::SecretString;
use serde_json::{Value, json};
use support::{calls::Calls, cognito::Pool};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The engines, each with whether it returns the old item with a failed condition.
fn engines() -> Vec<(&'static str, Arc<support::Server>, bool)> {
    vec![
        ("dynalite", support::dynalite(), false),
        ("moto", support::moto(), true),
    ]
}

/// Claim tokens and the unknown state on both engines: a late invocation's completion is
/// refused once another request took the record over; an unknown record is taken over once.
#[tokio::test]
async fn claims_are_owned_and_unknown_records_taken_over_once_on_real_engines() {
    for (engine, server, _) in engines() {
        let sdk = support::sdk_config(&server.endpoint).await;
        let client = support::dynamo::client(&sdk, &Calls::default());
        let table = support::dynamo::create_table(&client).await;
        let t0 = 1_750_000_000_000;
        let clock = Arc::new(ManualClock::at_millis(t0));
        let policy = Idempotency::new(
            Box::new(DynamoStore::new(client.clone(), table.clone())),
            Duration::from_secs(600),
            clock.clone(),
        );
        let response = StoredResponse {
            status: 200,
            body: "{}".into(),
            password_delivered: false,
        };
        let status = |item: &std::collections::HashMap<String, AttributeValue>| {
            item["status"].as_s().cloned().unwrap_or_default()
        };
        let read = || async {
            client
                .get_item()
                .table_name(&table)
                .key("id", AttributeValue::S("idem#own".into()))
                .consistent_read(true)
                .send()
                .await
                .expect("get")
                .item
                .expect("item")
        };

        let Ok(Begin::Execute(late)) = policy.begin("idem#own", "fp", t0 + 1_000, &[]).await else {
            panic!("{engine}: fresh")
        };
        clock.set_millis(t0 + 2_000);
        // The same request takes the abandoned record over to reconcile.
        let Ok(Begin::Reconcile { claim: newer, .. }) =
            policy.begin("idem#own", "fp", t0 + 9_000, &[]).await
        else {
            panic!("{engine}: taken over after the deadline")
        };
        policy.complete(late, &response).await;
        assert_eq!(
            status(&read().await),
            "INPROGRESS",
            "{engine}: the late completion was refused"
        );

        policy.mark_unknown(newer, t0 + 2_100).await;
        let item = read().await;
        assert_eq!(status(&item), "UNKNOWN", "{engine}");
        assert_eq!(
            item["attempted_at"],
            AttributeValue::N((t0 + 2_100).to_string())
        );

        let Ok(Begin::Reconcile {
            claim,
            attempted_at,
        }) = policy.begin("idem#own", "fp", t0 + 9_000, &[]).await
        else {
            panic!("{engine}: reconcile")
        };
        assert_eq!(attempted_at, t0 + 2_100);
        assert_eq!(
            policy
                .begin("idem#own", "fp", t0 + 9_000, &[])
                .await
                .expect_err("taken")
                .code(),
            "REQUEST_IN_PROGRESS",
            "{engine}"
        );
        policy.complete(claim, &response).await;
        assert_eq!(status(&read().await), "COMPLETED", "{engine}");
    }
}

/// The canonical name's extra per-account counter (an alias was requested): one conditional
/// `UpdateItem` on both engines, refused once the limit is reached.
#[tokio::test]
async fn an_extra_counter_counts_up_to_its_limit_on_real_engines() {
    for (engine, server, _) in engines() {
        let sdk = support::sdk_config(&server.endpoint).await;
        let client = support::dynamo::client(&sdk, &Calls::default());
        let table = support::dynamo::create_table(&client).await;
        let policy = Idempotency::new(
            Box::new(DynamoStore::new(client.clone(), table.clone())),
            Duration::from_secs(600),
            Arc::new(ManualClock::at_millis(1_750_000_000_000)),
        );
        let limit = resetgate::idempotency::Limit {
            key: "account#alice".into(),
            per_hour: 2,
        };
        for n in 0..2 {
            policy
                .count_also(&limit)
                .await
                .unwrap_or_else(|e| panic!("{engine} {n}: {e:?}"));
        }
        let error = policy.count_also(&limit).await.expect_err("at its limit");
        assert_eq!(error.code(), "RATE_LIMITED", "{engine}");
        assert!(error.retry_after_secs().is_some(), "{engine}");
    }
}

#[tokio::test]
async fn the_state_machine_on_real_engines() {
    for (engine, server, returns_old) in engines() {
        let sdk = support::sdk_config(&server.endpoint).await;
        let calls = Calls::default();
        let client = support::dynamo::client(&sdk, &calls);
        let table = support::dynamo::create_table(&client).await;
        let t0 = 1_750_000_000_000;
        let clock = Arc::new(ManualClock::at_millis(t0));
        let policy = Idempotency::new(
            Box::new(DynamoStore::new(client.clone(), table.clone())),
            Duration::from_secs(600),
            clock.clone(),
        );
        let response = StoredResponse {
            status: 200,
            body: r#"{"passwordDelivered":"earlier"}"#.into(),
            password_delivered: true,
        };
        calls.reset();

        // Fresh: one PutItem; the item's timestamps in their units.
        let claim = match policy.begin("idem#one", "fp", t0 + 9_000, &[]).await {
            Ok(Begin::Execute(claim)) => claim,
            other => panic!("{engine}: fresh: {other:?}"),
        };
        assert_eq!(calls.total(), 1, "{engine}");
        let item = client
            .get_item()
            .table_name(&table)
            .key("id", AttributeValue::S("idem#one".into()))
            .send()
            .await
            .expect("get");
        let item = item.item().expect("stored");
        assert_eq!(
            item["status"],
            AttributeValue::S("INPROGRESS".into()),
            "{engine}"
        );
        assert_eq!(
            item["expiration"],
            AttributeValue::N((t0 / 1000 + 600).to_string()),
            "{engine}: seconds"
        );
        assert_eq!(
            item["in_progress_expiration"],
            AttributeValue::N((t0 + 9_000).to_string()),
            "{engine}: milliseconds"
        );

        // In flight: 409; another request with the key: 422.
        let error = policy
            .begin("idem#one", "fp", t0 + 9_000, &[])
            .await
            .expect_err("in progress");
        assert_eq!(
            (error.code(), error.retry_after_secs()),
            ("REQUEST_IN_PROGRESS", Some(9)),
            "{engine}"
        );
        assert_eq!(
            policy
                .begin("idem#one", "other", t0, &[])
                .await
                .expect_err("reused")
                .code(),
            "IDEMPOTENCY_KEY_REUSED"
        );

        // Completed: replayed in one round trip where the engine returns the old item.
        policy.complete(claim, &response).await;
        calls.reset();
        let Ok(Begin::Replay(replayed)) = policy.begin("idem#one", "fp", t0 + 9_000, &[]).await
        else {
            panic!("{engine}: replay")
        };
        assert_eq!(replayed, response);
        assert_eq!(
            calls.total(),
            if returns_old { 1 } else { 2 },
            "{engine}: round trips per replay"
        );
        assert_eq!(
            policy
                .begin("idem#one", "other", t0, &[])
                .await
                .expect_err("reused")
                .code(),
            "IDEMPOTENCY_KEY_REUSED"
        );

        // Expired but still stored (TTL deletes late): a new execution.
        clock.set_millis(t0 + 601_000);
        assert!(
            matches!(
                policy.begin("idem#one", "fp", t0 + 700_000, &[]).await,
                Ok(Begin::Execute(_))
            ),
            "{engine}"
        );

        // In progress past its deadline (a Lambda timeout, perhaps after the reset call): the
        // same request takes it over once, to reconcile from the time of the claim.
        let Ok(Begin::Execute(_lost)) = policy.begin("idem#two", "fp", t0 + 605_000, &[]).await
        else {
            panic!("{engine}")
        };
        clock.set_millis(t0 + 605_001);
        assert!(
            matches!(
                policy.begin("idem#two", "fp", t0 + 620_000, &[]).await,
                Ok(Begin::Reconcile { attempted_at, .. }) if attempted_at == t0 + 601_000
            ),
            "{engine}"
        );
        assert_eq!(
            policy
                .begin("idem#two", "fp", t0 + 620_000, &[])
                .await
                .expect_err("once")
                .code(),
            "REQUEST_IN_PROGRESS"
        );

        // Abandoned: free at once.
        let Ok(Begin::Execute(claim)) = policy.begin("idem#three", "fp", t0 + 620_000, &[]).await
        else {
            panic!("{engine}")
        };
        policy.abandon(claim).await;
        assert!(
            matches!(
                policy.begin("idem#three", "fp", t0 + 620_000, &[]).await,
                Ok(Begin::Execute(_))
            ),
            "{engine}"
        );
    }
}

struct Rig {
    _servers: (Arc<support::Server>, Arc<support::Server>),
    pool: Pool,
    cognito_calls: Calls,
    dynamo_calls: Calls,
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    clock: Arc<ManualClock>,
    app: Arc<App>,
}

/// The app with Cognito on moto and records on `dynamo` (or moto), counting calls on both.
/// With `dynamo` (dynalite), rate limits are off: dynalite has no `TransactWriteItems`, which
/// the claim uses when it also counts (tests/abuse.rs covers limits on moto).
async fn rig(dynamo: Option<Arc<support::Server>>) -> Rig {
    let limits_off = dynamo.is_some();
    let moto = support::moto();
    let moto_sdk = support::sdk_config(&moto.endpoint).await;
    let dynamo = dynamo.unwrap_or_else(|| moto.clone());
    let dynamo_sdk: SdkConfig = support::sdk_config(&dynamo.endpoint).await;
    let pool = Pool::create(&moto_sdk).await;
    let cognito_calls = Calls::default();
    let dynamo_calls = Calls::default();
    let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
        aws_sdk_cognitoidentityprovider::config::Builder::from(&moto_sdk)
            .interceptor(cognito_calls.clone())
            .build(),
    );
    let dynamodb = support::dynamo::client(&dynamo_sdk, &dynamo_calls);
    let table = support::dynamo::create_table(&dynamodb).await;
    let clock = Arc::new(ManualClock::at_millis(now_ms()));
    let mut config: Value = serde_json::from_str(&pool.config()).expect("json");
    if limits_off {
        for target in config["targets"].as_array_mut().expect("targets") {
            target["rateLimits"] = json!({"perAccountPerHour": 0, "perCallerPerHour": 0});
        }
    }
    let config =
        Config::parse(&config.to_string(), SecretString::from(support::HMAC_KEY)).expect("config");
    let pool_id = pool.id.clone();
    let app = App::new(
        PasswordResets::new(
            config,
            Box::new(DynamoStore::new(dynamodb.clone(), table.clone())),
            clock.clone(),
            |_| {
                Ok(
                    Box::new(CognitoAdapter::new(cognito.clone(), pool_id.clone()))
                        as Box<dyn ResetAdapter>,
                )
            },
        )
        .expect("app"),
    );
    Rig {
        _servers: (moto, dynamo),
        pool,
        cognito_calls,
        dynamo_calls,
        dynamodb,
        table,
        clock,
        app: Arc::new(app),
    }
}

fn generate_event(key: &str) -> String {
    let mut event = support::sample_event("self-generate.json");
    event["headers"]["idempotency-key"] = key.into();
    event["requestContext"]["authorizer"]["jwt"]["claims"] =
        json!({"sub": "sub-alice", "iss": support::DEMO_ISSUER, "cognito:username": "alice"});
    event.to_string()
}

fn context(deadline: u64) -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    context.request_id = "idem-test".into();
    context.deadline = deadline;
    context
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_duplicates_reset_once_and_hand_out_one_password() {
    let rig = rig(Some(support::dynalite())).await;
    let rounds = 25;
    let racers = 30;
    for round in 0..rounds {
        let event = Arc::new(generate_event(&format!("race-{round}")));
        let barrier = Arc::new(tokio::sync::Barrier::new(racers));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..racers {
            let (app, event, barrier) = (rig.app.clone(), event.clone(), barrier.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                app.handle_event(&event, &context(now_ms() + 10_000)).await
            });
        }
        let mut passwords = Vec::new();
        while let Some(response) = tasks.join_next().await {
            let response = response.expect("task");
            let body: Value = serde_json::from_str(&response.body).expect("json");
            match response.status_code {
                200 if response.headers.contains_key("idempotent-replayed") => {
                    assert_eq!(body["passwordDelivered"], "earlier");
                    assert!(body.get("password").is_none());
                }
                200 => passwords.push(body["password"].as_str().expect("password").to_owned()),
                409 => assert!(response.headers.contains_key("retry-after")),
                other => panic!("round {round}: unexpected {other}: {}", response.body),
            }
        }
        assert_eq!(
            passwords.len(),
            1,
            "round {round}: exactly one password handed out"
        );
        assert_eq!(
            rig.cognito_calls.count("AdminSetUserPassword"),
            round + 1,
            "round {round}: exactly one reset"
        );
        // The password handed out is the one that works.
        assert_eq!(
            rig.pool.sign_in("alice", &passwords[0]).await,
            support::cognito::SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
        );
    }
}

#[tokio::test]
async fn round_trips_per_fresh_reset_and_per_replay() {
    let rig = rig(None).await;
    rig.dynamo_calls.reset();
    let event = generate_event("round-trips");
    let first = rig
        .app
        .handle_event(&event, &context(now_ms() + 10_000))
        .await;
    assert_eq!(first.status_code, 200);
    // The claim and both rate-limit counters in one TransactWriteItems, then the completion.
    assert_eq!(
        rig.dynamo_calls.total(),
        2,
        "claim (with rate limits) and completion"
    );
    assert_eq!(
        (
            rig.dynamo_calls.count("TransactWriteItems"),
            rig.dynamo_calls.count("UpdateItem")
        ),
        (1, 1)
    );
    rig.dynamo_calls.reset();
    let replay = rig
        .app
        .handle_event(&event, &context(now_ms() + 10_000))
        .await;
    assert_eq!(
        replay
            .headers
            .get("idempotent-replayed")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        rig.dynamo_calls.total(),
        1,
        "one cancelled transaction, whose cancellation reason carries the old item"
    );
    assert_eq!(rig.cognito_calls.count("AdminSetUserPassword"), 1);
}

#[tokio::test]
async fn dynamodb_unavailable_on_the_claim_fails_closed() {
    let moto = support::moto();
    let moto_sdk = support::sdk_config(&moto.endpoint).await;
    let pool = Pool::create(&moto_sdk).await;
    let cognito_calls = Calls::default();
    let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
        aws_sdk_cognitoidentityprovider::config::Builder::from(&moto_sdk)
            .interceptor(cognito_calls.clone())
            .build(),
    );
    let nowhere = support::sdk_config(&support::unreachable_endpoint()).await;
    let config =
        Config::parse(&pool.config(), SecretString::from(support::HMAC_KEY)).expect("config");
    let pool_id = pool.id.clone();
    let app = App::new(
        PasswordResets::new(
            config,
            Box::new(DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&nowhere),
                "t-idem".into(),
            )),
            Arc::new(SystemClock),
            |_| {
                Ok(
                    Box::new(CognitoAdapter::new(cognito.clone(), pool_id.clone()))
                        as Box<dyn ResetAdapter>,
                )
            },
        )
        .expect("app"),
    );
    let response = app
        .handle_event(&generate_event("closed"), &context(now_ms() + 10_000))
        .await;
    assert_eq!(response.status_code, 503, "{}", response.body);
    assert!(response.headers.contains_key("retry-after"));
    // The account read runs beside the claim (one round trip for both); no reset call is
    // made without a claim.
    assert_eq!(
        cognito_calls.count("AdminSetUserPassword") + cognito_calls.count("AdminResetUserPassword"),
        0,
        "no reset call without a claim"
    );
    assert!(cognito_calls.total() <= 1, "at most the account read");
    assert_eq!(
        pool.sign_in("alice", &support::cognito::seed_password("alice"))
            .await,
        support::cognito::SignIn::Tokens
    );
}

#[tokio::test]
async fn a_failed_completion_still_delivers_and_blocks_until_the_deadline() {
    let rig = rig(Some(support::dynalite())).await;
    rig.dynamo_calls.fail("UpdateItem");
    let event = generate_event("completion-fails");
    let deadline = now_ms() + 10_000;
    let first = rig.app.handle_event(&event, &context(deadline)).await;
    assert_eq!(
        first.status_code, 200,
        "the reset happened: the caller gets its password"
    );
    assert!(first.body.contains("\"password\""));

    let items = support::dynamo::scan(&rig.dynamodb, &rig.table).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], AttributeValue::S("INPROGRESS".into()));
    // The request's deadline: the invocation's, less the 300 ms kept for answering.
    assert_eq!(
        items[0]["in_progress_expiration"],
        AttributeValue::N((deadline - 300).to_string())
    );

    // Until the invocation's deadline a retry waits; after it, the request runs once more.
    let retry = rig
        .app
        .handle_event(&event, &context(now_ms() + 10_000))
        .await;
    assert_eq!(retry.status_code, 409);
    rig.clock.set_millis(deadline + 1);
    let later = rig
        .app
        .handle_event(&event, &context(deadline + 10_000))
        .await;
    assert_eq!(later.status_code, 200);
    assert_eq!(rig.cognito_calls.count("AdminSetUserPassword"), 2);
}

#[tokio::test]
async fn a_back_end_refusal_frees_the_key() {
    let rig = rig(None).await;
    let mut event: Value = serde_json::from_str(&generate_event("refused")).expect("json");
    event["body"] = json!({"mode": "set", "password": "NoSymbolsHere12345"})
        .to_string()
        .into();
    let refused = rig
        .app
        .handle_event(&event.to_string(), &context(now_ms() + 10_000))
        .await;
    assert_eq!(refused.status_code, 422, "{}", refused.body);
    let records = support::dynamo::scan(&rig.dynamodb, &rig.table).await;
    let records: Vec<_> = records
        .iter()
        .filter(|item| matches!(&item["id"], AttributeValue::S(id) if id.starts_with("idem#")))
        .collect();
    assert!(
        records.is_empty(),
        "no idempotency record left: {records:?}"
    );
    // The same key with a password the pool accepts is a request of its own.
    event["body"] = json!({"mode": "set", "password": "With-Symbols-12345"})
        .to_string()
        .into();
    let accepted = rig
        .app
        .handle_event(&event.to_string(), &context(now_ms() + 10_000))
        .await;
    assert_eq!(accepted.status_code, 200, "{}", accepted.body);
}
