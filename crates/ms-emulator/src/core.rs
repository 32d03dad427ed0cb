//! Shared emulator core: configuration, state and its store, limiter, faults, callbacks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use serde_json::json;
use tokio::sync::mpsc;

use crate::body::BodyBudget;
use crate::callbacks::CallbackPolicy;
use crate::config::{EmulatorConfig, FaultConfig};
use crate::findings::{self, FindingsJson, Prng, ScanTypes};
use crate::ratelimit::RateLimiter;
use crate::state::{CallbackDelivery, DeliveryStatus, State};
use crate::store::{Commit, Store};

/// Fault decisions for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FaultPlan {
    pub drop: bool,
    /// The dropped connection comes after the request was processed (half of the drops):
    /// the client cannot tell whether it was.
    pub drop_after: bool,
    pub error_5xx: bool,
    pub truncate: bool,
    pub malformed: bool,
    pub throttle: bool,
}

pub(crate) struct Core {
    pub config: EmulatorConfig,
    pub accounts: HashMap<String, String>,
    state: Mutex<State>,
    faults: RwLock<FaultConfig>,
    pub limiter: RateLimiter,
    /// Request-body bytes that may be held at once.
    pub body_budget: BodyBudget,
    /// TC3 verification with a cache of derived keys (per key, UTC day and service).
    pub signer: tc3_sign::Tc3Signer,
    fault_counter: AtomicU64,
    throttle_burst: AtomicU64,
    /// The `--state` file, if any.
    pub store: Option<Store>,
    /// Where callbacks may be delivered.
    pub callback_policy: CallbackPolicy,
    callbacks_tx: mpsc::UnboundedSender<u64>,
    /// Serialized findings per (MD5, scan types): they are deterministic, so repeated
    /// DescribeScanResults calls embed them instead of generating and serializing them again.
    findings_cache: Mutex<HashMap<(String, ScanTypes), Arc<FindingsJson>>>,
    empty_findings: OnceLock<Arc<FindingsJson>>,
}

