//! Exact accounting, the run journal, resumption and reconciliation, through the built `ms`
//! binary against `ms emulator serve` (a separate process on a free port): the quota cut in
//! the middle of a chunk, inputs that can be read only once, `kill -9` at several moments,
//! injected faults, a closed stdout, signals. Counted from the emulator's own listing.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    Batch, Ms, Run, Serve, Spawned, WAIT_JSON, assert_each_once, finish, manifest_of as manifest,
    md5_of, signal, spawn, submit_args,
};
use serde_json::Value;

#[test]
fn forty_apps_against_a_quota_of_thirty_name_the_ten_not_accepted() {
    let emu = Serve::start(&["--quota", "30", "--rate-limit", "0"]);
    let batch = Batch::new(1, 40);
    let submit = || emu.ms().run(batch.submit(&["-o", "json"]));
    let out = submit().expect_code(1);
    out.assert_stderr("10 of 40 app(s) not accepted (10 not accepted by the service)");
    let v = out.json();
    assert_eq!(v["Apps"], 40);
    assert_eq!(v["Submitted"], 30);
    assert_eq!(v["States"]["not_accepted"], 10);
    let accepted: Vec<&str> = v["Tasks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["AppMd5s"].as_array().unwrap())
        .map(|m| m.as_str().unwrap())
        .collect();
    let left = v["Unaccepted"].as_array().unwrap();
    assert_eq!((accepted.len(), left.len()), (30, 10));
    for a in left {
        assert_eq!(a["State"], "not_accepted");
        assert!(a["ItemId"].is_string(), "the task that left it out: {a}");
        assert!(!accepted.contains(&a["AppMd5"].as_str().unwrap()));
    }
    let mut everyone: Vec<&str> = accepted.clone();
    everyone.extend(left.iter().map(|a| a["AppMd5"].as_str().unwrap()));
    everyone.sort_unstable();
    everyone.dedup();
    assert_eq!(everyone.len(), 40, "every app exactly once in the output");
    let held = emu.held();
    assert_eq!(held.len(), 30);
    assert!(accepted.iter().all(|m| held.get(*m) == Some(&1)));

    // Again with the journal: the 30 are not sent again, the 10 are (and the quota, used
    // up, refuses them with its code).
    let out = submit().expect_code(1);
    let v = out.json();
    assert_eq!(v["Submitted"], 30);
    assert_eq!(v["States"]["failed"], 10);
    assert_eq!(v["Unaccepted"][0]["Code"], "LimitExceeded");
    assert_eq!(emu.held().len(), 30);
}

#[test]
fn inputs_read_once_pipes_fifos_and_stdin_submit_every_app() {
    let emu = Serve::start(&["--rate-limit", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let ms = env!("CARGO_BIN_EXE_ms");

    // Process substitution: bash gives /dev/fd/N, a pipe.
    let m = manifest(dir.path(), "a.json", 1000, 45);
    let script = format!(
        "'{ms}' scan submit --manifest <(cat '{}') -o json",
        m.display()
    );
    let v = emu.ms().bash(&script).ok().json();
    assert_eq!(v["Submitted"], 45);

    // A named FIFO, written by another thread.
    let fifo = dir.path().join("apps.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let text = std::fs::read(manifest(dir.path(), "b.json", 2000, 45)).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
    };
    let out = emu.ms().run(submit_args(&fifo, &["-o", "json"])).ok();
    writer.join().unwrap();
    assert_eq!(out.json()["Submitted"], 45);

    // Standard input.
    let text = std::fs::read(manifest(dir.path(), "c.json", 3000, 45)).unwrap();
    let out = emu
        .ms()
        .stdin(text)
        .run_line("scan submit --manifest - -o json")
        .ok();
    assert_eq!(out.json()["Submitted"], 45);

    let held = emu.held();
    assert_eq!(held.len(), 135);
    for from in [1000, 2000, 3000] {
        assert_each_once(&held, from, 45);
    }
}

/// Runs `ms scan submit` with the journal until it exits 0 (at most `runs` times); returns
/// the JSON Lines of every run.
fn run_until_done(emu: &Serve, home: &Path, args: &[&str], runs: usize) -> Vec<Value> {
    let mut lines = Vec::new();
    for attempt in 1..=runs {
        let out = emu.ms().env("HOME", home).run(args);
        lines.extend(out.json_lines());
        if out.code == 0 {
            return lines;
        }
        assert_eq!(out.code, 1, "run {attempt}: {}", out.stderr);
    }
    panic!("still not done after {runs} runs");
}

#[test]
fn kill_9_at_several_moments_then_resume_until_done_holds_each_app_once() {
    // 2,000 apps at 20 requests a second (the emulator enforces it too): 100 requests.
    let emu = Serve::start(&["--quota", "100000"]);
    let batch = Batch::new(1, 2000);
    let home = batch.home();
    let args = batch.submit(&["-o", "jsonl"]);
    let mut killed_mid_run = 0;
    let mut outputs = Vec::new();
    for (run, millis) in [150, 900, 1700, 400, 2600].into_iter().enumerate() {
        let out = batch.path().join(format!("run{run}.jsonl"));
        let mut child = spawn(
            emu.command(&home)
                .args(&args)
                .stdout(std::fs::File::create(&out).unwrap())
                .stderr(Stdio::null()),
        );
        outputs.push(out);
        std::thread::sleep(Duration::from_millis(millis));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    assert!(
        killed_mid_run >= 3,
        "only {killed_mid_run} kills hit a running submission"
    );
    let mut lines: Vec<Value> = outputs
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            // A killed run may leave half a line.
            text.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .collect::<Vec<_>>()
        })
        .collect();
    lines.extend(run_until_done(&emu, &home, &args, 6));
    // Chunks claimed by a killed run were reconciled before anything was sent again.
    assert!(lines.iter().any(|l| l["Event"] == "reconciling"));
    let summary = lines.last().unwrap();
    assert_eq!(summary["Event"], "summary");
    assert_eq!(summary["States"]["accepted"], 2000);
    assert_each_once(&emu.held(), 1, 2000);
}

#[test]
fn injected_faults_then_resume_until_done_holds_each_app_once() {
    let emu = Serve::start(&[
        "--quota",
        "100000",
        "--rate-limit",
        "0",
        "--fault-drop",
        "0.05",
        "--fault-5xx",
        "0.05",
        "--fault-truncate",
        "0.05",
        "--fault-malformed",
        "0.05",
        "--fault-seed",
        "7",
    ]);
    let batch = Batch::new(1, 2000);
    let args = batch.submit_after(&["--rate-limit", "100000"], &["-o", "jsonl"]);
    let lines = run_until_done(&emu, batch.path(), &args, 8);
    let chunks: Vec<&Value> = lines.iter().filter(|l| l["Event"] == "chunk").collect();
    let unknown = chunks.iter().filter(|c| c["Outcome"] == "unknown").count();
    let found = chunks.iter().filter(|c| c["Reconciled"] == true).count();
    let not_processed = chunks
        .iter()
        .filter(|c| c["Outcome"] == "not_processed")
        .count();
    // Lost replies happened; some had been processed (found by listing the scans), some
    // not (sent again).
    assert!(
        unknown > 0 && found > 0 && not_processed > 0,
        "{unknown} {found} {not_processed}"
    );
    assert_each_once(&emu.held(), 1, 2000);
}

#[test]
fn a_closed_stdout_does_not_turn_a_failed_submission_into_success() {
    let emu = Serve::start(&["--quota", "30", "--rate-limit", "0"]);
    let batch = Batch::new(1, 40);
    let m = &batch.manifest;
    for format in ["json", "jsonl", "table"] {
        let mut child = spawn(
            emu.command(batch.path())
                .args(submit_args(m, &["-o", format]))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        drop(child.stdout.take()); // `| true`
        let out = finish(child);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(stderr.contains("not accepted"), "{stderr}");
    }
}

/// Starts a 2,000-app submission at 20 requests a second and waits until its first chunk
/// is accepted (JSON Lines on stdout).
fn start_slow_submission(
    emu: &Serve,
    home: &Path,
    args: &[&str],
) -> (Spawned, BufReader<std::process::ChildStdout>) {
    let mut child = spawn(
        emu.command(home)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 && !line.contains("\"accepted\"") {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no chunk accepted"
        );
        line.clear();
    }
    (child, stdout)
}

#[test]
fn sigint_and_sigterm_stop_gracefully_and_the_printed_command_resumes() {
    let emu = Serve::start(&["--quota", "100000"]);
    let batch = Batch::new(1, 2000);
    let home = batch.home();
    let args = batch.submit(&["-o", "jsonl"]);
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let (child, mut stdout) = start_slow_submission(&emu, &home, &args);
        signal(&child, name);
        let reader = std::thread::spawn(move || {
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
            rest
        });
        let out = finish(child);
        let rest = reader.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{name}: {stderr}");
        assert!(stderr.contains("interrupted:"), "{stderr}");
        assert!(
            stderr.contains(&format!("--journal {}", batch.journal.display())),
            "{stderr}"
        );
        let summary: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
        assert_eq!(summary["Interrupted"], true);
        assert_eq!(
            summary["States"]["sending"], 0,
            "in-flight requests were finished"
        );
    }
    // Twice: the second signal quits at once, even with stdout blocked (nobody reads it
    // here); the journal stays consistent.
    let (child, _stdout) = start_slow_submission(&emu, &home, &args);
    signal(&child, "INT");
    // Apart, or the system delivers them as one.
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    assert_eq!(finish(child).status.code(), Some(130));
    // The command printed to resume (input left out: the journal holds it) finishes the run.
    let resume = ["scan", "submit", "--journal", batch.j(), "-o", "jsonl"];
    let lines = run_until_done(&emu, &home, &resume, 3);
    assert_eq!(lines.last().unwrap()["States"]["accepted"], 2000);
    assert_each_once(&emu.held(), 1, 2000);
}

#[test]
fn a_journal_refuses_another_input_or_other_settings() {
    let emu = Serve::start(&["--rate-limit", "0"]);
    let batch = Batch::new(1, 25);
    let b = manifest(batch.path(), "b.json", 1, 26);
    let j = batch.j();
    let out: Run = emu.ms().run(batch.submit(&["-o", "jsonl"])).ok();
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.contains("\"chunk\""))
            .count(),
        2
    );
    let out = emu
        .ms()
        .run(submit_args(&b, &["--journal", j]))
        .expect_code(2);
    out.assert_stderr("made from another input");
    let out = emu
        .ms()
        .run(["scan", "submit", "--journal", j, "--scan-types", "VULSCAN"])
        .expect_code(2);
    out.assert_stderr("scan types");
    // The same input again: nothing to send, success.
    let out = emu.ms().run(batch.submit(&["-o", "jsonl"])).ok();
    assert!(!out.stdout.contains("\"chunk\""), "{}", out.stdout);
    assert_each_once(&emu.held(), 1, 25);
}

