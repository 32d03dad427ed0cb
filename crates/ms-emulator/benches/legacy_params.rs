//! Server time of legacy-signed (HmacSHA256) form POSTs with many parameters:
//! `cargo bench -p ms-emulator --bench legacy_params`.
//!
//! Each request is signed by the client before the clock starts, then sent over a keep-alive
//! HTTP/1.1 connection on loopback to an in-process emulator; the time is the round trip (the
//! reply is a short error envelope, so it is the server's work plus moving the body over
//! loopback). Printed: the wall time and the CPU time of the process during the request (all
//! threads: the emulator's work plus this client's write of the body), medians of the runs; on
//! a loaded machine the CPU time is the figure to read. Shapes:
//! * `flat`: N distinct top-level names (`P000001=vv&...`), the worst case for rebuilding the
//!   parameter tree; N = 100,000 fills a 1 MiB body (the v1 body limit);
//! * `array`: one array of N elements (`AppSids.0=...&AppSids.1=...`), as a real request with a
//!   long list would be.
//!
//! Twice: with the default limits (more than `max_parameters` = 10,000 parameters are refused
//! before anything is decoded) and with the limit raised to 200,000, so that the 100,000-parameter
//! requests go through form decoding, signature verification and the rebuild of the parameter
//! tree. Every request is rejected in the end (too many parameters, or unknown parameters after
//! the whole tree was rebuilt); the reply code is printed so that what was measured is visible.
//! `LEGACY_RUNS` (default 5) repetitions per size; the median is printed. `LEGACY_ONLY=text`
//! runs only the cases whose name contains `text`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use ms_emulator::{EmulatorConfig, Limits, ManualClock};
use tc3_sign::V1Method;

/// The v1 body limit (1 MiB).
const BODY_LIMIT: usize = 1024 * 1024;

fn signed_body(c: &Client, mut pairs: Vec<(String, String)>) -> String {
    let common = [
        ("Action", "DescribeScanInstances".to_owned()),
        ("Nonce", "12345".to_owned()),
        ("Timestamp", c.now().to_string()),
        ("Version", "2018-04-08".to_owned()),
        ("Region", "ap-guangzhou".to_owned()),
        ("SecretId", c.id.clone()),
        ("SignatureMethod", "HmacSHA256".to_owned()),
    ];
    pairs.extend(common.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let sts = tc3_sign::v1_string_to_sign("POST", &c.host, "/", &pairs);
    let sig = tc3_sign::sign_v1(V1Method::HmacSha256, &c.key, &sts);
    pairs.push(("Signature".to_owned(), sig));
    tc3_sign::form_urlencode(&pairs)
}

/// `n` flat parameters whose encoded body is as close to `target` bytes as possible.
fn flat_pairs(n: usize, target: usize) -> Vec<(String, String)> {
    // "P000001=" + value + "&": 9 bytes plus the value; ~300 bytes of common parameters and
    // signature. The remainder is spread over the first values, one byte each.
    let budget = target.saturating_sub(300);
    let value_len = (budget / n).saturating_sub(9).max(1);
    let extra = budget.saturating_sub(n * (9 + value_len));
    (0..n)
        .map(|i| {
            let len = value_len + usize::from(i < extra);
            (format!("P{i:06}"), "v".repeat(len))
        })
        .collect()
}

fn array_pairs(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("AppSids.{i}"), "ab".to_owned()))
        .collect()
}

fn request(c: &Client, body: String) -> Request<Full<Bytes>> {
    Request::builder()
        .method("POST")
        .uri("/")
        .header("Host", &c.host)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// CPU time of the whole process so far (every thread: the emulator's workers and this
/// client), from `/proc/self/task/*/schedstat` (nanoseconds on a CPU); zero where unavailable.
fn process_cpu() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let ns: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

async fn time_one(c: &Client, body: &str) -> (Duration, Duration, String) {
    let tcp = tokio::net::TcpStream::connect(c.addr).await.unwrap();
    let (mut s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    // Warm the connection so that the timed request does not include the handshake.
    s.ready().await.unwrap();
    let req = request(c, body.to_owned());
    let cpu = process_cpu();
    let start = Instant::now();
    let resp = s.send_request(req).await.unwrap();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let d = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu);
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let code = v["Response"]["Error"]["Code"]
        .as_str()
        .unwrap_or("ok")
        .to_owned();
    (d, cpu, code)
}

fn main() {
    let runs: usize = std::env::var("LEGACY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let clock = Arc::new(ManualClock::new(T0_MS));
        let configs: Vec<(&str, EmulatorConfig)> = vec![
            ("default limits (max_parameters 10,000)", config(&clock).with_rate_limit(0)),
            (
                "max_parameters raised to 200,000 (every request decoded, verified and rebuilt)",
                config(&clock)
                    .with_rate_limit(0)
                    .with_limits(Limits::default().with_max_parameters(200_000)),
            ),
        ];
        for (label, cfg) in configs {
            let emu = start(cfg).await;
            let c = Client::new(&emu, &clock);
            println!("emulator with {label}:");
            let cases: Vec<(String, Vec<(String, String)>)> = vec![
                ("flat 1,000".into(), flat_pairs(1_000, 10_000)),
                ("flat 10,000".into(), flat_pairs(10_000, 100_000)),
                ("flat 40,000".into(), flat_pairs(40_000, 400_000)),
                ("flat 100,000 (1 MiB)".into(), flat_pairs(100_000, BODY_LIMIT)),
                ("array 10,000".into(), array_pairs(10_000)),
                ("array 40,000".into(), array_pairs(40_000)),
            ];
            let only = std::env::var("LEGACY_ONLY").unwrap_or_default();
            for (name, pairs) in cases.into_iter().filter(|(n, _)| n.contains(only.as_str())) {
                let body = signed_body(&c, pairs);
                assert!(body.len() <= BODY_LIMIT, "{name}: {} bytes", body.len());
                let mut times = Vec::new();
                let mut cpus = Vec::new();
                let mut code = String::new();
                for _ in 0..runs {
                    let (d, cpu, cd) = time_one(&c, &body).await;
                    times.push(d);
                    cpus.push(cpu);
                    code = cd;
                }
                times.sort();
                cpus.sort();
                let ms = |d: Duration| d.as_secs_f64() * 1e3;
                println!(
                    "  {name}: {} bytes, wall median {:.2} ms (min {:.2}, max {:.2}), CPU median {:.2} ms (min {:.2}), {runs} runs, reply {code}",
                    body.len(),
                    ms(times[times.len() / 2]),
                    ms(times[0]),
                    ms(times[times.len() - 1]),
                    ms(cpus[cpus.len() / 2]),
                    ms(cpus[0]),
                );
            }
            emu.shutdown().await;
        }
    });
}
