//! Injectable clocks.
//!
//! The rate limiter, the retry budget and the request timestamps read time through the
//! [`Clock`] trait, so tests can drive them with a [`FakeClock`] instead of the wall clock.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time.
///
/// `monotonic` drives the rate limiter (it must never go backwards); `unix_seconds` is the
/// wall clock used for the `X-TC-Timestamp` of every request (before clock-skew correction).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Time elapsed since an arbitrary, fixed origin. Never decreases.
    fn monotonic(&self) -> Duration;
    /// Seconds since the Unix epoch, as the local wall clock says.
    fn unix_seconds(&self) -> u64;
}

/// The real clocks: [`Instant`] for the monotonic time and [`SystemTime`] for the wall clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A system clock whose monotonic origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }

    fn unix_seconds(&self) -> u64 {
        wall_clock_seconds()
    }
}

/// `clock`, or a [`SystemClock`] when none was given (the default of every builder that
/// takes a clock).
pub(crate) fn or_system(clock: Option<Arc<dyn Clock>>) -> Arc<dyn Clock> {
    clock.unwrap_or_else(|| Arc::new(SystemClock::new()))
}

/// Seconds since the Unix epoch from [`SystemTime`] (0 before the epoch).
fn wall_clock_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Monotonic time from [`tokio::time::Instant`] (which follows tokio's paused test time), wall
/// clock from [`SystemTime`].
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A tokio clock whose monotonic origin is now. Must be called inside a tokio runtime
    /// when the test-util paused clock is used; otherwise works anywhere.
    pub fn new() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }

    fn unix_seconds(&self) -> u64 {
        wall_clock_seconds()
    }
}

/// A manually driven clock for deterministic tests. Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    inner: Arc<FakeInner>,
}

#[derive(Debug, Default)]
struct FakeInner {
    nanos: AtomicU64,
    unix: AtomicI64,
}

impl FakeClock {
    /// A fake clock at monotonic time zero and the given Unix time.
    pub fn new(unix_seconds: u64) -> Self {
        let clock = Self::default();
        clock.inner.unix.store(
            i64::try_from(unix_seconds).unwrap_or(i64::MAX),
            Ordering::SeqCst,
        );
        clock
    }

    /// Moves both the monotonic and the wall clock forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.inner.nanos.fetch_add(nanos, Ordering::SeqCst);
        let whole = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.inner.unix.fetch_add(whole, Ordering::SeqCst);
    }

    /// Sets the wall clock only (simulates a skewed local clock).
    pub fn set_unix_seconds(&self, unix_seconds: u64) {
        self.inner.unix.store(
            i64::try_from(unix_seconds).unwrap_or(i64::MAX),
            Ordering::SeqCst,
        );
    }
}

impl Clock for FakeClock {
    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.inner.nanos.load(Ordering::SeqCst))
    }

    fn unix_seconds(&self) -> u64 {
        u64::try_from(self.inner.unix.load(Ordering::SeqCst)).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_advances_and_is_shared_by_clones() {
        let c = FakeClock::new(1_700_000_000);
        let d = c.clone();
        c.advance(Duration::from_millis(1500));
        assert_eq!(d.monotonic(), Duration::from_millis(1500));
        assert_eq!(d.unix_seconds(), 1_700_000_001);
        d.set_unix_seconds(5);
        assert_eq!(c.unix_seconds(), 5);
    }

    #[test]
    fn system_clock_is_monotonic() {
        let c = SystemClock::new();
        let a = c.monotonic();
        let b = c.monotonic();
        assert!(b >= a);
        assert!(c.unix_seconds() > 1_600_000_000);
    }
}
