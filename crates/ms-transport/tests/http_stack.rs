//! The HTTP path against a scriptable local server: exact headers, signatures (TC3 POST/GET,
//! v1), error mapping, safe retries, skew correction, TLS, CONNECT proxy.

mod support;

use ms_model::Idempotency;
use std::sync::Arc;
use std::time::Duration;

use ms_transport::{
    Client, ClientBuilder, ErrorKind, Proxy, RetryConfig, SignMethod, StaticProvider,
};
use serde_json::json;
use support::{ConnectProxy, Recorded, Reply, TestServer, create_params};

const ID: &str = "AKIDtransporttest";
const KEY: &str = "transport-secret-key-0123456789";
const TOKEN: &str = "session-token-abcdef";

fn builder(server: &TestServer) -> ClientBuilder {
    Client::builder()
        .endpoint(&server.url())
        .allow_http()
        .proxy(Proxy::None)
        .region("ap-guangzhou")
        .credentials(StaticProvider::from_parts(ID, KEY, Some(TOKEN)).expect("creds"))
        .retry(
            RetryConfig::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}

fn verify(r: &Recorded) {
    let headers: Vec<(&str, &str)> = r
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let ts: u64 = r
        .header("x-tc-timestamp")
        .expect("timestamp")
        .parse()
        .expect("int");
    tc3_sign::verify_tc3(
        &tc3_sign::ReceivedTc3 {
            method: &r.method,
            path: r.path(),
            query: r.query(),
            headers: &headers,
            body: &r.body,
            timestamp: ts,
            authorization: r.header("authorization").expect("authorization"),
        },
        KEY,
        "ms",
    )
    .expect("signature verifies");
}

#[tokio::test]
async fn post_sends_the_sdk_headers_in_order_and_a_valid_signature() {
    let server = TestServer::start().await;
    server.push([Reply::ok(r#""TotalCount":0"#)]);
    let client = builder(&server).build().expect("client");
    let out = client
        .send_json(
            "DescribeScanInstances",
            Idempotency::Idempotent,
            &json!({"Limit": 10, "Filters": [{"Name": "AppName", "Value": "微信"}]}),
        )
        .await
        .expect("ok");
    assert_eq!(out["TotalCount"], 0);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/");
    let names: Vec<String> = r
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| n != "content-length")
        .collect();
    assert_eq!(
        names,
        [
            "x-tc-traceid",
            "content-type",
            "host",
            "x-tc-action",
            "x-tc-requestclient",
            "x-tc-timestamp",
            "x-tc-version",
            "x-tc-region",
            "x-tc-token",
            "x-tc-language",
            "authorization"
        ]
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("host"), Some(server.addr.to_string().as_str()));
    assert_eq!(r.header("x-tc-action"), Some("DescribeScanInstances"));
    assert_eq!(r.header("x-tc-version"), Some("2018-04-08"));
    assert_eq!(r.header("x-tc-region"), Some("ap-guangzhou"));
    assert_eq!(r.header("x-tc-token"), Some(TOKEN));
    assert_eq!(r.header("x-tc-language"), Some("zh-CN"));
    assert!(
        r.header("x-tc-requestclient")
            .expect("rc")
            .starts_with("SDK_RUST_MS_TRANSPORT_")
    );
    // Compact JSON, raw UTF-8: we sign the exact bytes we send.
    assert_eq!(
        String::from_utf8(r.body.clone()).expect("utf8"),
        r#"{"Limit":10,"Filters":[{"Name":"AppName","Value":"微信"}]}"#
    );
    verify(r);
}

#[tokio::test]
async fn get_mode_signs_the_query_as_sent() {
    let server = TestServer::start().await;
    let client = builder(&server)
        .sign_method(SignMethod::Tc3Get)
        .language(None)
        .build()
        .expect("client");
    client
        .send_json(
            "DescribeScanInstances",
            Idempotency::Idempotent,
            &json!({"ItemIds": ["a b", "c/d"], "Limit": 5}),
        )
        .await
        .expect("ok");
    let r = &server.requests()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.query(), "ItemIds.0=a+b&ItemIds.1=c%2Fd&Limit=5");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(r.header("x-tc-language").is_none());
    assert!(r.body.is_empty());
    verify(r);
}

#[tokio::test]
async fn legacy_v1_form_post_verifies() {
    for (method, name) in [
        (SignMethod::HmacSha1, "HmacSHA1"),
        (SignMethod::HmacSha256, "HmacSHA256"),
    ] {
        let server = TestServer::start().await;
        let client = builder(&server)
            .sign_method(method)
            .build()
            .expect("client");
        client
            .send_json(
                "DescribeScanResults",
                Idempotency::Idempotent,
                &json!({"ItemId": "item-1", "AppMd5s": ["0123456789abcdef0123456789abcdef"]}),
            )
            .await
            .expect("ok");
        let r = &server.requests()[0];
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert!(r.header("authorization").is_none());
        let params =
            tc3_sign::form_urldecode(std::str::from_utf8(&r.body).expect("utf8")).expect("form");
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Action"), Some("DescribeScanResults"));
        assert_eq!(get("SignatureMethod"), Some(name));
        assert_eq!(get("Token"), Some(TOKEN));
        assert_eq!(get("AppMd5s.0"), Some("0123456789abcdef0123456789abcdef"));
        let host = server.addr.to_string();
        tc3_sign::verify_v1("POST", &host, "/", &params, KEY).expect("v1 verifies");
    }
}

#[tokio::test]
async fn error_envelope_is_detected_whatever_the_content_type() {
    let server = TestServer::start().await;
    let body = br#"{"Response":{"Error":{"Code":"InvalidParameterValue","Message":"bad"},"RequestId":"rid-9"}}"#.to_vec();
    server.push([
        Reply::Http(
            200,
            vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body.clone(),
        ),
        Reply::Http(200, vec![("Content-Type".into(), "text/html".into())], body),
    ]);
    let client = builder(&server).build().expect("client");
    for _ in 0..2 {
        let e = client
            .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
            .await
            .expect_err("api error");
        assert_eq!(e.kind(), ErrorKind::Api);
        assert_eq!(e.code_str(), "InvalidParameterValue");
        assert_eq!(e.request_id(), Some("rid-9"));
        assert_eq!(
            e.to_string(),
            "DescribeScanInstances: InvalidParameterValue: bad (RequestId: rid-9)"
        );
        assert!(!e.is_retryable());
    }
    assert_eq!(server.requests().len(), 2, "not retried");
}

#[tokio::test]
async fn non_200_status_is_an_http_error_with_a_snippet() {
    let server = TestServer::start().await;
    server.push([Reply::Http(
        404,
        vec![],
        b"<html>no such page</html>".to_vec(),
    )]);
    let client = builder(&server).build().expect("client");
    let e = client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect_err("404");
    assert_eq!(e.kind(), ErrorKind::HttpStatus);
    assert_eq!(e.status(), Some(404));
    assert_eq!(e.body_snippet(), Some("<html>no such page</html>"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn idempotent_actions_retry_transient_failures() {
    let server = TestServer::start().await;
    server.push([
        Reply::Http(503, vec![], b"busy".to_vec()),
        Reply::error("InternalError.ServerError"),
        Reply::ok(r#""TotalCount":3"#),
    ]);
    let client = builder(&server).build().expect("client");
    let out = client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect("third attempt");
    assert_eq!(out["TotalCount"], 3);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    // Every attempt is signed afresh and verifies.
    reqs.iter().for_each(verify);
}

#[tokio::test]
async fn non_idempotent_actions_are_not_retried_when_the_request_may_have_been_processed() {
    let cases = [
        Reply::Http(502, vec![], b"bad gateway".to_vec()),
        Reply::error("InternalError.ServerError"),
        Reply::Reset,
        Reply::Truncate(
            br#"{"Response":{"ItemId":"x","RequestId":"r"}}"#.to_vec(),
            10,
        ),
        Reply::json("{not json"),
    ];
    for reply in cases {
        let server = TestServer::start().await;
        server.push([reply.clone()]);
        let client = builder(&server).build().expect("client");
        let e = client
            .send_json(
                "CreateScanInstances",
                Idempotency::NotIdempotent,
                &create_params(),
            )
            .await
            .expect_err("fails");
        assert_eq!(
            server.requests().len(),
            1,
            "{reply:?} must not be resubmitted: {e}"
        );
        assert!(e.is_outcome_unknown(), "{reply:?}: {e:?}");
        assert!(!e.is_safe_to_retry());
    }
}

#[tokio::test]
async fn idempotent_actions_retry_resets_truncation_and_malformed_json() {
    for reply in [
        Reply::Reset,
        Reply::Truncate(
            br#"{"Response":{"TotalCount":1,"RequestId":"r"}}"#.to_vec(),
            12,
        ),
        Reply::json("{not json"),
    ] {
        let server = TestServer::start().await;
        server.push([reply.clone()]);
        let client = builder(&server).build().expect("client");
        client
            .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
            .await
            .unwrap_or_else(|e| panic!("{reply:?} then ok: {e}"));
        assert_eq!(server.requests().len(), 2);
    }
}

#[tokio::test]
async fn throttling_replies_are_retried_even_for_non_idempotent_actions() {
    let server = TestServer::start().await;
    server.push([
        Reply::error("RequestLimitExceeded"),
        Reply::ok(r#""ItemId":"item-7""#),
    ]);
    let client = builder(&server)
        .retry(
            RetryConfig::default()
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
                .with_throttle_backoff(Duration::from_millis(2)),
        )
        .build()
        .expect("client");
    let out = client
        .send_json(
            "CreateScanInstances",
            Idempotency::NotIdempotent,
            &create_params(),
        )
        .await
        .expect("retried");
    assert_eq!(out["ItemId"], "item-7");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn decode_errors_carry_the_snippet() {
    let server = TestServer::start().await;
    server.set_default(Reply::json(r#"{"NoResponse":true}"#));
    let client = builder(&server)
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let e = client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect_err("decode");
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(e.body_snippet(), Some(r#"{"NoResponse":true}"#));
}

#[tokio::test]
async fn connection_refused_is_retried_for_non_idempotent_actions_and_reported_as_connect() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = Client::builder()
        .endpoint(&format!("http://{addr}"))
        .allow_http()
        .proxy(Proxy::None)
        .credentials(StaticProvider::from_parts(ID, KEY, None).expect("creds"))
        .retry(
            RetryConfig::default().with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .expect("client");
    let e = client
        .send_json(
            "CreateScanInstances",
            Idempotency::NotIdempotent,
            &create_params(),
        )
        .await
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Connect);
    assert!(e.is_safe_to_retry());
    assert_eq!(
        e.attempts(),
        3,
        "connect failures are retried even for non-idempotent actions"
    );
}

#[tokio::test]
async fn a_connection_closed_by_the_server_is_not_reused_for_the_next_request() {
    let server = TestServer::start().await;
    server.push([
        Reply::ThenClose(Box::new(Reply::ok(""))),
        Reply::ok(r#""ItemId":"second""#),
    ]);
    let client = builder(&server)
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    client
        .send_json(
            "CreateScanInstances",
            Idempotency::NotIdempotent,
            &create_params(),
        )
        .await
        .expect("first");
    // Give the pool a moment to notice the close; the second request must still succeed
    // (a fresh connection, or a transparent resend of a request that was never written).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let out = client
        .send_json(
            "CreateScanInstances",
            Idempotency::NotIdempotent,
            &create_params(),
        )
        .await
        .expect("second");
    assert_eq!(out["ItemId"], "second");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_ne!(reqs[0].connection, reqs[1].connection);
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let server = TestServer::start().await;
    let client = builder(&server)
        .disable_rate_limit()
        .build()
        .expect("client");
    for _ in 0..5 {
        client
            .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
            .await
            .expect("ok");
    }
    let reqs = server.requests();
    assert!(reqs.iter().all(|r| r.connection == reqs[0].connection));
}

#[tokio::test]
async fn timeouts_are_reported_and_not_retried_for_non_idempotent_actions() {
    let server = TestServer::start().await;
    server.set_default(Reply::Delay(
        Duration::from_secs(30),
        Box::new(Reply::ok("")),
    ));
    let client = builder(&server)
        .request_timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let e = client
        .send_json(
            "CreateScanInstances",
            Idempotency::NotIdempotent,
            &create_params(),
        )
        .await
        .expect_err("timeout");
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.is_outcome_unknown());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn signature_expire_learns_the_offset_from_date_and_retries_once() {
    let server = TestServer::start().await;
    let now = std::time::SystemTime::now();
    let server_time = now + Duration::from_secs(3600);
    let date = httpdate::fmt_http_date(server_time);
    let expired = br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"r1"}}"#.to_vec();
    server.push([
        Reply::Http(
            200,
            vec![
                ("Content-Type".into(), "application/json".into()),
                ("Date".into(), date),
            ],
            expired,
        ),
        Reply::ok(""),
        Reply::ok(""),
    ]);
    let client = builder(&server)
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    client
        .send_json(
            "CreateScanInstances",
            Idempotency::NotIdempotent,
            &create_params(),
        )
        .await
        .expect("skew retry succeeds");
    client
        .send_json(
            "CreateScanInstances",
            Idempotency::NotIdempotent,
            &create_params(),
        )
        .await
        .expect("later call");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let ts: Vec<i64> = reqs
        .iter()
        .map(|r| {
            r.header("x-tc-timestamp")
                .expect("ts")
                .parse()
                .expect("int")
        })
        .collect();
    assert!(ts[1] - ts[0] >= 3590, "corrected timestamp {ts:?}");
    assert!(
        ts[2] - ts[0] >= 3590,
        "offset kept for later requests {ts:?}"
    );
    let offset = client.skew_store().offset(client.endpoint().host());
    assert!((3590..=3610).contains(&offset), "{offset}");
    reqs.iter().for_each(verify);
}

#[tokio::test]
async fn signature_expire_is_retried_only_once() {
    let server = TestServer::start().await;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(900));
    let expired = br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"r1"}}"#.to_vec();
    server.set_default(Reply::Http(200, vec![("Date".into(), date)], expired));
    let client = builder(&server).build().expect("client");
    let e = client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect_err("still expired");
    assert_eq!(e.code_str(), "AuthFailure.SignatureExpire");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn retry_budget_stops_retries_when_drained() {
    let server = TestServer::start().await;
    server.set_default(Reply::Http(500, vec![], b"down".to_vec()));
    let client = builder(&server)
        .retry(
            RetryConfig::default()
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2))
                .with_budget(5),
        )
        .build()
        .expect("client");
    let _ = client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect_err("500");
    assert_eq!(
        server.requests().len(),
        2,
        "one retry paid from the budget of 5"
    );
    let clone = client.clone();
    let _ = clone
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect_err("500");
    assert_eq!(
        server.requests().len(),
        3,
        "budget empty (shared by clones): no retry"
    );
}

#[tokio::test]
async fn tls_with_an_extra_root_certificate() {
    let (server, pem) = TestServer::start_tls().await;
    let client = Client::builder()
        .endpoint(&server.url())
        .proxy(Proxy::None)
        .add_root_pem(pem.as_bytes())
        .credentials(StaticProvider::from_parts(ID, KEY, None).expect("creds"))
        .build()
        .expect("client");
    client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect("tls ok");
    verify(&server.requests()[0]);

    // Without the certificate, the handshake fails and is reported as TLS (not retried).
    let untrusting = Client::builder()
        .endpoint(&server.url())
        .proxy(Proxy::None)
        .credentials(StaticProvider::from_parts(ID, KEY, None).expect("creds"))
        .build()
        .expect("client");
    let e = untrusting
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect_err("untrusted");
    assert_eq!(e.kind(), ErrorKind::Tls, "{e:?}");
    assert_eq!(e.attempts(), 1);
}

#[tokio::test]
async fn plain_http_needs_an_explicit_opt_in() {
    let e = Client::builder()
        .endpoint("http://127.0.0.1:1")
        .build()
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn requests_go_through_a_connect_proxy_unless_no_proxy_matches() {
    let (server, pem) = TestServer::start_tls().await;
    let proxy = ConnectProxy::start().await;
    let base = || {
        Client::builder()
            .endpoint(&server.url())
            .add_root_pem(pem.as_bytes())
            .credentials(StaticProvider::from_parts(ID, KEY, None).expect("creds"))
    };
    let client = base()
        .proxy(Proxy::Url(proxy.url()))
        .build()
        .expect("client");
    client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect("through proxy");
    assert_eq!(proxy.targets(), vec![server.addr.to_string()]);
    verify(&server.requests()[0]);

    // Environment-style configuration (HTTPS_PROXY) through an injected lookup.
    let url = proxy.url();
    let lookup = Proxy::FromLookup(Arc::new(move |k: &str| {
        (k == "HTTPS_PROXY").then(|| url.clone())
    }));
    base()
        .proxy(lookup)
        .build()
        .expect("client")
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect("env proxy");
    assert_eq!(proxy.targets().len(), 2);

    // NO_PROXY bypasses it.
    let direct = base()
        .proxy(Proxy::Url(proxy.url()))
        .no_proxy("127.0.0.1")
        .build()
        .expect("client");
    direct
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect("direct");
    assert_eq!(proxy.targets().len(), 2);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn idle_pooled_connections_expire_after_the_idle_timeout() {
    let server = TestServer::start().await;
    // No rate limiter (its 50 ms spacing would eat into the idle timeout between the first
    // two calls), and wide margins: the assertions hold however slow the machine is, as long
    // as two back-to-back local calls are less than 250 ms apart.
    let client = builder(&server)
        .disable_rate_limit()
        .pool_idle_timeout(Duration::from_millis(250))
        .build()
        .expect("client");
    client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect("first");
    client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect("reused");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect("after idle");
    let reqs = server.requests();
    assert_eq!(reqs[0].connection, reqs[1].connection, "kept alive");
    assert_ne!(
        reqs[1].connection, reqs[2].connection,
        "expired connection not reused"
    );
}

#[tokio::test]
async fn send_json_never_treats_a_non_idempotent_ms_action_as_idempotent() {
    let server = TestServer::start().await;
    server.set_default(Reply::Http(503, vec![], b"busy".to_vec()));
    let client = builder(&server).build().expect("client");
    let e = client
        .send_json(
            "CreateScanInstances",
            Idempotency::Idempotent,
            &create_params(),
        )
        .await
        .expect_err("503");
    assert!(e.is_outcome_unknown());
    assert_eq!(
        server.requests().len(),
        1,
        "the model's flag wins over the caller's `true`"
    );
    // A generic operation (another product) follows the caller's flag.
    let op = ms_transport::Operation {
        service: "ms",
        version: "2018-04-08",
        action: "DescribeAnything",
        idempotency: Idempotency::Idempotent,
    };
    let _ = client
        .send_operation(op, &json!({}))
        .await
        .expect_err("503");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn oversized_replies_are_rejected_without_retry() {
    let server = TestServer::start().await;
    server.set_default(Reply::ok(&format!(r#""Blob":"{}""#, "x".repeat(4096))));
    let client = builder(&server)
        .max_response_bytes(1024)
        .build()
        .expect("client");
    let e = client
        .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
        .await
        .expect_err("too large");
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert!(e.message().contains("1024"), "{e}");
    assert_eq!(server.requests().len(), 1);
    // For a non-idempotent action the reply proves delivery: the outcome is unknown, so a
    // batch reports the chunk as `unknown` (never "safe to resubmit").
    let e = client
        .send_json(
            "CreateScanInstances",
            Idempotency::NotIdempotent,
            &create_params(),
        )
        .await
        .expect_err("too large");
    assert!(e.is_outcome_unknown() && !e.is_safe_to_retry(), "{e:?}");
    assert_eq!(server.requests().len(), 2);
}

/// A refreshing source (CVM role, STS) plugs in through the trait: the client asks before
/// every attempt, so rotated credentials are used at once.
#[derive(Debug, Default)]
struct Rotating(std::sync::atomic::AtomicU32);

impl ms_transport::ProvideCredentials for Rotating {
    fn provide_credentials(&self) -> ms_transport::CredentialsFuture<'_> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            Ok(ms_transport::Credentials::new(ID, KEY)
                .map_err(|e| ms_transport::Error::credentials(e.to_string()))?
                .with_token(format!("tok-{n}")))
        })
    }
}

#[tokio::test]
async fn custom_refreshing_providers_plug_in() {
    let server = TestServer::start().await;
    let client = builder(&server)
        .credentials(Rotating::default())
        .build()
        .expect("client");
    for _ in 0..3 {
        client
            .send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({}))
            .await
            .expect("ok");
    }
    let tokens: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("x-tc-token").unwrap_or("").to_owned())
        .collect();
    assert_eq!(tokens, ["tok-0", "tok-1", "tok-2"]);
}

#[tokio::test]
async fn paginator_started_near_the_end_of_u64_stops_instead_of_overflowing() {
    let server = TestServer::start().await;
    // Full pages and no TotalCount: only the offset arithmetic can end the walk.
    server.set_default(Reply::ok(r#""ScanSet":[{"AppSid":"a"},{"AppSid":"b"}]"#));
    let client = builder(&server).build().expect("client");
    let pages: Vec<_> = futures_util::TryStreamExt::try_collect(ms_transport::paginate_pages(
        &client,
        ms_model::DescribeScanInstancesRequest {
            offset: Some(u64::MAX - 1),
            limit: Some(2),
            ..Default::default()
        },
    ))
    .await
    .expect("pages");
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].offset, u64::MAX - 1);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn waiters_with_a_huge_interval_give_up_instead_of_overflowing() {
    let server = TestServer::start().await;
    server.set_default(Reply::ok(
        r#""TotalCount":1,"ScanSet":[{"AppSid":"a","TaskStatus":2}],"TaskStatus":2"#,
    ));
    let client = builder(&server).build().expect("client");
    let options = ms_transport::scan::WaitOptions {
        interval: Duration::MAX,
        timeout: Duration::from_secs(3600),
    };
    let mut polls = 0;
    let e = ms_transport::scan::wait_for_task(&client, "item-1", &options, |_| polls += 1)
        .await
        .expect_err("cannot poll again within the timeout");
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(polls, 1);
    let e = ms_transport::scan::wait_for_shield(&client, "item-1", &options, |_| {})
        .await
        .expect_err("cannot poll again within the timeout");
    assert!(e.is_timeout(), "{e:?}");
}

#[tokio::test]
async fn batch_submission_pulls_apps_lazily_with_bounded_chunks_in_flight() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = TestServer::start().await;
    // Every reply lists every MD5 of the batch: each chunk finds its apps accepted.
    let md5s: Vec<String> = (0..1000).map(|i| format!("\"{i:032x}\"")).collect();
    server.set_default(Reply::ok(&format!(
        r#""ItemId":"item","AppMd5s":[{}]"#,
        md5s.join(",")
    )));
    let client = builder(&server)
        .disable_rate_limit()
        .build()
        .expect("client");
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let apps = (0..1000).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        ms_model::AppInfo {
            app_url: format!("https://apps.example.com/{i}.apk"),
            app_md5: format!("{i:032x}"),
            ..Default::default()
        }
    });
    let options = ms_transport::batch::BatchOptions {
        chunk_size: 20,
        concurrency: 2,
        ..Default::default()
    };
    let mut most_ahead = 0usize;
    let report = ms_transport::batch::submit_batch(
        &client,
        apps,
        ms_model::ScanInfo {
            callback_url: "https://example.com/cb".into(),
            scan_types: vec!["VULSCAN".into()],
        },
        &options,
        |p| {
            // Apps taken from the iterator but not yet reported: at most the chunks in flight.
            let ahead = pulled.load(Ordering::SeqCst) - p.apps_done() as usize;
            most_ahead = most_ahead.max(ahead);
        },
    )
    .await
    .expect("valid ScanInfo");
    assert!(
        most_ahead <= options.concurrency * options.chunk_size,
        "{most_ahead} apps held ahead of the reports"
    );
    assert_eq!(report.total_apps(), 1000);
    assert_eq!(report.item_ids().len(), 50);
    assert_eq!(server.requests().len(), 50);
}
