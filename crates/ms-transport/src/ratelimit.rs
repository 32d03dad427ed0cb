//! Client-side rate limiting: GCRA keyed by (action, region, SecretId).
//!
//! Tencent Cloud enforces its quotas per action, per region and per account (SecretId); the
//! default is 20 requests per second, and some actions allow more (`DescribeUrlDetectionResult`
//! allows 1500/s). [`RateLimiter`] mirrors this on the client so a batch runs at the quota
//! without being throttled.
//!
//! Algorithm: the generic cell rate algorithm (GCRA), as in `governor`, decided by the
//! pure [`ms_gcra::Gcra`] (the same arithmetic the emulator enforces its quota with). Each
//! key keeps one "theoretical arrival time" (TAT) in a single atomic (nanoseconds on the
//! limiter's monotonic [`Clock`]) in a [`ms_gcra::KeyedGcra`]. A caller *reserves* its slot
//! with one compare-and-swap — the slot is `max(TAT - tau, now)`, the new TAT
//! `max(TAT, now) + interval` — and then sleeps until that slot with `tokio::time::sleep`.
//! Callers therefore get slots in the order in which they reserved them (first come, first
//! served), nobody spins, and the sleeps do not accumulate error: the schedule is absolute,
//! so a late wake-up never pushes later slots back. Keys whose schedule has caught up with
//! now are forgotten as new keys come (governor's `retain_recent`), so rotating temporary
//! SecretIds do not grow the limiter.
//!
//! Backends: the [`Limiter`] trait is what the client waits on. [`RateLimiter`] (this
//! process) is the default; with the `redis` feature, [`redis::RedisLimiter`] keeps the
//! schedule in Redis so that every process and machine that shares an account shares its
//! quota.
//!
//! Cancellation: a caller of [`RateLimiter::acquire`] that is dropped while it waits gives its
//! slot back when nobody reserved after it (the TAT is rolled back with one compare-and-swap),
//! so a loop that keeps starting and abandoning a call cannot push the schedule ever further
//! out. A dropped waiter with later reservations behind it cannot give its slot back (GCRA
//! keeps a single TAT, not a queue): that slot stays unused. This only ever *lowers* the rate
//! actually sent, never raises it above the quota, and the loss is bounded by the number of
//! abandoned waiters (e.g. a cancelled batch of 16 in-flight calls at 20/s costs 0.8 s once).
//! [`RateLimiter::reserve`] on its own never gives a slot back.
//!
//! The state lives behind one [`Arc`], so every clone of a client shares the same quota
//! (cloning never multiplies it).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ms_gcra::{Gcra, KeyedGcra, Reserved};

use crate::clock::{Clock, SystemClock};
use crate::error::Error;

#[cfg(feature = "redis")]
pub mod redis;

/// A rate: `burst` requests may go back to back, then one every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    interval: Duration,
    burst: u32,
}

impl RateLimit {
    /// `requests` per second, burst 1 (evenly spaced). `requests` of 0 is treated as 1.
    pub fn per_second(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(1))
    }

    /// `requests` per `period`, burst 1. A zero count is treated as 1.
    pub fn new(requests: u32, period: Duration) -> Self {
        let requests = requests.max(1);
        let nanos = period.as_nanos() / u128::from(requests);
        let interval = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX).max(1));
        Self { interval, burst: 1 }
    }

    /// Allows `burst` requests back to back (at least 1).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// The spacing between two requests in steady state.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The number of requests that may go back to back.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The steady-state rate in requests per second.
    pub fn requests_per_second(&self) -> f64 {
        1.0 / self.interval.as_secs_f64()
    }

    /// This rate times `share` (0 < share ≤ 1; anything else is taken as 1): the interval
    /// grows by `1 / share` (rounded up), the burst shrinks by `share` (at least 1).
    pub fn scaled(self, share: f64) -> Self {
        if !(share > 0.0 && share < 1.0) {
            return self;
        }
        let nanos = (self.interval.as_nanos() as f64 / share).ceil();
        let interval = if nanos >= u64::MAX as f64 {
            Duration::from_nanos(u64::MAX)
        } else {
            Duration::from_nanos(nanos as u64)
        };
        let burst = ((f64::from(self.burst) * share).floor() as u32).max(1);
        Self { interval, burst }
    }
}

