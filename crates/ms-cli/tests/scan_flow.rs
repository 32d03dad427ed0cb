//! The scan workflow end to end through the built binary against an emulator
//! running in the test process: submit → wait → results → report → list → delete.

mod common;

use common::{TestEmulator, WAIT_JSON, manifest, md5_of, submit_args};
use serde_json::Value;

#[test]
fn submit_wait_results_report_list_delete() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 3);

    // submit
    let out = emu.submit(&m, &["-o", "json"]).ok();
    let v = out.json();
    assert_eq!(v["Apps"], 3);
    assert_eq!(v["Submitted"], 3);
    assert_eq!(v["Unaccepted"].as_array().unwrap().len(), 0);
    assert_eq!(v["States"]["accepted"], 3);
    let item_id = v["Tasks"][0]["ItemId"].as_str().unwrap().to_owned();
    assert!(!item_id.is_empty());
    assert_eq!(v["Tasks"][0]["AppMd5s"].as_array().unwrap().len(), 3);

    // wait
    let out = emu
        .ms()
        .run([
            "scan",
            "wait",
            &item_id,
            "--poll-interval",
            "0.2",
            "-o",
            "json",
        ])
        .ok();
    let v = out.json();
    assert_eq!(v[0]["ItemId"], item_id.as_str());
    assert_eq!(v[0]["Completed"], 3);

    // results (json, parsed back)
    let out = emu
        .ms()
        .run(["scan", "results", &item_id, "-o", "json"])
        .ok();
    let v = out.json();
    assert_eq!(v["ItemId"], item_id.as_str());
    let set = v["ScanSet"].as_array().unwrap();
    assert_eq!(set.len(), 3);
    for s in set {
        assert_eq!(s["TaskStatus"], 1);
        assert!(s["AppDetailInfo"]["AppMd5"].is_string());
    }
    assert!(v["RequestId"].is_string());

    // results filtered by MD5
    let md5 = md5_of(2);
    let out = emu
        .ms()
        .run(["scan", "results", &item_id, "--md5", &md5, "-o", "json"])
        .ok();
    let v = out.json();
    assert_eq!(v["ScanSet"].as_array().unwrap().len(), 1);
    assert_eq!(v["ScanSet"][0]["AppDetailInfo"]["AppMd5"], md5.as_str());

    // results as a table, for people: the task, then a row per app with its verdict
    let out = emu.ms().run(["scan", "results", &item_id]).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("ItemId {item_id} (3 app(s))"),
        "{}",
        out.stdout
    );
    assert!(lines[1].starts_with("APP ") && lines[1].contains("VERDICT"));
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    assert!(lines[2].starts_with("App 0 "), "{}", out.stdout);
    // and as text, for scripts: every column, one line per app, no header
    let out = emu
        .ms()
        .run(["scan", "results", &item_id, "-o", "text"])
        .ok();
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .all(|l| l.starts_with(&item_id) && l.split('\t').count() == 12),
        "{}",
        out.stdout
    );

    // report: markdown to stdout, HTML to a file
    let out = emu
        .ms()
        .run(["scan", "report", &item_id, "--format", "md"])
        .ok();
    assert!(
        out.stdout
            .starts_with(&format!("# Security scan report: {item_id}"))
    );
    assert!(out.stdout.contains("3 app(s) scanned."));
    assert!(out.stdout.contains("## App 0"));
    let html = dir.path().join("report.html");
    emu.ms()
        .run([
            "scan",
            "report",
            &item_id,
            "--format",
            "html",
            "--out",
            html.to_str().unwrap(),
        ])
        .ok();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("App 2"));
    assert!(!page.contains("<script") && !page.contains("<link"));

    // report from saved results, offline
    let saved = dir.path().join("results.json");
    let out = emu
        .ms()
        .run(["scan", "results", &item_id, "-o", "json"])
        .ok();
    std::fs::write(&saved, out.stdout).unwrap();
    let out = common::Ms::new()
        .run(["scan", "report", "--input", saved.to_str().unwrap()])
        .ok();
    assert!(out.stdout.contains("3 app(s) scanned."));

    // list: json and text
    let out = emu
        .ms()
        .run(["scan", "list", "--item-id", &item_id, "-o", "json"])
        .ok();
    let v = out.json();
    assert_eq!(v["TotalCount"], 3);
    let sids: Vec<String> = v["ScanSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["AppSid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sids.len(), 3);
    let out = emu.ms().run_line("scan list --all -o text").ok();
    assert_eq!(out.stdout.lines().count(), 3);
    assert!(
        out.stdout.lines().all(|l| l.split('\t').count() == 10),
        "{}",
        out.stdout
    );

    // delete: refused without --yes when nobody can confirm
    let out = emu.ms().run(["scan", "delete", &sids[0]]).expect_code(2);
    out.assert_stderr("--yes");

    // delete with --yes
    let mut args = vec![
        "scan".to_owned(),
        "delete".to_owned(),
        "--yes".to_owned(),
        "-o".to_owned(),
        "json".to_owned(),
    ];
    args.extend(sids.iter().cloned());
    let out = emu.ms().run(&args).ok();
    assert_eq!(out.json()["Deleted"].as_array().unwrap().len(), 3);
    let out = emu
        .ms()
        .run(["scan", "list", "--item-id", &item_id, "-o", "json"])
        .ok();
    assert_eq!(out.json()["TotalCount"], 0);
}

