//! The `xtask` binary: exit codes and messages.

use std::process::Command;

fn xtask(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn codegen_check_passes_on_the_committed_tree() {
    let (code, stdout, stderr) = xtask(&["codegen", "--check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("generated files are up to date"),
        "{stdout}"
    );
}

#[test]
fn bad_arguments_exit_non_zero_with_a_message() {
    let (code, _, stderr) = xtask(&["codegen", "--chek"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: codegen: unknown argument `--chek`"),
        "{stderr}"
    );
    let (code, _, stderr) = xtask(&["frobnicate"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: unknown command `frobnicate`"),
        "{stderr}"
    );
    let (code, stdout, _) = xtask(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("codegen [--check]"), "{stdout}");
}
