//! `ms` in CI: the policy gate (exit code 4), SARIF and JUnit reports, driven through the
//! real `ms` binary against the emulator with `examples/apps.json` (32 apps; the emulator's
//! findings are deterministic per MD5: QR Scanner and Code Editor are viruses), on
//! `scan results`, `scan report`, `scan submit --wait` and `scan wait`.

mod common;

use std::path::Path;

use common::{Ms, TestEmulator};
use serde_json::Value;

/// The two apps of examples/apps.json the emulator reports as viruses.
const VIRUSES: [(&str, &str); 2] = [
    ("com.example.qrscanner", "efb540d74e85f846deb2bb598b4429be"),
    ("com.example.codeeditor", "cd3a05691de35b9a8acfadafbc7823b2"),
];

/// Submits examples/apps.json, waits, and returns the ItemIds.
fn submit_examples(emu: &TestEmulator) -> Vec<String> {
    item_ids(&submit_wait(emu, &[]).ok().json()["Tasks"])
}

/// The ItemIds of an array of tasks (a `scan submit` document's Tasks, `scan results` or
/// `scan wait` output), in order.
fn item_ids(tasks: &Value) -> Vec<String> {
    tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ItemId"].as_str().unwrap().to_owned())
        .collect()
}

/// `-o json scan submit --manifest MANIFEST --wait --poll-interval 0.2` with extra
/// arguments, run to its end.
fn submit_wait_of(emu: &TestEmulator, manifest: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "-o",
        "json",
        "scan",
        "submit",
        "--manifest",
        manifest.to_str().unwrap(),
        "--wait",
        "--poll-interval",
        "0.2",
    ];
    args.extend_from_slice(extra);
    emu.ms().run(args)
}

/// `scan submit --manifest examples/apps.json --wait` with extra arguments (the examples'
/// 32 apps), run to its end.
fn submit_wait(emu: &TestEmulator, extra: &[&str]) -> common::Run {
    submit_wait_of(emu, Path::new("examples/apps.json"), extra)
}

/// The attributes `names` of the first `testsuite` of a JUnit document.
fn suite_attributes<const N: usize>(xml: &str, names: [&str; N]) -> [String; N] {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    names.map(|a| suite.attribute(a).unwrap().to_owned())
}

fn with_ids<'a>(args: &[&'a str], ids: &'a [String]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(ids.iter().map(String::as_str));
    v
}

/// `ms` against `emu` with `args` then the ItemIds `ids`.
fn on_tasks(emu: &TestEmulator, args: &[&str], ids: &[String]) -> common::Run {
    emu.ms().run(with_ids(args, ids))
}

/// A UTC date `days` from today (negative: in the past), as `YYYY-MM-DD`.
fn date_in(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    tc3_sign::utc_date((now + days * 86_400) as u64)
}

