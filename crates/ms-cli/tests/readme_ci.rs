//! The README's GitHub Actions and GitLab CI examples, run as written: their shell steps
//! are taken from README.md and run with bash against the real `ms` binary (the examples
//! start `ms emulator serve` themselves), on `examples/apps.json` as `build/apps.json` and
//! the README's policy file as `.ms/policy.toml`. Every step must pass except the gate,
//! which exits 4; the reports must be there and readable. And every `ms` command line the
//! docs show (READMEs, docs/, the Examples of `ms --help`) parses: its flags exist.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::workspace_root;

fn readme() -> String {
    std::fs::read_to_string(workspace_root().join("README.md")).unwrap()
}

/// The fenced block of `lang` that follows the first line containing `marker`.
fn block_after(text: &str, marker: &str, lang: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("README has no {marker:?}"));
    let rest = &text[start..];
    let open = format!("```{lang}\n");
    let body = &rest[rest.find(&open).expect("a fenced block") + open.len()..];
    body[..body.find("\n```").expect("the block ends")].to_owned()
}

/// The `run:` steps of a GitHub Actions job: one-line `run: X` and `run: |` blocks.
fn github_steps(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start().trim_start_matches("- ");
        i += 1;
        let Some(run) = trimmed.strip_prefix("run: ") else {
            continue;
        };
        if run.trim() != "|" {
            steps.push(run.to_owned());
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let mut body = Vec::new();
        while i < lines.len() {
            let l = lines[i];
            if !l.trim().is_empty() && l.len() - l.trim_start().len() <= indent {
                break;
            }
            body.push(l.trim());
            i += 1;
        }
        steps.push(body.join("\n"));
    }
    steps
}

/// The `script:` lines of a GitLab CI job (a single-quoted YAML scalar unquoted).
fn gitlab_script(yaml: &str) -> Vec<String> {
    yaml.lines()
        .skip_while(|l| l.trim() != "script:")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(
            |item| match item.strip_prefix('\'').and_then(|i| i.strip_suffix('\'')) {
                Some(quoted) => quoted.replace("''", "'"),
                None => item.to_owned(),
            },
        )
        .collect()
}

