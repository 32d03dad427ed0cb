//! `ms scan report ITEM_ID... --format md|html|sarif|junit`: a report of one task, many,
//! or saved results, optionally judged by a policy gate (exit code 4 when violated).

use std::path::PathBuf;

use clap::Args;

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::findings::AppFindings;
use crate::policy::{GateArgs, finish};
use crate::report::{Report, ReportFormat, render};
use crate::scan::TaskResults;
use crate::sources::{apps_of, fetch_tasks, read_saved};

/// Arguments of `ms scan report`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ms scan report ITEM_ID --format html --out report.html
  ms scan report ITEM_ID1 ITEM_ID2 --format sarif --out ms.sarif --fail-on high
  ms scan report ITEM_ID --format junit --policy ci/ms-policy.toml > junit.xml
  ms scan results ITEM_ID -o json > results.json && ms scan report --input results.json")]
pub struct ReportArgs {
    /// The tasks' ItemIds
    #[arg(value_name = "ITEM_ID", required_unless_present_any = ["input", "journal"])]
    pub item_ids: Vec<String>,
    /// Every task of a run: its journal (`ms scan submit --journal FILE`)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["item_ids", "input"])]
    pub journal: Option<PathBuf>,
    /// Report format: md, html, sarif (code scanning) or junit (CI test views)
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only the apps with these MD5s (repeatable)
    #[arg(long = "md5", value_name = "MD5", value_parser = crate::commands::submit::parse_md5)]
    pub md5s: Vec<String>,
    /// Build the report from saved results (`ms scan results -o json`, `ms scan submit
    /// --wait -o json` or `-o jsonl`; repeatable, `-` for stdin) instead of calling the API
    #[arg(long, value_name = "FILE", conflicts_with = "item_ids")]
    pub input: Vec<PathBuf>,
    /// The policy gate.
    #[command(flatten)]
    pub gate: GateArgs,
}

/// The title of a report of these sources.
fn title(item_ids: &[String], tasks: &[TaskResults]) -> String {
    let ids: Vec<&str> = if item_ids.is_empty() {
        tasks
            .iter()
            .map(|t| t.item_id.as_str())
            .filter(|id| !id.is_empty())
            .collect()
    } else {
        item_ids.iter().map(String::as_str).collect()
    };
    match ids.as_slice() {
        [] => "Security scan report: saved results".to_owned(),
        [one] => format!("Security scan report: {one}"),
        [first, ..] => format!("Security scan report: {} tasks ({first}, ...)", ids.len()),
    }
}

/// Writes the report.
pub async fn exec(ctx: &mut Ctx, args: ReportArgs) -> CliResult<()> {
    // The policy file is checked before anything is fetched.
    let gate = args.gate.gate()?;
    let item_ids = crate::journal::item_ids_or_journal(&args.item_ids, args.journal.as_deref())?;
    let tasks = if args.input.is_empty() {
        fetch_tasks(ctx, &item_ids, &args.md5s).await?
    } else {
        let mut tasks = Vec::new();
        for path in &args.input {
            tasks.extend(read_saved(path)?);
        }
        tasks
    };
    let apps: Vec<AppFindings> = apps_of(&tasks, &args.md5s);
    let title = title(&item_ids, &tasks);
    let evaluation = gate.as_ref().map(|g| g.evaluate(&apps));
    let decision = evaluation.as_ref().map_or(Ok(()), |e| e.conclude(&apps));
    let text = render(
        args.format,
        &Report::new(&title, &apps).with_evaluation(evaluation.as_ref()),
    );
    let printed = match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::file(path, "write", &e))
            .map(|()| errln!("wrote {} ({} app(s))", path.display(), apps.len())),
        None => ctx.printer.write_str(&text),
    };
    finish(decision, printed)
}