/// Which quotas the limiter applies.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    enabled: bool,
    default: RateLimit,
    overrides: HashMap<String, RateLimit>,
}

/// The documented default quota of every ms action: 20 requests per second.
pub const DEFAULT_RATE_PER_SECOND: u32 = 20;

impl RateLimitConfig {
    /// The documented ms quotas: 20/s for every action, 1500/s for `DescribeUrlDetectionResult`.
    pub fn ms_defaults() -> Self {
        let mut overrides = HashMap::new();
        overrides.insert(
            "DescribeUrlDetectionResult".to_owned(),
            RateLimit::per_second(1500),
        );
        Self {
            enabled: true,
            default: RateLimit::per_second(DEFAULT_RATE_PER_SECOND),
            overrides,
        }
    }

    /// No client-side rate limiting at all.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::ms_defaults()
        }
    }

    /// Sets the quota of every action without an override.
    pub fn with_default(mut self, limit: RateLimit) -> Self {
        self.default = limit;
        self
    }

    /// Sets the quota of one action.
    pub fn with_override(mut self, action: impl Into<String>, limit: RateLimit) -> Self {
        self.overrides.insert(action.into(), limit);
        self
    }

    /// Whether limiting is switched on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The quota applied to `action`.
    pub fn limit_for(&self, action: &str) -> RateLimit {
        self.overrides.get(action).copied().unwrap_or(self.default)
    }

    /// The same quotas times `share` (see [`RateLimit::scaled`]): what one process may use
    /// on its own when the shared limiter is out of reach.
    pub fn scaled(&self, share: f64) -> Self {
        Self {
            enabled: self.enabled,
            default: self.default.scaled(share),
            overrides: self
                .overrides
                .iter()
                .map(|(action, limit)| (action.clone(), limit.scaled(share)))
                .collect(),
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self::ms_defaults()
    }
}

/// The quota dimension: one independent limit per (action, region, SecretId).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LimiterKey {
    /// Action name, e.g. `CreateScanInstances`.
    pub action: String,
    /// Region (`""` when none is sent).
    pub region: String,
    /// The SecretId the request is signed with (an identifier, not a secret).
    pub secret_id: String,
}

impl LimiterKey {
    /// Builds a key.
    pub fn new(action: &str, region: &str, secret_id: &str) -> Self {
        Self {
            action: action.to_owned(),
            region: region.to_owned(),
            secret_id: secret_id.to_owned(),
        }
    }
}

/// What [`Limiter::acquire`] returns: the time waited for the slot, or why no slot could
/// be had (a shared limiter that is unreachable with [`FailureMode::Fail`]).
///
/// [`FailureMode::Fail`]: crate::ratelimit::redis::FailureMode::Fail
pub type AcquireFuture<'a> = Pin<Box<dyn Future<Output = Result<Duration, Error>> + Send + 'a>>;

/// A rate limiter the client waits on before every attempt: the in-process [`RateLimiter`]
/// (the default) or, with the `redis` feature, [`redis::RedisLimiter`], which shares one
/// schedule between processes and machines.
///
/// Both reserve an absolute slot on the key's GCRA schedule and sleep until it; dropping the
/// future while it sleeps gives the slot back where it can (see the module docs).
pub trait Limiter: Send + Sync + fmt::Debug {
    /// Reserves the next slot of `key` and sleeps until it. Returns the time waited.
    fn acquire<'a>(&'a self, key: &'a LimiterKey) -> AcquireFuture<'a>;

    /// The quotas applied.
    fn config(&self) -> &RateLimitConfig;
}

