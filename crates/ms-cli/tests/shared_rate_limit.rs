//! `--shared-rate-limit`: the real `ms` binary, a real redis-server and the emulator over
//! HTTP. Redis stopped in the middle of a submission: with `local` the run completes (every
//! app accepted once), with `fail` it stops with exit code 3 and a clear message; never a
//! panic or a hang. A password in the URL never reaches stderr.

mod common;

#[path = "../../ms-transport/tests/support/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use common::{RUN_LIMIT, Run, TestEmulator, manifest, md5_of};
use redis_server::RedisServer;

const APPS: u64 = 200; // 10 chunks of 20

/// The MD5s of the `APPS` apps of the manifest, sorted.
fn all_md5s() -> Vec<String> {
    let mut all: Vec<String> = (1..=APPS).map(md5_of).collect();
    all.sort();
    all
}

fn emulator() -> TestEmulator {
    TestEmulator::with_config(
        ms_emulator::EmulatorConfig::demo()
            .with_scan_duration(Duration::from_millis(300))
            .with_rate_limit(20),
    )
}

/// Starts `ms scan submit` of `APPS` apps at 2 requests/s through the shared limiter, stops
/// Redis once the run has used it, and returns how the run ended.
fn submit_with_redis_stopped_midway(fallback: &str) -> Option<Run> {
    let redis = RedisServer::start()?;
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.sqlite");
    let (run, _redis) = submit_midway(redis, &emu, dir.path(), &journal, fallback);
    Some(run)
}

fn submit_midway(
    mut redis: RedisServer,
    emu: &TestEmulator,
    dir: &std::path::Path,
    journal: &std::path::Path,
    fallback: &str,
) -> (Run, RedisServer) {
    let m = manifest(dir, APPS);
    let mut running = emu.ms().spawn([
        "--shared-rate-limit",
        &redis.url(),
        "--shared-rate-limit-fallback",
        fallback,
        "--shared-rate-limit-share",
        "1",
        "--rate-limit",
        "2",
        "scan",
        "submit",
        "--manifest",
        m.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
        "-o",
        "json",
    ]);
    // Wait until the run has reserved a few slots on Redis, then stop Redis.
    let started = Instant::now();
    loop {
        let tat = redis.cli(&["KEYS", "ms:ratelimit:*"]);
        if !tat.is_empty() {
            std::thread::sleep(Duration::from_millis(600));
            break;
        }
        assert!(started.elapsed() < RUN_LIMIT, "the run never used Redis");
        assert!(running.is_running(), "ms exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    redis.stop();
    // A hang after Redis stopped fails the test (killed after RUN_LIMIT).
    (running.finish(), redis)
}

#[test]
fn redis_stopped_mid_run_with_local_completes_every_app_once() {
    let Some(run) = submit_with_redis_stopped_midway("local") else {
        return;
    };
    let Run { stdout, stderr, .. } = run.expect_code(0);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.matches("warning: shared rate limiter").count(),
        1,
        "one warning: {stderr}"
    );
    assert!(stderr.contains("redis://127.0.0.1:"), "{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(out["Submitted"], APPS, "{stdout}");
    let mut md5s: Vec<String> = out["Tasks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["AppMd5s"].as_array().unwrap().clone())
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    md5s.sort();
    assert_eq!(md5s, all_md5s(), "every app accepted exactly once");
}

#[test]
fn redis_stopped_mid_run_with_fail_exits_3_with_a_clear_message() {
    let Some(run) = submit_with_redis_stopped_midway("fail") else {
        return;
    };
    let Run { stdout, stderr, .. } = run.expect_code(3);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("shared rate limiter redis://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    // The apps accepted before the outage are reported (stdout), the others as failed.
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let submitted = out["Submitted"].as_u64().unwrap();
    assert!(submitted < APPS, "{stdout}");
}

#[test]
fn a_password_in_the_url_never_reaches_the_output() {
    let emu = emulator();
    // Nothing listens on this port: fail mode reports the outage, with the URL redacted.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://:hunter2secret@127.0.0.1:{port}/0");
    let out = emu
        .ms()
        .env("MS_SHARED_RATE_LIMIT", &url)
        .run_line("-vv --shared-rate-limit-fallback fail scan list")
        .expect_code(3);
    assert!(!out.stderr.contains("hunter2secret"), "{}", out.stderr);
    out.assert_stderr(&format!("redis://:***@127.0.0.1:{port}/0"));
    // With local, the command works and warns once, redacted.
    let out = emu
        .ms()
        .run(["--shared-rate-limit", &url, "scan", "list"])
        .ok();
    assert!(!out.stderr.contains("hunter2secret"), "{}", out.stderr);
    assert_eq!(out.stderr.matches("warning:").count(), 1, "{}", out.stderr);
    // A bad URL is a usage error that names the option, not the password.
    let bad = format!("redis://:hunter2secret@127.0.0.1:{port}/x");
    let out = emu
        .ms()
        .run(["--shared-rate-limit", &bad, "scan", "list"])
        .expect_code(2);
    assert!(!out.stderr.contains("hunter2secret"), "{}", out.stderr);
    out.assert_stderr("--shared-rate-limit");
    // Not in --help either (the environment variable's value is hidden).
    let out = emu
        .ms()
        .env("MS_SHARED_RATE_LIMIT", &url)
        .run_line("--help")
        .ok();
    assert!(!out.stdout.contains("hunter2secret"));
}

/// A `--shared-rate-limit-ca` file with no certificate is a usage error naming the file, before
/// anything is sent: not an "outage" that `local` would go around at a share of the quota.
#[test]
fn a_ca_file_without_a_certificate_is_a_usage_error_naming_it() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("not-a-ca.pem");
    std::fs::write(&ca, "this is not a certificate\n").unwrap();
    for fallback in ["local", "fail"] {
        let out = emu
            .ms()
            .run([
                "--shared-rate-limit",
                "rediss://127.0.0.1:6380",
                "--shared-rate-limit-ca",
                ca.to_str().unwrap(),
                "--shared-rate-limit-fallback",
                fallback,
                "scan",
                "list",
            ])
            .expect_code(2);
        assert!(
            out.stderr.contains("--shared-rate-limit-ca") && out.stderr.contains("not-a-ca.pem"),
            "{}",
            out.stderr
        );
        out.assert_stderr("CERTIFICATE");
    }
}

#[test]
fn a_fail_mode_outage_leaves_a_journal_that_resumes_to_every_app_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.sqlite");
    let (run, mut redis) = submit_midway(redis, &emu, dir.path(), &journal, "fail");
    run.expect_code(3);
    // Redis is back: the same command resumes from the journal and ends with every app
    // accepted exactly once (nothing the first run had accepted is sent again).
    redis.restart();
    let out = emu
        .ms()
        .run([
            "--shared-rate-limit",
            &redis.url(),
            "--shared-rate-limit-fallback",
            "fail",
            "--rate-limit",
            "20",
            "scan",
            "submit",
            "--journal",
            journal.to_str().unwrap(),
            "-o",
            "json",
        ])
        .ok();
    let list = emu
        .ms()
        .run_line("--rate-limit 1000 scan list --all -o json")
        .ok();
    let listed = list.json();
    let mut md5s: Vec<String> = listed["ScanSet"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r["AppMd5"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    md5s.sort();
    assert_eq!(
        md5s,
        all_md5s(),
        "the service holds every app once\n{}",
        out.stdout
    );
}
