//! Emulator throughput over loopback: `cargo bench -p ms-emulator --bench throughput`.
//!
//! Signed TC3 requests over keep-alive HTTP/1.1 connections, rate limiting off:
//! sequential latency of DescribeScanInstances and of DescribeScanResults for a finished
//! 20-app task (findings generation + JSON), and throughput with 16 concurrent connections.
//! Then the fill test: `FILL_ROUNDS` (default 3) rounds of `FILL_APPS` (default 100,000) apps
//! submitted to the same emulator (CreateScanInstances of 20 apps, one connection), with the
//! mean latency per round and, after each round, of single calls against the filled state, so
//! that per-request cost growing with the stored total shows up.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use ms_emulator::ManualClock;
use serde_json::json;

async fn keep_alive(c: &Client) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(c.addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// Requests without Authorization: rejected before any signature or state work (the floor).
async fn run_floor(c: &Client, n: usize) -> Duration {
    let mut s = keep_alive(c).await;
    let start = Instant::now();
    for _ in 0..n {
        s.ready().await.unwrap();
        let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
        req.headers_mut().remove("authorization");
        let resp = s.send_request(req).await.unwrap();
        resp.into_body().collect().await.unwrap();
    }
    start.elapsed()
}

async fn run_seq(c: &Client, action: &str, body: &str, n: usize) -> Duration {
    let mut s = keep_alive(c).await;
    let start = Instant::now();
    for _ in 0..n {
        s.ready().await.unwrap();
        let resp = s
            .send_request(c.tc3_post_request(action, body, c.now()))
            .await
            .unwrap();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(
            !bytes.windows(7).any(|w| w == b"\"Error\""),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
    }
    start.elapsed()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let clock = Arc::new(ManualClock::new(T0_MS));
        let emu = start(config(&clock).with_rate_limit(0)).await;
        let c = Client::new(&emu, &clock);
        let md5s: Vec<String> = (0..20).map(|i| md5(&format!("bench{i}"))).collect();
        let refs: Vec<&str> = md5s.iter().map(String::as_str).collect();
        let item = c.ok("CreateScanInstances", &create_params(&refs, "http://example.com/cb")).await["ItemId"]
            .as_str()
            .unwrap()
            .to_owned();
        clock.advance(Duration::from_secs(2));
        let results_body = json!({"ItemId": item}).to_string();

        run_seq(&c, "DescribeScanInstances", "{}", 200).await; // warm-up
        let n = 3000;
        let d = run_floor(&c, n).await;
        println!("rejected without Authorization (floor): {:.1} µs/request ({n} requests)", d.as_secs_f64() * 1e6 / n as f64);
        let d = run_seq(&c, "DescribeScanInstances", r#"{"Limit": 20}"#, n).await;
        println!("DescribeScanInstances sequential: {:.1} µs/request ({n} requests)", d.as_secs_f64() * 1e6 / n as f64);
        let n2 = 500;
        let d = run_seq(&c, "DescribeScanResults", &results_body, n2).await;
        println!("DescribeScanResults (20 apps) sequential: {:.1} µs/request ({n2} requests)", d.as_secs_f64() * 1e6 / n2 as f64);

        let conns = 16;
        let per = 500;
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let c = c.clone();
            tasks.push(tokio::spawn(async move { run_seq(&c, "DescribeScanInstances", "{}", per).await }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let total = conns * per;
        let d = start.elapsed();
        println!(
            "DescribeScanInstances, {conns} connections: {:.0} requests/s ({total} requests in {:.2} s)",
            total as f64 / d.as_secs_f64(),
            d.as_secs_f64()
        );
        emu.shutdown().await;

        fill().await;
    });
}

async fn fill() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let rounds = env("FILL_ROUNDS", 3);
    let apps = env("FILL_APPS", 100_000);
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = start(
        config(&clock)
            .with_rate_limit(0)
            .with_initial_quota(u64::MAX / 4),
    )
    .await;
    let c = Client::new(&emu, &clock);
    let mut last_item = String::new();
    let mut n = 0u64;
    for round in 1..=rounds {
        let requests = apps.div_ceil(20);
        // A fresh connection per round (the previous one may have idled out meanwhile).
        let mut s = keep_alive(&c).await;
        let start = Instant::now();
        for _ in 0..requests {
            let md5s: Vec<String> = (0..20)
                .map(|_| {
                    n += 1;
                    format!("{:032x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                })
                .collect();
            let refs: Vec<&str> = md5s.iter().map(String::as_str).collect();
            // A refused (non-loopback) callback: every finished scan also records a delivery.
            let body = create_params(&refs, "https://hooks.example.com/cb").to_string();
            s.ready().await.unwrap();
            let resp = s
                .send_request(c.tc3_post_request("CreateScanInstances", &body, c.now()))
                .await
                .unwrap();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            last_item = v["Response"]["ItemId"].as_str().expect("ItemId").to_owned();
        }
        let d = start.elapsed();
        // Let every stored scan finish before the next round (they did in the 61 s report).
        clock.advance(Duration::from_secs(5));
        // The first request after that finishes the round's scans (and records their
        // refused deliveries): once per scan, timed apart.
        let finish_ms = run_seq(&c, "DescribeScanInstances", "{}", 1)
            .await
            .as_secs_f64()
            * 1e3;
        let results = json!({"ItemId": last_item}).to_string();
        let by_item = json!({"ItemIds": [last_item]}).to_string();
        let one = |action: &'static str, body: String| {
            let c = c.clone();
            async move { run_seq(&c, action, &body, 50).await.as_secs_f64() * 1e6 / 50.0 }
        };
        let results_us = one("DescribeScanResults", results).await;
        let items_us = one("DescribeScanInstances", by_item).await;
        let page_us = one(
            "DescribeScanInstances",
            r#"{"Offset": 50000, "Limit": 100}"#.into(),
        )
        .await;
        println!(
            "fill round {round}: {apps} apps in {requests} CreateScanInstances: {:.2} s, {:.1} µs/request; \
             finishing them {finish_ms:.0} ms (once); then with {} scans stored: DescribeScanResults {results_us:.0} µs, DescribeScanInstances by ItemIds {items_us:.0} µs, page at Offset 50000 {page_us:.0} µs",
            d.as_secs_f64(),
            d.as_secs_f64() * 1e6 / requests as f64,
            round * apps,
        );
    }
    emu.shutdown().await;
}
