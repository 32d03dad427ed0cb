//! Helpers shared by the `ms scan` commands: fetching results, waiting for tasks,
//! and the tables that show them.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use ms_model::Idempotency;

use futures_util::StreamExt;
use ms_model::{DescribeScanInstancesRequest, DescribeScanResultsRequest, TaskStatus};
use ms_transport::Client;
use serde_json::Value;

use crate::context::transport_error;
use crate::error::{CliError, CliResult};
use crate::output::{Render, Table, field, safe_type, task_status, u64_field};
use crate::report::AppFindings;

/// The results of one task: the `DescribeScanResults` response as JSON (API names).
#[derive(Debug, Clone)]
pub struct TaskResults {
    /// The task.
    pub item_id: String,
    /// The `ScanSet` (ScanSetInfo objects).
    pub scan_set: Vec<Value>,
    /// RequestId of the answer.
    pub request_id: Option<String>,
}

/// The stable JSON form: `{"ItemId", "TotalCount", "ScanSet", "RequestId"}` (streamed,
/// without copying the results).
impl serde::Serialize for TaskResults {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("ItemId", &self.item_id)?;
        map.serialize_entry("TotalCount", &self.scan_set.len())?;
        map.serialize_entry("ScanSet", &self.scan_set)?;
        if let Some(id) = &self.request_id {
            map.serialize_entry("RequestId", id)?;
        }
        map.end()
    }
}

/// The parameters of `DescribeScanResults` for one task: its apps of `md5s`, or all of them
/// when `md5s` is empty.
pub(crate) fn results_params(item_id: &str, md5s: &[String]) -> CliResult<Value> {
    let req = DescribeScanResultsRequest {
        item_id: item_id.to_owned(),
        app_md5s: (!md5s.is_empty()).then(|| md5s.to_vec()),
    };
    serde_json::to_value(&req)
        .map_err(|e| CliError::usage(format!("cannot encode the request: {e}")))
}

