//! Reconciliation: a chunk whose reply was lost may or may not have been processed. Before
//! it is sent again, the account's scans are listed and matched against it.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use ms_model::{AppScanSet, DescribeScanInstancesRequest};
use tracing::{info, warn};

use super::engine::EventSink;
use super::{
    BatchCounts, BatchEvent, BatchOptions, ChunkId, ChunkOutcome, ClaimedChunk, Journal,
    JournalError, OutcomeError, StopSignal,
};
use crate::client::Client;
use crate::error::Error;
use crate::paginate::paginate_pages;

/// Scans listed per `DescribeScanInstances` page (the documented maximum).
const PAGE: u64 = 100;

/// One task as the listing shows it.
#[derive(Debug)]
struct Listed {
    item_id: String,
    /// Submission time (server clock, Unix seconds): the newest of its rows.
    task_time: u64,
    rows: Vec<AppScanSet>,
    taken: bool,
}

/// Resolves `chunks` (whose outcome is unknown) by listing the account's scans and records
/// the result: found → accepted with the listed ItemId; not found → pending again (or, on
/// the `last` pass, failed: safe to resubmit); listing failed → still unknown. Returns early,
/// recording nothing more, when `stop` is given.
pub(super) async fn reconcile<J: Journal + ?Sized>(
    client: &Client,
    journal: &mut J,
    mut chunks: Vec<ClaimedChunk>,
    options: &BatchOptions,
    stop: &StopSignal,
    last: bool,
    sink: &mut EventSink<impl FnMut(BatchEvent<'_>, &BatchCounts)>,
) -> Result<(), JournalError> {
    chunks.sort_by_key(|c| (c.claimed_at, c.id));
    sink.emit(BatchEvent::Reconciling {
        chunks: chunks.len(),
        apps: chunks.iter().map(|c| c.apps.len()).sum(),
    });
    info!(
        chunks = chunks.len(),
        "reconciling chunks whose reply was lost"
    );
    let known = journal.item_ids()?;
    let offset = client.skew_store().offset(client.endpoint().host());
    let margin = options.clock_margin.as_secs();
    // Server time from which the scans of these chunks can appear.
    let cutoff = chunks
        .iter()
        .map(|c| server_time(c.claimed_at, offset).saturating_sub(margin))
        .min()
        .unwrap_or(0);
    let named: Vec<String> = chunks
        .iter()
        .filter_map(|c| c.item_id.clone())
        .filter(|id| !known.contains(id))
        .collect();
    let listing = tokio::select! {
        listed = list_tasks(client, &named, cutoff, &known) => listed,
        () = stop.stopped() => return Ok(()),
    };
    let mut tasks = match listing {
        Ok(tasks) => tasks,
        Err(e) => {
            warn!(error = %e, "cannot list the account's scans; outcomes stay unknown");
            let error = OutcomeError {
                message: format!(
                    "the reply was lost and the account's scans could not be listed to find out whether it was processed: {e}"
                ),
                ..OutcomeError::from_error(&e)
            };
            let records: Vec<(ChunkId, ChunkOutcome)> = chunks
                .iter()
                .map(|c| {
                    (
                        c.id,
                        ChunkOutcome::Unknown {
                            error: error.clone(),
                            item_id: c.item_id.clone(),
                        },
                    )
                })
                .collect();
            return emit_all(journal, &chunks, records, sink);
        }
    };
    let records: Vec<(ChunkId, ChunkOutcome)> = chunks
        .iter()
        .map(|c| (c.id, resolve(c, &mut tasks, offset, margin, cutoff, last)))
        .collect();
    emit_all(journal, &chunks, records, sink)
}

fn emit_all(
    journal: &mut (impl Journal + ?Sized),
    chunks: &[ClaimedChunk],
    records: Vec<(ChunkId, ChunkOutcome)>,
    sink: &mut EventSink<impl FnMut(BatchEvent<'_>, &BatchCounts)>,
) -> Result<(), JournalError> {
    journal.record(&records)?;
    for (chunk, (_, outcome)) in chunks.iter().zip(&records) {
        sink.emit(BatchEvent::Outcome { chunk, outcome });
    }
    Ok(())
}

fn server_time(local: u64, offset: i64) -> u64 {
    local.saturating_add_signed(offset)
}

/// The outcome of one chunk given the listed tasks (a task found is taken, so no other
/// chunk can claim it).
fn resolve(
    chunk: &ClaimedChunk,
    tasks: &mut [Listed],
    offset: i64,
    margin: u64,
    cutoff: u64,
    last: bool,
) -> ChunkOutcome {
    let claimed = server_time(chunk.claimed_at, offset);
    let candidates = tasks
        .iter_mut()
        .filter(|t| !t.taken)
        .filter(|t| match &chunk.item_id {
            // The reply named the task: only it can hold the chunk.
            Some(id) => &t.item_id == id,
            None => t.task_time.saturating_add(margin) >= claimed,
        });
    // The task matching most apps, then the one closest to the claim time.
    let best = candidates
        .filter_map(|t| matches(chunk, t).map(|missing| (t, missing)))
        .max_by_key(|(t, missing)| {
            (
                t.rows.len(),
                std::cmp::Reverse(t.task_time.abs_diff(claimed)),
                std::cmp::Reverse(missing.len()),
            )
        });
    match best {
        Some((task, missing)) => {
            task.taken = true;
            info!(chunk = %chunk.id, item_id = %task.item_id, apps = task.rows.len(), "lost reply: the chunk was processed");
            ChunkOutcome::Accepted {
                item_id: task.item_id.clone(),
                request_id: None,
                not_accepted: missing,
                reconciled: true,
            }
        }
        None => {
            let error = OutcomeError::new(
                "NotProcessed",
                format!(
                    "the reply was lost; the account's scans since {cutoff} (Unix time) do not show these apps: the request was not processed"
                ),
            );
            if last {
                ChunkOutcome::Failed(error)
            } else {
                ChunkOutcome::NotFound(error)
            }
        }
    }
}

/// When every listed row of `task` is one app of `chunk` (MD5, and size, name, package and
/// version where both sides have them; a multiset: one row per app), the positions of the
/// chunk's apps the task does not hold.
fn matches(chunk: &ClaimedChunk, task: &Listed) -> Option<Vec<u64>> {
    if task.rows.is_empty() || task.rows.len() > chunk.apps.len() {
        return None;
    }
    let mut used = vec![false; chunk.apps.len()];
    for row in &task.rows {
        let md5 = row.app_md5.as_deref()?.to_ascii_lowercase();
        let slot = chunk.apps.iter().enumerate().position(|(i, a)| {
            let app = &a.app;
            let same = |listed: &Option<String>, ours: &Option<String>| match (listed, ours) {
                (Some(l), Some(o)) if !l.is_empty() => l == o,
                _ => true,
            };
            !used[i]
                && app.app_md5.eq_ignore_ascii_case(&md5)
                && match (row.app_size, app.app_size) {
                    (Some(l), Some(o)) if l > 0 => l == o,
                    _ => true,
                }
                && same(&row.app_name, &app.app_name)
                && same(&row.app_pkg_name, &app.app_pkg_name)
                && same(&row.app_version, &app.app_version)
        })?;
        used[slot] = true;
    }
    Some(
        chunk
            .apps
            .iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(a, _)| a.position)
            .collect(),
    )
}

/// The tasks that can hold lost chunks: those named by a reply (listed by `ItemIds`) and
/// those submitted since `cutoff` (newest first), minus every task the journal records.
async fn list_tasks(
    client: &Client,
    named: &[String],
    cutoff: u64,
    known: &HashSet<String>,
) -> Result<Vec<Listed>, Error> {
    let mut by_task: HashMap<String, Listed> = HashMap::new();
    let mut seen_sids: HashSet<String> = HashSet::new();
    let mut add = |row: AppScanSet| {
        let Some(item_id) = row.item_id.clone().filter(|id| !known.contains(id)) else {
            return;
        };
        // Pages shift when scans are added meanwhile: a row seen twice counts once.
        if let Some(sid) = &row.app_sid
            && !seen_sids.insert(sid.clone())
        {
            return;
        }
        let task = by_task.entry(item_id.clone()).or_insert_with(|| Listed {
            item_id,
            task_time: 0,
            rows: Vec::new(),
            taken: false,
        });
        task.task_time = task.task_time.max(row.task_time.unwrap_or(0));
        task.rows.push(row);
    };
    for ids in named.chunks(5) {
        // A task holds at most 20 apps: five tasks fit a page of 100.
        let request = DescribeScanInstancesRequest {
            item_ids: Some(ids.to_vec()),
            limit: Some(PAGE),
            ..Default::default()
        };
        let mut pages = std::pin::pin!(paginate_pages(client, request));
        while let Some(page) = pages.next().await {
            page?.items.into_iter().for_each(&mut add);
        }
    }
    let request = DescribeScanInstancesRequest {
        limit: Some(PAGE),
        order_field: Some("TaskTime".to_owned()),
        order_direction: Some("desc".to_owned()),
        ..Default::default()
    };
    let mut pages = std::pin::pin!(paginate_pages(client, request));
    while let Some(page) = pages.next().await {
        let page = page?;
        let mut older = false;
        for row in page.items {
            if row.task_time.unwrap_or(0) < cutoff {
                older = true;
            } else {
                add(row);
            }
        }
        if older {
            break;
        }
    }
    Ok(by_task.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{AppState, PositionedApp};
    use ms_model::AppInfo;

    fn app(position: u64, md5: &str, name: Option<&str>) -> PositionedApp {
        PositionedApp {
            position,
            app: AppInfo {
                app_md5: md5.into(),
                app_name: name.map(str::to_owned),
                app_size: Some(position),
                ..AppInfo::default()
            },
        }
    }

    fn chunk(id: u64, claimed_at: u64, apps: Vec<PositionedApp>) -> ClaimedChunk {
        ClaimedChunk {
            id: ChunkId(id),
            claimed_at,
            apps,
            item_id: None,
            state: AppState::Unknown,
        }
    }

    fn row(md5: &str, name: Option<&str>, size: u64) -> AppScanSet {
        AppScanSet {
            app_md5: Some(md5.to_uppercase()),
            app_name: name.map(str::to_owned),
            app_size: Some(size),
            ..AppScanSet::default()
        }
    }

    fn task(id: &str, time: u64, rows: Vec<AppScanSet>) -> Listed {
        Listed {
            item_id: id.into(),
            task_time: time,
            rows,
            taken: false,
        }
    }

    #[test]
    fn a_task_holding_part_of_the_chunk_accepts_that_part() {
        let c = chunk(
            1,
            1000,
            vec![app(1, "aa", None), app(2, "bb", None), app(3, "aa", None)],
        );
        let mut tasks = vec![task(
            "t",
            1001,
            vec![row("aa", None, 1), row("bb", None, 2)],
        )];
        match resolve(&c, &mut tasks, 0, 60, 900, false) {
            ChunkOutcome::Accepted {
                item_id,
                not_accepted,
                reconciled,
                ..
            } => {
                assert_eq!(item_id, "t");
                assert_eq!(not_accepted, vec![3]);
                assert!(reconciled);
            }
            other => panic!("{other:?}"),
        }
        assert!(tasks[0].taken);
        // A task is claimed once: the same chunk again finds nothing.
        assert!(matches!(
            resolve(&c, &mut tasks, 0, 60, 900, false),
            ChunkOutcome::NotFound(_)
        ));
        assert!(matches!(
            resolve(&c, &mut tasks, 0, 60, 900, true),
            ChunkOutcome::Failed(_)
        ));
    }

    #[test]
    fn listed_fields_must_agree_and_rows_count_as_a_multiset() {
        let c = chunk(1, 1000, vec![app(1, "aa", Some("A")), app(2, "bb", None)]);
        // Same MD5, another name: another app.
        assert!(matches(&c, &task("t", 1000, vec![row("aa", Some("B"), 1)])).is_none());
        // Another size.
        assert!(matches(&c, &task("t", 1000, vec![row("aa", Some("A"), 9)])).is_none());
        // Two rows of the same MD5 for one app of it.
        assert!(
            matches(
                &c,
                &task("t", 1000, vec![row("aa", None, 1), row("aa", None, 1)])
            )
            .is_none()
        );
        assert_eq!(
            matches(&c, &task("t", 1000, vec![row("bb", Some("whatever"), 2)])),
            Some(vec![1])
        );
    }

    #[test]
    fn tasks_older_than_the_chunk_are_not_candidates_and_the_largest_match_wins() {
        let c = chunk(1, 10_000, vec![app(1, "aa", None), app(2, "bb", None)]);
        let mut tasks = vec![
            task(
                "old",
                10_000 - 61,
                vec![row("aa", None, 1), row("bb", None, 2)],
            ),
            task("part", 10_001, vec![row("aa", None, 1)]),
            task(
                "whole",
                10_002,
                vec![row("aa", None, 1), row("bb", None, 2)],
            ),
        ];
        match resolve(&c, &mut tasks, 0, 60, 0, false) {
            ChunkOutcome::Accepted {
                item_id,
                not_accepted,
                ..
            } => {
                assert_eq!(item_id, "whole");
                assert!(not_accepted.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // A clock offset learned from the service moves the window.
        let mut tasks = vec![task("old", 10_000 - 61, vec![row("aa", None, 1)])];
        assert!(matches!(
            resolve(&c, &mut tasks, -10, 60, 0, false),
            ChunkOutcome::Accepted { .. }
        ));
    }

    #[test]
    fn a_chunk_whose_reply_named_its_task_matches_only_that_task() {
        let mut c = chunk(1, 1000, vec![app(1, "aa", None)]);
        c.item_id = Some("named".into());
        let mut tasks = vec![
            task("other", 1000, vec![row("aa", None, 1)]),
            task("named", 1000, vec![row("aa", None, 1)]),
        ];
        match resolve(&c, &mut tasks, 0, 60, 0, false) {
            ChunkOutcome::Accepted { item_id, .. } => assert_eq!(item_id, "named"),
            other => panic!("{other:?}"),
        }
    }
}
