//! Run journals for the `ms` command: where they live, opening (resuming) or creating one
//! for `scan submit`, and reading a run's ItemIds for `scan wait/results/report --journal`.
//!
//! Without `--journal`, each `scan submit` writes a new journal under the state directory
//! (`$MS_JOURNAL_DIR`, else `$XDG_STATE_HOME/ms/journals`, else
//! `~/.local/state/ms/journals`) and prints its path, so an interrupted run can always be
//! resumed; `--no-journal` (and `--emulator`, whose service ends with the process) keep the
//! run in a temporary journal instead.

use std::path::{Path, PathBuf};

use ms_journal::{Fingerprint, JournalWriter, SqliteJournal};
use ms_model::ScanInfo;

use crate::error::{CliError, CliResult};
use crate::input::Input;

/// Which journal a submission uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalChoice {
    /// `--journal FILE`: resumed when it exists, created otherwise.
    File(PathBuf),
    /// A new journal under the state directory.
    Default,
    /// A temporary journal, removed at exit.
    Temporary,
}

/// A journal ready for a submission.
#[derive(Debug)]
pub struct RunJournal {
    /// The journal.
    pub journal: SqliteJournal,
    /// It existed: this run continues an earlier one.
    pub resumed: bool,
    /// Where it is kept (none for a temporary journal).
    pub path: Option<PathBuf>,
    /// The scan settings of the run (a resumed run keeps its journal's unless the command
    /// gives them, and then they must match).
    pub scan_info: ScanInfo,
}

/// Maps a journal error to the CLI's: a locked, foreign or mismatched journal is a usage
/// error (exit 2); SQLite and file failures (a full disk) fail the run (exit 1).
pub fn journal_error(e: ms_journal::Error) -> CliError {
    use ms_journal::Error as E;
    match &e {
        E::Locked { .. } => CliError::usage(format!("journal {e}"))
            .with_hint("another `ms scan submit` is running with this journal; wait for it, or use another --journal"),
        E::InputMismatch { .. } | E::SettingsMismatch { .. } => CliError::usage(format!("journal {e}"))
            .with_hint("run the command that made the journal, or give a new --journal for this input"),
        E::Io { path, source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            CliError::usage(format!("journal {}: no such file", path.display()))
                .with_hint("give the file named with `ms scan submit --journal FILE` (or printed by it)")
        }
        E::NotAJournal { .. } => CliError::usage(format!("journal {e}"))
            .with_hint("--journal takes a journal written by `ms scan submit` (or a new file name)"),
        E::Io { .. } | E::Sqlite { .. } => CliError::remote(format!("journal {e}"))
            .with_hint("check the disk (space, permissions); what was recorded before the failure stays recorded"),
        _ => CliError::remote(format!("journal {e}")),
    }
}

/// The directory of default journals (created on first use, private to the user).
pub fn default_dir() -> CliResult<PathBuf> {
    let dir = if let Some(d) = std::env::var_os("MS_JOURNAL_DIR").filter(|d| !d.is_empty()) {
        PathBuf::from(d)
    } else if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        PathBuf::from(d).join("ms").join("journals")
    } else if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        PathBuf::from(home).join(".local/state/ms/journals")
    } else {
        return Err(
            CliError::usage("no directory for the run's journal: HOME is not set")
                .with_hint("give --journal FILE (or --no-journal)"),
        );
    };
    create_private_dir(&dir)?;
    Ok(dir)
}

fn create_private_dir(dir: &Path) -> CliResult<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| CliError::file(dir, "create the journal directory", &e))
}

/// A new file name in the default directory: `submit-YYYYMMDD-HHMMSS-XXXXXX.sqlite` (UTC).
pub fn new_default_path() -> CliResult<PathBuf> {
    let dir = default_dir()?;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let date = tc3_sign::utc_date(secs).replace('-', "");
    let t = secs % 86_400;
    for _ in 0..16 {
        let tag: u32 = rand_tag();
        let name = format!(
            "submit-{date}-{:02}{:02}{:02}-{tag:06x}.sqlite",
            t / 3600,
            t % 3600 / 60,
            t % 60
        );
        let path = dir.join(name);
        if !path.exists() {
            return Ok(path);
        }
    }
    Err(CliError::usage(format!(
        "cannot find a free journal name in {}",
        dir.display()
    )))
}

fn rand_tag() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    (h.finish() & 0xff_ffff) as u32
}