#[test]
fn wait_streams_results_into_the_journal_and_wait_results_report_take_it() {
    let emu = Serve::start(&["--rate-limit", "0", "--scan-seconds", "0.2"]);
    let batch = Batch::new(1, 45);
    let (dir, journal, j) = (&batch.dir, &batch.journal, batch.j());
    // --wait with JSON Lines: a line per chunk, then a line per task's results as it finishes.
    let out = emu
        .ms()
        .run(batch.submit(&["--wait", "--poll-interval", "0.2", "-o", "jsonl"]))
        .ok();
    let lines = out.json_lines();
    let results: Vec<&Value> = lines.iter().filter(|l| l["Event"] == "results").collect();
    assert_eq!(results.len(), 3);
    assert_eq!(
        results
            .iter()
            .map(|r| r["ScanSet"].as_array().unwrap().len())
            .sum::<usize>(),
        45
    );
    // The results are in the journal.
    let stored = ms_journal::SqliteJournal::open_read_only(journal).unwrap();
    let ids = stored.item_ids_in_order().unwrap();
    assert_eq!(ids.len(), 3);
    for id in &ids {
        let set: Value = serde_json::from_str(&stored.results(id).unwrap().unwrap()).unwrap();
        assert!(!set.as_array().unwrap().is_empty());
    }
    drop(stored);

    // The run, from its journal.
    let waited = emu
        .ms()
        .run([
            "scan",
            "wait",
            "--journal",
            j,
            "--poll-interval",
            "0.2",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let waited = waited.as_array().unwrap();
    assert_eq!(waited.len(), 3);
    assert_eq!(
        waited
            .iter()
            .map(|t| t["Completed"].as_u64().unwrap())
            .sum::<u64>(),
        45
    );
    let listed = emu
        .ms()
        .run(["scan", "results", "--journal", j, "-o", "json"])
        .ok()
        .json();
    let tasks = listed.as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    let report = emu
        .ms()
        .run(["scan", "report", "--journal", j, "--format", "md"])
        .ok();
    report.assert_stdout("3 tasks");

    // -o json with --wait: one document, the results streamed into it.
    let m2 = manifest(dir.path(), "more.json", 100, 25);
    let v = emu.ms().run(submit_args(&m2, &WAIT_JSON)).ok().json();
    assert_eq!(v["Submitted"], 25);
    assert_eq!(v["Tasks"].as_array().unwrap().len(), 2);
    assert_eq!(v["Results"].as_array().unwrap().len(), 2);

    // A journal of no accepted app has no ItemId to wait for.
    let out = emu
        .ms()
        .run([
            "scan",
            "wait",
            "--journal",
            dir.path().join("nope.db").to_str().unwrap(),
        ])
        .expect_code(2);
    out.assert_stderr("nope.db");
}

#[test]
fn a_huge_csv_record_or_an_unterminated_json_string_is_refused_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(3 << 20);
    let csv = dir.path().join("apps.csv");
    std::fs::write(
        &csv,
        format!(
            "url,md5\nhttps://e/a.apk,{}\n\"https://e/{huge}\n",
            md5_of(1)
        ),
    )
    .unwrap();
    let json = dir.path().join("apps.json");
    std::fs::write(
        &json,
        format!(
            "[\n{{\"url\": \"https://e/a.apk\", \"md5\": \"{}\"}},\n{{\"url\": \"{huge}",
            md5_of(1)
        ),
    )
    .unwrap();
    for (path, line) in [(&csv, 3), (&json, 3)] {
        let out = Ms::offline().run(submit_args(path, &[])).expect_code(2);
        out.assert_stderr(&format!(
            ":{line}: app #2: an app entry is larger than 1 MiB"
        ));
        assert!(out.stderr.len() < 1000, "the entry is not echoed");
    }
}

#[test]
fn the_journal_reads_with_the_sqlite3_shell_as_documented() {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "sqlite3 is missing (.ci/run installs it)"
        );
        eprintln!("skipped: no sqlite3 shell on this machine");
        return;
    }
    let emu = Serve::start(&["--quota", "30", "--rate-limit", "0"]);
    let batch = Batch::new(1, 40);
    emu.ms().run(batch.submit(&[])).expect_code(1);
    let query = |sql: &str| {
        let out = Command::new("sqlite3")
            .arg(&batch.journal)
            .arg(sql)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // The queries of docs/journal.md.
    assert_eq!(
        query("SELECT state, count(*) FROM apps GROUP BY state ORDER BY state"),
        "accepted|30\nnot_accepted|10\n"
    );
    assert_eq!(
        query("SELECT value FROM meta WHERE key = 'schema_version'"),
        "1\n"
    );
    assert_eq!(
        query("SELECT count(DISTINCT item_id) FROM apps WHERE state = 'accepted'"),
        "2\n"
    );
    let left = query("SELECT position, md5, url, code FROM apps WHERE state != 'accepted'");
    assert_eq!(left.lines().count(), 10);
    assert!(left.lines().all(|l| l.ends_with("|NotAccepted")), "{left}");
    assert_eq!(query("SELECT outcome FROM runs"), "incomplete\n");
}

