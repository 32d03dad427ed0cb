//! Batch submission with exact accounting: every app of a batch ends in exactly one state,
//! recorded in a [`Journal`] the moment it is known.
//!
//! The engine ([`run_batch`]) takes chunks of at most 20 pending apps from the journal
//! ([`Journal::claim`] records them as *in flight* before they can be sent: write-ahead),
//! submits them with `CreateScanInstances` — several at once, paced by the client's rate
//! limiter — and records each outcome ([`Journal::record`]) before it tells the caller
//! ([`BatchEvent`]). An app ends:
//!
//! - [`AppState::Accepted`] with its `ItemId` (its MD5 is in the reply's `AppMd5s`, matched
//!   against the chunk as a multiset);
//! - [`AppState::NotAccepted`]: the service created the task but left the app out of
//!   `AppMd5s` (the quota ran out in the middle of the chunk); safe to submit again;
//! - [`AppState::Invalid`]: rejected by the model's validation, never sent;
//! - [`AppState::Failed`]: the request provably was not processed (a client error such as
//!   `LimitExceeded`, throttling after the retries, a connection that never carried it);
//!   safe to submit again, with the API code;
//! - [`AppState::Unknown`]: the reply was lost (timeout, reset, 5xx, truncated or malformed
//!   body), so the request may have been processed. Such chunks are **reconciled** before
//!   anything is resubmitted: the account's scans are listed (`DescribeScanInstances`,
//!   newest first, back to the chunk's time) and matched by MD5 (and size, name, package and
//!   version where listed) as a multiset, never claiming a task the journal already
//!   records. Found: accepted with the listed `ItemId`. Not found: submitted again. An app
//!   stays unknown only when the listing itself fails.
//!
//! A run can stop at any moment (a signal, `kill -9`, a crash): chunks claimed but never
//! answered stay in flight in the journal and are reconciled by the next run, so an app is
//! never submitted twice and an acknowledged `ItemId` is never lost. [`StopSignal`] stops a
//! run gracefully: no new chunk is sent, requests in flight get [`BatchOptions::drain_grace`]
//! to finish.
//!
//! The journal is a trait so that services can keep it where they like: [`MemoryJournal`]
//! (this crate, nothing durable) or the SQLite journal of the `ms-journal` crate.
//! [`submit_batch`] is the one-call form over a [`MemoryJournal`].

mod engine;
mod memory;
mod reconcile;
mod report;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ms_model::AppInfo;

pub use engine::{BatchError, BatchEvent, BatchRun, StopSignal, run_batch};
pub use memory::MemoryJournal;
pub use report::{
    BatchProgress, BatchReport, FailedChunk, InvalidApp, SubmittedChunk, submit_batch,
};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorKind};

/// The most apps `CreateScanInstances` accepts in one call.
pub const MAX_APPS_PER_CALL: usize = 20;

/// The default largest claim window (chunks claimed by one journal write), see
/// [`BatchOptions::claim_chunks`].
pub const MAX_CLAIM_WINDOW: usize = 1024;

/// A chunk's identity in a journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId(pub u64);

impl fmt::Display for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An app of the input with its 1-based position in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionedApp {
    /// 1-based position in the input.
    pub position: u64,
    /// The app.
    pub app: AppInfo,
}

/// A chunk taken from the journal: recorded as in flight since `claimed_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedChunk {
    /// Its identity.
    pub id: ChunkId,
    /// When it was claimed (Unix seconds, local clock): the request, if sent, left after.
    pub claimed_at: u64,
    /// Its apps, in input order.
    pub apps: Vec<PositionedApp>,
    /// The task the service created for it, when a reply named one but its outcome is
    /// still unknown (a reply without `AppMd5s`).
    pub item_id: Option<String>,
    /// The state of its apps: [`AppState::Sending`] (claimed, or in flight when a run
    /// stopped) or [`AppState::Unknown`] (the reply was lost).
    pub state: AppState,
}

