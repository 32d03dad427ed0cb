//! The `--state` file: an SQLite database (WAL) that every change is committed to before the
//! request that made it is answered.
//!
//! * **Acknowledged = durable.** Each request's changes ([`Change`]) are handed, in the order
//!   they were made (under the state lock), to one writer thread; the request is answered
//!   only after the transaction holding them has committed. The writer commits everything
//!   queued at once (group commit), so concurrent requests share one sync.
//! * **`synchronous = FULL` by default.** In WAL mode, `NORMAL` survives a crash of the
//!   process (the WAL is written before the commit returns) but not of the machine: the WAL
//!   is synced only at checkpoints, so a power loss can take commits that were already
//!   acknowledged. An emulator that tells a CI job "accepted" should mean it on the same terms
//!   as the service, so every commit syncs the WAL; the sync costs a few milliseconds per
//!   commit, shared by every request committed in the same group, and far below the 50 ms a
//!   client waits between two requests at the documented 20 requests/s. `--state-sync normal`
//!   ([`StateSync::Normal`]) trades the power-loss guarantee for commits without a sync.
//! * **Incremental.** Only the rows that changed are written: a new task and its scans, a
//!   quota, a finished scan, a delivery. Scans are keyed by their creation number (`seq`), so
//!   new scans append to the table and finish in about the same order: a commit touches a
//!   few pages, not one per scan as random AppSid keys would. The writer checkpoints the WAL into the database in
//!   a pause between commits (5 ms without one, once 20 commits are waiting) or after 100
//!   commits without a pause, so no write is proportional to the stored total and copying the
//!   WAL delays a reply only under sustained load.
//! * **One owner.** `locking_mode = EXCLUSIVE`: the first emulator holds the file's lock for
//!   its lifetime; a second one is refused at start with a clear error. No `-shm` file.
//! * **0600.** A new file is created owner-only before SQLite opens it (its WAL inherits the
//!   mode); an existing one with wider permissions is narrowed.
//! * **Migration.** A JSON state file of earlier versions is converted at start: the database
//!   is built in a temporary file with an unpredictable name next to it, the JSON is kept as
//!   `<file>.json-v1.bak`, and the database is renamed over the original path.
//! * **Failures.** A failed write fails every request waiting on it (and every later one):
//!   nothing is acknowledged that was not stored. The emulator then stops with the error.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::{oneshot, watch};

use crate::config::StateSync;
use crate::findings::SubmittedApp;
use crate::state::{
    AccountState, CallbackDelivery, Change, DeliveryStatus, Scan, ScanStatus, State, Task,
};

