//! Several clients (as several processes or machines would) share one quota through a real
//! redis-server, against the emulator enforcing that quota over HTTP.
#![cfg(feature = "redis")]

mod support;

#[path = "support/redis_server.rs"]
mod redis_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ms_emulator::{DEMO_SECRET_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use ms_model::DescribeScanInstancesRequest;
use ms_transport::ratelimit::redis::{FailureMode, RedisLimiterConfig, RedisUrl};
use ms_transport::{Client, ErrorKind, Proxy, RateLimit, RetryConfig, StaticProvider};
use redis_server::RedisServer;

const RATE: u32 = 50;

/// The emulator with a quota of `RATE` requests a second, on a free loopback port (stopped
/// when dropped).
async fn emulator() -> Emulator {
    Emulator::start(
        EmulatorConfig::demo().with_rate_limit(RATE),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("emulator")
}

fn shared_client(emu: &Emulator, redis_url: &str, mode: FailureMode) -> Client {
    Client::builder()
        .endpoint(emu.base_url())
        .allow_http()
        .proxy(Proxy::None)
        .credentials(StaticProvider::from_parts(DEMO_SECRET_ID, DEMO_SECRET_KEY, None).unwrap())
        .retry(RetryConfig::disabled())
        .default_rate_limit(RateLimit::per_second(RATE))
        .shared_rate_limit(
            RedisLimiterConfig::new(RedisUrl::parse(redis_url).unwrap())
                .failure_mode(mode)
                .retry_every(Duration::from_millis(100)),
        )
        .build()
        .expect("client")
}

#[tokio::test]
async fn three_clients_on_one_redis_are_never_throttled() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let emu = emulator().await;
    // Each client alone would send at the full quota: together 3× the quota, unless they
    // share one schedule. Retries are off, so a throttled reply is a failed call.
    let throttled = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let client = shared_client(&emu, &redis.url(), FailureMode::Fail);
        for _ in 0..4 {
            let (client, throttled) = (client.clone(), Arc::clone(&throttled));
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    match client.send(&DescribeScanInstancesRequest::default()).await {
                        Ok(_) => {}
                        Err(e) if e.is_throttling() => {
                            throttled.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(throttled.load(Ordering::SeqCst), 0, "throttled replies");
    emu.shutdown().await;
}

#[tokio::test]
async fn redis_stopped_mid_run_fails_cleanly_or_falls_back() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let emu = emulator().await;
    let fail = shared_client(&emu, &redis.url(), FailureMode::Fail);
    let local = shared_client(&emu, &redis.url(), FailureMode::Local { share: 0.5 });
    let req = DescribeScanInstancesRequest::default();
    fail.send(&req).await.expect("through redis");
    local.send(&req).await.expect("through redis");
    redis.stop();
    let e = fail.send(&req).await.expect_err("redis is down");
    assert_eq!(e.kind(), ErrorKind::RateLimiter);
    assert!(!e.is_outcome_unknown(), "nothing was sent");
    assert_eq!(e.attempts(), 1);
    for _ in 0..5 {
        local.send(&req).await.expect("local fallback");
    }
    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fail.send(&req).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "never reconnected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn a_batch_cut_by_a_redis_outage_accounts_for_every_app_as_sent_or_safe_to_resend() {
    use ms_model::{AppInfo, ScanInfo};
    use ms_transport::batch::{BatchOptions, submit_batch};
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let emu = emulator().await;
    let client = Client::builder()
        .endpoint(emu.base_url())
        .allow_http()
        .proxy(Proxy::None)
        .credentials(StaticProvider::from_parts(DEMO_SECRET_ID, DEMO_SECRET_KEY, None).unwrap())
        .default_rate_limit(RateLimit::per_second(5))
        .shared_rate_limit(
            RedisLimiterConfig::new(RedisUrl::parse(&redis.url()).unwrap())
                .failure_mode(FailureMode::Fail),
        )
        .build()
        .expect("client");
    let apps: Vec<AppInfo> = (0..200)
        .map(|i| AppInfo {
            app_url: format!("https://apps.example.com/{i}.apk"),
            app_md5: format!("{i:032x}"),
            ..AppInfo::default()
        })
        .collect();
    // 10 chunks at 5/s, two in flight (each reserves its slot when it starts): about 2 s of
    // schedule; Redis goes away after the first chunks.
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        redis.stop();
        redis
    });
    let report = submit_batch(
        &client,
        apps,
        ScanInfo {
            callback_url: "http://127.0.0.1:9/callback".into(),
            scan_types: vec!["VULSCAN".into()],
        },
        &BatchOptions {
            concurrency: 2,
            ..BatchOptions::default()
        },
        |_| {},
    )
    .await
    .expect("the batch runs to its end (an in-memory journal)");
    let _redis = stopper.join().expect("stopper");
    assert!(report.unknown.is_empty(), "nothing of unknown outcome");
    assert!(
        !report.failed.is_empty(),
        "the outage failed the later chunks"
    );
    for chunk in &report.failed {
        assert_eq!(chunk.error.code, "RateLimiter", "{:?}", chunk.error);
    }
    let mut seen: Vec<String> = report
        .submitted
        .iter()
        .flat_map(|c| c.apps.iter())
        .chain(report.failed.iter().flat_map(|c| c.apps.iter()))
        .chain(report.not_accepted.iter().flat_map(|c| c.apps.iter()))
        .map(|a| a.app_md5.clone())
        .collect();
    seen.sort();
    let mut expected: Vec<String> = (0..200).map(|i| format!("{i:032x}")).collect();
    expected.sort();
    assert_eq!(seen, expected, "every app once: accepted, or failed unsent");
    emu.shutdown().await;
}
