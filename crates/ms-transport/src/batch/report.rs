//! [`submit_batch`]: one call, a [`MemoryJournal`], and a report in which every app appears
//! exactly once.

use std::collections::BTreeMap;

use ms_model::{AppInfo, ScanInfo};

use super::memory::MemApp;
use super::{
    AppState, BatchCounts, BatchError, BatchOptions, ChunkId, MemoryJournal, OutcomeError,
    StopSignal, run_batch,
};
use crate::client::Client;

/// Apps the service accepted in one task.
#[derive(Debug, Clone)]
pub struct SubmittedChunk {
    /// The chunk's id in the journal (increasing in the order chunks were taken).
    pub index: u64,
    /// The task id.
    pub item_id: String,
    /// The accepted apps, in input order.
    pub apps: Vec<AppInfo>,
    /// Their MD5s, as accepted.
    pub accepted_md5s: Vec<String>,
    /// The RequestId of the reply (none when the task was found by reconciliation).
    pub request_id: Option<String>,
}

/// Apps of one chunk that were not accepted, with why.
#[derive(Debug, Clone)]
pub struct FailedChunk {
    /// The chunk's id in the journal.
    pub index: u64,
    /// The apps, in input order.
    pub apps: Vec<AppInfo>,
    /// Why.
    pub error: OutcomeError,
}

/// An app rejected by validation (never sent).
#[derive(Debug, Clone)]
pub struct InvalidApp {
    /// The app.
    pub app: AppInfo,
    /// What is wrong with it (paths relative to the app: `AppMd5: expected ...`).
    pub problem: String,
}

/// The outcome of [`submit_batch`]: every input app exactly once.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Accepted apps by task, in chunk order.
    pub submitted: Vec<SubmittedChunk>,
    /// Apps of tasks the service created without them (quota): safe to resubmit.
    pub not_accepted: Vec<FailedChunk>,
    /// Chunks that provably were not processed (safe to resubmit).
    pub failed: Vec<FailedChunk>,
    /// Chunks whose outcome stayed unknown (the listing that would tell failed too).
    pub unknown: Vec<FailedChunk>,
    /// Apps that failed validation.
    pub invalid: Vec<InvalidApp>,
    /// Apps per state.
    pub counts: BatchCounts,
    /// The run was stopped before every app had an outcome (apps never sent are in no list).
    pub interrupted: bool,
}

impl BatchReport {
    /// Every `ItemId`, in chunk order.
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

    /// Number of apps the service did not accept.
    pub fn not_accepted_apps(&self) -> usize {
        self.not_accepted.iter().map(|c| c.apps.len()).sum()
    }

    /// Number of apps accounted for (equals the number of input apps).
    pub fn total_apps(&self) -> usize {
        self.submitted_apps()
            + self.failed_apps()
            + self.unknown_apps()
            + self.not_accepted_apps()
            + self.invalid.len()
    }

    /// Whether every app was accepted.
    pub fn is_complete(&self) -> bool {
        self.counts.all_accepted() && !self.interrupted
    }

    fn from_journal(journal: &MemoryJournal) -> Self {
        let mut report = BatchReport::default();
        let mut accepted: BTreeMap<ChunkId, SubmittedChunk> = BTreeMap::new();
        let mut by_chunk: [BTreeMap<ChunkId, FailedChunk>; 3] = Default::default();
        for a in journal.entries() {
            let chunk = a.chunk.unwrap_or(ChunkId(0));
            let group = match a.state {
                AppState::Accepted => {
                    let c = accepted.entry(chunk).or_insert_with(|| SubmittedChunk {
                        index: chunk.0,
                        item_id: a.item_id.clone().unwrap_or_default(),
                        apps: Vec::new(),
                        accepted_md5s: Vec::new(),
                        request_id: a.request_id.clone(),
                    });
                    c.accepted_md5s.push(a.app.app_md5.clone());
                    c.apps.push(a.app.clone());
                    continue;
                }
                AppState::Invalid => {
                    report.invalid.push(InvalidApp {
                        app: a.app.clone(),
                        problem: a.problem.clone().unwrap_or_default(),
                    });
                    continue;
                }
                AppState::NotAccepted => 0,
                AppState::Failed => 1,
                AppState::Unknown | AppState::Sending => 2,
                AppState::Pending => continue,
            };
            push_failed(&mut by_chunk[group], chunk, a);
        }
        let [not_accepted, failed, unknown] = by_chunk;
        report.submitted = accepted.into_values().collect();
        report.not_accepted = not_accepted.into_values().collect();
        report.failed = failed.into_values().collect();
        report.unknown = unknown.into_values().collect();
        report
    }
}

fn push_failed(map: &mut BTreeMap<ChunkId, FailedChunk>, chunk: ChunkId, a: &MemApp) {
    let error = a.error.clone().unwrap_or_else(|| {
        OutcomeError::new(
            "NotAccepted",
            format!(
                "the service created task {} without this app (not in AppMd5s: quota?)",
                a.item_id.as_deref().unwrap_or("-")
            ),
        )
    });
    map.entry(chunk)
        .or_insert_with(|| FailedChunk {
            index: chunk.0,
            apps: Vec::new(),
            error,
        })
        .apps
        .push(a.app.clone());
}

/// Progress of [`submit_batch`], passed to its callback after each event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchProgress {
    /// Chunk outcomes so far.
    pub chunks_done: usize,
    /// Apps per state.
    pub counts: BatchCounts,
}

impl BatchProgress {
    /// Apps with an outcome so far (accepted, not accepted, failed, unknown, invalid).
    pub fn apps_done(&self) -> u64 {
        let c = &self.counts;
        c.accepted + c.not_accepted + c.failed + c.unknown + c.invalid
    }
}

/// Submits every app (pulled lazily from `apps`, never read ahead of the requests by more
/// than the chunks in flight) with [`run_batch`] over a [`MemoryJournal`], and reports
/// every app exactly once. `progress` is called after each event.
///
/// # Errors
/// Only an invalid `scan_info` (nothing is sent).
pub async fn submit_batch<I>(
    client: &Client,
    apps: I,
    scan_info: ScanInfo,
    options: &BatchOptions,
    mut progress: impl FnMut(&BatchProgress),
) -> Result<BatchReport, BatchError>
where
    I: IntoIterator<Item = AppInfo>,
    I::IntoIter: Send + 'static,
{
    let mut journal = MemoryJournal::new(apps);
    // One chunk at a time: claiming costs nothing in memory, and the input is pulled only
    // as requests go out.
    let options = BatchOptions {
        claim_chunks: 1,
        max_claim_chunks: 1,
        ..options.clone()
    };
    let mut p = BatchProgress::default();
    let run = run_batch(
        client,
        &mut journal,
        &scan_info,
        &options,
        &StopSignal::new(),
        |event, counts| {
            if matches!(event, super::BatchEvent::Outcome { .. }) {
                p.chunks_done += 1;
            }
            p.counts = *counts;
            progress(&p);
        },
    )
    .await?;
    let mut report = BatchReport::from_journal(&journal);
    report.counts = run.counts;
    report.interrupted = run.interrupted;
    Ok(report)
}