/// `PRAGMA application_id` of an emulator state database ("MSEM").
const APPLICATION_ID: i32 = 0x4D53_454D;
/// Schema version (`PRAGMA user_version`).
const SCHEMA_VERSION: i32 = 1;
/// Most batches (requests' change sets) committed in one transaction.
const MAX_GROUP: usize = 512;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS accounts (
    secret_id  TEXT PRIMARY KEY,
    remaining  INTEGER NOT NULL,
    limit_time INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS tasks (
    item_id      TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    scan_types   TEXT NOT NULL,
    callback_url TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS scans (
    seq          INTEGER PRIMARY KEY,
    app_sid      TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    owner        TEXT NOT NULL,
    app_md5      TEXT NOT NULL,
    app_url      TEXT NOT NULL,
    app_size     INTEGER,
    file_name    TEXT,
    app_pkg_name TEXT,
    app_version  TEXT,
    app_icon_url TEXT,
    app_name     TEXT,
    submitted_ms INTEGER NOT NULL,
    status       INTEGER NOT NULL,
    finished_ms  INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS deliveries (
    id           INTEGER PRIMARY KEY,
    item_id      TEXT NOT NULL,
    app_sid      TEXT NOT NULL,
    app_md5      TEXT NOT NULL,
    url          TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT,
    created_ms   INTEGER NOT NULL,
    delivered_ms INTEGER
) STRICT;
";

/// Why the state file cannot be used or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct StoreError {
    /// What went wrong, for the operator (names no secret).
    pub message: String,
}

impl StoreError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

fn sql(what: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| {
        let busy = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        if busy {
            StoreError::new(
                "it is in use by another process (is another ms-emulator running with this --state file?)",
            )
        } else {
            StoreError::new(format!("cannot {what}: {e}"))
        }
    }
}

/// One request's changes, and who waits for them.
struct Batch {
    changes: Vec<Change>,
    done: Option<oneshot::Sender<Result<(), StoreError>>>,
}

/// The writer side of the state file, shared by the request handlers.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    tx: std::sync::Mutex<Option<mpsc::Sender<Batch>>>,
    writer: std::sync::Mutex<Option<JoinHandle<Result<(), StoreError>>>>,
    failed: watch::Receiver<Option<StoreError>>,
}

/// A pending commit: resolves once the changes are durable (or failed).
#[derive(Debug)]
pub(crate) struct Commit(Option<oneshot::Receiver<Result<(), StoreError>>>);

impl Commit {
    /// A commit with nothing to wait for.
    pub(crate) fn done() -> Self {
        Commit(None)
    }

    /// Waits until the changes are stored.
    pub(crate) async fn wait(self) -> Result<(), StoreError> {
        match self.0 {
            None => Ok(()),
            Some(rx) => rx
                .await
                .unwrap_or_else(|_| Err(StoreError::new("the state writer stopped"))),
        }
    }
}

impl Store {
    /// Opens (creating, locking or migrating) the state file and loads it.
    pub(crate) fn open(path: &Path, sync: StateSync) -> Result<(Store, State), StoreError> {
        let kind = prepare_file(path)?;
        if kind == FileKind::Json {
            migrate_json(path)?;
        }
        let conn = open_connection(path, sync)?;
        let state = load(&conn)?;
        let (tx, rx) = mpsc::channel();
        let (fail_tx, failed) = watch::channel(None);
        let writer = std::thread::Builder::new()
            .name("ms-emulator-state".into())
            .spawn(move || write_loop(conn, rx, fail_tx))
            .map_err(|e| StoreError::new(format!("cannot start the state writer: {e}")))?;
        let store = Store {
            path: path.to_owned(),
            tx: std::sync::Mutex::new(Some(tx)),
            writer: std::sync::Mutex::new(Some(writer)),
            failed,
        };
        Ok((store, state.with_journal()))
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Queues these changes (call it under the state lock, so that batches keep the order of
    /// the changes); the returned commit resolves once they are durable.
    pub(crate) fn submit(&self, changes: Vec<Change>) -> Commit {
        if changes.is_empty() {
            return Commit::done();
        }
        let (done, rx) = oneshot::channel();
        let sent = self
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|tx| {
                tx.send(Batch {
                    changes,
                    done: Some(done),
                })
                .is_ok()
            });
        if sent {
            Commit(Some(rx))
        } else {
            let (tx, rx) = oneshot::channel();
            let _ = tx.send(Err(StoreError::new("the state file is closed")));
            Commit(Some(rx))
        }
    }

    /// The first write failure, once there is one.
    pub(crate) async fn failure(&self) -> StoreError {
        let mut rx = self.failed.clone();
        loop {
            if let Some(e) = rx.borrow_and_update().clone() {
                return e;
            }
            if rx.changed().await.is_err() {
                // The writer ended without failing: wait forever (shutdown is under way).
                std::future::pending::<()>().await;
            }
        }
    }

    /// Whether a write has failed.
    pub(crate) fn has_failed(&self) -> bool {
        self.failed.borrow().is_some()
    }

    /// Commits what is queued, checkpoints and closes the file (waits for the writer).
    pub(crate) fn close(&self) -> Result<(), StoreError> {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        match writer {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(StoreError::new("the state writer panicked"))),
            None => Ok(()),
        }
    }
}

/// What the file at the `--state` path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    /// Nothing yet (created now, mode 0600) or an empty file.
    New,
    /// An SQLite database.
    Sqlite,
    /// A JSON state file of an earlier version.
    Json,
}