#[test]
fn sigterm_while_waiting_exits_143_and_says_how_to_wait_again() {
    let emu = Serve::start(&["--rate-limit", "0"]);
    let batch = Batch::new(1, 5);
    let journal = &batch.journal;
    for (name, code) in [("TERM", 143), ("INT", 130)] {
        let mut child = spawn(
            emu.command(batch.path())
                .args(batch.submit(&["--wait", "--poll-interval", "0.2"]))
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        );
        // Scans take an hour here: the command is waiting once it says so.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let mut line = String::new();
        while !line.starts_with("waiting for the scans") {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "{seen}");
            seen.push_str(&line);
        }
        signal(&child, name);
        let reader = std::thread::spawn(move || {
            std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
            seen
        });
        let status = finish(child).status;
        let stderr = reader.join().unwrap();
        assert_eq!(status.code(), Some(code), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "wait again with `ms scan wait --journal {}`",
                journal.display()
            )),
            "{stderr}"
        );
    }
    // `ms scan wait --journal` that times out says how to wait for the run again.
    let out = emu
        .ms()
        .run([
            "scan",
            "wait",
            "--journal",
            batch.j(),
            "--poll-interval",
            "0.1",
            "--wait-timeout",
            "0.3",
        ])
        .expect_code(1);
    out.assert_stderr(&format!(
        "wait longer with `ms scan wait --journal {} --wait-timeout SECS`",
        journal.display()
    ));
}

