//! `ms scan results ITEM_ID...`: the results of scan tasks (DescribeScanResults),
//! optionally judged by a policy gate (exit code 4 when violated).
//!
//! With `-o json` each task's answer is copied from the reply to stdout without building a
//! tree ([`crate::raw_results`]), task by task as the answers arrive (a run's journal of
//! any size holds a few answers at a time); a gate parses each answer to judge it, a table
//! parses them all.

use clap::Args;
use futures_util::StreamExt;

use crate::context::Ctx;
use crate::error::{CliResult, ErrorKind};
use crate::findings::AppFindings;
use crate::output::OutputFormat;
use crate::policy::{Gate, GateArgs, Tally, finish};
use crate::raw_results::{Layout, PrettyTasks, RawTask, fetch_raw, fetch_raw_all};
use crate::scan::{ResultsView, TaskResults};
use crate::sources::apps_of;

/// Arguments of `ms scan results`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "With -o json the answer is the API's ScanSet (ScanSetInfo objects) with the ItemId;\nan array of those for several ItemIds."
)]
pub struct ResultsArgs {
    /// The tasks' ItemIds (printed by `ms scan submit`)
    #[arg(value_name = "ITEM_ID", required_unless_present = "journal")]
    pub item_ids: Vec<String>,
    /// Every task of a run: its journal (`ms scan submit --journal FILE`)
    #[arg(long, value_name = "FILE", conflicts_with = "item_ids")]
    pub journal: Option<std::path::PathBuf>,
    /// Only the apps with these MD5s (repeatable)
    #[arg(long = "md5", value_name = "MD5", value_parser = crate::commands::submit::parse_md5)]
    pub md5s: Vec<String>,
    /// The policy gate.
    #[command(flatten)]
    pub gate: GateArgs,
}

/// Prints the results.
pub async fn exec(ctx: &mut Ctx, args: ResultsArgs) -> CliResult<()> {
    let gate = args.gate.gate()?;
    let client = ctx.client().await?;
    let item_ids = crate::journal::item_ids_or_journal(&args.item_ids, args.journal.as_deref())?;
    // Several ItemIds given print an array, even when they name one task (fetched once); a
    // journal's tasks print an array unless the run has one task.
    let layout = Layout::of(item_ids.len().max(args.item_ids.len()));
    if ctx.printer.format() == OutputFormat::Json {
        return stream_json(ctx, &client, &item_ids, &args.md5s, layout, gate.as_ref()).await;
    }
    // A table is laid out once every task is in: parsed together.
    let raw: Vec<RawTask> = match item_ids.as_slice() {
        [one] => vec![fetch_raw(&client, one, &args.md5s).await?],
        ids => fetch_raw_all(&client, ids, &args.md5s).await?,
    };
    let parsed: Vec<TaskResults> = raw.iter().map(RawTask::parse).collect::<CliResult<_>>()?;
    let decision = match &gate {
        Some(gate) => {
            let apps = apps_of(&parsed, &[]);
            gate.evaluate(&apps).conclude(&apps)
        }
        None => Ok(()),
    };
    let printed = ctx.printer.print(&ResultsView { tasks: &parsed });
    finish(decision, printed)
}

/// Answers fetched ahead of the one being printed (in flight, in order).
const FETCH_AHEAD: usize = 4;

/// `-o json`: each task's answer is printed as it arrives, in order, and judged by the gate
/// (only the [`crate::policy::Tally`] is kept), so a run of any size holds a few answers,
/// never all of them. The bytes are those of [`crate::raw_results::pretty_json_as`] of all
/// the answers. A closed stdout stops the printing, not the judging; a failed fetch stops
/// with its error (the JSON printed so far is then incomplete, and the exit code not 0).
async fn stream_json(
    ctx: &mut Ctx,
    client: &ms_transport::Client,
    item_ids: &[String],
    md5s: &[String],
    layout: Layout,
    gate: Option<&Gate>,
) -> CliResult<()> {
    let mut tally = gate.map(Gate::tally);
    let mut pretty = PrettyTasks::new(layout);
    let mut buf = Vec::new();
    pretty.start(&mut buf);
    let mut printed: CliResult<()> = Ok(());
    let mut fetches = futures_util::stream::iter(item_ids)
        .map(|id| fetch_raw(client, id, md5s))
        .buffered(FETCH_AHEAD);
    while let Some(task) = fetches.next().await {
        let task = task?;
        if let (Some(gate), Some(tally)) = (gate, tally.as_mut()) {
            for app in &task.parse()?.scan_set {
                gate.judge(&AppFindings::from_json(app), tally);
            }
        }
        pretty.task(&task, &mut buf);
        drop(task);
        printed = write_while_open(ctx, printed, &buf);
        buf.clear();
        match &printed {
            // Nothing left to decide: stop at once.
            Err(e) if gate.is_none() || e.kind() != ErrorKind::BrokenPipe => break,
            _ => {}
        }
    }
    if printed.is_ok() {
        pretty.end(&mut buf);
        printed = write_while_open(ctx, printed, &buf);
    }
    let decision = tally.as_ref().map_or(Ok(()), Tally::conclude);
    finish(decision, printed)
}

/// Writes `bytes` unless an earlier write failed.
fn write_while_open(ctx: &mut Ctx, printed: CliResult<()>, bytes: &[u8]) -> CliResult<()> {
    printed.and_then(|()| ctx.printer.write_bytes(bytes))
}
