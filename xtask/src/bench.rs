//! `cargo xtask bench`: run every benchmark of the workspace in one go.
//!
//! The benchmarks themselves live next to the code they measure (`cargo bench -p <crate>`);
//! this subcommand runs them in a fixed order so that the figures in `docs/performance.md`
//! come from one run on one machine:
//!
//! 1. `tc3-sign`: signing next to its hashing floor (ratio printed);
//! 2. `ms-transport`: quota utilization against the emulator and per-call client overhead;
//! 3. `ms-transport` with the `redis` feature: the shared rate limiter's cost per call on
//!    loopback (starts its own redis-server);
//! 4. `ms-emulator`: requests per second of the emulator;
//! 5. `ms-cli` (only with `--cli`): one `ms scan results` process next to the official tccli,
//!    and the peak memory of a 100,000-app submission (needs Python and PyPI access);
//! 6. `ms-cli` (with `--cli` or `--shared`): 3 and 8 concurrent `ms scan submit` processes
//!    against one emulator, with and without a shared Redis limiter (needs redis-server).

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
        label: "ms-transport: shared rate limiter (Redis) cost per call",
        program: "cargo",
        args: &[
            "bench",
            "-p",
            "ms-transport",
            "--features",
            "redis",
            "--bench",
            "shared_limiter",
        ],
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

const SHARED_STEP: Step = Step {
    label: "ms-cli: many `ms scan submit` processes, one quota (with and without Redis)",
    program: "bash",
    args: &["crates/ms-cli/bench/shared_rate_limit.sh"],
};

/// Runs `cargo xtask bench [--cli] [--shared]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut with_cli = false;
    let mut with_shared = false;
    for arg in args {
        match arg.as_str() {
            "--cli" => with_cli = true,
            "--shared" => with_shared = true,
            other => {
                return Err(format!(
                    "bench: unknown argument `{other}` (expected `--cli` or `--shared`)"
                ));
            }
        }
    }
    let mut steps: Vec<&Step> = CARGO_STEPS.iter().collect();
    if with_cli {
        steps.push(&CLI_STEP);
    }
    if with_cli || with_shared {
        steps.push(&SHARED_STEP);
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
