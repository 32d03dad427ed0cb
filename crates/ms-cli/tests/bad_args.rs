//! A corpus of user mistakes: each gives a clear message and the documented exit
//! code, never a panic or a backtrace.

mod common;

use common::{Ms, md5_of};

struct Case {
    args: Vec<String>,
    code: i32,
    fragment: &'static str,
}

fn case(args: &[&str], code: i32, fragment: &'static str) -> Case {
    Case {
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        code,
        fragment,
    }
}

#[test]
fn bad_arguments_give_a_message_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let md5 = md5_of(1);
    std::fs::write(
        d("bad-md5.json"),
        format!("[\n{{\"url\": \"https://e/a.apk\", \"md5\": \"{md5}\"}},\n{{\"url\": \"https://e/b.apk\", \"md5\": \"12345\"}}\n]"),
    )
    .unwrap();
    std::fs::write(
        d("bad-url.csv"),
        format!("url,md5\nfile:///tmp/a.apk,{md5}\n"),
    )
    .unwrap();
    std::fs::write(
        d("truncated.json"),
        format!("[{{\"url\": \"https://e/a.apk\", \"md5\": \"{md5}\"}},"),
    )
    .unwrap();
    std::fs::write(d("object.json"), "\"apps\"").unwrap();
    std::fs::write(d("empty.json"), "[]").unwrap();
    std::fs::write(d("missing-md5.json"), "[{\"url\": \"https://e/a.apk\"}]").unwrap();
    std::fs::write(
        d("bad-size.json"),
        format!("[{{\"url\": \"https://e/a.apk\", \"md5\": \"{md5}\", \"size\": \"big\"}}]"),
    )
    .unwrap();
    std::fs::write(
        d("good.json"),
        format!("[{{\"url\": \"https://e/a.apk\", \"md5\": \"{md5}\"}}]"),
    )
    .unwrap();
    std::fs::create_dir(d("apks")).unwrap();
    std::fs::write(d("apks/a.apk"), b"x").unwrap();
    std::fs::create_dir(d("noapks")).unwrap();
    std::fs::write(d("params.json"), "{\"ItemId\": ").unwrap();

    let cases = vec![
        case(&[], 2, "Usage: ms"),
        case(&["scan"], 2, "Usage: ms scan"),
        case(&["frobnicate"], 2, "unrecognized subcommand"),
        case(&["scan", "submit"], 2, "required"),
        case(&["scan", "submit", "--url", "https://x/a.apk"], 2, "--md5"),
        case(
            &["scan", "submit", "--url", "https://x/a.apk", "--md5", "xyz"],
            2,
            "expected 32 hex digits",
        ),
        case(
            &["scan", "submit", "--url", "ftp://x/a.apk", "--md5", &md5],
            2,
            "http:// or https://",
        ),
        case(
            &[
                "scan",
                "submit",
                "--url",
                "https://x/a.apk",
                "--md5",
                &md5,
                "--size",
                "-3",
            ],
            2,
            "-3",
        ),
        case(
            &["scan", "submit", "--manifest", &d("nope.json")],
            2,
            "cannot read",
        ),
        case(
            &["scan", "submit", "--manifest", &d("bad-md5.json")],
            2,
            "app #2: md5 (AppMd5): expected 32 hex digits",
        ),
        case(
            &["scan", "submit", "--manifest", &d("bad-url.csv")],
            2,
            "url (AppUrl)",
        ),
        case(
            &["scan", "submit", "--manifest", &d("truncated.json")],
            2,
            "end of file",
        ),
        case(
            &["scan", "submit", "--manifest", &d("object.json")],
            2,
            "expected a JSON array",
        ),
        case(
            &["scan", "submit", "--manifest", &d("empty.json")],
            2,
            "no apps",
        ),
        case(
            &["scan", "submit", "--manifest", &d("missing-md5.json")],
            2,
            "md5 (AppMd5) is missing",
        ),
        case(
            &["scan", "submit", "--manifest", &d("bad-size.json")],
            2,
            "size",
        ),
        case(
            &[
                "scan",
                "submit",
                "--manifest",
                &d("good.json"),
                "--chunk-size",
                "21",
            ],
            2,
            "21",
        ),
        case(
            &[
                "scan",
                "submit",
                "--manifest",
                &d("good.json"),
                "--scan-types",
                "VIRUS",
            ],
            2,
            "invalid value 'VIRUS'",
        ),
        case(
            &[
                "scan",
                "submit",
                "--manifest",
                &d("good.json"),
                "--callback-url",
                "example.com",
            ],
            2,
            "--callback-url",
        ),
        case(
            &[
                "scan",
                "submit",
                "--manifest",
                &d("good.json"),
                "--callback-url",
                "http://example.com:port/hook",
            ],
            2,
            "ScanInfo.CallbackUrl: expected an http(s) URL",
        ),
        case(
            &[
                "scan",
                "submit",
                "--manifest",
                &d("good.json"),
                "--dry-run",
                "--callback-url",
                "http://example.com:port/hook",
            ],
            2,
            "ScanInfo.CallbackUrl: expected an http(s) URL",
        ),
        case(
            &[
                "scan",
                "submit",
                "--manifest",
                &d("good.json"),
                "--url",
                "https://x/a.apk",
            ],
            2,
            "cannot be used with",
        ),
        case(&["scan", "submit", "--apk", &d("apks")], 2, "--url-prefix"),
        case(
            &[
                "scan",
                "submit",
                "--apk",
                &d("apks"),
                "--url-prefix",
                "cdn.example.com",
            ],
            2,
            "--url-prefix: expected an http",
        ),
        case(
            &[
                "scan",
                "submit",
                "--apk",
                &d("apks"),
                "--url-template",
                "https://h/{name}",
            ],
            2,
            "unknown placeholder {name}",
        ),
        case(
            &[
                "scan",
                "submit",
                "--apk",
                &d("noapks"),
                "--url-prefix",
                "https://h",
            ],
            2,
            "no .apk files",
        ),
        case(
            &[
                "scan",
                "submit",
                "--apk",
                &d("nope.apk"),
                "--url-prefix",
                "https://h",
            ],
            2,
            "nope.apk",
        ),
        case(&["scan", "list", "--limit", "0"], 2, "--limit"),
        case(&["scan", "list", "--limit", "101"], 2, "--limit"),
        case(
            &["scan", "list", "--item-id", "a", "--name", "b"],
            2,
            "cannot be used with",
        ),
        case(&["scan", "list", "--order", "up"], 2, "invalid value 'up'"),
        case(&["scan", "results"], 2, "ITEM_ID"),
        case(
            &["scan", "results", "X", "--md5", "nope"],
            2,
            "expected 32 hex digits",
        ),
        case(&["scan", "wait"], 2, "ITEM_ID"),
        case(
            &["scan", "wait", "X", "--poll-interval", "0"],
            2,
            "positive number of seconds",
        ),
        case(&["scan", "delete"], 2, "APP_SID"),
        case(&["scan", "report"], 2, "ITEM_ID"),
        case(
            &["scan", "report", "X", "--format", "pdf"],
            2,
            "invalid value 'pdf'",
        ),
        case(
            &["scan", "report", "--input", &d("nope.json")],
            2,
            "cannot read",
        ),
        case(
            &["scan", "report", "--input", &d("good.json")],
            2,
            "no ScanSet",
        ),
        case(
            &["--output", "yaml", "call", "--list"],
            2,
            "invalid value 'yaml'",
        ),
        case(&["--timeout", "0", "call", "--list"], 2, "--timeout"),
        case(
            &["--timeout", "soon", "call", "--list"],
            2,
            "expected a number of seconds",
        ),
        case(&["call"], 2, "ACTION"),
        case(
            &["call", "DescribeScanResult"],
            2,
            "did you mean DescribeScanResults",
        ),
        case(&["call", "Nope"], 2, "unknown action"),
        case(
            &["call", "DescribeScanResults", "--json", "{"],
            2,
            "invalid JSON",
        ),
        case(
            &["call", "DescribeScanResults", "--json", "[]"],
            2,
            "expected a JSON object",
        ),
        case(
            &["call", "DescribeScanResults", "--json", "{}"],
            2,
            "ItemId",
        ),
        case(
            &[
                "call",
                "DescribeScanResults",
                "--input-json",
                &d("params.json"),
            ],
            2,
            "invalid JSON",
        ),
        case(
            &[
                "call",
                "DescribeScanResults",
                "--input-json",
                &d("nope.json"),
            ],
            2,
            "cannot read",
        ),
        case(
            &["call", "--list", "DescribeScanResults"],
            2,
            "cannot be used with",
        ),
        case(&["completions", "tcsh"], 2, "invalid value 'tcsh'"),
        case(
            &["--ca-cert", &d("nope.pem"), "scan", "list"],
            2,
            "CA certificate",
        ),
        case(&["--endpoint", "ftp://x", "scan", "list"], 2, "endpoint"),
        // No credentials anywhere.
        case(
            &["--endpoint", "http://127.0.0.1:9", "scan", "list"],
            2,
            "ms configure",
        ),
        case(
            &["configure", "--secret-id", "AKID x", "--secret-key", "k"],
            2,
            "whitespace",
        ),
        case(&["configure"], 2, "no SecretId"),
    ];
    let mut failures = Vec::new();
    for c in &cases {
        let out = Ms::new().env("NO_COLOR", "1").run(&c.args);
        let ok = out.code == c.code
            && out.stderr.contains(c.fragment)
            && !out.stderr.contains("panicked")
            && !out.stderr.contains("RUST_BACKTRACE");
        if !ok {
            failures.push(format!(
                "ms {:?}\n  expected exit {} and {:?}\n  got exit {}: {}",
                c.args, c.code, c.fragment, out.code, out.stderr
            ));
        }
        // Our own errors are one or two lines (clap's usage errors add a usage block).
        if out.stderr.starts_with("error: ")
            && !out.stderr.contains("For more information")
            && out.stderr.lines().count() > 2
        {
            failures.push(format!(
                "ms {:?}: more than two lines:\n{}",
                c.args, out.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn network_errors_exit_3() {
    let out = Ms::new()
        .env("TENCENTCLOUD_SECRET_ID", "AKIDtest")
        .env("TENCENTCLOUD_SECRET_KEY", "secret-value")
        .run_line("--endpoint http://127.0.0.1:9 --timeout 5 scan list");
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(!out.stderr.contains("secret-value"));
}

#[test]
fn broken_pipe_exits_quietly() {
    use std::io::Read;
    // Enough output to fill the pipe: a dry run of many apps.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.json");
    let mut text = String::from("[");
    for i in 0..20_000u64 {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            "{{\"url\":\"https://e/{i}.apk\",\"md5\":\"{}\"}}",
            md5_of(i)
        ));
    }
    text.push(']');
    std::fs::write(&path, text).unwrap();
    let (mut cmd, _home) = Ms::new().command();
    cmd.args([
        "scan",
        "submit",
        "--dry-run",
        "--manifest",
        path.to_str().unwrap(),
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // like `| head -c 64`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "quiet: {stderr}");
}

#[test]
fn unusable_proxy_or_ca_settings_exit_2_naming_the_setting() {
    let creds = |ms: Ms| {
        ms.env("TENCENTCLOUD_SECRET_ID", "AKIDtest")
            .env("TENCENTCLOUD_SECRET_KEY", "secret-value")
    };
    for (var, value) in [
        ("HTTPS_PROXY", "socks5://127.0.0.1:1080"),
        ("https_proxy", "http://[::1"),
        ("ALL_PROXY", "https://proxy.example.com:8443"),
    ] {
        let out = creds(Ms::new()).env(var, value).run_line("scan list");
        assert_eq!(out.code, 2, "{var}={value}: {}", out.stderr);
        assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
        assert!(out.stderr.contains(var), "names {var}: {}", out.stderr);
        assert!(
            out.stderr.contains("unset"),
            "says how to fix: {}",
            out.stderr
        );
        assert!(out.stderr.lines().count() <= 2, "{}", out.stderr);
    }
    // The embedded emulator is reached directly: a broken proxy setting does not matter.
    creds(Ms::new())
        .env("HTTP_PROXY", "socks5://127.0.0.1:1080")
        .env("ALL_PROXY", "socks5://127.0.0.1:1080")
        .run_line("--emulator scan list")
        .ok();

    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("not-a-cert.pem");
    std::fs::write(&pem, "hello\n").unwrap();
    let out = creds(Ms::new()).run(["--ca-cert", pem.to_str().unwrap(), "scan", "list"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    out.assert_stderr(&format!("--ca-cert {}", pem.display()));
}
