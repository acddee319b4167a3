//! Idempotency: every reset happens at most once per (caller, key) within the record's lifetime.
//!
//! A key arrives in the `Idempotency-Key` header or the body's `clientToken` (the AWS APIs'
//! name for the same thing). It is as sensitive as a session identifier while its record lives
//! (it replays a result), so it is held in a redacting type and only its keyed hash
//! ([`IdempotencyKey::reference`]) is ever stored or logged.
//!
//! The policy lives here, in one place ([`Idempotency`]): record ids, request fingerprints,
//! expiry, and the state machine. A [`Store`] only puts-if-absent, gets, completes and deletes
//! ([`dynamodb::DynamoStore`] is the one shipped). The decisions, and why, are in
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

pub use dynamodb::DynamoStore;

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use secrecy::{ExposeSecret, SecretString};

use crate::{
    error::Error,
    keys::Keyring,
    reset::{BoxFuture, Mode},
};

/// Longest accepted key (the AWS APIs' `clientToken` limit).
pub const MAX_KEY_LEN: usize = 128;

/// A validated idempotency key. `Debug` shows nothing of it.
pub struct IdempotencyKey(SecretString);

impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdempotencyKey([REDACTED])")
    }
}

impl IdempotencyKey {
    /// The key of a request, from the header values (all of them: a repeated header is an
    /// error) and the body's `clientToken`. One of the two is required; both must agree.
    pub fn from_request<'a>(
        header_values: impl IntoIterator<Item = &'a [u8]>,
        client_token: Option<&SecretString>,
    ) -> Result<Self, Error> {
        let mut headers = header_values.into_iter();
        let header = headers.next();
        if headers.next().is_some() {
            return Err(Error::IdempotencyKeyInvalid(
                "Send exactly one Idempotency-Key header.",
            ));
        }
        let header = header.map(validate).transpose()?;
        let body = client_token
            .map(|token| validate(token.expose_secret().as_bytes()))
            .transpose()?;
        let key = match (header, body) {
            (Some(header), Some(body)) if header != body => {
                return Err(Error::IdempotencyKeyInvalid(
                    "The Idempotency-Key header and the body's clientToken differ.",
                ));
            }
            (Some(key), _) | (None, Some(key)) => key,
            (None, None) => {
                return Err(Error::IdempotencyKeyInvalid(
                    "An Idempotency-Key header (or a clientToken in the body) is required.",
                ));
            }
        };
        Ok(Self(SecretString::from(key)))
    }

    /// The keyed hash of (caller, key): the record id in the store and the audit
    /// `idempotencyKeyRef`. Two callers sending the same key get different references.
    pub fn reference(&self, keyring: &Keyring, caller_sub: &str) -> String {
        keyring.digest_hex(
            "idempotency-key",
            &[caller_sub.as_bytes(), self.0.expose_secret().as_bytes()],
        )
    }
}

/// 1-128 visible ASCII characters (0x21-0x7E) without a comma: HTTP API joins repeated
/// headers with commas, so a comma would make a duplicated header look like one key.
fn validate(raw: &[u8]) -> Result<&str, Error> {
    if raw.is_empty() {
        return Err(Error::IdempotencyKeyInvalid(
            "The idempotency key is empty.",
        ));
    }
    if raw.len() > MAX_KEY_LEN {
        return Err(Error::IdempotencyKeyInvalid(
            "The idempotency key is longer than 128 characters.",
        ));
    }
    if raw.contains(&b',') {
        return Err(Error::IdempotencyKeyInvalid(
            "The idempotency key contains a comma (or the header was sent twice).",
        ));
    }
    if !raw.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(Error::IdempotencyKeyInvalid(
            "The idempotency key must be visible ASCII characters without spaces.",
        ));
    }
    std::str::from_utf8(raw)
        .map_err(|_| Error::IdempotencyKeyInvalid("The idempotency key is not ASCII."))
}

/// Whether a record is being executed or holds a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Claimed; the back-end call may be under way.
    InProgress,
    /// Finished; the record holds the response to replay.
    Completed,
    /// The reset call was sent and went unanswered: it may have taken effect. A retry with
    /// the same key takes the record over and reconciles before calling again.
    Unknown,
}

