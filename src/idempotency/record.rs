//! The idempotency record as stored, and the one rule of when it still holds its key.

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
    /// The reservation token of the invocation that holds the record (random, 128 bits;
    /// stored as `claim`).
    pub claim: String,
    /// When the unanswered reset call was sent, in epoch milliseconds (status unknown).
    pub attempted_at: Option<u64>,
    /// When this claim was made, in epoch milliseconds: no reset call of it is older.
    pub claimed_at: Option<u64>,
}

/// Where a stored record stands for a new request, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// It holds the key: in progress before its deadline, or completed or unknown before it
    /// expires.
    Live,
    /// In progress past its deadline (its invocation died or could not record its end,
    /// perhaps after its reset call), unexpired, and of the same request: the same request
    /// takes it over and reconciles; only it may.
    Abandoned,
    /// Expired, or abandoned by another request: the key is free.
    Dead,
}

impl Record {
    /// Where this record stands for a request with `fingerprint` at `now_secs` / `now_millis`:
    /// the one rule. The store's conditional write ([`super::Store::put_if_absent`]) writes
    /// exactly over [`Liveness::Dead`] records (the DynamoDB condition is tested against this).
    pub fn liveness(&self, fingerprint: &str, now_secs: u64, now_millis: u64) -> Liveness {
        if self.expiration < now_secs {
            return Liveness::Dead;
        }
        if self.status != Status::InProgress || self.in_progress_expiration >= now_millis {
            return Liveness::Live;
        }
        if self.fingerprint == fingerprint {
            Liveness::Abandoned
        } else {
            Liveness::Dead
        }
    }
}