/// A CI workspace: the project's manifest and the README's policy, `ms` on the PATH, a
/// HOME of its own (the default journals go there); stops the emulator the steps start.
struct Workspace {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("build")).unwrap();
        std::fs::create_dir_all(dir.path().join(".ms")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::copy(
            workspace_root().join("examples/apps.json"),
            dir.path().join("build/apps.json"),
        )
        .unwrap();
        let policy = block_after(&readme(), "A policy file (`.ms/policy.toml`)", "toml");
        std::fs::write(dir.path().join(".ms/policy.toml"), policy).unwrap();
        let bin = Path::new(env!("CARGO_BIN_EXE_ms")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let env = BTreeMap::from([
            ("PATH".to_owned(), path),
            (
                "HOME".to_owned(),
                dir.path().join("home").display().to_string(),
            ),
            (
                "TENCENTCLOUD_SECRET_ID".to_owned(),
                "AKIDreadmeCiExample".to_owned(),
            ),
            (
                "TENCENTCLOUD_SECRET_KEY".to_owned(),
                "readmeCiExampleKey".to_owned(),
            ),
        ]);
        Workspace { dir, env }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs a shell script here as a CI runner does (`bash -e`, plus `pipefail` for
    /// GitLab); records the PID of a job it leaves in the background. The exit code.
    fn bash(&self, flags: &[&str], script: &str) -> i32 {
        let pid_file = self.path("background.pid");
        let script = format!(
            "trap '[ -z \"$!\" ] || echo $! >> {}' EXIT\n{script}",
            pid_file.display()
        );
        let out = Command::new("timeout")
            .args(["600", "bash", "--noprofile", "--norc"])
            .args(flags)
            .args(["-c", &script])
            .current_dir(self.dir.path())
            .env_clear()
            .envs(&self.env)
            .output()
            .expect("bash runs");
        eprintln!(
            "$ {script}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out.status.code().unwrap_or(-1)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let pids = std::fs::read_to_string(self.path("background.pid")).unwrap_or_default();
        for pid in pids.split_whitespace() {
            let _ = Command::new("kill").arg(pid).status();
        }
    }
}

/// The reports both examples write are there and readable.
fn assert_reports(ws: &Workspace, junit: &Path) {
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path("ms.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["artifacts"].as_array().unwrap().len(), 32);
    let xml = std::fs::read_to_string(junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("32"));
    assert_ne!(
        suite.attribute("failures"),
        Some("0"),
        "the policy fails apps"
    );
}

#[test]
fn the_github_actions_example_runs_as_written() {
    let yaml = block_after(&readme(), "GitHub Actions — the reports", "yaml");
    let steps: Vec<String> = github_steps(&yaml)
        .into_iter()
        .filter(|s| !s.starts_with("cargo install"))
        .collect();
    assert_eq!(
        steps.len(),
        4,
        "emulator, submit, reports, gate: {steps:#?}"
    );
    let mut ws = Workspace::new();
    let (github_env, summary) = (ws.path("github.env"), ws.path("summary.md"));
    std::fs::write(&github_env, "").unwrap();
    ws.env
        .insert("GITHUB_ENV".into(), github_env.display().to_string());
    ws.env
        .insert("GITHUB_STEP_SUMMARY".into(), summary.display().to_string());
    let mut codes = Vec::new();
    for step in &steps {
        codes.push(ws.bash(&["-e"], step));
        // Variables a step appends to $GITHUB_ENV are set for the next ones.
        for line in std::fs::read_to_string(&github_env).unwrap().lines() {
            if let Some((k, v)) = line.split_once('=') {
                ws.env.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    assert_eq!(
        codes,
        [0, 0, 0, 4],
        "every step passes but the gate, which fails on the policy"
    );
    assert!(ws.env["MS_ENDPOINT"].starts_with("http://127.0.0.1:"));
    assert_reports(&ws, &ws.path("ms-junit.xml"));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("32 app(s) scanned"), "{md}");
}

#[test]
fn the_gitlab_ci_example_runs_as_written() {
    let yaml = block_after(&readme(), "GitLab CI — JUnit", "yaml");
    let script: Vec<String> = gitlab_script(&yaml)
        .into_iter()
        .filter(|s| !s.starts_with("cargo install"))
        .collect();
    assert!(script.len() >= 5, "{script:#?}");
    let ws = Workspace::new();
    // GitLab runs the lines in one shell and stops at the first that fails: the gate, last.
    let code = ws.bash(&["-e", "-o", "pipefail"], &script.join("\n"));
    assert_eq!(code, 4, "the job fails on the policy, at its last line");
    for artifact in ["results.json", "ms.sarif", "ms-report.html", "ms-junit.xml"] {
        assert!(ws.path(artifact).is_file(), "{artifact} was written");
    }
    assert_reports(&ws, &ws.path("ms-junit.xml"));
}

/// Splits a shell command line into words (single and double quotes; no expansion).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The `ms` commands of a shell line: comments cut, split at `&&`, `||`, `;` and `|`,
/// redirections and a trailing `&` dropped; segments with command substitutions skipped.
fn ms_commands(line: &str) -> Vec<Vec<String>> {
    let line = line.split(" #").next().unwrap_or_default();
    let mut out = Vec::new();
    for segment in line.split("&&").flat_map(|s| s.split("||")) {
        for part in segment.split([';', '|']) {
            let part = part.trim().trim_end_matches('&').trim();
            if !part.starts_with("ms ") || part.contains("$(") || part.contains("<(") {
                continue;
            }
            let mut words = Vec::new();
            let mut iter = shell_words(part).into_iter();
            while let Some(w) = iter.next() {
                if matches!(w.as_str(), ">" | "2>" | "<" | ">>") {
                    iter.next();
                } else if !(w.starts_with('>') || w.starts_with("2>")) {
                    words.push(w);
                }
            }
            out.push(words);
        }
    }
    out
}

/// The lines of the fenced code blocks of a Markdown text, without YAML list dashes,
/// `run:` keys and `$ ` prompts.
fn code_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            let l = line.trim_start();
            let l = l.strip_prefix("- ").unwrap_or(l);
            let l = l.strip_prefix("run: ").unwrap_or(l);
            lines.push(l.strip_prefix("$ ").unwrap_or(l).to_owned());
        }
    }
    lines
}

/// The `after_help` texts of every command (their Examples sections).
fn help_examples(cmd: &clap::Command, out: &mut Vec<String>) {
    if let Some(help) = cmd.get_after_help() {
        out.extend(help.to_string().lines().map(|l| l.trim().to_owned()));
    }
    for sub in cmd.get_subcommands() {
        help_examples(sub, out);
    }
}

#[test]
fn every_ms_command_the_docs_show_parses() {
    use clap::{CommandFactory, Parser};
    let root = workspace_root();
    let mut sources: Vec<(String, Vec<String>)> = Vec::new();
    let mut docs = vec![root.join("README.md")];
    for dir in ["docs", "crates"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let readme = path.join("README.md");
            if path.extension().is_some_and(|e| e == "md") {
                docs.push(path);
            } else if readme.is_file() {
                docs.push(readme);
            }
        }
    }
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        sources.push((doc.display().to_string(), code_lines(&text)));
    }
    let mut examples = Vec::new();
    help_examples(&ms_cli::cli::Cli::command(), &mut examples);
    sources.push(("`ms --help` examples".to_owned(), examples));

    let mut checked = 0;
    let mut broken = Vec::new();
    for (source, lines) in &sources {
        for line in lines {
            for words in ms_commands(line) {
                checked += 1;
                if let Err(e) = ms_cli::cli::Cli::try_parse_from(&words) {
                    let first = e.to_string().lines().next().unwrap_or_default().to_owned();
                    broken.push(format!("{source}: {line}\n    {first}"));
                }
            }
        }
    }
    assert!(checked > 40, "the docs show {checked} ms commands");
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
