//! The emulator's state (tasks, scans, quotas, callback deliveries) and its persistence.

use std::collections::{BTreeMap, HashMap};

use ms_model::TaskStatus;
use serde::{Deserialize, Serialize};

use crate::findings::SubmittedApp;

/// Format version of the state file.
const STATE_VERSION: u32 = 1;

/// Per-account quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccountState {
    /// Remaining scans (`LimitCount`).
    pub remaining: u64,
    /// Quota expiry, Unix seconds (`LimitTime`).
    pub limit_time: u64,
}

/// One CreateScanInstances task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Task {
    pub item_id: String,
    pub owner: String,
    pub created_ms: u64,
    pub scan_types: Vec<String>,
    pub callback_url: String,
    pub app_sids: Vec<String>,
}

/// Outcome of a scan, as the emulator stores it (variant names are the JSON state format);
/// its API value is the model's [`TaskStatus`] ([`ScanStatus::task_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ScanStatus {
    /// 2: processing.
    Processing,
    /// 1: completed.
    Completed,
    /// 3: processing error.
    Error,
    /// 4: processing timeout.
    Timeout,
}

impl ScanStatus {
    /// Every state.
    pub(crate) const ALL: [ScanStatus; 4] = [
        ScanStatus::Completed,
        ScanStatus::Processing,
        ScanStatus::Error,
        ScanStatus::Timeout,
    ];

    /// The API's task status of this state.
    pub(crate) fn task_status(self) -> TaskStatus {
        match self {
            ScanStatus::Completed => TaskStatus::Completed,
            ScanStatus::Processing => TaskStatus::Processing,
            ScanStatus::Error => TaskStatus::Error,
            ScanStatus::Timeout => TaskStatus::Timeout,
        }
    }

    /// The `TaskStatus` value on the wire.
    pub(crate) fn code(self) -> u64 {
        self.task_status().code()
    }

    /// The state of a `TaskStatus` value, or `None` for a value the API does not name.
    pub(crate) fn from_code(code: u64) -> Option<Self> {
        let status = TaskStatus::from_code(code)?;
        Self::ALL.into_iter().find(|s| s.task_status() == status)
    }

    /// (ScanCode / StatusCode, StatusDesc, StatusRef) of a scan in this state.
    pub(crate) fn status_info(self) -> (u64, &'static str, &'static str) {
        match self {
            ScanStatus::Processing | ScanStatus::Completed => (0, "", ""),
            ScanStatus::Error => (
                1000,
                "App download failed",
                "Check that AppUrl can be downloaded without authentication, then submit the app again",
            ),
            ScanStatus::Timeout => (99, "Scan timed out", "Submit the app again later"),
        }
    }

    /// The outcome a finished scan of this MD5 gets: MD5s beginning with `bad0` fail
    /// (download error), `bad1` time out, all others complete.
    pub(crate) fn outcome_for(md5: &str) -> Self {
        if md5.starts_with("bad0") {
            ScanStatus::Error
        } else if md5.starts_with("bad1") {
            ScanStatus::Timeout
        } else {
            ScanStatus::Completed
        }
    }
}

/// One app's scan (one AppSid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Scan {
    pub app_sid: String,
    pub item_id: String,
    pub owner: String,
    /// Creation order, to break ties when sorting.
    pub seq: u64,
    pub app: SubmittedApp,
    pub submitted_ms: u64,
    pub status: ScanStatus,
    pub finished_ms: Option<u64>,
}

/// State of a callback delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Not delivered yet; attempts continue.
    Pending,
    /// The receiver answered `{"Result":"ok"}`.
    Delivered,
    /// All attempts failed.
    Failed,
    /// Not attempted: the URL is not a loopback `http` URL (the emulator never connects to
    /// other hosts).
    Refused,
}

