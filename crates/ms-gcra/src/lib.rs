//! # ms-gcra
//!
//! The generic cell rate algorithm (GCRA) as **one pure decision**, the arithmetic shared by
//! the client's waiting rate limiter (`ms-transport`), the emulator's yes/no quota check
//! (`ms-emulator`) and, spelled in Lua, the shared limiter on Redis (checked against this
//! crate by `ms-transport`'s tests).
//!
//! GCRA keeps one number per key, the *theoretical arrival time* (TAT): the instant at which
//! the key would be back to "no request in flight" if requests had come at exactly the
//! allowed rate. With an emission interval `T` (time between two requests in steady state)
//! and a tolerance `τ = T × (burst − 1)`:
//!
//! * [`Gcra::reserve`] (a *waiting* limiter) always grants, at the slot
//!   `max(TAT − τ, now)`, and moves the TAT to `max(TAT, now) + T`. The caller sleeps until
//!   its slot; the schedule is absolute, so late wake-ups never accumulate.
//! * [`Gcra::test`] (a *yes/no* limiter, as a server enforces its quota) admits a request
//!   when `max(TAT, now) − now ≤ τ` and then moves the TAT by `T`; otherwise it refuses and
//!   says how long to wait. This is governor's `Gcra::test_and_update`.
//!
//! Time is an input, in any unit the caller picks ("ticks": nanoseconds in the client,
//! microseconds on Redis), and must come from a **monotonic** clock: the decision never
//! reads a clock and does no I/O. A TAT of 0 is a key never seen.
//!
//! A key whose TAT is at or before `now` is in exactly the state of a key never seen
//! ([`is_idle`]), so it can be forgotten without changing any decision. [`KeyedGcra`] keeps
//! one TAT per key in an [`AtomicU64`](std::sync::atomic::AtomicU64) (one compare-and-swap
//! per decision) and forgets idle keys as it grows (governor's `retain_recent`), so keys that
//! come and go (rotating temporary SecretIds) do not grow it for the life of the process.
//!
//! ```
//! use ms_gcra::{Decision, Gcra};
//!
//! // 20 requests per second (in milliseconds), burst 1.
//! let gcra = Gcra::new(50, 1);
//! let first = gcra.reserve(0, 1_000);
//! assert_eq!((first.slot, first.tat), (1_000, 1_050));
//! let second = gcra.reserve(first.tat, 1_000);
//! assert_eq!(second.slot, 1_050); // wait 50 ms
//! // The yes/no form refuses instead of queueing.
//! assert_eq!(gcra.test(second.tat, 1_000), Decision::Deny { wait: 100 });
//! ```
//!
//! # Cargo features
//!
//! None.
#![warn(missing_docs)]

mod keyed;

pub use keyed::{KeyedGcra, Reserved};

/// A rate: one request every `interval` ticks in steady state, `burst` back to back.
///
/// Plain data (two numbers); the decisions are pure functions of it, the key's TAT and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gcra {
    interval: u64,
    tolerance: u64,
}

impl Gcra {
    /// One request every `interval` ticks, `burst` of them back to back. An interval of 0
    /// is taken as 1 tick and a burst of 0 as 1 (a rate is never unlimited).
    pub const fn new(interval: u64, burst: u32) -> Self {
        let interval = if interval == 0 { 1 } else { interval };
        let burst = if burst == 0 { 1 } else { burst };
        Self {
            interval,
            tolerance: interval.saturating_mul(burst as u64 - 1),
        }
    }

    /// `count` requests per `period` ticks (the interval rounded down, at least 1 tick),
    /// `burst` back to back.
    pub const fn per_period(count: u32, period: u64, burst: u32) -> Self {
        let count = if count == 0 { 1 } else { count };
        Self::new(period / count as u64, burst)
    }

    /// The emission interval `T`: ticks between two requests in steady state.
    pub const fn interval(self) -> u64 {
        self.interval
    }