/// The replayable part of a response: never a password (a generated password is delivered
/// once; a replay says `"passwordDelivered": "earlier"` instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status of the original answer.
    pub status: u16,
    /// The original JSON body without its secret members.
    pub body: String,
    /// Whether the original body delivered a password.
    pub password_delivered: bool,
}

/// One idempotency record, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `idem#` and the keyed hash of (caller, key).
    pub id: String,
    /// In progress or completed.
    pub status: Status,
    /// When the record stops counting, in epoch **seconds** (also the table's TTL attribute;
    /// TTL deletes late, so expiry is decided here, never by TTL).
    pub expiration: u64,
    /// When an in-progress claim is abandoned, in epoch **milliseconds**: the invocation's
    /// deadline, always written.
    pub in_progress_expiration: u64,
    /// Keyed hash of the canonical request.
    pub fingerprint: String,
    /// The response, once completed.
    pub response: Option<StoredResponse>,
    /// The claim token of the invocation that holds the record (random, 128 bits).
    pub claim: String,
    /// When the unanswered reset call was sent, in epoch milliseconds (status unknown).
    pub attempted_at: Option<u64>,
    /// When this claim was made, in epoch milliseconds: no reset call of it is older.
    pub claimed_at: Option<u64>,
}

/// What a conditional claim found.
#[derive(Debug)]
pub enum Claim {
    /// The record was written (and the counters incremented): this invocation executes.
    Claimed,
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

/// A rate limit a claim must fit in: at most `per_hour` claims per clock hour under `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// A keyed hash naming what is counted (an account, a caller), never the name itself.
    pub key: String,
    /// Claims allowed per clock hour; 0 is no limit.
    pub per_hour: u32,
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
    /// Writes `record` unless a live one exists under its id: absent, expired
    /// (`expiration < now_secs`) or in progress past its deadline (`in_progress_expiration <
    /// now_millis`) counts as not live; and increments every counter unless one is at its
    /// limit. All or nothing, atomically.
    fn put_if_absent<'a>(
        &'a self,
        record: &'a Record,
        counters: &'a [Counter],
        now_secs: u64,
        now_millis: u64,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;
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
    /// `record` (in progress, a new claim): [`Claim::Claimed`], or [`Claim::Busy`] when
    /// another retry took it first or its owner completed it meanwhile.
    fn take_over<'a>(
        &'a self,
        record: &'a Record,
        previous: &'a str,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;
    /// Increments one counter unless it is at its limit: [`Claim::Claimed`] or
    /// [`Claim::Limited`].
    fn count<'a>(&'a self, counter: &'a Counter) -> BoxFuture<'a, Result<Claim, StoreError>>;
}

/// The time, injectable so expiry can be tested without sleeping.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

fn epoch_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// When an invocation's deadline is unknown or already past (a test context, a clock skew),
/// an in-progress claim still gets a deadline: never "no deadline", which would block the key
/// for the record's whole lifetime after a crash.
const FALLBACK_IN_PROGRESS: Duration = Duration::from_secs(30);

/// What to do with a request after consulting its record.
#[derive(Debug)]
pub enum Begin {
    /// Execute it; then [`Idempotency::complete`] or [`Idempotency::abandon`] the claim.
    Execute(Claimed),
    /// Answer with the stored response, without calling the back-end.
    Replay(StoredResponse),
    /// An earlier attempt's reset call went unanswered at `attempted_at` (epoch ms): check
    /// the back-end first, then complete, or execute again. Spends no rate-limit budget.
    Reconcile {
        /// The record, now held by this invocation.
        claim: Claimed,
        /// When the unanswered call was sent.
        attempted_at: u64,
    },
}

/// A claim this invocation holds: the record's id and the claim token it wrote.
#[derive(Debug)]
pub struct Claimed {
    id: String,
    token: String,
}

