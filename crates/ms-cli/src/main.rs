//! The `ms` binary; see the `ms_cli` library for the implementation.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(ms_cli::run(std::env::args_os()))
}
