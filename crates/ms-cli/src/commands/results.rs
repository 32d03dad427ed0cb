//! `ms scan results ITEM_ID...`: the results of scan tasks (DescribeScanResults),
//! optionally judged by a policy gate (exit code 4 when violated).
//!
//! With `-o json` the answer is copied from the reply to stdout without building a tree
//! ([`crate::raw_results`]); a gate or a table parses it.

use clap::Args;

use crate::context::Ctx;
use crate::error::CliResult;
use crate::output::OutputFormat;
use crate::policy::{GateArgs, finish};
use crate::raw_results::{Layout, RawTask, fetch_raw, fetch_raw_all, pretty_json_as};
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
    // Several ItemIds given print an array, even when they name one task (fetched once).
    let given = args.item_ids.len();
    let several = given > 1;
    let raw: Vec<RawTask> = match item_ids.as_slice() {
        [one] if !several => vec![fetch_raw(&client, one, &args.md5s).await?],
        ids => fetch_raw_all(&client, ids, &args.md5s).await?,
    };
    let json = ctx.printer.format() == OutputFormat::Json;
    // Parsed only when something needs the findings (a gate, a table).
    let parsed: Vec<TaskResults> = if gate.is_some() || !json {
        raw.iter().map(RawTask::parse).collect::<CliResult<_>>()?
    } else {
        Vec::new()
    };
    let decision = match &gate {
        Some(gate) => {
            let apps = apps_of(&parsed, &[]);
            gate.evaluate(&apps).decision(&apps)
        }
        None => Ok(()),
    };
    let printed = if json {
        ctx.printer
            .write_bytes(&pretty_json_as(&raw, Layout::of(raw.len().max(given))))
    } else {
        ctx.printer.print(&ResultsView { tasks: &parsed })
    };
    finish(decision, printed)
}
