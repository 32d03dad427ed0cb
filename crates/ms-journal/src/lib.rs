//! # ms-journal
//!
//! A durable run journal for [`ms_transport::batch`]: an embedded SQLite database (bundled
//! SQLite, WAL) that holds a batch's input apps, each chunk sent and each outcome, so that a
//! run interrupted at any moment — Ctrl-C, a CI timeout, `kill -9`, a power cut — resumes
//! without losing an acknowledged `ItemId` and without submitting an app twice.
//!
//! ```no_run
//! # async fn demo(client: ms_transport::Client, apps: Vec<ms_model::AppInfo>) -> Result<(), Box<dyn std::error::Error>> {
//! use ms_journal::SqliteJournal;
//! use ms_transport::batch::{BatchOptions, StopSignal, run_batch};
//!
//! let scan_info = ms_model::ScanInfo { callback_url: String::new(), scan_types: vec!["VULSCAN".into()] };
//! let path = std::path::Path::new("run.journal");
//! let mut journal = if path.exists() {
//!     SqliteJournal::open(path)? // resume: what was accepted is never sent again
//! } else {
//!     let mut w = SqliteJournal::create(path, &scan_info)?;
//!     for app in &apps {
//!         w.push(app)?;
//!     }
//!     w.finish()?
//! };
//! let run = run_batch(&client, &mut journal, &scan_info, &BatchOptions::default(), &StopSignal::new(), |_, _| {}).await?;
//! println!("{} of {} apps accepted", run.counts.accepted, run.counts.apps);
//! # Ok(()) }
//! ```
//!
//! ## Durability
//!
//! Every change is one transaction. A chunk is committed as *in flight* with
//! `synchronous=FULL` (the WAL is fsynced) before its request can leave the process; outcomes
//! are committed with `synchronous=NORMAL` (written to the WAL, fsynced at the next claim or
//! checkpoint) before the engine reports them, so an `ItemId` that was printed survives a
//! process crash. After a power cut the last outcomes may be lost, but their chunks are still
//! recorded as in flight, so the next run finds them by reconciliation instead of sending
//! them again. One fsync per claim window (64 chunks, growing to 1,024 at unlimited rates),
//! not per chunk; replies arriving together share one commit; WAL checkpoints every 16 MiB.
//!
//! The schema ([`SCHEMA_VERSION`]) is documented in `docs/journal.md` and readable with the
//! `sqlite3` shell, also while a run is going on (WAL readers do not block the writer). A
//! journal is locked (`flock`) by the process that writes it: a second writer is refused.
#![warn(missing_docs)]

mod fingerprint;
mod journal;
mod schema;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ms_model::{AppInfo, ScanInfo};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use fingerprint::Fingerprint;
pub use schema::SCHEMA_VERSION;

use ms_transport::batch::AppState;

/// An error of the journal; each names the journal file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite failed (a full disk, a corrupt file, ...).
    #[error("{}: {context}: {source}", .path.display())]
    Sqlite {
        /// The journal.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A file operation failed.
    #[error("{}: cannot {action}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another process writes this journal.
    #[error("{}: another process is using this journal", .path.display())]
    Locked {
        /// The journal.
        path: PathBuf,
    },
    /// The file is not a journal (or a journal of an unknown version).
    #[error("{}: {detail}", .path.display())]
    NotAJournal {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The journal was made from another input.
    #[error("{}: the journal was made from another input ({detail})", .path.display())]
    InputMismatch {
        /// The journal.
        path: PathBuf,
        /// How they differ.
        detail: String,
    },
    /// The journal was made with other scan settings.
    #[error("{}: the journal was made with {detail}", .path.display())]
    SettingsMismatch {
        /// The journal.
        path: PathBuf,
        /// How they differ.
        detail: String,
    },
}

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The current time, Unix seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A batch's journal in an SQLite file. Implements [`ms_transport::batch::Journal`].
pub struct SqliteJournal {
    // Field order is drop order: the connection closes before the lock is released.
    conn: Connection,
    path: PathBuf,
    run_id: Option<i64>,
    /// Positions of the chunks claimed (or found unresolved) by this process, by chunk id.
    open_chunks: HashMap<u64, Vec<u64>>,
    /// Every pending app has a greater position (0 when unknown).
    claim_cursor: u64,
    /// `synchronous` for claims: FULL, or OFF for a temporary journal.
    claim_sync: &'static str,
    _lock: Option<File>,
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteJournal")
            .field("path", &self.path)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

/// One app as the journal holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRecord {
    /// 1-based position in the input.
    pub position: u64,
    /// The app.
    pub app: AppInfo,
    /// Where it stands.
    pub state: AppState,
    /// Its task (accepted), or the task that left it out (not accepted).
    pub item_id: Option<String>,
    /// The API code (or client-side kind) of its last failure.
    pub code: Option<String>,
    /// Its last failure, or its validation problem.
    pub message: Option<String>,
}

/// A task of the run: an `ItemId` and the apps it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// The task.
    pub item_id: String,
    /// Positions and MD5s of its apps, in input order.
    pub apps: Vec<(u64, String)>,
}

