//! Callbacks, persistence, fault injection, TLS, resource limits and the binary, over real
//! connections.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use ms_emulator::{CallbackConfig, DeliveryStatus, Emulator, FaultConfig, Limits, ManualClock};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback callback receiver answering scripted replies (then `{"Result":"ok"}`).
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

async fn receiver(script: Vec<&'static str>) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback?token=1", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let (b2, s2) = (bodies.clone(), script.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (b3, s3) = (b2.clone(), s2.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (b4, s4) = (b3.clone(), s3.clone());
                    async move {
                        assert_eq!(req.uri().path(), "/callback");
                        assert_eq!(req.headers()["content-type"], "application/json");
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        b4.lock()
                            .unwrap()
                            .push(serde_json::from_slice::<Value>(&body).unwrap());
                        let reply = s4
                            .lock()
                            .unwrap()
                            .pop_front()
                            .unwrap_or(r#"{"Result":"ok","Reason":""}"#);
                        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                            Bytes::from(reply),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Receiver { url, bodies, task }
}

fn fast_callbacks(clock: &Arc<ManualClock>) -> ms_emulator::EmulatorConfig {
    config(clock).with_callbacks(CallbackConfig::new(3, Duration::from_millis(10)))
}

#[tokio::test]
async fn callbacks_are_retried_until_ok_and_listed() {
    let (clock, emu, c) = started(fast_callbacks).await;
    let rx = receiver(vec![r#"{"Result":"retry","Reason":"busy"}"#, "not json"]).await;
    let m = md5("callback");
    let item = c
        .ok("CreateScanInstances", &create_params(&[&m], &rx.url))
        .await["ItemId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        emu.deliveries().is_empty(),
        "no callback before the scan finishes"
    );
    clock.advance(Duration::from_secs(1));
    let d = eventually(|| {
        let ds = emu.deliveries();
        async move { ds.into_iter().find(|d| d.status != DeliveryStatus::Pending) }
    })
    .await;
    assert_eq!(d.status, DeliveryStatus::Delivered, "{d:?}");
    assert_eq!(d.attempts, 3);
    assert_eq!(d.item_id, item);
    assert_eq!(d.app_md5, m);
    let bodies = rx.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3);
    let r = &bodies[0]["Response"];
    assert_eq!(r["ItemId"], item.as_str());
    assert_eq!(r["AppMd5"], m.as_str());
    assert_eq!(r["TaskStatus"], 1);
    assert_eq!(r["TaskTime"], T0_MS / 1000);
    assert!(r["AppSid"].is_string());
    rx.task.abort();
    emu.shutdown().await;
}

#[tokio::test]
async fn callbacks_give_up_after_bounded_attempts() {
    let (clock, emu, c) = started(fast_callbacks).await;
    let rx = receiver(vec![r#"{"Result":"no"}"#; 10]).await;
    c.ok(
        "CreateScanInstances",
        &create_params(&[&md5("giveup")], &rx.url),
    )
    .await;
    clock.advance(Duration::from_secs(1));
    let d = eventually(|| {
        let ds = emu.deliveries();
        async move { ds.into_iter().find(|d| d.status != DeliveryStatus::Pending) }
    })
    .await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.attempts, 3);
    assert!(d.last_error.unwrap().contains("no"));
    assert_eq!(rx.bodies.lock().unwrap().len(), 3);
    rx.task.abort();
    emu.shutdown().await;
}

#[tokio::test]
async fn non_loopback_callbacks_are_refused_never_contacted() {
    let (clock, emu, c) = started(fast_callbacks).await;
    c.ok(
        "CreateScanInstances",
        &create_params(&[&md5("remote")], "http://192.0.2.1:9/cb"),
    )
    .await;
    c.ok(
        "CreateScanInstances",
        &create_params(&[&md5("named")], "https://example.com/cb"),
    )
    .await;
    clock.advance(Duration::from_secs(1));
    // A request also advances the scans.
    c.ok("DescribeScanInstances", &json!({})).await;
    let ds = emu.deliveries();
    assert_eq!(ds.len(), 2);
    for d in ds {
        assert_eq!(d.status, DeliveryStatus::Refused);
        assert_eq!(d.attempts, 0);
        assert!(d.last_error.unwrap().contains("loopback"));
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn pending_callbacks_resume_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    // A loopback port with nobody listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/callback");
    let clock = Arc::new(ManualClock::new(T0_MS));
    let cfg = || {
        config(&clock)
            .with_state_file(&path)
            .with_callbacks(CallbackConfig::new(10_000, Duration::from_millis(20)))
    };
    let emu = start(cfg()).await;
    let c = Client::new(&emu, &clock);
    c.ok(
        "CreateScanInstances",
        &create_params(&[&md5("resume")], &url),
    )
    .await;
    clock.advance(Duration::from_secs(1));
    c.ok("DescribeScanInstances", &json!({})).await;
    // Attempts fail (connection refused) and the delivery stays pending.
    eventually(|| {
        let ds = emu.deliveries();
        async move { ds.first().filter(|d| d.attempts >= 1).cloned() }
    })
    .await;
    emu.shutdown().await;

    // The receiver comes up on that port; the restarted emulator delivers.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = got.clone();
    let rx_task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let got3 = got2.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let got4 = got3.clone();
                    async move {
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        got4.lock().unwrap().push(body);
                        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                            Bytes::from_static(br#"{"Result":"ok"}"#),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let emu = start(cfg()).await;
    let d = eventually(|| {
        let ds = emu.deliveries();
        async move {
            ds.into_iter()
                .find(|d| d.status == DeliveryStatus::Delivered)
        }
    })
    .await;
    assert!(d.attempts >= 2, "{d:?}");
    assert_eq!(got.lock().unwrap().len(), 1);
    rx_task.abort();
    emu.shutdown().await;
}

#[tokio::test]
async fn injected_faults() {
    let (_clock, emu, c) = started(config).await;
    let req = || c.tc3_post_request("DescribeScanInstances", "{}", c.now());

    emu.set_faults(FaultConfig::none().with_drop(1.0));
    assert!(c.send(req()).await.is_err(), "dropped connection");

    emu.set_faults(FaultConfig::none().with_5xx(1.0));
    let r = c.send(req()).await.unwrap();
    assert!(r.status.is_server_error(), "{}", r.status);
    assert!(r.headers.contains_key("date"));

    emu.set_faults(FaultConfig::none().with_malformed(1.0));
    let r = c.send(req()).await.unwrap();
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());

    emu.set_faults(FaultConfig::none().with_truncate(1.0));
    assert!(c.send(req()).await.is_err(), "truncated body");

    emu.set_faults(FaultConfig::none().with_throttle(1.0));
    assert_eq!(
        c.send(req()).await.unwrap().code().as_deref(),
        Some("RequestLimitExceeded")
    );

    emu.set_faults(FaultConfig::none().with_throttle_burst(2));
    assert_eq!(
        c.send(req()).await.unwrap().code().as_deref(),
        Some("RequestLimitExceeded")
    );
    assert_eq!(
        c.send(req()).await.unwrap().code().as_deref(),
        Some("RequestLimitExceeded")
    );
    assert_eq!(c.send(req()).await.unwrap().code(), None);

    emu.set_faults(FaultConfig::none().with_clock_offset(400));
    let r = c.send(req()).await.unwrap();
    assert_eq!(r.code().as_deref(), Some("AuthFailure.SignatureExpire"));
    assert_eq!(r.headers["date"], "Thu, 01 Jan 2026 00:06:40 GMT");

    emu.set_faults(FaultConfig::none().with_latency(Duration::from_millis(20)));
    assert_eq!(c.send(req()).await.unwrap().code(), None);

    // A share: over many requests, some fail and some succeed, reproducibly per seed.
    emu.set_faults(FaultConfig::none().with_5xx(0.5).with_seed(7));
    let mut outcomes = Vec::new();
    for _ in 0..40 {
        outcomes.push(c.send(req()).await.unwrap().status.is_success());
    }
    assert!(outcomes.iter().any(|o| *o) && outcomes.iter().any(|o| !*o));

    emu.set_faults(FaultConfig::none());
    assert_eq!(c.send(req()).await.unwrap().code(), None);
    emu.shutdown().await;
}

fn tls_connector(ca_pem: Option<&str>, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

#[tokio::test]
async fn tls_with_http1_and_http2() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = start(config(&clock).with_tls()).await;
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let pem = emu.ca_pem().unwrap().to_owned();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    let mut c = Client::new(&emu, &clock);
    c.tls = Some(tls_connector(Some(&pem), &[b"http/1.1"]));
    c.ok("DescribeScanInstances", &json!({})).await;

    // HTTP/2 negotiated through ALPN.
    let tcp = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tls_connector(Some(&pem), &[b"h2", b"http/1.1"])
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    let conn_task = tokio::spawn(conn);
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    req.headers_mut().remove("host");
    *req.uri_mut() = format!("https://{}/", c.host).parse().unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(body["Response"]["Error"].is_null(), "{body}");
    conn_task.abort();

    // A client that does not trust the certificate fails the handshake.
    let mut untrusting = Client::new(&emu, &clock);
    untrusting.tls = Some(tls_connector(None, &[]));
    assert!(
        untrusting
            .send(untrusting.tc3_post_request("DescribeScanInstances", "{}", c.now()))
            .await
            .is_err()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn connection_limit_and_header_timeout() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let limits = Limits::default()
        .with_max_connections(1)
        .with_header_read_timeout(Duration::from_millis(300));
    let emu = start(config(&clock).with_limits(limits)).await;
    let c = Client::new(&emu, &clock);

    // The first connection holds the only slot (a slow client sending partial headers).
    let mut first = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    first
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut second = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(30), second.read(&mut buf))
        .await
        .expect("closed, not hanging");
    assert!(
        matches!(n, Ok(0) | Err(_)),
        "the second connection is closed at once"
    );

    // The slow client is cut off by the header read timeout, which frees the slot.
    let r = tokio::time::timeout(Duration::from_secs(30), first.read_to_end(&mut Vec::new())).await;
    assert!(r.is_ok(), "the slow connection was closed");
    eventually(|| {
        let c = c.clone();
        async move {
            c.send(c.tc3_post_request("DescribeScanInstances", "{}", c.now()))
                .await
                .ok()
        }
    })
    .await;
    emu.shutdown().await;
}

#[tokio::test]
async fn malformed_http_gets_400_with_a_date() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = start(config(&clock)).await;
    let mut s = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    s.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .unwrap()
        .ok();
    let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 400"), "{text}");
    assert!(text.contains("\r\ndate: "), "{text}");
    // The server is still fine.
    Client::new(&emu, &clock)
        .ok("DescribeScanInstances", &json!({}))
        .await;
    emu.shutdown().await;
}

#[tokio::test]
async fn idle_http2_connections_are_closed() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = start(
        config(&clock).with_limits(Limits::default().with_idle_timeout(Duration::from_millis(200))),
    )
    .await;
    let c = Client::new(&emu, &clock);
    // HTTP/2 with prior knowledge over plain TCP.
    let tcp = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    let conn_task = tokio::spawn(conn);
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    req.headers_mut().remove("host");
    *req.uri_mut() = format!("http://{}/", c.host).parse().unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let body: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(body["Response"]["Error"].is_null(), "{body}");
    // Left idle, the server closes it (the client's connection future ends).
    tokio::time::timeout(Duration::from_secs(30), conn_task)
        .await
        .expect("the idle connection was closed")
        .unwrap()
        .ok();
    emu.shutdown().await;
}

#[test]
fn binary_prints_the_url_first_writes_the_cert_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("ca.pem");
    let (child, mut lines) = Running::spawn(
        std::process::Command::new(env!("CARGO_BIN_EXE_ms-emulator"))
            .args(["--tls", "--cert-out"])
            .arg(&cert)
            .args(["--scan-seconds", "0.1", "--state"])
            .arg(dir.path().join("state.db")),
    );
    let url = lines.next().unwrap().unwrap();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let demo = lines.next().unwrap().unwrap();
    assert!(demo.contains(ms_emulator::DEMO_SECRET_ID), "{demo}");
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(pem.contains("BEGIN CERTIFICATE"));

    // It serves the demo account over TLS.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let addr: std::net::SocketAddr = url.trim_start_matches("https://").parse().unwrap();
        let clock = Arc::new(ManualClock::starting_now());
        let c = Client {
            addr,
            host: addr.to_string(),
            id: ms_emulator::DEMO_SECRET_ID.into(),
            key: ms_emulator::DEMO_SECRET_KEY.into(),
            clock,
            tls: Some(tls_connector(Some(&pem), &[b"http/1.1"])),
            region: String::new(),
        };
        c.ok("DescribeScanInstances", &json!({})).await;
    });

    child.signal("TERM");
    let out = child.wait_with_output();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("state.db").exists());
}

