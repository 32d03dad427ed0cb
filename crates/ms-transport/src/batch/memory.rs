//! A journal in memory: exact accounting without durability (a crash forgets the run).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use ms_model::AppInfo;

use super::{
    AppState, BatchCounts, ChunkId, ChunkOutcome, ClaimedChunk, Journal, JournalError,
    OutcomeError, PositionedApp,
};

/// One app of a [`MemoryJournal`].
#[derive(Debug, Clone)]
pub(super) struct MemApp {
    pub(super) app: AppInfo,
    pub(super) state: AppState,
    pub(super) chunk: Option<ChunkId>,
    pub(super) item_id: Option<String>,
    pub(super) request_id: Option<String>,
    pub(super) error: Option<OutcomeError>,
    pub(super) problem: Option<String>,
}

#[derive(Debug, Clone)]
struct MemChunk {
    claimed_at: u64,
    positions: Vec<u64>,
    item_id: Option<String>,
    /// The chunk's apps are still in flight or unknown.
    open: bool,
    accepted: bool,
}

/// A [`Journal`] held in memory. Apps come from an iterator, pulled only when chunks are
/// claimed (so a long input is not read ahead of the requests), and stay in memory with
/// their outcomes. Nothing survives the process: use it when a crash may lose the run
/// (tests, short batches) and the SQLite journal of `ms-journal` otherwise.
pub struct MemoryJournal {
    apps: Vec<MemApp>,
    source: Option<Box<dyn Iterator<Item = AppInfo> + Send>>,
    pending: BTreeSet<u64>,
    chunks: BTreeMap<ChunkId, MemChunk>,
    next_chunk: u64,
    counts: BatchCounts,
}

impl fmt::Debug for MemoryJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryJournal")
            .field("counts", &self.counts)
            .field("chunks", &self.chunks.len())
            .field("source_exhausted", &self.source.is_none())
            .finish_non_exhaustive()
    }
}

impl MemoryJournal {
    /// A journal of the given apps (positions 1, 2, ... in iteration order), pulled lazily.
    pub fn new<I>(apps: I) -> Self
    where
        I: IntoIterator<Item = AppInfo>,
        I::IntoIter: Send + 'static,
    {
        MemoryJournal {
            apps: Vec::new(),
            source: Some(Box::new(apps.into_iter())),
            pending: BTreeSet::new(),
            chunks: BTreeMap::new(),
            next_chunk: 1,
            counts: BatchCounts::default(),
        }
    }

    /// Apps pulled from the input so far, with their state.
    pub fn apps(&self) -> impl Iterator<Item = (u64, &AppInfo, AppState)> {
        self.apps
            .iter()
            .enumerate()
            .map(|(i, a)| (i as u64 + 1, &a.app, a.state))
    }

    /// The `ItemId` of an accepted app.
    pub fn item_id(&self, position: u64) -> Option<&str> {
        self.get(position)
            .filter(|a| a.state == AppState::Accepted)
            .and_then(|a| a.item_id.as_deref())
    }

    pub(super) fn entries(&self) -> &[MemApp] {
        &self.apps
    }

    fn get(&self, position: u64) -> Option<&MemApp> {
        usize::try_from(position.checked_sub(1)?)
            .ok()
            .and_then(|i| self.apps.get(i))
    }

    fn set(&mut self, position: u64, state: AppState) -> Option<&mut MemApp> {
        let i = usize::try_from(position.checked_sub(1)?).ok()?;
        let app = self.apps.get_mut(i)?;
        self.counts.shift(app.state, state, 1);
        if app.state == AppState::Pending {
            self.pending.remove(&position);
        }
        if state == AppState::Pending {
            self.pending.insert(position);
        }
        app.state = state;
        Some(app)
    }

    /// Pulls apps from the input until `n` are pending (or it ends).
    fn fill(&mut self, n: usize) {
        while self.pending.len() < n {
            let Some(app) = self.source.as_mut().and_then(Iterator::next) else {
                self.source = None;
                return;
            };
            self.apps.push(MemApp {
                app,
                state: AppState::Pending,
                chunk: None,
                item_id: None,
                request_id: None,
                error: None,
                problem: None,
            });
            self.pending.insert(self.apps.len() as u64);
            self.counts.add(AppState::Pending, 1);
        }
    }

    fn open_apps(&self, chunk: &MemChunk) -> Vec<u64> {
        chunk
            .positions
            .iter()
            .copied()
            .filter(|p| {
                self.get(*p)
                    .is_some_and(|a| matches!(a.state, AppState::Sending | AppState::Unknown))
            })
            .collect()
    }
}

