//! The batch engine: claim chunks from the journal, send them, record each outcome, and
//! reconcile lost replies before anything is sent again.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use ms_model::{
    AppInfo, CreateScanInstancesRequest, CreateScanInstancesResponse, ScanInfo, Validate,
    ValidationErrors, Violation,
};
use tokio::sync::Notify;
use tracing::{debug, info};

use super::{
    AppState, BatchCounts, BatchOptions, ChunkId, ChunkOutcome, ClaimedChunk, Journal,
    JournalError, MAX_APPS_PER_CALL, OutcomeError, PositionedApp, not_accepted, reconcile,
};
use crate::client::Client;
use crate::error::Error;

/// Asks a running batch to stop: no new chunk is sent; requests in flight get
/// [`BatchOptions::drain_grace`] to finish. Clones share the signal.
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    inner: Arc<StopInner>,
}

#[derive(Debug, Default)]
struct StopInner {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    /// A signal not yet given.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives the signal (idempotent).
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether the signal was given.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Completes once the signal is given.
    pub async fn stopped(&self) {
        loop {
            // Registered before the check, so a stop() in between is not missed.
            let notified = self.inner.notify.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}

/// What the engine tells its caller, always *after* the journal recorded it. The caller
/// also gets the apps per state at that moment.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchEvent<'a> {
    /// Apps that were failed or not accepted by an earlier run are pending again.
    Retrying {
        /// How many.
        apps: u64,
    },
    /// A chunk's outcome (from its reply, or from reconciliation).
    Outcome {
        /// The chunk (its apps as sent).
        chunk: &'a ClaimedChunk,
        /// What became of it.
        outcome: &'a ChunkOutcome,
    },
    /// Apps of a chunk rejected by validation (never sent).
    Rejected {
        /// The chunk as claimed.
        chunk: &'a ClaimedChunk,
        /// Position and problem of each rejected app.
        problems: &'a [(u64, String)],
    },
    /// Lost replies are being reconciled by listing the account's scans.
    Reconciling {
        /// Chunks to reconcile.
        chunks: usize,
        /// Their apps.
        apps: usize,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchRun {
    /// Stopped by the [`StopSignal`] before every app had an outcome.
    pub interrupted: bool,
    /// Passes over the pending apps.
    pub rounds: u32,
    /// Apps per state at the end.
    pub counts: BatchCounts,
}

/// Why a batch could not run.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchError {
    /// The journal failed; the run stopped (what was recorded stays recorded).
    Journal(JournalError),
    /// `ScanInfo` is invalid: no chunk could be accepted, nothing was sent.
    ScanInfo(ValidationErrors),
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Journal(e) => write!(f, "journal: {e}"),
            BatchError::ScanInfo(e) => write!(f, "ScanInfo: {e}"),
        }
    }
}

impl std::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BatchError::Journal(e) => Some(e),
            BatchError::ScanInfo(e) => Some(e),
        }
    }
}

impl From<JournalError> for BatchError {
    fn from(e: JournalError) -> Self {
        BatchError::Journal(e)
    }
}