#[tokio::test]
async fn invalid_accounts_are_refused_at_start_without_echoing_keys() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    for (accounts, field) in [
        (vec![(ID, "topsecret1"), (ID, "topsecret2")], "accounts[1]"),
        (vec![("AKID/x", "topsecret1")], "accounts[0]"),
        (vec![(ID, " topsecret1")], "accounts[0]"),
        (vec![(ID, "")], "accounts[0]"),
    ] {
        let mut cfg = config(&clock);
        cfg.accounts = accounts
            .iter()
            .map(|(i, k)| (i.to_string(), k.to_string()))
            .collect();
        let err = Emulator::start(cfg, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(field), "{err}");
        assert!(!err.contains("topsecret"), "{err}");
    }
}

#[tokio::test]
async fn disguised_callback_hosts_are_refused_and_never_connected() {
    let (clock, emu, c) = started(fast_callbacks).await;
    // One loopback receiver; every disguised URL below would reach it (or another host) if
    // the emulator handed the host to a resolver or a lenient address parser.
    let rx = receiver(vec![]).await;
    let port = rx.url.split(':').nth(2).unwrap().split('/').next().unwrap();
    let disguised = [
        format!("http://0x7f.0.0.1:{port}/callback"),
        format!("http://0x7f.1:{port}/callback"),
        format!("http://2130706433:{port}/callback"),
        format!("http://017700000001:{port}/callback"),
        format!("http://127.1:{port}/callback"),
        format!("http://localhost.:{port}/callback"),
        format!("http://127.0.0.1.nip.io:{port}/callback"),
        format!("http://127.0.0.1.evil.com:{port}/callback"),
        format!("http://[::ffff:127.0.0.1]:{port}/callback"),
        "http://[::ffff:10.0.0.1]/callback".to_owned(),
        "http://[::]/callback".to_owned(),
        "http://0.0.0.0/callback".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        format!("https://127.0.0.1:{port}/callback"),
    ];
    for (i, url) in disguised.iter().enumerate() {
        let r = c
            .call(
                "CreateScanInstances",
                &create_params(&[&md5(&format!("disguised{i}"))], url),
            )
            .await;
        assert_eq!(r.code(), None, "{url}: {}", r.message());
    }
    // Userinfo tricks are not valid callback URLs at all: refused at submission.
    for url in [
        "http://127.0.0.1@10.0.0.1/callback".to_owned(),
        format!("http://127.0.0.1:{port}@evil.com/callback"),
        format!("http://evil.com\\@127.0.0.1:{port}/callback"),
    ] {
        let r = c
            .call("CreateScanInstances", &create_params(&[&md5(&url)], &url))
            .await;
        assert_eq!(r.code().as_deref(), Some("InvalidParameterValue"), "{url}");
        assert!(
            r.message().contains("ScanInfo.CallbackUrl"),
            "{}",
            r.message()
        );
    }
    // The control: the receiver's real loopback URL is delivered to.
    c.ok(
        "CreateScanInstances",
        &create_params(&[&md5("control")], &rx.url),
    )
    .await;
    clock.advance(Duration::from_secs(1));
    c.ok("DescribeScanInstances", &json!({})).await;
    let ds = eventually(|| {
        let ds = emu.deliveries();
        async move {
            ds.iter()
                .all(|d| d.status != DeliveryStatus::Pending)
                .then_some(ds)
        }
    })
    .await;
    assert_eq!(ds.len(), disguised.len() + 1);
    for d in &ds {
        if d.url == rx.url {
            assert_eq!(d.status, DeliveryStatus::Delivered, "{d:?}");
        } else {
            assert_eq!(d.status, DeliveryStatus::Refused, "{d:?}");
            assert_eq!(d.attempts, 0, "{d:?}");
        }
    }
    assert_eq!(
        rx.bodies.lock().unwrap().len(),
        1,
        "only the control reached it"
    );
    rx.task.abort();
    emu.shutdown().await;
}

