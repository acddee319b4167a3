//! Where records live: the [`Store`] trait (puts-if-absent, gets, completes, deletes; no
//! policy), what its writes can find, and its errors.

use super::record::{Record, StoredResponse};
use crate::{BoxFuture, error::Error};

/// What a conditional write found.
#[derive(Debug)]
pub enum Put {
    /// The record was written (and the counters incremented): this invocation executes.
    Written,
    /// A live record exists; `Some` when the store returned it with the failed condition.
    Exists(Option<Record>),
    /// A rate-limit counter is at its limit; nothing was written.
    Limited {
        /// Seconds until the fullest counter's window ends.
        retry_after_secs: u64,
    },
    /// Another request is writing the same items right now; nothing was written.
    Busy,
}

/// One fixed-window counter, as the store increments it together with a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// `rate#` + the limit's key + `#` + the window's hour.
    pub id: String,
    /// The most the counter may reach.
    pub limit: u32,
    /// When the counter's item may be deleted (epoch seconds, TTL): an hour after its window.
    pub expiration: u64,
    /// Seconds until the window ends.
    pub retry_after_secs: u64,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, unavailable or timed out: worth retrying later.
    #[error("idempotency store unavailable: {0}")]
    Unavailable(String),
    /// Anything else (missing table, permissions, malformed item).
    #[error("idempotency store failed: {0}")]
    Failed(String),
    /// The record no longer holds this invocation's claim: another request took it over.
    #[error("the idempotency record was taken over by another request")]
    Lost,
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => Error::UpstreamUnavailable {
                retry_after_secs: 2,
            },
            StoreError::Failed(detail) => Error::internal(detail),
            StoreError::Lost => Error::RequestInProgress {
                retry_after_secs: 1,
            },
        }
    }
}

/// Where records live: four operations, no policy.
pub trait Store: Send + Sync {
    /// Writes `record` unless the one under its id is not [`Liveness::Dead`]
    /// ([`Record::liveness`] for `record.fingerprint` at `now_secs` / `now_millis`), and
    /// increments every counter unless one is at its limit. All or nothing, atomically.
    ///
    /// [`Liveness::Dead`]: super::Liveness::Dead
    /// [`Record::liveness`]: super::Record::liveness
    fn put_if_absent<'a>(
        &'a self,
        record: &'a Record,
        counters: &'a [Counter],
        now_secs: u64,
        now_millis: u64,
    ) -> BoxFuture<'a, Result<Put, StoreError>>;
    /// Reads a record with a strongly consistent read.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>>;
    /// Marks the record completed with `response` and a new `expiration`, if it still holds
    /// `claim` ([`StoreError::Lost`] otherwise).
    fn complete<'a>(
        &'a self,
        id: &'a str,
        claim: &'a str,
        response: &'a StoredResponse,
        expiration: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Deletes the record, if it still holds `claim`.
    fn delete<'a>(&'a self, id: &'a str, claim: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Marks the record unknown, attempted at `attempted_at` (epoch ms), if it still holds
    /// `claim`.
    fn mark_unknown<'a>(
        &'a self,
        id: &'a str,
        claim: &'a str,
        attempted_at: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Replaces a record that is unknown or in progress and still holds `previous` with
    /// `record` (in progress, a new claim): [`Put::Written`], or [`Put::Busy`] when
    /// another retry took it first or its owner completed it meanwhile.
    fn take_over<'a>(
        &'a self,
        record: &'a Record,
        previous: &'a str,
    ) -> BoxFuture<'a, Result<Put, StoreError>>;
    /// Increments one counter unless it is at its limit: [`Put::Written`] or
    /// [`Put::Limited`].
    fn count<'a>(&'a self, counter: &'a Counter) -> BoxFuture<'a, Result<Put, StoreError>>;
}