/// Creates the file owner-only if missing (never through a symlink), tells what an existing
/// one holds, and narrows its mode once it is known to be a state file. Anything else is
/// refused untouched: a file that is not regular (a FIFO would block the open forever, a
/// device or a directory is never a state file), and a regular file of other contents (its
/// mode is left as it was).
fn prepare_file(path: &Path) -> Result<FileKind, StoreError> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => return Ok(FileKind::New),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(StoreError::new(format!("cannot create it: {e}"))),
    }
    let meta = std::fs::metadata(path).map_err(|e| StoreError::new(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(StoreError::new(format!(
            "it is {what}; give the path of a state file (created if missing)"
        )));
    }
    let mut head = [0u8; 16];
    let mut f =
        std::fs::File::open(path).map_err(|e| StoreError::new(format!("cannot read: {e}")))?;
    let n =
        read_up_to(&mut f, &mut head).map_err(|e| StoreError::new(format!("cannot read: {e}")))?;
    let head = &head[..n];
    let kind = if head.is_empty() {
        FileKind::New
    } else if head == b"SQLite format 3\0" {
        FileKind::Sqlite
    } else if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        FileKind::Json
    } else {
        return Err(StoreError::new(
            "not an ms-emulator state file (neither its SQLite database nor the JSON of earlier versions); \
             give another --state path or move this file away",
        ));
    };
    restrict_mode(&f, path)?;
    Ok(kind)
}

fn read_up_to(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(unix)]
fn restrict_mode(f: &std::fs::File, path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = f
        .metadata()
        .map_err(|e| StoreError::new(format!("cannot read: {e}")))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
            StoreError::new(format!(
                "its mode is {mode:o} (readable by others) and cannot be narrowed to 600: {e}"
            ))
        })?;
        tracing::warn!(path = %path.display(), "state file mode narrowed from {mode:o} to 600");
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_mode(_: &std::fs::File, _: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Opens the database with the durability and locking settings, takes its lock and makes
/// sure it is (or becomes) an emulator state database of a known schema.
fn open_connection(path: &Path, sync: StateSync) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(sql("open it"))?;
    // Another emulator holding the file is an error at once, not after a wait.
    conn.busy_timeout(Duration::ZERO)
        .map_err(sql("set the busy timeout"))?;
    // EXCLUSIVE before WAL: no shared-memory index, and the lock is held from the first
    // write on (the schema transaction below) until the connection closes.
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(sql("set the locking mode"))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(sql("switch to WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::new(format!(
            "cannot switch it to WAL mode (journal mode stays {mode})"
        )));
    }
    let level = match sync {
        StateSync::Full => "FULL",
        StateSync::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", level)
        .map_err(sql("set the synchronous level"))?;
    // Checkpoints are the writer's (in pauses between commits), not inside a commit.
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(sql("turn off automatic checkpoints"))?;
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(sql("read it"))?;
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql("read it"))?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(sql("read it"))?;
    if app != APPLICATION_ID && !(app == 0 && tables == 0) {
        return Err(StoreError::new(
            "it is an SQLite database of another program, not an ms-emulator state file; \
             give another --state path",
        ));
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::new(format!(
            "it was written by a newer ms-emulator (schema {version}, this one knows {SCHEMA_VERSION})"
        )));
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         {SCHEMA}
         PRAGMA application_id = {APPLICATION_ID};
         PRAGMA user_version = {SCHEMA_VERSION};
         INSERT OR IGNORE INTO meta (key, value) VALUES ('seq', 0);
         COMMIT;"
    ))
    .map_err(sql("write it"))?;
    Ok(conn)
}

fn read_error(e: rusqlite::Error) -> StoreError {
    StoreError::new(format!("cannot read it: {e}"))
}

/// Reads every row into a [`State`] (checked and indexed).
fn load(conn: &Connection) -> Result<State, StoreError> {
    let seq: i64 = conn
        .query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| r.get(0))
        .optional()
        .map_err(read_error)?
        .unwrap_or(0);
    State::from_rows(
        u64_of(seq),
        load_accounts(conn)?,
        load_tasks(conn)?,
        load_scans(conn)?,
        load_deliveries(conn)?,
    )
    .map_err(|e| StoreError::new(format!("inconsistent: {e}")))
}

