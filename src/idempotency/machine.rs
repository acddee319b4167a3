//! The state machine: claim (or replay, or refuse) before the reset call; complete, release
//! or mark unknown after it. The table is in `mod.rs`.

use std::{sync::Arc, time::Duration};

use super::{
    ratelimit::{Limit, counters},
    record::{Liveness, Record, Status, StoredResponse},
    store::{Put, Store, StoreError},
};
use crate::{
    clock::{Clock, epoch_millis},
    error::Error,
};

/// When an invocation's deadline is unknown or already past (a test context, a clock skew),
/// an in-progress claim still gets a deadline: never "no deadline", which would block the key
/// for the record's whole lifetime after a crash.
const FALLBACK_IN_PROGRESS: Duration = Duration::from_secs(30);

/// What to do with a request after consulting its record.
#[derive(Debug)]
pub enum Begin {
    /// Execute it; then [`Idempotency::complete`] or [`Idempotency::abandon`] the claim.
    Execute(Reservation),
    /// Answer with the stored response, without calling the back-end.
    Replay(StoredResponse),
    /// An earlier attempt's reset call went unanswered at `attempted_at` (epoch ms): check
    /// the back-end first, then complete, or execute again. Spends no rate-limit budget.
    Reconcile {
        /// The record, now held by this invocation.
        claim: Reservation,
        /// When the unanswered call was sent.
        attempted_at: u64,
    },
}

/// A claim this invocation holds: the record's id and the claim token it wrote.
#[derive(Debug)]
pub struct Reservation {
    id: String,
    token: String,
}

/// A fresh reservation token: 128 random bits, in hex.
fn reservation_token() -> String {
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
            let now_ms = epoch_millis(now);
            let now_secs = now_ms / 1000;
            let fallback = epoch_millis(now + FALLBACK_IN_PROGRESS);
            let token = reservation_token();
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
                Put::Written => {
                    return Ok(Begin::Execute(Reservation {
                        id: id.to_owned(),
                        token,
                    }));
                }
                Put::Limited { retry_after_secs } => {
                    return Err(Error::RateLimited { retry_after_secs });
                }
                Put::Busy => {
                    return Err(Error::RequestInProgress {
                        retry_after_secs: 1,
                    });
                }
                Put::Exists(Some(existing)) => existing,
                // The store did not return the old item: read it, consistently.
                Put::Exists(None) => match self.store.get(id).await? {
                    Some(existing) => existing,
                    None => continue,
                },
            };
            let liveness = existing.liveness(fingerprint, now_secs, now_ms);
            if liveness == Liveness::Dead {
                continue;
            }
            let abandoned = liveness == Liveness::Abandoned;
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
                    Put::Written => Ok(Begin::Reconcile {
                        claim: Reservation {
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
    pub async fn complete(&self, claim: Reservation, response: &StoredResponse) {
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
    pub async fn mark_unknown(&self, claim: Reservation, attempted_at: u64) {
        if let Err(error) = self
            .store
            .mark_unknown(&claim.id, &claim.token, attempted_at)
            .await
        {
            tracing::error!(%error, "could not mark a reset's outcome unknown; its claim expires at the invocation deadline");
        }
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
            Put::Limited { retry_after_secs } => Err(Error::RateLimited { retry_after_secs }),
            Put::Busy => Err(Error::RequestInProgress {
                retry_after_secs: 1,
            }),
            Put::Written | Put::Exists(_) => Ok(()),
        }
    }

    /// Releases the claim of a request that changed nothing (or may be safely repeated), so the
    /// same key can be retried at once.
    pub async fn abandon(&self, claim: Reservation) {
        if let Err(error) = self.store.delete(&claim.id, &claim.token).await {
            tracing::warn!(%error, "could not release an idempotency claim; it expires at the invocation deadline");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clock::ManualClock, idempotency::MemoryStore};

    const T0: u64 = 1_750_000_000_000;

    fn setup(return_old: bool) -> (Idempotency, MemoryStore, Arc<ManualClock>) {
        let store = MemoryStore {
            return_old,
            ..Default::default()
        };
        let clock = Arc::new(ManualClock::at_millis(T0));
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
            clock.set_millis(T0 + 601_000);
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
        clock.set_millis(T0 + 5_001);
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
        clock.set_millis(T0 + 5_200);
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

    fn execute(begun: Result<Begin, Error>) -> Reservation {
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
        clock.set_millis(deadline + 1);
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
        clock.set_millis(T0 + 8_000);
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