/// A fresh claim token: 128 random bits, in hex.
fn claim_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The idempotency policy: ids, fingerprints, expiry and the state machine.
pub struct Idempotency {
    store: Box<dyn Store>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl Idempotency {
    /// A policy over `store` remembering requests for `ttl`.
    pub fn new(store: Box<dyn Store>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { store, ttl, clock }
    }

    /// Claims the record `id` for a request with `fingerprint`, within `limits`, or says why
    /// not. `deadline_ms` is the invocation's deadline (epoch milliseconds; 0 when unknown). A
    /// replay, or a request already in progress, consumes no rate-limit budget.
    pub async fn begin(
        &self,
        id: &str,
        fingerprint: &str,
        deadline_ms: u64,
        limits: &[Limit],
    ) -> Result<Begin, Error> {
        // One retry: a record seen expired (or abandoned) after the failed condition can be
        // claimed now; a second conflict is answered as in progress.
        for _ in 0..2 {
            let now = self.clock.now();
            let (now_secs, now_ms) = (epoch_millis(now) / 1000, epoch_millis(now));
            let fallback = epoch_millis(now + FALLBACK_IN_PROGRESS);
            let token = claim_token();
            let record = Record {
                id: id.to_owned(),
                status: Status::InProgress,
                expiration: now_secs + self.ttl.as_secs(),
                in_progress_expiration: if deadline_ms > now_ms {
                    deadline_ms
                } else {
                    fallback
                },
                fingerprint: fingerprint.to_owned(),
                response: None,
                claim: token.clone(),
                attempted_at: None,
                claimed_at: Some(now_ms),
            };
            let counters = counters(limits, now_secs);
            let claim = self
                .store
                .put_if_absent(&record, &counters, now_secs, now_ms)
                .await?;
            let existing = match claim {
                Claim::Claimed => {
                    return Ok(Begin::Execute(Claimed {
                        id: id.to_owned(),
                        token,
                    }));
                }
                Claim::Limited { retry_after_secs } => {
                    return Err(Error::RateLimited { retry_after_secs });
                }
                Claim::Busy => {
                    return Err(Error::RequestInProgress {
                        retry_after_secs: 1,
                    });
                }
                Claim::Exists(Some(existing)) => existing,
                // The store did not return the old item: read it, consistently.
                Claim::Exists(None) => match self.store.get(id).await? {
                    Some(existing) => existing,
                    None => continue,
                },
            };
            // In progress counts until its deadline; completed and unknown records until they
            // expire (an unknown one waits for its retry well past the first request's end).
            let live = existing.expiration >= now_secs
                && (existing.status != Status::InProgress
                    || existing.in_progress_expiration >= now_ms);
            // An in-progress record past its deadline was abandoned: the invocation died or
            // could not record its end, perhaps after its reset call. The same request takes it
            // over and reconciles from the time of that claim, as after an unknown outcome;
            // another request claims the key afresh.
            let abandoned = !live
                && existing.status == Status::InProgress
                && existing.expiration >= now_secs
                && existing.fingerprint == fingerprint;
            if !live && !abandoned {
                continue;
            }
            if existing.fingerprint != fingerprint {
                return Err(Error::IdempotencyKeyReused);
            }
            if existing.status == Status::Unknown || abandoned {
                // Take the record over: the same expiry, a new claim, in progress again. Counters
                // are not touched (a retry spends no budget).
                let taken = Record {
                    status: Status::InProgress,
                    expiration: existing.expiration,
                    ..record
                };
                return match self.store.take_over(&taken, &existing.claim).await? {
                    Claim::Claimed => Ok(Begin::Reconcile {
                        claim: Claimed {
                            id: id.to_owned(),
                            token,
                        },
                        // No attempt time (a record written otherwise): nothing can be shown to
                        // have happened after it, so the request runs again.
                        attempted_at: existing
                            .attempted_at
                            .or(existing.claimed_at)
                            .unwrap_or(u64::MAX),
                    }),
                    _ => Err(Error::RequestInProgress {
                        retry_after_secs: 1,
                    }),
                };
            }
            return match (existing.status, existing.response) {
                (Status::Completed, Some(response)) => Ok(Begin::Replay(response)),
                _ => Err(Error::RequestInProgress {
                    retry_after_secs: existing
                        .in_progress_expiration
                        .saturating_sub(now_ms)
                        .div_ceil(1000)
                        .clamp(1, 30),
                }),
            };
        }
        Err(Error::RequestInProgress {
            retry_after_secs: 1,
        })
    }

    /// Records the response of an executed request. A failure here comes after the reset
    /// happened, so it is logged and the caller still gets the result: the claim then expires
    /// at its in-progress deadline (see `docs/IDEMPOTENCY.md`).
    pub async fn complete(&self, claim: Claimed, response: &StoredResponse) {
        let expiration = epoch_millis(self.clock.now()) / 1000 + self.ttl.as_secs();
        match self
            .store
            .complete(&claim.id, &claim.token, response, expiration)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Lost) => tracing::warn!(
                "a completed reset's record was taken over after its deadline; the newer record stays"
            ),
            Err(error) => {
                tracing::error!(%error, "could not record a completed reset; its claim expires at the invocation deadline")
            }
        }
    }

    /// Keeps the record of a request whose reset call went unanswered, marked unknown with the
    /// time of the attempt, so that a retry reconciles instead of calling again blindly.
    pub async fn mark_unknown(&self, claim: Claimed, attempted_at: u64) {
        if let Err(error) = self
            .store
            .mark_unknown(&claim.id, &claim.token, attempted_at)
            .await
        {
            tracing::error!(%error, "could not mark a reset's outcome unknown; its claim expires at the invocation deadline");
        }
    }

    /// The time now, in epoch milliseconds, on the policy's clock.
    pub fn now_millis(&self) -> u64 {
        epoch_millis(self.clock.now())
    }

    /// Counts one more limit for a claimed request: the per-account limit of the canonical
    /// name, when the back-end's read showed that the request named an alias (the claim
    /// counted the name as typed). `RATE_LIMITED` when that counter is full.
    pub async fn count_also(&self, limit: &Limit) -> Result<(), Error> {
        let now_secs = epoch_millis(self.clock.now()) / 1000;
        let Some(counter) = counters(std::slice::from_ref(limit), now_secs).pop() else {
            return Ok(());
        };
        match self.store.count(&counter).await? {
            Claim::Limited { retry_after_secs } => Err(Error::RateLimited { retry_after_secs }),
            Claim::Busy => Err(Error::RequestInProgress {
                retry_after_secs: 1,
            }),
            Claim::Claimed | Claim::Exists(_) => Ok(()),
        }
    }

    /// Releases the claim of a request that changed nothing (or may be safely repeated), so the
    /// same key can be retried at once.
    pub async fn abandon(&self, claim: Claimed) {
        if let Err(error) = self.store.delete(&claim.id, &claim.token).await {
            tracing::warn!(%error, "could not release an idempotency claim; it expires at the invocation deadline");
        }
    }
}

