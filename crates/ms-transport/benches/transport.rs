//! Benchmarks of ms-transport (run with `cargo bench -p ms-transport --bench transport`).
//!
//! 1. Quota utilization: batch submission of 2,000 apps at 20 requests/s and 20,000 apps at
//!    500 requests/s against ms-emulator enforcing the same quota. Utilization is the ideal
//!    duration of N requests at rate r with burst 1, (N-1)/r, divided by the measured
//!    duration from the first request to the last reply. Retries are disabled so every
//!    throttled reply is counted.
//! 2. Client overhead per call: sequential calls to a trivial local HTTP server through the
//!    full client (validation, serialization, limiter bookkeeping, TC3 signing, headers,
//!    decoding) minus the same calls through a bare hyper-util client.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use ms_emulator::{DEMO_SECRET_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use ms_model::{AppInfo, DescribeScanInstancesRequest, ScanInfo};
use ms_transport::batch::{BatchOptions, submit_batch};
use ms_transport::{Client, Proxy, RateLimit, RetryConfig, StaticProvider};

fn app(i: usize) -> AppInfo {
    AppInfo {
        app_url: format!("https://apps.example.com/{i}.apk"),
        app_md5: format!("{i:032x}"),
        ..AppInfo::default()
    }
}

struct QuotaResult {
    apps: usize,
    rate: u32,
    requests: usize,
    seconds: f64,
    utilization: f64,
    throttled: usize,
    other_failures: usize,
}

async fn quota_run(apps: usize, rate: u32, concurrency: usize) -> QuotaResult {
    let emu = Emulator::start(
        EmulatorConfig::demo()
            .with_rate_limit(rate)
            .with_initial_quota(10_000_000)
            .with_scan_duration(Duration::from_secs(3600)),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("emulator");
    let client = Client::builder()
        .endpoint(emu.base_url())
        .allow_http()
        .proxy(Proxy::None)
        .credentials(
            StaticProvider::from_parts(DEMO_SECRET_ID, DEMO_SECRET_KEY, None).expect("creds"),
        )
        .default_rate_limit(RateLimit::per_second(rate))
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let scan_info = ScanInfo {
        callback_url: "http://127.0.0.1:9/cb".into(),
        scan_types: vec!["VULSCAN".into()],
    };
    let started = Instant::now();
    let report = submit_batch(
        &client,
        (0..apps).map(app),
        scan_info,
        &BatchOptions {
            chunk_size: 20,
            concurrency,
            ..BatchOptions::default()
        },
        |_| {},
    )
    .await
    .expect("valid ScanInfo");
    let seconds = started.elapsed().as_secs_f64();
    let requests = apps.div_ceil(20);
    let ideal = (requests as f64 - 1.0) / f64::from(rate);
    let throttled = report
        .failed
        .iter()
        .chain(report.unknown.iter())
        .filter(|c| c.error.throttling)
        .count();
    let other_failures =
        report.failed.len() + report.unknown.len() + report.not_accepted.len() - throttled;
    assert_eq!(report.total_apps(), apps);
    emu.shutdown().await;
    QuotaResult {
        apps,
        rate,
        requests,
        seconds,
        utilization: ideal / seconds,
        throttled,
        other_failures,
    }
}

const REPLY: &str = r#"{"Response":{"TotalCount":0,"ScanSet":[],"RequestId":"00000000-0000-0000-0000-000000000000"}}"#;

async fn trivial_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(REPLY.as_bytes())))
                            .expect("response"),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

async fn overhead(calls: u32) -> (f64, f64) {
    let addr = trivial_server().await;
    let client = Client::builder()
        .endpoint(&format!("http://{addr}"))
        .allow_http()
        .proxy(Proxy::None)
        .region("ap-guangzhou")
        .credentials(
            StaticProvider::from_parts("AKIDbench", "bench-secret-key", Some("token"))
                .expect("creds"),
        )
        .disable_rate_limit()
        .build()
        .expect("client");
    let request = DescribeScanInstancesRequest {
        limit: Some(20),
        ..DescribeScanInstancesRequest::default()
    };
    for _ in 0..200 {
        client.send(&request).await.expect("warm-up");
    }
    let t = Instant::now();
    for _ in 0..calls {
        client.send(&request).await.expect("call");
    }
    let full = t.elapsed().as_secs_f64() / f64::from(calls);

    let bare: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let uri: hyper::Uri = format!("http://{addr}/").parse().expect("uri");
    let body = Bytes::from_static(br#"{"Limit":20}"#);
    let send = || {
        let req = hyper::Request::post(uri.clone())
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .expect("request");
        let fut = bare.request(req);
        async move {
            let resp = fut.await.expect("bare call");
            resp.into_body().collect().await.expect("body").to_bytes()
        }
    };
    for _ in 0..200 {
        send().await;
    }
    let t = Instant::now();
    for _ in 0..calls {
        send().await;
    }
    let raw = t.elapsed().as_secs_f64() / f64::from(calls);
    (full, raw)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        println!("| scenario | requests | duration | quota utilization | throttled replies | other failures |");
        println!("|---|---|---|---|---|---|");
        for (apps, rate, conc) in [(2_000, 20, 16), (20_000, 500, 64)] {
            let r = quota_run(apps, rate, conc).await;
            println!(
                "| {} apps at {} req/s | {} | {:.3} s | {:.2} % | {} | {} |",
                r.apps,
                r.rate,
                r.requests,
                r.seconds,
                r.utilization * 100.0,
                r.throttled,
                r.other_failures
            );
        }
        let calls = 5_000;
        let (full, raw) = overhead(calls).await;
        println!();
        println!("| per call ({calls} sequential calls, loopback) | µs |");
        println!("|---|---|");
        println!("| ms-transport Client::send (typed, TC3, decode) | {:.1} |", full * 1e6);
        println!("| bare hyper-util client, same bytes | {:.1} |", raw * 1e6);
        println!("| client overhead | {:.1} |", (full - raw) * 1e6);
    });
}
