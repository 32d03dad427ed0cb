//! Shared emulator core: configuration, state, limiter, faults, hooks for callbacks and
//! persistence.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use serde_json::json;
use tokio::sync::{Notify, mpsc};

use crate::body::BodyBudget;
use crate::callbacks::CallbackPolicy;
use crate::config::{EmulatorConfig, FaultConfig};
use crate::findings::{self, FindingsJson, Prng, ScanTypes};
use crate::ratelimit::RateLimiter;
use crate::state::{CallbackDelivery, DeliveryStatus, State};

/// Fault decisions for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FaultPlan {
    pub drop: bool,
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
    dirty: AtomicBool,
    pub persist_notify: Notify,
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
            dirty: AtomicBool::new(false),
            persist_notify: Notify::new(),
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
        FaultPlan {
            drop: roll(f.drop_connection),
            error_5xx: roll(f.error_5xx),
            truncate: roll(f.truncate_body),
            malformed: roll(f.malformed_body),
            throttle: roll(f.throttle),
        }
    }

    /// Finishes due scans and creates their callback deliveries; returns the ids of the
    /// deliveries to attempt.
    pub(crate) fn advance_locked(&self, st: &mut State, now_ms: u64) -> Vec<u64> {
        let finished = st.advance(now_ms, self.scan_ms());
        if finished.is_empty() {
            return Vec::new();
        }
        self.dirty.store(true, Ordering::SeqCst);
        let mut to_send = Vec::new();
        for sid in finished {
            let Some(scan) = st.scans.get(&sid) else {
                continue;
            };
            let Some(task) = st.tasks.get(&scan.item_id) else {
                continue;
            };
            if task.callback_url.is_empty() {
                // No CallbackUrl: no notification, no delivery record.
                continue;
            }
            let url = task.callback_url.clone();
            let scan_code = match scan.status.code() {
                3 => 1000,
                4 => 99,
                _ => 0,
            };
            let body = json!({"Response": {
                "ItemId": scan.item_id,
                "AppSid": scan.app_sid,
                "AppMd5": scan.app.app_md5,
                "ScanCode": scan_code,
                "TaskStatus": scan.status.code(),
                "TaskTime": scan.submitted_ms / 1000,
            }})
            .to_string();
            let (item_id, app_md5) = (scan.item_id.clone(), scan.app.app_md5.clone());
            let (status, last_error) = match self.callback_policy.target(&url) {
                Ok(_) => (DeliveryStatus::Pending, None),
                Err(e) => (DeliveryStatus::Refused, Some(e)),
            };
            let id = st.next_seq();
            if status == DeliveryStatus::Pending {
                to_send.push(id);
            }
            st.deliveries.push(CallbackDelivery {
                id,
                item_id,
                app_sid: sid,
                app_md5,
                url,
                body,
                status,
                attempts: 0,
                last_error,
                created_ms: now_ms,
                delivered_ms: None,
            });
        }
        st.trim_deliveries();
        to_send
    }

    /// After a state change: schedule deliveries and persistence.
    pub(crate) fn after_mutation(&self, deliveries: Vec<u64>) {
        for id in deliveries {
            let _ = self.callbacks_tx.send(id);
        }
        if self.dirty.load(Ordering::SeqCst) {
            self.persist_notify.notify_one();
        }
    }

    /// Marks the state as changed and wakes the persister.
    pub(crate) fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.persist_notify.notify_one();
    }

    /// Takes the dirty flag.
    pub(crate) fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::SeqCst)
    }

    /// Re-queues pending deliveries (after a restart).
    pub(crate) fn resume_deliveries(&self) {
        let ids: Vec<u64> = self
            .lock_state()
            .deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending)
            .map(|d| d.id)
            .collect();
        for id in ids {
            let _ = self.callbacks_tx.send(id);
        }
    }
}