/// The request's fingerprint: a keyed hash of everything that makes it this request (target,
/// account, mode, password, client metadata), so a reused key with another request is caught
/// and no digest a dictionary could reverse is stored (the password is hashed under the
/// deployment's key, never plainly).
pub fn fingerprint(
    keyring: &Keyring,
    target: &str,
    username: &str,
    mode: Mode,
    password: Option<&SecretString>,
    client_metadata: Option<&std::collections::HashMap<String, String>>,
) -> String {
    let password = password
        .map(|p| keyring.digest_hex("password", &[p.expose_secret().as_bytes()]))
        .unwrap_or_default();
    let metadata: BTreeMap<&str, &str> = client_metadata
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut parts: Vec<&[u8]> = vec![
        target.as_bytes(),
        username.as_bytes(),
        mode.as_str().as_bytes(),
        password.as_bytes(),
    ];
    for (key, value) in &metadata {
        parts.push(key.as_bytes());
        parts.push(value.as_bytes());
    }
    keyring.digest_hex("request", &parts)
}

/// The counters of `limits` for the clock hour of `now_secs` (limits of 0 are off).
fn counters(limits: &[Limit], now_secs: u64) -> Vec<Counter> {
    let hour = now_secs / 3600;
    let window_end = (hour + 1) * 3600;
    limits
        .iter()
        .filter(|limit| limit.per_hour > 0)
        .map(|limit| Counter {
            id: format!("rate#{}#{hour}", limit.key),
            limit: limit.per_hour,
            expiration: window_end + 3600,
            retry_after_secs: window_end - now_secs,
        })
        .collect()
}

/// The rate limits of a reset of `username` on `target` by `caller_sub`: per account
/// ([`account_limit`]) and per caller. Keyed hashes, so the table does not list who reset what.
pub fn rate_limits(
    keyring: &Keyring,
    target: &str,
    caller_sub: &str,
    username: &str,
    limits: crate::config::RateLimits,
) -> [Limit; 2] {
    let caller = keyring.digest_hex("rate-caller", &[target.as_bytes(), caller_sub.as_bytes()]);
    [
        account_limit(keyring, target, username, limits),
        Limit {
            key: format!("caller#{caller}"),
            per_hour: limits.per_caller_per_hour,
        },
    ]
}