/// Calls `DescribeScanResults` for one task.
pub async fn fetch_results(
    client: &Client,
    item_id: &str,
    md5s: &[String],
) -> CliResult<TaskResults> {
    // The answer as JSON (decoded once, checked against the model by the transport):
    // printing it needs no typed round trip.
    let mut value = client
        .send_json(
            <DescribeScanResultsRequest as ms_model::Action>::NAME,
            Idempotency::Idempotent,
            &results_params(item_id, md5s)?,
        )
        .await
        .map_err(transport_error)?;
    let scan_set = match value.get_mut("ScanSet").map(Value::take) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    Ok(TaskResults {
        item_id: item_id.to_owned(),
        scan_set,
        request_id: value
            .get("RequestId")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Where one task stands, from the `DescribeScanInstances` listing of its apps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskWait {
    /// The task.
    pub item_id: String,
    /// Apps listed for the task.
    pub apps: usize,
    /// Apps scanned successfully (TaskStatus 1).
    pub completed: usize,
    /// Apps whose scan ended in error or timeout (TaskStatus 3 or 4).
    pub failed: usize,
}

impl TaskWait {
    /// True when every app of the task is in a final state.
    pub fn finished(&self) -> bool {
        self.apps > 0 && self.completed + self.failed == self.apps
    }
}

/// Progress of [`wait_for_tasks`], after each round of polls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitProgress {
    /// Tasks waited for.
    pub tasks: usize,
    /// Tasks whose apps are all in a final state.
    pub tasks_done: usize,
    /// Apps of the tasks (as listed so far).
    pub apps: usize,
    /// Apps in a final state.
    pub apps_done: usize,
}

/// Most apps one `DescribeScanInstances` page returns (its `Limit` maximum).
const PAGE_APPS: usize = 100;

/// Most ItemIds put in one `DescribeScanInstances` request.
const MAX_IDS_PER_POLL: usize = 100;

/// Requests of one polling round in flight at once (the client's rate limiter paces them).
const POLL_CONCURRENCY: usize = 4;

/// Waits until every app of the tasks is in a final state (TaskStatus 1, 3 or 4): every
/// round of [`TaskWaiter`] until none is left. `on_progress` is called after each round.
pub async fn wait_for_tasks(
    client: &Client,
    item_ids: &[String],
    poll: Duration,
    timeout: Duration,
    again: Option<String>,
    mut on_progress: impl FnMut(&WaitProgress),
) -> CliResult<Vec<TaskWait>> {
    let mut waiter = TaskWaiter::new(client, item_ids, poll, timeout).wait_again_with(again);
    while let Some(round) = waiter.round().await? {
        on_progress(&round.progress);
    }
    Ok(waiter.into_tasks())
}

/// One round of [`TaskWaiter::round`].
#[derive(Debug, Clone, Default)]
pub struct WaitRound {
    /// Tasks whose apps all reached a final state in this round (each reported once).
    pub finished: Vec<TaskWait>,
    /// Where all the tasks stand.
    pub progress: WaitProgress,
}

/// Waits for scan tasks round by round, so that a caller can act on each task as soon as
/// it finishes (fetch and print its results) instead of after the last one.
///
/// Cheap for thousands of tasks: each round lists the apps of many unfinished tasks per
/// `DescribeScanInstances` call (`ItemIds`, packed by their known app counts into pages of
/// 100 apps; a task has at most 20), paced by the client's rate limiter; finished tasks
/// are not polled again. An ItemId that lists no apps is checked once with
/// `DescribeScanResults`, so an unknown task fails at once with the service's error
/// instead of waiting for the timeout.
#[derive(Debug)]
pub struct TaskWaiter<'a> {
    client: &'a Client,
    poll: Duration,
    timeout: Duration,
    deadline: Instant,
    /// One entry per given ItemId (duplicates included), in the given order.
    tasks: Vec<TaskWait>,
    /// Positions in `tasks` of each distinct ItemId.
    index: HashMap<String, Vec<usize>>,
    /// Distinct ItemIds not finished yet.
    pending: Vec<String>,
    checked_empty: HashSet<String>,
    rounds: u32,
    /// The command the timeout's hint gives to wait again (else `ms scan wait ITEM_ID`).
    again: Option<String>,
}

impl<'a> TaskWaiter<'a> {
    /// A waiter for these tasks (the same ItemId given twice is polled once).
    pub fn new(client: &'a Client, item_ids: &[String], poll: Duration, timeout: Duration) -> Self {
        let mut index: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, id) in item_ids.iter().enumerate() {
            index.entry(id.clone()).or_default().push(i);
        }
        let mut unique = HashSet::new();
        TaskWaiter {
            client,
            poll,
            timeout,
            deadline: Instant::now() + timeout,
            tasks: item_ids
                .iter()
                .map(|id| TaskWait {
                    item_id: id.clone(),
                    ..TaskWait::default()
                })
                .collect(),
            pending: item_ids
                .iter()
                .filter(|id| unique.insert(id.as_str()))
                .cloned()
                .collect(),
            index,
            checked_empty: HashSet::new(),
            rounds: 0,
            again: None,
        }
    }

    /// The same waiter whose timeout says to wait again with `command` (such as
    /// `ms scan wait --journal run.db`) instead of by ItemIds.
    pub fn wait_again_with(mut self, command: Option<String>) -> Self {
        self.again = command;
        self
    }

    /// Polls the unfinished tasks once (after the poll interval, except the first time).
    /// `None` once every task is finished; an error when the timeout passes first.
    pub async fn round(&mut self) -> CliResult<Option<WaitRound>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        if self.rounds > 0 {
            if Instant::now() + self.poll > self.deadline {
                return Err(self.timed_out());
            }
            tokio::time::sleep(self.poll).await;
        }
        self.rounds += 1;
        let mut seen = self.poll_pending().await?;
        let mut finished = Vec::new();
        let mut still = Vec::with_capacity(self.pending.len());
        for id in std::mem::take(&mut self.pending) {
            let w = seen.remove(&id).unwrap_or_else(|| TaskWait {
                item_id: id.clone(),
                ..TaskWait::default()
            });
            if w.apps == 0 && self.checked_empty.insert(id.clone()) {
                // Unknown (or deleted) task: let the service say so.
                let r = fetch_results(self.client, &id, &[]).await?;
                if r.scan_set.is_empty() {
                    return Err(CliError::remote(format!("task {id} has no apps"))
                        .with_hint("check the ItemId; `ms scan list` shows the submitted tasks"));
                }
            }
            for &i in self.index.get(&id).map(Vec::as_slice).unwrap_or_default() {
                self.tasks[i] = w.clone();
            }
            if w.finished() {
                finished.push(w);
            } else {
                still.push(id);
            }
        }
        self.pending = still;
        let mut progress = WaitProgress {
            tasks: self.tasks.len(),
            ..WaitProgress::default()
        };
        for t in &self.tasks {
            progress.tasks_done += usize::from(t.finished());
            progress.apps += t.apps;
            progress.apps_done += t.completed + t.failed;
        }
        Ok(Some(WaitRound { finished, progress }))
    }

    /// The tasks as last seen, one per given ItemId.
    pub fn into_tasks(self) -> Vec<TaskWait> {
        self.tasks
    }

    /// Lists the pending tasks' apps, packed into requests of at most a page of apps.
    async fn poll_pending(&self) -> CliResult<HashMap<String, TaskWait>> {
        let mut groups: Vec<Vec<String>> = Vec::new();
        let mut room = 0usize;
        for id in &self.pending {
            let apps = self
                .index
                .get(id)
                .map(|v| self.tasks[v[0]].apps)
                .filter(|n| *n > 0)
                .unwrap_or(ms_transport::batch::MAX_APPS_PER_CALL)
                .min(PAGE_APPS);
            match groups.last_mut() {
                Some(g) if apps <= room && g.len() < MAX_IDS_PER_POLL => {
                    g.push(id.clone());
                    room -= apps;
                }
                _ => {
                    groups.push(vec![id.clone()]);
                    room = PAGE_APPS - apps;
                }
            }
        }
        let mut polls = futures_util::stream::iter(groups)
            .map(|ids| list_task_apps(self.client, ids))
            .buffer_unordered(POLL_CONCURRENCY);
        let mut seen = HashMap::new();
        while let Some(page) = polls.next().await {
            seen.extend(page?);
        }
        Ok(seen)
    }

    fn timed_out(&self) -> CliError {
        let first = &self.pending[0];
        let what = if self.pending.len() == 1 {
            format!("task {first} is")
        } else {
            format!("{} tasks (first: {first}) are", self.pending.len())
        };
        CliError::remote(format!(
            "{what} still scanning after {} s",
            self.timeout.as_secs_f64()
        ))
        .with_hint(format!(
            "wait longer with `{} --wait-timeout SECS`",
            match &self.again {
                Some(command) => command.clone(),
                None if self.pending.len() == 1 => format!("ms scan wait {first}"),
                None => "ms scan wait ITEM_ID...".to_owned(),
            }
        ))
    }
}

