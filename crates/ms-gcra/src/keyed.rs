//! One TAT per key, in an atomic, with idle keys forgotten as the map grows.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::{Decision, Gcra, Reservation, is_idle};

/// Keys a map holds before its first sweep of idle keys.
const FIRST_SWEEP_AT: usize = 1024;

/// GCRA state for many keys: one TAT per key in an [`AtomicU64`], updated with one
/// compare-and-swap per decision (readers never block each other).
///
/// Idle keys (TAT at or before now: [`is_idle`]) are forgotten by [`retain_recent`]
/// (governor's name), which the map also runs by itself whenever a new key would make it
/// twice as large as after its last sweep (at least 1,024 keys): the map stays within about
/// twice the number of keys active at once, at an amortized constant cost per new key.
/// Forgetting an idle key changes no decision. Decisions and sweeps exclude each other on
/// a read/write lock, so a key is never swept while a decision on it is under way.
///
/// [`retain_recent`]: KeyedGcra::retain_recent
pub struct KeyedGcra<K> {
    keys: RwLock<HashMap<K, Arc<AtomicU64>>>,
    sweep_at: AtomicUsize,
}

impl<K> fmt::Debug for KeyedGcra<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedGcra")
            .field(
                "keys",
                &self
                    .keys
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len(),
            )
            .finish_non_exhaustive()
    }
}

impl<K> Default for KeyedGcra<K> {
    fn default() -> Self {
        Self {
            keys: RwLock::new(HashMap::new()),
            sweep_at: AtomicUsize::new(FIRST_SWEEP_AT),
        }
    }
}

impl<K: Eq + Hash + Clone> KeyedGcra<K> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reserves the next slot of `key` at `now` ([`Gcra::reserve`]). The returned
    /// [`Reserved`] can give the slot back while nobody reserved after it.
    pub fn reserve(&self, key: &K, gcra: Gcra, now: u64) -> Reserved {
        let (reservation, state) = self.update(key, now, |tat| {
            let r = gcra.reserve(tat, now);
            (Some(r.tat), r)
        });
        Reserved { reservation, state }
    }

    /// Admits or refuses one request of `key` at `now` ([`Gcra::test`]).
    pub fn test(&self, key: &K, gcra: Gcra, now: u64) -> Decision {
        self.update(key, now, |tat| {
            let d = gcra.test(tat, now);
            match d {
                Decision::Allow { tat } => (Some(tat), d),
                Decision::Deny { .. } => (None, d),
            }
        })
        .0
    }

    /// Forgets every key that is idle at `now` (no decision changes). Returns how many
    /// keys remain.
    pub fn retain_recent(&self, now: u64) -> usize {
        let mut map = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, tat| !is_idle(tat.load(Ordering::Acquire), now));
        map.len()
    }

    /// The number of keys held.
    pub fn len(&self) -> usize {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies `decide` (old TAT → new TAT to store, if any, and a result) to `key` with a
    /// compare-and-swap loop, under the map's lock so that a sweep cannot interleave.
    fn update<R>(
        &self,
        key: &K,
        now: u64,
        decide: impl Fn(u64) -> (Option<u64>, R),
    ) -> (R, Arc<AtomicU64>) {
        {
            let map = self.keys.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(state) = map.get(key) {
                return (cas_loop(state, &decide), Arc::clone(state));
            }
        }
        let mut map = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if !map.contains_key(key) && map.len() >= self.sweep_at.load(Ordering::Relaxed) {
            map.retain(|_, tat| !is_idle(tat.load(Ordering::Acquire), now));
            let next = (map.len() + 1).saturating_mul(2).max(FIRST_SWEEP_AT);
            self.sweep_at.store(next, Ordering::Relaxed);
        }
        let state = Arc::clone(map.entry(key.clone()).or_default());
        (cas_loop(&state, &decide), state)
    }
}

