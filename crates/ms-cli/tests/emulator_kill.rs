//! What the emulator acknowledged survives `kill -9`: the real `ms` binary submits 2,000 apps
//! to `ms emulator serve --state FILE`, which is killed with SIGKILL at several moments of
//! the submission and restarted each time on the same state file and port. At the end every
//! app the client was told was accepted is listed, and the quota adds up (what was charged
//! is what is stored).

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Ms, Serve, manifest, md5_of};

const ID: &str = "AKIDkillTestKillTestKillTest0000";
const KEY: &str = "killTestSecretKey000000000000000";
const QUOTA: u64 = 10_000;
const APPS: u64 = 2_000;

/// `ms emulator serve` on `listen` with the state file (its base URL in `url`), or `None`
/// when it did not start.
fn serve(state: &Path, listen: &str) -> Option<Serve> {
    let mut serve = Serve::spawn(
        Command::new(env!("CARGO_BIN_EXE_ms"))
            .args(["emulator", "serve", "--listen", listen])
            .args(["--account", &format!("{ID}:{KEY}")])
            .args(["--quota", &QUOTA.to_string(), "--scan-seconds", "600"])
            .arg("--state")
            .arg(state)
            .stderr(Stdio::piped()),
    );
    if serve.url.is_empty() {
        // Did not start (e.g. the port was not free yet): say why, then let the caller retry.
        let stderr = serve.take_stderr();
        drop(serve); // killed
        let mut why = String::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_string(&mut why);
        }
        eprintln!("emulator did not start: {why}");
        return None;
    }
    Some(serve)
}

/// Restarts on the same port (a few tries: the old socket may linger a moment).
fn serve_again(state: &Path, port: u16) -> Serve {
    for _ in 0..50 {
        if let Some(x) = serve(state, &format!("127.0.0.1:{port}")) {
            return x;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the emulator could not be restarted on port {port}");
}

fn ms(url: &str) -> Ms {
    Ms::new()
        .env("MS_ENDPOINT", url)
        .env("TENCENTCLOUD_SECRET_ID", ID)
        .env("TENCENTCLOUD_SECRET_KEY", KEY)
}

#[test]
fn every_acknowledged_app_survives_kill_9_of_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("emulator.db");
    let apps = manifest(dir.path(), APPS);
    let mut emulator = serve(&state, "127.0.0.1:0").expect("the emulator starts");
    let url = emulator.url.clone();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();

    // The submission runs in the background: 2,000 apps, 100 chunks at the documented quota
    // of 20 requests/s (about 5 s without the interruptions).
    let submit_url = url.clone();
    let submission = std::thread::spawn(move || {
        ms(&submit_url).run([
            "-o".as_ref(),
            "json".as_ref(),
            "scan".as_ref(),
            "submit".as_ref(),
            "--manifest".as_ref(),
            apps.as_os_str(),
        ])
    });
    let started = Instant::now();
    let mut kills = 0;
    for at in [
        Duration::from_millis(800),
        Duration::from_millis(2000),
        Duration::from_millis(3200),
    ] {
        if let Some(wait) = at.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        if submission.is_finished() {
            break;
        }
        emulator.kill9();
        kills += 1;
        emulator = serve_again(&state, port);
    }
    let run = submission.join().unwrap();
    assert!(
        kills >= 2,
        "the submission ended before the emulator was killed twice"
    );
    let out = run.json();

    // The client's accounting: every app is accepted, failed (not processed) or unknown.
    let accepted: Vec<(String, String)> = out["Tasks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            let item = t["ItemId"].as_str().unwrap().to_owned();
            t["AppMd5s"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |m| (item.clone(), m.as_str().unwrap().to_owned()))
        })
        .collect();
    // Apps not accepted, each listed with its state (see docs/journal.md).
    let reported = |state: &str| -> usize {
        out["Unaccepted"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["State"] == state)
            .count()
    };
    assert_eq!(out["Submitted"], accepted.len());
    assert_eq!(
        accepted.len() + reported("failed") + reported("unknown") + reported("not_accepted"),
        APPS as usize,
        "every app is accounted for: {}",
        run.stdout
    );
    assert!(!accepted.is_empty());

    // Every app the client was told was accepted is stored, under its ItemId.
    let listed = ms(&url).run_line("-o json scan list --all").ok().json();
    let rows = listed["ScanSet"].as_array().unwrap();
    let stored: HashSet<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["ItemId"].as_str().unwrap().to_owned(),
                r["AppMd5"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    eprintln!(
        "{kills} kills: {} apps accepted, {} failed, {} unknown; {} stored",
        accepted.len(),
        reported("failed"),
        reported("unknown"),
        stored.len()
    );
    let lost: Vec<&(String, String)> = accepted.iter().filter(|a| !stored.contains(a)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged apps lost: {lost:?}",
        lost.len()
    );
    let known: HashSet<String> = (1..=APPS).map(md5_of).collect();
    assert!(
        rows.iter()
            .all(|r| known.contains(r["AppMd5"].as_str().unwrap()))
    );
    // Stored but not reported accepted: only apps whose reply the kill cut off (their chunk
    // is "Unknown" to the client, or was failed and never retried).
    assert!(stored.len() >= accepted.len());
    assert!(
        stored.len() <= accepted.len() + reported("unknown") + reported("failed"),
        "{} stored, {} accepted",
        stored.len(),
        accepted.len()
    );

    // The quota adds up: one more app shows what is left, and every unit charged is a
    // stored scan.
    let one = ms(&url)
        .run([
            "-o",
            "json",
            "call",
            "CreateScanInstances",
            "--json",
            &serde_json::json!({
                "AppInfos": [{"AppUrl": "https://cdn.example.com/last.apk", "AppMd5": md5_of(APPS + 1)}],
                "ScanInfo": {"CallbackUrl": "", "ScanTypes": ["VULSCAN"]},
            })
            .to_string(),
        ])
        .ok()
        .json();
    let left = one["LimitCount"].as_u64().expect("LimitCount");
    assert_eq!(QUOTA - left, stored.len() as u64 + 1, "{one}");
    emulator.kill9();
}
