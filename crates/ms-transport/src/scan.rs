//! Scan workflow helpers: batch submission and waiting for a task.
//!
//! [`submit_batch`] takes any number of apps as an iterator (they are pulled lazily, 20 at a
//! time, so 100,000 apps never sit in memory twice), submits them with `CreateScanInstances`
//! in chunks of at most 20 (the documented maximum) — concurrently, paced by the client's rate
//! limiter — and returns a [`BatchReport`] in which every input app appears exactly once:
//!
//! - in a [`SubmittedChunk`] with its `ItemId`;
//! - in [`BatchReport::failed`] when the chunk provably was not processed (connection never
//!   carried it, throttled until the retries ran out, rejected with a client error): safe to
//!   submit again;
//! - in [`BatchReport::unknown`] when the outcome is unknown (timeout, connection lost after
//!   sending, 5xx, `InternalError`, an unreadable or oversized reply, a reply without
//!   `ItemId`): `CreateScanInstances` is not idempotent, so such a chunk
//!   is *never* resubmitted automatically — check with `DescribeScanInstances` first;
//! - in [`BatchReport::invalid`] when the app failed client-side validation (never sent).
//!
//! [`wait_for_task`] polls `DescribeScanInstances` for one `ItemId` until every app of the
//! task is finished (TaskStatus 1 completed, 3 error, 4 timeout), with an interval, an
//! overall timeout and a progress callback. [`wait_for_shield`] does the same for a hardening
//! task with `DescribeShieldResult`.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use ms_model::{
    AppInfo, AppScanSet, CreateScanInstancesRequest, DescribeScanInstancesRequest,
    DescribeShieldResultRequest, DescribeShieldResultResponse, ScanInfo, TaskStatus, Validate,
    Violation,
};
use tracing::{debug, info};

use crate::client::Client;
use crate::error::Error;
use crate::paginate::paginate;

/// The most apps `CreateScanInstances` accepts in one call.
pub const MAX_APPS_PER_CALL: usize = 20;

/// Batch submission settings.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Apps per `CreateScanInstances` call (1..=20). Default 20.
    pub chunk_size: usize,
    /// Calls in flight at once. The rate limiter decides the pace; this only needs to cover
    /// the round-trip time (rate × latency). Default 16.
    pub concurrency: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            chunk_size: MAX_APPS_PER_CALL,
            concurrency: 16,
        }
    }
}

/// A chunk the service accepted.
#[derive(Debug, Clone)]
pub struct SubmittedChunk {
    /// Position of the chunk in submission order (0-based).
    pub index: usize,
    /// The task id.
    pub item_id: String,
    /// The apps of the chunk.
    pub apps: Vec<AppInfo>,
    /// `AppMd5s` the service reported as accepted.
    pub accepted_md5s: Vec<String>,
    /// The RequestId of the reply.
    pub request_id: Option<String>,
}

/// A chunk that was not (or may not have been) submitted.
#[derive(Debug)]
pub struct FailedChunk {
    /// Position of the chunk in submission order (0-based).
    pub index: usize,
    /// The apps of the chunk.
    pub apps: Vec<AppInfo>,
    /// Why.
    pub error: Error,
}

/// An app rejected by client-side validation (never sent).
#[derive(Debug, Clone)]
pub struct InvalidApp {
    /// The app.
    pub app: AppInfo,
    /// What is wrong with it (paths relative to the app, e.g. `AppMd5`).
    pub violations: Vec<Violation>,
}

/// The outcome of [`submit_batch`]: every input app exactly once.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Accepted chunks, in submission order.
    pub submitted: Vec<SubmittedChunk>,
    /// Chunks that provably were not processed (safe to resubmit).
    pub failed: Vec<FailedChunk>,
    /// Chunks whose outcome is unknown (may have been processed; never resubmitted).
    pub unknown: Vec<FailedChunk>,
    /// Apps that failed validation.
    pub invalid: Vec<InvalidApp>,
}

impl BatchReport {
    /// Every `ItemId`, in submission order.
    pub fn item_ids(&self) -> Vec<&str> {
        self.submitted.iter().map(|c| c.item_id.as_str()).collect()
    }

