//! Tests of the shared limiter against a real redis-server (started per test on a free
//! loopback port; skipped with a message when redis-server is missing and CI is unset).

use std::sync::Mutex as StdMutex;

use super::*;

#[path = "../../../tests/support/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

fn key(action: &str) -> LimiterKey {
    LimiterKey::new(action, "ap-guangzhou", "AKIDsecretIdInClear")
}

fn limiter(url: &str, quotas: RateLimitConfig, mode: FailureMode) -> RedisLimiter {
    let url = RedisUrl::parse(url).expect("valid URL");
    RedisLimiter::new(
        RedisLimiterConfig::new(url)
            .quotas(quotas)
            .failure_mode(mode)
            .retry_every(Duration::ZERO),
    )
    .expect("limiter")
}

// ---- the URL -------------------------------------------------------------------------

#[test]
fn urls_are_checked_and_the_password_never_shows() {
    let u = RedisUrl::parse("redis://alice:pa%24%24word@cache.internal:6380/2").unwrap();
    assert_eq!(u.to_string(), "redis://alice:***@cache.internal:6380/2");
    assert!(!format!("{u:?}").contains("pa%24"));
    assert_eq!(
        u.scrub("auth pa%24%24word failed for pa$$word"),
        "auth *** failed for ***"
    );
    let only_password = RedisUrl::parse("rediss://:hunter2@10.0.0.1").unwrap();
    assert!(only_password.is_tls());
    assert_eq!(only_password.redacted(), "rediss://:***@10.0.0.1");
    assert_eq!(
        RedisUrl::parse("redis://[::1]:7000").unwrap().redacted(),
        "redis://[::1]:7000"
    );
    for (bad, says) in [
        ("127.0.0.1:6379", "expected redis://"),
        ("http://h:1", "scheme"),
        ("redis+unix:///tmp/s", "scheme"),
        ("redis://:pw@host:notaport", "bad port"),
        ("redis://:pw@:6379", "no host"),
        ("redis://:pw@host/x", "/DB"),
        ("redis://:pw@ho st", "host"),
    ] {
        let e = RedisUrl::parse(bad).unwrap_err();
        assert!(e.message().contains(says), "{bad}: {}", e.message());
        assert!(!e.message().contains("pw"), "{bad}: {}", e.message());
        assert_eq!(e.kind(), crate::ErrorKind::Config);
    }
}

#[test]
fn keys_hash_the_secret_id() {
    let l = limiter(
        "redis://127.0.0.1:1",
        RateLimitConfig::ms_defaults(),
        FailureMode::Fail,
    );
    let k = l.redis_key(&key("CreateScanInstances"));
    assert!(
        k.starts_with("ms:ratelimit:v1:CreateScanInstances:ap-guangzhou:"),
        "{k}"
    );
    assert!(!k.contains("AKID"), "{k}");
    assert_eq!(k.rsplit(':').next().map(str::len), Some(32));
    let no_region = l.redis_key(&LimiterKey::new("A", "", "x"));
    assert!(no_region.starts_with("ms:ratelimit:v1:A:-:"), "{no_region}");
    assert_ne!(
        l.redis_key(&LimiterKey::new("A", "", "x")),
        l.redis_key(&LimiterKey::new("A", "", "y"))
    );
}

#[test]
fn microsecond_intervals_round_up_so_the_quota_is_never_exceeded() {
    let g = gcra_micros(RateLimit::per_second(1500));
    assert_eq!(g.interval(), 667);
    assert_eq!(gcra_micros(RateLimit::per_second(20)).interval(), 50_000);
    assert_eq!(
        gcra_micros(RateLimit::per_second(10).with_burst(3)).tolerance(),
        200_000
    );
}

// ---- the Lua script against ms-gcra ------------------------------------------------------

/// A small deterministic generator (xorshift) for arrival schedules.
fn schedule(seed: u64, n: usize, max_gap: u64) -> Vec<u64> {
    let mut x = seed.max(1);
    let mut now = 1_700_000_000_000_000u64; // a realistic TIME in microseconds
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Bunched arrivals (gap 0) are frequent, as with concurrent callers.
            let gap = if x.is_multiple_of(3) { 0 } else { x % max_gap };
            now += gap;
            now
        })
        .collect()
}