/// Where an app of a journal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppState {
    /// Not sent yet (or safe to send again).
    Pending,
    /// In a chunk that is (or may have been) sent, outcome not recorded yet.
    Sending,
    /// Accepted: the journal holds its `ItemId`.
    Accepted,
    /// Rejected by validation; never sent.
    Invalid,
    /// The request was not processed; safe to submit again.
    Failed,
    /// The service created the chunk's task without this app (quota); safe to submit again.
    NotAccepted,
    /// May or may not have been accepted; reconciliation could not tell.
    Unknown,
}

impl AppState {
    /// Every state, in display order.
    pub const ALL: [AppState; 7] = [
        AppState::Accepted,
        AppState::NotAccepted,
        AppState::Failed,
        AppState::Unknown,
        AppState::Invalid,
        AppState::Sending,
        AppState::Pending,
    ];

    /// The stable name (stored in journals, printed in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            AppState::Pending => "pending",
            AppState::Sending => "sending",
            AppState::Accepted => "accepted",
            AppState::Invalid => "invalid",
            AppState::Failed => "failed",
            AppState::NotAccepted => "not_accepted",
            AppState::Unknown => "unknown",
        }
    }

    /// Parses [`as_str`](Self::as_str).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a chunk was not accepted, as recorded in a journal (an [`Error`] reduced to what
/// can be stored and shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeError {
    /// The API error code (`LimitExceeded`, `InternalError`, ...) or, for a failure without
    /// one, the client-side kind (`Timeout`, `Transport`, `Decode`, `HttpStatus`,
    /// `Credentials`, ...; `CredentialsUnavailable` when the credential source could not be
    /// reached, so nothing was sent).
    pub code: String,
    /// What happened.
    pub message: String,
    /// RequestId of the reply, if there was one.
    pub request_id: Option<String>,
    /// The service throttled the request (`RequestLimitExceeded*`, HTTP 429) until the
    /// client's retries ran out.
    pub throttling: bool,
}

impl OutcomeError {
    /// From a client error.
    pub fn from_error(e: &Error) -> Self {
        let code = match (e.code(), e.kind()) {
            (Some(code), _) => code.as_str().to_owned(),
            // A source that failed for now (STS or the metadata service unreachable) is not
            // a configuration mistake: its own code.
            (None, ErrorKind::Credentials) if e.is_safe_to_retry() => {
                "CredentialsUnavailable".to_owned()
            }
            (None, kind) => kind.as_str().to_owned(),
        };
        OutcomeError {
            code,
            message: e.to_string(),
            request_id: e.request_id().map(str::to_owned),
            throttling: e.is_throttling(),
        }
    }

    /// A failure described by a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        OutcomeError {
            code: code.into(),
            message: message.into(),
            request_id: None,
            throttling: false,
        }
    }
}

impl fmt::Display for OutcomeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " [RequestId {id}]")?;
        }
        Ok(())
    }
}

/// What became of a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// The service created task `item_id`. Its apps are accepted, except `not_accepted`
    /// (positions missing from the reply's `AppMd5s`).
    Accepted {
        /// The task.
        item_id: String,
        /// RequestId of the reply (none when found by reconciliation).
        request_id: Option<String>,
        /// Positions of the chunk's apps the service did not accept.
        not_accepted: Vec<u64>,
        /// Whether the task was found by listing the account's scans after the reply was lost.
        reconciled: bool,
    },
    /// Not processed: the apps are [`AppState::Failed`] (safe to submit again).
    Failed(OutcomeError),
    /// The reply was lost: the apps are [`AppState::Unknown`] until reconciled. `item_id`
    /// when a reply named the task but not its apps.
    Unknown {
        /// Why the outcome is unknown.
        error: OutcomeError,
        /// The task, if a reply named it.
        item_id: Option<String>,
    },
    /// Reconciliation found no trace of the chunk: the apps are pending again (submitted
    /// again by this run).
    NotFound(OutcomeError),
}