    /// Number of apps accepted.
    pub fn submitted_apps(&self) -> usize {
        self.submitted.iter().map(|c| c.apps.len()).sum()
    }

    /// Number of apps in failed chunks.
    pub fn failed_apps(&self) -> usize {
        self.failed.iter().map(|c| c.apps.len()).sum()
    }

    /// Number of apps whose outcome is unknown.
    pub fn unknown_apps(&self) -> usize {
        self.unknown.iter().map(|c| c.apps.len()).sum()
    }

    /// Number of apps accounted for (equals the number of input apps).
    pub fn total_apps(&self) -> usize {
        self.submitted_apps() + self.failed_apps() + self.unknown_apps() + self.invalid.len()
    }

    /// Whether every app was submitted.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.unknown.is_empty() && self.invalid.is_empty()
    }
}

/// Progress of a batch, passed to the callback after each chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchProgress {
    /// Chunks finished (any outcome).
    pub chunks_done: usize,
    /// Apps accepted so far.
    pub apps_submitted: usize,
    /// Apps in failed chunks so far.
    pub apps_failed: usize,
    /// Apps with unknown outcome so far.
    pub apps_unknown: usize,
    /// Apps rejected by validation so far.
    pub apps_invalid: usize,
}

impl BatchProgress {
    /// Apps dealt with so far.
    pub fn apps_done(&self) -> usize {
        self.apps_submitted + self.apps_failed + self.apps_unknown + self.apps_invalid
    }
}

enum ChunkOutcome {
    Submitted(SubmittedChunk),
    Failed(FailedChunk),
    Unknown(FailedChunk),
}

/// Splits app-level violations (`AppInfos[i]...`) off a chunk. Returns the indices of invalid
/// apps with their violations, and whether some violation concerns the whole request.
fn invalid_apps(errors: &[Violation]) -> (Vec<(usize, Violation)>, bool) {
    let mut apps = Vec::new();
    let mut request_level = false;
    for v in errors {
        let idx = v
            .path
            .strip_prefix("AppInfos[")
            .and_then(|r| r.split_once(']'))
            .and_then(|(i, rest)| i.parse::<usize>().ok().map(|i| (i, rest)));
        match idx {
            Some((i, rest)) => apps.push((
                i,
                Violation {
                    path: rest.trim_start_matches('.').to_owned(),
                    ..v.clone()
                },
            )),
            None => request_level = true,
        }
    }
    (apps, request_level)
}

async fn submit_chunk(
    client: &Client,
    index: usize,
    apps: Vec<AppInfo>,
    scan_info: &ScanInfo,
) -> (Vec<InvalidApp>, Option<ChunkOutcome>) {
    let mut request = CreateScanInstancesRequest {
        app_infos: apps,
        scan_info: scan_info.clone(),
    };
    let mut invalid = Vec::new();
    if let Err(errors) = request.validate() {
        let (bad, request_level) = invalid_apps(&errors.0);
        if request_level || bad.is_empty() {
            let apps = std::mem::take(&mut request.app_infos);
            return (
                invalid,
                Some(ChunkOutcome::Failed(FailedChunk {
                    index,
                    apps,
                    error: Error::validation(errors).with_action("CreateScanInstances"),
                })),
            );
        }
        let mut by_index: Vec<Vec<Violation>> = vec![Vec::new(); request.app_infos.len()];
        for (i, v) in bad {
            if let Some(slot) = by_index.get_mut(i) {
                slot.push(v);
            }
        }
        let mut keep = Vec::with_capacity(request.app_infos.len());
        for (app, violations) in std::mem::take(&mut request.app_infos)
            .into_iter()
            .zip(by_index)
        {
            if violations.is_empty() {
                keep.push(app);
            } else {
                invalid.push(InvalidApp { app, violations });
            }
        }
        request.app_infos = keep;
        if request.app_infos.is_empty() {
            return (invalid, None);
        }
    }
    let result = client.send(&request).await;
    let apps = request.app_infos;
    let outcome = match result {
        Ok(resp) => match resp.item_id {
            Some(item_id) if !item_id.is_empty() => ChunkOutcome::Submitted(SubmittedChunk {
                index,
                item_id,
                apps,
                accepted_md5s: resp.app_md5s.unwrap_or_default(),
                request_id: resp.request_id,
            }),
            _ => ChunkOutcome::Unknown(FailedChunk {
                index,
                apps,
                error: Error::decode("CreateScanInstances reply has no ItemId", b"")
                    .with_request_id(resp.request_id),
            }),
        },
        Err(error) if error.is_outcome_unknown() => {
            ChunkOutcome::Unknown(FailedChunk { index, apps, error })
        }
        Err(error) => ChunkOutcome::Failed(FailedChunk { index, apps, error }),
    };
    (invalid, Some(outcome))
}

