//! The `--emulator` flow (the README's first command) and `ms call`.

mod common;

use common::{Ms, TestEmulator};

#[test]
fn readme_command_runs_a_whole_batch_on_the_embedded_emulator() {
    let out = Ms::new()
        .run_line("--emulator scan submit --manifest examples/apps.json --wait --poll-interval 0.5 -o json")
        .ok();
    let v = out.json();
    let apps = v["Apps"].as_u64().unwrap();
    assert!(apps >= 30, "the example manifest has ~30 apps");
    assert_eq!(v["Submitted"].as_u64().unwrap(), apps);
    let tasks = v["Tasks"].as_array().unwrap();
    assert_eq!(tasks.len() as u64, apps.div_ceil(20));
    let results = v["Results"].as_array().unwrap();
    let scanned: usize = results
        .iter()
        .map(|t| t["ScanSet"].as_array().unwrap().len())
        .sum();
    assert_eq!(scanned as u64, apps);
    assert!(results.iter().all(|t| {
        t["ScanSet"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["TaskStatus"] == 1)
    }));
}

#[test]
fn embedded_emulator_table_output_prints_item_ids_then_results() {
    let out = Ms::new()
        .run_line("--emulator scan submit --manifest examples/apps.csv --wait --poll-interval 0.5")
        .ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("ITEM_ID"), "{}", out.stdout);
    out.assert_stdout("VERDICT");
    out.assert_stderr("submitted 5 app(s) in 1 task(s)");
}

#[test]
fn call_a_scan_action_and_parse_the_answer() {
    let emu = TestEmulator::start();
    let body = format!(
        r#"{{"AppInfos": [{{"AppUrl": "https://e.com/a.apk", "AppMd5": "{}", "AppSize": "1024"}}],
            "ScanInfo": {{"CallbackUrl": "https://hooks.example.com/ms", "ScanTypes": ["VULSCAN"]}}}}"#,
        common::md5_of(9)
    );
    let out = emu
        .ms()
        .stdin(body)
        .run_line("call CreateScanInstances --input-json -")
        .ok();
    let v = out.json();
    let item_id = v["ItemId"].as_str().unwrap();
    assert!(v["RequestId"].is_string());

    let out = emu
        .ms()
        .run([
            "call",
            "DescribeScanInstances",
            "--json",
            &format!(r#"{{"ItemIds": ["{item_id}"], "Limit": 5}}"#),
        ])
        .ok();
    let v = out.json();
    assert_eq!(v["TotalCount"], 1);
    assert_eq!(v["ScanSet"][0]["ItemId"], item_id);

    // For people and scripts: the same answer as a table, and as flattened text lines.
    let params = format!(r#"{{"ItemIds": ["{item_id}"]}}"#);
    let out = emu
        .ms()
        .run([
            "call",
            "DescribeScanInstances",
            "--json",
            &params,
            "-o",
            "table",
        ])
        .ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["FIELD", "VALUE"]
    );
    assert!(
        lines[1].starts_with("TotalCount") && lines[1].ends_with(" 1"),
        "{}",
        out.stdout
    );
    let at = lines.iter().position(|l| *l == "ScanSet (1):").unwrap();
    assert!(lines[at + 1].starts_with("ItemId "), "{}", out.stdout);
    assert!(lines[at + 2].starts_with(item_id), "{}", out.stdout);
    let out = emu
        .ms()
        .run([
            "call",
            "DescribeScanInstances",
            "--json",
            &params,
            "-o",
            "text",
        ])
        .ok();
    assert!(
        out.stdout.lines().any(|l| l == "TotalCount\t1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l == format!("ScanSet.0.ItemId\t{item_id}")),
        "{}",
        out.stdout
    );
}

#[test]
fn call_an_action_the_emulator_does_not_implement() {
    let emu = TestEmulator::start();
    let out = emu
        .ms()
        .run([
            "call",
            "DescribeShieldInstances",
            "--json",
            r#"{"Limit": 10}"#,
        ])
        .expect_code(1);
    out.assert_stderr("UnsupportedOperation");
    out.assert_stderr("RequestId");
}

#[test]
fn call_list_names_all_27_actions() {
    let out = Ms::new().run_line("call --list -o json").ok();
    let v = out.json();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 27);
    assert!(
        list.iter()
            .any(|a| a["Action"] == "DescribeScanResults" && a["Idempotent"] == true)
    );
    let out = Ms::new().run_line("call --list").ok();
    assert_eq!(out.stdout.lines().count(), 28);
}

#[test]
fn call_validates_before_sending() {
    // No endpoint is reachable here: exit code 2 (not 3) proves nothing was sent.
    let out = Ms::unreachable()
        .env("TENCENTCLOUD_SECRET_ID", "AKIDtest")
        .env("TENCENTCLOUD_SECRET_KEY", "key")
        .run(["call", "CreateScanInstances", "--json", r#"{"AppInfos": [{"AppUrl": "https://e/a", "AppMd5": "xyz"}], "ScanInfo": {"CallbackUrl": "", "ScanTypes": []}}"#])
        .expect_code(2);
    out.assert_stderr("AppMd5");
    let out = Ms::new()
        .run([
            "call",
            "describescanresults",
            "--json",
            r#"{"ItemId": "x"}"#,
            "--dry-run",
        ])
        .ok();
    assert_eq!(out.json()["Action"], "DescribeScanResults");
}
