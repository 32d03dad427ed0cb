//! `ms emulator serve`: the same server and options as the `ms-emulator` binary.

use crate::error::{CliError, CliResult};

/// Runs the emulator until interrupted.
pub async fn serve(args: ms_emulator::serve::ServeArgs) -> CliResult<()> {
    ms_emulator::serve::run(args).await.map_err(|e| {
        let hint = match &e {
            ms_emulator::Error::State { .. } => {
                "--state takes the path of the emulator's state file (created if missing): an SQLite file of `ms emulator serve` or the JSON of earlier versions, not held by another emulator, on a disk with room"
            }
            ms_emulator::Error::Bind { .. } => {
                "is the address in use or not this machine's? --listen 127.0.0.1:0 picks a free port"
            }
            _ => "check the options (`ms emulator serve --help`)",
        };
        CliError::usage(format!("emulator: {e}")).with_hint(hint)
    })
}
