//! `ms scan delete APP_SID...`: deletes scan records (DeleteScanInstances), asking
//! for confirmation unless `--yes`.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use ms_model::DeleteScanInstancesRequest;
use serde_json::{Value, json};

use crate::context::{Ctx, transport_error};
use crate::error::{CliError, CliResult};
use crate::output::{Render, Table};

/// Arguments of `ms scan delete`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "AppSids are shown by `ms scan list` (column APP_SID).")]
pub struct DeleteArgs {
    /// AppSid of each record to delete
    #[arg(value_name = "APP_SID", required = true)]
    pub app_sids: Vec<String>,
}

struct Deleted(Vec<String>);

impl Render for Deleted {
    fn json(&self) -> Value {
        json!({"Deleted": self.0})
    }
    fn table(&self) -> Table {
        let mut t = Table::new(["DELETED_APP_SID"]);
        for sid in &self.0 {
            t.push([sid.clone()]);
        }
        t
    }
}

fn confirm(count: usize) -> CliResult<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::usage(format!(
            "refusing to delete {count} record(s) without confirmation"
        ))
        .with_hint("pass --yes to delete without asking"));
    }
    errp!("Delete {count} scan record(s)? This cannot be undone. [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Deletes the records, 20 per request.
pub async fn exec(ctx: &mut Ctx, args: DeleteArgs) -> CliResult<()> {
    let mut sids: Vec<String> = Vec::new();
    for sid in &args.app_sids {
        let sid = sid.trim();
        if sid.is_empty() {
            return Err(CliError::usage("APP_SID: must not be empty"));
        }
        if !sids.iter().any(|s| s == sid) {
            sids.push(sid.to_owned());
        }
    }
    if !ctx.global.yes && !confirm(sids.len())? {
        return Err(CliError::usage("not confirmed; nothing was deleted"));
    }
    let client = ctx.client().await?;
    let mut deleted = Vec::new();
    for chunk in sids.chunks(20) {
        let req = DeleteScanInstancesRequest {
            app_sids: chunk.to_vec(),
        };
        client.send(&req).await.map_err(|e| {
            let done = deleted.len();
            let err = transport_error(e);
            if done > 0 {
                let msg = format!("{} (after {done} record(s) were deleted)", err.message());
                err.with_message(msg)
            } else {
                err
            }
        })?;
        deleted.extend_from_slice(chunk);
    }
    ctx.printer.print(&Deleted(deleted))
}
