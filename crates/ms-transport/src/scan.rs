//! Scan workflow helpers: waiting for a task.
//!
//! [`wait_for_task`] polls `DescribeScanInstances` for one `ItemId` until every app of the
//! task is finished (TaskStatus 1 completed, 3 error, 4 timeout), with an interval, an
//! overall timeout and a progress callback. [`wait_for_shield`] does the same for a hardening
//! task with `DescribeShieldResult`. Batch submission lives in [`crate::batch`].

use std::time::Duration;

use futures_util::stream::StreamExt;
use ms_model::{
    AppScanSet, DescribeScanInstancesRequest, DescribeShieldResultRequest,
    DescribeShieldResultResponse, TaskStatus,
};

use crate::client::Client;
use crate::error::Error;
use crate::paginate::paginate;

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
    fn waiter_timeouts_name_the_task() {
        assert!(is_final(4) && !is_final(2));
        let w = waiter_timeout("DescribeScanInstances", "item-9", Duration::from_secs(2));
        assert!(w.is_timeout() && !w.is_retryable());
        assert!(w.to_string().contains("item-9"), "{w}");
    }
}