/// One callback (one finished app scan with a `CallbackUrl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallbackDelivery {
    /// Delivery number (creation order).
    pub id: u64,
    /// Task of the scan.
    pub item_id: String,
    /// The scan's AppSid.
    pub app_sid: String,
    /// The app's MD5.
    pub app_md5: String,
    /// Target URL (`ScanInfo.CallbackUrl`).
    pub url: String,
    /// The JSON body POSTed.
    pub body: String,
    /// Current state.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed, or why the delivery was refused.
    pub last_error: Option<String>,
    /// When the delivery was created (emulator clock, Unix ms).
    pub created_ms: u64,
    /// When it was delivered (emulator clock, Unix ms).
    pub delivered_ms: Option<u64>,
}

/// One change of the state, as the store writes it (see [`crate::store`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// An account's quota, created or changed.
    Account(String, AccountState),
    /// A new task (its scans are [`Change::Scan`]s).
    Task(Task),
    /// A task whose last scan was deleted.
    DeleteTask(String),
    /// A new scan.
    Scan(Scan),
    /// A scan that finished (scans are stored by their `seq`).
    ScanFinished {
        seq: u64,
        status: ScanStatus,
        finished_ms: u64,
    },
    /// A deleted scan (by `seq`).
    DeleteScan(u64),
    /// A delivery, created or changed.
    Delivery(CallbackDelivery),
    /// A delivery dropped from the bounded list.
    DeleteDelivery(u64),
    /// The sequence counter moved on.
    Seq(u64),
}

/// Everything that survives a restart with `--state`: tasks, scans, quotas, deliveries.
///
/// Reads go through the accessors; every change goes through a method that, when the state
/// is journaled (persistent), also records it as a [`Change`] for the store, so that what is
/// written is exactly what changed.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
pub(crate) struct State {
    version: u32,
    seq: u64,
    accounts: BTreeMap<String, AccountState>,
    tasks: BTreeMap<String, Task>,
    scans: BTreeMap<String, Scan>,
    /// Oldest first, ids increasing.
    deliveries: Vec<CallbackDelivery>,
    /// Derived from `scans`, not stored: rebuilt by [`State::rebuild_index`] and kept up to
    /// date by the methods that add and remove scans, so that no request walks every scan.
    #[serde(skip)]
    index: ScanIndex,
    /// Changes not yet taken by the store (recorded only when `journal` is on).
    #[serde(skip)]
    changes: Vec<Change>,
    #[serde(skip)]
    journal: bool,
    #[serde(skip)]
    seq_changed: bool,
    /// Pending deliveries created since the last [`State::take_new_deliveries`].
    #[serde(skip)]
    new_deliveries: Vec<u64>,
}

/// Equal stored contents (and indices); the journal's bookkeeping is not compared.
impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
            && self.seq == other.seq
            && self.accounts == other.accounts
            && self.tasks == other.tasks
            && self.scans == other.scans
            && self.deliveries == other.deliveries
            && self.index == other.index
    }
}

impl Default for State {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            seq: 0,
            accounts: BTreeMap::new(),
            tasks: BTreeMap::new(),
            scans: BTreeMap::new(),
            deliveries: Vec::new(),
            index: ScanIndex::default(),
            changes: Vec::new(),
            journal: false,
            seq_changed: false,
            new_deliveries: Vec::new(),
        }
    }
}

/// Listing order of a scan: (TaskTime in seconds, creation order), as DescribeScanInstances
/// sorts.
pub(crate) type ListKey = (u64, u64);

/// Indices over the scans.
#[derive(Debug, Clone, Default, PartialEq)]
struct ScanIndex {
    /// Scans still processing, by (submission time in ms, seq): the ones due to finish are at
    /// the front, whatever the number of stored scans.
    processing: BTreeMap<(u64, u64), String>,
    /// Each account's scans in listing order, with rank access for Offset.
    by_owner: HashMap<String, RankedList>,
}

/// Entries per chunk of a [`RankedList`] (a chunk is split at twice this).
const CHUNK: usize = 512;

/// A sorted list of (key, AppSid) with insertion, removal and access by rank in
/// O(log n + n / CHUNK + CHUNK): chunks of at most `2 * CHUNK` sorted entries. For 1,000,000
/// scans that is about 2,000 chunk lengths summed to find an offset, against a walk through
/// the whole list.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RankedList {
    chunks: Vec<Vec<(ListKey, String)>>,
    len: usize,
}

