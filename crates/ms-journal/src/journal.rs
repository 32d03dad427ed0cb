//! [`Journal`] for [`SqliteJournal`]: every change is one transaction.

use std::collections::{BTreeMap, HashSet};

use ms_transport::batch::{
    AppState, BatchCounts, ChunkId, ChunkOutcome, ClaimedChunk, Journal, JournalError,
    OutcomeError, PositionedApp,
};
use rusqlite::{Transaction, TransactionBehavior, params};

use crate::{SqliteJournal, app_from_row, now, schema};

fn err(path: &std::path::Path, what: &str) -> impl Fn(rusqlite::Error) -> JournalError {
    let context = format!("{}: cannot {what}", path.display());
    move |e| JournalError::with_source(context.clone(), e)
}

impl SqliteJournal {
    fn tx(&mut self, what: &str) -> Result<Transaction<'_>, JournalError> {
        let e = err(&self.path, what);
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)
    }

    fn sync(&self, mode: &str) -> Result<(), JournalError> {
        self.conn
            .pragma_update(None, "synchronous", mode)
            .map_err(err(&self.path, "configure"))
    }

    fn claim_tx(
        &mut self,
        max_chunks: usize,
        chunk_size: usize,
        now_secs: u64,
    ) -> Result<Vec<ClaimedChunk>, JournalError> {
        let path = self.path.clone();
        let run_id = self.run_id;
        // Every pending app is after the cursor (it goes back to 0 whenever an app becomes
        // pending again), so the claim walks the primary key from there.
        let cursor = self.claim_cursor as i64;
        let tx = self.tx("claim apps")?;
        let e = err(&path, "claim apps");
        let limit = (max_chunks.saturating_mul(chunk_size)) as i64;
        let apps: Vec<(u64, ms_model::AppInfo)> = {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {} FROM apps WHERE position > ?1 AND state = 'pending' \
                     ORDER BY position LIMIT ?2",
                    schema::APP_COLUMNS
                ))
                .map_err(&e)?;
            stmt.query_map([cursor, limit], app_from_row)
                .and_then(|rows| rows.collect::<Result<_, _>>())
                .map_err(&e)?
        };
        let mut out = Vec::new();
        for group in apps.chunks(chunk_size.max(1)) {
            tx.prepare_cached(
                "INSERT INTO chunks (run_id, claimed_at, apps, state) VALUES (?1, ?2, ?3, 'sending')",
            )
            .and_then(|mut s| s.execute(params![run_id, now_secs as i64, group.len() as i64]))
            .map_err(&e)?;
            let id = tx.last_insert_rowid() as u64;
            let mut update = tx
                .prepare_cached(
                    "UPDATE apps SET state = 'sending', chunk_id = ?1, attempts = attempts + 1 \
                     WHERE position = ?2",
                )
                .map_err(&e)?;
            for (position, _) in group {
                update
                    .execute(params![id as i64, *position as i64])
                    .map_err(&e)?;
            }
            out.push(ClaimedChunk {
                id: ChunkId(id),
                claimed_at: now_secs,
                apps: group
                    .iter()
                    .map(|(position, app)| PositionedApp {
                        position: *position,
                        app: app.clone(),
                    })
                    .collect(),
                item_id: None,
                state: AppState::Sending,
            });
        }
        tx.commit().map_err(&e)?;
        if let Some((last, _)) = apps.last() {
            self.claim_cursor = *last;
        }
        Ok(out)
    }

    /// Ends chunk `id` — `released` (never sent), or `failed` with the service's `refusal`
    /// — and makes its apps still `sending` (`apps`: their positions) pending again.
    fn reopen(
        tx: &Transaction<'_>,
        id: u64,
        apps: &[u64],
        refusal: Option<&OutcomeError>,
    ) -> rusqlite::Result<()> {
        tx.prepare_cached(
            "UPDATE chunks SET state = ?1, request_id = ?2, code = ?3, message = ?4, \
             resolved_at = ?5 WHERE id = ?6",
        )?
        .execute(params![
            if refusal.is_some() {
                "failed"
            } else {
                "released"
            },
            refusal.and_then(|r| r.request_id.as_deref()),
            refusal.map(|r| r.code.as_str()),
            refusal.map(|r| r.message.as_str()),
            now(),
            id as i64
        ])?;
        let mut stmt = tx.prepare_cached(
            "UPDATE apps SET state = 'pending' \
             WHERE position BETWEEN ?1 AND ?2 AND state = 'sending'",
        )?;
        for_runs(apps, |a, b| stmt.execute([a, b]))
    }

    fn set_apps(
        tx: &Transaction<'_>,
        positions: &[u64],
        state: AppState,
        item_id: Option<&str>,
        code: Option<&str>,
        message: Option<&str>,
        e: &impl Fn(rusqlite::Error) -> JournalError,
    ) -> Result<(), JournalError> {
        let mut stmt = tx
            .prepare_cached(
                "UPDATE apps SET state = ?1, item_id = ?2, code = ?3, message = ?4 \
                 WHERE position BETWEEN ?5 AND ?6 AND state IN ('sending', 'unknown')",
            )
            .map_err(e)?;
        for_runs(positions, |a, b| {
            stmt.execute(params![state.as_str(), item_id, code, message, a, b])
        })
        .map_err(e)
    }
}

