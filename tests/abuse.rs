//! Rate limits, end to end on moto (Cognito and DynamoDB): counted before the back-end call in
//! the same transaction as the idempotency claim, answered 429 with `Retry-After`, keyed by
//! hashes, and not consumed by replays. Windows are clock hours of the use case's clock: a
//! manual one here, standing mid-hour unless a test moves it, so that no test depends on when
//! it runs.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use std::sync::Arc;

use resetgate::{
    App, Config, ManualClock, PasswordResets, ResetAdapter, idempotency::DynamoStore, reset,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use support::{calls::Calls, cognito::Pool};

/// The start of a clock hour (epoch seconds): 2025-06-15T14:00:00Z.
const HOUR: u64 = 1_749_996_000;
/// Half an hour into it, where the rigs' clocks stand.
const MID_HOUR: u64 = HOUR + 1_800;

struct Rig {
    _moto: std::sync::Arc<support::Server>,
    app: App,
    clock: Arc<ManualClock>,
    cognito_calls: Calls,
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
}

async fn rig(per_account: u32, per_caller: u32) -> Rig {
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let pool = Pool::create(&sdk).await;
    let cognito_calls = Calls::default();
    let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
        aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
            .interceptor(cognito_calls.clone())
            .build(),
    );
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let table = support::dynamo::create_table(&dynamodb).await;
    let mut config: Value = serde_json::from_str(&pool.config()).expect("json");
    config["targets"][0]["rateLimits"] =
        json!({"perAccountPerHour": per_account, "perCallerPerHour": per_caller});
    let config =
        Config::parse(&config.to_string(), SecretString::from(support::HMAC_KEY)).expect("config");
    let pool_id = pool.id.clone();
    let clock = Arc::new(ManualClock::at_millis(MID_HOUR * 1000));
    let app = App::new(
        PasswordResets::new(
            config,
            Box::new(DynamoStore::new(dynamodb.clone(), table.clone())),
            clock.clone(),
            |_| {
                Ok(
                    Box::new(reset::CognitoAdapter::new(cognito.clone(), pool_id.clone()))
                        as Box<dyn ResetAdapter>,
                )
            },
        )
        .expect("app"),
    );
    Rig {
        _moto: moto,
        app,
        clock,
        cognito_calls,
        dynamodb,
        table,
    }
}

struct Answer {
    status: u16,
    code: Option<String>,
    retry_after: Option<u64>,
    replayed: bool,
}