fn load_accounts(conn: &Connection) -> Result<BTreeMap<String, AccountState>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT secret_id, remaining, limit_time FROM accounts")
        .map_err(read_error)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                AccountState {
                    remaining: u64_of(r.get(1)?),
                    limit_time: u64_of(r.get(2)?),
                },
            ))
        })
        .map_err(read_error)?;
    rows.collect::<Result<_, _>>().map_err(read_error)
}

/// The tasks, without their scans (added in creation order by `State::from_rows`).
fn load_tasks(conn: &Connection) -> Result<BTreeMap<String, Task>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT item_id, owner, created_ms, scan_types, callback_url FROM tasks")
        .map_err(read_error)?;
    let rows = stmt
        .query_map([], |r| {
            let types: String = r.get(3)?;
            let task = Task {
                item_id: r.get(0)?,
                owner: r.get(1)?,
                created_ms: u64_of(r.get(2)?),
                scan_types: types
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                callback_url: r.get(4)?,
                app_sids: Vec::new(),
            };
            Ok((task.item_id.clone(), task))
        })
        .map_err(read_error)?;
    rows.collect::<Result<_, _>>().map_err(read_error)
}

/// The scans in creation (`seq`) order.
fn load_scans(conn: &Connection) -> Result<Vec<Scan>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT app_sid, item_id, owner, seq, app_md5, app_url, app_size, file_name, \
             app_pkg_name, app_version, app_icon_url, app_name, submitted_ms, status, finished_ms \
             FROM scans ORDER BY seq",
        )
        .map_err(read_error)?;
    let rows = stmt
        .query_map([], |r| {
            let scan = Scan {
                app_sid: r.get(0)?,
                item_id: r.get(1)?,
                owner: r.get(2)?,
                seq: u64_of(r.get(3)?),
                app: SubmittedApp {
                    app_md5: r.get(4)?,
                    app_url: r.get(5)?,
                    app_size: r.get::<_, Option<i64>>(6)?.map(u64_of),
                    file_name: r.get(7)?,
                    app_pkg_name: r.get(8)?,
                    app_version: r.get(9)?,
                    app_icon_url: r.get(10)?,
                    app_name: r.get(11)?,
                },
                submitted_ms: u64_of(r.get(12)?),
                status: ScanStatus::Processing,
                finished_ms: r.get::<_, Option<i64>>(14)?.map(u64_of),
            };
            Ok((r.get::<_, i64>(13)?, scan))
        })
        .map_err(read_error)?;
    let mut scans = Vec::new();
    for row in rows {
        let (status, mut scan) = row.map_err(read_error)?;
        scan.status = scan_status(status).ok_or_else(|| {
            StoreError::new(format!(
                "inconsistent: scans[{:?}].status is {status}",
                scan.app_sid
            ))
        })?;
        scans.push(scan);
    }
    Ok(scans)
}

/// The deliveries in id order.
fn load_deliveries(conn: &Connection) -> Result<Vec<CallbackDelivery>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT id, item_id, app_sid, app_md5, url, body, status, attempts, last_error, \
             created_ms, delivered_ms FROM deliveries ORDER BY id",
        )
        .map_err(read_error)?;
    let rows = stmt
        .query_map([], |r| {
            let d = CallbackDelivery {
                id: u64_of(r.get(0)?),
                item_id: r.get(1)?,
                app_sid: r.get(2)?,
                app_md5: r.get(3)?,
                url: r.get(4)?,
                body: r.get(5)?,
                status: DeliveryStatus::Pending,
                attempts: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(u32::MAX),
                last_error: r.get(8)?,
                created_ms: u64_of(r.get(9)?),
                delivered_ms: r.get::<_, Option<i64>>(10)?.map(u64_of),
            };
            Ok((r.get::<_, i64>(6)?, d))
        })
        .map_err(read_error)?;
    let mut deliveries = Vec::new();
    for row in rows {
        let (status, mut d) = row.map_err(read_error)?;
        d.status = delivery_status(status).ok_or_else(|| {
            StoreError::new(format!(
                "inconsistent: deliveries[{}].status is {status}",
                d.id
            ))
        })?;
        deliveries.push(d);
    }
    Ok(deliveries)
}

