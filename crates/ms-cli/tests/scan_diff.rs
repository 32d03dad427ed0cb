//! `ms scan diff OLD NEW` through the real binary against the emulator: two builds of the
//! same app (same package, new version and MD5) whose findings differ.

mod common;

use std::collections::BTreeSet;

use common::TestEmulator;
use serde_json::Value;

/// Submits one build of com.example.app and returns the `submit --wait -o json` output.
fn build(emu: &TestEmulator, version: &str, md5: &str) -> Value {
    build_with(emu, version, md5, &[])
}

/// [`build`] with more arguments (`--journal FILE`).
fn build_with(emu: &TestEmulator, version: &str, md5: &str, extra: &[&str]) -> Value {
    let url = format!("https://cdn.example.com/app-{version}.apk");
    let mut args = vec![
        "-o",
        "json",
        "scan",
        "submit",
        "--url",
        &url,
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
    ];
    args.extend_from_slice(extra);
    emu.ms().run(args).ok().json()
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
    gated.assert_stderr("(new findings only) violated");
    let same = emu
        .ms()
        .run(["scan", "diff", new_id, new_id, "--fail-on", "high"])
        .ok();
    same.assert_stdout("0 new, 0 fixed");
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
        ["NewFindings", "Fixed", "Changed", "Unchanged"]
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

/// The build's saved output with the `RiskLevel` of vulnerability `vul_id` set to `risk`:
/// the same build as an older scan rated it.
fn rerated(submitted: &Value, vul_id: &str, risk: u64) -> Value {
    let mut old = submitted.clone();
    let vuls = old["Results"][0]["ScanSet"][0]["VulInfo"]["VulList"]
        .as_array_mut()
        .unwrap();
    let vul = vuls.iter_mut().find(|v| v["VulId"] == vul_id).unwrap();
    vul["RiskLevel"] = risk.into();
    old
}

#[test]
fn a_finding_whose_severity_rose_is_changed_and_gated_when_it_crosses_the_threshold() {
    let emu = TestEmulator::start();
    let new = build(&emu, "1.1", "22222222222222222222222222222222");
    let new_id = new["Tasks"][0]["ItemId"].as_str().unwrap();
    let high_vul = new["Results"][0]["ScanSet"][0]["VulInfo"]["VulList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["RiskLevel"] == 3)
        .expect("this MD5 has a high-risk vulnerability")["VulId"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = format!("vul:{high_vul}");
    let dir = tempfile::tempdir().unwrap();
    let save = |name: &str, v: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, v.to_string()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    // The old build rated it low (RiskLevel 1); the new build rates it high.
    let was_low = save("was-low.json", &rerated(&new, &high_vul, 1));
    let out = emu
        .ms()
        .run(["-o", "json", "scan", "diff", &was_low, new_id])
        .ok()
        .json();
    let app = &out["Apps"][0];
    assert_eq!(app["Change"], "changed", "{out}");
    let changed = app["Changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{out}");
    assert_eq!(
        ["Id", "OldSeverity", "Severity"].map(|k| changed[0][k].as_str().unwrap()),
        [id.as_str(), "low", "high"]
    );
    assert!(
        changed[0]["Title"]
            .as_str()
            .unwrap()
            .starts_with("high-risk vulnerability "),
        "{out}"
    );
    assert!(
        !ids(&app["Unchanged"]).contains(&id),
        "not unchanged: {out}"
    );
    assert_eq!(
        app["NewFindings"],
        Value::Array(vec![]),
        "the same build: {out}"
    );
    assert_eq!(out["Summary"]["Changed"], 1);
    // low -> high crosses --fail-on high (and medium): the gate judges it.
    for level in ["high", "medium"] {
        let gated = emu
            .ms()
            .run(["scan", "diff", &was_low, new_id, "--fail-on", level])
            .expect_code(4);
        assert!(
            gated.stderr.contains(&format!("[{id}]")) && gated.stderr.contains("1 violation(s)"),
            "{}",
            gated.stderr
        );
        gated.assert_stdout("low → high");
    }
    // --fail-on low: it failed in the old build already, nothing new to the gate.
    emu.ms()
        .run(["scan", "diff", &was_low, new_id, "--fail-on", "low"])
        .ok();
    // The old build rated it medium: --fail-on medium already failed on it (0), high did not (4).
    let was_medium = save("was-medium.json", &rerated(&new, &high_vul, 2));
    emu.ms()
        .run(["scan", "diff", &was_medium, new_id, "--fail-on", "medium"])
        .ok();
    emu.ms()
        .run(["scan", "diff", &was_medium, new_id, "--fail-on", "high"])
        .expect_code(4);
    // A severity that fell is changed too, and never fails the gate.
    let reverse = emu
        .ms()
        .run([
            "-o",
            "json",
            "scan",
            "diff",
            new_id,
            &was_low,
            "--fail-on",
            "low",
        ])
        .ok()
        .json();
    assert_eq!(reverse["Apps"][0]["Changed"][0]["OldSeverity"], "high");
    assert_eq!(reverse["Apps"][0]["Changed"][0]["Severity"], "low");
}

#[test]
fn a_bad_side_is_a_usage_error() {
    let emu = TestEmulator::start();
    let out = emu
        .ms()
        .run_line("scan diff no/such/file.json abc")
        .expect_code(2);
    out.assert_stderr("neither a file nor a list of ItemIds");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("new.json");
    let new = build(&emu, "1.0", "11111111111111111111111111111111");
    std::fs::write(&saved, new.to_string()).unwrap();
    let saved_arg = saved.to_str().unwrap();
    // A missing file whose name could be an ItemId: no task has it either.
    let out = emu
        .ms()
        .run(["scan", "diff", "main-results", saved_arg])
        .expect_code(2);
    out.assert_stderr("OLD \"main-results\" is neither a file nor the ItemIds of tasks");
    // A directory, JSON without results, text, an SQLite file that is no journal.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "release notes\n").unwrap();
    let diff_json = dir.path().join("diff.json");
    let diff = emu
        .ms()
        .run(["-o", "json", "scan", "diff", saved_arg, saved_arg])
        .ok();
    std::fs::write(&diff_json, &diff.stdout).unwrap();
    let db = dir.path().join("other.db");
    let mut page = b"SQLite format 3\0".to_vec();
    page.resize(4096, 0);
    std::fs::write(&db, page).unwrap();
    let dir_arg = dir.path().to_str().unwrap().to_owned();
    for (bad, expected) in [
        (dir_arg.as_str(), "neither a file nor a list of ItemIds"),
        (diff_json.to_str().unwrap(), "no ScanSet found"),
        (notes.to_str().unwrap(), "invalid JSON"),
        (db.to_str().unwrap(), "journal"),
    ] {
        let out = emu
            .ms()
            .run(["scan", "diff", saved_arg, bad, "--fail-on", "virus"])
            .expect_code(2);
        assert!(
            out.stderr.contains(bad) && out.stderr.contains(expected),
            "{bad}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

#[test]
fn two_runs_diff_by_their_journals() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    // Journals are told by their SQLite header: names without an extension, and one that
    // looks like saved results.
    let (old_journal, new_journal) = (dir.path().join("main-run"), dir.path().join("pr.json"));
    let (old_arg, new_arg) = (old_journal.to_str().unwrap(), new_journal.to_str().unwrap());
    let old = build_with(
        &emu,
        "1.0",
        "11111111111111111111111111111111",
        &["--journal", old_arg],
    );
    let new = build_with(
        &emu,
        "1.1",
        "22222222222222222222222222222222",
        &["--journal", new_arg],
    );
    assert_ne!(vul_ids(&old), vul_ids(&new), "the builds' findings differ");

    let by_journal = emu
        .ms()
        .run(["-o", "json", "scan", "diff", old_arg, new_arg])
        .ok()
        .json();
    assert_eq!(by_journal["Old"], old_arg);
    assert_eq!(by_journal["New"], new_arg);
    let apps = by_journal["Apps"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "{by_journal}");
    assert_eq!(apps[0]["Change"], "changed");
    assert_eq!(apps[0]["Old"]["Version"], "1.0");
    assert_eq!(apps[0]["New"]["Version"], "1.1");
    assert_eq!(
        vul_ids(&new)
            .difference(&vul_ids(&old))
            .cloned()
            .collect::<BTreeSet<String>>(),
        ids(&apps[0]["NewFindings"])
            .into_iter()
            .filter(|i| i.starts_with("vul:"))
            .collect()
    );
    // The same diff as by the runs' ItemIds.
    let item_id = |run: &Value| run["Tasks"][0]["ItemId"].as_str().unwrap().to_owned();
    let by_ids = emu
        .ms()
        .run(["-o", "json", "scan", "diff", &item_id(&old), &item_id(&new)])
        .ok()
        .json();
    assert_eq!(by_journal["Apps"], by_ids["Apps"]);
    assert_eq!(by_journal["Summary"], by_ids["Summary"]);
    // The gate judges the new findings of the run.
    emu.ms()
        .run(["scan", "diff", old_arg, new_arg, "--fail-on", "high"])
        .expect_code(4);
    emu.ms()
        .run(["scan", "diff", new_arg, new_arg, "--fail-on", "high"])
        .ok();
    // A journal with no accepted task is a usage error naming it.
    let empty = dir.path().join("empty");
    let out = emu.ms().env("MS_ENDPOINT", "http://127.0.0.1:9").run([
        "scan",
        "submit",
        "--url",
        "https://cdn.example.com/x.apk",
        "--md5",
        "33333333333333333333333333333333",
        "--journal",
        empty.to_str().unwrap(),
    ]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    let out = emu
        .ms()
        .run(["scan", "diff", empty.to_str().unwrap(), new_arg])
        .expect_code(2);
    out.assert_stderr("no app of the run was accepted");
}
