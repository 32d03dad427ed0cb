//! CreateScanInstances with and without `--state`: `cargo bench -p ms-emulator --bench state`.
//!
//! For each mode (in memory; `--state` on an SQLite file in a temporary directory), an
//! in-process emulator (rate limiting off) gets `SAMPLES` (2,000) sequential
//! CreateScanInstances of 20 apps on one keep-alive connection with 0 scans stored, is filled
//! to `FILL_SCANS` (200,000) scans by 16 concurrent connections, has every stored scan
//! finished (clock moved on, one request), and gets `SAMPLES` more sequential calls. Each call
//! is timed on its own: mean, p50, p99, p99.9 and max in µs, and the slowest call of each
//! second of wall time, where a periodic stall (a once-a-second snapshot) would show as a
//! column of outliers. After each back-to-back series, 200 calls paced at the documented quota
//! (20 per second) show what a client at that rate sees.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use ms_emulator::{ManualClock, StateSync};

/// Calls made at the documented quota (one every 50 ms) after each back-to-back series.
const PACED: usize = 200;

fn env(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

async fn keep_alive(c: &Client) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(c.addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// A CreateScanInstances body of 20 fresh MD5s (`n` numbers them).
fn create_body(n: &mut u64) -> String {
    let md5s: Vec<String> = (0..20)
        .map(|_| {
            *n += 1;
            format!("{:032x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        })
        .collect();
    let refs: Vec<&str> = md5s.iter().map(String::as_str).collect();
    create_params(&refs, "").to_string()
}

/// `count` back-to-back calls.
async fn timed_calls(c: &Client, count: usize, n: &mut u64) -> Vec<(Duration, Duration)> {
    paced_calls(c, count, n, None).await
}

/// `count` sequential calls on one connection, one every `pace` (none: back to back); each
/// call's latency and when it ended.
async fn paced_calls(
    c: &Client,
    count: usize,
    n: &mut u64,
    pace: Option<Duration>,
) -> Vec<(Duration, Duration)> {
    let mut s = keep_alive(c).await;
    let start = Instant::now();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        if let Some(p) = pace {
            let at = start + p * u32::try_from(i).unwrap_or(u32::MAX);
            tokio::time::sleep_until(at.into()).await;
        }
        let req = c.tc3_post_request("CreateScanInstances", &create_body(n), c.now());
        s.ready().await.unwrap();
        let t = Instant::now();
        let resp = s.send_request(req).await.unwrap();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let took = t.elapsed();
        assert!(
            !bytes.windows(7).any(|w| w == b"\"Error\""),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        out.push((took, start.elapsed()));
    }
    out
}

fn report(label: &str, samples: &[(Duration, Duration)]) {
    let mut us: Vec<f64> = samples.iter().map(|(d, _)| d.as_secs_f64() * 1e6).collect();
    us.sort_by(f64::total_cmp);
    let pct = |p: f64| us[((us.len() as f64 * p).ceil() as usize).clamp(1, us.len()) - 1];
    let mean = us.iter().sum::<f64>() / us.len() as f64;
    let mut per_second: Vec<f64> = Vec::new();
    for (d, at) in samples {
        let sec = at.as_secs() as usize;
        if per_second.len() <= sec {
            per_second.resize(sec + 1, 0.0);
        }
        per_second[sec] = per_second[sec].max(d.as_secs_f64() * 1e6);
    }
    let seconds: Vec<String> = per_second.iter().map(|v| format!("{v:.0}")).collect();
    println!(
        "{label}: {} calls: mean {mean:.0} µs, p50 {:.0}, p99 {:.0}, p99.9 {:.0}, max {:.0} µs; \
         slowest call of each second: [{}] µs",
        us.len(),
        pct(0.50),
        pct(0.99),
        pct(0.999),
        us[us.len() - 1],
        seconds.join(", ")
    );
}

/// Fills the emulator to `scans` stored scans with 16 concurrent connections.
async fn fill(c: &Client, scans: usize, start_n: u64) -> u64 {
    let conns = 16u64;
    let requests = scans.div_ceil(20) as u64;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..conns {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = keep_alive(&c).await;
            let mut n = start_n + k * 1_000_000_000;
            let mut i = k;
            while i < requests {
                let req = c.tc3_post_request("CreateScanInstances", &create_body(&mut n), c.now());
                s.ready().await.unwrap();
                let resp = s.send_request(req).await.unwrap();
                resp.into_body().collect().await.unwrap();
                i += conns;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let d = t.elapsed();
    println!(
        "  filled to {scans} scans: {requests} requests from 16 connections in {:.2} s ({:.0} requests/s)",
        d.as_secs_f64(),
        requests as f64 / d.as_secs_f64()
    );
    start_n + conns * 1_000_000_000
}

async fn mode(label: &str, state: Option<(&std::path::Path, StateSync)>) {
    let samples = env("SAMPLES", 2000);
    let fill_scans = env("FILL_SCANS", 200_000);
    let clock = Arc::new(ManualClock::new(T0_MS));
    let mut cfg = config(&clock)
        .with_rate_limit(0)
        .with_initial_quota(u64::MAX / 4);
    if let Some((p, sync)) = state {
        cfg = cfg.with_state_file(p).with_state_sync(sync);
    }
    let emu = start(cfg).await;
    let c = Client::new(&emu, &clock);
    let mut n = 0u64;
    let warm = timed_calls(&c, 200, &mut n).await;
    drop(warm);
    let at_zero = timed_calls(&c, samples, &mut n).await;
    report(
        &format!(
            "{label}, {} to {} scans stored",
            20 * 200,
            20 * (200 + samples)
        ),
        &at_zero,
    );
    let paced = paced_calls(&c, PACED, &mut n, Some(Duration::from_millis(50))).await;
    report(
        &format!("{label}, paced at 20 calls/s (the documented quota)"),
        &paced,
    );
    let n2 = fill(&c, fill_scans, 1 << 40).await;
    clock.advance(Duration::from_secs(10));
    let t = Instant::now();
    let mut s = keep_alive(&c).await;
    s.ready().await.unwrap();
    let resp = s
        .send_request(c.tc3_post_request("DescribeScanInstances", "{}", c.now()))
        .await
        .unwrap();
    resp.into_body().collect().await.unwrap();
    println!(
        "  finishing every stored scan (once, in the first request after the clock moved): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut n = n2;
    let at_fill = timed_calls(&c, samples, &mut n).await;
    let base = fill_scans + 20 * (200 + samples + PACED);
    report(
        &format!("{label}, {base} to {} scans stored", base + 20 * samples),
        &at_fill,
    );
    let paced = paced_calls(&c, PACED, &mut n, Some(Duration::from_millis(50))).await;
    report(
        &format!(
            "{label}, paced at 20 calls/s, over {} scans stored",
            base + 20 * samples
        ),
        &paced,
    );
    emu.close().await.expect("closed cleanly");
    if let Some((p, _)) = state {
        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        println!("  state file after close: {:.1} MB", size as f64 / 1e6);
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        mode("in memory", None).await;
        let dir = tempfile::tempdir().unwrap();
        mode(
            "--state (sync full)",
            Some((&dir.path().join("full.db"), StateSync::Full)),
        )
        .await;
        mode(
            "--state --state-sync normal",
            Some((&dir.path().join("normal.db"), StateSync::Normal)),
        )
        .await;
    });
}
