//! The emulator's clock: injectable, so tests are deterministic.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time: the wall clock in Unix milliseconds, and a monotonic clock.
///
/// Everything in the emulator that depends on "now" (the signature window, the `Date`
/// header, scan progress, quotas) reads this clock, never the system clock directly. The
/// fault injection's clock offset is added on top of [`now_ms`](Clock::now_ms). Rate limiting
/// reads [`monotonic`](Clock::monotonic) instead, which never goes backwards, whatever the
/// wall clock or the injected offset do.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Time elapsed since an arbitrary fixed origin; never decreases. The default is the
    /// process's monotonic clock ([`Instant`]).
    fn monotonic(&self) -> Duration {
        process_monotonic()
    }
}

/// Time since the first call in this process, from [`Instant`] (monotonic).
fn process_monotonic() -> Duration {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed()
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to (for tests).
///
/// Its monotonic time moves with [`advance`](Self::advance) and with [`set`](Self::set) to a
/// later time; setting it to an earlier time moves only the wall clock back (as a system
/// clock step would).
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ms: AtomicU64,
    monotonic_ms: AtomicU64,
}

impl ManualClock {
    /// A manual clock set to `now_ms` (Unix milliseconds).
    pub fn new(now_ms: u64) -> Self {
        Self {
            now_ms: AtomicU64::new(now_ms),
            monotonic_ms: AtomicU64::new(0),
        }
    }

    /// A manual clock starting at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now_ms())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now_ms.fetch_add(ms, Ordering::SeqCst);
        self.monotonic_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the wall clock to `now_ms` (Unix milliseconds). The monotonic time moves forward
    /// by the same step, or stays when the step is backwards.
    pub fn set(&self, now_ms: u64) {
        let before = self.now_ms.swap(now_ms, Ordering::SeqCst);
        self.monotonic_ms
            .fetch_add(now_ms.saturating_sub(before), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }

    fn monotonic(&self) -> Duration {
        Duration::from_millis(self.monotonic_ms.load(Ordering::SeqCst))
    }
}

/// Formats Unix seconds as an HTTP date (IMF-fixdate, RFC 9110), e.g.
/// `Sun, 06 Nov 1994 08:49:37 GMT`, with the `httpdate` crate (the one ms-transport parses
/// `Date` with). Times past 9999-12-31T23:59:59 (reachable only through a huge injected clock
/// offset) are clamped to it, since the format has four-digit years.
pub fn http_date(unix_secs: u64) -> String {
    const MAX_HTTP_DATE: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(unix_secs.min(MAX_HTTP_DATE)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_matches_known_values() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_709_222_400), "Thu, 29 Feb 2024 16:00:00 GMT");
        assert_eq!(http_date(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(Duration::from_millis(250));
        assert_eq!(c.now_ms(), 1_250);
        c.set(5);
        assert_eq!(c.now_ms(), 5);
        // The monotonic time followed the advance, not the step back; a step forward counts.
        assert_eq!(c.monotonic(), Duration::from_millis(250));
        c.set(1_005);
        assert_eq!(c.monotonic(), Duration::from_millis(1_250));
    }

    #[test]
    fn system_clock_monotonic_time_never_decreases() {
        let a = SystemClock.monotonic();
        let b = SystemClock.monotonic();
        assert!(b >= a);
    }
}
