//! `ms emulator serve` as a child process (TLS, its first stdout line is the URL), used
//! through `--endpoint` and `--ca-cert`; `-vvv` logs never contain the secret key.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::Ms;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const ID: &str = "AKIDserveTestServeTestServe00000";
const KEY: &str = "serveTestSecretKeyDoNotLog000000";

#[test]
fn serve_with_tls_then_use_it_with_ca_cert() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("emu.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ms"))
        .args([
            "emulator",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--cert-out",
        ])
        .arg(&pem)
        .args(["--account", &format!("{ID}:{KEY}"), "--scan-seconds", "0.2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut url = String::new();
    BufReader::new(stdout).read_line(&mut url).unwrap();
    let url = url.trim().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let ms = |args: &[&str]| {
        Ms::new()
            .env("TENCENTCLOUD_SECRET_ID", ID)
            .env("TENCENTCLOUD_SECRET_KEY", KEY)
            .run(args)
    };
    let pem = pem.to_str().unwrap();

    // Without the certificate: a TLS failure, exit code 3, with a hint about --ca-cert.
    let out = ms(&["--endpoint", &url, "scan", "list"]).expect_code(3);
    assert!(out.stderr.contains("--ca-cert"), "{}", out.stderr);

    // With it: the whole flow works, and -vvv logs do not leak the key.
    let out = ms(&[
        "-vvv",
        "--endpoint",
        &url,
        "--ca-cert",
        pem,
        "-o",
        "json",
        "scan",
        "submit",
        "--manifest",
        "examples/apps.csv",
        "--wait",
        "--poll-interval",
        "0.3",
    ])
    .ok();
    assert_eq!(out.json()["Submitted"], 5);
    assert!(!out.stderr.is_empty(), "verbose logs are written to stderr");
    assert!(
        !out.stderr.contains(KEY),
        "the secret key must never be logged"
    );
    let out = ms(&[
        "--endpoint",
        &url,
        "--ca-cert",
        pem,
        "-o",
        "json",
        "scan",
        "list",
        "--all",
    ])
    .ok();
    assert_eq!(out.json()["TotalCount"], 5);
    drop(server);
}

/// A failure of the state file is explained as one (not as a listen address to check), and a
/// port in use as that.
#[test]
fn start_failures_get_the_hint_of_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let out = Ms::new()
        .run(["emulator", "serve", "--state", dir.path().to_str().unwrap()])
        .expect_code(2);
    assert!(
        out.stderr.contains("state file") && out.stderr.contains("hint: --state"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("listen"), "{}", out.stderr);

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Ms::new()
        .run(["emulator", "serve", "--listen", &addr])
        .expect_code(2);
    assert!(out.stderr.contains(&addr), "{}", out.stderr);
    assert!(
        out.stderr.contains("--listen 127.0.0.1:0"),
        "{}",
        out.stderr
    );
}