#[test]
fn submit_with_wait_shows_results_and_every_item_id() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 25);
    let out = emu.submit(&m, &WAIT_JSON).ok();
    let v = out.json();
    assert_eq!(v["Submitted"], 25);
    let tasks = v["Tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2, "chunks of 20");
    assert_eq!(tasks[0]["AppMd5s"].as_array().unwrap().len(), 20);
    assert_eq!(tasks[1]["AppMd5s"].as_array().unwrap().len(), 5);
    let results = v["Results"].as_array().unwrap();
    let apps: usize = results
        .iter()
        .map(|t| t["ScanSet"].as_array().unwrap().len())
        .sum();
    assert_eq!(apps, 25);

    // The table form prints each ItemId.
    let out = emu.submit(&m, &[]).ok();
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| !l.starts_with("ITEM_ID"))
            .count(),
        2,
        "{}",
        out.stdout
    );
}

#[test]
fn one_app_from_arguments_and_local_apks() {
    let emu = TestEmulator::start();
    let out = emu
        .ms()
        .run([
            "scan",
            "submit",
            "--url",
            "https://cdn.example.com/one.apk",
            "--md5",
            &md5_of(7).to_uppercase(),
            "--size",
            "1234",
            "--name",
            "One",
            "--package",
            "com.one",
            "--app-version",
            "2.0",
            "--scan-types",
            "VULSCAN,VIRUSSCAN",
            "-o",
            "json",
        ])
        .ok();
    let v = out.json();
    assert_eq!(v["Submitted"], 1);
    assert_eq!(v["Tasks"][0]["AppMd5s"][0], md5_of(7).as_str());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.apk"), b"hello world").unwrap();
    std::fs::write(dir.path().join("b.apk"), b"other bytes").unwrap();
    let out = emu
        .ms()
        .run([
            "scan",
            "submit",
            "--apk",
            dir.path().to_str().unwrap(),
            "--url-prefix",
            "https://cdn.example.com/apks",
            "-o",
            "json",
        ])
        .ok();
    let v = out.json();
    assert_eq!(v["Submitted"], 2);
    let md5s = v["Tasks"][0]["AppMd5s"].as_array().unwrap();
    assert!(
        md5s.contains(&Value::from("5eb63bbbe01eeed093cb22bb8f5acdc3")),
        "{md5s:?}"
    );
}

#[test]
fn service_errors_exit_1_with_code_and_request_id() {
    let emu = TestEmulator::start();
    let out = emu
        .ms()
        .run_line("scan results no-such-item")
        .expect_code(1);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    out.assert_stderr("RequestId");
    out.assert_stderr("ResourceNotFound");
    assert!(out.stderr.lines().count() <= 2, "{}", out.stderr);

    let out = emu
        .ms()
        .env("TENCENTCLOUD_SECRET_KEY", "wrong-key-wrong-key")
        .run_line("scan list")
        .expect_code(1);
    out.assert_stderr("AuthFailure");
    assert!(
        !out.stderr.contains("wrong-key-wrong-key"),
        "no secret in errors"
    );
}

#[test]
fn manifest_csv_and_stdin() {
    let emu = TestEmulator::start();
    let csv = format!(
        "url,md5,size,name\nhttps://e.com/a.apk,{},10,A\nhttps://e.com/b.apk,{},,B\n",
        md5_of(1),
        md5_of(2)
    );
    let out = emu
        .ms()
        .stdin(csv.clone())
        .run_line("scan submit --manifest - --manifest-format csv -o json")
        .ok();
    assert_eq!(out.json()["Submitted"], 2);
    let out = emu
        .ms()
        .run_line("scan submit --manifest examples/apps.csv --dry-run -o json")
        .ok();
    assert_eq!(out.json()["Apps"], 5);
}