/// SQLite integers are signed: u64 values are stored bit for bit (values above `i64::MAX`,
/// which only a client's `AppSize` can reach, read back unchanged).
fn i64_of(v: u64) -> i64 {
    i64::from_ne_bytes(v.to_ne_bytes())
}

fn u64_of(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

fn scan_status(code: i64) -> Option<ScanStatus> {
    ScanStatus::from_code(u64::try_from(code).ok()?)
}

fn delivery_code(s: DeliveryStatus) -> i64 {
    match s {
        DeliveryStatus::Pending => 0,
        DeliveryStatus::Delivered => 1,
        DeliveryStatus::Failed => 2,
        DeliveryStatus::Refused => 3,
    }
}

fn delivery_status(code: i64) -> Option<DeliveryStatus> {
    [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
        DeliveryStatus::Refused,
    ]
    .into_iter()
    .find(|s| delivery_code(*s) == code)
}

/// Writes one change into an open transaction.
fn apply(tx: &Transaction<'_>, change: &Change) -> rusqlite::Result<()> {
    match change {
        Change::Account(id, a) => {
            tx.prepare_cached(
                "INSERT INTO accounts (secret_id, remaining, limit_time) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (secret_id) DO UPDATE SET remaining = ?2, limit_time = ?3",
            )?
            .execute(params![id, i64_of(a.remaining), i64_of(a.limit_time)])?;
        }
        Change::Task(t) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO tasks (item_id, owner, created_ms, scan_types, callback_url) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                t.item_id,
                t.owner,
                i64_of(t.created_ms),
                t.scan_types.join(","),
                t.callback_url
            ])?;
        }
        Change::DeleteTask(id) => {
            tx.prepare_cached("DELETE FROM tasks WHERE item_id = ?1")?
                .execute([id])?;
        }
        Change::Scan(s) => {
            let a = &s.app;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO scans (app_sid, item_id, owner, seq, app_md5, app_url, \
                 app_size, file_name, app_pkg_name, app_version, app_icon_url, app_name, \
                 submitted_ms, status, finished_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                s.app_sid,
                s.item_id,
                s.owner,
                i64_of(s.seq),
                a.app_md5,
                a.app_url,
                a.app_size.map(i64_of),
                a.file_name,
                a.app_pkg_name,
                a.app_version,
                a.app_icon_url,
                a.app_name,
                i64_of(s.submitted_ms),
                i64_of(s.status.code()),
                s.finished_ms.map(i64_of),
            ])?;
        }
        Change::ScanFinished {
            seq,
            status,
            finished_ms,
        } => {
            tx.prepare_cached("UPDATE scans SET status = ?2, finished_ms = ?3 WHERE seq = ?1")?
                .execute(params![
                    i64_of(*seq),
                    i64_of(status.code()),
                    i64_of(*finished_ms)
                ])?;
        }
        Change::DeleteScan(seq) => {
            tx.prepare_cached("DELETE FROM scans WHERE seq = ?1")?
                .execute([i64_of(*seq)])?;
        }
        Change::Delivery(d) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO deliveries (id, item_id, app_sid, app_md5, url, body, \
                 status, attempts, last_error, created_ms, delivered_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                i64_of(d.id),
                d.item_id,
                d.app_sid,
                d.app_md5,
                d.url,
                d.body,
                delivery_code(d.status),
                i64::from(d.attempts),
                d.last_error,
                i64_of(d.created_ms),
                d.delivered_ms.map(i64_of),
            ])?;
        }
        Change::DeleteDelivery(id) => {
            tx.prepare_cached("DELETE FROM deliveries WHERE id = ?1")?
                .execute([i64_of(*id)])?;
        }
        Change::Seq(seq) => {
            tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'seq'")?
                .execute([i64_of(*seq)])?;
        }
    }
    Ok(())
}

