//! `--help` output is a committed snapshot (regenerate with UPDATE_SNAPSHOTS=1),
//! and clap's own consistency checks pass.

mod common;

use clap::CommandFactory;
use common::Ms;
use ms_cli::cli::Cli;

#[test]
fn command_tree_is_consistent() {
    Cli::command().debug_assert();
}

const PAGES: &[&[&str]] = &[
    &[],
    &["scan"],
    &["scan", "submit"],
    &["scan", "list"],
    &["scan", "results"],
    &["scan", "wait"],
    &["scan", "delete"],
    &["scan", "report"],
    &["scan", "diff"],
    &["call"],
    &["emulator"],
    &["configure"],
    &["completions"],
];

#[test]
fn help_output_matches_the_snapshot() {
    let mut all = String::new();
    for page in PAGES {
        let mut args: Vec<&str> = page.to_vec();
        args.push("--help");
        let out = Ms::new().run(&args).ok();
        all.push_str(&format!("$ ms {}\n", args.join(" ")));
        all.push_str(&out.stdout);
        all.push('\n');
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &all).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != all {
        let first = expected
            .lines()
            .zip(all.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(all.lines().count()));
        panic!(
            "help output differs from {} at line {}:\n  expected: {:?}\n  actual:   {:?}\nregenerate with UPDATE_SNAPSHOTS=1 cargo test -p ms-cli --test help_snapshot",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            all.lines().nth(first)
        );
    }
}

#[test]
fn version_and_completions() {
    let out = Ms::new().run_line("--version").ok();
    assert!(out.stdout.starts_with("ms "));
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Ms::new().run(["completions", shell]).ok();
        assert!(out.stdout.contains("submit"), "{shell}");
    }
}