impl ChunkOutcome {
    /// The state the chunk's apps take (for [`Accepted`](Self::Accepted): of those accepted).
    pub fn app_state(&self) -> AppState {
        match self {
            ChunkOutcome::Accepted { .. } => AppState::Accepted,
            ChunkOutcome::Failed(_) => AppState::Failed,
            ChunkOutcome::Unknown { .. } => AppState::Unknown,
            ChunkOutcome::NotFound(_) => AppState::Pending,
        }
    }

    /// The error, unless accepted.
    pub fn error(&self) -> Option<&OutcomeError> {
        match self {
            ChunkOutcome::Accepted { .. } => None,
            ChunkOutcome::Failed(e) | ChunkOutcome::NotFound(e) => Some(e),
            ChunkOutcome::Unknown { error, .. } => Some(error),
        }
    }
}

/// Apps per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    /// Apps in the input.
    pub apps: u64,
    /// Not sent yet.
    pub pending: u64,
    /// In flight (or in flight when a run stopped).
    pub sending: u64,
    /// Accepted.
    pub accepted: u64,
    /// Rejected by validation.
    pub invalid: u64,
    /// Failed (safe to resubmit).
    pub failed: u64,
    /// Not accepted by the service (safe to resubmit).
    pub not_accepted: u64,
    /// Outcome unknown.
    pub unknown: u64,
}

impl BatchCounts {
    /// The count of one state.
    pub fn get(&self, state: AppState) -> u64 {
        match state {
            AppState::Pending => self.pending,
            AppState::Sending => self.sending,
            AppState::Accepted => self.accepted,
            AppState::Invalid => self.invalid,
            AppState::Failed => self.failed,
            AppState::NotAccepted => self.not_accepted,
            AppState::Unknown => self.unknown,
        }
    }

    /// Adds `n` apps to a state's count (and to the total).
    pub fn add(&mut self, state: AppState, n: u64) {
        self.apps += n;
        *self.slot(state) += n;
    }

    /// Moves `n` apps from one state to another.
    pub fn shift(&mut self, from: AppState, to: AppState, n: u64) {
        let f = self.slot(from);
        *f = f.saturating_sub(n);
        *self.slot(to) += n;
    }

    fn slot(&mut self, state: AppState) -> &mut u64 {
        match state {
            AppState::Pending => &mut self.pending,
            AppState::Sending => &mut self.sending,
            AppState::Accepted => &mut self.accepted,
            AppState::Invalid => &mut self.invalid,
            AppState::Failed => &mut self.failed,
            AppState::NotAccepted => &mut self.not_accepted,
            AppState::Unknown => &mut self.unknown,
        }
    }

    /// Whether every app is accepted.
    pub fn all_accepted(&self) -> bool {
        self.accepted == self.apps
    }
}

/// A journal failed (a full disk, a locked or corrupt file): the batch stops, as nothing
/// could be recorded.
#[derive(Debug)]
pub struct JournalError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl JournalError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        JournalError {
            message: message.into(),
            source: None,
        }
    }

    /// An error with a message and its cause.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        JournalError {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Where a batch keeps its apps and their outcomes. Every method that changes state must
/// have made the change durable (as durable as the implementation promises) when it
/// returns `Ok`: the engine acts on it next (sends the chunk, tells the caller).
pub trait Journal {
    /// Takes up to `max_chunks` chunks of up to `chunk_size` pending apps, in input order,
    /// and records them as in flight since `now` (Unix seconds) *before* returning them.
    /// Returns no chunk when no app is pending.
    fn claim(
        &mut self,
        max_chunks: usize,
        chunk_size: usize,
        now: u64,
    ) -> Result<Vec<ClaimedChunk>, JournalError>;

    /// Returns chunks that were claimed but never sent to pending.
    fn release(&mut self, chunks: &[ChunkId]) -> Result<(), JournalError>;

