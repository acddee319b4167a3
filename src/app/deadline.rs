//! The one deadline of a request, from the invocation's: the claim, the reads, the reset and
//! the completion all fit inside it, and an in-progress claim expires at it.

use std::time::{Duration, Instant};

/// The request's deadline, on the epoch clock (for the record) and the monotonic one (for
/// timeouts).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// The request's end, in epoch milliseconds: the claim's in-progress expiry.
    pub end_ms: u64,
    /// The same, on the monotonic clock.
    end: Instant,
}

impl Deadline {
    /// Left at the end of the invocation to write the answer and the audit line.
    const ANSWER: Duration = Duration::from_millis(300);
    /// Left after the reset call to complete the record (one DynamoDB write).
    const COMPLETION: Duration = Duration::from_millis(1_500);
    /// Where the invocation's deadline is unknown (0: a test context) or already past.
    const FALLBACK: Duration = Duration::from_secs(30);
    /// The most a nested-group walk may take.
    const WALK: Duration = Duration::from_secs(2);
    /// What the walk leaves, where there is time, for the reset and the completion.
    const RESERVE: Duration = Duration::from_secs(5);

    /// The deadline of a request in an invocation ending at `invocation_ms` (epoch ms, 0 when
    /// unknown), at `now_ms` on the request's clock.
    pub fn of_invocation(invocation_ms: u64, now_ms: u64) -> Self {
        let left = match invocation_ms.checked_sub(now_ms) {
            Some(left) if invocation_ms > 0 => {
                Duration::from_millis(left).saturating_sub(Self::ANSWER)
            }
            _ => Self::FALLBACK,
        };
        Self {
            end_ms: now_ms + u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
            end: Instant::now() + left,
        }
    }

    /// When the reset call must have answered.
    pub fn reset(self) -> Instant {
        self.end.checked_sub(Self::COMPLETION).unwrap_or(self.end)
    }

    /// How long the account reads may walk nested groups: two seconds, or less where that
    /// would leave the reset less than five; never less than a third of the time left (a
    /// short function timeout, such as Lambda's default 3 s, still gets a walk). A walk cut
    /// short refuses an admin reset (`auth::check_eligible`).
    pub fn reads(self) -> Instant {
        let left = self.end.saturating_duration_since(Instant::now());
        let budget = left
            .saturating_sub(Self::RESERVE)
            .max(left / 3)
            .min(Self::WALK);
        Instant::now() + budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_ends_before_the_invocation_and_the_reads_leave_the_reset_its_time() {
        let now = 1_750_000_000_000;
        // Lambda's default 3 s: the answer's 300 ms are kept back; the walk gets a third.
        let short = Deadline::of_invocation(now + 3_000, now);
        assert_eq!(short.end_ms, now + 2_700);
        let walk = short.reads().saturating_duration_since(Instant::now());
        assert!(walk <= Duration::from_millis(900), "{walk:?}");
        assert!(walk >= Duration::from_millis(800), "{walk:?}");
        // A long invocation: the walk is capped at 2 s.
        let long = Deadline::of_invocation(now + 29_000, now);
        let walk = long.reads().saturating_duration_since(Instant::now());
        assert!(walk <= Duration::from_secs(2) && walk > Duration::from_millis(1_900));
        // Unknown or past: a fallback, never "no deadline".
        assert_eq!(Deadline::of_invocation(0, now).end_ms, now + 30_000);
        assert_eq!(Deadline::of_invocation(now - 1, now).end_ms, now + 30_000);
    }
}