/// A policy allowing both viruses until `expires`.
fn allow_both_viruses(dir: &Path, expires: &str) -> std::path::PathBuf {
    let mut text = String::from("fail-on = \"virus\"\n");
    for (package, md5) in VIRUSES {
        let key = if package.ends_with("qrscanner") {
            format!("package = \"{package}\"")
        } else {
            format!("md5 = \"{md5}\"")
        };
        text.push_str(&format!(
            "\n[[allow]]\n{key}\nfinding = \"virus:*\"\nreason = \"sample app used by the test suite\"\nexpires = {expires}\n"
        ));
    }
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn fail_on_and_policy_gate_the_exit_code() {
    let emu = TestEmulator::start();
    let ids = submit_examples(&emu);
    assert_eq!(ids.len(), 2, "32 apps in two tasks");

    // No gate: exit 0, whatever was found.
    let plain = on_tasks(&emu, &["-o", "json", "scan", "results"], &ids).ok();
    let tasks = plain.json();
    let apps: usize = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ScanSet"].as_array().unwrap().len())
        .sum();
    assert_eq!(apps, 32);

    // --fail-on virus: exit 4, the normal output complete, a summary naming both viruses.
    let gated = on_tasks(
        &emu,
        &["-o", "json", "scan", "results", "--fail-on", "virus"],
        &ids,
    )
    .expect_code(4);
    let without_request_ids = |mut v: Value| {
        for t in v.as_array_mut().unwrap() {
            t.as_object_mut().unwrap().remove("RequestId");
        }
        v
    };
    assert!(
        without_request_ids(gated.json()) == without_request_ids(tasks.clone()),
        "the output is the same as without a gate"
    );
    gated.assert_stderr("policy --fail-on virus violated: 2 violation(s) in 2 of 32 app(s)");
    for (package, _) in VIRUSES {
        gated.assert_stderr(package);
    }
    // The table output is gated the same way.
    on_tasks(&emu, &["scan", "results", "--fail-on", "virus"], &ids).expect_code(4);
    // high also fails on viruses, and on the high-risk apps.
    let high = on_tasks(&emu, &["scan", "results", "--fail-on", "high"], &ids).expect_code(4);
    high.assert_stderr("in 20 of 32 app(s)");

    // A policy file that allows both viruses, unexpired: exit 0.
    let dir = tempfile::tempdir().unwrap();
    let policy = allow_both_viruses(dir.path(), &date_in(30));
    let policy_arg = policy.to_str().unwrap();
    on_tasks(&emu, &["scan", "results", "--policy", policy_arg], &ids).ok();
    // On its last day the entries still apply.
    let _ = allow_both_viruses(dir.path(), &date_in(0));
    on_tasks(&emu, &["scan", "results", "--policy", policy_arg], &ids).ok();
    // Once they expire: exit 4, naming the expired entries.
    let _ = allow_both_viruses(dir.path(), &date_in(-1));
    let expired = on_tasks(&emu, &["scan", "results", "--policy", policy_arg], &ids).expect_code(4);
    assert!(
        expired.stderr.contains("expired on") && expired.stderr.contains("2 violation(s)"),
        "{}",
        expired.stderr
    );

    // The gate works on saved results too, without calling the service.
    let saved = dir.path().join("results.json");
    std::fs::write(&saved, &plain.stdout).unwrap();
    Ms::new()
        .run([
            "scan",
            "report",
            "--input",
            saved.to_str().unwrap(),
            "--fail-on",
            "virus",
        ])
        .expect_code(4);
    // ... and on the JSON Lines of `scan submit --wait -o jsonl` (its results events).
    let jsonl = emu
        .ms()
        .run_line("-o jsonl scan submit --manifest examples/apps.json --wait --poll-interval 0.2")
        .ok();
    let stream = dir.path().join("run.jsonl");
    std::fs::write(&stream, &jsonl.stdout).unwrap();
    let junit = Ms::new()
        .run([
            "scan",
            "report",
            "--input",
            stream.to_str().unwrap(),
            "--format",
            "junit",
            "--fail-on",
            "virus",
        ])
        .expect_code(4);
    assert_eq!(
        suite_attributes(&junit.stdout, ["tests", "failures"]),
        ["32", "2"]
    );
}

/// Asserts that a gated run exited 2 saying that the gate judged no app.
fn assert_judged_nothing(run: common::Run) -> common::Run {
    let run = run.expect_code(2);
    assert!(
        run.stderr.contains("judged no app"),
        "a gate that checked nothing must say so: {}",
        run.stderr
    );
    run
}

#[test]
fn a_gate_that_judges_no_app_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    // Saved results holding no app: the gate checked nothing, exit 2 (not 0).
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "[]").unwrap();
    let empty_arg = empty.to_str().unwrap();
    let policy = allow_both_viruses(dir.path(), &date_in(30));
    let policy_arg = policy.to_str().unwrap();
    for gate in [["--fail-on", "virus"], ["--policy", policy_arg]] {
        let mut args = vec!["scan", "report", "--input", empty_arg];
        args.extend(gate);
        let run = assert_judged_nothing(Ms::new().run(args));
        assert!(
            run.stdout.contains("Security scan report"),
            "the report is still written"
        );
    }
    // Without a gate, no apps is no failure.
    Ms::new().run(["scan", "report", "--input", empty_arg]).ok();

    let emu = TestEmulator::start();
    let ids = submit_examples(&emu);
    let nothing = "00000000000000000000000000000000";
    // --md5 matching no app of the task, on results and report.
    let results = assert_judged_nothing(emu.ms().run([
        "-o",
        "json",
        "scan",
        "results",
        &ids[0],
        "--md5",
        nothing,
        "--fail-on",
        "virus",
    ]));
    assert_eq!(
        results.json()["ScanSet"],
        Value::Array(vec![]),
        "output complete"
    );
    assert_judged_nothing(emu.ms().run([
        "scan", "report", &ids[0], "--md5", nothing, "--policy", policy_arg,
    ]));
    emu.ms()
        .run(["scan", "results", &ids[0], "--md5", nothing])
        .ok();
    // A diff whose new build holds no app judged nothing either.
    let saved = dir.path().join("old.json");
    let old = on_tasks(&emu, &["-o", "json", "scan", "results"], &ids).ok();
    std::fs::write(&saved, &old.stdout).unwrap();
    assert_judged_nothing(Ms::new().run([
        "scan",
        "diff",
        saved.to_str().unwrap(),
        empty_arg,
        "--fail-on",
        "high",
    ]));
    // The same matching apps still pass or fail as before.
    on_tasks(
        &emu,
        &[
            "scan",
            "results",
            "--fail-on",
            "virus",
            "--md5",
            VIRUSES[0].1,
        ],
        &ids,
    )
    .expect_code(4);
}