    /// Marks `apps` of the claimed chunk `chunk` invalid, each with its problem, and returns
    /// the chunk's other apps to pending (they are claimed again, in other chunks), in one
    /// change. `refusal` is the service's error when it refused the request naming one of
    /// `apps` (the chunk was sent and failed: recorded as failed with that error); `None` when
    /// the model's validation refused them (nothing was sent: the chunk is released).
    fn reject(
        &mut self,
        chunk: ChunkId,
        apps: &[(u64, String)],
        refusal: Option<&OutcomeError>,
    ) -> Result<(), JournalError>;

    /// Records outcomes of chunks (together: one commit for many).
    fn record(&mut self, outcomes: &[(ChunkId, ChunkOutcome)]) -> Result<(), JournalError>;

    /// Chunks whose outcome is unknown: in flight when a run stopped, or answered by a lost
    /// reply. Their apps are those still [`AppState::Sending`] or [`AppState::Unknown`].
    fn unresolved(&mut self) -> Result<Vec<ClaimedChunk>, JournalError>;

    /// Every `ItemId` the journal records (reconciliation never claims these tasks).
    fn item_ids(&mut self) -> Result<HashSet<String>, JournalError>;

    /// Makes [`AppState::Failed`] and [`AppState::NotAccepted`] apps pending again; returns
    /// how many (the start of a run: what was safe to resubmit is resubmitted).
    fn retry_failed(&mut self) -> Result<u64, JournalError>;

    /// Apps per state.
    fn counts(&mut self) -> Result<BatchCounts, JournalError>;
}

impl<J: Journal + ?Sized> Journal for &mut J {
    fn claim(&mut self, m: usize, c: usize, now: u64) -> Result<Vec<ClaimedChunk>, JournalError> {
        (**self).claim(m, c, now)
    }
    fn release(&mut self, chunks: &[ChunkId]) -> Result<(), JournalError> {
        (**self).release(chunks)
    }
    fn reject(
        &mut self,
        chunk: ChunkId,
        apps: &[(u64, String)],
        refusal: Option<&OutcomeError>,
    ) -> Result<(), JournalError> {
        (**self).reject(chunk, apps, refusal)
    }
    fn record(&mut self, outcomes: &[(ChunkId, ChunkOutcome)]) -> Result<(), JournalError> {
        (**self).record(outcomes)
    }
    fn unresolved(&mut self) -> Result<Vec<ClaimedChunk>, JournalError> {
        (**self).unresolved()
    }
    fn item_ids(&mut self) -> Result<HashSet<String>, JournalError> {
        (**self).item_ids()
    }
    fn retry_failed(&mut self) -> Result<u64, JournalError> {
        (**self).retry_failed()
    }
    fn counts(&mut self) -> Result<BatchCounts, JournalError> {
        (**self).counts()
    }
}

/// Batch settings.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Apps per `CreateScanInstances` call (1..=20). Default 20.
    pub chunk_size: usize,
    /// Calls in flight at once. The rate limiter decides the pace; this only needs to cover
    /// the round-trip time (rate × latency). Default 16.
    pub concurrency: usize,
    /// Chunks claimed from the journal at once (one durable write for all of them), at
    /// first: while windows go by in less than a quarter of a second (a fast service, no rate
    /// limit), the window doubles, up to `max_claim_chunks`, and halves back when a window
    /// lasts more than two seconds. A larger window means fewer synchronous writes, and more
    /// chunks to reconcile after a crash. Default 64.
    pub claim_chunks: usize,
    /// The largest claim window. Default [`MAX_CLAIM_WINDOW`] (1,024 chunks).
    pub max_claim_chunks: usize,
    /// Passes over the pending apps: chunks found unprocessed by reconciliation are sent
    /// again in the next pass. Default 5.
    pub max_rounds: u32,
    /// After [`StopSignal::stop`], how long requests in flight may take to finish before the
    /// run stops without their outcome (they stay in flight in the journal). Default 5 s.
    pub drain_grace: Duration,
    /// Reconciliation lists scans back to the earliest unresolved chunk's claim time minus
    /// this margin (clock differences between this machine and the service). Default 6 min
    /// (the service rejects requests whose clocks differ by 5 minutes or more).
    pub clock_margin: Duration,
    /// The wall clock (claim times). Default the system clock.
    pub clock: Arc<dyn Clock>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            chunk_size: MAX_APPS_PER_CALL,
            concurrency: 16,
            claim_chunks: 64,
            max_claim_chunks: MAX_CLAIM_WINDOW,
            max_rounds: 5,
            drain_grace: Duration::from_secs(5),
            clock_margin: Duration::from_secs(360),
            clock: Arc::new(SystemClock::new()),
        }
    }
}

