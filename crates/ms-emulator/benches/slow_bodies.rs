//! Memory held by slow clients: `cargo bench -p ms-emulator --bench slow_bodies`.
//!
//! Starts the `ms-emulator` binary (or `$MS_EMULATOR_BIN`, to measure another build), then
//! opens `SLOW_CLIENTS` (1,000) connections that each send the signed head of a TC3 POST with
//! a 10 MiB body, push as much of the body as the server takes within `PUSH_SECS` (3 s) up to
//! `SENT_MIB` (9 MiB), and stall. After `SETTLE_SECS` (2 s) it reads the emulator's resident
//! memory (`VmRSS`, `VmHWM` from /proc), closes the clients and prints one line per scenario:
//!
//! * `signed`: a valid account, the default 256-connection limit;
//! * `signed, --max-connections 2000`: every client gets a connection;
//! * `unknown SecretId, --max-connections 2000`: refused on the headers.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ms_emulator::ManualClock;
use tokio::io::AsyncWriteExt;

fn env(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

/// (VmRSS, VmHWM) of a process, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

fn spawn(extra: &[&str]) -> (Child, std::net::SocketAddr) {
    let bin = std::env::var("MS_EMULATOR_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ms-emulator").to_owned());
    let mut child = Command::new(bin)
        .args(["--account", &format!("{ID}:{KEY}"), "--rate-limit", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator binary runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap();
    let addr = url.trim_start_matches("http://").parse().unwrap();
    (child, addr)
}

async fn scenario(name: &str, extra: &[&str], creds: (&str, &str)) {
    let clients = env("SLOW_CLIENTS", 1000) as usize;
    let sent = env("SENT_MIB", 9) as usize * 1024 * 1024;
    let push = Duration::from_secs(env("PUSH_SECS", 3));
    let settle = Duration::from_secs(env("SETTLE_SECS", 2));
    let (mut child, addr) = spawn(extra);
    let idle = memory(child.id());
    let clock = Arc::new(ManualClock::starting_now());
    let c = Client {
        addr,
        host: addr.to_string(),
        id: creds.0.into(),
        key: creds.1.into(),
        clock,
        tls: None,
        region: String::new(),
    };
    // One 10 MiB body, signed once; every client sends it.
    let total = 10 * 1024 * 1024;
    let pad = "a".repeat(total - r#"{"ItemId":""}"#.len());
    let body = format!(r#"{{"ItemId":"{pad}"}}"#);
    let req = c.tc3_post_request("DescribeScanResults", &body, c.now());
    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (n, v) in req.headers() {
        head.push_str(&format!("{}: {}\r\n", n, v.to_str().unwrap()));
    }
    head.push_str(&format!("content-length: {total}\r\n\r\n"));
    let body = Arc::new(body.into_bytes());
    let head = Arc::new(head.into_bytes());
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (head, body) = (head.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
                return (None, 0);
            };
            if s.write_all(&head).await.is_err() {
                return (None, 0);
            }
            let mut pushed = 0;
            let _ = tokio::time::timeout(push, async {
                for chunk in body[..sent].chunks(64 * 1024) {
                    if s.write_all(chunk).await.is_err() {
                        break;
                    }
                    pushed += chunk.len();
                }
            })
            .await;
            (Some(s), pushed)
        }));
    }
    let mut held = Vec::new();
    let mut pushed = 0usize;
    for t in tasks {
        let (s, n) = t.await.unwrap();
        pushed += n;
        held.extend(s);
    }
    tokio::time::sleep(settle).await;
    let (rss, hwm) = memory(child.id());
    drop(held);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{name}: {clients} clients, {:.0} MiB of body pushed in all; emulator RSS {:.1} MiB idle, \
         {rss:.1} MiB with the clients stalled (peak {hwm:.1} MiB)",
        pushed as f64 / 1048576.0,
        idle.0
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        scenario("signed", &[], (ID, KEY)).await;
        scenario(
            "signed, --max-connections 2000",
            &["--max-connections", "2000"],
            (ID, KEY),
        )
        .await;
        scenario(
            "unknown SecretId, --max-connections 2000",
            &["--max-connections", "2000"],
            ("AKIDunknownSlowClient", "key"),
        )
        .await;
    });
}
