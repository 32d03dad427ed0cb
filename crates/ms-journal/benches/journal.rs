//! What the journal costs a batch: per app to read the input in, per chunk to claim (the
//! fsynced write-ahead record, one per claim window: 64 chunks at first, up to 1,024 at high
//! rates) and to record the outcome (one commit per reply), on a real file
//! (`synchronous=FULL` claims, `NORMAL` outcomes) and on a temporary journal (`OFF`).
//! Run: `cargo bench -p ms-journal`.
//!
//! `APPS` (default 100,000) sets the input size; each figure is the median of `ROUNDS`
//! (default 5) fresh journals.

use std::time::{Duration, Instant};

use ms_journal::SqliteJournal;
use ms_model::{AppInfo, ScanInfo};
use ms_transport::batch::{ChunkOutcome, Journal};

fn app(i: u64) -> AppInfo {
    AppInfo {
        app_url: format!("https://cdn.example.com/apks/app-{i}.apk"),
        app_md5: format!("{:016x}{i:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        app_size: Some(1_000_000 + i),
        app_name: Some(format!("App {i}")),
        app_pkg_name: Some(format!("com.example.app{i}")),
        app_version: Some(format!("1.0.{i}")),
        ..AppInfo::default()
    }
}

struct Figures {
    spool: Duration,
    claim: Duration,
    record: Duration,
    chunks: u64,
}

fn one(apps: u64, temporary: bool, window: usize) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let scan_info = ScanInfo {
        callback_url: String::new(),
        scan_types: vec!["VULSCAN".into()],
    };
    let started = Instant::now();
    let mut writer = if temporary {
        SqliteJournal::create_temporary(&scan_info)
    } else {
        SqliteJournal::create(&dir.path().join("run.db"), &scan_info)
    }
    .expect("create");
    for i in 0..apps {
        writer.push(&app(i)).expect("push");
    }
    let mut journal = writer.finish().expect("finish");
    let spool = started.elapsed();
    let (mut claim, mut record, mut chunks) = (Duration::ZERO, Duration::ZERO, 0);
    loop {
        let t = Instant::now();
        let claimed = journal.claim(window, 20, 1).expect("claim");
        claim += t.elapsed();
        if claimed.is_empty() {
            break;
        }
        for c in claimed {
            let outcome = ChunkOutcome::Accepted {
                item_id: format!("{:032x}", c.id.0),
                request_id: Some("00000000-0000-0000-0000-000000000000".into()),
                not_accepted: Vec::new(),
                reconciled: false,
            };
            let t = Instant::now();
            journal.record(&[(c.id, outcome)]).expect("record");
            record += t.elapsed();
            chunks += 1;
        }
    }
    assert_eq!(journal.counts().expect("counts").accepted, apps);
    Figures {
        spool,
        claim,
        record,
        chunks,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let apps = env("APPS", 100_000);
    let rounds = env("ROUNDS", 5);
    println!("journal cost, {apps} apps, median of {rounds} journals");
    println!(
        "{:<28} {:>12} {:>14} {:>15} {:>14} {:>12}",
        "journal",
        "spool µs/app",
        "claim µs/chunk",
        "record µs/chunk",
        "total µs/chunk",
        "total ms"
    );
    for (label, temporary, window) in [
        ("file, claims of 64 chunks", false, 64),
        ("file, claims of 1,024 chunks", false, 1024),
        ("temporary, claims of 64", true, 64),
    ] {
        let runs: Vec<Figures> = (0..rounds).map(|_| one(apps, temporary, window)).collect();
        let per = |f: &dyn Fn(&Figures) -> Duration, by: &dyn Fn(&Figures) -> f64| {
            median(
                runs.iter()
                    .map(|r| f(r).as_secs_f64() * 1e6 / by(r))
                    .collect(),
            )
        };
        let spool = per(&|r| r.spool, &|_| apps as f64);
        let claim = per(&|r| r.claim, &|r| r.chunks as f64);
        let record = per(&|r| r.record, &|r| r.chunks as f64);
        let total = median(
            runs.iter()
                .map(|r| (r.spool + r.claim + r.record).as_secs_f64() * 1e3)
                .collect(),
        );
        println!(
            "{label:<28} {spool:>12.2} {claim:>14.1} {record:>15.1} {:>14.1} {total:>12.0}",
            claim + record
        );
    }
}
