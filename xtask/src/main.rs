//! Project automation, run as `cargo xtask <command>`.
//!
//! One module per subcommand:
//! - `codegen` — parse the API tables under `docs/api/` and write `crates/ms-model/src/generated/`
//!   (`cargo xtask codegen`, or `cargo xtask codegen --check` to verify the generated code is fresh).
//! - `bench` — run every benchmark of the workspace in one go (`cargo xtask bench [--cli] [--shared]`).

mod bench;
mod codegen;
mod tidy;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check]   regenerate crates/ms-model/src/generated/ from docs/api/
                      (--check: fail if a generated file is stale, write nothing)
  bench [--cli] [--shared]
                      run every benchmark (tc3-sign, ms-transport, ms-emulator);
                      --cli adds the whole-process comparison with tccli (and --shared);
                      --shared adds many `ms scan submit` processes sharing one quota
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}