#[test]
fn an_item_id_given_twice_is_fetched_and_judged_once() {
    let emu = TestEmulator::start();
    let ids = submit_examples(&emu);
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    let noted = |stderr: &str| {
        assert!(
            stderr.contains(&format!("note: ItemId {a} is given more than once")),
            "{stderr}"
        );
    };
    // scan results: each task once, in first order; the summary counts 32 apps, not 48.
    let results = emu
        .ms()
        .run([
            "-o",
            "json",
            "scan",
            "results",
            a,
            b,
            a,
            "--fail-on",
            "virus",
        ])
        .expect_code(4);
    assert_eq!(item_ids(&results.json()), [a, b]);
    results.assert_stderr("2 violation(s) in 2 of 32 app(s)");
    noted(&results.stderr);
    // Several ItemIds print an array, even when they name one task.
    let one = emu
        .ms()
        .run(["-o", "json", "scan", "results", a, a])
        .ok()
        .json();
    assert_eq!(one.as_array().map(Vec::len), Some(1), "{one}");
    // scan report: JUnit and SARIF count each app once.
    let junit = emu
        .ms()
        .run([
            "scan",
            "report",
            a,
            b,
            b,
            a,
            "--format",
            "junit",
            "--fail-on",
            "virus",
        ])
        .expect_code(4);
    noted(&junit.stderr);
    assert_eq!(
        suite_attributes(&junit.stdout, ["tests", "failures"]),
        ["32", "2"]
    );
    let sarif_results = |args: &[&str]| -> usize {
        let mut all = vec!["scan", "report", "--format", "sarif"];
        all.extend_from_slice(args);
        let log: Value = serde_json::from_str(&emu.ms().run(all).ok().stdout).unwrap();
        log["runs"][0]["results"].as_array().unwrap().len()
    };
    assert_eq!(sarif_results(&[a, a]), sarif_results(&[a]));
    // scan wait: one row per task, the gate's summary over 32 apps.
    let waited = emu
        .ms()
        .run(["-o", "json", "scan", "wait", b, a, b, "--fail-on", "virus"])
        .expect_code(4);
    assert_eq!(item_ids(&waited.json()), [b, a]);
    waited.assert_stderr("in 2 of 32 app(s)");
}