/// Lists the apps of the given tasks (`DescribeScanInstances` with `ItemIds`, every
/// page) and tallies their statuses per task.
async fn list_task_apps(client: &Client, ids: Vec<String>) -> CliResult<Vec<(String, TaskWait)>> {
    let request = DescribeScanInstancesRequest {
        item_ids: Some(ids.clone()),
        limit: Some(PAGE_APPS as u64),
        offset: Some(0),
        ..DescribeScanInstancesRequest::default()
    };
    let mut out: Vec<(String, TaskWait)> = ids
        .into_iter()
        .map(|id| {
            let w = TaskWait {
                item_id: id.clone(),
                ..TaskWait::default()
            };
            (id, w)
        })
        .collect();
    let mut apps = std::pin::pin!(ms_transport::paginate(client, request));
    while let Some(app) = apps.next().await {
        let app = app.map_err(transport_error)?;
        let Some(slot) = out
            .iter_mut()
            .find(|(id, _)| Some(id.as_str()) == app.item_id.as_deref())
        else {
            continue;
        };
        let w = &mut slot.1;
        w.apps += 1;
        match app.task_status.and_then(TaskStatus::from_code) {
            Some(TaskStatus::Completed) => w.completed += 1,
            Some(TaskStatus::Error | TaskStatus::Timeout) => w.failed += 1,
            Some(TaskStatus::Processing) | None => {}
        }
    }
    Ok(out)
}

