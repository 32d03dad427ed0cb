//! The emulator's clock: injectable, so tests are deterministic.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in Unix milliseconds.
///
/// Everything in the emulator that depends on "now" (the signature window, the `Date`
/// header, scan progress, rate limiting, quotas) reads this clock, never the system clock
/// directly. The fault injection's clock offset is added on top.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
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
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ms: AtomicU64,
}

impl ManualClock {
    /// A manual clock set to `now_ms` (Unix milliseconds).
    pub fn new(now_ms: u64) -> Self {
        Self {
            now_ms: AtomicU64::new(now_ms),
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
    }

    /// Sets the clock to `now_ms` (Unix milliseconds).
    pub fn set(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
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
    }
}