/// The per-account limit of `username` on `target`, the name compared as a directory compares
/// it ([`crate::config::fold_username`]: case and spacing do not make another account).
pub fn account_limit(
    keyring: &Keyring,
    target: &str,
    username: &str,
    limits: crate::config::RateLimits,
) -> Limit {
    let account = crate::config::fold_username(username);
    let account = keyring.digest_hex("rate-account", &[target.as_bytes(), account.as_bytes()]);
    Limit {
        key: format!("account#{account}"),
        per_hour: limits.per_account_per_hour,
    }
}

/// The record id for a key reference.
pub fn record_id(reference: &str) -> String {
    format!("idem#{reference}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(headers: &[&str], token: Option<&str>) -> Result<IdempotencyKey, Error> {
        let token = token.map(SecretString::from);
        IdempotencyKey::from_request(headers.iter().map(|h| h.as_bytes()), token.as_ref())
    }

    #[test]
    fn key_validation_table() {
        let long = ["k".repeat(128)];
        let long = [long[0].as_str()];
        let too_long = ["k".repeat(129)];
        let too_long = [too_long[0].as_str()];
        let cases: Vec<(&[&str], Option<&str>, bool)> = vec![
            (&["abc-123"], None, true),
            (&[], Some("abc-123"), true),
            (&["abc-123"], Some("abc-123"), true),
            (&long, None, true),
            (&["~!@#$%^&*()_+{}|:<>?"], None, true),
            (&[], None, false),
            (&[""], None, false),
            (&too_long, None, false),
            (&["a,b"], None, false),
            (&["has space"], None, false),
            (&["tab\t"], None, false),
            (&["café"], None, false),
            (&["one", "two"], None, false),
            (&["one", "one"], None, false),
            (&["abc"], Some("abd"), false),
            (&[], Some(""), false),
        ];
        for (headers, token, ok) in cases {
            let got = key(headers, token);
            assert_eq!(got.is_ok(), ok, "{headers:?} {token:?}");
            if let Err(error) = got {
                assert_eq!(error.code(), "IDEMPOTENCY_KEY_INVALID");
            }
        }
    }

    #[test]
    fn references_are_scoped_to_the_caller_and_never_the_raw_key() {
        let keyring = Keyring::new(&SecretString::from(
            "a-secret-of-at-least-thirty-two-chars!!",
        ));
        let k = key(&["canary-idempotency-key-7f3a"], None).expect("valid");
        let alice = k.reference(&keyring, "sub-alice");
        assert_ne!(alice, k.reference(&keyring, "sub-bob"));
        assert!(!alice.contains("canary"));
        assert!(!format!("{k:?}").contains("canary"));
    }
}

/// An in-memory [`Store`] with the same semantics as the DynamoDB one, for unit tests of the
/// policy and the handler (integration tests use a real DynamoDB engine).
#[cfg(test)]
pub(crate) mod memory {
    use std::{
        collections::HashMap,
        sync::{Arc, Mutex},
    };

    use super::*;

    #[derive(Clone, Default)]
    pub struct MemoryStore {
        pub records: Arc<Mutex<HashMap<String, Record>>>,
        pub counters: Arc<Mutex<HashMap<String, u32>>>,
        /// Return the old record with a failed condition (DynamoDB) or not (dynalite).
        pub return_old: bool,
    }

    impl MemoryStore {
        fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
            self.records.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    impl Store for MemoryStore {
        fn put_if_absent<'a>(
            &'a self,
            record: &'a Record,
            counters: &'a [Counter],
            now_secs: u64,
            now_millis: u64,
        ) -> BoxFuture<'a, Result<Claim, StoreError>> {
            let mut records = self.records();
            let mut counts = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            let claimable = match records.get(&record.id) {
                None => true,
                Some(old) => {
                    old.expiration < now_secs
                        || (old.status == Status::InProgress
                            && old.in_progress_expiration < now_millis
                            && old.fingerprint != record.fingerprint)
                }
            };
            let full = counters
                .iter()
                .find(|c| counts.get(&c.id).copied().unwrap_or(0) >= c.limit);
            let result = if !claimable {
                Claim::Exists(records.get(&record.id).cloned().filter(|_| self.return_old))
            } else if let Some(full) = full {
                Claim::Limited {
                    retry_after_secs: full.retry_after_secs,
                }
            } else {
                records.insert(record.id.clone(), record.clone());
                for counter in counters {
                    *counts.entry(counter.id.clone()).or_default() += 1;
                }
                Claim::Claimed
            };
            Box::pin(async move { Ok(result) })
        }

        fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
            let record = self.records().get(id).cloned();
            Box::pin(async move { Ok(record) })
        }

        fn complete<'a>(
            &'a self,
            id: &'a str,
            claim: &'a str,
            response: &'a StoredResponse,
            expiration: u64,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            let result = match self.records().get_mut(id) {
                Some(record) if record.claim == claim => {
                    record.status = Status::Completed;
                    record.expiration = expiration;
                    record.response = Some(response.clone());
                    Ok(())
                }
                _ => Err(StoreError::Lost),
            };
            Box::pin(async { result })
        }

        fn delete<'a>(
            &'a self,
            id: &'a str,
            claim: &'a str,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            let mut records = self.records();
            let result = match records.get(id) {
                Some(record) if record.claim == claim => {
                    records.remove(id);
                    Ok(())
                }
                _ => Err(StoreError::Lost),
            };
            Box::pin(async { result })
        }

        fn mark_unknown<'a>(
            &'a self,
            id: &'a str,
            claim: &'a str,
            attempted_at: u64,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            let result = match self.records().get_mut(id) {
                Some(record) if record.claim == claim => {
                    record.status = Status::Unknown;
                    record.attempted_at = Some(attempted_at);
                    Ok(())
                }
                _ => Err(StoreError::Lost),
            };
            Box::pin(async { result })
        }

        fn take_over<'a>(
            &'a self,
            record: &'a Record,
            previous: &'a str,
        ) -> BoxFuture<'a, Result<Claim, StoreError>> {
            let mut records = self.records();
            let claim = match records.get(&record.id) {
                Some(old) if old.status != Status::Completed && old.claim == previous => {
                    records.insert(record.id.clone(), record.clone());
                    Claim::Claimed
                }
                _ => Claim::Busy,
            };
            Box::pin(async move { Ok(claim) })
        }

        fn count<'a>(&'a self, counter: &'a Counter) -> BoxFuture<'a, Result<Claim, StoreError>> {
            let mut counts = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            let count = counts.entry(counter.id.clone()).or_default();
            let result = if *count >= counter.limit {
                Claim::Limited {
                    retry_after_secs: counter.retry_after_secs,
                }
            } else {
                *count += 1;
                Claim::Claimed
            };
            Box::pin(async move { Ok(result) })
        }
    }
}

