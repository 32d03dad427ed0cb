//! `ms scan results ITEM_ID...`: the results of scan tasks (DescribeScanResults),
//! optionally judged by a policy gate (exit code 4 when violated).

use clap::Args;

use crate::context::Ctx;
use crate::error::CliResult;
use crate::output::OutputFormat;
use crate::policy::{GateArgs, finish};
use crate::scan::ResultsView;
use crate::sources::{apps_of, fetch_tasks};

/// Arguments of `ms scan results`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "With -o json the answer is the API's ScanSet (ScanSetInfo objects) with the ItemId;\nan array of those for several ItemIds."
)]
pub struct ResultsArgs {
    /// The tasks' ItemIds (printed by `ms scan submit`)
    #[arg(value_name = "ITEM_ID", required = true)]
    pub item_ids: Vec<String>,
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
    let mut tasks = fetch_tasks(ctx, &args.item_ids, &args.md5s).await?;
    if args.item_ids.len() > 1 && !args.md5s.is_empty() {
        for t in &mut tasks {
            t.scan_set.retain(|s| {
                let md5 = crate::output::field(
                    s.get("AppDetailInfo").unwrap_or(&serde_json::Value::Null),
                    "AppMd5",
                );
                args.md5s.iter().any(|m| m.eq_ignore_ascii_case(&md5))
            });
        }
    }
    let decision = match &gate {
        Some(gate) => {
            let apps = apps_of(&tasks, &[]);
            gate.evaluate(&apps).decision(&apps)
        }
        None => Ok(()),
    };
    let printed = match (ctx.printer.format(), tasks.as_slice()) {
        (OutputFormat::Json, [one]) => ctx.printer.print_serialize(one),
        (OutputFormat::Json, all) => ctx.printer.print_serialize(all),
        _ => ctx.printer.print(&ResultsView { tasks: &tasks }),
    };
    finish(decision, printed)
}