/// Commits these changes in one transaction.
fn commit(conn: &mut Connection, batches: &[Batch]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(sql("begin a write"))?;
    for change in batches.iter().flat_map(|b| &b.changes) {
        apply(&tx, change).map_err(sql("write a change"))?;
    }
    tx.commit().map_err(sql("commit"))
}

/// Commits after which the WAL is checkpointed even without a pause: about SQLite's own
/// automatic checkpoint (1,000 pages) for 20-app requests, so the WAL stays a few MB.
const CHECKPOINT_AFTER: u32 = 100;
/// Commits worth a checkpoint in a pause (fewer: not worth the extra syncs).
const CHECKPOINT_IN_PAUSE: u32 = 20;
/// A pause this long with nothing to commit is used to checkpoint.
const IDLE: Duration = Duration::from_millis(5);

/// The writer's bookkeeping: the first failure, and commits not checkpointed yet.
struct Writer {
    conn: Connection,
    error: Option<StoreError>,
    uncheckpointed: u32,
    failed: watch::Sender<Option<StoreError>>,
}

impl Writer {
    /// Commits a group (or fails it after an earlier failure) and answers its waiters.
    fn commit_group(&mut self, group: Vec<Batch>) {
        let result = match &self.error {
            Some(e) => Err(e.clone()),
            None => commit(&mut self.conn, &group),
        };
        match &result {
            Ok(()) => self.uncheckpointed += 1,
            Err(e) => self.fail(e),
        }
        for b in group {
            if let Some(done) = b.done {
                let _ = done.send(result.clone());
            }
        }
    }

    /// Copies the WAL into the database file (SQLite's automatic checkpoint is off: this
    /// runs when no commit waits, or after [`CHECKPOINT_AFTER`] commits).
    fn checkpoint(&mut self) {
        if self.error.is_none() && self.uncheckpointed > 0 {
            self.uncheckpointed = 0;
            if let Err(e) = self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .map_err(sql("checkpoint"))
            {
                self.fail(&e);
            }
        }
    }

    fn fail(&mut self, e: &StoreError) {
        if self.error.is_none() {
            tracing::error!(error = %e, "cannot write the state file; stopping");
            self.error = Some(e.clone());
            self.failed.send_replace(Some(e.clone()));
        }
    }
}

/// The writer thread: commits queued batches in groups until the channel closes, then
/// checkpoints and closes the database. Checkpoints run in pauses between commits, so that
/// copying the WAL rarely delays a request. After a failure it commits nothing more and fails
/// every batch.
fn write_loop(
    conn: Connection,
    rx: mpsc::Receiver<Batch>,
    failed: watch::Sender<Option<StoreError>>,
) -> Result<(), StoreError> {
    let mut w = Writer {
        conn,
        error: None,
        uncheckpointed: 0,
        failed,
    };
    loop {
        let first = if w.uncheckpointed >= CHECKPOINT_IN_PAUSE {
            match rx.recv_timeout(IDLE) {
                Ok(b) => b,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    w.checkpoint();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(b) => b,
                Err(_) => break,
            }
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(b) => group.push(b),
                Err(_) => break,
            }
        }
        w.commit_group(group);
        if w.uncheckpointed >= CHECKPOINT_AFTER {
            w.checkpoint();
        }
    }
    if let Some(e) = w.error {
        return Err(e);
    }
    w.conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(sql("checkpoint"))?;
    w.conn.close().map_err(|(_, e)| sql("close it")(e))
}

