//! The README's GitHub Actions and GitLab CI examples, run as written: their shell steps
//! are taken from README.md and run with bash against the real `ms` binary (the examples
//! start `ms emulator serve` themselves), on `examples/apps.json` as `build/apps.json` and
//! the README's policy file as `.ms/policy.toml`. Every step must pass except the gate,
//! which exits 4; the reports must be there and readable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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

/// The `script:` lines of a GitLab CI job.
fn gitlab_script(yaml: &str) -> Vec<String> {
    yaml.lines()
        .skip_while(|l| l.trim() != "script:")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .filter_map(|l| l.trim().strip_prefix("- ").map(str::to_owned))
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
