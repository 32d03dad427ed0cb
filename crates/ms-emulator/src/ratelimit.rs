//! The emulator's quota: a yes/no GCRA per (action, region, SecretId), on the monotonic clock.
//!
//! The decision is [`ms_gcra::Gcra::test`] (the arithmetic the client's limiter reserves its
//! slots with), the state one TAT per key in a [`ms_gcra::KeyedGcra`], which forgets idle keys
//! as it grows. Time is the emulator clock's [`monotonic`](crate::Clock::monotonic) time, so a
//! wall clock that steps back (an injected clock offset, a manual clock, an NTP step) can
//! neither lock a key out nor hand out a second burst.

use std::time::Duration;

use ms_gcra::{Decision, Gcra, KeyedGcra};

/// Key of one quota.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub action: String,
    pub region: String,
    pub secret_id: String,
}

/// A keyed GCRA limiter allowing `rate` requests per second with a burst of `rate`.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    keys: KeyedGcra<Key>,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl RateLimiter {
    /// Checks one request at monotonic time `now` against `rate` per second (0 = unlimited).
    /// Returns `Ok(())` if allowed, else `Err(retry_after_ms)` (rounded up).
    pub(crate) fn check(&self, key: &Key, rate: u32, now: Duration) -> Result<(), u64> {
        if rate == 0 {
            return Ok(());
        }
        let gcra = Gcra::per_period(rate, 1_000_000_000, rate);
        match self.keys.test(key, gcra, nanos(now)) {
            Decision::Allow { .. } => Ok(()),
            Decision::Deny { wait } => Err(wait.div_ceil(1_000_000)),
        }
    }

    /// The number of keys whose state is held (idle ones are forgotten as keys are added).
    #[cfg(test)]
    fn tracked_keys(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn key(a: &str) -> Key {
        Key {
            action: a.into(),
            region: String::new(),
            secret_id: "id".into(),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn allows_a_burst_of_rate_then_one_per_interval() {
        let l = RateLimiter::default();
        let k = key("A");
        for _ in 0..20 {
            assert!(l.check(&k, 20, ms(1_000)).is_ok());
        }
        assert_eq!(l.check(&k, 20, ms(1_000)), Err(50));
        assert!(l.check(&k, 20, ms(1_049)).is_err());
        assert!(l.check(&k, 20, ms(1_050)).is_ok());
        assert!(l.check(&k, 20, ms(1_050)).is_err());
        // Other keys are independent.
        assert!(l.check(&key("B"), 20, ms(1_050)).is_ok());
    }

    #[test]
    fn a_clock_going_back_does_not_lock_a_key_out() {
        // The limiter reads the monotonic time: a wall clock stepped 400 s back changes
        // nothing, neither a lock-out for 400 s nor a fresh burst.
        let clock = ManualClock::new(1_000_000);
        let l = RateLimiter::default();
        let k = key("A");
        for _ in 0..20 {
            assert!(l.check(&k, 20, clock.monotonic()).is_ok());
        }
        assert!(l.check(&k, 20, clock.monotonic()).is_err());
        clock.set(600_000);
        assert_eq!(l.check(&k, 20, clock.monotonic()), Err(50));
        clock.advance(ms(50));
        assert!(l.check(&k, 20, clock.monotonic()).is_ok());
        assert!(l.check(&k, 20, clock.monotonic()).is_err());
    }

    #[test]
    fn zero_means_unlimited_and_rate_one_works() {
        let l = RateLimiter::default();
        for _ in 0..1000 {
            assert!(l.check(&key("A"), 0, ms(0)).is_ok());
        }
        assert!(l.check(&key("C"), 1, ms(0)).is_ok());
        assert!(l.check(&key("C"), 1, ms(999)).is_err());
        assert!(l.check(&key("C"), 1, ms(1000)).is_ok());
    }

    #[test]
    fn rotating_secret_ids_do_not_grow_the_limiter() {
        let l = RateLimiter::default();
        for i in 0..50_000u64 {
            let k = Key {
                action: "CreateScanInstances".into(),
                region: String::new(),
                secret_id: format!("AKIDtmp{i}"),
            };
            assert!(l.check(&k, 20, ms(i * 10)).is_ok());
        }
        assert!(l.tracked_keys() <= 2048, "{} keys", l.tracked_keys());
    }
}