/// Splits the apps of a chunk into those the reply's `AppMd5s` accepted and those it did
/// not, matching MD5s (case-insensitively) as a multiset in input order: an MD5 listed once
/// accepts one app. Returns the positions not accepted.
pub fn not_accepted(apps: &[PositionedApp], accepted_md5s: &[String]) -> Vec<u64> {
    let mut left: HashMap<String, usize> = HashMap::new();
    for m in accepted_md5s {
        *left.entry(m.to_ascii_lowercase()).or_default() += 1;
    }
    let mut out = Vec::new();
    for a in apps {
        match left.get_mut(&a.app.app_md5.to_ascii_lowercase()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(a.position),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(position: u64, md5: &str) -> PositionedApp {
        PositionedApp {
            position,
            app: AppInfo {
                app_md5: md5.into(),
                ..AppInfo::default()
            },
        }
    }

    #[test]
    fn accepted_md5s_match_as_a_multiset() {
        let apps = [app(1, "aa"), app(2, "BB"), app(3, "aa"), app(4, "cc")];
        // One "aa" accepts one app only; case does not matter; unknown MD5s are ignored.
        assert_eq!(
            not_accepted(&apps, &["bb".into(), "AA".into(), "zz".into()]),
            vec![3, 4]
        );
        assert_eq!(not_accepted(&apps, &[]), vec![1, 2, 3, 4]);
        let all: Vec<String> = ["aa", "aa", "bb", "cc"].map(String::from).into();
        assert!(not_accepted(&apps, &all).is_empty());
    }

    #[test]
    fn outcome_codes_come_from_the_error_s_fields() {
        let api = Error::api(ms_model::ErrorCode::from("LimitExceeded"), "quota", None);
        assert_eq!(OutcomeError::from_error(&api).code, "LimitExceeded");
        let config = Error::credentials("no SecretId");
        assert_eq!(OutcomeError::from_error(&config).code, "Credentials");
        let down = Error::credentials_unavailable("STS unreachable");
        assert_eq!(
            OutcomeError::from_error(&down).code,
            "CredentialsUnavailable"
        );
        let throttled = Error::api(
            ms_model::ErrorCode::from("RequestLimitExceeded"),
            "slow",
            None,
        );
        assert!(OutcomeError::from_error(&throttled).throttling);
        assert!(!OutcomeError::from_error(&api).throttling);
    }

    #[test]
    fn states_round_trip_their_names() {
        for s in AppState::ALL {
            assert_eq!(AppState::parse(s.as_str()), Some(s));
        }
        assert_eq!(AppState::parse("nope"), None);
    }

    #[test]
    fn counts_shift_between_states() {
        let mut c = BatchCounts::default();
        c.add(AppState::Pending, 40);
        c.shift(AppState::Pending, AppState::Sending, 20);
        c.shift(AppState::Sending, AppState::Accepted, 10);
        c.shift(AppState::Sending, AppState::NotAccepted, 10);
        assert_eq!(
            (c.apps, c.pending, c.accepted, c.not_accepted),
            (40, 20, 10, 10)
        );
        assert!(!c.all_accepted());
    }
}