#[test]
fn passwords_in_urls_reach_no_error_no_printed_command_and_no_journal_which_is_private() {
    const SECRET: &str = "hunter2Secret";
    let emu = Serve::start(&["--quota", "3", "--rate-limit", "0"]);
    let batch = Batch::new(1, 5);
    let (dir, m) = (&batch.dir, &batch.manifest);
    // A Redis password on the command line (Redis is not there: the run goes on alone):
    // not in the printed resume command, not in the journal's record of the run.
    let redis = format!("redis://:{SECRET}@127.0.0.1:9/0");
    let shared = [
        "--shared-rate-limit",
        &redis,
        "--shared-rate-limit-fallback",
        "local",
    ];
    let out = emu
        .ms()
        .run([&shared[..], &batch.submit(&[])].concat())
        .expect_code(1);
    assert!(
        out.stderr
            .contains("--shared-rate-limit 'redis://***@127.0.0.1:9/0'"),
        "the resume command keeps the option, masked: {}",
        out.stderr
    );
    assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
    assert!(!out.stdout.contains(SECRET), "{}", out.stdout);
    let mut held = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("run.db") {
            let bytes = std::fs::read(&path).unwrap();
            held += bytes.len();
            // Private: download URLs are often pre-signed (a token in the query).
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", path.display());
            }
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "{} holds the password",
                path.display()
            );
        }
    }
    assert!(held > 0);

    // Refused URLs with a password: the error names the field, never the password.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        format!(
            r#"[{{"url": "https://bob:{SECRET}@cdn.example.com/a.apk", "md5": "{}"}}]"#,
            md5_of(1)
        ),
    )
    .unwrap();
    let cases: [(Vec<String>, &str); 4] = [
        (
            vec!["--manifest".into(), bad.display().to_string()],
            "bad.json:1: app #1: url (AppUrl)",
        ),
        (
            vec![
                "--url".into(),
                format!("https://bob:{SECRET}@cdn.example.com/a.apk"),
                "--md5".into(),
                md5_of(1),
            ],
            "url (AppUrl)",
        ),
        (
            vec![
                "--manifest".into(),
                m.display().to_string(),
                "--callback-url".into(),
                format!("http://alice:{SECRET}@127.0.0.1:9/cb"),
            ],
            "CallbackUrl",
        ),
        (
            vec!["--manifest".into(), m.display().to_string()],
            "endpoint",
        ),
    ];
    for (i, (args, names)) in cases.into_iter().enumerate() {
        let mut ms = emu.ms();
        if i == 3 {
            ms = ms.env("MS_ENDPOINT", format!("http://u:{SECRET}@127.0.0.1:9"));
        }
        let mut all = vec![
            "scan".to_owned(),
            "submit".to_owned(),
            "--no-journal".to_owned(),
        ];
        all.extend(args);
        let out = ms.run(all).expect_code(2);
        out.assert_stderr(names);
        out.assert_stderr("***@");
        assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
    }
}

