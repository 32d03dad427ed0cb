//! The `ms` command: batch security scans of Android apps with Tencent Cloud Mobile
//! Security (service `ms`, version 2018-04-08), any API action by name, and the
//! embedded emulator as the default demo.
//!
//! The binary is a thin wrapper around [`run`]; the library exposes the command tree
//! ([`cli::Cli`]) for tests (`Cli::command().debug_assert()`, help snapshots) and the
//! building blocks (streaming manifests, reports, output formats).
//!
//! Exit codes: 0 success, 1 API or remote error (or apps of a submission not accepted, or
//! scans that failed while `scan wait` / `scan submit --wait` waited),
//! 2 usage or validation error (also a gate that judged no app), 3 network or transport error, 4 the scan results violate
//! the policy (`--fail-on`, `--policy`; see [`error`] and [`policy`]), 130/143 interrupted
//! by SIGINT/SIGTERM.
//!
//! # Cargo features
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `emulator` | on | `ms --emulator` and `ms emulator serve`: links `ms-emulator` (hyper server, tokio-rustls, rcgen). Without it (`cargo build -p ms-cli --no-default-features`) `ms` is a client only: no `emulator` command, and `--emulator` is refused with exit code 2. |
#![warn(missing_docs)]

/// `eprintln!` that never panics: a closed stderr (`ms ... 2>&1 | head`) is ignored.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that never panics (see [`errln!`]); flushes so a prompt shows at once.
macro_rules! errp {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut err = std::io::stderr();
        let _ = write!(err, $($arg)*);
        let _ = err.flush();
    }};
}

pub mod apk;
pub mod cli;
pub mod commands;
pub mod context;
pub mod diff;
pub mod error;
pub mod findings;
pub mod input;
pub mod journal;
pub mod manifest;
pub mod output;
pub mod policy;
pub mod progress;
pub mod raw_results;
pub mod report;
pub mod scan;
pub mod signals;
pub mod sources;
pub mod submission;

use std::ffi::OsString;

use crate::cli::Cli;
use crate::context::Ctx;
use crate::error::{CliError, ErrorKind};

/// Parses the arguments, runs the command and returns the process exit code.
/// Errors are printed to stderr (one or two lines); nothing panics on bad input.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Help and version go to stdout; a closed pipe is not an error.
            let _ = e.print();
            return code;
        }
    };
    init_tracing(cli.global.verbose);
    #[cfg(not(feature = "emulator"))]
    if cli.global.emulator {
        return exit_code_of(Err(context::no_emulator()));
    }
    #[cfg(feature = "emulator")]
    let multi_thread = cli.global.emulator || matches!(cli.command, cli::Command::Emulator(_));
    #[cfg(not(feature = "emulator"))]
    let multi_thread = false;
    let runtime = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return 3;
        }
    };
    let result = runtime.block_on(async move {
        let mut ctx = Ctx::new(cli.global);
        let mut result = commands::exec(&mut ctx, cli.command).await;
        let flushed = ctx.printer.flush();
        if result.is_ok() {
            result = flushed;
        }
        ctx.shutdown().await;
        result
    });
    // Do not wait for lingering background tasks (idle connections, timers).
    runtime.shutdown_background();
    exit_code_of(result)
}

/// Parses the command line into [`Cli`] (as `Cli::try_parse_from`). The clap command tree
/// and the matches are built for this one parse and deliberately not freed: the process ends
/// when the command does, and freeing them was ≈ 6 % of the instructions of a short command
/// such as `ms scan results` (docs/performance.md).
fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    use std::mem::ManuallyDrop;
    let mut command = ManuallyDrop::new(Cli::command());
    let mut matches = ManuallyDrop::new(command.try_get_matches_from_mut(args)?);
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
}

/// The process exit code of a command's result; prints the error (if any) to stderr.
fn exit_code_of(result: Result<(), CliError>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => 0,
        Err(e) => {
            errln!("{e}");
            e.exit_code()
        }
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = match verbose {
        // Quiet by default: errors reach the user as CliError; MS_LOG opts in to logs.
        0 => match std::env::var_os("MS_LOG") {
            Some(_) => match EnvFilter::try_from_env("MS_LOG") {
                Ok(f) => f,
                Err(_) => return,
            },
            None => return,
        },
        1 => EnvFilter::new("info,ms_transport=debug,ms_cli=debug"),
        2 => EnvFilter::new("info,ms_transport=trace,ms_cli=trace,ms_emulator=debug"),
        // Other crates stay at debug: their trace output is not vetted for secrets.
        _ => EnvFilter::new("debug,ms_transport=trace,ms_cli=trace,ms_emulator=trace"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(verbose > 1)
        .try_init();
}
