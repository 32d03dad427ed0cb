//! End to end through real HTTP against ms-emulator: typed calls, throttling, clock skew,
//! injected faults, TLS with the emulator's certificate, CONNECT proxy, waiter, paginator and
//! batch submission with complete accounting.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures_util::TryStreamExt;
use ms_emulator::{DEMO_SECRET_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig, FaultConfig};
use ms_model::{
    AppInfo, CreateScanInstancesRequest, DescribeScanInstancesRequest, DescribeScanResultsRequest,
    ScanInfo,
};
use ms_transport::batch::{BatchOptions, submit_batch};
use ms_transport::scan::{WaitOptions, wait_for_task};
use ms_transport::{
    Client, ClientBuilder, ErrorKind, Proxy, RateLimit, RetryConfig, StaticProvider, paginate,
};
use support::ConnectProxy;

async fn emulator(config: EmulatorConfig) -> Emulator {
    Emulator::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("emulator")
}

fn client_for(emu: &Emulator) -> ClientBuilder {
    let mut b = Client::builder()
        .endpoint(emu.base_url())
        .allow_http()
        .proxy(Proxy::None)
        .credentials(
            StaticProvider::from_parts(DEMO_SECRET_ID, DEMO_SECRET_KEY, None).expect("creds"),
        )
        .retry(
            RetryConfig::default()
                .with_backoff(Duration::from_millis(2), Duration::from_millis(20))
                .with_throttle_backoff(Duration::from_millis(20)),
        );
    if let Some(pem) = emu.ca_pem() {
        b = b.add_root_pem(pem.as_bytes());
    }
    b
}

fn seeded(mut f: FaultConfig, seed: u64) -> FaultConfig {
    f.seed = seed;
    f
}

fn app(i: usize) -> AppInfo {
    AppInfo {
        app_url: format!("https://apps.example.com/{i}.apk"),
        app_md5: format!("{i:032x}"),
        app_name: Some(format!("app-{i}")),
        ..AppInfo::default()
    }
}

fn scan_info() -> ScanInfo {
    ScanInfo {
        callback_url: "http://127.0.0.1:9/callback".into(),
        scan_types: vec!["VULSCAN".into(), "VIRUSSCAN".into()],
    }
}

#[tokio::test]
async fn typed_submit_wait_and_results() {
    let emu = emulator(EmulatorConfig::demo().with_scan_duration(Duration::from_millis(200))).await;
    let client = client_for(&emu).build().expect("client");
    let created = client
        .send(&CreateScanInstancesRequest {
            app_infos: (0..3).map(app).collect(),
            scan_info: scan_info(),
        })
        .await
        .expect("created");
    let item_id = created.item_id.expect("item id");
    assert!(created.request_id.is_some());
    let mut polls = Vec::new();
    let apps = wait_for_task(
        &client,
        &item_id,
        &WaitOptions {
            interval: Duration::from_millis(50),
            timeout: Duration::from_secs(60),
        },
        |p| polls.push(p.clone()),
    )
    .await
    .expect("finished");
    assert_eq!(apps.len(), 3);
    let last = polls.last().expect("progress reported");
    assert_eq!((last.total, last.finished), (3, 3));
    let results = client
        .send(&DescribeScanResultsRequest {
            item_id: item_id.clone(),
            ..DescribeScanResultsRequest::default()
        })
        .await
        .expect("results");
    assert_eq!(results.scan_set.map(|s| s.len()), Some(3));
    emu.shutdown().await;
}

#[tokio::test]
async fn waiter_times_out_when_the_task_does_not_finish() {
    let emu = emulator(EmulatorConfig::demo().with_scan_duration(Duration::from_secs(3600))).await;
    let client = client_for(&emu).build().expect("client");
    let created = client
        .send(&CreateScanInstancesRequest {
            app_infos: vec![app(1)],
            scan_info: scan_info(),
        })
        .await
        .expect("created");
    let e = wait_for_task(
        &client,
        &created.item_id.expect("id"),
        &WaitOptions {
            interval: Duration::from_millis(50),
            timeout: Duration::from_millis(300),
        },
        |_| {},
    )
    .await
    .expect_err("times out");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    emu.shutdown().await;
}