/// Replaces every task's `"RequestId": "..."` (each call has its own) by a fixed one, keeping
/// the rest of the bytes.
fn without_request_ids(json: &str) -> String {
    json.lines()
        .map(|l| match l.split_once("\"RequestId\": \"") {
            Some((indent, _)) => format!("{indent}\"RequestId\": \"R\""),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn results_of_a_journal_stream_task_by_task_with_the_same_bytes() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.db");
    let journal_arg = journal.to_str().unwrap();
    submit_wait(&emu, &["--journal", journal_arg]).ok();
    let out = emu
        .ms()
        .run(["-o", "json", "scan", "results", "--journal", journal_arg])
        .ok();
    // What `ms scan results` printed before it streamed: each task's answer (here read
    // through `ms call`, the API's reply as it is) as {ItemId, ScanSet, TotalCount,
    // RequestId}, pretty-printed by serde_json as one array, with a final newline.
    let printed: Value = serde_json::from_str(&out.stdout).unwrap();
    let tasks = printed.as_array().unwrap();
    assert_eq!(tasks.len(), 2, "the run's two tasks");
    let expected: Vec<Value> = tasks
        .iter()
        .map(|t| {
            let id = t["ItemId"].as_str().unwrap();
            let answer = emu
                .ms()
                .run([
                    "-o",
                    "json",
                    "call",
                    "DescribeScanResults",
                    "--json",
                    &format!(r#"{{"ItemId": "{id}"}}"#),
                ])
                .ok()
                .json();
            let scan_set = answer["ScanSet"].as_array().unwrap().clone();
            serde_json::json!({
                "ItemId": id,
                "TotalCount": scan_set.len(),
                "ScanSet": scan_set,
                "RequestId": t["RequestId"],
            })
        })
        .map(|mut v| {
            // The member order of the output: ItemId, ScanSet, TotalCount, RequestId.
            let o = v.as_object_mut().unwrap();
            let count = o.shift_remove("TotalCount").unwrap();
            let request = o.shift_remove("RequestId").unwrap();
            o.insert("TotalCount".into(), count);
            o.insert("RequestId".into(), request);
            v
        })
        .collect();
    let expected = serde_json::to_string_pretty(&Value::Array(expected)).unwrap() + "\n";
    assert!(
        out.stdout == expected,
        "the streamed bytes differ:\n{}",
        out.stdout
    );
    // The same by ItemIds; and under a gate, judged as it streams: exit 4, the same bytes.
    let ids = item_ids(&printed);
    let by_ids = on_tasks(&emu, &["-o", "json", "scan", "results"], &ids).ok();
    assert_eq!(
        without_request_ids(&by_ids.stdout),
        without_request_ids(&expected)
    );
    let gated = emu
        .ms()
        .run([
            "-o",
            "json",
            "scan",
            "results",
            "--journal",
            journal_arg,
            "--fail-on",
            "virus",
        ])
        .expect_code(4);
    assert_eq!(
        without_request_ids(&gated.stdout),
        without_request_ids(&expected)
    );
    gated.assert_stderr("policy --fail-on virus violated: 2 violation(s) in 2 of 32 app(s)");
}

#[test]
fn unused_allow_entries_are_noted_without_changing_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // Both viruses allowed (used), plus: a stale entry for a scanned app (no such finding),
    // an entry for an app of another pipeline, and an expired stale entry.
    let policy = allow_both_viruses(dir.path(), &date_in(30));
    let mut text = std::fs::read_to_string(&policy).unwrap();
    let first_extra = text.lines().count() + 2;
    for (package, finding, expires) in [
        ("com.example.qrscanner", "vul:99999", date_in(30)),
        ("com.example.elsewhere", "virus:*", date_in(30)),
        ("com.example.qrscanner", "vul:99998", date_in(-1)),
    ] {
        text.push_str(&format!(
            "\n[[allow]]\npackage = \"{package}\"\nfinding = \"{finding}\"\nreason = \"r\"\nexpires = {expires}\n"
        ));
    }
    std::fs::write(&policy, text).unwrap();
    let policy_arg = policy.to_str().unwrap();
    let stale = format!(
        "note: allow entry {policy_arg}:{first_extra} (vul:99999 for com.example.qrscanner) matched no finding"
    );
    let notes = |stderr: &str| {
        stderr
            .lines()
            .filter(|l| l.contains("matched no finding"))
            .count()
    };

    let emu = TestEmulator::start();
    // scan submit --wait: the policy passes (both viruses allowed): exit 0, one note.
    let submitted = submit_wait(&emu, &["--policy", policy_arg]).ok();
    submitted.assert_stderr(&stale);
    assert_eq!(notes(&submitted.stderr), 1, "{}", submitted.stderr);
    let ids = item_ids(&submitted.json()["Tasks"]);
    // scan results (streamed JSON and table), scan wait, scan report: the same note, exit 0.
    for args in [
        vec!["-o", "json", "scan", "results"],
        vec!["scan", "results"],
        vec!["scan", "wait"],
        vec!["scan", "report", "--format", "junit"],
    ] {
        let mut args = with_ids(&args, &ids);
        args.extend(["--policy", policy_arg]);
        let run = emu.ms().run(&args).ok();
        assert!(run.stderr.contains(&stale), "{args:?}: {}", run.stderr);
        assert_eq!(notes(&run.stderr), 1, "{args:?}: {}", run.stderr);
    }
    // With a violation the exit code stays 4, and the note is still there.
    let violated = on_tasks(
        &emu,
        &[
            "scan",
            "results",
            "--policy",
            policy_arg,
            "--fail-on",
            "high",
        ],
        &ids,
    )
    .expect_code(4);
    violated.assert_stderr(&stale);
    // --md5 of another app (the Code Editor, its virus allowed): the stale entry's app was
    // not judged, so no note.
    let other = on_tasks(
        &emu,
        &[
            "scan",
            "results",
            "--policy",
            policy_arg,
            "--md5",
            VIRUSES[1].1,
        ],
        &ids,
    )
    .ok();
    assert_eq!(notes(&other.stderr), 0, "{}", other.stderr);
    // A policy whose entries are all used prints no note.
    let clean = allow_both_viruses(dir.path(), &date_in(30));
    let run = on_tasks(
        &emu,
        &["scan", "results", "--policy", clean.to_str().unwrap()],
        &ids,
    )
    .ok();
    assert_eq!(notes(&run.stderr), 0, "{}", run.stderr);
}

#[test]
fn service_and_usage_errors_keep_their_exit_codes_under_a_gate() {
    let emu = TestEmulator::start();
    // An unknown task: the service's error (exit 1), not the policy's 4.
    let missing = emu
        .ms()
        .run_line("scan results 0123456789abcdef0123456789abcdef --fail-on low")
        .expect_code(1);
    missing.assert_stderr("ItemIdNotFound");
    // A malformed policy is a usage error naming the file, the line and the field, found
    // before anything is sent.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "fail-on = \"high\"\n\n[[allow]]\npackage = \"com.example.qrscanner\"\nfinding = \"virus:*\"\nreason = \"x\"\nexpires = 2026-13-01\n",
    )
    .unwrap();
    let bad = Ms::unreachable()
        .run([
            "scan",
            "results",
            "0123456789abcdef0123456789abcdef",
            "--policy",
            path.to_str().unwrap(),
        ])
        .expect_code(2);
    bad.assert_stderr(&format!("{}:7:11: allow[0].expires", path.display()));
    let _ = Ms::new()
        .run_line("scan results x --fail-on severe")
        .expect_code(2);
}

#[test]
fn junit_has_a_test_case_per_app_and_a_failure_per_violation() {
    let emu = TestEmulator::start();
    let ids = submit_examples(&emu);
    let out = on_tasks(
        &emu,
        &["scan", "report", "--format", "junit", "--fail-on", "virus"],
        &ids,
    )
    .expect_code(4);
    let doc = roxmltree::Document::parse(&out.stdout).expect("well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("32"));
    assert_eq!(suite.attribute("failures"), Some("2"));
    assert_eq!(suite.attribute("errors"), Some("0"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 32);
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("classname").unwrap())
        .collect();
    assert_eq!(failed, ["com.example.qrscanner", "com.example.codeeditor"]);
    // Test cases are named by the app, not the build (the version and MD5 are in the texts).
    let names: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    assert_eq!(names, ["QR Scanner", "Code Editor"]);
    let failure = cases
        .iter()
        .flat_map(|c| c.children())
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure.attribute("type").unwrap().starts_with("virus:"),
        "{failure:?}"
    );
    // Without a gate nothing fails, and every app still has its test case and findings.
    let plain = on_tasks(&emu, &["scan", "report", "--format", "junit"], &ids).ok();
    let doc = roxmltree::Document::parse(&plain.stdout).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        32
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        0
    );
    plain.assert_stdout("<system-out>app: QR Scanner 5.2.0 (com.example.qrscanner, MD5 efb540d74e85f846deb2bb598b4429be)\nverdict: virus\n");
}

