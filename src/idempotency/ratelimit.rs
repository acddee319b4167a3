//! Rate limits: fixed one-hour windows per account and per caller, counted with the claim
//! (docs/IDEMPOTENCY.md). Keys are keyed hashes, so the table does not list who reset what.

use serde::Deserialize;

use super::store::Counter;
use crate::keys::Keyring;

/// Resets allowed per clock hour on one target; 0 turns a limit off. Counted before the
/// back-end is called, so failed attempts (an unknown user, a refused password) count too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimits {
    /// Resets of one account, whoever asks (default 5).
    #[serde(default = "RateLimits::default_per_account")]
    pub per_account_per_hour: u32,
    /// Resets asked for by one caller (default 20).
    #[serde(default = "RateLimits::default_per_caller")]
    pub per_caller_per_hour: u32,
}

impl RateLimits {
    fn default_per_account() -> u32 {
        5
    }
    fn default_per_caller() -> u32 {
        20
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_account_per_hour: Self::default_per_account(),
            per_caller_per_hour: Self::default_per_caller(),
        }
    }
}

/// A rate limit a claim must fit in: at most `per_hour` claims per clock hour under `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// A keyed hash naming what is counted (an account, a caller), never the name itself.
    pub key: String,
    /// Claims allowed per clock hour; 0 is no limit.
    pub per_hour: u32,
}

/// The counters of `limits` for the clock hour of `now_secs` (limits of 0 are off).
pub(crate) fn counters(limits: &[Limit], now_secs: u64) -> Vec<Counter> {
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

/// The rate limits of a reset of `account` (see [`account_limit`]) on `target` by
/// `caller_sub`: per account and per caller. Keyed hashes, so the table does not list who reset what.
pub fn rate_limits(
    keyring: &Keyring,
    target: &str,
    caller_sub: &str,
    account: &str,
    limits: RateLimits,
) -> [Limit; 2] {
    let caller = keyring.digest_hex("rate-caller", &[target.as_bytes(), caller_sub.as_bytes()]);
    [
        account_limit(keyring, target, account, limits),
        Limit {
            key: format!("caller#{caller}"),
            per_hour: limits.per_caller_per_hour,
        },
    ]
}

/// The per-account limit of the account `account` names on `target`. `account` is the name
/// as the back-end compares it (folded where case and spacing do not make another account).
pub fn account_limit(keyring: &Keyring, target: &str, account: &str, limits: RateLimits) -> Limit {
    let account = keyring.digest_hex("rate-account", &[target.as_bytes(), account.as_bytes()]);
    Limit {
        key: format!("account#{account}"),
        per_hour: limits.per_account_per_hour,
    }
}