/// Findings kept in the cache (about 4 KB each: at most ≈ 8 MB); when full it is emptied and
/// refilled by use.
const FINDINGS_CACHE_ENTRIES: usize = 2048;

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Core {
    pub(crate) fn new(
        config: EmulatorConfig,
        state: State,
        store: Option<Store>,
        callback_policy: CallbackPolicy,
        callbacks_tx: mpsc::UnboundedSender<u64>,
    ) -> Self {
        let accounts = config.accounts.iter().cloned().collect();
        let burst = u64::from(config.faults.throttle_burst);
        let body_budget = BodyBudget::new(config.limits.max_inflight_body_bytes);
        Self {
            faults: RwLock::new(config.faults.clone()),
            config,
            accounts,
            state: Mutex::new(state),
            limiter: RateLimiter::default(),
            body_budget,
            signer: tc3_sign::Tc3Signer::new(),
            fault_counter: AtomicU64::new(0),
            throttle_burst: AtomicU64::new(burst),
            store,
            callback_policy,
            callbacks_tx,
            findings_cache: Mutex::new(HashMap::new()),
            empty_findings: OnceLock::new(),
        }
    }

    /// The serialized findings of a finished scan of `md5` with these scan types (cached).
    pub(crate) fn findings_json(&self, md5: &str, types: ScanTypes) -> Arc<FindingsJson> {
        let key = (md5.to_owned(), types);
        if let Some(f) = self
            .findings_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return f.clone();
        }
        let f = Arc::new(FindingsJson::from(&findings::findings(md5, types)));
        let mut cache = self
            .findings_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() >= FINDINGS_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, f.clone());
        f
    }

    /// The serialized findings of a scan that is not (successfully) finished.
    pub(crate) fn empty_findings_json(&self) -> Arc<FindingsJson> {
        self.empty_findings
            .get_or_init(|| Arc::new(FindingsJson::from(&findings::empty_findings())))
            .clone()
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn faults(&self) -> FaultConfig {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_faults(&self, f: FaultConfig) {
        self.throttle_burst
            .store(u64::from(f.throttle_burst), Ordering::SeqCst);
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = f;
    }

    /// Takes one request of the current throttling storm, if any is left.
    pub(crate) fn take_throttle_burst(&self) -> bool {
        self.throttle_burst
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The server's notion of now (clock + fault offset), Unix ms.
    pub(crate) fn now_ms(&self) -> u64 {
        let base = self.config.clock.now_ms();
        let offset = self.faults.read().map(|f| f.clock_offset_secs).unwrap_or(0);
        let shifted = i128::from(base) + i128::from(offset) * 1000;
        u64::try_from(shifted.max(0)).unwrap_or(u64::MAX)
    }

    pub(crate) fn scan_ms(&self) -> u64 {
        u64::try_from(self.config.scan_duration.as_millis()).unwrap_or(u64::MAX)
    }

    /// Decides the faults of the next request.
    pub(crate) fn plan_faults(&self, f: &FaultConfig) -> FaultPlan {
        let n = self.fault_counter.fetch_add(1, Ordering::SeqCst);
        let mut r = Prng::from_seed(f.seed ^ n.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let mut roll = |share: f64| share > 0.0 && r.unit() < share;
        let drop = roll(f.drop_connection);
        FaultPlan {
            drop,
            drop_after: drop && roll(0.5),
            error_5xx: roll(f.error_5xx),
            truncate: roll(f.truncate_body),
            malformed: roll(f.malformed_body),
            throttle: roll(f.throttle),
        }
    }

    /// Finishes due scans and creates their callback deliveries (scheduled by
    /// [`Core::transact`]).
    pub(crate) fn advance_locked(&self, st: &mut State, now_ms: u64) {
        for sid in st.advance(now_ms, self.scan_ms()) {
            if let Some(delivery) = self.delivery_for(st, &sid, now_ms) {
                st.push_delivery(|id| CallbackDelivery { id, ..delivery });
            }
        }
    }

    /// The delivery a finished scan gets (its id still to be given), or `None` when its task
    /// has no `CallbackUrl`.
    fn delivery_for(&self, st: &State, sid: &str, now_ms: u64) -> Option<CallbackDelivery> {
        let scan = st.scan(sid)?;
        let task = st.task(&scan.item_id)?;
        if task.callback_url.is_empty() {
            // No CallbackUrl: no notification, no delivery record.
            return None;
        }
        let (scan_code, _, _) = scan.status.status_info();
        let body = json!({"Response": {
            "ItemId": scan.item_id,
            "AppSid": scan.app_sid,
            "AppMd5": scan.app.app_md5,
            "ScanCode": scan_code,
            "TaskStatus": scan.status.code(),
            "TaskTime": scan.submitted_ms / 1000,
        }})
        .to_string();
        let (status, last_error) = match self.callback_policy.target(&task.callback_url) {
            Ok(_) => (DeliveryStatus::Pending, None),
            Err(e) => (DeliveryStatus::Refused, Some(e)),
        };
        Some(CallbackDelivery {
            id: 0,
            item_id: scan.item_id.clone(),
            app_sid: sid.to_owned(),
            app_md5: scan.app.app_md5.clone(),
            url: task.callback_url.clone(),
            body,
            status,
            attempts: 0,
            last_error,
            created_ms: now_ms,
            delivered_ms: None,
        })
    }

    /// Runs `f` on the state with the scans due at `now_ms` finished (before and after it),
    /// hands the changes to the store under the lock (so their order is kept) and schedules
    /// new deliveries. The commit resolves once the changes are durable; a caller that
    /// answers a client waits for it first.
    pub(crate) fn transact<R>(&self, now_ms: u64, f: impl FnOnce(&mut State) -> R) -> (R, Commit) {
        let mut st = self.lock_state();
        self.advance_locked(&mut st, now_ms);
        let out = f(&mut st);
        self.advance_locked(&mut st, now_ms);
        let commit = self.commit_locked(&mut st);
        let to_send = st.take_new_deliveries();
        drop(st);
        self.schedule(to_send);
        (out, commit)
    }

    /// Hands the state's pending changes to the store (call with the lock held).
    pub(crate) fn commit_locked(&self, st: &mut State) -> Commit {
        match &self.store {
            Some(store) => store.submit(st.take_changes()),
            None => Commit::done(),
        }
    }

    /// Changes one delivery and hands the change to the store (nobody waits for it: a
    /// failed write stops the emulator). `None` if the delivery is no longer kept.
    pub(crate) fn update_delivery<R>(
        &self,
        id: u64,
        f: impl FnOnce(&mut CallbackDelivery) -> R,
    ) -> Option<R> {
        let mut st = self.lock_state();
        let out = st.update_delivery(id, f);
        let _ = self.commit_locked(&mut st);
        out
    }

    /// Queues deliveries for the callback worker.
    pub(crate) fn schedule(&self, deliveries: Vec<u64>) {
        for id in deliveries {
            let _ = self.callbacks_tx.send(id);
        }
    }

    /// Whether the state file can no longer be written (every request is refused then).
    pub(crate) fn store_failed(&self) -> bool {
        self.store.as_ref().is_some_and(Store::has_failed)
    }

    /// Re-queues pending deliveries (after a restart).
    pub(crate) fn resume_deliveries(&self) {
        let ids: Vec<u64> = self
            .lock_state()
            .deliveries()
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending)
            .map(|d| d.id)
            .collect();
        self.schedule(ids);
    }
}
