//! The journal's SQL schema (see `docs/journal.md`), version [`SCHEMA_VERSION`].

/// The schema version this crate writes and reads (`meta.schema_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// Creates every table of a new journal (run inside the creating transaction).
pub(crate) const CREATE: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE runs (
    id         INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,
    outcome    TEXT,
    command    TEXT
);

CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER REFERENCES runs(id),
    claimed_at  INTEGER NOT NULL,
    apps        INTEGER NOT NULL,
    state       TEXT NOT NULL,
    item_id     TEXT,
    request_id  TEXT,
    code        TEXT,
    message     TEXT,
    reconciled  INTEGER NOT NULL DEFAULT 0,
    resolved_at INTEGER
);

CREATE TABLE apps (
    position  INTEGER PRIMARY KEY,
    url       TEXT NOT NULL,
    md5       TEXT NOT NULL,
    size      INTEGER,
    name      TEXT,
    package   TEXT,
    version   TEXT,
    file_name TEXT,
    icon_url  TEXT,
    state     TEXT NOT NULL DEFAULT 'pending',
    chunk_id  INTEGER REFERENCES chunks(id),
    item_id   TEXT,
    code      TEXT,
    message   TEXT,
    attempts  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE results (
    item_id    TEXT PRIMARY KEY,
    fetched_at INTEGER NOT NULL,
    scan_set   TEXT NOT NULL
) WITHOUT ROWID;
";

/// The columns of an app, in the order [`crate::app_from_row`] reads them.
pub(crate) const APP_COLUMNS: &str =
    "position, url, md5, size, name, package, version, file_name, icon_url";
