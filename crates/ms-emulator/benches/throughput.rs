//! Emulator throughput over loopback: `cargo bench -p ms-emulator --bench throughput`.
//!
//! Signed TC3 requests over keep-alive HTTP/1.1 connections, rate limiting off:
//! sequential latency of DescribeScanInstances and of DescribeScanResults for a finished
//! 20-app task (findings generation + JSON), and throughput with 16 concurrent connections.

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
    });
}
