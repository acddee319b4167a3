//! The one clock of a request: idempotency expiry, rate-limit windows, `auth_time` checks and
//! the request's deadline all read it, so a test can move them together.

use std::time::{SystemTime, UNIX_EPOCH};

/// The time, injectable so expiry and windows can be tested without sleeping.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> SystemTime;

    /// Now, in epoch milliseconds.
    fn now_millis(&self) -> u64 {
        epoch_millis(self.now())
    }

    /// Now, in epoch seconds.
    fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// `time` in epoch milliseconds (0 before the epoch).
pub fn epoch_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A clock that moves only when told (tests: the test kit's, one for every test).
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub struct ManualClock(std::sync::atomic::AtomicU64);

#[cfg(any(test, feature = "test-util"))]
impl ManualClock {
    /// A clock standing at `epoch_millis`.
    pub fn at_millis(epoch_millis: u64) -> Self {
        Self(std::sync::atomic::AtomicU64::new(epoch_millis))
    }

    /// Moves the clock to `epoch_millis`.
    pub fn set_millis(&self, epoch_millis: u64) {
        self.0
            .store(epoch_millis, std::sync::atomic::Ordering::SeqCst);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.0.fetch_add(by, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH
            + std::time::Duration::from_millis(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}
