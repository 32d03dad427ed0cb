//! `ms scan wait ITEM_ID...` (or `--journal FILE`): waits until the tasks' scans finish,
//! optionally judged by a policy gate (exit code 4 when violated).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::findings::AppFindings;
use crate::output::{Render, Table};
use crate::policy::{Gate, GateArgs, Tally, finish};
use crate::scan::{TaskWait, fetch_results, wait_for_tasks};

/// Arguments of `ms scan wait`.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// The tasks' ItemIds
    #[arg(value_name = "ITEM_ID", required_unless_present = "journal")]
    pub item_ids: Vec<String>,
    /// Wait for every task of a run: its journal (`ms scan submit --journal FILE`)
    #[arg(long, value_name = "FILE", conflicts_with = "item_ids")]
    pub journal: Option<PathBuf>,
    /// Seconds between two rounds of polls (each round lists the apps of up to 100
    /// unfinished tasks per request, at the rate limit)
    #[arg(long, default_value_t = 2.0, value_name = "SECS", value_parser = parse_secs)]
    pub poll_interval: f64,
    /// Give up after this many seconds (exit code 1)
    #[arg(long, default_value_t = 3600.0, value_name = "SECS", value_parser = parse_secs)]
    pub wait_timeout: f64,
    /// The policy gate, judging the results of every task once the scans finish.
    #[command(flatten)]
    pub gate: GateArgs,
}

/// Parses a positive number of seconds.
pub fn parse_secs(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("expected a number of seconds, got {s:?}"))?;
    if !(v > 0.0 && v <= 7.0 * 86_400.0) {
        return Err(format!(
            "expected a positive number of seconds (at most a week), got {s}"
        ));
    }
    Ok(v)
}

/// Per-task summary.
#[derive(Debug)]
pub struct WaitView<'a>(pub &'a [TaskWait]);

impl Render for WaitView<'_> {
    fn json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|t| {
                    json!({"ItemId": t.item_id, "Apps": t.apps, "Completed": t.completed, "Failed": t.failed})
                })
                .collect(),
        )
    }
    fn table(&self) -> Table {
        let mut table = Table::new(["ITEM_ID", "APPS", "COMPLETED", "FAILED"]);
        for t in self.0 {
            table.push([
                t.item_id.clone(),
                t.apps.to_string(),
                t.completed.to_string(),
                t.failed.to_string(),
            ]);
        }
        table
    }
}

/// [`wait_for_tasks`] with a progress bar on stderr (`ms scan wait`, `ms scan submit --wait`).
pub async fn wait_with_progress(
    client: &ms_transport::Client,
    item_ids: &[String],
    poll_secs: f64,
    timeout_secs: f64,
    again: Option<String>,
) -> CliResult<Vec<TaskWait>> {
    let bar = crate::progress::wait_bar(item_ids.len());
    let waited = wait_for_tasks(
        client,
        item_ids,
        Duration::from_secs_f64(poll_secs),
        Duration::from_secs_f64(timeout_secs),
        again,
        |p| crate::progress::show_wait(&bar, p),
    )
    .await;
    bar.finish_and_clear();
    waited
}

/// Waits for the tasks; with a gate, then judges their results.
///
/// The exit status is decided before the summary is printed: apps whose scan failed exit 1
/// (as a failed wait or fetch does), and only then does the policy's 4 apply.
pub async fn exec(ctx: &mut Ctx, args: WaitArgs) -> CliResult<()> {
    // The policy file is checked before anything is sent.
    let gate = args.gate.gate()?;
    let item_ids = crate::journal::item_ids_or_journal(&args.item_ids, args.journal.as_deref())?;
    let client = ctx.client().await?;
    // A run's tasks are waited for again by its journal, not by ItemIds.
    let again = args
        .journal
        .as_ref()
        .map(|path| format!("ms scan wait --journal {}", path.display()));
    let results = wait_with_progress(
        &client,
        &item_ids,
        args.poll_interval,
        args.wait_timeout,
        again,
    )
    .await?;
    let failed: usize = results.iter().map(|t| t.failed).sum();
    let status = if failed > 0 {
        Err(
            CliError::remote(format!("{failed} app(s) could not be scanned"))
                .with_hint("see the status of each app with `ms scan results ITEM_ID`"),
        )
    } else if let Some(gate) = &gate {
        judge_tasks(&client, &item_ids, gate).await?.conclude()
    } else {
        Ok(())
    };
    let printed = ctx.printer.print(&WaitView(&results));
    finish(status, printed)
}

/// Fetches the results of the tasks a few at a time, in order, and judges each app as it
/// arrives: only the tally is kept, never the results of the whole run.
pub async fn judge_tasks(
    client: &ms_transport::Client,
    item_ids: &[String],
    gate: &Gate,
) -> CliResult<Tally> {
    let mut tally = gate.tally();
    let mut fetches = futures_util::stream::iter(item_ids)
        .map(|id| fetch_results(client, id, &[]))
        .buffered(4);
    while let Some(task) = fetches.next().await {
        for app in &task?.scan_set {
            gate.judge(&AppFindings::from_json(app), &mut tally);
        }
    }
    Ok(tally)
}