/// Brings the journal's batch as far as it can go: makes failed apps pending again,
/// reconciles chunks whose outcome is unknown, sends every pending app in chunks (up to
/// [`BatchOptions::max_rounds`] passes while reconciliation finds lost chunks unprocessed),
/// and records every outcome before passing it to `on_event`.
///
/// Returns when every app has an outcome, or when `stop` was given (then
/// [`BatchRun::interrupted`]). Only a journal failure or an invalid `scan_info` is an error:
/// what the service answered is in the journal.
pub async fn run_batch<J: Journal + ?Sized>(
    client: &Client,
    journal: &mut J,
    scan_info: &ScanInfo,
    options: &BatchOptions,
    stop: &StopSignal,
    on_event: impl FnMut(BatchEvent<'_>, &BatchCounts),
) -> Result<BatchRun, BatchError> {
    scan_info.validate().map_err(BatchError::ScanInfo)?;
    let retried = journal.retry_failed()?;
    let mut sink = EventSink {
        counts: journal.counts()?,
        on_event,
    };
    if retried > 0 {
        sink.emit(BatchEvent::Retrying { apps: retried });
    }
    let mut run = BatchRun::default();
    let max_rounds = options.max_rounds.max(1);
    while run.rounds < max_rounds && !stop.is_stopped() {
        let unresolved = journal.unresolved()?;
        if !unresolved.is_empty() {
            reconcile::reconcile(client, journal, unresolved, options, stop, false, &mut sink)
                .await?;
            if stop.is_stopped() {
                break;
            }
        }
        run.rounds += 1;
        let round = send_round(client, journal, scan_info, options, stop, &mut sink).await?;
        if !round.unknown || round.interrupted {
            break;
        }
    }
    run.interrupted = stop.is_stopped();
    if !run.interrupted {
        // Last look at lost replies: what is still not found is failed (safe to resubmit).
        let unresolved = journal.unresolved()?;
        if !unresolved.is_empty() {
            reconcile::reconcile(client, journal, unresolved, options, stop, true, &mut sink)
                .await?;
        }
    }
    run.counts = journal.counts()?;
    Ok(run)
}

/// Keeps the apps per state as events happen (starting from the journal's counts) and
/// passes both to the caller.
pub(super) struct EventSink<F> {
    pub(super) counts: BatchCounts,
    on_event: F,
}

impl<F: FnMut(BatchEvent<'_>, &BatchCounts)> EventSink<F> {
    pub(super) fn emit(&mut self, event: BatchEvent<'_>) {
        match &event {
            BatchEvent::Outcome { chunk, outcome } => {
                let (from, n) = (chunk.state, chunk.apps.len() as u64);
                match outcome {
                    ChunkOutcome::Accepted { not_accepted, .. } => {
                        let na = not_accepted.len() as u64;
                        self.counts
                            .shift(from, AppState::Accepted, n.saturating_sub(na));
                        self.counts.shift(from, AppState::NotAccepted, na);
                    }
                    other => self.counts.shift(from, other.app_state(), n),
                }
            }
            BatchEvent::Rejected { chunk, problems } => {
                self.counts
                    .shift(chunk.state, AppState::Invalid, problems.len() as u64);
            }
            BatchEvent::Retrying { .. } | BatchEvent::Reconciling { .. } => {}
        }
        (self.on_event)(event, &self.counts);
    }

    fn claimed(&mut self, chunks: &[ClaimedChunk]) {
        let n: usize = chunks.iter().map(|c| c.apps.len()).sum();
        self.counts
            .shift(AppState::Pending, AppState::Sending, n as u64);
    }

    fn released(&mut self, apps: usize) {
        self.counts
            .shift(AppState::Sending, AppState::Pending, apps as u64);
    }
}

/// How long a reply may wait for others to be recorded with it in one commit.
const GROUP_COMMIT: std::time::Duration = std::time::Duration::from_millis(1);

/// The most replies recorded in one commit.
const GROUP_MAX: usize = 64;

/// How many chunks to claim at once: doubles while windows drain fast, halves when slow.
#[derive(Debug)]
struct ClaimWindow {
    min: usize,
    max: usize,
    size: usize,
    last: Option<std::time::Instant>,
}

impl ClaimWindow {
    fn new(min: usize, max: usize) -> Self {
        let min = min.max(1);
        ClaimWindow {
            min,
            max: max.max(min),
            size: min,
            last: None,
        }
    }

    /// The size of the window to claim now.
    fn next(&mut self) -> usize {
        let now = std::time::Instant::now();
        if let Some(last) = self.last {
            let took = now.duration_since(last);
            if took < std::time::Duration::from_millis(250) {
                self.size = (self.size * 2).min(self.max);
            } else if took > std::time::Duration::from_secs(2) {
                self.size = (self.size / 2).max(self.min);
            }
        }
        self.last = Some(now);
        self.size
    }
}

#[derive(Debug, Default)]
struct RoundEnd {
    interrupted: bool,
    /// Some reply was lost: reconcile before the next round.
    unknown: bool,
}

/// One pass: claim and send until no app is pending (or `stop`).
async fn send_round<J: Journal + ?Sized>(
    client: &Client,
    journal: &mut J,
    scan_info: &ScanInfo,
    options: &BatchOptions,
    stop: &StopSignal,
    sink: &mut EventSink<impl FnMut(BatchEvent<'_>, &BatchCounts)>,
) -> Result<RoundEnd, JournalError> {
    let chunk_size = options.chunk_size.clamp(1, MAX_APPS_PER_CALL);
    let concurrency = options.concurrency.max(1);
    let mut queue: VecDeque<ClaimedChunk> = VecDeque::new();
    let mut exhausted = false;
    let mut in_flight = FuturesUnordered::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut end = RoundEnd::default();
    let mut window = ClaimWindow::new(options.claim_chunks, options.max_claim_chunks);
    loop {
        if deadline.is_none() && stop.is_stopped() {
            deadline = Some(tokio::time::Instant::now() + options.drain_grace);
        }
        while deadline.is_none() && in_flight.len() < concurrency {
            if queue.is_empty() && !exhausted {
                let claimed =
                    journal.claim(window.next(), chunk_size, options.clock.unix_seconds())?;
                exhausted = claimed.is_empty();
                sink.claimed(&claimed);
                queue.extend(claimed);
            }
            let Some(chunk) = queue.pop_front() else {
                break;
            };
            in_flight.push(send_chunk(client, chunk, scan_info));
        }
        if in_flight.is_empty() {
            break;
        }
        let wake = deadline.unwrap_or_else(tokio::time::Instant::now);
        let first = tokio::select! {
            biased;
            done = in_flight.next() => done,
            () = stop.stopped(), if deadline.is_none() => continue,
            () = tokio::time::sleep_until(wake), if deadline.is_some() => {
                info!(in_flight = in_flight.len(), "stopping: requests still in flight stay unresolved in the journal");
                break;
            }
        };
        let Some(first) = first else {
            break;
        };
        // Group commit: the replies already here, and those arriving within GROUP_COMMIT,
        // are recorded in one commit (a fast service answers many chunks a millisecond).
        let mut done = Vec::new();
        let mut next = Some(first);
        let group_until = tokio::time::Instant::now() + GROUP_COMMIT;
        while let Some((chunk, sent)) = next {
            match sent {
                Sent::Outcome(outcome) => done.push((chunk, outcome)),
                // Apps the model refuses are recorded; the others are pending again.
                Sent::Invalid(problems, refusal) => {
                    reject(journal, chunk, &problems, refusal.as_ref(), sink)?;
                    exhausted = false;
                }
            }
            next = match in_flight.next().now_or_never() {
                Some(more) => more,
                None if done.len() < GROUP_MAX && !in_flight.is_empty() => {
                    tokio::time::timeout_at(group_until, in_flight.next())
                        .await
                        .ok()
                        .flatten()
                }
                None => None,
            };
        }
        // The outcomes move into the records (no copy); the chunks stay beside them.
        let (chunks, records): (Vec<ClaimedChunk>, Vec<(ChunkId, ChunkOutcome)>) = done
            .into_iter()
            .map(|(chunk, outcome)| {
                let id = chunk.id;
                (chunk, (id, outcome))
            })
            .unzip();
        if !records.is_empty() {
            journal.record(&records)?;
        }
        for (chunk, (_, outcome)) in chunks.iter().zip(&records) {
            end.unknown |= matches!(outcome, ChunkOutcome::Unknown { .. });
            log_outcome(chunk, outcome);
            sink.emit(BatchEvent::Outcome { chunk, outcome });
        }
    }
    end.interrupted = stop.is_stopped();
    // Claimed but never sent: pending again.
    let unsent: Vec<ChunkId> = queue.iter().map(|c| c.id).collect();
    if !unsent.is_empty() {
        journal.release(&unsent)?;
        sink.released(queue.iter().map(|c| c.apps.len()).sum());
    }
    Ok(end)
}

/// What sending a chunk gave: its outcome, or the apps refused by name: by the model
/// (nothing was sent) or by the service (its error, the request was not processed).
enum Sent {
    Outcome(ChunkOutcome),
    Invalid(Vec<(u64, String)>, Option<OutcomeError>),
}

/// Records the refused apps of a chunk and puts the rest back to pending (they are claimed
/// again, in another chunk); the chunk is failed with the service's `refusal`, if any.
fn reject<J: Journal + ?Sized>(
    journal: &mut J,
    chunk: ClaimedChunk,
    problems: &[(u64, String)],
    refusal: Option<&OutcomeError>,
    sink: &mut EventSink<impl FnMut(BatchEvent<'_>, &BatchCounts)>,
) -> Result<(), JournalError> {
    journal.reject(chunk.id, problems, refusal)?;
    sink.emit(BatchEvent::Rejected {
        chunk: &chunk,
        problems,
    });
    sink.released(chunk.apps.len() - problems.len());
    Ok(())
}

/// Sends a chunk. The client validates the request first (nothing invalid leaves the
/// process); when apps of the chunk are what is invalid, they are named, not sent.
async fn send_chunk(
    client: &Client,
    mut chunk: ClaimedChunk,
    scan_info: &ScanInfo,
) -> (ClaimedChunk, Sent) {
    // The apps move into the request and back: no copy of the chunk.
    let apps = std::mem::take(&mut chunk.apps);
    let (positions, app_infos): (Vec<u64>, Vec<AppInfo>) =
        apps.into_iter().map(|a| (a.position, a.app)).unzip();
    let request = CreateScanInstancesRequest {
        app_infos,
        scan_info: scan_info.clone(),
    };
    let result = client.send(&request).await;
    chunk.apps = positions
        .into_iter()
        .zip(request.app_infos)
        .map(|(position, app)| PositionedApp { position, app })
        .collect();
    if let Err(e) = &result {
        if let Some(problems) = e.validation_errors().and_then(|v| invalid_apps(&chunk, v)) {
            return (chunk, Sent::Invalid(problems, None));
        }
        if let Some(problems) = refused_app(&chunk, e) {
            let refusal = OutcomeError::from_error(e);
            return (chunk, Sent::Invalid(problems, Some(refusal)));
        }
    }
    let outcome = outcome_of(&chunk, result);
    (chunk, Sent::Outcome(outcome))
}

/// The apps named by app-level violations (`AppInfos[i].AppMd5`), each with its problems
/// (paths relative to the app); `None` when a violation concerns the request itself.
fn invalid_apps(chunk: &ClaimedChunk, errors: &ValidationErrors) -> Option<Vec<(u64, String)>> {
    let mut by_app: Vec<Vec<String>> = vec![Vec::new(); chunk.apps.len()];
    for v in &errors.0 {
        let (i, rest) = v
            .path
            .strip_prefix("AppInfos[")
            .and_then(|r| r.split_once(']'))
            .and_then(|(i, rest)| i.parse::<usize>().ok().map(|i| (i, rest)))?;
        let relative = Violation {
            path: rest.trim_start_matches('.').to_owned(),
            ..v.clone()
        };
        by_app.get_mut(i)?.push(relative.to_string());
    }
    let problems: Vec<(u64, String)> = chunk
        .apps
        .iter()
        .zip(by_app)
        .filter(|(_, p)| !p.is_empty())
        .map(|(a, p)| (a.position, p.join("; ")))
        .collect();
    (!problems.is_empty()).then_some(problems)
}

/// The app the service refused by name: a parameter error (`InvalidParameter*`,
/// `MissingParameter*`) whose message names `AppInfos.N.Field` (N from 0, as the API
/// flattens lists) — a rule of the service the model does not know, such as a length
/// limit. The request was not processed, so that app is invalid and the others of the
/// chunk are sent again in other chunks, instead of failing with it on every run.
fn refused_app(chunk: &ClaimedChunk, e: &Error) -> Option<Vec<(u64, String)>> {
    let code = e.code()?.as_str();
    if !(code.starts_with("InvalidParameter") || code.starts_with("MissingParameter")) {
        return None;
    }
    let message = e.message();
    let (_, after) = message.split_once("AppInfos.")?;
    let digits = after
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after.len());
    let app = chunk.apps.get(after[..digits].parse::<usize>().ok()?)?;
    let request_id = e
        .request_id()
        .map(|id| format!(" (RequestId: {id})"))
        .unwrap_or_default();
    Some(vec![(
        app.position,
        format!("[{code}] {message}{request_id}"),
    )])
}

/// The outcome of a chunk from the `CreateScanInstances` result.
pub(crate) fn outcome_of(
    chunk: &ClaimedChunk,
    result: Result<CreateScanInstancesResponse, Error>,
) -> ChunkOutcome {
    match result {
        Ok(reply) => {
            let item_id = reply.item_id.filter(|id| !id.is_empty());
            match (item_id, reply.app_md5s) {
                (Some(item_id), Some(md5s)) => ChunkOutcome::Accepted {
                    not_accepted: not_accepted(&chunk.apps, &md5s),
                    item_id,
                    request_id: reply.request_id,
                    reconciled: false,
                },
                (item_id, _) => ChunkOutcome::Unknown {
                    error: OutcomeError {
                        code: "Decode".to_owned(),
                        message: format!(
                            "CreateScanInstances: the reply has no {}",
                            if item_id.is_some() {
                                "AppMd5s"
                            } else {
                                "ItemId"
                            }
                        ),
                        request_id: reply.request_id,
                        throttling: false,
                    },
                    item_id,
                },
            }
        }
        Err(e) if e.is_outcome_unknown() => ChunkOutcome::Unknown {
            error: OutcomeError::from_error(&e),
            item_id: None,
        },
        Err(e) => ChunkOutcome::Failed(OutcomeError::from_error(&e)),
    }
}

fn log_outcome(chunk: &ClaimedChunk, outcome: &ChunkOutcome) {
    let apps = chunk.apps.len();
    match outcome {
        ChunkOutcome::Accepted {
            item_id,
            not_accepted,
            ..
        } => {
            let left_out = not_accepted.len();
            debug!(chunk = %chunk.id, apps, %item_id, left_out, "chunk accepted");
        }
        ChunkOutcome::Failed(e) => {
            info!(chunk = %chunk.id, apps, code = %e.code, error = %e, "chunk not processed");
        }
        ChunkOutcome::Unknown { error, .. } => {
            info!(chunk = %chunk.id, apps, code = %error.code, error = %error, "chunk outcome unknown; to reconcile");
        }
        ChunkOutcome::NotFound(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::MAX_CLAIM_WINDOW;
    use ms_model::AppInfo;

    fn chunk(md5s: &[&str]) -> ClaimedChunk {
        ClaimedChunk {
            id: ChunkId(1),
            claimed_at: 0,
            apps: md5s
                .iter()
                .enumerate()
                .map(|(i, m)| PositionedApp {
                    position: i as u64 + 1,
                    app: AppInfo {
                        app_md5: (*m).into(),
                        ..AppInfo::default()
                    },
                })
                .collect(),
            item_id: None,
            state: AppState::Sending,
        }
    }

    #[test]
    fn a_parameter_error_naming_an_app_refuses_that_app_only() {
        let c = chunk(&["a", "b", "c"]);
        let refused =
            |code, message: &str| refused_app(&c, &Error::api(code, message, Some("r".into())));
        let named = "The value of parameter `AppInfos.2.AppName` is invalid: too long.";
        assert_eq!(
            refused(ms_model::ErrorCode::InvalidParameterValue, named),
            Some(vec![(
                3,
                format!("[InvalidParameterValue] {named} (RequestId: r)")
            )])
        );
        assert!(
            refused(
                ms_model::ErrorCode::MissingParameter,
                "The parameter `AppInfos.0.AppMd5` is missing."
            )
            .is_some_and(|p| p[0].0 == 1)
        );
        // Not a parameter error, no app named, or no such app: the chunk fails as a whole.
        assert_eq!(refused(ms_model::ErrorCode::InternalError, named), None);
        assert_eq!(
            refused(
                ms_model::ErrorCode::InvalidParameterValue,
                "AppInfos.length is 21, more than 20"
            ),
            None
        );
        assert_eq!(
            refused(
                ms_model::ErrorCode::InvalidParameter,
                "parameter `AppInfos.7.AppUrl` is invalid"
            ),
            None
        );
    }

    #[test]
    fn a_reply_names_what_it_accepted() {
        let c = chunk(&["a", "b", "c"]);
        let reply = CreateScanInstancesResponse {
            item_id: Some("item".into()),
            app_md5s: Some(vec!["a".into(), "c".into()]),
            request_id: Some("r".into()),
            ..Default::default()
        };
        assert_eq!(
            outcome_of(&c, Ok(reply)),
            ChunkOutcome::Accepted {
                item_id: "item".into(),
                request_id: Some("r".into()),
                not_accepted: vec![2],
                reconciled: false
            }
        );
    }

    #[test]
    fn a_reply_without_item_id_or_app_md5s_is_unknown() {
        let c = chunk(&["a"]);
        let no_md5s = CreateScanInstancesResponse {
            item_id: Some("item".into()),
            ..Default::default()
        };
        match outcome_of(&c, Ok(no_md5s)) {
            ChunkOutcome::Unknown { item_id, error } => {
                assert_eq!(item_id.as_deref(), Some("item"));
                assert!(error.message.contains("AppMd5s"), "{error}");
            }
            other => panic!("{other:?}"),
        }
        let empty = CreateScanInstancesResponse {
            item_id: Some(String::new()),
            app_md5s: Some(vec!["a".into()]),
            ..Default::default()
        };
        assert!(matches!(
            outcome_of(&c, Ok(empty)),
            ChunkOutcome::Unknown { item_id: None, .. }
        ));
    }

    #[test]
    fn lost_replies_are_unknown_and_refusals_failed() {
        let c = chunk(&["a"]);
        let lost = outcome_of(&c, Err(Error::timeout(std::time::Duration::from_secs(1))));
        assert!(matches!(lost, ChunkOutcome::Unknown { .. }), "{lost:?}");
        let refused = outcome_of(
            &c,
            Err(Error::api(
                ms_model::ErrorCode::from("LimitExceeded"),
                "quota",
                Some("r".into()),
            )),
        );
        match refused {
            ChunkOutcome::Failed(e) => {
                assert_eq!(e.code, "LimitExceeded");
                assert_eq!(e.request_id.as_deref(), Some("r"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_claim_window_grows_when_windows_drain_fast_and_shrinks_when_slow() {
        let mut w = ClaimWindow::new(64, MAX_CLAIM_WINDOW);
        assert_eq!(w.next(), 64);
        assert_eq!(w.next(), 128, "claimed again at once");
        w.last = Some(std::time::Instant::now() - std::time::Duration::from_secs(1));
        assert_eq!(w.next(), 128, "a steady pace keeps it");
        w.last = Some(std::time::Instant::now() - std::time::Duration::from_secs(3));
        assert_eq!(w.next(), 64);
        w.last = Some(std::time::Instant::now() - std::time::Duration::from_secs(3));
        assert_eq!(w.next(), 64, "never below the minimum");
        for _ in 0..20 {
            w.next();
        }
        assert_eq!(w.size, MAX_CLAIM_WINDOW);
        let mut one = ClaimWindow::new(1, 1);
        assert_eq!((one.next(), one.next()), (1, 1));
    }

    #[tokio::test]
    async fn a_stop_given_before_waiting_is_seen() {
        let s = StopSignal::new();
        let t = s.clone();
        t.stop();
        s.stopped().await;
        assert!(s.is_stopped());
    }
}
