//! Idempotency records in DynamoDB: one item per record, the claim one conditional `PutItem`.
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `id` | S | partition key: `idem#` + keyed hash of (caller, key) |
//! | `status` | S | `INPROGRESS` or `COMPLETED` ("expired" is computed, never stored) |
//! | `expiration` | N | epoch **seconds**; the table's TTL attribute |
//! | `in_progress_expiration` | N | epoch **milliseconds**: the invocation's deadline |
//! | `fingerprint` | S | keyed hash of the canonical request |
//! | `response_status`, `response_body`, `password_delivered` | N, S, BOOL | the replayable response (no secret) |
//! | `claim` | S | the claim token of the invocation holding the record (random); completing, releasing and marking unknown are conditional on it |
//! | `attempted_at` | N | status `UNKNOWN`: when the unanswered reset call was sent (epoch ms) |
//! | `claimed_at` | N | when the claim was made (epoch ms): reconciling an abandoned claim starts there |
//!
//! Rate-limit counters share the table: `id` = `rate#account#<keyed hash>#<hour>` or
//! `rate#caller#<keyed hash>#<hour>`, a number `count`, and `expiration` (TTL) an hour after
//! the window. With counters, the claim and the increments are one `TransactWriteItems`.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::transact_write_items::TransactWriteItemsError,
    types::{
        AttributeValue, Put as TransactPut, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
        Update,
    },
};

mod item;

use item::{from_item, number, to_item};

use super::{Counter, Put, Record, Store, StoreError, StoredResponse};
use crate::{BoxFuture, aws::is_transient};

/// The claim's condition: [`Record::liveness`] is `Dead` (no record, an expired one, or one
/// abandoned in progress past its deadline by another request), as Powertools for AWS Lambda
/// writes it. The same request finds its abandoned record and takes it over to reconcile
/// (`Idempotency::begin`): its reset call may have been sent. `tests/liveness.rs` checks this
/// expression against the rule, case by case, on both DynamoDB engines.
const CLAIM_CONDITION: &str = "attribute_not_exists(#id) OR #expiry < :now OR \
     (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_ms \
      AND #fingerprint <> :fingerprint)";

/// A rate-limit counter below its limit (or not yet counting).
const COUNTER_CONDITION: &str = "attribute_not_exists(#count) OR #count < :limit";

/// One more in a rate-limit counter, and its TTL.
const COUNTER_UPDATE: &str = "ADD #count :one SET #expiry = :expiry";

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";
const UNKNOWN: &str = "UNKNOWN";

/// The record still holds this invocation's claim.
const OWNED: &str = "#claim = :claim";