#[test]
fn pre_signed_download_urls_reach_no_trace_log_but_are_sent_and_kept_whole() {
    // Each app's URL carries its own signature / token; the callback URL a token too.
    let secret = |i: u64| format!("sigSECRET{i}x");
    let emu = Serve::start(&["--quota", "3", "--rate-limit", "0"]);
    let batch = Batch::new(1, 5);
    let apps: Vec<Value> = (1..=5u64)
        .map(|i| {
            let url = match i % 3 {
                0 => format!("https://cdn.example.com/app{i}.apk?sign={}&t=17", secret(i)),
                1 => format!(
                    "https://s3.example.com/app{i}.apk?X-Amz-Expires=900&X-Amz-Signature={}",
                    secret(i)
                ),
                _ => format!(
                    "https://b.cos.ap-guangzhou.myqcloud.com/app{i}.apk?q-signature={}&x-cos-security-token={}",
                    secret(i),
                    secret(100 + i)
                ),
            };
            serde_json::json!({"url": url, "md5": md5_of(i), "size": 1000 + i})
        })
        .collect();
    std::fs::write(&batch.manifest, serde_json::to_string(&apps).unwrap()).unwrap();
    let callback = format!("http://127.0.0.1:9/cb?token={}", secret(99));
    let out = emu
        .ms()
        .run(batch.submit_after(&["-vv"], &["--callback-url", &callback, "-o", "json"]))
        .expect_code(1);
    let secrets: Vec<String> = (1..=5).chain(101..=105).chain([99]).map(secret).collect();
    // The bodies are traced, with the URLs' hosts and paths and their parameters' names.
    out.assert_stderr("request body");
    out.assert_stderr("https://s3.example.com/app1.apk?X-Amz-Expires=***&X-Amz-Signature=***");
    out.assert_stderr("received reply");
    for s in &secrets {
        assert!(
            !out.stderr.contains(s.as_str()),
            "{s} on stderr:\n{}",
            out.stderr
        );
    }
    // The user's own output is data: the apps not accepted are listed with their URLs whole.
    let v = out.json();
    assert_eq!(v["Submitted"], 3, "{v}");
    let left = v["Unaccepted"].as_array().unwrap();
    assert_eq!(left.len(), 2, "{v}");
    for app in left {
        let i = app["Position"].as_u64().unwrap();
        assert_eq!(app["AppUrl"], apps[i as usize - 1]["url"], "{v}");
    }
    // What was sent is whole: the journal keeps every URL for the resume, and the emulator
    // holds the accepted apps' URLs as sent.
    let bytes = std::fs::read(&batch.journal).unwrap();
    let held = String::from_utf8_lossy(&bytes);
    let wal = std::fs::read(batch.path().join("run.db-wal")).unwrap_or_default();
    let held = format!("{held}{}", String::from_utf8_lossy(&wal));
    for i in 1..=5 {
        assert!(held.contains(&secret(i)), "app {i}'s URL is kept whole");
    }
    let listed = emu.ms().run_line("scan list --all -o json").ok();
    assert_eq!(listed.json()["ScanSet"].as_array().unwrap().len(), 3);
}