/// Submits every app in chunks (see the module docs). `progress` is called after each chunk.
pub async fn submit_batch<I>(
    client: &Client,
    apps: I,
    scan_info: ScanInfo,
    options: &BatchOptions,
    mut progress: impl FnMut(&BatchProgress),
) -> BatchReport
where
    I: IntoIterator<Item = AppInfo>,
    I::IntoIter: Send,
{
    let chunk_size = options.chunk_size.clamp(1, MAX_APPS_PER_CALL);
    let mut iter = apps.into_iter();
    let chunks = std::iter::from_fn(move || {
        let chunk: Vec<AppInfo> = iter.by_ref().take(chunk_size).collect();
        (!chunk.is_empty()).then_some(chunk)
    });
    let scan_info = &scan_info;
    let mut outcomes = stream::iter(chunks.enumerate())
        .map(|(index, apps)| submit_chunk(client, index, apps, scan_info))
        .buffer_unordered(options.concurrency.max(1));
    let mut report = BatchReport::default();
    let mut p = BatchProgress::default();
    while let Some((invalid, outcome)) = outcomes.next().await {
        p.apps_invalid += invalid.len();
        report.invalid.extend(invalid);
        match outcome {
            Some(ChunkOutcome::Submitted(c)) => {
                p.apps_submitted += c.apps.len();
                debug!(index = c.index, item_id = %c.item_id, apps = c.apps.len(), "chunk submitted");
                report.submitted.push(c);
            }
            Some(ChunkOutcome::Failed(c)) => {
                p.apps_failed += c.apps.len();
                info!(index = c.index, apps = c.apps.len(), error = %c.error, "chunk not submitted");
                report.failed.push(c);
            }
            Some(ChunkOutcome::Unknown(c)) => {
                p.apps_unknown += c.apps.len();
                info!(index = c.index, apps = c.apps.len(), error = %c.error, "chunk outcome unknown; not resubmitted");
                report.unknown.push(c);
            }
            None => {}
        }
        p.chunks_done += 1;
        progress(&p);
    }
    report.submitted.sort_by_key(|c| c.index);
    report.failed.sort_by_key(|c| c.index);
    report.unknown.sort_by_key(|c| c.index);
    report
}

/// Waiter settings.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// Pause between two polls. Default 5 s.
    pub interval: Duration,
    /// Give up after this long. Default 30 minutes.
    pub timeout: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Whether a wire `TaskStatus` is a final state ([`TaskStatus::is_final`]; values the list
/// does not name are not final).
fn is_final(status: u64) -> bool {
    TaskStatus::from_code(status).is_some_and(TaskStatus::is_final)
}

/// Progress of a scan task, passed to the callback after each poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskProgress {
    /// The task.
    pub item_id: String,
    /// Apps listed for the task.
    pub total: usize,
    /// Apps in a final state.
    pub finished: usize,
    /// Apps completed successfully (TaskStatus 1).
    pub succeeded: usize,
    /// Apps that ended in error or timeout (TaskStatus 3 or 4).
    pub failed: usize,
    /// Polls so far.
    pub polls: u32,
    /// Time since the waiter started.
    pub elapsed: Duration,
}

fn waiter_timeout(what: &str, item_id: &str, after: Duration) -> Error {
    Error::wait_timeout(item_id, after).with_action(what)
}