/// Converts a JSON state file of an earlier version into the database, in place.
///
/// The JSON file is locked (`flock`) for the whole migration: a second emulator started on the
/// same file meanwhile is refused instead of migrating it again and renaming its own database
/// over the one the first is already writing to (whose acknowledged changes would then go to
/// a deleted file).
fn migrate_json(path: &Path) -> Result<(), StoreError> {
    let mut json =
        std::fs::File::open(path).map_err(|e| StoreError::new(format!("cannot read: {e}")))?;
    json.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => StoreError::new(
            "it is in use by another process (is another ms-emulator migrating or running with this --state file?)",
        ),
        std::fs::TryLockError::Error(e) => StoreError::new(format!("cannot lock it: {e}")),
    })?;
    if !same_file(&json, path) {
        // Another emulator migrated it between our open and our lock.
        return Err(StoreError::new(
            "it is in use by another process (another ms-emulator migrated it just now)",
        ));
    }
    let mut bytes = Vec::new();
    json.read_to_end(&mut bytes)
        .map_err(|e| StoreError::new(format!("cannot read: {e}")))?;
    let state = crate::state::from_json(&bytes).map_err(StoreError::new)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A temporary file with an unpredictable name, created owner-only (O_EXCL).
    let tmp = tempfile::Builder::new()
        .prefix(".ms-emulator-migration-")
        .tempfile_in(&dir)
        .map_err(|e| StoreError::new(format!("cannot create a file in {}: {e}", dir.display())))?;
    {
        let mut conn = open_connection(tmp.path(), StateSync::Full)?;
        let changes = rows_of(&state);
        commit(
            &mut conn,
            &[Batch {
                changes,
                done: None,
            }],
        )?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql("checkpoint"))?;
        conn.close().map_err(|(_, e)| sql("close it")(e))?;
    }
    let backup = backup_path(path);
    keep_backup(path, &backup, &bytes)?;
    tmp.persist(path).map_err(|e| {
        StoreError::new(format!(
            "cannot replace it with the migrated database: {}",
            e.error
        ))
    })?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    tracing::warn!(
        path = %path.display(),
        backup = %backup.display(),
        "migrated a JSON state file of an earlier version to SQLite; the JSON is kept as the backup"
    );
    Ok(())
}

/// Whether `path` still names the file open as `file` (not renamed over since it was opened).
#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::File, _: &Path) -> bool {
    true
}

/// `<file>.json-v1.bak`.
fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".json-v1.bak");
    path.with_file_name(name)
}

/// Keeps the JSON as `backup` (a hard link, so nothing is copied); an existing backup must
/// hold the same bytes (a migration interrupted before the rename).
fn keep_backup(path: &Path, backup: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    match std::fs::hard_link(path, backup) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if std::fs::read(backup).is_ok_and(|b| b == bytes) {
                Ok(())
            } else {
                Err(StoreError::new(format!(
                    "cannot keep the JSON state as {}: that file exists with other contents; move it away and start again",
                    backup.display()
                )))
            }
        }
        Err(_) => {
            // No hard links here (another file system): write a copy.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(backup)
                .map_err(|e| StoreError::new(format!("cannot write {}: {e}", backup.display())))?;
            f.write_all(bytes)
                .and_then(|()| f.sync_all())
                .map_err(|e| StoreError::new(format!("cannot write {}: {e}", backup.display())))
        }
    }
}

/// Every row of a state, as changes (for the migration).
fn rows_of(state: &State) -> Vec<Change> {
    let mut out = Vec::new();
    out.extend(
        state
            .accounts()
            .iter()
            .map(|(id, a)| Change::Account(id.clone(), a.clone())),
    );
    out.extend(state.tasks().values().map(|t| Change::Task(t.clone())));
    out.extend(state.scans().values().map(|s| Change::Scan(s.clone())));
    out.extend(
        state
            .deliveries()
            .iter()
            .map(|d| Change::Delivery(d.clone())),
    );
    out.push(Change::Seq(state.seq()));
    out
}