#[test]
fn no_callback_url_by_default_and_the_given_one_otherwise() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 2);

    // Nothing given: ScanInfo.CallbackUrl is empty (no notification), not an invented URL.
    let out = emu.submit(&m, &["--dry-run", "-o", "json"]).ok();
    assert_eq!(out.json()["CallbackUrl"], "");
    emu.submit(&m, &WAIT_JSON).ok();
    assert!(emu.deliveries().is_empty(), "{:?}", emu.deliveries());

    // Given (here through the environment): used for every app.
    let hook = "http://127.0.0.1:9/ms-hook";
    let out = emu
        .ms()
        .env("MS_CALLBACK_URL", hook)
        .run(submit_args(&m, &["--dry-run", "-o", "json"]))
        .ok();
    assert_eq!(out.json()["CallbackUrl"], hook);
    emu.ms()
        .env("MS_CALLBACK_URL", hook)
        .run(submit_args(&m, &WAIT_JSON))
        .ok();
    let deliveries = emu.deliveries();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert!(deliveries.iter().all(|d| d.url == hook));
}

/// Client-side calls of `action` in `-v` logs.
/// Calls of `action` in a `-v` log: the one event per call that carries its outcome.
fn calls(stderr: &str, action: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains(&format!("ms.call{{action=\"{action}\"")) && l.contains(" outcome="))
        .count()
}

#[test]
fn wait_lists_many_tasks_per_request_and_fails_fast_on_an_unknown_item_id() {
    // No rate limits to wait on: this test counts requests.
    let emu = TestEmulator::with_config(
        ms_emulator::EmulatorConfig::demo()
            .with_scan_duration(std::time::Duration::from_millis(300))
            .with_rate_limit(0),
    );
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 60);
    // One app per task: 60 tasks.
    let out = emu
        .ms()
        .run([
            "--rate-limit",
            "10000",
            "scan",
            "submit",
            "--manifest",
            m.to_str().unwrap(),
            "--chunk-size",
            "1",
            "-o",
            "json",
        ])
        .ok();
    let mut ids: Vec<String> = out.json()["Tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ItemId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 60);
    let wait = |ids: &[String]| {
        let mut args = vec![
            "-v",
            "--rate-limit",
            "10000",
            "-o",
            "json",
            "scan",
            "wait",
            "--poll-interval",
            "0.1",
        ];
        args.extend(ids.iter().map(String::as_str));
        emu.ms().run(&args)
    };
    wait(&ids).ok();

    // All finished now: one round, the 60 ItemIds listed 5 per request (a task holds up
    // to 20 apps, a page 100), never one DescribeScanResults call per task.
    ids.push(ids[0].clone());
    let out = wait(&ids).ok();
    assert_eq!(
        calls(&out.stderr, "DescribeScanInstances"),
        12,
        "{}",
        out.stderr
    );
    assert_eq!(
        calls(&out.stderr, "DescribeScanResults"),
        0,
        "{}",
        out.stderr
    );
    let v = out.json();
    let tasks = v.as_array().unwrap();
    assert_eq!(
        tasks.len(),
        60,
        "one line per task: the ItemId given twice is waited for once"
    );
    assert!(tasks.iter().all(|t| t["Apps"] == 1 && t["Completed"] == 1));
    assert_eq!(
        tasks[0]["ItemId"],
        ids[0].as_str(),
        "in the order first given"
    );
    out.assert_stderr(&format!("note: ItemId {} is given more than once", ids[0]));

    // An unknown ItemId: the service's error at once, not a wait until the timeout.
    let out = emu
        .ms()
        .limit(std::time::Duration::from_secs(60))
        .run([
            "scan",
            "wait",
            &ids[1],
            "no-such-item",
            "--wait-timeout",
            "3600",
        ])
        .expect_code(1);
    out.assert_stderr("ItemIdNotFound");
    out.assert_stderr("no-such-item");
}

#[test]
fn list_all_walks_every_page_from_the_offset() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 130);
    emu.submit(&m, &[]).ok();
    // 130 apps: two pages of at most 100.
    let v = emu.ms().run_line("scan list --all -o json").ok().json();
    assert_eq!(v["TotalCount"], 130);
    let md5s: std::collections::BTreeSet<String> = v["ScanSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AppMd5"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(md5s.len(), 130);
    assert!((1..=130).all(|i| md5s.contains(&md5_of(i))));
    let v = emu
        .ms()
        .run_line("scan list --all --offset 25 -o json")
        .ok()
        .json();
    assert_eq!(v["ScanSet"].as_array().unwrap().len(), 105);
}