/// The official SARIF 2.1.0 schema (OASIS, errata 01), vendored as test data.
fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("the schema compiles")
}

fn schema_errors(validator: &jsonschema::Validator, log: &Value) -> Vec<String> {
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_is_valid_against_the_official_schema_and_fingerprints_are_stable() {
    let validator = sarif_validator();
    // The validator is not vacuous: a log without `version` is rejected.
    assert!(!schema_errors(&validator, &serde_json::json!({"runs": []})).is_empty());

    let emu = TestEmulator::start();
    let ids = submit_examples(&emu);
    let dir = tempfile::tempdir().unwrap();
    let policy = allow_both_viruses(dir.path(), &date_in(30));
    let out_path = dir.path().join("ms.sarif");
    // `scan report --format sarif --policy P --out ms.sarif`, the file read back.
    let report = || -> Value {
        let (policy, out) = (policy.to_str().unwrap(), out_path.to_str().unwrap());
        let args = [
            "scan", "report", "--format", "sarif", "--policy", policy, "--out", out,
        ];
        emu.ms().run(with_ids(&args, &ids)).ok();
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap()
    };
    let log = report();
    let errors = schema_errors(&validator, &log);
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(run["artifacts"].as_array().unwrap().len(), 32);
    // One rule per finding id; every result points at its rule and its app.
    let rule_ids: std::collections::BTreeSet<&str> =
        rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rule_ids.len(), rules.len());
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        let a = r["locations"][0]["physicalLocation"]["artifactLocation"]["index"]
            .as_u64()
            .unwrap() as usize;
        assert_eq!(
            run["artifacts"][a]["location"]["uri"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        );
    }
    // Both viruses: level error, suppressed by the policy with its reason.
    let viruses: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"].as_str().unwrap().starts_with("virus:"))
        .collect();
    assert_eq!(viruses.len(), 2);
    for v in &viruses {
        assert_eq!(v["level"], "error");
        assert_eq!(v["suppressions"][0]["status"], "accepted");
        assert!(
            v["suppressions"][0]["justification"]
                .as_str()
                .unwrap()
                .starts_with("sample app used by the test suite")
        );
    }
    let level_of_risk = |level: &str| {
        results
            .iter()
            .filter(|r| r["properties"]["severity"] == level)
            .all(|r| {
                r["level"]
                    == match level {
                        "high" => "error",
                        "medium" => "warning",
                        _ => "note",
                    }
            })
    };
    assert!(
        ["high", "medium", "low", "info"]
            .into_iter()
            .all(level_of_risk)
    );
    // Fingerprints are unique within the log.
    let prints: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["partialFingerprints"]["msFinding/v1"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), results.len());
    // The same report made again (another process, the results fetched again) is the same
    // log, fingerprints and all.
    let again = report();
    assert!(again == log, "a report made twice differs");
}

/// The JUnit test cases of a report: (classname, name).
fn junit_cases(xml: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            let attr = |a| c.attribute(a).unwrap().to_owned();
            (attr("classname"), attr("name"))
        })
        .collect()
}

