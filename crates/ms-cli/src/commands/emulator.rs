//! `ms emulator serve`: the same server and options as the `ms-emulator` binary.

use crate::error::{CliError, CliResult};

/// Runs the emulator until interrupted.
pub async fn serve(args: ms_emulator::serve::ServeArgs) -> CliResult<()> {
    ms_emulator::serve::run(args).await.map_err(|e| {
        CliError::usage(format!("emulator: {e}"))
            .with_hint("check the listen address and the options (`ms emulator serve --help`)")
    })
}