#[test]
fn binary_stops_cleanly_on_sigint_and_refuses_a_corrupt_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let (child, mut lines) = Running::spawn(
        std::process::Command::new(env!("CARGO_BIN_EXE_ms-emulator"))
            .args(["--account", "AKIDsigint:key", "--state"])
            .arg(&state),
    );
    let url = lines.next().unwrap().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    child.signal("INT");
    let out = child.wait_with_output();
    assert!(out.status.success(), "{:?}", out.status);
    // With --account, no demo credentials are printed (the rest of stdout after the URL:
    // `out.stdout` is empty, stdout was taken for the lines).
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(!rest.iter().any(|l| l.contains("demo account")), "{rest:?}");

    // A damaged state file (its first page, the schema, overwritten): a clear error naming
    // the file, exit status 1, no panic.
    let mut full = std::fs::read(&state).unwrap();
    assert!(full.starts_with(b"SQLite format 3\0"));
    for b in &mut full[100..4096] {
        *b = 0xA5;
    }
    std::fs::write(&state, &full).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ms-emulator"))
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("state file") && stderr.contains("state.db"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn an_empty_callback_url_schedules_no_delivery() {
    let (clock, emu, c) = started(fast_callbacks).await;
    let item = c
        .ok(
            "CreateScanInstances",
            &create_params(&[&md5("quiet1"), &md5("quiet2")], ""),
        )
        .await["ItemId"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(Duration::from_secs(2));
    // The scans finish (a request advances them) ...
    let results = c.ok("DescribeScanResults", &json!({"ItemId": item})).await;
    assert_eq!(results["ScanSet"][0]["TaskStatus"], 1);
    assert_eq!(results["ScanSet"][1]["TaskStatus"], 1);
    // ... and nothing is recorded or attempted for them, now or later.
    assert!(emu.deliveries().is_empty(), "{:?}", emu.deliveries());
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.ok("DescribeScanInstances", &json!({})).await;
    assert!(emu.deliveries().is_empty(), "{:?}", emu.deliveries());
    emu.shutdown().await;
}

/// Listing goes through per-account indices (not a walk over every stored scan): with more
/// scans than one index chunk holds, across two accounts and after deletions, every page in
/// both orders is what sorting all of the account's scans gives, and scans finish in order.
#[tokio::test]
async fn listing_many_scans_pages_like_a_full_sort() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = start(
        config(&clock)
            .with_rate_limit(0)
            .with_initial_quota(100_000),
    )
    .await;
    let c = Client::new(&emu, &clock);
    let other = Client::new(&emu, &clock).with_creds(ID2, KEY2);
    let mut items = Vec::new();
    for i in 0..60 {
        let md5s: Vec<String> = (0..20).map(|j| md5(&format!("many-{i}-{j}"))).collect();
        let refs: Vec<&str> = md5s.iter().map(String::as_str).collect();
        let v = c.ok("CreateScanInstances", &create_params(&refs, "")).await;
        items.push(v["ItemId"].as_str().unwrap().to_owned());
        if i % 10 == 0 {
            other
                .ok("CreateScanInstances", &create_params(&refs[..3], ""))
                .await;
            // Several tasks share a TaskTime second; creation order breaks the ties.
            clock.advance(Duration::from_millis(700));
        }
    }
    // Everything submitted before the last 700 ms step is finished; the rest is processing.
    let all_asc = |v: &Value| -> Vec<(String, u64)> {
        v["ScanSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["AppSid"].as_str().unwrap().to_owned(),
                    r["TaskStatus"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let mut full = Vec::new();
    for offset in (0..1200).step_by(100) {
        let page = c
            .ok(
                "DescribeScanInstances",
                &json!({"Offset": offset, "Limit": 100, "OrderDirection": "asc"}),
            )
            .await;
        assert_eq!(page["TotalCount"], 1200);
        full.extend(all_asc(&page));
    }
    assert_eq!(full.len(), 1200);
    let sids: std::collections::HashSet<&String> = full.iter().map(|(s, _)| s).collect();
    assert_eq!(sids.len(), 1200, "no row twice");
    // Ascending order = creation order here; finished scans come first.
    let first_processing = full.iter().position(|(_, st)| *st == 2).unwrap();
    assert!(full[first_processing..].iter().all(|(_, st)| *st == 2));
    assert!(full[..first_processing].iter().all(|(_, st)| *st == 1));
    // Delete 20 scans spread over the list, then compare pages in both orders.
    let doomed: Vec<String> = full.iter().step_by(60).map(|(s, _)| s.clone()).collect();
    c.ok("DeleteScanInstances", &json!({"AppSids": doomed}))
        .await;
    let expected: Vec<&(String, u64)> = full.iter().filter(|(s, _)| !doomed.contains(s)).collect();
    for (offset, limit) in [
        (0, 7),
        (95, 100),
        (513, 100),
        (1023, 3),
        (1175, 100),
        (1180, 5),
    ] {
        for asc in [true, false] {
            let page = c
                .ok(
                    "DescribeScanInstances",
                    &json!({"Offset": offset, "Limit": limit,
                            "OrderDirection": if asc { "asc" } else { "desc" }}),
                )
                .await;
            assert_eq!(page["TotalCount"], 1180);
            let mut want: Vec<&(String, u64)> = expected.clone();
            if !asc {
                want.reverse();
            }
            let want: Vec<String> = want
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(s, _)| s.clone())
                .collect();
            let got: Vec<String> = all_asc(&page).into_iter().map(|(s, _)| s).collect();
            assert_eq!(got, want, "offset {offset} limit {limit} asc {asc}");
        }
    }
    // ItemIds: only the named tasks' rows.
    let page = c
        .ok(
            "DescribeScanInstances",
            &json!({"ItemIds": [items[59], items[0]], "Limit": 100}),
        )
        .await;
    assert_eq!(
        page["TotalCount"], 39,
        "task 0 lost one scan to the deletion"
    );
    // The other account sees its own 18 scans only.
    let page = other
        .ok("DescribeScanInstances", &json!({"Limit": 100}))
        .await;
    assert_eq!(page["TotalCount"], 18);
    // All scans finish once their time is up.
    clock.advance(Duration::from_secs(2));
    let page = c
        .ok(
            "DescribeScanInstances",
            &json!({"Offset": 1100, "Limit": 100}),
        )
        .await;
    assert!(all_asc(&page).iter().all(|(_, st)| *st == 1));
    emu.shutdown().await;
}

/// The published demo key is not served on a non-loopback address unless asked for: the
/// binary exits 1 naming the problem and the way out; with `--account` (or the explicit
/// `--allow-public-demo`) it starts.
#[test]
fn the_demo_account_is_refused_on_a_public_address() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ms-emulator"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing served");
    assert!(
        stderr.contains("demo account")
            && stderr.contains("0.0.0.0")
            && stderr.contains("--account"),
        "{stderr}"
    );
    for extra in [
        &["--account", "AKIDpublic:key"][..],
        &["--allow-public-demo"][..],
    ] {
        let (mut child, mut lines) = Running::spawn(
            std::process::Command::new(env!("CARGO_BIN_EXE_ms-emulator"))
                .args(["--listen", "0.0.0.0:0"])
                .args(extra),
        );
        let url = lines.next().unwrap().unwrap();
        assert!(url.starts_with("http://0.0.0.0:"), "{extra:?}: {url}");
        child.kill();
    }
    // The library refuses it too.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(Emulator::start(
            ms_emulator::EmulatorConfig::demo(),
            "0.0.0.0:0".parse().unwrap(),
        ))
        .unwrap_err();
    assert!(err.to_string().contains("demo account"), "{err}");
}

