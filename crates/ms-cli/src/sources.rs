//! Where the scan results of reports, gates and diffs come from: tasks by ItemId
//! (`DescribeScanResults`), or results saved earlier as JSON.
//!
//! Saved JSON may be any of what `ms` prints with `-o json` — `ms scan results` (one task
//! object, or an array of them), `ms scan submit --wait` (its `Results`) — a bare API
//! answer (`{"Response": {"ScanSet": [...]}}`), or JSON Lines of task objects, such as the
//! `results` events of `ms scan submit --wait -o jsonl` (its other events are skipped).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{CliError, CliResult};
use crate::findings::AppFindings;
use crate::scan::{TaskResults, fetch_all_results, fetch_results};

/// Largest saved-results file read (results of 100,000 apps are ≈ 400 MB).
const MAX_SAVED_BYTES: u64 = 1 << 30;

/// The first bytes of every SQLite database file (a run journal is one).
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// True when the file starts like an SQLite database (whatever its name).
fn is_sqlite(path: &Path) -> CliResult<bool> {
    use std::io::Read as _;
    let mut head = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(|e| CliError::file(path, "read", &e))?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CliError::file(path, "read", &e)),
        }
    }
    Ok(&head == SQLITE_MAGIC)
}

/// The ItemIds, each once, in the order first given: a task named twice is fetched and
/// judged once (never counted twice in a summary, a JUnit suite or SARIF). A repeated
/// ItemId is named in a note on stderr.
pub fn distinct_item_ids(ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    let mut repeated = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if seen.contains(&id) {
            repeated.insert(id);
        } else {
            seen.insert(id.clone());
            out.push(id);
        }
    }
    for id in repeated {
        errln!("note: ItemId {id} is given more than once; its task is fetched and judged once");
    }
    out
}

/// One side of what to read: tasks by ItemId, a run's journal, or saved files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Tasks to fetch.
    ItemIds(Vec<String>),
    /// The tasks of a run: its journal (`ms scan submit --journal FILE`), whose accepted
    /// ItemIds are fetched.
    Journal(PathBuf),
    /// A file of saved results.
    Saved(PathBuf),
}

impl Source {
    /// An argument of `ms scan diff`: an existing file (a run journal when it is an SQLite
    /// database, told by its header, else saved results), else ItemIds separated by commas.
    pub fn from_arg(arg: &str) -> CliResult<Self> {
        let path = Path::new(arg);
        if arg == "-" {
            return Ok(Source::Saved(path.to_owned()));
        }
        if path.is_file() {
            return Ok(if is_sqlite(path)? {
                Source::Journal(path.to_owned())
            } else {
                Source::Saved(path.to_owned())
            });
        }
        let ids: Vec<String> = arg
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let looks_like_ids = !ids.is_empty()
            && ids.iter().all(|id| {
                id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if looks_like_ids {
            Ok(Source::ItemIds(distinct_item_ids(ids)))
        } else {
            Err(CliError::usage(format!(
                "{arg:?} is neither a file nor a list of ItemIds"
            ))
            .with_hint("give saved results (`ms scan results ITEM_ID -o json > FILE`), a run's journal (`ms scan submit --journal FILE`) or ItemIds separated by commas"))
        }
    }

    /// A short name for titles and messages.
    pub fn label(&self) -> String {
        match self {
            Source::ItemIds(ids) if ids.len() == 1 => ids[0].clone(),
            Source::ItemIds(ids) => format!("{} tasks ({}, ...)", ids.len(), ids[0]),
            Source::Journal(path) | Source::Saved(path) => path.display().to_string(),
        }
    }

    /// Reads the tasks' results (fetching them, a few at a time, for ItemIds).
    pub async fn load(&self, ctx: &mut crate::context::Ctx) -> CliResult<Vec<TaskResults>> {
        match self {
            Source::Saved(path) => read_saved(path),
            Source::ItemIds(ids) => {
                let client = ctx.client().await?;
                fetch_all_results(&client, ids, || {}).await
            }
            Source::Journal(path) => {
                let ids = crate::journal::run_item_ids(path)?;
                let client = ctx.client().await?;
                fetch_all_results(&client, &ids, || {}).await
            }
        }
    }
}

/// Fetches tasks by ItemId: one with the service filtering `md5s`, several a few at a time.
pub async fn fetch_tasks(
    ctx: &mut crate::context::Ctx,
    item_ids: &[String],
    md5s: &[String],
) -> CliResult<Vec<TaskResults>> {
    let client = ctx.client().await?;
    match item_ids {
        [one] => Ok(vec![fetch_results(&client, one, md5s).await?]),
        ids => fetch_all_results(&client, ids, || {}).await,
    }
}

/// The findings of every app of the tasks, in order, keeping only `md5s` when given.
pub fn apps_of(tasks: &[TaskResults], md5s: &[String]) -> Vec<AppFindings> {
    tasks
        .iter()
        .flat_map(|t| t.scan_set.iter().map(AppFindings::from_json))
        .filter(|a| md5s.is_empty() || md5s.iter().any(|m| m.eq_ignore_ascii_case(&a.md5)))
        .collect()
}

/// Reads saved results (`-` is standard input); a run's journal given instead is named as
/// such.
pub fn read_saved(path: &Path) -> CliResult<Vec<TaskResults>> {
    use std::io::Read as _;
    if path.as_os_str() != "-" && path.is_file() && is_sqlite(path)? {
        return Err(CliError::usage(format!(
            "{}: a run journal (SQLite), not saved results",
            path.display()
        ))
        .with_hint(format!("give it with --journal {}", path.display())));
    }
    let mut text = String::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_SAVED_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_SAVED_BYTES + 1).read_to_string(&mut text))
    };
    read.map_err(|e| CliError::file(path, "read", &e))?;
    if text.len() as u64 > MAX_SAVED_BYTES {
        return Err(CliError::usage(format!(
            "{}: larger than {} MiB",
            path.display(),
            MAX_SAVED_BYTES >> 20
        )));
    }
    parse_saved(&text).map_err(|problem| {
        CliError::usage(format!("{}: {problem}", path.display()))
            .with_hint("save results with `ms scan results ITEM_ID -o json > FILE`")
    })
}

