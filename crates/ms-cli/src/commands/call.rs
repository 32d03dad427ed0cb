//! `ms call ACTION`: any of the 27 actions by name, parameters as JSON, validated
//! against the API model before anything is sent (like `tccli ms ACTION --cli-input-json`).

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use crate::context::{Ctx, transport_error};
use crate::error::{CliError, CliResult};
use crate::output::{OutputFormat, Render, Table};

/// Arguments of `ms call`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ms call --list
  ms call DescribeScanResults --json '{\"ItemId\": \"...\"}'
  echo '{\"Limit\": 5}' | ms call DescribeScanInstances --input-json -

The answer is the API's Response object, printed as JSON (the default for `ms call`);
-o table shows its fields and a table per list; -o text prints one `Path.To.Field<TAB>value`
line per value.")]
pub struct CallArgs {
    /// The action, e.g. DescribeScanInstances (see --list)
    #[arg(value_name = "ACTION", required_unless_present = "list")]
    pub action: Option<String>,
    /// Parameters as a JSON object
    #[arg(long, value_name = "JSON", conflicts_with = "input_json")]
    pub json: Option<String>,
    /// Read the parameters from a JSON file (`-` for standard input)
    #[arg(long, value_name = "FILE")]
    pub input_json: Option<PathBuf>,
    /// List the actions and exit
    #[arg(long, conflicts_with_all = ["action", "json", "input_json", "dry_run"])]
    pub list: bool,
    /// Validate the parameters and print them without sending anything
    #[arg(long)]
    pub dry_run: bool,
}

struct ActionList;

impl Render for ActionList {
    fn json(&self) -> Value {
        Value::Array(
            ms_model::ACTIONS
                .iter()
                .map(|a| {
                    json!({
                        "Action": a.name,
                        "Idempotent": a.idempotent,
                        "ScanWorkflow": a.scan_workflow,
                        "Summary": a.summary,
                    })
                })
                .collect(),
        )
    }
    fn table(&self) -> Table {
        let mut t = Table::new(["ACTION", "KIND", "SUMMARY"]);
        for a in ms_model::ACTIONS {
            let kind = match (a.scan_workflow, a.idempotent) {
                (true, true) => "scan, read",
                (true, false) => "scan, write",
                (false, true) => "read",
                (false, false) => "write",
            };
            t.push([a.name.to_owned(), kind.to_owned(), a.summary.to_owned()]);
        }
        t
    }
}

/// The action named `name` (case-insensitive), or a usage error suggesting the closest.
pub fn find_action(name: &str) -> CliResult<&'static ms_model::ActionInfo> {
    if let Some(a) = ms_model::action_info(name) {
        return Ok(a);
    }
    if let Some(a) = ms_model::ACTIONS
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
    {
        return Ok(a);
    }
    let best = ms_model::ACTIONS
        .iter()
        .map(|a| {
            (
                edit_distance(&a.name.to_ascii_lowercase(), &name.to_ascii_lowercase()),
                a.name,
            )
        })
        .min();
    let err = CliError::usage(format!("unknown action {name:?}"));
    Err(match best {
        Some((d, n)) if d <= 4 => err.with_hint(format!(
            "did you mean {n}? `ms call --list` lists the 27 actions"
        )),
        _ => err.with_hint("`ms call --list` lists the 27 actions"),
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn read_params(args: &CallArgs) -> CliResult<Value> {
    let (text, origin) = if let Some(text) = &args.json {
        (text.clone(), "--json".to_owned())
    } else if let Some(path) = &args.input_json {
        if path.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                CliError::usage(format!("cannot read parameters from standard input: {e}"))
            })?;
            (s, "standard input".to_owned())
        } else {
            let s = std::fs::read_to_string(path).map_err(|e| CliError::file(path, "read", &e))?;
            (s, path.display().to_string())
        }
    } else {
        return Ok(json!({}));
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!("{origin}: invalid JSON: {e}"))
            .with_hint("parameters are one JSON object, e.g. '{\"ItemId\": \"...\"}'")
    })?;
    if !value.is_object() {
        return Err(CliError::usage(format!(
            "{origin}: expected a JSON object of parameters"
        )));
    }
    Ok(value)
}

/// Runs the action.
pub async fn exec(ctx: &mut Ctx, args: CallArgs) -> CliResult<()> {
    if args.list {
        return ctx.printer.print(&ActionList);
    }
    let name = args.action.as_deref().unwrap_or_default();
    let action = find_action(name)?;
    let params = read_params(&args)?;
    ms_model::validate_json(action.name, &params).map_err(|errors| {
        let list: Vec<String> = errors.0.iter().map(|v| v.to_string()).collect();
        CliError::usage(format!(
            "{}: invalid parameters: {}",
            action.name,
            list.join("; ")
        ))
        .with_hint(format!(
            "see the parameters of {} in the API reference (docs/api)",
            action.name
        ))
    })?;
    if args.dry_run {
        return ctx
            .printer
            .print_json(&json!({"Action": action.name, "Parameters": params}));
    }
    let client = ctx.client().await?;
    let response = client
        .send_json(action.name, action.idempotency(), &params)
        .await
        .map_err(transport_error)?;
    print_answer(ctx, &response)
}

/// Prints an answer: JSON as-is, text as `Path.To.Field<TAB>value` lines (the API's
/// flattened names), table as a FIELD/VALUE table plus a table per array of objects.
fn print_answer(ctx: &mut Ctx, response: &Value) -> CliResult<()> {
    // The answer is JSON unless another format was asked for.
    match ctx.global.output.unwrap_or(OutputFormat::Json) {
        OutputFormat::Json | OutputFormat::Jsonl => ctx.printer.print_json(response),
        OutputFormat::Text => {
            for (path, value) in crate::output::flatten_json(response) {
                let value = value.replace(['\t', '\n', '\r'], " ");
                ctx.printer.line(&format!("{path}\t{value}"))?;
            }
            ctx.printer.flush()
        }
        OutputFormat::Table => {
            let mut text = String::new();
            for (i, (name, table)) in crate::output::json_tables(response).into_iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                if let Some(name) = name {
                    text.push_str(&format!("{name} ({}):\n", table.rows.len()));
                }
                text.push_str(&table.render());
            }
            ctx.printer.write_str(&text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_works() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