impl Journal for MemoryJournal {
    fn claim(
        &mut self,
        max_chunks: usize,
        chunk_size: usize,
        now: u64,
    ) -> Result<Vec<ClaimedChunk>, JournalError> {
        let chunk_size = chunk_size.max(1);
        let mut out = Vec::new();
        for _ in 0..max_chunks {
            self.fill(chunk_size);
            let positions: Vec<u64> = self.pending.iter().copied().take(chunk_size).collect();
            if positions.is_empty() {
                break;
            }
            let id = ChunkId(self.next_chunk);
            self.next_chunk += 1;
            let mut apps = Vec::with_capacity(positions.len());
            for &p in &positions {
                if let Some(a) = self.set(p, AppState::Sending) {
                    a.chunk = Some(id);
                    apps.push(PositionedApp {
                        position: p,
                        app: a.app.clone(),
                    });
                }
            }
            self.chunks.insert(
                id,
                MemChunk {
                    claimed_at: now,
                    positions,
                    item_id: None,
                    open: true,
                    accepted: false,
                },
            );
            out.push(ClaimedChunk {
                id,
                claimed_at: now,
                apps,
                item_id: None,
                state: AppState::Sending,
            });
        }
        Ok(out)
    }

    fn release(&mut self, chunks: &[ChunkId]) -> Result<(), JournalError> {
        for id in chunks {
            let Some(chunk) = self.chunks.get_mut(id) else {
                continue;
            };
            chunk.open = false;
            let positions = chunk.positions.clone();
            for p in positions {
                if self.get(p).is_some_and(|a| a.state == AppState::Sending) {
                    self.set(p, AppState::Pending);
                }
            }
        }
        Ok(())
    }

    fn reject(
        &mut self,
        chunk: ChunkId,
        apps: &[(u64, String)],
        _refusal: Option<&OutcomeError>,
    ) -> Result<(), JournalError> {
        // The memory journal keeps no chunk states: the apps say what happened.
        for (p, problem) in apps {
            if let Some(a) = self.set(*p, AppState::Invalid) {
                a.problem = Some(problem.clone());
            }
        }
        self.release(&[chunk])
    }

    fn record(&mut self, outcomes: &[(ChunkId, ChunkOutcome)]) -> Result<(), JournalError> {
        for (id, outcome) in outcomes {
            let Some(chunk) = self.chunks.get(id) else {
                return Err(JournalError::new(format!("no chunk {id} in the journal")));
            };
            let open = self.open_apps(chunk);
            for p in open {
                let (state, item_id, request_id, error) = match outcome {
                    ChunkOutcome::Accepted {
                        item_id,
                        request_id,
                        not_accepted,
                        ..
                    } => (
                        if not_accepted.contains(&p) {
                            AppState::NotAccepted
                        } else {
                            AppState::Accepted
                        },
                        Some(item_id.clone()),
                        request_id.clone(),
                        None,
                    ),
                    other => (other.app_state(), None, None, other.error().cloned()),
                };
                if let Some(a) = self.set(p, state) {
                    a.item_id = item_id;
                    a.request_id = request_id.or_else(|| error.as_ref()?.request_id.clone());
                    a.error = error;
                }
            }
            if let Some(chunk) = self.chunks.get_mut(id) {
                match outcome {
                    ChunkOutcome::Accepted { item_id, .. } => {
                        chunk.item_id = Some(item_id.clone());
                        chunk.accepted = true;
                        chunk.open = false;
                    }
                    ChunkOutcome::Unknown { item_id, .. } => {
                        chunk.item_id = item_id.clone().or(chunk.item_id.take());
                        chunk.open = true;
                    }
                    ChunkOutcome::Failed(_) | ChunkOutcome::NotFound(_) => chunk.open = false,
                }
            }
        }
        Ok(())
    }

    fn unresolved(&mut self) -> Result<Vec<ClaimedChunk>, JournalError> {
        let mut out = Vec::new();
        for (id, chunk) in &self.chunks {
            if !chunk.open {
                continue;
            }
            let positions = self.open_apps(chunk);
            if positions.is_empty() {
                continue;
            }
            let state = if positions
                .iter()
                .any(|p| self.get(*p).is_some_and(|a| a.state == AppState::Unknown))
            {
                AppState::Unknown
            } else {
                AppState::Sending
            };
            out.push(ClaimedChunk {
                id: *id,
                claimed_at: chunk.claimed_at,
                apps: positions
                    .iter()
                    .filter_map(|p| {
                        self.get(*p).map(|a| PositionedApp {
                            position: *p,
                            app: a.app.clone(),
                        })
                    })
                    .collect(),
                item_id: chunk.item_id.clone(),
                state,
            });
        }
        Ok(out)
    }

    fn item_ids(&mut self) -> Result<HashSet<String>, JournalError> {
        Ok(self
            .chunks
            .values()
            .filter(|c| c.accepted)
            .filter_map(|c| c.item_id.clone())
            .collect())
    }

    fn retry_failed(&mut self) -> Result<u64, JournalError> {
        let again: Vec<u64> = self
            .apps()
            .filter(|(_, _, s)| matches!(s, AppState::Failed | AppState::NotAccepted))
            .map(|(p, _, _)| p)
            .collect();
        for &p in &again {
            if let Some(a) = self.set(p, AppState::Pending) {
                a.error = None;
                a.item_id = None;
            }
        }
        Ok(again.len() as u64)
    }

    fn counts(&mut self) -> Result<BatchCounts, JournalError> {
        Ok(self.counts)
    }
}