/// Parses saved results (see the module documentation for the accepted shapes).
pub fn parse_saved(text: &str) -> Result<Vec<TaskResults>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => tasks_of(value).ok_or_else(|| "no ScanSet found".to_owned()),
        Err(whole) => {
            // JSON Lines: one task object per line.
            let mut tasks = Vec::new();
            let mut results_events_only = false;
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let value: Value = serde_json::from_str(line).map_err(|e| {
                    if i == 0 {
                        format!("invalid JSON: {whole}")
                    } else {
                        format!("line {}: invalid JSON: {e}", i + 1)
                    }
                })?;
                // `scan submit -o jsonl`: chunks, summary and the like carry no results.
                if value
                    .get("Event")
                    .is_some_and(|e| e.as_str() != Some("results"))
                {
                    results_events_only = true;
                    continue;
                }
                tasks.extend(
                    tasks_of(value).ok_or_else(|| format!("line {}: no ScanSet found", i + 1))?,
                );
            }
            if tasks.is_empty() && results_events_only {
                return Err(
                    "no results events (was `ms scan submit -o jsonl` run with --wait?)".to_owned(),
                );
            }
            Ok(tasks)
        }
    }
}

/// The tasks of one JSON value, or `None` if it holds no `ScanSet`.
fn tasks_of(value: Value) -> Option<Vec<TaskResults>> {
    match value {
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(tasks_of(item)?);
            }
            Some(out)
        }
        Value::Object(mut o) => {
            if let Some(inner) = o.remove("Response") {
                return tasks_of(inner);
            }
            if let Some(results) = o.remove("Results") {
                return tasks_of(results);
            }
            let Some(Value::Array(scan_set)) = o.remove("ScanSet") else {
                return None;
            };
            let text = |o: &serde_json::Map<String, Value>, k: &str| {
                o.get(k).and_then(Value::as_str).map(str::to_owned)
            };
            Some(vec![TaskResults {
                item_id: text(&o, "ItemId").unwrap_or_default(),
                request_id: text(&o, "RequestId"),
                scan_set,
            }])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_saved_shape_is_read() {
        let task = json!({"ItemId": "a", "TotalCount": 1, "ScanSet": [{"TaskStatus": 1}], "RequestId": "r"});
        let shapes = [
            task.to_string(),
            json!([task, task]).to_string(),
            json!({"Response": {"ScanSet": [{"TaskStatus": 1}], "RequestId": "r"}}).to_string(),
            json!({"Apps": 2, "Tasks": [], "Results": [task, task]}).to_string(),
            format!("{task}\n\n{task}\n"),
        ];
        let counts: Vec<usize> = shapes
            .iter()
            .map(|s| parse_saved(s).unwrap().len())
            .collect();
        assert_eq!(counts, [1, 2, 1, 2, 2]);
        assert_eq!(parse_saved(&shapes[0]).unwrap()[0].item_id, "a");
    }

    #[test]
    fn the_results_events_of_submit_jsonl_are_read() {
        let stream = [
            json!({"Event": "chunk", "Chunk": 1, "Outcome": "accepted", "ItemId": "a"}),
            json!({"Event": "summary", "Apps": 2, "Submitted": 2}),
            json!({"Event": "results", "ItemId": "a", "TotalCount": 2, "ScanSet": [{"TaskStatus": 1}, {"TaskStatus": 1}]}),
        ]
        .map(|v| v.to_string())
        .join("\n");
        let tasks = parse_saved(&stream).unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(
            (tasks[0].item_id.as_str(), tasks[0].scan_set.len()),
            ("a", 2)
        );
        // Without --wait the stream holds no results: said so, not read as no apps.
        let without_wait = stream.lines().take(2).collect::<Vec<_>>().join("\n");
        assert!(
            parse_saved(&without_wait)
                .unwrap_err()
                .starts_with("no results events")
        );
    }

    #[test]
    fn unreadable_input_is_named() {
        assert_eq!(parse_saved("{\"x\": 1}").unwrap_err(), "no ScanSet found");
        assert!(parse_saved("{").unwrap_err().starts_with("invalid JSON"));
        let two = format!("{}\n{{", json!({"ScanSet": []}));
        assert!(
            parse_saved(&two)
                .unwrap_err()
                .starts_with("line 2: invalid JSON")
        );
    }

    #[test]
    fn item_ids_are_kept_once_in_their_first_order() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            distinct_item_ids(ids(&["b", "a", "b", "c", "a"])),
            ids(&["b", "a", "c"])
        );
        assert_eq!(
            Source::from_arg("x,y,x").unwrap(),
            Source::ItemIds(ids(&["x", "y"]))
        );
    }

    #[test]
    fn an_argument_is_a_file_or_item_ids() {
        assert_eq!(
            Source::from_arg("abc, def").unwrap(),
            Source::ItemIds(vec!["abc".into(), "def".into()])
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("old.json");
        std::fs::write(&file, "[]").unwrap();
        assert_eq!(
            Source::from_arg(file.to_str().unwrap()).unwrap(),
            Source::Saved(file)
        );
        let missing = dir.path().join("missing.json");
        assert!(Source::from_arg(missing.to_str().unwrap()).is_err());
    }

    #[test]
    fn a_journal_given_as_saved_results_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("run.db");
        let mut page = SQLITE_MAGIC.to_vec();
        page.resize(4096, 0xff);
        std::fs::write(&db, page).unwrap();
        let e = read_saved(&db).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.message()
                .ends_with("run.db: a run journal (SQLite), not saved results"),
            "{e}"
        );
        assert!(e.hint().unwrap().starts_with("give it with --journal "));
    }

    #[test]
    fn a_journal_is_told_by_its_sqlite_header_not_its_name() {
        let dir = tempfile::tempdir().unwrap();
        // The header of a database page (real journals: tests/scan_diff.rs).
        let db = dir.path().join("run.json");
        let mut page = SQLITE_MAGIC.to_vec();
        page.extend_from_slice(&[0x10, 0x00, 0x02, 0x02]);
        std::fs::write(&db, page).unwrap();
        assert_eq!(
            Source::from_arg(db.to_str().unwrap()).unwrap(),
            Source::Journal(db.clone())
        );
        // Saved results named like a database, and a file shorter than the header.
        for (name, text) in [("results.sqlite", "[]"), ("short.db", "SQLite")] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            assert_eq!(
                Source::from_arg(path.to_str().unwrap()).unwrap(),
                Source::Saved(path)
            );
        }
    }
}
