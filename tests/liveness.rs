//! The one liveness rule (`Record::liveness`) and DynamoDB's claim condition agree: for every
//! kind of stored record, the conditional `PutItem` writes over it exactly when the rule says
//! the record is dead, on both engines (dynalite and moto). A change to either one alone fails
//! here.

mod support;

use resetgate::idempotency::{DynamoStore, Liveness, Put, Record, Status, Store, StoredResponse};
use support::calls::Calls;

const NOW_MS: u64 = 1_750_000_000_500;
const NOW_SECS: u64 = NOW_MS / 1000;

/// One kind of stored record, and why it matters.
struct Case {
    why: &'static str,
    status: Status,
    /// Seconds from now to the record's expiry (negative: expired).
    expires_in: i64,
    /// Milliseconds from now to the in-progress deadline (negative: past).
    deadline_in: i64,
    /// Whether the new request is the same one (same fingerprint).
    same_request: bool,
}

fn at(now: u64, delta: i64) -> u64 {
    now.checked_add_signed(delta).expect("in range")
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for status in [Status::InProgress, Status::Completed, Status::Unknown] {
        for expires_in in [-1, 0, 600] {
            for deadline_in in [-1, 0, 5_000] {
                for same_request in [true, false] {
                    cases.push(Case {
                        why: match (status, expires_in < 0, deadline_in < 0, same_request) {
                            (_, true, _, _) => "expired: the key is free",
                            (Status::InProgress, false, true, true) => {
                                "abandoned by this request: only it takes it over"
                            }
                            (Status::InProgress, false, true, false) => {
                                "abandoned by another request: the key is free"
                            }
                            (Status::InProgress, false, false, _) => {
                                "in progress: it holds the key"
                            }
                            _ => "completed or unknown, unexpired: it holds the key",
                        },
                        status,
                        expires_in,
                        deadline_in,
                        same_request,
                    });
                }
            }
        }
    }
    cases
}

fn record(id: &str, case: &Case) -> Record {
    Record {
        id: id.to_owned(),
        status: case.status,
        expiration: at(NOW_SECS, case.expires_in),
        in_progress_expiration: at(NOW_MS, case.deadline_in),
        fingerprint: "fingerprint-a".into(),
        response: (case.status == Status::Completed).then(|| StoredResponse {
            status: 200,
            body: "{}".into(),
            password_delivered: false,
        }),
        claim: "token-old".into(),
        attempted_at: (case.status == Status::Unknown).then_some(NOW_MS - 10_000),
        claimed_at: Some(NOW_MS - 20_000),
    }
}

#[tokio::test]
async fn the_claim_condition_is_the_liveness_rule_on_both_engines() {
    let cases = cases();
    assert_eq!(cases.len(), 54);
    let mut dead = 0;
    for (engine, server) in [("dynalite", support::dynalite()), ("moto", support::moto())] {
        let sdk = support::sdk_config(&server.endpoint).await;
        let client = support::dynamo::client(&sdk, &Calls::default());
        let table = support::dynamo::create_table(&client).await;
        let store = DynamoStore::new(client, table);
        for (n, case) in cases.iter().enumerate() {
            let id = format!("idem#liveness-{n}");
            let stored = record(&id, case);
            // Written first over nothing (an absent record is always claimable).
            let first = store
                .put_if_absent(&stored, &[], 0, 0)
                .await
                .unwrap_or_else(|e| panic!("{engine} {n}: {e}"));
            assert!(matches!(first, Put::Written), "{engine} {n}: {first:?}");

            let fingerprint = if case.same_request {
                "fingerprint-a"
            } else {
                "fingerprint-b"
            };
            let expected = stored.liveness(fingerprint, NOW_SECS, NOW_MS);
            let new = Record {
                status: Status::InProgress,
                fingerprint: fingerprint.into(),
                claim: "token-new".into(),
                response: None,
                attempted_at: None,
                expiration: NOW_SECS + 600,
                in_progress_expiration: NOW_MS + 5_000,
                ..stored.clone()
            };
            let put = store
                .put_if_absent(&new, &[], NOW_SECS, NOW_MS)
                .await
                .unwrap_or_else(|e| panic!("{engine} {n}: {e}"));
            let written = matches!(put, Put::Written);
            assert_eq!(
                written,
                expected == Liveness::Dead,
                "{engine}, case {n} ({}): {:?} expires in {} s, deadline in {} ms, same request \
                 {}: the rule says {expected:?}, DynamoDB wrote {written}",
                case.why,
                case.status,
                case.expires_in,
                case.deadline_in,
                case.same_request
            );
            dead += usize::from(written);
        }
    }
    // Both outcomes are exercised on both engines: expired (18) and abandoned by another
    // request (2 unexpired in-progress cases) per engine.
    assert_eq!(dead, 2 * (18 + 2));
}