#[test]
fn a_full_disk_stops_the_run_naming_the_journal_and_the_same_command_resumes() {
    let emu = Serve::start(&["--quota", "100000", "--rate-limit", "0"]);
    let batch = Batch::new(1, 2000);
    let journal = &batch.journal;
    let args = batch.submit_after(&["--rate-limit", "100000"], &["-o", "jsonl"]);
    // The disk fills up once the input is in: files may not grow past 600 KiB (writes
    // beyond fail with EFBIG, as on a full disk; SIGXFSZ ignored so they fail, not kill).
    let out = emu
        .ms()
        .bash_with(
            r#"trap '' XFSZ; ulimit -f 600; exec "$@""#,
            [env!("CARGO_BIN_EXE_ms")].iter().chain(&args),
        )
        .expect_code(1);
    let stderr = &out.stderr;
    assert!(
        stderr.contains(&format!("journal {}: cannot record", journal.display())),
        "{stderr}"
    );
    assert!(stderr.contains("the same command resumes"), "{stderr}");
    // Every outcome printed was recorded: the next run does not send those chunks again.
    let printed = out.json_lines();
    assert!(
        printed.len() < 100,
        "the run stopped early ({} lines)",
        printed.len()
    );
    // With room again, the same command finishes the run: every app held once.
    let lines = run_until_done(&emu, batch.path(), &args, 3);
    assert_eq!(lines.last().unwrap()["States"]["accepted"], 2000);
    let resent: Vec<u64> = lines
        .iter()
        .filter(|l| l["Event"] == "chunk" && l["Reconciled"] != true)
        .flat_map(|l| l["Apps"].as_array().unwrap().clone())
        .map(|a| a["Position"].as_u64().unwrap())
        .collect();
    for chunk in printed.iter().filter(|l| l["Outcome"] == "accepted") {
        for app in chunk["Apps"].as_array().unwrap() {
            assert!(
                !resent.contains(&app["Position"].as_u64().unwrap()),
                "an app printed as accepted was sent again: {app}"
            );
        }
    }
    assert_each_once(&emu.held(), 1, 2000);
}

#[test]
fn a_journal_path_that_cannot_hold_a_journal_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), "apps.json", 1, 3);
    let missing = dir.path().join("no/such/dir/run.db");
    for (journal, says) in [
        (dir.path().to_path_buf(), "is a directory".to_owned()),
        (
            missing.clone(),
            format!(
                "the directory {} does not exist",
                missing.parent().unwrap().display()
            ),
        ),
    ] {
        let out = Ms::offline()
            .run(submit_args(&m, &["--journal", journal.to_str().unwrap()]))
            .expect_code(2);
        out.assert_stderr(&format!("journal {}: {says}", journal.display()));
    }
}

