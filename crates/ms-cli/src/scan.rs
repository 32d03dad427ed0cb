//! Helpers shared by the `ms scan` commands: fetching results, waiting for tasks,
//! and the tables that show them.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ms_model::DescribeScanResultsRequest;
use ms_transport::Client;
use serde_json::Value;

use crate::context::transport_error;
use crate::error::{CliError, CliResult};
use crate::output::{Render, Table, field, safe_type, task_status, u64_field};
use crate::report::AppFindings;

/// TaskStatus of a scan still in progress.
pub const STATUS_SCANNING: u64 = 2;

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

impl TaskResults {
    /// True when no app of the task is still being scanned.
    pub fn finished(&self) -> bool {
        self.scan_set
            .iter()
            .all(|s| u64_field(s, "TaskStatus") != Some(STATUS_SCANNING))
    }

    /// Number of apps per TaskStatus: (done, scanning, failed).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for s in &self.scan_set {
            match u64_field(s, "TaskStatus") {
                Some(1) => c.0 += 1,
                Some(STATUS_SCANNING) => c.1 += 1,
                _ => c.2 += 1,
            }
        }
        c
    }
}

/// Sends a typed request and decodes the typed answer.
pub async fn send<A: ms_model::Action>(
    client: &Client,
    request: &A,
) -> Result<A::Response, ms_transport::Error> {
    client.send(request).await
}

/// Calls `DescribeScanResults` for one task.
pub async fn fetch_results(
    client: &Client,
    item_id: &str,
    md5s: &[String],
) -> CliResult<TaskResults> {
    let req = DescribeScanResultsRequest {
        item_id: item_id.to_owned(),
        app_md5s: if md5s.is_empty() {
            None
        } else {
            Some(md5s.to_vec())
        },
    };
    // The answer as JSON (decoded once, checked against the model by the transport):
    // printing it needs no typed round trip.
    let params = serde_json::to_value(&req)
        .map_err(|e| CliError::usage(format!("cannot encode the request: {e}")))?;
    let mut value = client
        .send_json(
            <DescribeScanResultsRequest as ms_model::Action>::NAME,
            true,
            &params,
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

/// Polls each task with `DescribeScanResults` until none of its apps is still scanning,
/// a few tasks at a time; `on_done` is called as each task finishes.
pub async fn wait_for_tasks(
    client: &Client,
    item_ids: &[String],
    poll: Duration,
    timeout: Duration,
    mut on_done: impl FnMut(&TaskResults),
) -> CliResult<Vec<TaskResults>> {
    let deadline = Instant::now() + timeout;
    let mut stream = futures_util::stream::iter(item_ids.iter().cloned().enumerate())
        .map(|(i, id)| {
            let client = client.clone();
            async move {
                loop {
                    let r = fetch_results(&client, &id, &[]).await?;
                    if r.finished() {
                        return Ok::<_, CliError>((i, r));
                    }
                    if Instant::now() + poll > deadline {
                        return Err(CliError::remote(format!(
                            "task {id} is still scanning after {} s",
                            timeout.as_secs()
                        ))
                        .with_hint(format!(
                            "wait longer with `ms scan wait {id} --wait-timeout SECS`"
                        )));
                    }
                    tokio::time::sleep(poll).await;
                }
            }
        })
        .buffer_unordered(8);
    let mut out: Vec<Option<TaskResults>> = vec![None; item_ids.len()];
    while let Some(res) = stream.next().await {
        let (i, r) = res?;
        on_done(&r);
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