#[test]
fn the_same_finding_in_the_next_build_has_the_same_fingerprint() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("builds.json");
    // Two builds of one app (same package, new version and MD5), submitted apart.
    let build = |version: &str, md5: &str| {
        serde_json::json!([{"url": format!("https://cdn.example.com/app-{version}.apk"), "md5": md5,
            "size": 1000, "name": "App", "package": "com.example.app", "version": version}])
    };
    let mut prints = Vec::new();
    let mut junit = Vec::new();
    let mut ids = Vec::new();
    for (version, md5) in [
        ("1.0", "11111111111111111111111111111111"),
        ("1.1", "22222222222222222222222222222222"),
    ] {
        std::fs::write(&manifest, build(version, md5).to_string()).unwrap();
        let out = submit_wait_of(&emu, &manifest, &[]).ok().json();
        let id = out["Tasks"][0]["ItemId"].as_str().unwrap().to_owned();
        let log: Value = serde_json::from_str(
            &emu.ms()
                .run(["scan", "report", "--format", "sarif", &id])
                .ok()
                .stdout,
        )
        .unwrap();
        let by_rule: std::collections::BTreeMap<String, String> = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().to_owned(),
                    r["partialFingerprints"]["msFinding/v1"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect();
        prints.push(by_rule);
        // The JUnit test case is the same test in both builds too (CI test histories).
        let xml = emu
            .ms()
            .run(["scan", "report", "--format", "junit", &id])
            .ok()
            .stdout;
        junit.push(junit_cases(&xml));
        ids.push(id);
    }
    assert_eq!(junit[0], [("com.example.app".into(), "App".into())]);
    assert_eq!(junit[0], junit[1]);
    // Both builds in one report: two test cases, told apart by version and MD5.
    let both = junit_cases(
        &emu.ms()
            .run(["scan", "report", "--format", "junit", &ids[0], &ids[1]])
            .ok()
            .stdout,
    );
    assert_eq!(both.len(), 2);
    assert_ne!(both[0].1, both[1].1, "{both:?}");
    assert!(
        both[1].1.starts_with("App 1.1 (com.example.app, MD5 2222"),
        "{both:?}"
    );
    let common: Vec<&String> = prints[0]
        .keys()
        .filter(|k| prints[1].contains_key(*k))
        .collect();
    assert!(
        !common.is_empty(),
        "the two builds share findings: {prints:?}"
    );
    for rule in common {
        assert_eq!(prints[0][rule], prints[1][rule], "{rule}");
    }
}

/// The apps of a `submit --wait -o json` document's Results.
fn result_apps(doc: &Value) -> Vec<&Value> {
    doc["Results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["ScanSet"].as_array().unwrap())
        .collect()
}

fn assert_names_both_viruses(stderr: &str) {
    assert!(
        stderr.contains("policy --fail-on virus violated: 2 violation(s) in 2 of 32 app(s)"),
        "{stderr}"
    );
    for (package, _) in VIRUSES {
        assert!(stderr.contains(package), "{stderr}");
    }
}

#[test]
fn submit_wait_and_wait_gate_the_whole_run() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.db");
    let journal_arg = journal.to_str().unwrap();

    // Without a gate: exit 0 (viruses and all).
    let ids = submit_examples(&emu);

    // --fail-on virus: exit 4 after the whole document, results included.
    let gated = submit_wait(&emu, &["--journal", journal_arg, "--fail-on", "virus"]).expect_code(4);
    let doc = gated.json();
    assert_eq!(doc["Submitted"], 32);
    let apps = result_apps(&doc);
    assert_eq!(apps.len(), 32, "every result is printed before the exit 4");
    assert_eq!(
        apps.iter()
            .filter(|a| a["VirusInfo"]["SafeType"] == 3)
            .count(),
        2
    );
    assert_names_both_viruses(&gated.stderr);

    // The table output of submit --wait is gated the same way.
    let table = emu
        .ms()
        .run_line(
            "scan submit --manifest examples/apps.json --wait --poll-interval 0.2 --fail-on virus",
        )
        .expect_code(4);
    table.assert_stdout("QR Scanner");
    assert_names_both_viruses(&table.stderr);

    // scan wait: by ItemIds, and a whole run by its journal; the output stays complete.
    let waited = on_tasks(
        &emu,
        &[
            "-o",
            "json",
            "scan",
            "wait",
            "--poll-interval",
            "0.2",
            "--fail-on",
            "virus",
        ],
        &ids,
    )
    .expect_code(4);
    let tasks = waited.json();
    let waited_apps: u64 = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["Apps"].as_u64().unwrap())
        .sum();
    assert_eq!(waited_apps, 32);
    assert_names_both_viruses(&waited.stderr);
    let by_journal = emu
        .ms()
        .run([
            "scan",
            "wait",
            "--journal",
            journal_arg,
            "--fail-on",
            "virus",
        ])
        .expect_code(4);
    assert_names_both_viruses(&by_journal.stderr);
    // A journal given where saved results go is named as one.
    let mistaken = Ms::new()
        .run([
            "scan",
            "report",
            "--input",
            journal_arg,
            "--fail-on",
            "virus",
        ])
        .expect_code(2);
    assert!(
        mistaken
            .stderr
            .contains("a run journal (SQLite), not saved results")
            && mistaken.stderr.contains("--journal"),
        "{}",
        mistaken.stderr
    );
    on_tasks(&emu, &["scan", "wait", "--fail-on", "high"], &ids).expect_code(4);
    on_tasks(&emu, &["scan", "wait"], &ids).ok();

    // A policy allowing both viruses (unexpired): exit 0, for submit --wait and wait.
    let policy = allow_both_viruses(dir.path(), &date_in(30));
    let policy_arg = policy.to_str().unwrap();
    submit_wait(&emu, &["--policy", policy_arg]).ok();
    emu.ms()
        .run([
            "scan",
            "wait",
            "--journal",
            journal_arg,
            "--policy",
            policy_arg,
        ])
        .ok();
    // Once the entries expire: exit 4 again, naming them.
    let _ = allow_both_viruses(dir.path(), &date_in(-1));
    let expired = emu
        .ms()
        .run([
            "scan",
            "wait",
            "--journal",
            journal_arg,
            "--policy",
            policy_arg,
        ])
        .expect_code(4);
    expired.assert_stderr("expired on");
    let expired = submit_wait(&emu, &["--policy", policy_arg]).expect_code(4);
    expired.assert_stderr("expired on");
}