/// Calls `f(first, last)` for each run of consecutive positions (positions in increasing
/// order): a chunk of consecutive apps is one `BETWEEN` update instead of twenty.
fn for_runs(
    positions: &[u64],
    mut f: impl FnMut(i64, i64) -> rusqlite::Result<usize>,
) -> rusqlite::Result<()> {
    let mut i = 0;
    while i < positions.len() {
        let first = positions[i];
        let mut last = first;
        i += 1;
        while i < positions.len() && positions[i] == last + 1 {
            last = positions[i];
            i += 1;
        }
        f(first as i64, last as i64)?;
    }
    Ok(())
}

impl Journal for SqliteJournal {
    fn claim(
        &mut self,
        max_chunks: usize,
        chunk_size: usize,
        now_secs: u64,
    ) -> Result<Vec<ClaimedChunk>, JournalError> {
        // The claim is the write-ahead record: durable (fsync) before any request leaves.
        self.sync(self.claim_sync)?;
        let claimed = self.claim_tx(max_chunks, chunk_size, now_secs);
        let normal = if self.claim_sync == "OFF" {
            "OFF"
        } else {
            "NORMAL"
        };
        self.sync(normal)?;
        let claimed = claimed?;
        for c in &claimed {
            self.open_chunks
                .insert(c.id.0, c.apps.iter().map(|a| a.position).collect());
        }
        Ok(claimed)
    }

    fn release(&mut self, chunks: &[ChunkId]) -> Result<(), JournalError> {
        let path = self.path.clone();
        let e = err(&path, "release chunks");
        let positions: Vec<(u64, Vec<u64>)> = chunks
            .iter()
            .map(|c| (c.0, self.open_chunks.remove(&c.0).unwrap_or_default()))
            .collect();
        let tx = self.tx("release chunks")?;
        for (id, apps) in &positions {
            Self::reopen(&tx, *id, apps, None).map_err(&e)?;
        }
        tx.commit().map_err(&e)?;
        self.claim_cursor = 0;
        Ok(())
    }