#[tokio::test]
async fn the_lua_script_reserves_exactly_the_slots_ms_gcra_reserves() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let l = limiter(
        &server.url(),
        RateLimitConfig::ms_defaults(),
        FailureMode::Fail,
    );
    let cases = [
        (RateLimit::per_second(20), 200_000),
        (RateLimit::per_second(500), 5_000),
        (RateLimit::per_second(1500), 3_000),
        (RateLimit::per_second(10).with_burst(5), 400_000),
        (RateLimit::per_second(1), 3_000_000),
    ];
    for (case, (rate, max_gap)) in cases.into_iter().enumerate() {
        for seed in 1..=8u64 {
            let gcra = gcra_micros(rate);
            let redis_key = format!("test:{case}:{seed}");
            let mut tat = 0u64;
            for (i, now) in schedule(seed * 7919 + case as u64, 60, max_gap)
                .into_iter()
                .enumerate()
            {
                let expected = gcra.reserve(tat, now);
                tat = expected.tat;
                let got = l
                    .reserve_remote(&redis_key, gcra, Some(now))
                    .await
                    .unwrap_or_else(|Unavailable(e)| panic!("redis: {e}"));
                assert_eq!(
                    (got.wait, got.tat, got.previous),
                    (
                        Duration::from_micros(expected.wait(now)),
                        expected.tat as i64,
                        expected.previous as i64
                    ),
                    "rate {rate:?}, seed {seed}, arrival {i} at {now}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_server_clock_stepping_back_keeps_the_schedule_lead() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let l = limiter(
        &server.url(),
        RateLimitConfig::ms_defaults(),
        FailureMode::Fail,
    );
    let g = gcra_micros(RateLimit::per_second(20));
    let t = 1_700_000_000_000_000u64;
    let waits = |r: RemoteSlot| r.wait;
    let ok = |r: Result<RemoteSlot, Unavailable>| match r {
        Ok(r) => r,
        Err(Unavailable(e)) => panic!("redis: {e}"),
    };
    assert_eq!(
        waits(ok(l.reserve_remote("step", g, Some(t)).await)),
        Duration::ZERO
    );
    assert_eq!(
        waits(ok(l.reserve_remote("step", g, Some(t)).await)),
        Duration::from_millis(50)
    );
    // The server's clock jumps one hour back: the next slot is still 100 ms after the
    // first reservation's "now" (not an hour away, and not free at once).
    let back = t - 3_600_000_000;
    assert_eq!(
        waits(ok(l.reserve_remote("step", g, Some(back)).await)),
        Duration::from_millis(100)
    );
}

// ---- behaviour on a real server, real TIME ---------------------------------------------

#[tokio::test]
async fn concurrent_callers_share_one_schedule_and_the_key_expires() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let quotas = RateLimitConfig::ms_defaults().with_default(RateLimit::per_second(1000));
    // Two limiters = two processes sharing one Redis.
    let a = limiter(&server.url(), quotas.clone(), FailureMode::Fail);
    let b = limiter(&server.url(), quotas, FailureMode::Fail);
    let k = key("CreateScanInstances");
    let redis_key = a.redis_key(&k);
    let g = gcra_micros(RateLimit::per_second(1000));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let l = if i % 2 == 0 { a.clone() } else { b.clone() };
        let rk = redis_key.clone();
        tasks.push(tokio::spawn(async move {
            match l.reserve_remote(&rk, g, None).await {
                Ok(slot) => slot.tat,
                Err(Unavailable(e)) => panic!("redis: {e}"),
            }
        }));
    }
    let mut tats = Vec::new();
    for t in tasks {
        tats.push(t.await.expect("task"));
    }
    tats.sort_unstable();
    // Every caller got its own slot on one schedule: TATs one interval apart, none shared
    // (the server's TIME may have moved on between two, which only widens a gap).
    for w in tats.windows(2) {
        assert!(w[1] - w[0] >= 1000, "{tats:?}");
    }
    // The TAT is in one hash, its key expires, and the SecretId is nowhere in clear.
    let pttl: i64 = server.cli(&["PTTL", &redis_key]).parse().expect("PTTL");
    assert!(pttl > 0 && pttl <= 60_000, "PTTL {pttl}");
    let keys = server.cli(&["KEYS", "*"]);
    assert!(!keys.contains("AKID"), "{keys}");
    assert_eq!(keys.lines().count(), 1, "{keys}");
    // acquire() goes through the same path.
    assert!(a.acquire(&k).await.is_ok());
}