fn cas_loop<R>(state: &AtomicU64, decide: &impl Fn(u64) -> (Option<u64>, R)) -> R {
    let mut tat = state.load(Ordering::Acquire);
    loop {
        let (new, result) = decide(tat);
        let Some(new) = new else { return result };
        match state.compare_exchange_weak(tat, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return result,
            Err(current) => tat = current,
        }
    }
}

/// A slot reserved by [`KeyedGcra::reserve`].
pub struct Reserved {
    /// The reservation (slot, new and previous TAT).
    pub reservation: Reservation,
    state: Arc<AtomicU64>,
}

impl fmt::Debug for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserved")
            .field("reservation", &self.reservation)
            .finish_non_exhaustive()
    }
}

impl Reserved {
    /// Gives the slot back if it is still the key's latest reservation (its TAT unchanged
    /// since): the key is then exactly as if the reservation never happened. Returns
    /// whether it was given back. A slot with later reservations behind it stays used:
    /// one TAT cannot express a hole in the schedule (this only ever lowers the rate).
    pub fn give_back(self) -> bool {
        self.state
            .compare_exchange(
                self.reservation.tat,
                self.reservation.previous,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_independent_and_clamp_to_their_own_schedule() {
        let m = KeyedGcra::new();
        let g = Gcra::new(50, 1);
        assert_eq!(m.reserve(&"a", g, 0).reservation.slot, 0);
        assert_eq!(m.reserve(&"b", g, 0).reservation.slot, 0);
        assert_eq!(m.reserve(&"a", g, 0).reservation.slot, 50);
        assert!(m.test(&"c", Gcra::new(50, 2), 0).is_allowed());
        assert!(m.test(&"c", Gcra::new(50, 2), 0).is_allowed());
        assert_eq!(
            m.test(&"c", Gcra::new(50, 2), 0),
            Decision::Deny { wait: 50 }
        );
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn a_slot_is_given_back_only_while_it_is_the_latest() {
        let m = KeyedGcra::new();
        let g = Gcra::new(50, 1);
        m.reserve(&1, g, 0);
        let tail = m.reserve(&1, g, 0);
        assert!(tail.give_back());
        let mid = m.reserve(&1, g, 0);
        assert_eq!(
            mid.reservation.slot, 50,
            "the given-back slot is handed out again"
        );
        let behind = m.reserve(&1, g, 0);
        assert!(!mid.give_back(), "a later reservation holds the schedule");
        assert_eq!(behind.reservation.slot, 100);
        assert_eq!(m.reserve(&1, g, 0).reservation.slot, 150);
    }

    #[test]
    fn retain_recent_forgets_only_idle_keys() {
        let m = KeyedGcra::new();
        let g = Gcra::new(50, 1);
        m.reserve(&"old", g, 0); // TAT 50
        m.reserve(&"busy", g, 100); // TAT 150
        assert_eq!(m.retain_recent(100), 1);
        assert_eq!(m.reserve(&"busy", g, 100).reservation.slot, 150);
        // A forgotten key decides exactly like before.
        assert_eq!(m.reserve(&"old", g, 100).reservation.slot, 100);
    }

    #[test]
    fn rotating_keys_do_not_grow_the_map() {
        // A new temporary SecretId every request, for a long time: the map stays bounded.
        let m = KeyedGcra::new();
        let g = Gcra::new(50, 1);
        let mut peak = 0;
        for i in 0..100_000u64 {
            m.reserve(&i, g, i * 10);
            peak = peak.max(m.len());
        }
        assert!(peak <= 2 * FIRST_SWEEP_AT, "peak {peak} keys");
        // With every key active at once (no time passes) nothing may be forgotten.
        let busy = KeyedGcra::new();
        for i in 0..3_000u64 {
            busy.reserve(&i, g, 0);
        }
        assert_eq!(busy.len(), 3_000);
    }

    #[test]
    fn concurrent_reservations_get_distinct_slots() {
        let m = Arc::new(KeyedGcra::new());
        let g = Gcra::new(50, 1);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| m.reserve(&"k", g, 0).reservation.slot)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<u64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..400).map(|i| i * 50).collect::<Vec<_>>());
    }
}