async fn reset(rig: &Rig, caller: &str, user: &str, key: &str) -> Answer {
    let path = format!("/v1/targets/app-users/users/{user}/password-reset");
    let claims = json!({"sub": format!("sub-{caller}"), "cognito:username": caller, "cognito:groups": "[helpdesk]"});
    let mut event = support::http_api_event(&path, claims, r#"{"mode":"generate"}"#);
    event["headers"]["idempotency-key"] = key.into();
    let mut context = lambda_http::Context::default();
    context.request_id = "abuse".into();
    let response = rig.app.handle_event(&event.to_string(), &context).await;
    let body: Value = serde_json::from_str(&response.body).expect("json");
    Answer {
        status: response.status_code,
        code: body["code"].as_str().map(str::to_owned),
        retry_after: response
            .headers
            .get("retry-after")
            .and_then(|v| v.parse().ok()),
        replayed: response.headers.contains_key("idempotent-replayed"),
    }
}

#[tokio::test]
async fn an_account_is_reset_at_most_its_limit_an_hour() {
    let rig = rig(3, 100).await;
    for n in 0..3 {
        let answer = reset(&rig, "helen", "bob", &format!("bob-{n}")).await;
        assert_eq!(answer.status, 200, "reset {n}");
    }
    // Whoever asks, and in whatever case the name is written, the account's budget is spent.
    for (caller, user) in [("helen", "bob"), ("ivan", "bob"), ("helen", "BOB")] {
        let answer = reset(&rig, caller, user, &format!("over-{caller}-{user}")).await;
        assert_eq!(
            (answer.status, answer.code.as_deref()),
            (429, Some("RATE_LIMITED")),
            "{caller} {user}"
        );
        // Until the end of the clock hour: half an hour.
        assert_eq!(answer.retry_after, Some(1_800), "{caller} {user}");
    }
    assert_eq!(
        rig.cognito_calls.count("AdminSetUserPassword"),
        3,
        "no back-end call over the limit"
    );
    // A retry of an allowed request is still answered: replays consume no budget.
    let replay = reset(&rig, "helen", "bob", "bob-0").await;
    assert_eq!((replay.status, replay.replayed), (200, true));
    // Other accounts are unaffected.
    assert_eq!(reset(&rig, "helen", "alice", "alice-0").await.status, 200);
}

#[tokio::test]
async fn a_caller_resets_at_most_its_limit_an_hour_and_failures_count() {
    let rig = rig(100, 3).await;
    // Probing for accounts that do not exist spends the budget too (no free enumeration).
    assert_eq!(reset(&rig, "helen", "ghost-1", "g1").await.status, 404);
    assert_eq!(reset(&rig, "helen", "ghost-2", "g2").await.status, 404);
    assert_eq!(reset(&rig, "helen", "bob", "b1").await.status, 200);
    let answer = reset(&rig, "helen", "alice", "a1").await;
    assert_eq!(
        (answer.status, answer.code.as_deref()),
        (429, Some("RATE_LIMITED"))
    );
    assert_eq!(answer.retry_after, Some(1_800));
    // Another caller has a budget of its own.
    assert_eq!(reset(&rig, "ivan", "alice", "a1").await.status, 200);
}

/// A window is a clock hour: the budget spent just before the hour turns is whole again at
/// the turn, and `Retry-After` counts down to it.
#[tokio::test]
async fn the_budget_is_whole_again_when_the_hour_turns() {
    let rig = rig(3, 100).await;
    let next_hour = HOUR + 3_600;
    rig.clock.set_millis((next_hour - 10) * 1000);
    for n in 0..3 {
        let answer = reset(&rig, "helen", "bob", &format!("bob-{n}")).await;
        assert_eq!(answer.status, 200, "reset {n}");
    }
    let answer = reset(&rig, "helen", "bob", "over-1").await;
    assert_eq!(
        (answer.status, answer.code.as_deref(), answer.retry_after),
        (429, Some("RATE_LIMITED"), Some(10)),
        "ten seconds before the turn"
    );
    // One second before the turn: still the same window.
    rig.clock.set_millis((next_hour - 1) * 1000);
    let answer = reset(&rig, "helen", "bob", "over-2").await;
    assert_eq!(
        (answer.status, answer.retry_after),
        (429, Some(1)),
        "one second before the turn"
    );
    assert_eq!(rig.cognito_calls.count("AdminSetUserPassword"), 3);
    // The turn: a new window, a whole budget (three), then the limit again, for an hour.
    rig.clock.set_millis(next_hour * 1000);
    for n in 0..3 {
        let answer = reset(&rig, "helen", "bob", &format!("next-{n}")).await;
        assert_eq!(answer.status, 200, "reset {n} of the next hour");
    }
    let answer = reset(&rig, "helen", "bob", "next-over").await;
    assert_eq!(
        (answer.status, answer.retry_after),
        (429, Some(3_600)),
        "the next hour's budget is spent"
    );
    assert_eq!(rig.cognito_calls.count("AdminSetUserPassword"), 6);
    // Each window has its own counter, named by its hour.
    let items = support::dynamo::scan(&rig.dynamodb, &rig.table).await;
    let mut hours: Vec<String> = items
        .iter()
        .filter_map(|item| match &item["id"] {
            AttributeValue::S(id) if id.starts_with("rate#account#") => {
                id.rsplit('#').next().map(str::to_owned)
            }
            _ => None,
        })
        .collect();
    hours.sort();
    assert_eq!(
        hours,
        [(HOUR / 3_600).to_string(), (next_hour / 3_600).to_string()]
    );
}

#[tokio::test]
async fn counters_name_no_one() {
    let rig = rig(5, 20).await;
    assert_eq!(reset(&rig, "helen", "bob", "k").await.status, 200);
    let items = support::dynamo::scan(&rig.dynamodb, &rig.table).await;
    let counters: Vec<_> = items
        .iter()
        .filter(|item| matches!(&item["id"], AttributeValue::S(id) if id.starts_with("rate#")))
        .collect();
    assert_eq!(counters.len(), 2, "one per account, one per caller");
    for counter in counters {
        let text = format!("{counter:?}");
        assert!(!text.contains("bob") && !text.contains("helen"), "{text}");
        assert_eq!(counter["count"], AttributeValue::N("1".into()));
        let AttributeValue::N(expiration) = &counter["expiration"] else {
            panic!("expiration")
        };
        let expiration: u64 = expiration.parse().expect("seconds");
        // In epoch seconds, an hour after the window (this clock hour) ends.
        assert_eq!(expiration, HOUR + 2 * 3_600, "{text}");
        let AttributeValue::S(id) = &counter["id"] else {
            panic!("id")
        };
        assert!(id.ends_with(&format!("#{}", HOUR / 3_600)), "{id}");
    }
}