#[tokio::test]
async fn a_dropped_waiter_gives_its_redis_slot_back() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let quotas =
        RateLimitConfig::ms_defaults().with_default(RateLimit::new(1, Duration::from_secs(60)));
    let l = limiter(&server.url(), quotas, FailureMode::Fail);
    let k = key("Dropped");
    let rk = l.redis_key(&k);
    assert_eq!(l.acquire(&k).await.ok(), Some(Duration::ZERO));
    let first_tat = server.cli(&["HGET", &rk, "tat"]);
    // The next caller waits a minute for its slot; it is dropped while it waits.
    let waiter = {
        let (l, k) = (l.clone(), k.clone());
        tokio::spawn(async move { l.acquire(&k).await })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.cli(&["HGET", &rk, "tat"]) == first_tat {
        assert!(Instant::now() < deadline, "the waiter never reserved");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    waiter.abort();
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.cli(&["HGET", &rk, "tat"]) != first_tat {
        assert!(
            Instant::now() < deadline,
            "the dropped waiter's slot was not given back"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---- failures ------------------------------------------------------------------------------

fn recorder() -> (EventHook, Arc<StdMutex<Vec<LimiterEvent>>>) {
    let events = Arc::new(StdMutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let hook: EventHook = Arc::new(move |e: &LimiterEvent| {
        sink.lock().map(|mut v| v.push(e.clone())).ok();
    });
    (hook, events)
}

#[tokio::test]
async fn redis_down_fails_or_falls_back_and_comes_back() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let url = format!("redis://:topsecretpw@127.0.0.1:{}/0", server.port());
    server.cli(&["CONFIG", "SET", "requirepass", "topsecretpw"]);
    let (hook, events) = recorder();
    let quotas = RateLimitConfig::ms_defaults().with_default(RateLimit::per_second(1000));
    let local = RedisLimiter::new(
        RedisLimiterConfig::new(RedisUrl::parse(&url).unwrap())
            .quotas(quotas.clone())
            .failure_mode(FailureMode::Local { share: 0.5 })
            .retry_every(Duration::ZERO)
            .on_event(hook),
    )
    .unwrap();
    let fail = limiter(&url, quotas, FailureMode::Fail);
    let k = key("CreateScanInstances");
    assert!(local.acquire(&k).await.is_ok());
    assert!(fail.acquire(&k).await.is_ok());
    assert!(!format!("{local:?}").contains("topsecretpw"));

    server.stop();
    for _ in 0..5 {
        assert!(local.acquire(&k).await.is_ok(), "local fallback");
    }
    let e = fail.acquire(&k).await.expect_err("fail mode");
    assert_eq!(e.kind(), crate::ErrorKind::RateLimiter);
    assert!(!e.is_outcome_unknown());
    assert!(
        e.message().contains("redis://:***@127.0.0.1"),
        "{}",
        e.message()
    );
    assert!(!e.to_string().contains("topsecretpw"));
    assert!(!format!("{e:?}").contains("topsecretpw"));

    server.restart();
    server.cli(&["CONFIG", "SET", "requirepass", "topsecretpw"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while fail.acquire(&k).await.is_err() {
        assert!(Instant::now() < deadline, "never reconnected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(local.acquire(&k).await.is_ok());
        let back = events
            .lock()
            .map(|v| {
                v.iter()
                    .any(|e| matches!(e, LimiterEvent::Reachable { .. }))
            })
            .unwrap_or(false);
        if back {
            break;
        }
        assert!(Instant::now() < deadline, "never reported back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = events.lock().map(|v| v.clone()).unwrap_or_default();
    let outages = events
        .iter()
        .filter(|e| matches!(e, LimiterEvent::Unreachable { .. }))
        .count();
    assert_eq!(outages, 1, "one report per outage: {events:?}");
    for e in &events {
        assert!(!format!("{e:?}").contains("topsecretpw"), "{e:?}");
    }
}

/// A Redis that answers but refuses us (wrong password, no such database) is not "slow": the
/// fail-mode error says why, on the call that found out and on the calls made while it is
/// considered down (which do not ask Redis again).
#[tokio::test]
async fn the_fail_mode_error_says_why_redis_refused() {
    let Some(server) = RedisServer::start_with(&["--requirepass", "rightpw"]) else {
        return;
    };
    let quotas = RateLimitConfig::ms_defaults().with_default(RateLimit::per_second(1000));
    for (url, says) in [
        (
            format!("redis://:wrongpw@127.0.0.1:{}/0", server.port()),
            "auth",
        ),
        (
            format!("redis://:rightpw@127.0.0.1:{}/99", server.port()),
            "DB index",
        ),
    ] {
        let (hook, events) = recorder();
        let l = RedisLimiter::new(
            RedisLimiterConfig::new(RedisUrl::parse(&url).unwrap())
                .quotas(quotas.clone())
                .failure_mode(FailureMode::Fail)
                .retry_every(Duration::from_secs(3600))
                .on_event(hook),
        )
        .unwrap();
        let first = l.acquire(&key("Refused")).await.expect_err("refused");
        let reason = match events.lock().unwrap().first() {
            Some(LimiterEvent::Unreachable { reason, .. }) => reason.clone(),
            other => panic!("{url}: no outage reported: {other:?}"),
        };
        assert!(
            reason.to_lowercase().contains(&says.to_lowercase()),
            "{url}: {reason}"
        );
        let again = l.acquire(&key("Refused")).await.expect_err("still down");
        for e in [first, again] {
            assert_eq!(e.kind(), crate::ErrorKind::RateLimiter);
            assert!(e.message().contains(&reason), "{url}: {}", e.message());
            assert!(!e.message().contains("wrongpw") && !e.message().contains("rightpw"));
        }
    }
}

#[tokio::test]
async fn a_slow_redis_is_an_outage_not_a_hang() {
    let Some(server) = RedisServer::start_with(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let quotas = RateLimitConfig::ms_defaults().with_default(RateLimit::per_second(1000));
    let fail = limiter(&server.url(), quotas.clone(), FailureMode::Fail);
    let local = limiter(&server.url(), quotas, FailureMode::Local { share: 0.5 });
    let k = key("Slow");
    assert!(fail.acquire(&k).await.is_ok());
    assert!(local.acquire(&k).await.is_ok());
    // Block the server for 3 s from another connection.
    let port = server.port();
    let blocker = std::thread::spawn(move || {
        let _ = std::process::Command::new("redis-cli")
            .args(["-p", &port.to_string(), "DEBUG", "SLEEP", "3"])
            .output();
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let e = fail
        .acquire(&k)
        .await
        .expect_err("a slow Redis fails the call");
    assert_eq!(e.kind(), crate::ErrorKind::RateLimiter);
    assert!(local.acquire(&k).await.is_ok(), "falls back");
    blocker.join().ok();
}

#[tokio::test]
async fn nothing_listening_is_handled_from_the_first_call() {
    // A port with nothing behind it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let quotas = RateLimitConfig::ms_defaults().with_default(RateLimit::per_second(1000));
    let fail = limiter(&url, quotas.clone(), FailureMode::Fail);
    assert_eq!(
        fail.acquire(&key("A")).await.map_err(|e| e.kind()),
        Err(crate::ErrorKind::RateLimiter)
    );
    let local = limiter(&url, quotas, FailureMode::Local { share: 1.0 });
    assert!(local.acquire(&key("A")).await.is_ok());
}

/// A CA file without a certificate is a configuration error when the limiter is made, not
/// an outage found on every call (which `local` would quietly go around at a share of the
/// quota).
#[test]
fn a_root_pem_without_a_certificate_is_refused_at_once() {
    let config = || {
        RedisLimiterConfig::new(RedisUrl::parse("rediss://127.0.0.1:6380").unwrap())
            .failure_mode(FailureMode::Local { share: 0.5 })
    };
    let garbage = b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n";
    for pem in [&b"not a pem"[..], b"", &garbage[..]] {
        let e = RedisLimiter::new(config().root_pem(pem)).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.message().contains("CA certificate"), "{}", e.message());
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = params.self_signed(&key).unwrap();
    assert_eq!(check_root_pem(ca.pem().as_bytes()).ok(), Some(1));
    assert!(RedisLimiter::new(config().root_pem(ca.pem())).is_ok());
}

#[tokio::test]
async fn rediss_connects_over_tls_with_a_given_root() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let write = |name: &str, pem: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path.to_string_lossy().into_owned()
    };
    let cert = write("cert.pem", leaf.pem());
    let key_file = write("key.pem", leaf_key.serialize_pem());
    let ca_file = write("ca.pem", ca.pem());
    let Some(server) = RedisServer::start_tls(&cert, &key_file, &ca_file) else {
        return;
    };
    assert!(server.url().starts_with("rediss://"));
    let quotas = RateLimitConfig::ms_defaults().with_default(RateLimit::per_second(1000));
    let config = |root: Option<String>| {
        let mut c = RedisLimiterConfig::new(RedisUrl::parse(&server.url()).unwrap())
            .quotas(quotas.clone())
            .failure_mode(FailureMode::Fail)
            .timeout(Duration::from_secs(2));
        if let Some(pem) = root {
            c = c.root_pem(pem);
        }
        RedisLimiter::new(c).unwrap()
    };
    let trusted = config(Some(ca.pem()));
    assert_eq!(
        trusted.acquire(&key("Tls")).await.ok(),
        Some(Duration::ZERO)
    );
    assert!(trusted.acquire(&key("Tls")).await.is_ok());
    // Without the root, the server's certificate is refused: an outage, not a panic.
    let untrusted = config(None);
    assert_eq!(
        untrusted.acquire(&key("Tls")).await.map_err(|e| e.kind()),
        Err(crate::ErrorKind::RateLimiter)
    );
}
