//! `ms scan results ITEM_ID`: the results of a scan task (DescribeScanResults).

use clap::Args;

use crate::context::Ctx;
use crate::error::CliResult;
use crate::scan::{ResultsView, fetch_results};

/// Arguments of `ms scan results`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "With -o json the answer is the API's ScanSet (ScanSetInfo objects) with the ItemId."
)]
pub struct ResultsArgs {
    /// The task's ItemId (printed by `ms scan submit`)
    #[arg(value_name = "ITEM_ID")]
    pub item_id: String,
    /// Only the apps with these MD5s (repeatable)
    #[arg(long = "md5", value_name = "MD5", value_parser = crate::commands::submit::parse_md5)]
    pub md5s: Vec<String>,
}

/// Prints the results.
pub async fn exec(ctx: &mut Ctx, args: ResultsArgs) -> CliResult<()> {
    let client = ctx.client().await?;
    let results = fetch_results(&client, &args.item_id, &args.md5s).await?;
    if ctx.printer.format() == crate::output::OutputFormat::Json {
        return ctx.printer.print_serialize(&results);
    }
    ctx.printer.print(&ResultsView { tasks: &[results] })
}