/// Records in one DynamoDB table (partition key `id`, string; TTL on `expiration`).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store in `table`, sharing `client`.
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    async fn claim(
        &self,
        record: &Record,
        now_secs: u64,
        now_millis: u64,
    ) -> Result<Put, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_names(Some(claim_names()))
            .set_expression_attribute_values(Some(claim_values(record, now_secs, now_millis)))
            // One round trip for a replay: the old item comes back with the failed condition
            // (DynamoDB since 2023; some local engines ignore it, hence Put::Exists(None)).
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Put::Written),
            Err(SdkError::ServiceError(context))
                if context.err().is_conditional_check_failed_exception() =>
            {
                let old = match context.err() {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => {
                        e.item().filter(|item| !item.is_empty()).map(from_item).transpose()?
                    }
                    _ => None,
                };
                Ok(Put::Exists(old))
            }
            Err(error) => Err(store_error("PutItem", error)),
        }
    }

    /// The claim and the rate-limit counters in one `TransactWriteItems`: one round trip, and
    /// all or nothing (a replay or a refused claim consumes no budget).
    async fn claim_counted(
        &self,
        record: &Record,
        counters: &[Counter],
        now_secs: u64,
        now_millis: u64,
    ) -> Result<Put, StoreError> {
        let malformed = |e: aws_sdk_dynamodb::error::BuildError| {
            StoreError::Failed(format!("transaction item: {e}"))
        };
        let claim = TransactPut::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_names(Some(claim_names()))
            .set_expression_attribute_values(Some(claim_values(record, now_secs, now_millis)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(malformed)?;
        let mut items = vec![TransactWriteItem::builder().put(claim).build()];
        for counter in counters {
            let update = Update::builder()
                .table_name(&self.table)
                .key("id", AttributeValue::S(counter.id.clone()))
                .update_expression(COUNTER_UPDATE)
                .condition_expression(COUNTER_CONDITION)
                .set_expression_attribute_names(Some(counter_names()))
                .set_expression_attribute_values(Some(counter_values(counter)))
                .build()
                .map_err(malformed)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Put::Written),
            Err(error) => error,
        };
        let reasons = match &error {
            SdkError::ServiceError(context) => match context.err() {
                TransactWriteItemsError::TransactionCanceledException(e) => {
                    e.cancellation_reasons().to_vec()
                }
                _ => return Err(store_error("TransactWriteItems", error)),
            },
            _ => return Err(store_error("TransactWriteItems", error)),
        };
        // One reason per item, in order: the claim first, then the counters.
        let code = |index: usize| reasons.get(index).and_then(|r| r.code()).unwrap_or("None");
        if code(0) == "ConditionalCheckFailed" {
            let old = reasons[0]
                .item()
                .filter(|item| !item.is_empty())
                .map(from_item)
                .transpose()?;
            return Ok(Put::Exists(old));
        }
        let full: Vec<&Counter> = counters
            .iter()
            .enumerate()
            .filter(|(i, _)| code(i + 1) == "ConditionalCheckFailed")
            .map(|(_, c)| c)
            .collect();
        if let Some(retry_after_secs) = full.iter().map(|c| c.retry_after_secs).max() {
            return Ok(Put::Limited { retry_after_secs });
        }
        if (0..=counters.len()).any(|i| code(i) == "TransactionConflict") {
            return Ok(Put::Busy);
        }
        Err(StoreError::Unavailable(format!(
            "DynamoDB TransactWriteItems cancelled: {}",
            (0..=counters.len())
                .map(code)
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    async fn read(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        output.item().map(from_item).transpose()
    }

    async fn mark_completed(
        &self,
        id: &str,
        claim: &str,
        response: &StoredResponse,
        expiration: u64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .update_expression(
                "SET #status = :completed, #expiry = :expiry, response_status = :rs, response_body = :rb, \
                 password_delivered = :pd",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#expiry", "expiration")
            .expression_attribute_values(":completed", AttributeValue::S(COMPLETED.into()))
            .expression_attribute_values(":expiry", number(expiration))
            .expression_attribute_values(":rs", number(u64::from(response.status)))
            .expression_attribute_values(":rb", AttributeValue::S(response.body.clone()))
            .expression_attribute_values(":pd", AttributeValue::Bool(response.password_delivered))
            .condition_expression(OWNED)
            .expression_attribute_names("#claim", "claim")
            .expression_attribute_values(":claim", AttributeValue::S(claim.to_owned()))
            .send()
            .await;
        if written("UpdateItem", result)? {
            Ok(())
        } else {
            Err(StoreError::Lost)
        }
    }

    async fn mark_unknown_owned(
        &self,
        id: &str,
        claim: &str,
        attempted_at: u64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .update_expression("SET #status = :unknown, attempted_at = :at")
            .condition_expression(OWNED)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#claim", "claim")
            .expression_attribute_values(":unknown", AttributeValue::S(UNKNOWN.into()))
            .expression_attribute_values(":at", number(attempted_at))
            .expression_attribute_values(":claim", AttributeValue::S(claim.to_owned()))
            .send()
            .await;
        if written("UpdateItem", result)? {
            Ok(())
        } else {
            Err(StoreError::Lost)
        }
    }

    /// An unknown or abandoned record, still holding `previous`, replaced by `record` (one
    /// conditional `PutItem`): of two retries racing for it one wins, and a record its owner
    /// completed meanwhile is left alone.
    async fn replace_unknown(&self, record: &Record, previous: &str) -> Result<Put, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("#status IN (:unknown, :inprogress) AND #claim = :previous")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#claim", "claim")
            .expression_attribute_values(":unknown", AttributeValue::S(UNKNOWN.into()))
            .expression_attribute_values(":inprogress", AttributeValue::S(IN_PROGRESS.into()))
            .expression_attribute_values(":previous", AttributeValue::S(previous.to_owned()))
            .send()
            .await;
        Ok(if written("PutItem", result)? {
            Put::Written
        } else {
            Put::Busy
        })
    }

    /// One counter, alone: one conditional `UpdateItem`.
    async fn increment(&self, counter: &Counter) -> Result<Put, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(counter.id.clone()))
            .update_expression(COUNTER_UPDATE)
            .condition_expression(COUNTER_CONDITION)
            .set_expression_attribute_names(Some(counter_names()))
            .set_expression_attribute_values(Some(counter_values(counter)))
            .send()
            .await;
        Ok(if written("UpdateItem", result)? {
            Put::Written
        } else {
            Put::Limited {
                retry_after_secs: counter.retry_after_secs,
            }
        })
    }

    async fn remove(&self, id: &str, claim: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .condition_expression(OWNED)
            .expression_attribute_names("#claim", "claim")
            .expression_attribute_values(":claim", AttributeValue::S(claim.to_owned()))
            .send()
            .await;
        if written("DeleteItem", result)? {
            Ok(())
        } else {
            Err(StoreError::Lost)
        }
    }
}

impl Store for DynamoStore {
    fn put_if_absent<'a>(
        &'a self,
        record: &'a Record,
        counters: &'a [Counter],
        now_secs: u64,
        now_millis: u64,
    ) -> BoxFuture<'a, Result<Put, StoreError>> {
        if counters.is_empty() {
            Box::pin(self.claim(record, now_secs, now_millis))
        } else {
            Box::pin(self.claim_counted(record, counters, now_secs, now_millis))
        }
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(self.read(id))
    }

    fn complete<'a>(
        &'a self,
        id: &'a str,
        claim: &'a str,
        response: &'a StoredResponse,
        expiration: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.mark_completed(id, claim, response, expiration))
    }

    fn delete<'a>(&'a self, id: &'a str, claim: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.remove(id, claim))
    }

    fn mark_unknown<'a>(
        &'a self,
        id: &'a str,
        claim: &'a str,
        attempted_at: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.mark_unknown_owned(id, claim, attempted_at))
    }

    fn take_over<'a>(
        &'a self,
        record: &'a Record,
        previous: &'a str,
    ) -> BoxFuture<'a, Result<Put, StoreError>> {
        Box::pin(self.replace_unknown(record, previous))
    }

    fn count<'a>(&'a self, counter: &'a Counter) -> BoxFuture<'a, Result<Put, StoreError>> {
        Box::pin(self.increment(counter))
    }
}