impl RankedList {
    /// Index of the chunk that holds (or would hold) `key`; `None` if there is no chunk.
    fn chunk_for(&self, key: ListKey) -> Option<usize> {
        if self.chunks.is_empty() {
            return None;
        }
        // Chunks are never empty: the first whose last key is >= key, else the last one.
        let i = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|(k, _)| *k < key));
        Some(i.min(self.chunks.len() - 1))
    }

    pub(crate) fn insert(&mut self, key: ListKey, sid: String) {
        let Some(ci) = self.chunk_for(key) else {
            self.chunks.push(vec![(key, sid)]);
            self.len = 1;
            return;
        };
        let chunk = &mut self.chunks[ci];
        let pos = chunk.partition_point(|(k, _)| *k < key);
        chunk.insert(pos, (key, sid));
        if chunk.len() > 2 * CHUNK {
            let tail = chunk.split_off(CHUNK);
            self.chunks.insert(ci + 1, tail);
        }
        self.len += 1;
    }

    pub(crate) fn remove(&mut self, key: ListKey) -> bool {
        let Some(ci) = self.chunk_for(key) else {
            return false;
        };
        let chunk = &mut self.chunks[ci];
        let Ok(pos) = chunk.binary_search_by(|(k, _)| k.cmp(&key)) else {
            return false;
        };
        chunk.remove(pos);
        if chunk.is_empty() {
            self.chunks.remove(ci);
        }
        self.len -= 1;
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The entries in ascending order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &(ListKey, String)> {
        self.chunks.iter().flatten()
    }

    /// The entries of ranks `start..end` (ascending order, clamped to the length).
    pub(crate) fn range(&self, start: usize, end: usize) -> Vec<&(ListKey, String)> {
        let end = end.min(self.len);
        let mut out = Vec::with_capacity(end.saturating_sub(start));
        if start >= end {
            return out;
        }
        let mut skip = start;
        let mut ci = 0;
        while ci < self.chunks.len() && skip >= self.chunks[ci].len() {
            skip -= self.chunks[ci].len();
            ci += 1;
        }
        let want = end - start;
        for chunk in &self.chunks[ci..] {
            for e in &chunk[skip..] {
                if out.len() == want {
                    return out;
                }
                out.push(e);
            }
            skip = 0;
        }
        out
    }
}

/// Largest `seq` accepted from a state file (leaves room for any number of new scans).
const MAX_SEQ: u64 = u64::MAX / 2;

/// Deliveries kept in the state (the oldest finished ones are dropped beyond this).
const MAX_DELIVERIES: usize = 10_000;

/// Listing key of a scan.
pub(crate) fn list_key(scan: &Scan) -> ListKey {
    (scan.submitted_ms / 1000, scan.seq)
}

impl State {
    /// Records changes from now on (for a persistent state).
    pub(crate) fn with_journal(mut self) -> Self {
        self.journal = true;
        self
    }

    fn record(&mut self, change: impl FnOnce() -> Change) {
        if self.journal {
            self.changes.push(change());
        }
    }

