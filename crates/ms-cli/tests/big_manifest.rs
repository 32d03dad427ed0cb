//! 100,000 apps from a streamed manifest against an emulator with a high rate limit:
//! every app is submitted exactly once, in chunks of 20.
//!
//! Kept cheap for the default test run: no client or server rate limiting to wait on,
//! scans that never finish (the emulator does no work per scan after accepting it), no
//! callback deliveries, and a bounded run time so a hang fails instead of blocking.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use common::{TestEmulator, md5_of};
use ms_emulator::EmulatorConfig;

const APPS: u64 = 100_000;

#[test]
fn hundred_thousand_apps_nothing_lost_nothing_duplicated() {
    let config = EmulatorConfig::demo()
        .with_scan_duration(Duration::from_secs(3600))
        .with_rate_limit(1_000_000)
        .with_initial_quota(10 * APPS);
    let emu = TestEmulator::with_config(config);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(b"[\n").unwrap();
    for i in 0..APPS {
        if i > 0 {
            f.write_all(b",\n").unwrap();
        }
        write!(
            f,
            r#"{{"url": "https://cdn.example.com/apks/app-{i}.apk", "md5": "{}", "size": {}, "name": "App {i}", "package": "com.example.app{i}", "version": "1.0.{i}"}}"#,
            md5_of(i),
            1_000_000 + i
        )
        .unwrap();
    }
    f.write_all(b"\n]\n").unwrap();
    f.flush().unwrap();
    drop(f);

    let out = emu
        .ms()
        .limit(Duration::from_secs(240))
        .run([
            "--rate-limit",
            "100000",
            "scan",
            "submit",
            "--manifest",
            path.to_str().unwrap(),
            "--concurrency",
            "16",
            "-o",
            "json",
        ])
        .ok();
    let v = out.json();
    assert_eq!(v["Apps"], APPS);
    assert_eq!(v["Submitted"], APPS);
    assert_eq!(v["States"]["accepted"], APPS);
    assert!(v["Unaccepted"].as_array().unwrap().is_empty());
    let tasks = v["Tasks"].as_array().unwrap();
    assert_eq!(tasks.len() as u64, APPS / 20);
    let mut ids = HashSet::new();
    let mut md5s = HashSet::new();
    for t in tasks {
        assert!(
            ids.insert(t["ItemId"].as_str().unwrap().to_owned()),
            "duplicate ItemId"
        );
        let list = t["AppMd5s"].as_array().unwrap();
        assert_eq!(list.len(), 20);
        for m in list {
            assert!(
                md5s.insert(m.as_str().unwrap().to_owned()),
                "duplicate app {m}"
            );
        }
    }
    assert_eq!(md5s.len() as u64, APPS);
    assert!((0..APPS).step_by(997).all(|i| md5s.contains(&md5_of(i))));
}