#[test]
fn submit_wait_gate_yields_to_apps_not_accepted_and_needs_wait() {
    // A quota of 20 scans: the first chunk (with the QR Scanner virus) is accepted, the
    // other 12 apps are not. Exit 1 (not accepted), not 4, though a virus was found.
    let emu = TestEmulator::with_config(
        ms_emulator::EmulatorConfig::demo()
            .with_scan_duration(std::time::Duration::from_millis(300))
            .with_initial_quota(20),
    );
    let out = submit_wait(&emu, &["--concurrency", "1", "--fail-on", "virus"]).expect_code(1);
    let doc = out.json();
    assert_eq!(doc["Submitted"], 20);
    assert_eq!(doc["Unaccepted"].as_array().unwrap().len(), 12);
    let apps = result_apps(&doc);
    assert!(
        apps.iter().any(
            |a| a["AppDetailInfo"]["AppMd5"] == VIRUSES[0].1 && a["VirusInfo"]["SafeType"] == 3
        ),
        "the accepted apps hold a virus: {doc}"
    );
    out.assert_stderr("not accepted");
    assert!(!out.stderr.contains("policy --fail-on"), "{}", out.stderr);

    // An unknown task under a gate: the service's error (1).
    emu.ms()
        .run_line("scan wait 0123456789abcdef0123456789abcdef --fail-on low")
        .expect_code(1);

    // A gate without --wait judges nothing: a usage error before anything is read or sent.
    let no_wait = Ms::unreachable()
        .run_line("scan submit --manifest examples/apps.json --fail-on virus")
        .expect_code(2);
    no_wait.assert_stderr("need --wait");
    // A malformed policy is found first too.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "fail-on = \"severe\"\n").unwrap();
    let out = Ms::unreachable()
        .run([
            "scan",
            "submit",
            "--manifest",
            "examples/apps.json",
            "--wait",
            "--policy",
            bad.to_str().unwrap(),
        ])
        .expect_code(2);
    out.assert_stderr("bad.toml:1:11: fail-on");
}