/// The names in [`CLAIM_CONDITION`].
fn claim_names() -> HashMap<String, String> {
    [
        ("#id", "id"),
        ("#expiry", "expiration"),
        ("#status", "status"),
        ("#in_progress_expiry", "in_progress_expiration"),
        ("#fingerprint", "fingerprint"),
    ]
    .into_iter()
    .map(|(placeholder, name)| (placeholder.to_owned(), name.to_owned()))
    .collect()
}

/// The values in [`CLAIM_CONDITION`]: now, in seconds and in milliseconds.
fn claim_values(
    record: &Record,
    now_secs: u64,
    now_millis: u64,
) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            ":fingerprint".to_owned(),
            AttributeValue::S(record.fingerprint.clone()),
        ),
        (":now".to_owned(), number(now_secs)),
        (":now_ms".to_owned(), number(now_millis)),
        (
            ":inprogress".to_owned(),
            AttributeValue::S(IN_PROGRESS.into()),
        ),
    ])
}

/// The names in [`COUNTER_UPDATE`] and [`COUNTER_CONDITION`].
fn counter_names() -> HashMap<String, String> {
    HashMap::from([
        ("#count".to_owned(), "count".to_owned()),
        ("#expiry".to_owned(), "expiration".to_owned()),
    ])
}

/// The values in [`COUNTER_UPDATE`] and [`COUNTER_CONDITION`] for `counter`.
fn counter_values(counter: &Counter) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (":one".to_owned(), number(1)),
        (":limit".to_owned(), number(u64::from(counter.limit))),
        (":expiry".to_owned(), number(counter.expiration)),
    ])
}

/// Whether a conditional write was made (`true`) or its condition failed (`false`); any other
/// failure is a [`StoreError`].
fn written<T, E, R>(operation: &str, result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ConditionFailed + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(context)) if context.err().condition_failed() => Ok(false),
        Err(error) => Err(store_error(operation, error)),
    }
}

/// The `ConditionalCheckFailedException` of each conditional write operation.
trait ConditionFailed {
    fn condition_failed(&self) -> bool;
}

macro_rules! condition_failed {
    ($($error:ty),*) => {$(
        impl ConditionFailed for $error {
            fn condition_failed(&self) -> bool {
                self.is_conditional_check_failed_exception()
            }
        }
    )*};
}

condition_failed!(
    aws_sdk_dynamodb::operation::put_item::PutItemError,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError
);

/// Throttling, server errors and transport failures are worth a retry (503); the rest (a
/// missing table, permissions, validation) is the deployment's fault (500).
fn store_error<E, R>(operation: &str, error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let detail = format!("DynamoDB {operation}: {}", DisplayErrorContext(&error));
    let transient = is_transient(&error);
    if transient {
        StoreError::Unavailable(detail)
    } else {
        StoreError::Failed(detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::Status;

    #[test]
    fn items_round_trip_with_their_units() {
        let record = Record {
            id: "idem#abc".into(),
            status: Status::Completed,
            expiration: 1_750_000_600,
            in_progress_expiration: 1_750_000_029_123,
            fingerprint: "f".repeat(64),
            response: Some(StoredResponse {
                status: 200,
                body: "{}".into(),
                password_delivered: true,
            }),
            claim: "0".repeat(32),
            attempted_at: Some(1_750_000_001_000),
            claimed_at: Some(1_750_000_000_500),
        };
        let item = to_item(&record);
        assert_eq!(item["expiration"], AttributeValue::N("1750000600".into()));
        assert_eq!(
            item["in_progress_expiration"],
            AttributeValue::N("1750000029123".into())
        );
        assert_eq!(from_item(&item).expect("valid"), record);
        let mut broken = item.clone();
        broken.insert("status".into(), AttributeValue::S("EXPIRED".into()));
        assert!(from_item(&broken).is_err());
    }
}
