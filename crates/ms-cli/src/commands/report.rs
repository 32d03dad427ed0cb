//! `ms scan report ITEM_ID --format md|html`: a readable report of a scan task.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::report::{AppFindings, ReportFormat, render};
use crate::scan::fetch_results;

/// Arguments of `ms scan report`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ms scan report ITEM_ID --format html --out report.html
  ms scan results ITEM_ID -o json > results.json && ms scan report --input results.json")]
pub struct ReportArgs {
    /// The task's ItemId
    #[arg(value_name = "ITEM_ID", required_unless_present = "input")]
    pub item_id: Option<String>,
    /// Report format
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only the apps with these MD5s (repeatable)
    #[arg(long = "md5", value_name = "MD5", value_parser = crate::commands::submit::parse_md5)]
    pub md5s: Vec<String>,
    /// Build the report from saved `ms scan results -o json` output instead of calling the API
    #[arg(long, value_name = "FILE", conflicts_with = "item_id")]
    pub input: Option<PathBuf>,
}

/// ScanSetInfo objects from saved results: one task object, an array of task objects,
/// or a bare API Response.
fn scan_sets_from(value: &Value) -> Option<Vec<Value>> {
    let value = value.get("Response").unwrap_or(value);
    match value {
        Value::Object(o) => o.get("ScanSet").and_then(Value::as_array).cloned(),
        Value::Array(tasks) => {
            let mut out = Vec::new();
            for t in tasks {
                out.extend(t.get("ScanSet")?.as_array()?.iter().cloned());
            }
            Some(out)
        }
        _ => None,
    }
}

/// Writes the report.
pub async fn exec(ctx: &mut Ctx, args: ReportArgs) -> CliResult<()> {
    let (title, scan_set) = if let Some(path) = &args.input {
        let text = std::fs::read_to_string(path).map_err(|e| CliError::file(path, "read", &e))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| CliError::usage(format!("{}: invalid JSON: {e}", path.display())))?;
        let sets = scan_sets_from(&value).ok_or_else(|| {
            CliError::usage(format!("{}: no ScanSet found", path.display()))
                .with_hint("save results with `ms scan results ITEM_ID -o json > FILE`")
        })?;
        let id = value
            .get("ItemId")
            .and_then(Value::as_str)
            .unwrap_or("saved results");
        (format!("Security scan report: {id}"), sets)
    } else {
        let item_id = args.item_id.clone().unwrap_or_default();
        let client = ctx.client().await?;
        let results = fetch_results(&client, &item_id, &args.md5s).await?;
        (format!("Security scan report: {item_id}"), results.scan_set)
    };
    let apps: Vec<AppFindings> = scan_set
        .iter()
        .map(AppFindings::from_json)
        .filter(|a| args.md5s.is_empty() || args.md5s.contains(&a.md5))
        .collect();
    let text = render(args.format, &title, &apps);
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| CliError::file(path, "write", &e))?;
            errln!("wrote {} ({} app(s))", path.display(), apps.len());
            Ok(())
        }
        None => ctx.printer.write_str(&text),
    }
}