/// Opens (resumes) or creates the journal of a submission.
///
/// - An existing `--journal FILE`: the scan settings the command gives explicitly
///   (`explicit`: scan types, callback URL) must be the journal's; when the command names
///   an input, it is read once and must be the journal's input (same apps, same order).
/// - Otherwise the input is read once, each entry checked, into a new journal (nothing is
///   sent before the whole input is read: a bad entry submits nothing and leaves no file).
pub fn open_for_submit(
    choice: &JournalChoice,
    input: Option<&Input>,
    scan_info: &ScanInfo,
    explicit: (bool, bool),
) -> CliResult<RunJournal> {
    if let JournalChoice::File(path) = choice {
        check_journal_path(path)?;
    }
    if let JournalChoice::File(path) = choice
        && path.exists()
        && !SqliteJournal::is_unfinished(path).map_err(journal_error)?
    {
        let journal = SqliteJournal::open(path).map_err(journal_error)?;
        let mut settings = journal.scan_info().map_err(journal_error)?;
        if explicit.0 {
            settings.scan_types = scan_info.scan_types.clone();
        }
        if explicit.1 {
            settings.callback_url = scan_info.callback_url.clone();
        }
        journal.check_settings(&settings).map_err(journal_error)?;
        let settings = journal.scan_info().map_err(journal_error)?;
        if let Some(input) = input {
            let mut fingerprint = Fingerprint::new();
            for app in input.read()? {
                fingerprint.push(&app?);
            }
            journal.check_input(fingerprint).map_err(journal_error)?;
        }
        return Ok(RunJournal {
            journal,
            resumed: true,
            path: Some(path.clone()),
            scan_info: settings,
        });
    }
    let Some(input) = input else {
        return Err(match choice {
            JournalChoice::File(path) if path.exists() => CliError::usage(format!(
                "journal {} holds no run (its creation was interrupted while the input was read): name the apps to submit (--manifest, --url or --apk)",
                path.display()
            )),
            JournalChoice::File(path) => CliError::usage(format!(
                "journal {} does not exist: name the apps to submit (--manifest, --url or --apk)",
                path.display()
            )),
            _ => CliError::usage(
                "one of --manifest, --url or --apk is required (or --journal FILE to resume a run)",
            ),
        });
    };
    let (writer, path) = match choice {
        JournalChoice::File(path) => (
            SqliteJournal::create(path, scan_info).map_err(journal_error)?,
            Some(path.clone()),
        ),
        JournalChoice::Default => {
            let path = new_default_path()?;
            (
                SqliteJournal::create(&path, scan_info).map_err(journal_error)?,
                Some(path),
            )
        }
        JournalChoice::Temporary => (
            SqliteJournal::create_temporary(scan_info).map_err(journal_error)?,
            None,
        ),
    };
    let journal = spool(writer, input)?;
    Ok(RunJournal {
        journal,
        resumed: false,
        path,
        scan_info: scan_info.clone(),
    })
}

/// A `--journal` path that can be no journal: a directory, or a new file in a directory
/// that does not exist (SQLite would say "disk I/O error" or "no such file").
fn check_journal_path(path: &Path) -> CliResult<()> {
    if path.is_dir() {
        return Err(
            CliError::usage(format!("journal {}: is a directory", path.display()))
                .with_hint("--journal takes a file name, e.g. --journal run.db"),
        );
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !path.exists() && !parent.is_dir() {
        return Err(CliError::usage(format!(
            "journal {}: the directory {} does not exist",
            path.display(),
            parent.display()
        ))
        .with_hint("create the directory, or give --journal a path in an existing one"));
    }
    Ok(())
}

/// Reads the whole input into a new journal (dropping the writer on an error removes it).
fn spool(mut writer: JournalWriter, input: &Input) -> CliResult<SqliteJournal> {
    let bar = crate::progress::bar(0, "reading");
    for app in input.read()? {
        writer.push(&app?).map_err(journal_error)?;
        if writer.apps().is_multiple_of(1024) {
            bar.set_position(writer.apps());
        }
    }
    bar.finish_and_clear();
    if writer.apps() == 0 {
        return Err(CliError::usage(format!("{}: no apps", input.name())));
    }
    writer.finish().map_err(journal_error)
}

/// The ItemIds of the run a journal records (its accepted tasks, in the order they were
/// submitted): what `scan wait`, `scan results` and `scan report` take with `--journal`.
///
/// The journal is opened read-only, so this works while `scan submit` is still writing
/// it. An error when the file is not a journal or records no accepted task.
pub fn run_item_ids(path: &Path) -> CliResult<Vec<String>> {
    let journal = SqliteJournal::open_read_only(path).map_err(journal_error)?;
    let ids = journal.item_ids_in_order().map_err(journal_error)?;
    if ids.is_empty() {
        return Err(CliError::usage(format!(
            "journal {}: no app of the run was accepted yet, so it has no ItemId",
            path.display()
        ))
        .with_hint("run (or resume) the submission with `ms scan submit --journal FILE`"));
    }
    Ok(ids)
}

/// The ItemIds a command names: given on the command line, or those of a run's journal
/// (`--journal FILE`, see [`run_item_ids`]); each once, in the order first given
/// ([`crate::sources::distinct_item_ids`]).
pub fn item_ids_or_journal(item_ids: &[String], journal: Option<&Path>) -> CliResult<Vec<String>> {
    let ids = match journal {
        Some(path) => run_item_ids(path)?,
        None => item_ids.to_vec(),
    };
    Ok(crate::sources::distinct_item_ids(ids))
}
