//! `ms scan diff OLD NEW` through the real binary against the emulator: two builds of the
//! same app (same package, new version and MD5) whose findings differ.

mod common;

use std::collections::BTreeSet;

use common::TestEmulator;
use serde_json::Value;

/// Submits one build of com.example.app and returns the `submit --wait -o json` output.
fn build(emu: &TestEmulator, version: &str, md5: &str) -> Value {
    emu.ms()
        .run([
            "-o",
            "json",
            "scan",
            "submit",
            "--url",
            &format!("https://cdn.example.com/app-{version}.apk"),
            "--md5",
            md5,
            "--size",
            "4096",
            "--name",
            "App",
            "--package",
            "com.example.app",
            "--app-version",
            version,
            "--wait",
            "--poll-interval",
            "0.2",
        ])
        .ok()
        .json()
}

/// The vulnerability ids of a build, read straight from the service's answer.
fn vul_ids(submitted: &Value) -> BTreeSet<String> {
    submitted["Results"][0]["ScanSet"][0]["VulInfo"]["VulList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("vul:{}", v["VulId"].as_str().unwrap()))
        .collect()
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["Id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn two_builds_of_one_app_diff_into_new_fixed_and_unchanged() {
    let emu = TestEmulator::start();
    let old = build(&emu, "1.0", "11111111111111111111111111111111");
    let new = build(&emu, "1.1", "22222222222222222222222222222222");
    let (old_vuls, new_vuls) = (vul_ids(&old), vul_ids(&new));
    assert_ne!(old_vuls, new_vuls, "the builds' findings differ");

    let dir = tempfile::tempdir().unwrap();
    let old_file = dir.path().join("old.json");
    std::fs::write(&old_file, old.to_string()).unwrap();
    let new_id = new["Tasks"][0]["ItemId"].as_str().unwrap();

    // OLD from a saved file, NEW by ItemId.
    let out = emu
        .ms()
        .run([
            "-o",
            "json",
            "scan",
            "diff",
            old_file.to_str().unwrap(),
            new_id,
        ])
        .ok()
        .json();
    let apps = out["Apps"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "matched by package across versions: {out}");
    let app = &apps[0];
    assert_eq!(app["Package"], "com.example.app");
    assert_eq!(app["Change"], "changed");
    assert_eq!(app["Old"]["Version"], "1.0");
    assert_eq!(app["New"]["AppMd5"], "22222222222222222222222222222222");
    let vul = |s: BTreeSet<String>| -> BTreeSet<String> {
        s.into_iter().filter(|i| i.starts_with("vul:")).collect()
    };
    assert_eq!(
        vul(ids(&app["NewFindings"])),
        new_vuls.difference(&old_vuls).cloned().collect()
    );
    assert_eq!(
        vul(ids(&app["Fixed"])),
        old_vuls.difference(&new_vuls).cloned().collect()
    );
    assert_eq!(
        vul(ids(&app["Unchanged"])),
        old_vuls.intersection(&new_vuls).cloned().collect()
    );
    let totals = &out["Summary"];
    assert_eq!(
        totals["NewFindings"].as_u64().unwrap() as usize,
        app["NewFindings"].as_array().unwrap().len()
    );

    // The gate judges new findings only: the new build brings a high-risk vulnerability
    // (vul:35 for this MD5) -> 4; the same build against itself has nothing new -> 0, though
    // it has high-risk findings.
    let new_high = app["NewFindings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["Severity"] == "high" || f["Severity"] == "virus");
    assert!(new_high, "{app}");
    let gated = emu
        .ms()
        .run([
            "scan",
            "diff",
            old_file.to_str().unwrap(),
            new_id,
            "--fail-on",
            "high",
        ])
        .expect_code(4);
    assert!(
        gated.stderr.contains("(new findings only) violated"),
        "{}",
        gated.stderr
    );
    let same = emu
        .ms()
        .run(["scan", "diff", new_id, new_id, "--fail-on", "high"])
        .ok();
    assert!(same.stdout.contains("0 new, 0 fixed"), "{}", same.stdout);
    // Text output: one row per finding, tab-separated.
    let text = emu
        .ms()
        .run([
            "-o",
            "text",
            "scan",
            "diff",
            old_file.to_str().unwrap(),
            new_id,
        ])
        .ok();
    let rows = text.stdout.lines().count();
    assert_eq!(
        rows,
        ["NewFindings", "Fixed", "Unchanged"]
            .iter()
            .map(|k| app[k].as_array().unwrap().len())
            .sum::<usize>()
    );
    assert!(
        text.stdout
            .lines()
            .all(|l| l.starts_with("com.example.app\t"))
    );
}

#[test]
fn a_bad_side_is_a_usage_error() {
    let emu = TestEmulator::start();
    let out = emu
        .ms()
        .run(["scan", "diff", "no/such/file.json", "abc"])
        .expect_code(2);
    assert!(
        out.stderr.contains("neither a file nor a list of ItemIds"),
        "{}",
        out.stderr
    );
}