fn sqlite<'a>(path: &'a Path, context: &'static str) -> impl Fn(rusqlite::Error) -> Error + 'a {
    move |source| Error::Sqlite {
        path: path.to_owned(),
        context,
        source,
    }
}

/// Locks the journal file for this process (advisory `flock`, released when the file
/// closes; independent of SQLite's own `fcntl` locks, and kept open for as long as the
/// connection so that closing it cannot drop SQLite's locks).
///
/// A new journal is created readable by its owner only (mode 0600; SQLite gives its `-wal`
/// and `-shm` files the same mode): it holds the apps' download URLs, which are often
/// pre-signed (a token in the query), and the callback URL.
fn lock(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            action: "open the journal",
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
            path: path.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(Error::Io {
            path: path.to_owned(),
            action: "lock the journal",
            source,
        }),
    }
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, flags).map_err(sqlite(path, "cannot open"))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sqlite(path, "cannot configure"))?;
    Ok(conn)
}

/// Opens `path` to read it. A process killed in the middle of a write (`kill -9` while a new
/// journal's apps were being read in) leaves a hot rollback journal beside the file, which a
/// read-only connection cannot roll back (`SQLITE_READONLY_ROLLBACK`, "attempt to write a
/// readonly database"): then one read-write connection (never creating the file) recovers it
/// first, as any writer would, and the file is opened read-only again.
fn connect_read_only(path: &Path) -> Result<Connection> {
    let probe = |conn: &Connection| {
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
    };
    let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    match probe(&conn) {
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ReadOnly => {
            drop(conn);
            let writer = connect(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            probe(&writer).map_err(sqlite(path, "cannot recover the interrupted write of"))?;
            drop(writer);
            connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        }
        // Anything else (a file that is no database, ...) is for the caller's first query
        // to report as it always has.
        _ => Ok(conn),
    }
}

/// Whether the database has no table (a new file, or one whose creation never committed).
fn is_empty(conn: &Connection, path: &Path) -> Result<bool> {
    let n: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                Error::NotAJournal {
                    path: path.to_owned(),
                    detail: "not an SQLite database".to_owned(),
                }
            }
            e => sqlite(path, "cannot read")(e),
        })?;
    Ok(n == 0)
}

/// `open the journal` failing with `NotFound` when `path` does not exist (SQLite would
/// create it).
fn require_existing(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    Err(Error::Io {
        path: path.to_owned(),
        action: "open the journal",
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })
}

impl SqliteJournal {
    /// A journal on `conn` with nothing claimed yet: claims synced `FULL`, the file locked
    /// by `lock` when this process writes it.
    fn new(conn: Connection, path: PathBuf, lock: Option<File>) -> Self {
        SqliteJournal {
            conn,
            path,
            run_id: None,
            open_chunks: HashMap::new(),
            claim_cursor: 0,
            claim_sync: "FULL",
            _lock: lock,
            _temp: None,
        }
    }

