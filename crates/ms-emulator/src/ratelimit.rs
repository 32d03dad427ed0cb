//! GCRA rate limiter keyed by (action, region, SecretId), driven by the emulator's clock.

use std::collections::HashMap;
use std::sync::Mutex;

/// Key of one quota.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub action: String,
    pub region: String,
    pub secret_id: String,
}

/// A keyed GCRA limiter allowing `rate` requests per second with a burst of `rate`.
///
/// Times are microseconds of the emulator clock; the state of each key is its
/// theoretical arrival time (TAT).
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    tats: Mutex<HashMap<Key, u64>>,
}

/// Keys kept before idle ones are pruned.
const PRUNE_ABOVE: usize = 4096;

impl RateLimiter {
    /// Checks one request at `now_ms` against `rate` per second (0 = unlimited).
    /// Returns `Ok(())` if allowed, else `Err(retry_after_ms)`.
    pub(crate) fn check(&self, key: &Key, rate: u32, now_ms: u64) -> Result<(), u64> {
        if rate == 0 {
            return Ok(());
        }
        let now = now_ms.saturating_mul(1000);
        let interval = 1_000_000 / u64::from(rate);
        let tolerance = interval * u64::from(rate - 1);
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        if tats.len() > PRUNE_ABOVE {
            tats.retain(|_, tat| *tat > now);
        }
        let mut tat = tats.get(key).copied().unwrap_or(now).max(now);
        if tat - now > tolerance + interval {
            // Further ahead than any run of requests can push it: the clock went back
            // (a clock offset set at run time, a manual clock, a system clock step). Start
            // this key afresh rather than refusing it for the time the clock jumped.
            tat = now;
        }
        if tat - now > tolerance {
            let wait_us = tat - now - tolerance;
            return Err(wait_us.div_ceil(1000));
        }
        match tats.get_mut(key) {
            Some(v) => *v = tat + interval,
            None => {
                tats.insert(key.clone(), tat + interval);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(a: &str) -> Key {
        Key {
            action: a.into(),
            region: String::new(),
            secret_id: "id".into(),
        }
    }

    #[test]
    fn allows_a_burst_of_rate_then_one_per_interval() {
        let l = RateLimiter::default();
        let k = key("A");
        for _ in 0..20 {
            assert!(l.check(&k, 20, 1_000).is_ok());
        }
        assert_eq!(l.check(&k, 20, 1_000), Err(50));
        assert!(l.check(&k, 20, 1_049).is_err());
        assert!(l.check(&k, 20, 1_050).is_ok());
        assert!(l.check(&k, 20, 1_050).is_err());
        // Other keys are independent.
        assert!(l.check(&key("B"), 20, 1_050).is_ok());
    }

    #[test]
    fn a_clock_going_back_does_not_lock_a_key_out() {
        let l = RateLimiter::default();
        let k = key("A");
        for _ in 0..20 {
            assert!(l.check(&k, 20, 1_000_000).is_ok());
        }
        assert!(l.check(&k, 20, 1_000_000).is_err());
        // 400 s earlier: a fresh burst, not 400 s of refusals.
        for _ in 0..20 {
            assert!(l.check(&k, 20, 600_000).is_ok());
        }
        assert!(l.check(&k, 20, 600_000).is_err());
    }

    #[test]
    fn zero_means_unlimited_and_rate_one_works() {
        let l = RateLimiter::default();
        for _ in 0..1000 {
            assert!(l.check(&key("A"), 0, 0).is_ok());
        }
        assert!(l.check(&key("C"), 1, 0).is_ok());
        assert!(l.check(&key("C"), 1, 999).is_err());
        assert!(l.check(&key("C"), 1, 1000).is_ok());
    }
}
