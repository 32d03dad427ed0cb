//! One module per command, each with its arguments and its `exec`.

pub mod call;
pub mod completions;
pub mod configure;
pub mod delete;
pub mod diff;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod list;
pub mod report;
pub mod results;
pub mod submit;
pub mod wait;

#[cfg(feature = "emulator")]
use crate::cli::EmulatorCommand;
use crate::cli::{Command, ScanCommand};
use crate::context::Ctx;
use crate::error::CliResult;

/// Runs a parsed command.
pub async fn exec(ctx: &mut Ctx, command: Command) -> CliResult<()> {
    match command {
        Command::Scan(scan) => match scan {
            ScanCommand::Submit(args) => submit::exec(ctx, *args).await,
            ScanCommand::List(args) => list::exec(ctx, args).await,
            ScanCommand::Results(args) => results::exec(ctx, args).await,
            ScanCommand::Wait(args) => wait::exec(ctx, args).await,
            ScanCommand::Delete(args) => delete::exec(ctx, args).await,
            ScanCommand::Report(args) => report::exec(ctx, args).await,
            ScanCommand::Diff(args) => diff::exec(ctx, args).await,
        },
        Command::Call(args) => call::exec(ctx, args).await,
        #[cfg(feature = "emulator")]
        Command::Emulator(EmulatorCommand::Serve(args)) => emulator::serve(args).await,
        Command::Configure(args) => configure::exec(ctx, args),
        Command::Completions(args) => completions::exec(ctx, args),
    }
}