#[tokio::test]
async fn emulator_throttles_an_unlimited_client_but_not_a_limited_one() {
    let emu = emulator(EmulatorConfig::demo().with_rate_limit(20)).await;
    let unlimited = client_for(&emu)
        .disable_rate_limit()
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let request = DescribeScanInstancesRequest::default();
    // 100 concurrent calls: a 20/s quota (burst 20) throttles some unless they took over 4 s.
    let calls = (0..100).map(|_| unlimited.send(&request));
    let results = futures_util::future::join_all(calls).await;
    let throttled = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.is_throttling()))
        .count();
    assert!(throttled > 0, "100 back-to-back calls exceed a 20/s quota");

    // Another region (its own quota key) through the client-side limiter: never throttled.
    let limited = client_for(&emu)
        .region("ap-shanghai")
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let calls = (0..30).map(|_| {
        let c = limited.clone();
        async move { c.send(&DescribeScanInstancesRequest::default()).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "limited client got {} errors: {:?}",
        errors.len(),
        errors.first()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn skewed_server_clock_is_learned_and_corrected() {
    let emu =
        emulator(EmulatorConfig::demo().with_faults(FaultConfig::none().with_clock_offset(3600)))
            .await;
    let client = client_for(&emu)
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    client
        .send(&DescribeScanInstancesRequest::default())
        .await
        .expect("corrected after one SignatureExpire");
    let offset = client.skew_store().offset(client.endpoint().host());
    assert!((3590..=3610).contains(&offset), "offset {offset}");
    client
        .send(&DescribeScanInstancesRequest::default())
        .await
        .expect("later calls use the offset");

    let uncorrected = client_for(&emu)
        .without_skew_correction()
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let e = uncorrected
        .send(&DescribeScanInstancesRequest::default())
        .await
        .expect_err("expired");
    assert_eq!(e.code_str(), "AuthFailure.SignatureExpire");
    emu.shutdown().await;
}

#[tokio::test]
async fn injected_faults_are_retried_for_idempotent_actions_only() {
    let emu = emulator(EmulatorConfig::demo().with_rate_limit(0)).await;
    let patient = client_for(&emu)
        .disable_rate_limit()
        .retry(
            RetryConfig::default()
                .with_max_attempts(30)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
                .with_budget(0),
        )
        .build()
        .expect("client");
    for faults in [
        seeded(FaultConfig::none().with_5xx(0.5), 1),
        seeded(FaultConfig::none().with_drop(0.5), 2),
        seeded(FaultConfig::none().with_truncate(0.5), 3),
        seeded(FaultConfig::none().with_malformed(0.5), 4),
    ] {
        emu.set_faults(faults.clone());
        for _ in 0..5 {
            patient
                .send(&DescribeScanInstancesRequest::default())
                .await
                .unwrap_or_else(|e| panic!("{faults:?}: {e}"));
        }
    }
    for faults in [
        FaultConfig::none().with_5xx(1.0),
        FaultConfig::none().with_drop(1.0),
        FaultConfig::none().with_truncate(1.0),
        FaultConfig::none().with_malformed(1.0),
    ] {
        emu.set_faults(faults.clone());
        let e = patient
            .send(&CreateScanInstancesRequest {
                app_infos: vec![app(7)],
                scan_info: scan_info(),
            })
            .await
            .expect_err("fault");
        assert_eq!(
            e.attempts(),
            1,
            "{faults:?}: a non-idempotent call is not resubmitted: {e}"
        );
        assert!(e.is_outcome_unknown(), "{faults:?}: {e:?}");
    }
    // Throttling is retried even for CreateScanInstances: the service did not process it.
    emu.set_faults(seeded(FaultConfig::none().with_throttle(0.5), 9));
    for i in 0..5 {
        patient
            .send(&CreateScanInstancesRequest {
                app_infos: vec![app(100 + i)],
                scan_info: scan_info(),
            })
            .await
            .expect("throttling retried");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn tls_with_the_emulator_certificate_and_through_a_connect_proxy() {
    let emu = emulator(EmulatorConfig::demo().with_tls()).await;
    assert!(emu.base_url().starts_with("https://"));
    let client = client_for(&emu).build().expect("client");
    client
        .send(&DescribeScanInstancesRequest::default())
        .await
        .expect("tls");

    let proxy = ConnectProxy::start().await;
    let proxied = client_for(&emu)
        .proxy(Proxy::Url(proxy.url()))
        .build()
        .expect("client");
    proxied
        .send(&DescribeScanInstancesRequest::default())
        .await
        .expect("via proxy");
    assert_eq!(proxy.targets(), vec![emu.local_addr().to_string()]);
    emu.shutdown().await;
}

#[tokio::test]
async fn batch_submission_accounts_for_every_app_exactly_once_under_faults() {
    let emu = emulator(
        EmulatorConfig::demo()
            .with_rate_limit(200)
            .with_initial_quota(1_000_000),
    )
    .await;
    emu.set_faults(
        FaultConfig::none()
            .with_5xx(0.1)
            .with_drop(0.1)
            .with_truncate(0.05)
            .with_malformed(0.05)
            .with_throttle(0.1),
    );
    let client = client_for(&emu)
        .default_rate_limit(RateLimit::per_second(200))
        .build()
        .expect("client");
    let mut apps: Vec<AppInfo> = (0..397).map(app).collect();
    apps[5].app_md5 = "not-an-md5".into(); // rejected client-side, the rest of its chunk goes
    let mut last = None;
    let report = submit_batch(
        &client,
        apps.clone(),
        scan_info(),
        &BatchOptions::default(),
        |p| last = Some(p.clone()),
    )
    .await
    .expect("valid ScanInfo");
    assert_eq!(report.total_apps(), 397);
    assert_eq!(last.map(|p| p.apps_done()), Some(397));
    assert_eq!(report.invalid.len(), 1);
    assert!(
        report.invalid[0].problem.starts_with("AppMd5: "),
        "{}",
        report.invalid[0].problem
    );
    // Lost replies were reconciled: the processed ones found, the others sent again.
    assert_eq!(report.counts.apps, 397);
    assert_eq!(report.counts.sending + report.counts.pending, 0);

    // Every input app exactly once across the report.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let all = report
        .submitted
        .iter()
        .flat_map(|c| c.apps.iter())
        .chain(report.failed.iter().flat_map(|c| c.apps.iter()))
        .chain(report.unknown.iter().flat_map(|c| c.apps.iter()))
        .chain(report.not_accepted.iter().flat_map(|c| c.apps.iter()))
        .chain(report.invalid.iter().map(|i| &i.app));
    for a in all {
        *seen.entry(a.app_md5.clone()).or_default() += 1;
    }
    assert_eq!(seen.len(), 397);
    assert!(seen.values().all(|n| *n == 1));
    assert!(
        report
            .submitted
            .iter()
            .all(|c| c.apps.len() <= 20 && !c.item_id.is_empty())
    );

    // Cross-check with the emulator: every accepted app is known exactly once, and no app of a
    // failed (provably unprocessed) chunk was created.
    emu.set_faults(FaultConfig::none());
    let listed: Vec<_> = paginate(
        &client,
        DescribeScanInstancesRequest {
            limit: Some(100),
            ..Default::default()
        },
    )
    .try_collect()
    .await
    .expect("list");
    let mut on_server: HashMap<String, usize> = HashMap::new();
    for a in &listed {
        *on_server
            .entry(a.app_md5.clone().unwrap_or_default())
            .or_default() += 1;
    }
    assert!(
        on_server.values().all(|n| *n == 1),
        "nothing duplicated on the server"
    );
    for c in &report.submitted {
        for a in &c.apps {
            assert_eq!(
                on_server.get(&a.app_md5),
                Some(&1),
                "submitted app {} known",
                a.app_md5
            );
        }
    }
    for c in &report.failed {
        for a in &c.apps {
            assert!(
                !on_server.contains_key(&a.app_md5),
                "failed chunk {} was processed: {}",
                c.index,
                c.error
            );
        }
    }
    // Everything the server holds is accounted as accepted (or, if a listing failed, unknown).
    let accepted: std::collections::HashSet<&str> = report
        .submitted
        .iter()
        .flat_map(|c| c.apps.iter())
        .chain(report.unknown.iter().flat_map(|c| c.apps.iter()))
        .map(|a| a.app_md5.as_str())
        .collect();
    for md5 in on_server.keys() {
        assert!(
            accepted.contains(md5.as_str()),
            "{md5} held but not accepted"
        );
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn paginator_walks_every_page() {
    let emu = emulator(EmulatorConfig::demo().with_rate_limit(0)).await;
    let client = client_for(&emu)
        .disable_rate_limit()
        .build()
        .expect("client");
    let report = submit_batch(
        &client,
        (0..45).map(app),
        scan_info(),
        &BatchOptions::default(),
        |_| {},
    )
    .await
    .expect("valid ScanInfo");
    assert!(report.is_complete());
    assert_eq!(report.item_ids().len(), 3);
    let pages: Vec<_> = ms_transport::paginate_pages(
        &client,
        DescribeScanInstancesRequest {
            limit: Some(10),
            ..Default::default()
        },
    )
    .try_collect()
    .await
    .expect("pages");
    assert_eq!(pages.len(), 5);
    assert_eq!(pages.iter().map(|p| p.items.len()).sum::<usize>(), 45);
    assert_eq!(pages[0].total_count, Some(45));
    emu.shutdown().await;
}

#[tokio::test]
async fn invalid_typed_requests_are_rejected_before_any_io() {
    let server = support::TestServer::start().await;
    let client = Client::builder()
        .endpoint(&server.url())
        .allow_http()
        .proxy(Proxy::None)
        .credentials(StaticProvider::from_parts("AKIDx", "key", None).expect("creds"))
        .build()
        .expect("client");
    let e = client
        .send(&CreateScanInstancesRequest {
            app_infos: vec![AppInfo {
                app_md5: "xyz".into(),
                ..app(1)
            }],
            scan_info: scan_info(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("AppInfos[0].AppMd5"), "{e}");
    assert!(e.validation_errors().is_some());
    assert!(server.requests().is_empty(), "nothing was sent");
}

/// A credential source that fails `failures` times (the way STS or the metadata service
/// does when it does not answer), then hands out the demo account.
#[derive(Debug)]
struct FlakySource {
    failures: std::sync::atomic::AtomicU32,
    fetches: std::sync::atomic::AtomicU32,
    unavailable: bool,
}

impl ms_transport::credentials::FetchCredentials for FlakySource {
    fn name(&self) -> &'static str {
        "flaky"
    }

    fn fetch(&self) -> ms_transport::credentials::FetchFuture<'_> {
        use std::sync::atomic::Ordering::SeqCst;
        Box::pin(async move {
            self.fetches.fetch_add(1, SeqCst);
            if self
                .failures
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(if self.unavailable {
                    ms_transport::Error::credentials_unavailable("flaky: no answer")
                } else {
                    ms_transport::Error::credentials("flaky: role refused")
                });
            }
            let creds =
                ms_transport::Credentials::new(DEMO_SECRET_ID, DEMO_SECRET_KEY).expect("creds");
            Ok(ms_transport::TemporaryCredentials::new(
                creds,
                4_000_000_000,
            ))
        })
    }
}

#[tokio::test]
async fn credentials_that_are_briefly_unavailable_are_fetched_again_for_every_action() {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    let emu = emulator(EmulatorConfig::demo()).await;
    let flaky = |failures, unavailable| {
        ms_transport::CachedProvider::new(FlakySource {
            failures: AtomicU32::new(failures),
            fetches: AtomicU32::new(0),
            unavailable,
        })
    };
    // A client of the emulator whose credentials come from `source`.
    let with_source = |source: &ms_transport::CachedProvider<FlakySource>| {
        client_for(&emu)
            .credentials(source.clone())
            .build()
            .expect("client")
    };

    // Not idempotent, yet retried: nothing was sent while the credentials were missing.
    let source = flaky(1, true);
    let client = with_source(&source);
    let created = client
        .send(&CreateScanInstancesRequest {
            app_infos: vec![app(1)],
            scan_info: scan_info(),
        })
        .await
        .expect("submitted after the credentials came back");
    assert!(created.item_id.is_some());
    assert_eq!(source.fetcher().fetches.load(SeqCst), 2);

    // A source that answers "no" is not asked again within the call.
    let source = flaky(1, false);
    let client = with_source(&source);
    let e = client
        .send(&DescribeScanInstancesRequest::default())
        .await
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Credentials);
    assert!(!e.is_safe_to_retry() && !e.is_outcome_unknown(), "{e:?}");
    assert_eq!(
        (e.attempts(), source.fetcher().fetches.load(SeqCst)),
        (1, 1)
    );

    // Still unavailable after every attempt: the error says the source may answer later.
    let source = flaky(u32::MAX, true);
    let client = with_source(&source);
    let e = client
        .send(&DescribeScanInstancesRequest::default())
        .await
        .expect_err("unavailable");
    assert_eq!(e.kind(), ErrorKind::Credentials);
    assert!(e.is_safe_to_retry() && !e.is_outcome_unknown(), "{e:?}");
    assert_eq!(e.attempts(), 3);
    emu.shutdown().await;
}