impl<T: Limiter + ?Sized> Limiter for Arc<T> {
    fn acquire<'a>(&'a self, key: &'a LimiterKey) -> AcquireFuture<'a> {
        (**self).acquire(key)
    }

    fn config(&self) -> &RateLimitConfig {
        (**self).config()
    }
}

/// The GCRA parameters of a rate, in nanoseconds.
pub(crate) fn gcra_nanos(limit: RateLimit) -> Gcra {
    Gcra::new(nanos(limit.interval), limit.burst)
}

/// A keyed GCRA rate limiter in this process, shared by every clone.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<LimiterInner>,
}

struct LimiterInner {
    config: RateLimitConfig,
    clock: Arc<dyn Clock>,
    keys: KeyedGcra<LimiterKey>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("config", &self.inner.config)
            .field("clock", &self.inner.clock)
            .field("keys", &self.inner.keys)
            .finish()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl RateLimiter {
    /// A limiter on the system clock (monotonic).
    pub fn new(config: RateLimitConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock::new()))
    }

    /// A limiter on the given clock (a [`crate::clock::FakeClock`] in tests). Only the
    /// clock's [`monotonic`](Clock::monotonic) time is read.
    pub fn with_clock(config: RateLimitConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(LimiterInner {
                config,
                clock,
                keys: KeyedGcra::new(),
            }),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &RateLimitConfig {
        &self.inner.config
    }

    /// The number of keys whose state is held. Idle keys (whose schedule has caught up with
    /// now) are forgotten as new keys come, so rotating SecretIds do not grow it.
    pub fn tracked_keys(&self) -> usize {
        self.inner.keys.len()
    }

    /// Forgets every idle key now (it happens by itself as keys are added).
    pub fn retain_recent(&self) -> usize {
        self.inner
            .keys
            .retain_recent(nanos(self.inner.clock.monotonic()))
    }

    /// Reserves the next slot for `key` and returns how long the caller must wait for it
    /// (zero when it may go now). Never blocks. Always `Duration::ZERO` when disabled.
    pub fn reserve(&self, key: &LimiterKey) -> Duration {
        self.reserve_slot(key)
            .map_or(Duration::ZERO, |(wait, _)| wait)
    }

    fn reserve_slot(&self, key: &LimiterKey) -> Option<(Duration, Reserved)> {
        if !self.inner.config.enabled {
            return None;
        }
        let gcra = gcra_nanos(self.inner.config.limit_for(&key.action));
        let now = nanos(self.inner.clock.monotonic());
        let reserved = self.inner.keys.reserve(key, gcra, now);
        let wait = Duration::from_nanos(reserved.reservation.wait(now));
        Some((wait, reserved))
    }

    /// Reserves a slot and sleeps until it (asynchronously). Returns the time waited.
    ///
    /// Dropping the future while it sleeps gives the slot back if no later reservation was
    /// made for the key (see the module docs).
    pub async fn acquire(&self, key: &LimiterKey) -> Duration {
        let Some((wait, reserved)) = self.reserve_slot(key) else {
            return Duration::ZERO;
        };
        if !wait.is_zero() {
            let mut pending = PendingSlot(Some(reserved));
            tokio::time::sleep(wait).await;
            pending.0 = None;
        }
        wait
    }
}

impl Limiter for RateLimiter {
    fn acquire<'a>(&'a self, key: &'a LimiterKey) -> AcquireFuture<'a> {
        Box::pin(async move { Ok(RateLimiter::acquire(self, key).await) })
    }

    fn config(&self) -> &RateLimitConfig {
        RateLimiter::config(self)
    }
}

/// Gives a slot back when the waiter is dropped before reaching it, provided it is still the
/// latest reservation of its key (the TAT is unchanged since). Rolling back to the TAT seen
/// before the reservation is then exact: the limiter is as if the reservation never happened.
struct PendingSlot(Option<Reserved>);