    fn reject(
        &mut self,
        chunk: ChunkId,
        apps: &[(u64, String)],
        refusal: Option<&OutcomeError>,
    ) -> Result<(), JournalError> {
        let path = self.path.clone();
        let e = err(&path, "record rejected apps");
        let positions = self.open_chunks.remove(&chunk.0).unwrap_or_default();
        let tx = self.tx("record rejected apps")?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE apps SET state = 'invalid', code = 'Validation', message = ?1 \
                     WHERE position = ?2",
                )
                .map_err(&e)?;
            for (p, problem) in apps {
                stmt.execute(params![problem, *p as i64]).map_err(&e)?;
            }
        }
        Self::reopen(&tx, chunk.0, &positions, refusal).map_err(&e)?;
        tx.commit().map_err(&e)?;
        self.claim_cursor = 0;
        Ok(())
    }

    fn record(&mut self, outcomes: &[(ChunkId, ChunkOutcome)]) -> Result<(), JournalError> {
        let path = self.path.clone();
        let e = err(&path, "record outcomes");
        let positions: Vec<Vec<u64>> = outcomes
            .iter()
            .map(|(id, _)| self.open_chunks.get(&id.0).cloned().unwrap_or_default())
            .collect();
        let tx = self.tx("record outcomes")?;
        let resolved = now();
        for ((id, outcome), apps) in outcomes.iter().zip(&positions) {
            let (state, item_id, request_id, reconciled) = match outcome {
                ChunkOutcome::Accepted {
                    item_id,
                    request_id,
                    reconciled,
                    ..
                } => (
                    "accepted",
                    Some(item_id.as_str()),
                    request_id.as_deref(),
                    *reconciled,
                ),
                ChunkOutcome::Failed(er) => ("failed", None, er.request_id.as_deref(), false),
                ChunkOutcome::Unknown { error, item_id } => (
                    "unknown",
                    item_id.as_deref(),
                    error.request_id.as_deref(),
                    false,
                ),
                ChunkOutcome::NotFound(er) => ("not_found", None, er.request_id.as_deref(), true),
            };
            let error = outcome.error();
            tx.prepare_cached(
                "UPDATE chunks SET state = ?1, item_id = coalesce(?2, item_id), request_id = ?3, \
                 code = ?4, message = ?5, reconciled = ?6, resolved_at = ?7 WHERE id = ?8",
            )
            .and_then(|mut s| {
                s.execute(params![
                    state,
                    item_id,
                    request_id,
                    error.map(|x| x.code.as_str()),
                    error.map(|x| x.message.as_str()),
                    reconciled,
                    resolved,
                    id.0 as i64
                ])
            })
            .map_err(&e)?;
            match outcome {
                ChunkOutcome::Accepted {
                    item_id,
                    not_accepted,
                    ..
                } => {
                    let (left_out, accepted): (Vec<u64>, Vec<u64>) =
                        apps.iter().partition(|p| not_accepted.contains(p));
                    Self::set_apps(
                        &tx,
                        &accepted,
                        AppState::Accepted,
                        Some(item_id),
                        None,
                        None,
                        &e,
                    )?;
                    let why = format!(
                        "the service created task {item_id} without this app (its MD5 is not in the reply's AppMd5s: the quota may have run out)"
                    );
                    Self::set_apps(
                        &tx,
                        &left_out,
                        AppState::NotAccepted,
                        Some(item_id),
                        Some("NotAccepted"),
                        Some(&why),
                        &e,
                    )?;
                }
                other => {
                    let er = other.error();
                    Self::set_apps(
                        &tx,
                        apps,
                        other.app_state(),
                        None,
                        er.map(|x| x.code.as_str()),
                        er.map(|x| x.message.as_str()),
                        &e,
                    )?;
                }
            }
        }
        tx.commit().map_err(&e)?;
        for (id, outcome) in outcomes {
            if !matches!(outcome, ChunkOutcome::Unknown { .. }) {
                self.open_chunks.remove(&id.0);
            }
            if matches!(outcome, ChunkOutcome::NotFound(_)) {
                self.claim_cursor = 0;
            }
        }
        Ok(())
    }

    fn unresolved(&mut self) -> Result<Vec<ClaimedChunk>, JournalError> {
        let e = err(&self.path, "read unresolved chunks");
        let mut chunks: BTreeMap<u64, ClaimedChunk> = BTreeMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id, claimed_at, item_id FROM chunks WHERE state IN ('sending', 'unknown')",
                )
                .map_err(&e)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(&e)?;
            for (id, claimed_at, item_id) in rows {
                chunks.insert(
                    id as u64,
                    ClaimedChunk {
                        id: ChunkId(id as u64),
                        claimed_at: claimed_at.max(0) as u64,
                        apps: Vec::new(),
                        item_id,
                        state: AppState::Sending,
                    },
                );
            }
        }
        if chunks.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {}, chunk_id, state FROM apps WHERE state IN ('sending', 'unknown') ORDER BY position",
                schema::APP_COLUMNS
            ))
            .map_err(&e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    app_from_row(r)?,
                    r.get::<_, Option<i64>>(9)?,
                    r.get::<_, String>(10)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(&e)?;
        for ((position, app), chunk, state) in rows {
            if let Some(c) = chunk.and_then(|id| chunks.get_mut(&(id as u64))) {
                if state == "unknown" {
                    c.state = AppState::Unknown;
                }
                c.apps.push(PositionedApp { position, app });
            }
        }
        let out: Vec<ClaimedChunk> = chunks
            .into_values()
            .filter(|c| !c.apps.is_empty())
            .collect();
        drop(stmt);
        for c in &out {
            self.open_chunks
                .insert(c.id.0, c.apps.iter().map(|a| a.position).collect());
        }
        Ok(out)
    }

    fn item_ids(&mut self) -> Result<HashSet<String>, JournalError> {
        let e = err(&self.path, "read ItemIds");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT item_id FROM chunks WHERE state = 'accepted'")
            .map_err(&e)?;
        stmt.query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<_, _>>())
            .map_err(&e)
    }

    fn retry_failed(&mut self) -> Result<u64, JournalError> {
        let path = self.path.clone();
        let e = err(&path, "make failed apps pending");
        let tx = self.tx("make failed apps pending")?;
        let n = tx
            .execute(
                "UPDATE apps SET state = 'pending' WHERE state IN ('failed', 'not_accepted')",
                [],
            )
            .map_err(&e)?;
        tx.commit().map_err(&e)?;
        self.claim_cursor = 0;
        Ok(n as u64)
    }

    fn counts(&mut self) -> Result<BatchCounts, JournalError> {
        let e = err(&self.path, "count apps");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM apps GROUP BY state")
            .map_err(&e)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(&e)?;
        let mut counts = BatchCounts::default();
        for (state, n) in rows {
            let state = AppState::parse(&state).ok_or_else(|| {
                JournalError::new(format!(
                    "{}: unknown app state {state:?}",
                    self.path.display()
                ))
            })?;
            counts.add(state, n.max(0) as u64);
        }
        Ok(counts)
    }
}