    /// Starts a new journal at `path` (a file that does not exist, or a journal whose
    /// creation never completed) for apps submitted with `scan_info`. Add the input's apps
    /// with [`JournalWriter::push`], then [`JournalWriter::finish`]: nothing is visible in the
    /// file before that (one transaction), and dropping the writer removes the file.
    pub fn create(path: &Path, scan_info: &ScanInfo) -> Result<JournalWriter> {
        let existed = path.exists();
        let lock = lock(path)?;
        let conn = connect(path, OpenFlags::default())?;
        if !is_empty(&conn, path)? {
            return Err(Error::NotAJournal {
                path: path.to_owned(),
                detail: "the file exists and is not empty; a new journal needs a new file"
                    .to_owned(),
            });
        }
        let journal = SqliteJournal::new(conn, path.to_owned(), Some(lock));
        JournalWriter::start(journal, scan_info, !existed)
    }

    /// A journal in a temporary directory, removed when dropped: exact accounting and
    /// bounded memory without a file to keep (`synchronous=OFF`: nothing survives anyway).
    pub fn create_temporary(scan_info: &ScanInfo) -> Result<JournalWriter> {
        let dir = tempfile::Builder::new()
            .prefix("ms-journal-")
            .tempdir()
            .map_err(|source| Error::Io {
                path: std::env::temp_dir(),
                action: "create a temporary directory",
                source,
            })?;
        let path = dir.path().join("journal.sqlite");
        let conn = connect(&path, OpenFlags::default())?;
        let journal = SqliteJournal {
            claim_sync: "OFF",
            _temp: Some(dir),
            ..SqliteJournal::new(conn, path, None)
        };
        JournalWriter::start(journal, scan_info, false)
    }

    /// Opens an existing journal to continue its batch (locked for this process).
    pub fn open(path: &Path) -> Result<Self> {
        require_existing(path)?;
        let lock = lock(path)?;
        let conn = connect(path, OpenFlags::default())?;
        let journal = SqliteJournal::new(conn, path.to_owned(), Some(lock));
        journal.check_version()?;
        journal.pragmas()?;
        Ok(journal)
    }

    /// Opens a journal to read it (`ms scan wait/results/report --journal`), also while
    /// another process writes it.
    pub fn open_read_only(path: &Path) -> Result<Self> {
        require_existing(path)?;
        let conn = connect_read_only(path)?;
        let journal = SqliteJournal::new(conn, path.to_owned(), None);
        journal.check_version()?;
        Ok(journal)
    }

    /// Whether `path` holds a journal whose creation never completed (or is empty): such
    /// a file can be given to [`create`](Self::create) again.
    pub fn is_unfinished(path: &Path) -> Result<bool> {
        if !path.exists() {
            return Ok(false);
        }
        let conn = connect_read_only(path)?;
        is_empty(&conn, path)
    }

