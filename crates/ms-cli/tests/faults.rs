//! When the service fails, every app is still accounted for: accepted (with its ItemId),
//! failed (safe to resubmit) or unknown (may have been processed; never resubmitted).

mod common;

use std::time::Duration;

use common::{TestEmulator, manifest, md5_of};
use ms_emulator::{EmulatorConfig, FaultConfig};

#[test]
fn server_errors_after_sending_are_reported_as_unknown_not_resubmitted() {
    let config = EmulatorConfig::demo()
        .with_scan_duration(Duration::from_millis(300))
        .with_faults(FaultConfig::none().with_5xx(1.0));
    let emu = TestEmulator::with_config(config);
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 45);
    let out = emu
        .ms()
        .run([
            "scan",
            "submit",
            "--manifest",
            m.to_str().unwrap(),
            "-o",
            "json",
        ])
        .expect_code(1);
    assert!(
        out.stderr.contains("outcome of 45 app(s) is unknown"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("ms scan list"), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["Submitted"], 0);
    let unknown: usize = v["Unknown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["AppMd5s"].as_array().unwrap().len())
        .sum();
    assert_eq!(unknown, 45);
    assert_eq!(v["Unknown"][1]["FirstApp"], 21);
}

#[test]
fn a_bad_entry_in_a_streamed_manifest_stops_after_the_apps_before_it() {
    let emu = TestEmulator::start();
    let mut text = String::new();
    for i in 0..30u64 {
        text.push_str(&format!(
            "{{\"url\":\"https://e.com/{i}.apk\",\"md5\":\"{}\"}}\n",
            md5_of(i)
        ));
    }
    text.push_str("{\"url\":\"https://e.com/bad.apk\",\"md5\":\"nope\"}\n");
    let out = emu
        .ms()
        .stdin(text)
        .run(["scan", "submit", "--manifest", "-", "-o", "json"])
        .expect_code(2);
    assert!(out.stderr.contains("app #31"), "{}", out.stderr);
    assert!(
        out.stderr.contains("30 app(s) before it were submitted"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["Submitted"], 30);
}

#[test]
fn a_wait_that_times_out_still_prints_the_item_ids() {
    let emu = TestEmulator::with_config(
        EmulatorConfig::demo().with_scan_duration(Duration::from_secs(3600)),
    );
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 3);
    let out = emu
        .ms()
        .run([
            "scan",
            "submit",
            "--manifest",
            m.to_str().unwrap(),
            "--wait",
            "--poll-interval",
            "0.1",
            "--wait-timeout",
            "0.3",
            "-o",
            "json",
        ])
        .expect_code(1);
    assert!(out.stderr.contains("still scanning"), "{}", out.stderr);
    assert!(out.stderr.contains("ms scan wait"), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["Submitted"], 3);
    assert!(v["Tasks"][0]["ItemId"].is_string());
}