    /// The tolerance `τ = T × (burst − 1)`: how far ahead of now the TAT may run while a
    /// request is still admitted at once.
    pub const fn tolerance(self) -> u64 {
        self.tolerance
    }

    /// Reserves the next slot (a waiting limiter: always granted). `tat` is the key's state
    /// (0 for a key never seen), `now` the current monotonic time.
    pub const fn reserve(self, tat: u64, now: u64) -> Reservation {
        let earliest = tat.saturating_sub(self.tolerance);
        let slot = if earliest > now { earliest } else { now };
        let base = if tat > now { tat } else { now };
        Reservation {
            slot,
            tat: base.saturating_add(self.interval),
            previous: tat,
        }
    }

    /// Admits or refuses one request now (a yes/no limiter; governor's `test_and_update`).
    pub const fn test(self, tat: u64, now: u64) -> Decision {
        let tat = if tat > now { tat } else { now };
        let ahead = tat - now;
        if ahead > self.tolerance {
            Decision::Deny {
                wait: ahead - self.tolerance,
            }
        } else {
            Decision::Allow {
                tat: tat.saturating_add(self.interval),
            }
        }
    }
}

/// Whether a key whose TAT is `tat` is, at `now`, in the state of a key never seen: then it
/// can be forgotten without changing any later decision (governor's `retain_recent`).
pub const fn is_idle(tat: u64, now: u64) -> bool {
    tat <= now
}

/// The outcome of [`Gcra::reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// The instant the caller may go (≥ now).
    pub slot: u64,
    /// The key's new TAT.
    pub tat: u64,
    /// The key's TAT before this reservation: restoring it (while the TAT is still
    /// [`tat`](Self::tat), i.e. nobody reserved after) gives the slot back exactly.
    pub previous: u64,
}

impl Reservation {
    /// How long to wait from `now` until the slot.
    pub const fn wait(&self, now: u64) -> u64 {
        self.slot.saturating_sub(now)
    }
}

/// The outcome of [`Gcra::test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Admitted; the key's TAT becomes `tat`.
    Allow {
        /// The key's new TAT.
        tat: u64,
    },
    /// Refused; the earliest admission is `wait` ticks from now. The TAT is unchanged.
    Deny {
        /// Ticks until the request would be admitted.
        wait: u64,
    },
}

impl Decision {
    /// Whether the request is admitted.
    pub const fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_spaces_requests_one_interval_apart() {
        let g = Gcra::new(50, 1);
        let mut tat = 0;
        let mut slots = Vec::new();
        for _ in 0..5 {
            let r = g.reserve(tat, 1_000);
            tat = r.tat;
            slots.push(r.wait(1_000));
        }
        assert_eq!(slots, [0, 50, 100, 150, 200]);
    }

    #[test]
    fn reserve_with_a_burst_goes_back_to_back_then_spaces() {
        let g = Gcra::new(100, 3);
        let mut tat = 0;
        let waits: Vec<_> = (0..5)
            .map(|_| {
                let r = g.reserve(tat, 0);
                tat = r.tat;
                r.wait(0)
            })
            .collect();
        assert_eq!(waits, [0, 0, 0, 100, 200]);
    }

    #[test]
    fn idle_time_earns_no_credit_beyond_the_burst() {
        let g = Gcra::new(50, 1);
        let r = g.reserve(0, 0);
        let later = g.reserve(r.tat, 10_000);
        assert_eq!(later.wait(10_000), 0);
        assert_eq!(g.reserve(later.tat, 10_000).wait(10_000), 50);
    }

    #[test]
    fn test_admits_a_burst_of_rate_then_one_per_interval() {
        // 20/s with burst 20, in microseconds: what the emulator enforces.
        let g = Gcra::new(50_000, 20);
        let mut tat = 0;
        for _ in 0..20 {
            match g.test(tat, 1_000_000) {
                Decision::Allow { tat: t } => tat = t,
                Decision::Deny { .. } => panic!("refused within the burst"),
            }
        }
        assert_eq!(g.test(tat, 1_000_000), Decision::Deny { wait: 50_000 });
        assert!(!g.test(tat, 1_049_999).is_allowed());
        assert!(g.test(tat, 1_050_000).is_allowed());
    }