#[test]
fn an_app_the_service_refuses_by_name_is_invalid_and_its_chunk_mates_are_accepted() {
    let emu = Serve::start(&["--rate-limit", "0"]);
    let batch = Batch::new(1, 25);
    // App 4 has a name longer than the service takes (the model has no such limit).
    let apps: Vec<Value> = (1..=25u64)
        .map(|i| {
            let name = if i == 4 {
                "n".repeat(5000)
            } else {
                format!("App {i}")
            };
            serde_json::json!({
                "url": format!("https://cdn.example.com/app{i}.apk"),
                "md5": md5_of(i),
                "name": name,
            })
        })
        .collect();
    std::fs::write(&batch.manifest, serde_json::to_string(&apps).unwrap()).unwrap();
    let journal = &batch.journal;
    let submit = || emu.ms().run(batch.submit(&["-o", "json"]));
    let out = submit().expect_code(2);
    let v = out.json();
    assert_eq!(v["Submitted"], 24, "{v}");
    assert_eq!(v["States"]["invalid"], 1);
    let left = v["Unaccepted"].as_array().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["Position"], 4);
    let why = left[0]["Message"].as_str().unwrap();
    assert!(
        why.contains("InvalidParameterValue") && why.contains("AppName"),
        "{why}"
    );
    out.assert_stderr("app #4");
    // The journal file says what happened to each request: the first chunk (apps 1-20) was
    // refused by the service naming its app 4 (`AppInfos.3`), the chunks sending the other
    // apps were accepted.
    /// state, code, message, request_id, apps.
    type ChunkRow = (String, Option<String>, Option<String>, Option<String>, i64);
    let chunks: Vec<ChunkRow> = {
        let db = rusqlite::Connection::open_with_flags(
            journal,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut stmt = db
            .prepare("SELECT state, code, message, request_id, apps FROM chunks ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let (state, code, message, request_id, apps) = &chunks[0];
    assert_eq!(
        (state.as_str(), code.as_deref(), *apps),
        ("failed", Some("InvalidParameterValue"), 20),
        "{chunks:?}"
    );
    let message = message.as_deref().unwrap_or_default();
    assert!(message.contains("AppInfos.3"), "{chunks:?}");
    assert!(request_id.is_some(), "{chunks:?}");
    assert!(
        chunks[1..]
            .iter()
            .all(|c| c.0 == "accepted" && c.1.is_none()),
        "{chunks:?}"
    );
    assert_eq!(
        chunks[1..].iter().map(|c| c.4).sum::<i64>(),
        24,
        "{chunks:?}"
    );
    // Run again: nothing is sent (the invalid app is not retried), the status stays 2.
    let again = submit().expect_code(2);
    assert_eq!(again.json()["Submitted"], 24);
    let held = emu.held();
    assert_eq!(held.len(), 24);
    for i in (1..=25u64).filter(|i| *i != 4) {
        assert_eq!(held.get(&md5_of(i)), Some(&1), "app {i} held once");
    }
}

#[test]
fn a_csv_header_is_checked_before_any_row_and_unknown_fields_are_named() {
    let ms = || Ms::offline();
    let args = [
        "scan",
        "submit",
        "--manifest",
        "-",
        "--manifest-format",
        "csv",
        "--dry-run",
        "-o",
        "json",
    ];
    let out = ms()
        .stdin(format!("url;md5\nhttps://e/a.apk;{}\n", md5_of(1)))
        .run(args)
        .expect_code(2);
    out.assert_stderr("<stdin>:1: header: no url column (fields are separated by commas)");
    // Names in another case are the fields; a column that is none is named on stderr.
    let out = ms()
        .stdin(format!(
            "URL,MD5,packge\nhttps://e/a.apk,{},com.e\n",
            md5_of(1)
        ))
        .run(args)
        .ok();
    assert_eq!(out.json()["Apps"], 1);
    out.assert_stderr("column(s) \"packge\" are no app field");
    // JSON entries: each key that is no field is named once, the apps are read.
    let line = |i: u64| {
        format!(
            "{{\"url\": \"https://e/{i}.apk\", \"md5\": \"{}\", \"packge\": \"com.e\"}}\n",
            md5_of(i)
        )
    };
    let out = ms()
        .stdin(format!("{}{}", line(1), line(2)))
        .run_line("scan submit --manifest - --dry-run -o json")
        .ok();
    assert_eq!(out.json()["Apps"], 2);
    assert_eq!(
        out.stderr
            .matches("app #1 has \"packge\", no app field: ignored")
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("app #2"), "{}", out.stderr);
}

#[test]
fn without_journal_a_default_one_is_kept_and_the_printed_command_resumes_it() {
    let emu = Serve::start(&["--quota", "30", "--rate-limit", "0"]);
    let batch = Batch::new(1, 40);
    let (dir, home, m) = (&batch.dir, batch.home(), &batch.manifest);
    let submit = |extra: &[&str], env: Option<(&str, &Path)>| {
        let mut ms = emu.ms().env("HOME", &home);
        if let Some((k, v)) = env {
            ms = ms.env(k, v);
        }
        let mut args = vec!["scan", "submit", "--manifest", m.to_str().unwrap()];
        args.extend_from_slice(extra);
        ms.run(args)
    };
    let out = submit(&[], None).expect_code(1);
    let journals = home.join(".local/state/ms/journals");
    let files: Vec<PathBuf> = std::fs::read_dir(&journals)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let journal = &files[0];
    let name = journal.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("submit-") && name.ends_with(".sqlite"),
        "{name}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&journals).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the journal directory is private");
    }
    assert!(
        out.stderr
            .contains(&format!("journal: {}\n", journal.display())),
        "the path is printed: {}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("scan submit --journal {}", journal.display())),
        "the command that resumes: {}",
        out.stderr
    );
    // The printed command: the 30 accepted apps are not sent again.
    let out = emu
        .ms()
        .env("HOME", &home)
        .run([
            "scan",
            "submit",
            "--journal",
            journal.to_str().unwrap(),
            "-o",
            "json",
        ])
        .expect_code(1);
    out.assert_stderr("resuming: 30 of 40");
    assert_eq!(out.json()["Submitted"], 30);
    assert_eq!(emu.held().len(), 30);
    // MS_JOURNAL_DIR and XDG_STATE_HOME choose the directory; --no-journal keeps none.
    let chosen = dir.path().join("chosen");
    submit(&[], Some(("MS_JOURNAL_DIR", &chosen))).expect_code(1);
    assert_eq!(std::fs::read_dir(&chosen).unwrap().count(), 1);
    let state = dir.path().join("state");
    submit(&[], Some(("XDG_STATE_HOME", &state))).expect_code(1);
    assert_eq!(
        std::fs::read_dir(state.join("ms/journals"))
            .unwrap()
            .count(),
        1
    );
    let out = submit(&["--no-journal"], None).expect_code(1);
    out.assert_stderr("no journal was kept");
    assert_eq!(std::fs::read_dir(&journals).unwrap().count(), 1);
}