/// A manifest of three apps: the QR Scanner virus, one whose download fails (the emulator
/// fails MD5s beginning with `bad0`) and one whose scan times out (`bad1`).
fn virus_and_failed_scans(dir: &Path) -> std::path::PathBuf {
    let app = |name: &str, md5: &str| {
        serde_json::json!({"url": format!("https://cdn.example.com/{name}.apk"), "md5": md5,
            "size": 4096, "name": name, "package": format!("com.example.{name}")})
    };
    let manifest = serde_json::json!([
        app("qrscanner", VIRUSES[0].1),
        app("broken", "bad00000000000000000000000000001"),
        app("slow", "bad10000000000000000000000000001"),
    ]);
    let path = dir.join("apps.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    path
}

#[test]
fn failed_scans_exit_1_before_the_policy_when_waiting() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let manifest = virus_and_failed_scans(dir.path());
    let journal = dir.path().join("run.db");
    let submit = |extra: &[&str]| submit_wait_of(&emu, &manifest, extra);

    // submit --wait: two scans failed, so exit 1 (as `scan wait` does), with or without a
    // gate, and the results of all three apps printed first.
    let plain = submit(&["--journal", journal.to_str().unwrap()]).expect_code(1);
    assert_eq!(result_apps(&plain.json()).len(), 3);
    assert!(
        plain.stderr.contains("2 app(s) could not be scanned")
            && plain.stderr.contains("ms scan results --journal"),
        "{}",
        plain.stderr
    );
    let gated = submit(&["--no-journal", "--fail-on", "virus"]).expect_code(1);
    assert_eq!(result_apps(&gated.json()).len(), 3);
    assert!(
        gated.stderr.contains("2 app(s) could not be scanned") && !gated.stderr.contains("policy"),
        "the failed scans come before the policy's 4: {}",
        gated.stderr
    );
    // scan wait says the same.
    let waited = emu
        .ms()
        .run([
            "scan",
            "wait",
            "--journal",
            journal.to_str().unwrap(),
            "--fail-on",
            "virus",
        ])
        .expect_code(1);
    waited.assert_stderr("2 app(s) could not be scanned");

    // Reading the results, the policy judges the unfinished scans: they fail (4) ...
    let journal_arg = journal.to_str().unwrap();
    let results = emu
        .ms()
        .run([
            "scan",
            "results",
            "--journal",
            journal_arg,
            "--fail-on",
            "virus",
        ])
        .expect_code(4);
    assert!(
        results
            .stderr
            .contains("policy --fail-on virus violated: 3 violation(s) in 3 of 3 app(s)")
            && results
                .stderr
                .contains("scan did not complete (status 1000")
            && results.stderr.contains("scan did not complete (status 99"),
        "{}",
        results.stderr
    );
    // ... unless the policy ignores them: then only the virus fails.
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "fail-on = \"virus\"\nincomplete = \"ignore\"\n").unwrap();
    let ignoring = emu
        .ms()
        .run([
            "scan",
            "results",
            "--journal",
            journal_arg,
            "--policy",
            policy.to_str().unwrap(),
        ])
        .expect_code(4);
    ignoring.assert_stderr("violated: 1 violation(s) in 1 of 3 app(s)");
    // JUnit: the virus is a failure, the unfinished scans are errors.
    let junit = emu
        .ms()
        .run([
            "scan",
            "report",
            "--journal",
            journal_arg,
            "--format",
            "junit",
            "--fail-on",
            "virus",
        ])
        .expect_code(4);
    assert_eq!(
        suite_attributes(&junit.stdout, ["tests", "failures", "errors"]),
        ["3", "1", "2"]
    );
    // A policy that ignores unfinished scans: they are skipped, never shown as passed.
    let junit = emu
        .ms()
        .run([
            "scan",
            "report",
            "--journal",
            journal_arg,
            "--format",
            "junit",
            "--policy",
            policy.to_str().unwrap(),
        ])
        .expect_code(4);
    assert_eq!(
        suite_attributes(&junit.stdout, ["tests", "failures", "errors", "skipped"]),
        ["3", "1", "0", "2"]
    );
}

#[test]
fn hostile_app_names_keep_junit_and_sarif_valid() {
    // Everything the service echoes back (name, package, version) tries to break out of
    // XML and JSON: markup, entities, a CDATA end, quotes, control characters, a
    // non-character and a carriage return.
    let evil = "Evil <b>&amp; ]]> \"q' \u{1}\u{1b}\u{8} \u{fffe} \r end";
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("apps.json");
    let apps = serde_json::json!([{
        "url": "https://cdn.example.com/evil.apk", "md5": VIRUSES[0].1, "size": 4096,
        "name": evil, "package": format!("com.ev<il>&]]>\u{2}"), "version": format!("1.0{evil}"),
    }]);
    std::fs::write(&manifest, apps.to_string()).unwrap();
    let submitted = submit_wait_of(&emu, &manifest, &[]).ok();
    assert_eq!(
        result_apps(&submitted.json())[0]["AppDetailInfo"]["AppName"],
        evil,
        "the emulator echoes the name"
    );
    let saved = dir.path().join("results.json");
    std::fs::write(&saved, &submitted.stdout).unwrap();
    let report = |format: &str| {
        Ms::new()
            .run([
                "scan",
                "report",
                "--input",
                saved.to_str().unwrap(),
                "--format",
                format,
                "--fail-on",
                "virus",
            ])
            .expect_code(4)
            .stdout
    };

    // JUnit: a strict XML 1.0 parser reads it, and the attributes and text give back the
    // name (characters XML cannot carry are spelled \u{..}).
    let junit = report("junit");
    let doc = roxmltree::Document::parse(&junit).expect("well-formed XML 1.0");
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    let name = case.attribute("name").unwrap();
    assert!(
        name.starts_with("Evil <b>&amp; ]]> \"q' \\u{1}\\u{1b}\\u{8} \\u{fffe} \r end"),
        "{name:?}"
    );
    assert_eq!(
        case.attribute("classname"),
        Some("com.ev<il>&]]>\\u{2}"),
        "{junit}"
    );
    let failure = case
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("the virus fails");
    assert!(failure.text().unwrap().contains("]]> \"q'"), "{failure:?}");

    // SARIF: valid against the schema, the strings intact in the artifact and messages.
    let log: Value = serde_json::from_str(&report("sarif")).expect("JSON");
    let errors = schema_errors(&sarif_validator(), &log);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &log["runs"][0];
    assert_eq!(run["artifacts"][0]["properties"]["name"], evil);
    assert_eq!(
        run["artifacts"][0]["location"]["uri"],
        "com.ev%3Cil%3E%26%5D%5D%3E%02.apk"
    );
    let virus = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"].as_str().unwrap().starts_with("virus:"))
        .unwrap();
    assert!(
        virus["message"]["text"].as_str().unwrap().contains(evil),
        "{virus}"
    );
}