#[cfg(test)]
mod policy_tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::{memory::MemoryStore, *};

    struct ManualClock(AtomicU64);

    impl Clock for ManualClock {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_millis(self.0.load(Ordering::SeqCst))
        }
    }

    const T0: u64 = 1_750_000_000_000;

    fn setup(return_old: bool) -> (Idempotency, MemoryStore, Arc<ManualClock>) {
        let store = MemoryStore {
            return_old,
            ..Default::default()
        };
        let clock = Arc::new(ManualClock(AtomicU64::new(T0)));
        (
            Idempotency::new(
                Box::new(store.clone()),
                Duration::from_secs(600),
                clock.clone(),
            ),
            store,
            clock,
        )
    }

    fn response() -> StoredResponse {
        StoredResponse {
            status: 200,
            body: r#"{"passwordDelivered":"earlier"}"#.into(),
            password_delivered: true,
        }
    }

    #[tokio::test]
    async fn the_state_machine_with_and_without_old_items_returned() {
        for return_old in [true, false] {
            let (policy, store, clock) = setup(return_old);
            let deadline = T0 + 12_500;

            // Fresh: claimed, with both timestamps in their units.
            let Ok(Begin::Execute(claim)) = policy.begin("idem#a", "fp", deadline, &[]).await
            else {
                panic!("fresh")
            };
            let record = store.records.lock().unwrap()["idem#a"].clone();
            assert_eq!(record.expiration, T0 / 1000 + 600, "seconds");
            assert_eq!(record.in_progress_expiration, deadline, "milliseconds");

            // In flight: 409 with the seconds left to the deadline; another request: 422.
            let error = policy
                .begin("idem#a", "fp", deadline, &[])
                .await
                .expect_err("in progress");
            assert_eq!(
                (error.code(), error.retry_after_secs()),
                ("REQUEST_IN_PROGRESS", Some(13))
            );
            assert_eq!(
                policy
                    .begin("idem#a", "other", deadline, &[])
                    .await
                    .expect_err("reused")
                    .code(),
                "IDEMPOTENCY_KEY_REUSED"
            );

            // Completed: replayed; another request: 422, record unchanged.
            policy.complete(claim, &response()).await;
            assert!(
                matches!(policy.begin("idem#a", "fp", deadline, &[]).await, Ok(Begin::Replay(r)) if r == response())
            );
            assert_eq!(
                policy
                    .begin("idem#a", "other", deadline, &[])
                    .await
                    .expect_err("reused")
                    .code(),
                "IDEMPOTENCY_KEY_REUSED"
            );
            assert_eq!(
                store.records.lock().unwrap()["idem#a"].status,
                Status::Completed
            );

            // Expired but not yet deleted by TTL: a new execution.
            clock.0.store(T0 + 601_000, Ordering::SeqCst);
            assert!(matches!(
                policy.begin("idem#a", "other", 0, &[]).await,
                Ok(Begin::Execute(_))
            ));
        }
    }

    #[tokio::test]
    async fn an_abandoned_claim_is_taken_over_to_reconcile_once_after_its_deadline() {
        // The invocation died after its claim (perhaps after its reset call): the same
        // request takes the record over and reconciles from the time of that claim, instead of
        // resetting blindly again; another request with the key would claim it afresh.
        let (policy, store, clock) = setup(true);
        let Ok(Begin::Execute(_lost)) = policy.begin("idem#b", "fp", T0 + 5_000, &[]).await else {
            panic!("fresh")
        };
        clock.0.store(T0 + 5_001, Ordering::SeqCst);
        assert!(matches!(
            policy.begin("idem#b", "fp", T0 + 20_000, &[]).await,
            Ok(Begin::Reconcile { attempted_at, .. }) if attempted_at == T0
        ));
        let error = policy
            .begin("idem#b", "fp", T0 + 20_000, &[])
            .await
            .expect_err("second retry waits");
        assert_eq!(error.code(), "REQUEST_IN_PROGRESS");
        assert_eq!(
            store.records.lock().unwrap()["idem#b"].in_progress_expiration,
            T0 + 20_000
        );
        // Another request with the key, once the claim is abandoned, claims it afresh.
        let Ok(Begin::Execute(_)) = policy.begin("idem#e", "fp", T0 + 5_100, &[]).await else {
            panic!("fresh")
        };
        clock.0.store(T0 + 5_200, Ordering::SeqCst);
        assert!(matches!(
            policy.begin("idem#e", "other", T0 + 20_000, &[]).await,
            Ok(Begin::Execute(_))
        ));
    }

    #[tokio::test]
    async fn an_unknown_deadline_still_writes_one() {
        let (policy, store, _) = setup(true);
        let Ok(Begin::Execute(_)) = policy.begin("idem#c", "fp", 0, &[]).await else {
            panic!("fresh")
        };
        assert_eq!(
            store.records.lock().unwrap()["idem#c"].in_progress_expiration,
            T0 + 30_000
        );
    }

    #[tokio::test]
    async fn an_abandoned_claim_frees_the_key_at_once() {
        let (policy, _, _) = setup(false);
        let Ok(Begin::Execute(claim)) = policy.begin("idem#d", "fp", T0 + 5_000, &[]).await else {
            panic!("fresh")
        };
        policy.abandon(claim).await;
        assert!(matches!(
            policy.begin("idem#d", "fp", T0 + 5_000, &[]).await,
            Ok(Begin::Execute(_))
        ));
    }

    #[test]
    fn fingerprints_cover_the_request_and_hide_the_password() {
        let keyring = Keyring::new(&SecretString::from(
            "a-secret-of-at-least-thirty-two-chars!!",
        ));
        let password = SecretString::from("Canary-Pa55word");
        let base = fingerprint(&keyring, "t", "alice", Mode::Set, Some(&password), None);
        assert_eq!(
            base,
            fingerprint(&keyring, "t", "alice", Mode::Set, Some(&password), None)
        );
        let other = SecretString::from("Canary-Pa55word!");
        assert_ne!(
            base,
            fingerprint(&keyring, "t", "alice", Mode::Set, Some(&other), None)
        );
        assert_ne!(
            base,
            fingerprint(&keyring, "t", "bob", Mode::Set, Some(&password), None)
        );
        assert_ne!(
            base,
            fingerprint(&keyring, "u", "alice", Mode::Set, Some(&password), None)
        );
        assert_ne!(
            base,
            fingerprint(&keyring, "t", "alice", Mode::Generate, None, None)
        );
        let metadata = std::collections::HashMap::from([("a".to_owned(), "b".to_owned())]);
        assert_ne!(
            fingerprint(&keyring, "t", "alice", Mode::Code, None, None),
            fingerprint(&keyring, "t", "alice", Mode::Code, None, Some(&metadata))
        );
        assert!(!base.contains("Canary"));
    }

    fn execute(begun: Result<Begin, Error>) -> Claimed {
        match begun {
            Ok(Begin::Execute(claim) | Begin::Reconcile { claim, .. }) => claim,
            other => panic!("expected to hold the claim, got {other:?}"),
        }
    }

    /// A late invocation never overwrites a record another request took over after its
    /// deadline: completing, releasing and marking unknown all need the claim token.
    #[tokio::test]
    async fn a_late_completion_does_not_overwrite_a_newer_claim() {
        let (policy, store, clock) = setup(true);
        let deadline = T0 + 5_000;
        let first = execute(policy.begin("idem#k", "fp", deadline, &[]).await);
        // The first invocation runs past its deadline; a retry takes the record over.
        clock.0.store(deadline + 1, Ordering::SeqCst);
        let second = execute(policy.begin("idem#k", "fp", deadline + 10_000, &[]).await);
        policy.complete(first, &response()).await;
        let record = store.records.lock().expect("lock")["idem#k"].clone();
        assert_eq!(
            record.status,
            Status::InProgress,
            "the late completion was refused"
        );
        assert_eq!(record.claim, second.token);
        policy.complete(second, &response()).await;
        let record = store.records.lock().expect("lock")["idem#k"].clone();
        assert_eq!(record.status, Status::Completed);
    }

    /// An unanswered reset call: the record stays, unknown, with the time of the attempt. The
    /// same request takes it over to reconcile, spending no budget; another request with the
    /// key is refused; two retries racing get one reconcile and one 409.
    #[tokio::test]
    async fn an_unknown_outcome_is_reconciled_by_the_same_request_only() {
        let (policy, store, clock) = setup(true);
        let limits = [Limit {
            key: "account#a".into(),
            per_hour: 5,
        }];
        let first = execute(policy.begin("idem#u", "fp", T0 + 5_000, &limits).await);
        policy.mark_unknown(first, T0 + 100).await;
        // The client waits as Retry-After says, past the first request's end: the record is
        // still there to reconcile (not "in progress", not expired).
        clock.0.store(T0 + 8_000, Ordering::SeqCst);
        let counted = || store.counters.lock().expect("lock").values().sum::<u32>();
        assert_eq!(counted(), 1);

        assert_eq!(
            policy
                .begin("idem#u", "other", T0 + 5_000, &limits)
                .await
                .expect_err("reused")
                .code(),
            "IDEMPOTENCY_KEY_REUSED"
        );
        let retry = match policy.begin("idem#u", "fp", T0 + 5_000, &limits).await {
            Ok(Begin::Reconcile {
                claim,
                attempted_at,
            }) => {
                assert_eq!(attempted_at, T0 + 100);
                claim
            }
            other => panic!("expected to reconcile, got {other:?}"),
        };
        assert_eq!(counted(), 1, "a retry spends no budget");
        // Meanwhile a second retry finds it in progress.
        assert_eq!(
            policy
                .begin("idem#u", "fp", T0 + 5_000, &limits)
                .await
                .expect_err("in progress")
                .code(),
            "REQUEST_IN_PROGRESS"
        );
        policy.complete(retry, &response()).await;
        assert!(matches!(
            policy.begin("idem#u", "fp", T0 + 5_000, &limits).await,
            Ok(Begin::Replay(_))
        ));
    }
}
