//! `cargo xtask bench`: run every benchmark of the workspace in one go.
//!
//! The benchmarks themselves live next to the code they measure (`cargo bench -p <crate>`);
//! this subcommand runs them in a fixed order so that the figures in `docs/performance.md`
//! come from one run on one machine:
//!
//! 1. `tc3-sign`: signing next to its hashing floor (ratio printed);
//! 2. `ms-transport`: quota utilization against the emulator and per-call client overhead;
//! 3. `ms-emulator`: requests per second of the emulator;
//! 4. `ms-cli` (only with `--cli`): one `ms scan results` process next to the official tccli,
//!    and the peak memory of a 100,000-app submission (needs Python and PyPI access).

use std::process::Command;

use crate::project_root;

/// One benchmark step: a label and the command that runs it.
struct Step {
    label: &'static str,
    program: &'static str,
    args: &'static [&'static str],
}

const CARGO_STEPS: &[Step] = &[
    Step {
        label: "tc3-sign: signer vs hashing floor",
        program: "cargo",
        args: &["bench", "-p", "tc3-sign"],
    },
    Step {
        label: "ms-transport: quota utilization and client overhead",
        program: "cargo",
        args: &["bench", "-p", "ms-transport"],
    },
    Step {
        label: "ms-emulator: throughput",
        program: "cargo",
        args: &["bench", "-p", "ms-emulator"],
    },
];

const CLI_STEP: Step = Step {
    label: "ms-cli: whole-process call vs tccli, peak memory of 100,000 apps",
    program: "bash",
    args: &["crates/ms-cli/bench/run.sh"],
};

/// Runs `cargo xtask bench [--cli]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut with_cli = false;
    for arg in args {
        match arg.as_str() {
            "--cli" => with_cli = true,
            other => {
                return Err(format!(
                    "bench: unknown argument `{other}` (expected `--cli`)"
                ));
            }
        }
    }
    let mut steps: Vec<&Step> = CARGO_STEPS.iter().collect();
    if with_cli {
        steps.push(&CLI_STEP);
    }
    for step in steps {
        eprintln!(
            "\n==> {}\n    {} {}",
            step.label,
            step.program,
            step.args.join(" ")
        );
        let status = Command::new(step.program)
            .args(step.args)
            .current_dir(project_root())
            .status()
            .map_err(|e| format!("bench: could not start `{}`: {e}", step.program))?;
        if !status.success() {
            return Err(format!("bench: `{}` failed ({status})", step.label));
        }
    }
    Ok(())
}
