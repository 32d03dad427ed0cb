//! `ms completions SHELL`: prints a shell completion script.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::context::Ctx;
use crate::error::CliResult;

/// Arguments of `ms completions`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Example: ms completions bash > ~/.local/share/bash-completion/completions/ms"
)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script to stdout.
pub fn exec(ctx: &mut Ctx, args: CompletionsArgs) -> CliResult<()> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "ms", &mut buf);
    ctx.printer.write_str(&String::from_utf8_lossy(&buf))
}