    #[test]
    fn a_refusal_leaves_the_state_alone_and_rate_one_works() {
        let g = Gcra::per_period(1, 1_000, 1);
        let Decision::Allow { tat } = g.test(0, 0) else {
            panic!("first request refused")
        };
        assert_eq!(g.test(tat, 999), Decision::Deny { wait: 1 });
        assert!(g.test(tat, 1_000).is_allowed());
    }

    #[test]
    fn degenerate_parameters_are_clamped() {
        assert_eq!(Gcra::new(0, 0), Gcra::new(1, 1));
        assert_eq!(Gcra::per_period(0, 1_000, 1).interval(), 1_000);
        assert_eq!(Gcra::new(7, 4).tolerance(), 21);
        // Saturating, never overflowing, at the end of time.
        let r = Gcra::new(u64::MAX, u32::MAX).reserve(u64::MAX, u64::MAX);
        assert_eq!(r.tat, u64::MAX);
    }

    #[test]
    fn a_key_at_or_behind_now_decides_like_a_new_key() {
        let g = Gcra::new(50, 4);
        for tat in [0, 10, 99, 100] {
            assert!(is_idle(tat, 100));
            assert_eq!(g.reserve(tat, 100).slot, g.reserve(0, 100).slot);
            assert_eq!(g.reserve(tat, 100).tat, g.reserve(0, 100).tat);
            assert_eq!(g.test(tat, 100), g.test(0, 100));
        }
        assert!(!is_idle(101, 100));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Whatever the arrivals, the reserved slots are in order, never before their
            /// request, and never more than burst + n in any window of n intervals.
            #[test]
            fn reserved_slots_respect_the_rate(
                interval in 1u64..1_000_000,
                burst in 1u32..30,
                gaps in proptest::collection::vec(0u64..2_000_000, 1..200),
            ) {
                let g = Gcra::new(interval, burst);
                let (mut now, mut tat) = (0u64, 0u64);
                let mut slots = Vec::new();
                for gap in gaps {
                    now += gap;
                    let r = g.reserve(tat, now);
                    prop_assert!(r.slot >= now);
                    tat = r.tat;
                    slots.push(r.slot);
                }
                prop_assert!(slots.windows(2).all(|w| w[0] <= w[1]));
                for (i, start) in slots.iter().enumerate() {
                    let n = slots[i..].iter().take_while(|s| **s < start + interval * 10).count();
                    prop_assert!(n as u64 <= u64::from(burst) + 10);
                }
            }

            /// The yes/no form admits exactly the requests whose reservation would not
            /// have had to wait, and the admitted ones never exceed the rate either.
            #[test]
            fn test_admits_what_reserve_would_grant_at_once(
                interval in 1u64..1_000_000,
                burst in 1u32..30,
                gaps in proptest::collection::vec(0u64..2_000_000, 1..200),
            ) {
                let g = Gcra::new(interval, burst);
                let (mut now, mut tat) = (0u64, 0u64);
                let mut admitted = Vec::new();
                for gap in gaps {
                    now += gap;
                    let r = g.reserve(tat, now);
                    match g.test(tat, now) {
                        Decision::Allow { tat: t } => {
                            prop_assert_eq!(r.slot, now);
                            prop_assert_eq!(t, r.tat);
                            tat = t;
                            admitted.push(now);
                        }
                        Decision::Deny { wait } => {
                            prop_assert_eq!(r.wait(now), wait);
                        }
                    }
                }
                for (i, start) in admitted.iter().enumerate() {
                    let n = admitted[i..].iter().take_while(|s| **s < start + interval * 10).count();
                    prop_assert!(n as u64 <= u64::from(burst) + 10);
                }
            }
        }
    }
}
