//! The shared rate limiter's cost per call on loopback (run with
//! `cargo bench -p ms-transport --features redis --bench shared_limiter`).
//!
//! Starts its own redis-server on a free loopback port (skipped with a message when the
//! binary is missing), then times sequential `Limiter::acquire` calls of a quota so high that
//! nobody waits (1,000,000 requests/s with a burst of 1,000,000): what remains is the
//! reservation itself, one Lua script (EVALSHA) round trip to Redis, against the in-process
//! GCRA (one compare-and-swap).

#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use ms_transport::ratelimit::redis::{FailureMode, RedisLimiter, RedisLimiterConfig, RedisUrl};
use ms_transport::{Limiter, LimiterKey, RateLimit, RateLimitConfig, RateLimiter};

const CALLS: u32 = 5_000;
const WARM_UP: u32 = 200;

async fn per_call(limiter: &dyn Limiter, key: &LimiterKey) -> Duration {
    for _ in 0..WARM_UP {
        limiter.acquire(key).await.expect("slot");
    }
    let started = Instant::now();
    for _ in 0..CALLS {
        limiter.acquire(key).await.expect("slot");
    }
    started.elapsed() / CALLS
}

fn main() {
    let Some(server) = redis_server::RedisServer::start() else {
        return;
    };
    let quotas = RateLimitConfig::ms_defaults()
        .with_default(RateLimit::per_second(1_000_000).with_burst(1_000_000));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let key = LimiterKey::new("CreateScanInstances", "ap-guangzhou", "AKIDbench");
    let (shared, local) = rt.block_on(async {
        let redis = RedisLimiter::new(
            RedisLimiterConfig::new(RedisUrl::parse(&server.url()).expect("url"))
                .quotas(quotas.clone())
                .failure_mode(FailureMode::Fail),
        )
        .expect("limiter");
        let local = RateLimiter::new(quotas.clone());
        let mut best_shared = Duration::MAX;
        let mut best_local = Duration::MAX;
        for _ in 0..3 {
            best_shared = best_shared.min(per_call(&redis, &key).await);
            best_local = best_local.min(per_call(&local, &key).await);
        }
        (best_shared, best_local)
    });
    let ping = {
        let started = Instant::now();
        for _ in 0..200 {
            server.cli(&["PING"]);
        }
        started.elapsed() / 200
    };
    println!("limiter cost per call, {CALLS} sequential calls, best of 3 batches:");
    println!(
        "  Redis (Lua GCRA on loopback)  {:>9.1} µs",
        shared.as_secs_f64() * 1e6
    );
    println!(
        "  in-process GCRA               {:>9.3} µs",
        local.as_secs_f64() * 1e6
    );
    println!(
        "  (a whole redis-cli PING process, for scale: {:.0} µs)",
        ping.as_secs_f64() * 1e6
    );
}