impl Drop for PendingSlot {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            r.give_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    fn limiter(config: RateLimitConfig) -> (RateLimiter, FakeClock) {
        let clock = FakeClock::new(0);
        (
            RateLimiter::with_clock(config, Arc::new(clock.clone())),
            clock,
        )
    }

    fn key(action: &str) -> LimiterKey {
        LimiterKey::new(action, "ap-guangzhou", "AKIDtest")
    }

    #[test]
    fn evenly_spaces_requests_at_twenty_per_second() {
        let (l, _clock) = limiter(RateLimitConfig::ms_defaults());
        let waits: Vec<_> = (0..5)
            .map(|_| l.reserve(&key("CreateScanInstances")))
            .collect();
        assert_eq!(
            waits,
            (0..5)
                .map(|i| Duration::from_millis(50 * i))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn idle_time_does_not_build_up_credit_beyond_the_burst() {
        let (l, clock) = limiter(RateLimitConfig::ms_defaults());
        let k = key("DescribeScanInstances");
        assert_eq!(l.reserve(&k), Duration::ZERO);
        clock.advance(Duration::from_secs(10));
        assert_eq!(l.reserve(&k), Duration::ZERO);
        assert_eq!(l.reserve(&k), Duration::from_millis(50));
    }

    #[test]
    fn burst_allows_back_to_back_then_spaces() {
        let cfg =
            RateLimitConfig::ms_defaults().with_default(RateLimit::per_second(10).with_burst(3));
        let (l, _clock) = limiter(cfg);
        let k = key("X");
        let waits: Vec<_> = (0..5).map(|_| l.reserve(&k)).collect();
        assert_eq!(
            waits,
            vec![
                Duration::ZERO,
                Duration::ZERO,
                Duration::ZERO,
                Duration::from_millis(100),
                Duration::from_millis(200)
            ]
        );
    }

    #[test]
    fn keys_are_independent_per_action_region_and_secret_id() {
        let (l, _clock) = limiter(RateLimitConfig::ms_defaults());
        assert_eq!(l.reserve(&key("A")), Duration::ZERO);
        assert_eq!(l.reserve(&key("B")), Duration::ZERO);
        assert_eq!(
            l.reserve(&LimiterKey::new("A", "ap-shanghai", "AKIDtest")),
            Duration::ZERO
        );
        assert_eq!(
            l.reserve(&LimiterKey::new("A", "ap-guangzhou", "AKIDother")),
            Duration::ZERO
        );
        assert_eq!(l.reserve(&key("A")), Duration::from_millis(50));
    }

    #[test]
    fn per_action_override_for_url_detection() {
        let (l, _clock) = limiter(RateLimitConfig::ms_defaults());
        let k = key("DescribeUrlDetectionResult");
        l.reserve(&k);
        let second = l.reserve(&k);
        assert_eq!(second, Duration::from_nanos(1_000_000_000 / 1500));
    }

    #[test]
    fn disabled_never_waits() {
        let (l, _clock) = limiter(RateLimitConfig::disabled());
        for _ in 0..100 {
            assert_eq!(l.reserve(&key("A")), Duration::ZERO);
        }
    }

    #[test]
    fn clones_share_one_quota() {
        let (l, _clock) = limiter(RateLimitConfig::ms_defaults());
        let l2 = l.clone();
        assert_eq!(l.reserve(&key("A")), Duration::ZERO);
        assert_eq!(l2.reserve(&key("A")), Duration::from_millis(50));
    }

    #[test]
    fn concurrent_callers_get_distinct_slots_in_reservation_order() {
        let (l, _clock) = limiter(RateLimitConfig::ms_defaults());
        let mut handles = Vec::new();
        for _ in 0..8 {
            let l = l.clone();
            handles.push(std::thread::spawn(move || {
                (0..50).map(|_| l.reserve(&key("A"))).collect::<Vec<_>>()
            }));
        }
        let mut all: Vec<Duration> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        // Each thread sees its own slots increasing (first come, first served).
        all.sort();
        let expected: Vec<_> = (0..400u64).map(|i| Duration::from_millis(50 * i)).collect();
        assert_eq!(all, expected, "every slot handed out exactly once");
    }

    #[test]
    fn rotating_secret_ids_do_not_grow_the_limiter() {
        // A temporary SecretId per request for 100,000 requests, 10 ms apart (at 20/s each
        // key's schedule has caught up 50 ms later): the limiter forgets idle keys.
        let (l, clock) = limiter(RateLimitConfig::ms_defaults());
        let mut peak = 0;
        for i in 0..100_000 {
            let k = LimiterKey::new(
                "CreateScanInstances",
                "ap-guangzhou",
                &format!("AKIDtmp{i}"),
            );
            assert_eq!(l.reserve(&k), Duration::ZERO);
            clock.advance(Duration::from_millis(10));
            peak = peak.max(l.tracked_keys());
        }
        assert!(peak <= 2048, "peak {peak} keys tracked");
        clock.advance(Duration::from_secs(1));
        assert_eq!(l.retain_recent(), 0);
        // Keys still waiting for their slot are never forgotten.
        let busy = key("Busy");
        l.reserve(&busy);
        l.reserve(&busy);
        assert_eq!(l.retain_recent(), 1);
        assert_eq!(l.reserve(&busy), Duration::from_millis(100));
    }

    #[test]
    fn scaled_quotas_for_a_share_of_the_account() {
        let cfg = RateLimitConfig::ms_defaults().scaled(0.25);
        assert_eq!(
            cfg.limit_for("CreateScanInstances").interval(),
            Duration::from_millis(200)
        );
        assert!(
            (cfg.limit_for("DescribeUrlDetectionResult")
                .requests_per_second()
                - 375.0)
                .abs()
                < 0.01
        );
        assert_eq!(
            RateLimit::per_second(10).with_burst(8).scaled(0.5).burst(),
            4
        );
        assert_eq!(
            RateLimit::per_second(10).scaled(0.0),
            RateLimit::per_second(10)
        );
        assert_eq!(
            RateLimit::per_second(10).scaled(f64::NAN),
            RateLimit::per_second(10)
        );
        assert!(!RateLimitConfig::disabled().scaled(0.5).is_enabled());
    }

    #[test]
    fn rate_constructors() {
        assert_eq!(RateLimit::per_second(0).interval(), Duration::from_secs(1));
        assert_eq!(
            RateLimit::per_second(500).interval(),
            Duration::from_millis(2)
        );
        assert!((RateLimit::per_second(20).requests_per_second() - 20.0).abs() < 1e-9);
        assert_eq!(RateLimit::per_second(5).with_burst(0).burst(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_sleeps_asynchronously_until_the_slot() {
        let l = RateLimiter::with_clock(
            RateLimitConfig::ms_defaults(),
            Arc::new(crate::clock::TokioClock::new()),
        );
        let k = key("A");
        let start = tokio::time::Instant::now();
        let mut waits = Vec::new();
        for _ in 0..3 {
            waits.push(l.acquire(&k).await);
        }
        // With a paused tokio clock, sleeping advances virtual time exactly to each slot.
        assert_eq!(
            waits,
            vec![
                Duration::ZERO,
                Duration::from_millis(50),
                Duration::from_millis(50)
            ]
        );
        assert_eq!(
            tokio::time::Instant::now() - start,
            Duration::from_millis(100)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn many_waiting_tasks_are_served_first_come_first_served() {
        let l = RateLimiter::with_clock(
            RateLimitConfig::ms_defaults(),
            Arc::new(crate::clock::TokioClock::new()),
        );
        let start = tokio::time::Instant::now();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..50u64 {
            let (l, order) = (l.clone(), Arc::clone(&order));
            handles.push(tokio::spawn(async move {
                l.acquire(&key("Fair")).await;
                let at = tokio::time::Instant::now() - start;
                order.lock().map(|mut o| o.push((i, at))).ok();
            }));
            // Let the task reserve before the next one is spawned.
            tokio::task::yield_now().await;
        }
        for h in handles {
            h.await.ok();
        }
        let order = order.lock().map(|o| o.clone()).unwrap_or_default();
        assert_eq!(order.len(), 50);
        for (pos, (i, at)) in order.iter().enumerate() {
            assert_eq!(*i, pos as u64, "served in arrival order");
            assert_eq!(*at, Duration::from_millis(50 * i), "each at its own slot");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_dropped_at_the_tail_gives_its_slot_back() {
        use futures_util::FutureExt;
        let (l, _clock) = limiter(RateLimitConfig::ms_defaults());
        let k = key("Dropped");
        assert_eq!(l.acquire(&k).now_or_never(), Some(Duration::ZERO));
        // Reserves the 50 ms slot, then is dropped while sleeping.
        assert!(l.acquire(&k).now_or_never().is_none());
        assert_eq!(
            l.reserve(&k),
            Duration::from_millis(50),
            "the abandoned slot is handed out again"
        );
        // Abandoning again and again does not push the schedule out.
        for _ in 0..100 {
            assert!(l.acquire(&k).now_or_never().is_none());
        }
        assert_eq!(l.reserve(&k), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_dropped_mid_queue_leaves_its_slot_unused_but_never_exceeds_the_quota() {
        use futures_util::FutureExt;
        let (l, _clock) = limiter(RateLimitConfig::ms_defaults());
        let k = key("Mid");
        assert_eq!(l.reserve(&k), Duration::ZERO);
        let mut first = Box::pin(l.acquire(&k)); // slot 50 ms
        assert!((&mut first).now_or_never().is_none());
        let mut second = Box::pin(l.acquire(&k)); // slot 100 ms
        assert!((&mut second).now_or_never().is_none());
        drop(first);
        assert_eq!(
            l.reserve(&k),
            Duration::from_millis(150),
            "not the tail: the 50 ms slot stays used (documented)"
        );
        drop(second);
        assert_eq!(l.reserve(&k), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_completed_wait_keeps_its_slot() {
        let l = RateLimiter::with_clock(
            RateLimitConfig::ms_defaults(),
            Arc::new(crate::clock::TokioClock::new()),
        );
        let k = key("Done");
        assert_eq!(l.acquire(&k).await, Duration::ZERO);
        assert_eq!(l.acquire(&k).await, Duration::from_millis(50));
        // 50 ms have passed; the next slot is at 100 ms.
        assert_eq!(l.reserve(&k), Duration::from_millis(50));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Whatever the arrival pattern, the granted slots never exceed the quota: in any
            /// window of length w there are at most burst + floor(w / interval) slots, every
            /// slot is at or after its request, and slots are handed out in order.
            #[test]
            fn slots_respect_the_quota(
                rate in 1u32..2000,
                burst in 1u32..30,
                gaps in proptest::collection::vec(0u64..200_000_000, 1..200),
            ) {
                let cfg = RateLimitConfig::ms_defaults().with_default(RateLimit::per_second(rate).with_burst(burst));
                let (l, clock) = limiter(cfg);
                let k = key("P");
                let interval = RateLimit::per_second(rate).interval();
                let mut slots = Vec::new();
                for gap in gaps {
                    clock.advance(Duration::from_nanos(gap));
                    let now = clock.monotonic();
                    let slot = now + l.reserve(&k);
                    slots.push(slot);
                }
                for w in slots.windows(2) {
                    prop_assert!(w[0] <= w[1], "slots in reservation order");
                }
                // Window check anchored at every slot.
                for (i, start) in slots.iter().enumerate() {
                    let window = interval * 10;
                    let n = slots[i..].iter().take_while(|s| **s < *start + window).count() as u64;
                    prop_assert!(n <= u64::from(burst) + 10, "{n} slots within 10 intervals (burst {burst})");
                }
            }
        }
    }
}