#[test]
fn the_printed_resume_command_runs_whatever_spelling_named_the_input() {
    let emu = Serve::start(&["--quota", "0", "--rate-limit", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let apk = dir.path().join("one.apk");
    std::fs::write(&apk, b"not really an apk, but bytes to hash").unwrap();
    let journal = dir.path().join("run.db");
    let out = emu
        .ms()
        .run([
            "scan",
            "submit",
            &format!("--apk={}", apk.display()),
            "--url-prefix=https://cdn.example.com/",
            "--journal",
            journal.to_str().unwrap(),
        ])
        .expect_code(1);
    let printed = out
        .stderr
        .lines()
        .find_map(|l| l.split_once("submit again; run: ").map(|(_, c)| c))
        .unwrap_or_else(|| panic!("no resume command: {}", out.stderr));
    // The printed command, as a user pastes it: it resumes (the quota refuses the app
    // again, exit 1), it is no usage error.
    let again = emu.ms().bash(printed).expect_code(1);
    again.assert_stderr("resuming: 0 of 1");
}

#[test]
fn kill_9_while_the_input_is_read_leaves_a_journal_that_a_new_run_takes_over() {
    let emu = Serve::start(&["--rate-limit", "0"]);
    let batch = Batch::new(1, 30);
    let (dir, journal, m) = (&batch.dir, &batch.journal, &batch.manifest);
    // Half of the input on stdin, and the pipe left open: ms is reading it when killed.
    let mut child = spawn(
        emu.command(dir.path())
            .args([
                "scan",
                "submit",
                "--manifest",
                "-",
                "--manifest-format",
                "json",
                "--journal",
                journal.to_str().unwrap(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let text = std::fs::read_to_string(m).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, &text.as_bytes()[..text.len() / 2]).unwrap();
    let started = Instant::now();
    while !journal.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no journal file"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(stdin);
    // The journal alone cannot resume: it holds no run, and says why.
    let out = emu
        .ms()
        .run(["scan", "submit", "--journal", journal.to_str().unwrap()])
        .expect_code(2);
    assert!(
        out.stderr
            .contains("holds no run (its creation was interrupted"),
        "{}",
        out.stderr
    );
    // With the input, the same journal starts the run afresh.
    emu.ms().run(batch.submit(&[])).ok();
    assert_each_once(&emu.held(), 1, 30);
}
