//! A record as a DynamoDB item and back (the attribute table is in `mod.rs`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{COMPLETED, IN_PROGRESS, UNKNOWN};
use crate::idempotency::{Record, Status, StoreError, StoredResponse};

pub(super) fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn to_item(record: &Record) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("id".to_owned(), AttributeValue::S(record.id.clone())),
        (
            "status".to_owned(),
            AttributeValue::S(
                match record.status {
                    Status::InProgress => IN_PROGRESS,
                    Status::Completed => COMPLETED,
                    Status::Unknown => UNKNOWN,
                }
                .to_owned(),
            ),
        ),
        ("expiration".to_owned(), number(record.expiration)),
        (
            "in_progress_expiration".to_owned(),
            number(record.in_progress_expiration),
        ),
        (
            "fingerprint".to_owned(),
            AttributeValue::S(record.fingerprint.clone()),
        ),
        ("claim".to_owned(), AttributeValue::S(record.claim.clone())),
    ]);
    if let Some(attempted_at) = record.attempted_at {
        item.insert("attempted_at".into(), number(attempted_at));
    }
    if let Some(claimed_at) = record.claimed_at {
        item.insert("claimed_at".into(), number(claimed_at));
    }
    if let Some(response) = &record.response {
        item.insert("response_status".into(), number(u64::from(response.status)));
        item.insert(
            "response_body".into(),
            AttributeValue::S(response.body.clone()),
        );
        item.insert(
            "password_delivered".into(),
            AttributeValue::Bool(response.password_delivered),
        );
    }
    item
}

pub(super) fn from_item(item: &HashMap<String, AttributeValue>) -> Result<Record, StoreError> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError::Failed(format!(
            "idempotency item lacks the string {name}"
        ))),
    };
    let integer = |name: &str| match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse::<u64>()
            .map_err(|_| StoreError::Failed(format!("idempotency item has a bad {name}"))),
        _ => Err(StoreError::Failed(format!(
            "idempotency item lacks the number {name}"
        ))),
    };
    let status = match text("status")?.as_str() {
        IN_PROGRESS => Status::InProgress,
        COMPLETED => Status::Completed,
        UNKNOWN => Status::Unknown,
        _ => {
            return Err(StoreError::Failed(
                "idempotency item has an unknown status".into(),
            ));
        }
    };
    let response = match (item.get("response_status"), item.get("response_body")) {
        (Some(_), Some(_)) => Some(StoredResponse {
            status: u16::try_from(integer("response_status")?).map_err(|_| {
                StoreError::Failed("idempotency item has a bad response_status".into())
            })?,
            body: text("response_body")?,
            password_delivered: matches!(
                item.get("password_delivered"),
                Some(AttributeValue::Bool(true))
            ),
        }),
        _ => None,
    };
    Ok(Record {
        id: text("id")?,
        status,
        expiration: integer("expiration")?,
        // Written on every claim; a record without it (written by something else) never counts
        // as abandoned, exactly as the claim condition treats it.
        in_progress_expiration: integer("in_progress_expiration").unwrap_or(u64::MAX),
        fingerprint: text("fingerprint")?,
        response,
        // Records written before claim tokens existed hold none: nothing can own them, so
        // they are only ever replayed or expire.
        claim: text("claim").unwrap_or_default(),
        attempted_at: integer("attempted_at").ok(),
        claimed_at: integer("claimed_at").ok(),
    })
}