    fn pragmas(&self) -> Result<()> {
        let p = &self.path;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(sqlite(p, "cannot switch to WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::NotAJournal {
                path: p.clone(),
                detail: format!("SQLite refused WAL mode (journal_mode is {mode})"),
            });
        }
        let sync = if self.claim_sync == "OFF" {
            "OFF"
        } else {
            "NORMAL"
        };
        self.conn
            .pragma_update(None, "synchronous", sync)
            .map_err(sqlite(p, "cannot configure"))?;
        // Checkpoints (each one fsyncs the WAL and the database) every 16 MiB of WAL instead
        // of 4: fewer stalls of the batch; the WAL file is bounded all the same.
        self.conn
            .pragma_update(None, "wal_autocheckpoint", 4096)
            .map_err(sqlite(p, "cannot configure"))?;
        Ok(())
    }

    fn check_version(&self) -> Result<()> {
        let p = &self.path;
        if is_empty(&self.conn, p)? {
            return Err(Error::NotAJournal {
                path: p.clone(),
                detail: "an empty file: the run that created it stopped while reading its input (remove it, or run the same command again to start over)".to_owned(),
            });
        }
        let version: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|_| Error::NotAJournal {
                path: p.clone(),
                detail: "not an ms journal (no meta table)".to_owned(),
            })?;
        match version.as_deref().map(str::parse::<i64>) {
            Some(Ok(SCHEMA_VERSION)) => Ok(()),
            Some(Ok(v)) => Err(Error::NotAJournal {
                path: p.clone(),
                detail: format!(
                    "journal schema version {v}; this version of ms reads version {SCHEMA_VERSION}"
                ),
            }),
            _ => Err(Error::NotAJournal {
                path: p.clone(),
                detail: "not an ms journal (no schema version)".to_owned(),
            }),
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(sqlite(&self.path, "cannot read meta"))
    }

    /// The scan settings the journal was made with.
    pub fn scan_info(&self) -> Result<ScanInfo> {
        let types = self.meta("scan_types")?.unwrap_or_else(|| "[]".to_owned());
        let scan_types: Vec<String> =
            serde_json::from_str(&types).map_err(|e| Error::NotAJournal {
                path: self.path.clone(),
                detail: format!("meta.scan_types is not a JSON array of strings: {e}"),
            })?;
        Ok(ScanInfo {
            callback_url: self.meta("callback_url")?.unwrap_or_default(),
            scan_types,
        })
    }

    /// The number of apps of the input.
    pub fn input_apps(&self) -> Result<u64> {
        Ok(self
            .meta("input_apps")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Checks that an input is the one the journal was made from (same apps in the same
    /// order: see [`Fingerprint`]).
    pub fn check_input(&self, input: Fingerprint) -> Result<()> {
        let (apps, sha) = input.finish();
        let ours = self.input_apps()?;
        let our_sha = self.meta("input_sha256")?.unwrap_or_default();
        if apps == ours && sha == our_sha {
            return Ok(());
        }
        let detail = if apps == ours {
            format!(
                "both have {apps} apps, but they differ (SHA-256 {} vs {})",
                short(&our_sha),
                short(&sha)
            )
        } else {
            format!("the journal holds {ours} apps, this input {apps}")
        };
        Err(Error::InputMismatch {
            path: self.path.clone(),
            detail,
        })
    }

    /// Checks that the scan settings are those the journal was made with (scan types as a
    /// set, callback URL).
    pub fn check_settings(&self, scan_info: &ScanInfo) -> Result<()> {
        let ours = self.scan_info()?;
        let set = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        if set(&ours.scan_types) != set(&scan_info.scan_types) {
            return Err(Error::SettingsMismatch {
                path: self.path.clone(),
                detail: format!(
                    "scan types {} (this command: {})",
                    ours.scan_types.join(","),
                    scan_info.scan_types.join(",")
                ),
            });
        }
        if ours.callback_url != scan_info.callback_url {
            let show = |s: &str| {
                if s.is_empty() {
                    "none".to_owned()
                } else {
                    s.to_owned()
                }
            };
            return Err(Error::SettingsMismatch {
                path: self.path.clone(),
                detail: format!(
                    "callback URL {} (this command: {})",
                    show(&ours.callback_url),
                    show(&scan_info.callback_url)
                ),
            });
        }
        Ok(())
    }

    /// Records the start of a run (the command line, for people reading the journal);
    /// chunks claimed from now on belong to it.
    pub fn begin_run(&mut self, command: &str) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO runs (started_at, command) VALUES (?1, ?2)",
                params![now(), command],
            )
            .map_err(sqlite(&self.path, "cannot record the run"))?;
        let id = self.conn.last_insert_rowid();
        self.run_id = Some(id);
        Ok(id)
    }

    /// Records how the current run ended (`completed`, `incomplete`, `interrupted`).
    pub fn end_run(&mut self, outcome: &str) -> Result<()> {
        let Some(id) = self.run_id else {
            return Ok(());
        };
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?1, outcome = ?2 WHERE id = ?3",
                params![now(), outcome, id],
            )
            .map_err(sqlite(&self.path, "cannot record the run"))?;
        Ok(())
    }

    /// The tasks of the run with their accepted apps, in the order the chunks were taken.
    pub fn for_each_task(&self, mut f: impl FnMut(TaskRecord)) -> Result<()> {
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT item_id, position, md5 FROM apps WHERE state = 'accepted' \
                 ORDER BY chunk_id, position",
            )
            .map_err(sqlite(p, "cannot read tasks"))?;
        let mut rows = stmt.query([]).map_err(sqlite(p, "cannot read tasks"))?;
        let mut current: Option<TaskRecord> = None;
        while let Some(row) = rows.next().map_err(sqlite(p, "cannot read tasks"))? {
            let item_id: String = row.get(0).map_err(sqlite(p, "cannot read tasks"))?;
            let position: i64 = row.get(1).map_err(sqlite(p, "cannot read tasks"))?;
            let md5: String = row.get(2).map_err(sqlite(p, "cannot read tasks"))?;
            match &mut current {
                Some(t) if t.item_id == item_id => t.apps.push((position as u64, md5)),
                _ => {
                    if let Some(t) = current.take() {
                        f(t);
                    }
                    current = Some(TaskRecord {
                        item_id,
                        apps: vec![(position as u64, md5)],
                    });
                }
            }
        }
        if let Some(t) = current {
            f(t);
        }
        Ok(())
    }

    /// The distinct `ItemId`s of the run, in the order the chunks were taken.
    pub fn item_ids_in_order(&self) -> Result<Vec<String>> {
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT item_id FROM chunks WHERE state = 'accepted' AND item_id IS NOT NULL \
                 GROUP BY item_id ORDER BY min(id)",
            )
            .map_err(sqlite(p, "cannot read tasks"))?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(sqlite(p, "cannot read tasks"))?;
        Ok(ids)
    }

    /// Every app that has an outcome other than accepted (not accepted, failed, unknown,
    /// invalid) or is still in flight, in input order. Apps never sent (pending) are left out:
    /// they are only counted (an interrupted run of 100,000 apps would list most of them).
    pub fn for_each_app_not_accepted(&self, mut f: impl FnMut(AppRecord)) -> Result<()> {
        let p = &self.path;
        let sql = format!(
            "SELECT {}, state, item_id, code, message FROM apps \
             WHERE state NOT IN ('accepted', 'pending') ORDER BY position",
            schema::APP_COLUMNS
        );
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(sqlite(p, "cannot read apps"))?;
        let mut rows = stmt.query([]).map_err(sqlite(p, "cannot read apps"))?;
        while let Some(row) = rows.next().map_err(sqlite(p, "cannot read apps"))? {
            let (position, app) = app_from_row(row).map_err(sqlite(p, "cannot read apps"))?;
            let state: String = row.get(9).map_err(sqlite(p, "cannot read apps"))?;
            f(AppRecord {
                position,
                app,
                state: AppState::parse(&state).unwrap_or(AppState::Unknown),
                item_id: row.get(10).map_err(sqlite(p, "cannot read apps"))?,
                code: row.get(11).map_err(sqlite(p, "cannot read apps"))?,
                message: row.get(12).map_err(sqlite(p, "cannot read apps"))?,
            });
        }
        Ok(())
    }

    /// Stores the results of a task (`DescribeScanResults`' `ScanSet`, JSON), replacing any.
    pub fn store_results(&mut self, item_id: &str, scan_set_json: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO results (item_id, fetched_at, scan_set) VALUES (?1, ?2, ?3)",
                params![item_id, now(), scan_set_json],
            )
            .map_err(sqlite(&self.path, "cannot store results"))?;
        Ok(())
    }

    /// The stored results of a task (its `ScanSet` as JSON), if any.
    pub fn results(&self, item_id: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT scan_set FROM results WHERE item_id = ?1",
                [item_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite(&self.path, "cannot read results"))
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Reads the [`schema::APP_COLUMNS`] of a row.
pub(crate) fn app_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(u64, AppInfo)> {
    let position: i64 = row.get(0)?;
    let size: Option<i64> = row.get(3)?;
    Ok((
        position as u64,
        AppInfo {
            app_url: row.get(1)?,
            app_md5: row.get(2)?,
            app_size: size.map(|s| s as u64),
            app_name: row.get(4)?,
            app_pkg_name: row.get(5)?,
            app_version: row.get(6)?,
            file_name: row.get(7)?,
            app_icon_url: row.get(8)?,
        },
    ))
}

/// Fills a new journal with the input's apps (see [`SqliteJournal::create`]).
pub struct JournalWriter {
    journal: Option<SqliteJournal>,
    fingerprint: Fingerprint,
    /// Remove the file when dropped unfinished (this writer created it).
    remove: bool,
}

impl std::fmt::Debug for JournalWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalWriter")
            .field("apps", &self.fingerprint.apps())
            .finish_non_exhaustive()
    }
}

