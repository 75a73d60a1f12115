//! When to refresh: the refresh-ahead window and the backoffs, as pure functions.
//!
//! ```text
//!  issued ─────────────── lifetime ───────────────────────────────▶ expiration
//!                                     │◀── window + jitter ──▶│
//!                                     refresh here (never past expiration)
//! ```
//! The window is `min(clamp(lifetime / 4, 5 min, 60 min), lifetime / 2)` unless configured:
//! 1 h credentials refresh 15 min ahead, 6 h ones 60 min, 15 min STS sessions 5 min, and
//! 90 s test credentials 45 s. Jitter adds up to a tenth of the window, so a fleet started
//! together does not refresh together.

use std::time::Duration;

use crate::backoff::{jitter_up_to, Backoff};

const MIN_WINDOW: Duration = Duration::from_secs(5 * 60);
const MAX_WINDOW: Duration = Duration::from_secs(60 * 60);

/// The refresh-ahead window for credentials of `lifetime`, before jitter.
pub fn window(lifetime: Duration, configured: Option<Duration>) -> Duration {
    if let Some(fixed) = configured {
        return fixed;
    }
    (lifetime / 4)
        .clamp(MIN_WINDOW, MAX_WINDOW)
        .min(lifetime / 2)
}

/// A jitter to add to `window`: uniform in `[0, window / 10]`. Chosen once per credential set.
pub fn jitter(window: Duration) -> Duration {
    jitter_up_to(window / 10)
}

/// How long to wait before refreshing credentials with `time_left` (on the corrected
/// clock): `time_left − (window + jitter)`, never negative, never past expiry.
pub fn wait_before_refresh(time_left: Duration, window: Duration, jitter: Duration) -> Duration {
    time_left.saturating_sub(window + jitter)
}

/// The retry delay after a refresh returned the same expiration as before (IMDS hands out
/// the same set until a few minutes before expiry): jittered, growing with `streak`, scaled
/// to the lifetime, and short enough to check several times before `time_left` runs out.
pub fn same_expiry_retry(lifetime: Duration, time_left: Duration, streak: u32) -> Duration {
    let base = (lifetime / 60).max(Duration::from_secs(1));
    let cap = (lifetime / 10).clamp(base, Duration::from_secs(5 * 60));
    let delay = Backoff::new(base, cap).ceiling(streak);
    // Full jitter on the upper half keeps some spacing between tries.
    let d = delay / 2 + jitter_up_to(delay / 2);
    d.min((time_left / 4).max(Duration::from_millis(500)))
}

/// The retry delay after a failed refresh. Unrecoverable causes (no role attached,
/// disabled IMDS) are retried slowly; others quickly at first.
pub fn failure_retry(streak: u32, unrecoverable: bool) -> Duration {
    let backoff = if unrecoverable {
        Backoff::new(Duration::from_secs(10), Duration::from_secs(5 * 60))
    } else {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60))
    };
    // Never less than 100 ms: full jitter can draw zero.
    backoff.delay(streak).max(Duration::from_millis(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;

    #[test]
    fn window_scales_with_lifetime_as_documented() {
        assert_eq!(
            window(Duration::from_secs(60 * MIN), None),
            Duration::from_secs(15 * MIN)
        );
        assert_eq!(
            window(Duration::from_secs(6 * 60 * MIN), None),
            Duration::from_secs(60 * MIN)
        );
        assert_eq!(
            window(Duration::from_secs(15 * MIN), None),
            Duration::from_secs(5 * MIN)
        );
        assert_eq!(
            window(Duration::from_secs(90), None),
            Duration::from_secs(45)
        );
        assert_eq!(
            window(Duration::from_secs(90), Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn never_scheduled_past_expiry() {
        assert_eq!(
            wait_before_refresh(
                Duration::from_secs(10),
                Duration::from_secs(45),
                Duration::ZERO
            ),
            Duration::ZERO
        );
        assert_eq!(
            wait_before_refresh(
                Duration::from_secs(100),
                Duration::from_secs(45),
                Duration::from_secs(5)
            ),
            Duration::from_secs(50)
        );
    }

    #[test]
    fn jitter_is_bounded_by_a_tenth() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(100)) <= Duration::from_secs(10));
        }
    }

    #[test]
    fn same_expiry_retries_back_off_but_stay_before_expiry() {
        let life = Duration::from_secs(3600);
        let first = same_expiry_retry(life, Duration::from_secs(900), 0);
        let later = same_expiry_retry(life, Duration::from_secs(900), 6);
        assert!(
            first >= Duration::from_secs(30) && first <= Duration::from_secs(60),
            "{first:?}"
        );
        assert!(
            later <= Duration::from_secs(225) && later >= Duration::from_secs(150),
            "{later:?}"
        );
        assert!(same_expiry_retry(life, Duration::from_secs(8), 6) <= Duration::from_secs(2));
    }

    #[test]
    fn failure_retries_grow_and_cap() {
        for _ in 0..50 {
            assert!(failure_retry(0, false) <= Duration::from_secs(1));
            assert!(failure_retry(30, false) <= Duration::from_secs(60));
            assert!(failure_retry(30, true) <= Duration::from_secs(300));
            assert!(failure_retry(0, true) >= Duration::from_millis(100));
        }
    }
}