/// With an allow-list, callbacks reach only the listed loopback ports; others (and the
/// emulator's own port) are recorded as refused with the reason, never connected to.
#[tokio::test]
async fn callbacks_go_only_to_allowed_targets() {
    let rx = receiver(vec![]).await;
    let other = receiver(vec![]).await;
    let port = |url: &str| -> u16 {
        url.split(':')
            .nth(2)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let clock = Arc::new(ManualClock::new(T0_MS));
    let allow = vec![format!("127.0.0.1:{}", port(&rx.url)).parse().unwrap()];
    let emu = start(
        config(&clock)
            .with_callbacks(CallbackConfig::new(3, Duration::from_millis(10)).with_allow(allow)),
    )
    .await;
    let c = Client::new(&emu, &clock);
    let own = format!("http://{}/callback", emu.local_addr());
    for (label, url) in [("allowed", &rx.url), ("other", &other.url), ("own", &own)] {
        c.ok("CreateScanInstances", &create_params(&[&md5(label)], url))
            .await;
    }
    clock.advance(Duration::from_secs(1));
    c.ok("DescribeScanInstances", &json!({})).await;
    let ds = eventually(|| {
        let ds = emu.deliveries();
        async move {
            (ds.len() == 3 && ds.iter().all(|d| d.status != DeliveryStatus::Pending)).then_some(ds)
        }
    })
    .await;
    for d in &ds {
        if d.url == rx.url {
            assert_eq!(d.status, DeliveryStatus::Delivered, "{d:?}");
        } else {
            assert_eq!(d.status, DeliveryStatus::Refused, "{d:?}");
            assert!(
                d.last_error.as_deref().unwrap().contains("allow-list"),
                "{d:?}"
            );
        }
    }
    assert_eq!(rx.bodies.lock().unwrap().len(), 1);
    assert!(other.bodies.lock().unwrap().is_empty(), "never contacted");
    rx.task.abort();
    other.task.abort();
    emu.shutdown().await;
}

/// Without an allow-list, a loopback emulator delivers to any loopback port but its own.
#[tokio::test]
async fn callbacks_to_the_emulator_itself_are_refused() {
    let (clock, emu, c) = started(fast_callbacks).await;
    let own = format!("http://{}/callback", emu.local_addr());
    c.ok("CreateScanInstances", &create_params(&[&md5("self")], &own))
        .await;
    clock.advance(Duration::from_secs(1));
    c.ok("DescribeScanInstances", &json!({})).await;
    let ds = emu.deliveries();
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].status, DeliveryStatus::Refused);
    assert!(ds[0].last_error.as_deref().unwrap().contains("own port"));
    emu.shutdown().await;
}

/// A per-action rate limit for a name that is no ms action (a typo) would never apply: it is
/// refused at start, naming it.
#[tokio::test]
async fn a_rate_limit_for_an_unknown_action_is_refused_at_start() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let err = Emulator::start(
        config(&clock).with_action_rate_limit("DescribeScanResult", 5),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("\"DescribeScanResult\"") && err.contains("not an ms action"),
        "{err}"
    );
}
