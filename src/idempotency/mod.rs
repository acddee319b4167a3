//! Idempotency: every reset happens at most once per (caller, key) within the record's lifetime.
//!
//! A key arrives in the `Idempotency-Key` header or the body's `clientToken` (the AWS APIs'
//! name for the same thing). It is as sensitive as a session identifier while its record lives
//! (it replays a result), so it is held in a redacting type and only its keyed hash
//! ([`IdempotencyKey::reference`]) is ever stored or logged.
//!
//! By job: `key.rs` (keys, record ids, fingerprints), `record.rs` (the record and the one
//! liveness rule), `machine.rs` (the state machine, [`Idempotency`]), `store.rs` (the
//! [`Store`] trait: puts-if-absent, gets, completes, deletes; no policy), `dynamodb.rs` (the
//! store shipped), `memory.rs` (the tests' store), `ratelimit.rs` (limits counted with a
//! claim). The decisions, and why, are in
//! `docs/IDEMPOTENCY.md`:
//!
//! | stored record | same request | different request |
//! |---|---|---|
//! | none, expired, or in progress past its deadline | claim it and execute | claim it and execute |
//! | in progress | 409 `REQUEST_IN_PROGRESS`, `Retry-After` | 422 `IDEMPOTENCY_KEY_REUSED` |
//! | completed | replay, no back-end call | 422 `IDEMPOTENCY_KEY_REUSED` |
//! | unknown (the reset call went unanswered) | take it over and reconcile | 422 `IDEMPOTENCY_KEY_REUSED` |
//!
//! Each claim writes a random claim token; completing, releasing or marking a record unknown
//! is conditional on it, so a late invocation never overwrites a record that another request
//! took over after its deadline.

mod dynamodb;
mod key;
mod machine;
#[cfg(any(test, feature = "test-util"))]
mod memory;
mod ratelimit;
mod record;
mod store;

pub use dynamodb::DynamoStore;
pub use key::{IdempotencyKey, MAX_KEY_LEN, fingerprint, record_id};
pub use machine::{Begin, Idempotency, Reservation};
#[cfg(any(test, feature = "test-util"))]
pub use memory::MemoryStore;
pub use ratelimit::{Limit, RateLimits, account_limit, rate_limits};
pub use record::{Liveness, Record, Status, StoredResponse};
pub use store::{Counter, Put, Store, StoreError};
