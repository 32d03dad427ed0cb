//! When the service fails, every app is still accounted for: accepted (with its ItemId),
//! failed (safe to resubmit) or unknown (may have been processed; reconciled before it is
//! ever sent again).

mod common;

use std::time::Duration;

use common::{TestEmulator, manifest, md5_of};
use ms_emulator::{EmulatorConfig, FaultConfig};

#[test]
fn when_the_service_cannot_tell_apps_stay_unknown_and_the_exit_status_says_so() {
    // Every request fails with a 5xx, the listing that would reconcile them too.
    let config = EmulatorConfig::demo()
        .with_scan_duration(Duration::from_millis(300))
        .with_faults(FaultConfig::none().with_5xx(1.0));
    let emu = TestEmulator::with_config(config);
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 45);
    let out = emu.submit(&m, &["-o", "json"]).expect_code(1);
    out.assert_stderr("45 of 45 app(s) not accepted (45 with an unknown outcome)");
    out.assert_stderr("may have been accepted");
    let v = out.json();
    assert_eq!(v["Submitted"], 0);
    assert_eq!(v["States"]["unknown"], 45);
    let left = v["Unaccepted"].as_array().unwrap();
    assert_eq!(left.len(), 45);
    assert!(left.iter().all(|a| a["State"] == "unknown"));
    assert_eq!(left[20]["Position"], 21);
    assert_eq!(left[20]["AppMd5"], md5_of(21));
}

#[test]
fn a_bad_entry_in_a_streamed_manifest_submits_nothing() {
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
        .run_line("scan submit --manifest - -o json")
        .expect_code(2);
    out.assert_stderr("<stdin>:31: app #31");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let listed = emu.ms().run_line("scan list -o json").ok().json();
    assert_eq!(listed["TotalCount"], 0, "nothing was submitted");
}

#[test]
fn a_wait_that_times_out_still_prints_the_item_ids() {
    let emu = TestEmulator::with_config(
        EmulatorConfig::demo().with_scan_duration(Duration::from_secs(3600)),
    );
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 3);
    let out = emu
        .submit(
            &m,
            &[
                "--wait",
                "--poll-interval",
                "0.1",
                "--wait-timeout",
                "0.3",
                "-o",
                "json",
            ],
        )
        .expect_code(1);
    out.assert_stderr("still scanning");
    out.assert_stderr("ms scan wait");
    let v = out.json();
    assert_eq!(v["Submitted"], 3);
    assert!(v["Tasks"][0]["ItemId"].is_string());
    assert!(v["Results"].as_array().unwrap().is_empty());
    out.assert_stderr("ms scan wait --journal");
}