impl JournalWriter {
    fn start(journal: SqliteJournal, scan_info: &ScanInfo, remove: bool) -> Result<Self> {
        journal.pragmas()?;
        let p = &journal.path;
        let conn = &journal.conn;
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(sqlite(p, "cannot start"))?;
        conn.execute_batch(schema::CREATE)
            .map_err(sqlite(p, "cannot create the tables"))?;
        let types = serde_json::to_string(&scan_info.scan_types).unwrap_or_else(|_| "[]".into());
        for (k, v) in [
            ("schema_version", SCHEMA_VERSION.to_string()),
            ("created_at", now().to_string()),
            ("scan_types", types),
            ("callback_url", scan_info.callback_url.clone()),
        ] {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![k, v],
            )
            .map_err(sqlite(p, "cannot write meta"))?;
        }
        Ok(JournalWriter {
            journal: Some(journal),
            fingerprint: Fingerprint::new(),
            remove,
        })
    }

    /// Adds the next app of the input; returns its position (1-based).
    pub fn push(&mut self, app: &AppInfo) -> Result<u64> {
        let Some(j) = &self.journal else {
            return Ok(0);
        };
        self.fingerprint.push(app);
        let position = self.fingerprint.apps();
        let mut stmt = j
            .conn
            .prepare_cached(
                "INSERT INTO apps (position, url, md5, size, name, package, version, file_name, icon_url) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(sqlite(&j.path, "cannot store the input"))?;
        stmt.execute(params![
            position as i64,
            app.app_url,
            app.app_md5,
            app.app_size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            app.app_name,
            app.app_pkg_name,
            app.app_version,
            app.file_name,
            app.app_icon_url,
        ])
        .map_err(sqlite(&j.path, "cannot store the input"))?;
        Ok(position)
    }

    /// Apps added so far.
    pub fn apps(&self) -> u64 {
        self.fingerprint.apps()
    }

    /// Commits the input: the journal is complete and ready to run.
    pub fn finish(mut self) -> Result<SqliteJournal> {
        let Some(journal) = self.journal.take() else {
            return Err(Error::NotAJournal {
                path: PathBuf::new(),
                detail: "the journal writer was already finished".to_owned(),
            });
        };
        let (apps, sha) = std::mem::take(&mut self.fingerprint).finish();
        let p = journal.path.clone();
        let conn = &journal.conn;
        let result = (|| {
            for (k, v) in [("input_apps", apps.to_string()), ("input_sha256", sha)] {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )?;
            }
            conn.execute_batch("COMMIT")
        })();
        match result {
            Ok(()) => Ok(journal),
            Err(e) => {
                self.journal = Some(journal);
                Err(sqlite(&p, "cannot commit the input")(e))
            }
        }
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        if let Some(journal) = self.journal.take() {
            let path = journal.path.clone();
            drop(journal); // closes without committing: nothing was written
            if self.remove {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
            }
        }
    }
}
