//! The SDK floor: exactly the AWS calls resetgate makes for a fresh self-service `generate`
//! reset on a Cognito target with its default rate limits, and nothing else: no API Gateway
//! event, no policy, no validation, no keyed hashes, no audit line, no logging. The least any
//! implementation of that reset could cost, for `make bench` to compare resetgate with.
//!
//! Per invocation (copied from `src/idempotency/dynamodb.rs` and `src/reset/cognito.rs`):
//!
//! 1. `TransactWriteItems`: the conditional `Put` of an `INPROGRESS` record and one conditional
//!    `Update` per rate-limit counter (per account, per caller);
//! 2. Cognito `AdminGetUser`, then `AdminSetUserPassword` with `Permanent=false` and a fixed
//!    strong password;
//! 3. the completing `UpdateItem`.
//!
//! The event is `{"username": "...", "caller": "..."}` (the account to reset and the caller's
//! `sub`, different for every invocation so every counter stays under its limit); the record id
//! comes from the Lambda request id, so every reset is a fresh one. Settings from the
//! environment: `BENCH_TABLE` (the idempotency table) and `BENCH_USER_POOL_ID`, plus the usual
//! `AWS_*` (region, credentials, `AWS_ENDPOINT_URL`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, timeout::TimeoutConfig};
use aws_sdk_dynamodb::{
    error::DisplayErrorContext,
    types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update},
};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// resetgate's claim condition (`src/idempotency/dynamodb.rs`).
const CLAIM_CONDITION: &str = "attribute_not_exists(#id) OR #expiry < :now OR \
     (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_ms)";
/// resetgate's rate-limit counter condition.
const COUNTER_CONDITION: &str = "attribute_not_exists(#count) OR #count < :limit";

/// resetgate's defaults: 5 resets of one account and 20 by one caller per clock hour.
const PER_ACCOUNT_PER_HOUR: u64 = 5;
const PER_CALLER_PER_HOUR: u64 = 20;
/// resetgate's default record lifetime (`idempotency.ttlSeconds`).
const TTL_SECS: u64 = 600;
/// Meets Cognito's default policy; 20 characters, like resetgate's generated passwords.
const PASSWORD: &str = "Fl00r-Bench-Pa55word!";
/// Stands in for the keyed request fingerprint (64 hex digits in resetgate).
const FINGERPRINT: &str = "0000000000000000000000000000000000000000000000000000000000000000";

struct Floor {
    dynamodb: aws_sdk_dynamodb::Client,
    cognito: aws_sdk_cognitoidentityprovider::Client,
    table: String,
    user_pool_id: String,
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn failed(operation: &str, error: impl std::error::Error) -> Error {
    format!("{operation}: {}", DisplayErrorContext(&error)).into()
}

impl Floor {
    async fn reset(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        let (payload, context) = event.into_parts();
        let username = payload["username"].as_str().ok_or("event lacks username")?;
        let caller = payload["caller"].as_str().ok_or("event lacks caller")?;

        let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
        let (now_secs, now_ms) = (now.as_secs(), now.as_millis() as u64);
        let in_progress_expiration = if context.deadline > now_ms {
            context.deadline
        } else {
            now_ms + 30_000
        };
        let id = format!("idem#{}", context.request_id);

        // 1. The claim and both counters, all or nothing.
        let claim = Put::builder()
            .table_name(&self.table)
            .item("id", AttributeValue::S(id.clone()))
            .item("status", AttributeValue::S("INPROGRESS".into()))
            .item("expiration", number(now_secs + TTL_SECS))
            .item("in_progress_expiration", number(in_progress_expiration))
            .item("fingerprint", AttributeValue::S(FINGERPRINT.into()))
            .condition_expression(CLAIM_CONDITION)
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#expiry", "expiration")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#in_progress_expiry", "in_progress_expiration")
            .expression_attribute_values(":now", number(now_secs))
            .expression_attribute_values(":now_ms", number(now_ms))
            .expression_attribute_values(":inprogress", AttributeValue::S("INPROGRESS".into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()?;
        let hour = now_secs / 3600;
        let window_end = (hour + 1) * 3600;
        let mut items = vec![TransactWriteItem::builder().put(claim).build()];
        for (key, limit) in [
            (format!("account#{username}"), PER_ACCOUNT_PER_HOUR),
            (format!("caller#{caller}"), PER_CALLER_PER_HOUR),
        ] {
            let update = Update::builder()
                .table_name(&self.table)
                .key("id", AttributeValue::S(format!("rate#{key}#{hour}")))
                .update_expression("ADD #count :one SET #expiry = :expiry")
                .condition_expression(COUNTER_CONDITION)
                .expression_attribute_names("#count", "count")
                .expression_attribute_names("#expiry", "expiration")
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":limit", number(limit))
                .expression_attribute_values(":expiry", number(window_end + 3600))
                .build()?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        self.dynamodb
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(|e| failed("TransactWriteItems", e))?;

        // 2. The reset.
        let user = self
            .cognito
            .admin_get_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| failed("AdminGetUser", e))?;
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.user_pool_id)
            .username(user.username())
            .password(PASSWORD)
            .permanent(false)
            .send()
            .await
            .map_err(|e| failed("AdminSetUserPassword", e))?;

        // 3. The completed record, with a replay body of resetgate's shape.
        let body = format!(
            r#"{{"target":"app-users","username":"{username}","mode":"generate","mustChangeAtNextSignIn":true,"passwordDelivered":"earlier"}}"#
        );
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id))
            .update_expression(
                "SET #status = :completed, #expiry = :expiry, response_status = :rs, response_body = :rb, \
                 password_delivered = :pd",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#expiry", "expiration")
            .expression_attribute_values(":completed", AttributeValue::S("COMPLETED".into()))
            .expression_attribute_values(":expiry", number(now_secs + TTL_SECS))
            .expression_attribute_values(":rs", number(200))
            .expression_attribute_values(":rb", AttributeValue::S(body))
            .expression_attribute_values(":pd", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| failed("UpdateItem", e))?;

        Ok(json!({ "ok": true }))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let table = std::env::var("BENCH_TABLE").map_err(|_| "BENCH_TABLE must be set")?;
    let user_pool_id =
        std::env::var("BENCH_USER_POOL_ID").map_err(|_| "BENCH_USER_POOL_ID must be set")?;
    // resetgate's SDK configuration (src/main.rs), built once at init.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(4))
        .operation_timeout(Duration::from_secs(10))
        .build();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await;
    let floor = Floor {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        table,
        user_pool_id,
    };
    let floor = &floor;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        floor.reset(event)
    }))
    .await
}
