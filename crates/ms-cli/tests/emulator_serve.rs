//! `ms emulator serve` as a child process (TLS, its first stdout line is the URL), used
//! through `--endpoint` and `--ca-cert`; `-vvv` logs never contain the secret key, and its
//! logs of callback deliveries no token of the callback URL.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::{Ms, Serve};

const ID: &str = "AKIDserveTestServeTestServe00000";
const KEY: &str = "serveTestSecretKeyDoNotLog000000";

#[test]
fn serve_with_tls_then_use_it_with_ca_cert() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("emu.pem");
    let server = Serve::spawn(
        Command::new(env!("CARGO_BIN_EXE_ms"))
            .args(["emulator", "serve", "--listen", "127.0.0.1:0", "--tls"])
            .arg("--cert-out")
            .arg(&pem)
            .args(["--account", &format!("{ID}:{KEY}"), "--scan-seconds", "0.2"])
            .stderr(Stdio::null()),
    );
    let url = server.url.clone();
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
    out.assert_stderr("--ca-cert");

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
    out.assert_stderr(&addr);
    out.assert_stderr("--listen 127.0.0.1:0");
}

/// Reads one HTTP/1.1 request (headers and `Content-Length` body) from `stream`; returns its
/// request line.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the connection closed before the request ended");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the connection closed inside the body");
        buf.extend_from_slice(&chunk[..n]);
    }
    head.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn callback_deliveries_are_logged_without_the_token_of_their_url() {
    const TOKEN: &str = "callbackTokenDoNotLog42";
    // The receiver: answers one delivery as the emulator expects, tells its request line.
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = receiver.local_addr().unwrap().port();
    let (got, delivered) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = receiver.accept().unwrap();
        let line = read_request(&mut stream);
        let body = r#"{"Result":"ok"}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = got.send(line);
    });
    let mut server = Serve::spawn(
        Command::new(env!("CARGO_BIN_EXE_ms"))
            .args(["-vv", "emulator", "serve", "--listen", "127.0.0.1:0"])
            .args(["--account", &format!("{ID}:{KEY}"), "--scan-seconds", "0.2"])
            .args(["--callback-allow", &port.to_string()])
            .stderr(Stdio::piped()),
    );
    let stderr = server.take_stderr().unwrap();
    let url = server.url.clone();
    // The emulator's log lines, as they come.
    let (line_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let callback = format!("http://127.0.0.1:{port}/cb?token={TOKEN}&run=7");
    Ms::new()
        .env("TENCENTCLOUD_SECRET_ID", ID)
        .env("TENCENTCLOUD_SECRET_KEY", KEY)
        .run([
            "--endpoint",
            &url,
            "scan",
            "submit",
            "--no-journal",
            "--url",
            "https://cdn.example.com/a.apk?sign=abc",
            "--md5",
            "0123456789abcdef0123456789abcdef",
            "--callback-url",
            &callback,
        ])
        .ok();
    // The receiver got the URL whole (what is sent is unchanged)...
    let request_line = delivered
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the callback is delivered");
    assert!(
        request_line.starts_with(&format!("POST /cb?token={TOKEN}&run=7 ")),
        "{request_line}"
    );
    // ... and the emulator logged the delivery with the URL's values masked.
    let mut seen = Vec::new();
    let logged = loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no delivery logged: {seen:#?}"));
        if line.contains("callback delivered") {
            break line;
        }
        seen.push(line);
    };
    assert!(
        logged.contains(&format!("http://127.0.0.1:{port}/cb?token=***&run=***")),
        "{logged}"
    );
    seen.push(logged);
    assert!(!seen.iter().any(|l| l.contains(TOKEN)), "{seen:#?}");
    drop(server);
}