/// Writes `bytes` to `path` atomically through a temporary file with an unpredictable name in
/// the same directory (fsynced, renamed over `path`, directory fsynced).
pub(crate) fn write_file_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".ms-emulator-")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(sid: &str, seq: u64, size: Option<u64>) -> Scan {
        Scan {
            app_sid: sid.into(),
            item_id: "item".into(),
            owner: "id".into(),
            seq,
            app: SubmittedApp {
                app_md5: "dd5b29a800246d7089febf228286d901".into(),
                app_url: "https://example.com/a.apk".into(),
                app_size: size,
                app_name: Some("Näme \"q\"".into()),
                ..Default::default()
            },
            submitted_ms: 1_767_225_600_123,
            status: ScanStatus::Processing,
            finished_ms: None,
        }
    }

    #[tokio::test]
    async fn what_is_committed_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (store, mut st) = Store::open(&path, StateSync::Full).unwrap();
        st.account("id", 10, 0);
        let (a, b) = (st.next_seq(), st.next_seq());
        let task = Task {
            item_id: "item".into(),
            owner: "id".into(),
            created_ms: 5,
            scan_types: vec!["VULSCAN".into(), "ADSCAN".into()],
            callback_url: "http://127.0.0.1:9/cb".into(),
            app_sids: vec!["a".into(), "b".into()],
        };
        // Sizes beyond i64::MAX (a client's AppSize may be any u64) survive.
        st.insert_task(task, vec![scan("a", a, Some(u64::MAX)), scan("b", b, None)]);
        st.charge("id", 2);
        st.advance(u64::MAX / 4, 1_000);
        st.push_delivery(|id| CallbackDelivery {
            id,
            item_id: "item".into(),
            app_sid: "a".into(),
            app_md5: "m".into(),
            url: "u".into(),
            body: "{}".into(),
            status: DeliveryStatus::Failed,
            attempts: 3,
            last_error: Some("no".into()),
            created_ms: 7,
            delivered_ms: None,
        });
        store.submit(st.take_changes()).wait().await.unwrap();
        store.close().unwrap();
        let (store, again) = Store::open(&path, StateSync::Full).unwrap();
        assert_eq!(again, st);
        assert_eq!(again.scan("a").unwrap().app.app_size, Some(u64::MAX));
        assert_eq!(again.task("item").unwrap().app_sids, ["a", "b"]);
        store.close().unwrap();
    }

    #[tokio::test]
    async fn the_wal_is_checkpointed_in_a_pause() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (store, mut st) = Store::open(&path, StateSync::Full).unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        st.account("id", 10_000, 0);
        let mut scans = Vec::new();
        let mut sids = Vec::new();
        for i in 0..2_000 {
            let seq = st.next_seq();
            scans.push(scan(&format!("sid{i}"), seq, Some(i)));
            sids.push(format!("sid{i}"));
        }
        let task = Task {
            item_id: "item".into(),
            owner: "id".into(),
            created_ms: 0,
            scan_types: vec!["VULSCAN".into()],
            callback_url: String::new(),
            app_sids: sids,
        };
        st.insert_task(task, scans);
        store.submit(st.take_changes()).wait().await.unwrap();
        for _ in 1..CHECKPOINT_IN_PAUSE {
            st.charge("id", 1);
            store.submit(st.take_changes()).wait().await.unwrap();
        }
        // The commits went to the WAL; a pause later the database file holds the rows.
        let mut grown = false;
        for _ in 0..200 {
            if std::fs::metadata(&path).unwrap().len() > before + 100_000 {
                grown = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(grown, "no checkpoint after the pause");
        store.close().unwrap();
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (store, _) = Store::open(&path, StateSync::Full).unwrap();
        store.close().unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Store::open(&path, StateSync::Full).unwrap_err();
        assert!(err.message.contains("newer ms-emulator"), "{err}");
    }

    #[test]
    fn no_other_connection_can_read_it_while_it_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (store, _) = Store::open(&path, StateSync::Full).unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(Duration::ZERO).unwrap();
        let read = other.query_row("SELECT count(*) FROM scans", [], |r| r.get::<_, i64>(0));
        assert!(read.is_err(), "{read:?}");
        let err = Store::open(&path, StateSync::Full).unwrap_err();
        assert!(err.message.contains("in use by another process"), "{err}");
        store.close().unwrap();
        drop(other);
        let (store, _) = Store::open(&path, StateSync::Full).unwrap();
        store.close().unwrap();
    }
}
