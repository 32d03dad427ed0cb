//! `ms-emulator`: a local emulator of Tencent Cloud's ms scan workflow.

use clap::Parser;

/// A local, strict emulator of Tencent Cloud's Mobile Security (ms 2018-04-08) scan workflow.
///
/// Prints the base URL as the first line on stdout, then serves until SIGINT/SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "ms-emulator", version)]
struct Cli {
    #[command(flatten)]
    serve: ms_emulator::serve::ServeArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MS_EMULATOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ms-emulator: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ms_emulator::serve::run(cli.serve)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ms-emulator: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