/// Fetches the results of each task (`DescribeScanResults`, a few at a time), in the
/// given order; `on_done` is called as each arrives.
pub async fn fetch_all_results(
    client: &Client,
    item_ids: &[String],
    mut on_done: impl FnMut(),
) -> CliResult<Vec<TaskResults>> {
    let mut stream = futures_util::stream::iter(item_ids.iter().enumerate())
        .map(|(i, id)| async move { fetch_results(client, id, &[]).await.map(|r| (i, r)) })
        .buffer_unordered(8);
    let mut out: Vec<Option<TaskResults>> = vec![None; item_ids.len()];
    while let Some(res) = stream.next().await {
        let (i, r) = res?;
        on_done();
        out[i] = Some(r);
    }
    Ok(out.into_iter().flatten().collect())
}

/// Results of one or more tasks, shown per app.
#[derive(Debug, Clone)]
pub struct ResultsView<'a> {
    /// The tasks.
    pub tasks: &'a [TaskResults],
}

impl Render for ResultsView<'_> {
    fn json(&self) -> Value {
        if let [one] = self.tasks {
            return serde_json::to_value(one).unwrap_or_default();
        }
        Value::Array(
            self.tasks
                .iter()
                .map(|t| serde_json::to_value(t).unwrap_or_default())
                .collect(),
        )
    }

    fn table(&self) -> Table {
        let mut t = Table::new([
            "ITEM_ID", "APP", "PACKAGE", "MD5", "STATUS", "VIRUS", "VERDICT", "HIGH", "MED", "LOW",
            "ADS", "PERMS",
        ]);
        for task in self.tasks {
            for s in &task.scan_set {
                let f = AppFindings::from_json(s);
                t.push([
                    task.item_id.clone(),
                    f.name.clone(),
                    f.package.clone(),
                    f.md5.clone(),
                    task_status(f.task_status).to_owned(),
                    safe_type(f.safe_type).to_owned(),
                    f.verdict().label().to_owned(),
                    f.count_risk(3).to_string(),
                    f.count_risk(2).to_string(),
                    f.count_risk(1).to_string(),
                    f.ads.len().to_string(),
                    f.permissions.len().to_string(),
                ]);
            }
        }
        t
    }

    fn people(&self) -> String {
        let mut out = String::new();
        for (i, task) in self.tasks.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!(
                "ItemId {} ({} app(s))\n",
                task.item_id,
                task.scan_set.len()
            ));
            out.push_str(&Self::people_table(task).render());
        }
        out
    }
}

impl ResultsView<'_> {
    /// The per-app rows for people: one section per task (its ItemId as a heading), and
    /// the columns that matter to decide what to look at first.
    fn people_table(task: &TaskResults) -> Table {
        let mut t = Table::new([
            "APP", "VERSION", "VERDICT", "VIRUS", "HIGH", "MED", "LOW", "ADS", "PERMS",
        ]);
        for s in &task.scan_set {
            let f = AppFindings::from_json(s);
            let verdict = match f.verdict() {
                crate::report::Verdict::Incomplete => {
                    format!("incomplete ({})", task_status(f.task_status))
                }
                v => v.label().to_owned(),
            };
            t.push([
                f.name.clone(),
                f.version.clone(),
                verdict,
                safe_type(f.safe_type).to_owned(),
                f.count_risk(3).to_string(),
                f.count_risk(2).to_string(),
                f.count_risk(1).to_string(),
                f.ads.len().to_string(),
                f.permissions.len().to_string(),
            ]);
        }
        t
    }
}

/// Scanned apps (`AppScanSet` objects) as a table.
pub fn app_scan_table(scan_set: &[Value]) -> Table {
    let mut t = Table::new([
        "ITEM_ID",
        "APP_SID",
        "APP",
        "PACKAGE",
        "VERSION",
        "MD5",
        "STATUS",
        "SAFETY",
        "VULS",
        "SUBMITTED",
    ]);
    for s in scan_set {
        t.push([
            field(s, "ItemId"),
            field(s, "AppSid"),
            field(s, "AppName"),
            field(s, "AppPkgName"),
            field(s, "AppVersion"),
            field(s, "AppMd5"),
            task_status(u64_field(s, "TaskStatus")).to_owned(),
            safe_type(crate::output::i64_field(s, "SafeType")).to_owned(),
            field(s, "VulCount"),
            crate::output::unix_time(u64_field(s, "TaskTime")),
        ]);
    }
    t
}