    /// The changes made since the last call, oldest first.
    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        if std::mem::take(&mut self.seq_changed) && self.journal {
            self.changes.push(Change::Seq(self.seq));
        }
        std::mem::take(&mut self.changes)
    }

    /// The pending deliveries created since the last call (to attempt).
    pub(crate) fn take_new_deliveries(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.new_deliveries)
    }

    /// Rebuilds the indices from `scans` (after loading) and puts the deliveries in id order.
    pub(crate) fn rebuild_index(&mut self) {
        let mut index = ScanIndex::default();
        for scan in self.scans.values() {
            index_scan(&mut index, scan);
        }
        self.index = index;
        self.deliveries.sort_by_key(|d| d.id);
    }

    /// The sequence counter.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// All accounts' quotas.
    pub(crate) fn accounts(&self) -> &BTreeMap<String, AccountState> {
        &self.accounts
    }

    /// All tasks.
    pub(crate) fn tasks(&self) -> &BTreeMap<String, Task> {
        &self.tasks
    }

    /// A task.
    pub(crate) fn task(&self, item_id: &str) -> Option<&Task> {
        self.tasks.get(item_id)
    }

    /// All scans.
    pub(crate) fn scans(&self) -> &BTreeMap<String, Scan> {
        &self.scans
    }

    /// A scan.
    pub(crate) fn scan(&self, app_sid: &str) -> Option<&Scan> {
        self.scans.get(app_sid)
    }

    /// All deliveries, oldest first.
    pub(crate) fn deliveries(&self) -> &[CallbackDelivery] {
        &self.deliveries
    }

    /// The delivery with this id.
    pub(crate) fn delivery(&self, id: u64) -> Option<&CallbackDelivery> {
        self.delivery_index(id).map(|i| &self.deliveries[i])
    }

    /// Stores a new task with its scans (the scans in `task.app_sids` order).
    pub(crate) fn insert_task(&mut self, task: Task, scans: Vec<Scan>) {
        self.record(|| Change::Task(task.clone()));
        for scan in scans {
            self.insert_scan(scan);
        }
        self.tasks.insert(task.item_id.clone(), task);
    }

    /// Stores a scan (its task is stored by the caller).
    fn insert_scan(&mut self, scan: Scan) {
        // AppSids are fresh UUIDs; should one ever repeat, the replaced scan is unindexed.
        if let Some(old) = self.scans.remove(&scan.app_sid) {
            unindex_scan(&mut self.index, &old);
        }
        self.record(|| Change::Scan(scan.clone()));
        index_scan(&mut self.index, &scan);
        self.scans.insert(scan.app_sid.clone(), scan);
    }

    /// Deletes a scan, and its task once it has no scan left.
    pub(crate) fn delete_scan(&mut self, sid: &str) -> Option<Scan> {
        let scan = self.scans.remove(sid)?;
        unindex_scan(&mut self.index, &scan);
        self.record(|| Change::DeleteScan(scan.seq));
        let empty = self.tasks.get_mut(&scan.item_id).is_some_and(|task| {
            task.app_sids.retain(|s| s != sid);
            task.app_sids.is_empty()
        });
        if empty {
            self.tasks.remove(&scan.item_id);
            self.record(|| Change::DeleteTask(scan.item_id.clone()));
        }
        Some(scan)
    }

    /// The account's scans in listing order (`None` if it has none).
    pub(crate) fn owner_scans(&self, owner: &str) -> Option<&RankedList> {
        self.index.by_owner.get(owner)
    }

    /// Index of the delivery with this id.
    fn delivery_index(&self, id: u64) -> Option<usize> {
        self.deliveries.binary_search_by_key(&id, |d| d.id).ok()
    }

    /// Changes the delivery with this id (if it is still kept); `Some` with `f`'s answer.
    pub(crate) fn update_delivery<R>(
        &mut self,
        id: u64,
        f: impl FnOnce(&mut CallbackDelivery) -> R,
    ) -> Option<R> {
        let i = self.delivery_index(id)?;
        let out = f(&mut self.deliveries[i]);
        if self.journal {
            let d = self.deliveries[i].clone();
            self.changes.push(Change::Delivery(d));
        }
        Some(out)
    }

    /// Adds a delivery with the next id (ids increase) and keeps the list bounded.
    pub(crate) fn push_delivery(&mut self, make: impl FnOnce(u64) -> CallbackDelivery) -> u64 {
        let id = self.next_seq();
        let d = make(id);
        self.record(|| Change::Delivery(d.clone()));
        if d.status == DeliveryStatus::Pending {
            self.new_deliveries.push(id);
        }
        self.deliveries.push(d);
        self.trim_deliveries();
        id
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        // `check` keeps a loaded `seq` far below the limit; saturate rather than wrap anyway.
        self.seq = self.seq.saturating_add(1);
        self.seq_changed = true;
        self.seq
    }

    /// Checks the consistency of a state read from a file (which may have been edited or
    /// damaged): what the emulator relies on must hold, or it refuses to start.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.seq > MAX_SEQ {
            return Err(format!(
                "seq: {} is out of range (at most {MAX_SEQ})",
                self.seq
            ));
        }
        for (key, task) in &self.tasks {
            let at = format!("tasks[{key:?}]");
            if &task.item_id != key {
                return Err(format!(
                    "{at}.item_id: {:?} differs from its key",
                    task.item_id
                ));
            }
            for (i, sid) in task.app_sids.iter().enumerate() {
                match self.scans.get(sid) {
                    None => return Err(format!("{at}.app_sids[{i}]: no scan {sid:?}")),
                    Some(scan) if scan.item_id != task.item_id || scan.owner != task.owner => {
                        return Err(format!(
                            "{at}.app_sids[{i}]: scan {sid:?} belongs to another task or account"
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        let mut seqs = std::collections::HashSet::with_capacity(self.scans.len());
        for (key, scan) in &self.scans {
            let at = format!("scans[{key:?}]");
            if !seqs.insert(scan.seq) {
                return Err(format!("{at}.seq: {} is used by another scan", scan.seq));
            }
            if &scan.app_sid != key {
                return Err(format!(
                    "{at}.app_sid: {:?} differs from its key",
                    scan.app_sid
                ));
            }
            if !self
                .tasks
                .get(&scan.item_id)
                .is_some_and(|t| t.app_sids.contains(key))
            {
                return Err(format!(
                    "{at}.item_id: task {:?} does not list this scan",
                    scan.item_id
                ));
            }
            if !crate::api::is_md5(&scan.app.app_md5) {
                return Err(format!("{at}.app.app_md5: not 32 hexadecimal digits"));
            }
            if scan.seq > self.seq {
                return Err(format!("{at}.seq: {} is above seq {}", scan.seq, self.seq));
            }
        }
        for (i, d) in self.deliveries.iter().enumerate() {
            if d.id > self.seq {
                return Err(format!(
                    "deliveries[{i}].id: {} is above seq {}",
                    d.id, self.seq
                ));
            }
        }
        Ok(())
    }

    /// The account's quota, created with `initial` scans valid for a year on first use.
    pub(crate) fn account(&mut self, secret_id: &str, initial: u64, now_ms: u64) -> AccountState {
        if let Some(a) = self.accounts.get(secret_id) {
            return a.clone();
        }
        let a = AccountState {
            remaining: initial,
            limit_time: now_ms / 1000 + 365 * 86_400,
        };
        self.accounts.insert(secret_id.to_owned(), a.clone());
        self.record(|| Change::Account(secret_id.to_owned(), a.clone()));
        a
    }

    /// Takes `n` scans from the account's quota (which must exist and hold them); returns
    /// what is left.
    pub(crate) fn charge(&mut self, secret_id: &str, n: u64) -> AccountState {
        let a = self
            .accounts
            .entry(secret_id.to_owned())
            .or_insert(AccountState {
                remaining: 0,
                limit_time: 0,
            });
        a.remaining = a.remaining.saturating_sub(n);
        let a = a.clone();
        self.record(|| Change::Account(secret_id.to_owned(), a.clone()));
        a
    }

    /// Marks scans whose simulated time is over as finished; returns their AppSids, in
    /// submission order. Only the scans due are visited (the processing index is ordered by
    /// submission time), not every stored scan.
    pub(crate) fn advance(&mut self, now_ms: u64, scan_ms: u64) -> Vec<String> {
        let mut done = Vec::new();
        while let Some(entry) = self.index.processing.first_entry() {
            let (submitted_ms, _) = *entry.key();
            let finished_ms = submitted_ms.saturating_add(scan_ms);
            if now_ms < finished_ms {
                break;
            }
            let sid = entry.remove();
            if let Some(scan) = self.scans.get_mut(&sid)
                && scan.status == ScanStatus::Processing
            {
                scan.status = ScanStatus::outcome_for(&scan.app.app_md5);
                scan.finished_ms = Some(finished_ms);
                let (status, seq) = (scan.status, scan.seq);
                if self.journal {
                    self.changes.push(Change::ScanFinished {
                        seq,
                        status,
                        finished_ms,
                    });
                }
                done.push(sid);
            }
        }
        done
    }

    /// Keeps the delivery list bounded, dropping the oldest finished deliveries. Beyond
    /// `MAX_DELIVERIES`, it trims down to 90 % of it, so the list is compacted once per
    /// thousand new deliveries rather than on every one.
    fn trim_deliveries(&mut self) {
        if self.deliveries.len() <= MAX_DELIVERIES {
            return;
        }
        let excess = self.deliveries.len() - MAX_DELIVERIES * 9 / 10;
        let mut dropped = Vec::new();
        self.deliveries.retain(|d| {
            if dropped.len() < excess && d.status != DeliveryStatus::Pending {
                dropped.push(d.id);
                false
            } else {
                true
            }
        });
        if self.journal {
            self.changes
                .extend(dropped.into_iter().map(Change::DeleteDelivery));
        }
    }

    /// Restores a state from stored rows (the store's load): every scan of a task in creation
    /// order; the indices built, the journal off until [`State::with_journal`].
    pub(crate) fn from_rows(
        seq: u64,
        accounts: BTreeMap<String, AccountState>,
        mut tasks: BTreeMap<String, Task>,
        scans_in_seq_order: Vec<Scan>,
        deliveries: Vec<CallbackDelivery>,
    ) -> Result<Self, String> {
        let mut scans = BTreeMap::new();
        for scan in scans_in_seq_order {
            let Some(task) = tasks.get_mut(&scan.item_id) else {
                return Err(format!(
                    "scans[{:?}].item_id: no task {:?}",
                    scan.app_sid, scan.item_id
                ));
            };
            task.app_sids.push(scan.app_sid.clone());
            let sid = scan.app_sid.clone();
            if scans.insert(sid.clone(), scan).is_some() {
                return Err(format!("scans[{sid:?}]: stored twice"));
            }
        }
        let mut state = State {
            seq,
            accounts,
            tasks,
            scans,
            deliveries,
            ..State::default()
        };
        state.check()?;
        state.rebuild_index();
        Ok(state)
    }
}

fn index_scan(index: &mut ScanIndex, scan: &Scan) {
    if scan.status == ScanStatus::Processing {
        index
            .processing
            .insert((scan.submitted_ms, scan.seq), scan.app_sid.clone());
    }
    index
        .by_owner
        .entry(scan.owner.clone())
        .or_default()
        .insert(list_key(scan), scan.app_sid.clone());
}

fn unindex_scan(index: &mut ScanIndex, scan: &Scan) {
    index.processing.remove(&(scan.submitted_ms, scan.seq));
    if let Some(list) = index.by_owner.get_mut(&scan.owner) {
        list.remove(list_key(scan));
        if list.len() == 0 {
            index.by_owner.remove(&scan.owner);
        }
    }
}

/// Reads a JSON state file of the emulator's first versions (format version 1, migrated to
/// the SQLite store at start); the message says what is wrong.
pub(crate) fn from_json(bytes: &[u8]) -> Result<State, String> {
    let mut state: State =
        serde_json::from_slice(bytes).map_err(|e| format!("not a valid JSON state file: {e}"))?;
    if state.version != STATE_VERSION {
        return Err(format!(
            "unsupported JSON state file version {} (expected {STATE_VERSION})",
            state.version
        ));
    }
    state
        .check()
        .map_err(|e| format!("inconsistent state file: {e}"))?;
    state.rebuild_index();
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &State) -> Vec<u8> {
        serde_json::to_vec(s).unwrap()
    }

    #[test]
    fn json_round_trips_and_garbage_is_refused() {
        let mut s = State::default();
        s.account("id", 5, 0);
        s.charge("id", 2);
        assert_eq!(from_json(&json(&s)).unwrap(), s);
        assert!(
            from_json(b"{not json")
                .unwrap_err()
                .contains("not a valid JSON state file")
        );
    }

    fn task(sids: &[&str]) -> Task {
        Task {
            item_id: "item".into(),
            owner: "id".into(),
            created_ms: 0,
            scan_types: vec!["VULSCAN".into()],
            callback_url: String::new(),
            app_sids: sids.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn inconsistent_json_states_are_refused_naming_the_field() {
        let mut good = State::default();
        let seq = good.next_seq();
        good.insert_task(task(&["sid"]), vec![scan("sid", "id", seq, 0)]);
        assert_eq!(from_json(&json(&good)).unwrap(), good);

        type Mutation = Box<dyn Fn(&mut State)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|s| s.seq = u64::MAX), "seq"),
            (
                Box::new(|s| s.tasks.get_mut("item").unwrap().app_sids.push("x".into())),
                "tasks[\"item\"].app_sids[1]",
            ),
            (
                Box::new(|s| {
                    s.tasks.clear();
                }),
                "scans[\"sid\"].item_id",
            ),
            (
                Box::new(|s| s.scans.get_mut("sid").unwrap().app.app_md5 = "zz".into()),
                "app_md5",
            ),
            (
                Box::new(|s| s.scans.get_mut("sid").unwrap().seq = 99),
                "scans[\"sid\"].seq",
            ),
        ];
        for (mutate, field) in cases {
            let mut s = good.clone();
            mutate(&mut s);
            let err = from_json(&json(&s)).unwrap_err();
            assert!(
                err.contains("inconsistent state file") && err.contains(field),
                "{err}"
            );
        }
    }

    #[test]
    fn every_change_is_journaled_and_only_when_asked() {
        let mut plain = State::default();
        plain.account("id", 5, 0);
        assert!(plain.take_changes().is_empty());

        let mut s = State::default().with_journal();
        s.account("id", 5, 0);
        s.account("id", 5, 0);
        let seq = s.next_seq();
        s.insert_task(task(&["a"]), vec![scan("a", "id", seq, 0)]);
        s.charge("id", 1);
        let changes = s.take_changes();
        let kinds: Vec<&str> = changes
            .iter()
            .map(|c| match c {
                Change::Account(..) => "account",
                Change::Task(_) => "task",
                Change::Scan(_) => "scan",
                Change::Seq(_) => "seq",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["account", "task", "scan", "account", "seq"]);
        assert_eq!(
            changes[3],
            Change::Account(
                "id".into(),
                AccountState {
                    remaining: 4,
                    limit_time: 365 * 86_400
                }
            )
        );
        assert!(s.take_changes().is_empty());
        assert_eq!(s.advance(5_000, 1_000).len(), 1);
        let id = s.push_delivery(|id| CallbackDelivery {
            id,
            item_id: "item".into(),
            app_sid: "a".into(),
            app_md5: "m".into(),
            url: "u".into(),
            body: "b".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_error: None,
            created_ms: 0,
            delivered_ms: None,
        });
        s.update_delivery(id, |d| d.attempts = 1);
        assert!(s.delete_scan("a").is_some());
        let changes = s.take_changes();
        assert!(matches!(
            &changes[0],
            Change::ScanFinished {
                seq: 1,
                status: ScanStatus::Completed,
                finished_ms: 1_000
            }
        ));
        assert!(matches!(&changes[1], Change::Delivery(d) if d.attempts == 0));
        assert!(matches!(&changes[2], Change::Delivery(d) if d.attempts == 1));
        assert_eq!(changes[3], Change::DeleteScan(1));
        assert_eq!(changes[4], Change::DeleteTask("item".into()));
        assert_eq!(changes[5], Change::Seq(2));
        assert!(s.tasks().is_empty());
    }

    #[test]
    fn the_delivery_list_is_trimmed_with_its_deletions_journaled() {
        let mut s = State::default().with_journal();
        for _ in 0..=MAX_DELIVERIES {
            s.push_delivery(|id| CallbackDelivery {
                id,
                item_id: String::new(),
                app_sid: String::new(),
                app_md5: String::new(),
                url: String::new(),
                body: String::new(),
                status: DeliveryStatus::Refused,
                attempts: 0,
                last_error: None,
                created_ms: 0,
                delivered_ms: None,
            });
        }
        assert_eq!(s.deliveries().len(), MAX_DELIVERIES * 9 / 10);
        let deleted: Vec<u64> = s
            .take_changes()
            .into_iter()
            .filter_map(|c| match c {
                Change::DeleteDelivery(id) => Some(id),
                _ => None,
            })
            .collect();
        assert_eq!(
            deleted,
            (1..=(MAX_DELIVERIES as u64 / 10 + 1)).collect::<Vec<_>>()
        );
        assert_eq!(s.deliveries()[0].id, deleted.len() as u64 + 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The chunked list answers like a sorted vector, across chunk splits and removals.
        #[test]
        fn ranked_list_matches_a_sorted_vec(
            ops in proptest::collection::vec((0u64..50, 0u64..3000, proptest::bool::weighted(0.2)), 0..3000),
            windows in proptest::collection::vec((0usize..3200, 0usize..150), 1..20),
        ) {
            let mut list = RankedList::default();
            let mut model = std::collections::BTreeSet::new();
            for (sec, seq, remove) in ops {
                let key = (sec, seq);
                if remove {
                    proptest::prop_assert_eq!(list.remove(key), model.remove(&key));
                } else if model.insert(key) {
                    list.insert(key, format!("{sec}-{seq}"));
                }
            }
            proptest::prop_assert_eq!(list.len(), model.len());
            let all: Vec<ListKey> = model.iter().copied().collect();
            let got: Vec<ListKey> = list.iter().map(|(k, _)| *k).collect();
            proptest::prop_assert_eq!(&got, &all);
            for (start, n) in windows {
                let got: Vec<ListKey> = list.range(start, start + n).into_iter().map(|(k, _)| *k).collect();
                let want: Vec<ListKey> = all.iter().skip(start).take(n).copied().collect();
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    fn scan(sid: &str, owner: &str, seq: u64, submitted_ms: u64) -> Scan {
        Scan {
            app_sid: sid.into(),
            item_id: "item".into(),
            owner: owner.into(),
            seq,
            app: SubmittedApp {
                app_md5: "dd5b29a800246d7089febf228286d901".into(),
                ..Default::default()
            },
            submitted_ms,
            status: ScanStatus::Processing,
            finished_ms: None,
        }
    }

    #[test]
    fn advance_finishes_due_scans_in_submission_order_and_forgets_deleted_ones() {
        let mut s = State::default();
        s.insert_scan(scan("c", "id", 3, 3_000));
        s.insert_scan(scan("a", "id", 1, 1_000));
        s.insert_scan(scan("b", "other", 2, 2_000));
        s.insert_scan(scan("d", "id", 4, 2_500));
        assert_eq!(s.advance(1_999, 1_000), Vec::<String>::new());
        assert_eq!(s.advance(2_000, 1_000), vec!["a".to_owned()]);
        assert_eq!(s.advance(2_000, 1_000), Vec::<String>::new());
        assert_eq!(s.delete_scan("d").map(|x| x.seq), Some(4));
        assert_eq!(
            s.advance(10_000, 1_000),
            vec!["b".to_owned(), "c".to_owned()]
        );
        assert_eq!(s.scans["c"].finished_ms, Some(4_000));
        assert_eq!(s.scans["c"].status, ScanStatus::Completed);
        let listed: Vec<&str> = s
            .owner_scans("id")
            .unwrap()
            .iter()
            .map(|(_, sid)| sid.as_str())
            .collect();
        assert_eq!(listed, ["a", "c"]);
        s.delete_scan("b");
        assert!(s.owner_scans("other").is_none());
        // A rebuilt state has the same indices.
        let mut rebuilt = s.clone();
        rebuilt.index = ScanIndex::default();
        rebuilt.rebuild_index();
        assert_eq!(rebuilt, s);
    }

    #[test]
    fn outcome_by_md5_prefix() {
        for s in ScanStatus::ALL {
            assert_eq!(ScanStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(ScanStatus::from_code(0), None);
        assert_eq!(ScanStatus::Completed.code(), 1);
        assert_eq!(ScanStatus::outcome_for("bad0aaaa"), ScanStatus::Error);
        assert_eq!(ScanStatus::outcome_for("bad1aaaa"), ScanStatus::Timeout);
        assert_eq!(ScanStatus::outcome_for("dd5b29a8"), ScanStatus::Completed);
    }
}