/// Polls `DescribeScanInstances` (all pages, `ItemIds = [item_id]`) until every app of the
/// task is in a final state; returns the apps. Errors of a poll end the wait (the client has
/// already retried what is safe to retry). A timeout is an [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) error.
pub async fn wait_for_task(
    client: &Client,
    item_id: &str,
    options: &WaitOptions,
    mut progress: impl FnMut(&TaskProgress),
) -> Result<Vec<AppScanSet>, Error> {
    let started = tokio::time::Instant::now();
    let mut p = TaskProgress {
        item_id: item_id.to_owned(),
        ..TaskProgress::default()
    };
    loop {
        let request = DescribeScanInstancesRequest {
            item_ids: Some(vec![item_id.to_owned()]),
            ..DescribeScanInstancesRequest::default()
        };
        let apps: Vec<AppScanSet> = paginate(client, request)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        p.polls += 1;
        p.total = apps.len();
        let statuses: Vec<u64> = apps.iter().map(|a| a.task_status.unwrap_or(0)).collect();
        p.finished = statuses.iter().filter(|s| is_final(**s)).count();
        p.succeeded = statuses
            .iter()
            .filter(|s| TaskStatus::from_code(**s) == Some(TaskStatus::Completed))
            .count();
        p.failed = p.finished - p.succeeded;
        p.elapsed = started.elapsed();
        progress(&p);
        if p.total > 0 && p.finished == p.total {
            return Ok(apps);
        }
        if p.elapsed.saturating_add(options.interval) > options.timeout {
            return Err(waiter_timeout(
                "DescribeScanInstances",
                item_id,
                options.timeout,
            ));
        }
        tokio::time::sleep(options.interval).await;
    }
}

/// Polls `DescribeShieldResult` until the hardening task is in a final state (TaskStatus 1, 3
/// or 4); `progress` receives each reply.
pub async fn wait_for_shield(
    client: &Client,
    item_id: &str,
    options: &WaitOptions,
    mut progress: impl FnMut(&DescribeShieldResultResponse),
) -> Result<DescribeShieldResultResponse, Error> {
    let started = tokio::time::Instant::now();
    let request = DescribeShieldResultRequest {
        item_id: item_id.to_owned(),
    };
    loop {
        let reply = client.send(&request).await?;
        progress(&reply);
        if reply.task_status.is_some_and(is_final) {
            return Ok(reply);
        }
        if started.elapsed().saturating_add(options.interval) > options.timeout {
            return Err(waiter_timeout(
                "DescribeShieldResult",
                item_id,
                options.timeout,
            ));
        }
        tokio::time::sleep(options.interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_level_violations_are_split_off() {
        let v = vec![
            Violation::new("AppInfos[3].AppMd5", "expected 32 hex digits"),
            Violation::new("AppInfos[0].AppUrl", "is required"),
        ];
        let (apps, request_level) = invalid_apps(&v);
        assert!(!request_level);
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].0, 3);
        assert_eq!(apps[0].1.path, "AppMd5");
        let (_, request_level) = invalid_apps(&[Violation::new("ScanInfo.ScanTypes", "x")]);
        assert!(request_level);
    }

    #[test]
    fn report_counts() {
        let mut r = BatchReport::default();
        r.submitted.push(SubmittedChunk {
            index: 0,
            item_id: "a".into(),
            apps: vec![AppInfo::default(); 20],
            accepted_md5s: vec![],
            request_id: None,
        });
        r.unknown.push(FailedChunk {
            index: 1,
            apps: vec![AppInfo::default(); 3],
            error: Error::timeout(Duration::from_secs(1)),
        });
        assert_eq!(r.total_apps(), 23);
        assert_eq!(r.item_ids(), vec!["a"]);
        assert!(!r.is_complete());
        assert!(is_final(4) && !is_final(2));
        assert_eq!(crate::ErrorKind::Timeout, r.unknown[0].error.kind());
        let w = waiter_timeout("DescribeScanInstances", "item-9", Duration::from_secs(2));
        assert!(w.is_timeout() && !w.is_retryable());
        assert!(w.to_string().contains("item-9"), "{w}");
    }
}
