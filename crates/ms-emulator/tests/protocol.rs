//! Gateway behaviour over real HTTP: signatures, envelopes, error codes, limits.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::Request;
use http_body_util::Full;
use ms_emulator::{Limits, ManualClock};
use serde_json::json;
use tc3_sign::V1Method;

async fn setup() -> (ms_emulator::Emulator, Client, Arc<ManualClock>) {
    let (clock, emu, client) = started(config).await;
    (emu, client, clock)
}

#[tokio::test]
async fn success_has_envelope_json_content_type_date_and_fresh_request_ids() {
    let (emu, c, _) = setup().await;
    let a = c.call("DescribeScanInstances", &json!({})).await;
    let b = c.call("DescribeScanInstances", &json!({})).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "application/json");
    assert_eq!(a.headers["date"], "Thu, 01 Jan 2026 00:00:00 GMT");
    let (ra, rb) = (
        a.inner()["RequestId"].as_str().unwrap().to_owned(),
        b.inner()["RequestId"].as_str().unwrap().to_owned(),
    );
    assert_ne!(ra, rb);
    assert_eq!(uuid::Uuid::parse_str(&ra).unwrap().get_version_num(), 4);
    assert_eq!(a.inner()["TotalCount"], 0);
    ms_model::check_response_json("DescribeScanInstances", &a.json()).unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn errors_use_the_official_envelope_with_http_200() {
    let (emu, c, _) = setup().await;
    let r = c
        .call("DescribeScanResults", &json!({"ItemId": "nope"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    assert!(r.headers.contains_key("date"));
    let v = r.json();
    assert_eq!(
        v["Response"]["Error"]["Code"],
        "ResourceNotFound.ItemIdNotFound"
    );
    assert!(v["Response"]["Error"]["Message"].is_string());
    assert!(v["Response"]["RequestId"].is_string());
    assert_eq!(v["Response"].as_object().unwrap().len(), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn signature_window_is_300_seconds_each_way() {
    let (emu, c, _) = setup().await;
    let now = c.now();
    for (ts, expired) in [
        (now - 301, true),
        (now + 301, true),
        (now - 300, false),
        (now + 299, false),
    ] {
        let r = c
            .send(c.tc3_post_request("DescribeScanInstances", "{}", ts))
            .await
            .unwrap();
        let code = r.code();
        if expired {
            assert_eq!(
                code.as_deref(),
                Some("AuthFailure.SignatureExpire"),
                "ts offset {}",
                ts as i64 - now as i64
            );
        } else {
            assert_eq!(code, None, "ts offset {}", ts as i64 - now as i64);
        }
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_secret_id_and_wrong_key() {
    let (emu, c, _) = setup().await;
    let unknown = c.clone().with_creds("AKIDnobody", KEY);
    assert_eq!(
        unknown.err("DescribeScanInstances", &json!({})).await,
        "AuthFailure.SecretIdNotFound"
    );
    let wrong = c.clone().with_creds(ID, "not-the-key");
    let r = wrong.call("DescribeScanInstances", &json!({})).await;
    assert_eq!(r.code().as_deref(), Some("AuthFailure.SignatureFailure"));
    assert!(!r.message().contains("not-the-key") && !r.message().contains(KEY));
    // The second account works with its own key.
    c.clone()
        .with_creds(ID2, KEY2)
        .ok("DescribeScanInstances", &json!({}))
        .await;
    emu.shutdown().await;
}

#[tokio::test]
async fn tampered_body_or_host_fails_the_signature() {
    let (emu, c, _) = setup().await;
    let mut req = c.tc3_post_request("DescribeScanInstances", r#"{"Limit": 1}"#, c.now());
    *req.body_mut() = Full::new(Bytes::from_static(br#"{"Limit": 2}"#));
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    req.headers_mut()
        .insert("host", "localhost:1".parse().unwrap());
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn missing_or_malformed_authorization() {
    let (emu, c, _) = setup().await;
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    req.headers_mut().remove("authorization");
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("AuthFailure.InvalidAuthorization")
    );
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    req.headers_mut()
        .insert("authorization", "Basic Zm9vOmJhcg==".parse().unwrap());
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("AuthFailure.InvalidAuthorization")
    );
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    req.headers_mut().remove("x-tc-timestamp");
    let r = c.send(req).await.unwrap();
    assert_eq!(r.code().as_deref(), Some("MissingParameter"));
    assert!(r.message().contains("X-TC-Timestamp"));
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_action_wrong_version_and_unemulated_actions() {
    let (emu, c, _) = setup().await;
    assert_eq!(c.err("DescribeNothing", &json!({})).await, "InvalidAction");
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    req.headers_mut()
        .insert("x-tc-version", "2017-03-12".parse().unwrap());
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("NoSuchVersion")
    );
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    req.headers_mut().remove("x-tc-action");
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("MissingParameter")
    );
    let r = c.call("CreateShieldInstance", &json!({})).await;
    assert_eq!(r.code().as_deref(), Some("UnsupportedOperation"));
    assert!(r.message().contains("CreateShieldInstance") && r.message().contains("not emulated"));
    emu.shutdown().await;
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_method() {
    let (emu, c, _) = setup().await;
    let r = c
        .send(c.tc3_post_request("DescribeScanInstances", "{not json", c.now()))
        .await
        .unwrap();
    assert_eq!(r.code().as_deref(), Some("InvalidParameter"));
    let r = c
        .send(c.tc3_post_request("DescribeScanInstances", "[1]", c.now()))
        .await
        .unwrap();
    assert_eq!(r.code().as_deref(), Some("InvalidParameter"));
    let req = c.tc3_request(
        "POST",
        "DescribeScanInstances",
        "",
        "{}",
        "text/plain",
        c.now(),
    );
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("UnsupportedProtocol")
    );
    // A charset parameter is accepted (the documentation's own example uses it).
    let req = c.tc3_request(
        "POST",
        "DescribeScanInstances",
        "",
        "{}",
        "application/json; charset=utf-8",
        c.now(),
    );
    assert_eq!(c.send(req).await.unwrap().code(), None);
    let req = Request::builder()
        .method("PUT")
        .uri("/")
        .header("host", &c.host)
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("UnsupportedProtocol")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_and_ill_typed_parameters() {
    let (emu, c, _) = setup().await;
    let r = c.call("DescribeScanInstances", &json!({"Bogus": 1})).await;
    assert_eq!(
        r.code().as_deref(),
        Some("UnknownParameter"),
        "{}",
        r.message()
    );
    assert!(r.message().contains("Bogus"));
    let r = c.call("DescribeScanResults", &json!({"ItemId": 5})).await;
    assert_eq!(r.code().as_deref(), Some("InvalidParameterValue"));
    emu.shutdown().await;
}

#[tokio::test]
async fn get_is_limited_to_32_kb_and_bodies_to_the_limit() {
    let (_clock, emu, c) =
        started(|clock| config(clock).with_limits(Limits::default().with_max_body_bytes(4096)))
            .await;
    let query = format!("ItemId={}", "a".repeat(33 * 1024));
    let req = c.tc3_request(
        "GET",
        "DescribeScanResults",
        &query,
        "",
        "application/x-www-form-urlencoded",
        c.now(),
    );
    assert_eq!(
        c.send(req).await.unwrap().code().as_deref(),
        Some("RequestSizeLimitExceeded")
    );
    let body = format!(r#"{{"ItemId": "{}"}}"#, "a".repeat(5000));
    let r = c
        .send(c.tc3_post_request("DescribeScanResults", &body, c.now()))
        .await
        .unwrap();
    assert_eq!(r.code().as_deref(), Some("RequestSizeLimitExceeded"));
    emu.shutdown().await;
}

#[tokio::test]
async fn tc3_get_works_with_the_raw_query() {
    let (emu, c, _) = setup().await;
    let r = c
        .call_get(
            "CreateScanInstances",
            &create_params(&[&md5("get")], "http://example.com/cb"),
        )
        .await;
    assert_eq!(r.code(), None, "{}", r.message());
    let item = r.inner()["ItemId"].as_str().unwrap().to_owned();
    let r = c
        .call_get(
            "DescribeScanInstances",
            &json!({"ItemIds": [item], "Limit": 5, "OrderDirection": "asc"}),
        )
        .await;
    assert_eq!(r.inner()["TotalCount"], 1);
    // A query whose order differs from the one signed fails.
    let req = c.tc3_request(
        "GET",
        "DescribeScanInstances",
        "Limit=5&Offset=0",
        "",
        "application/x-www-form-urlencoded",
        c.now(),
    );
    let mut req2 = req;
    *req2.uri_mut() = "/?Offset=0&Limit=5".parse().unwrap();
    assert_eq!(
        c.send(req2).await.unwrap().code().as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn legacy_v1_form_post_and_get() {
    let (emu, c, _) = setup().await;
    for (method, sig) in [
        ("POST", V1Method::HmacSha256),
        ("GET", V1Method::HmacSha1),
        ("POST", V1Method::HmacSha1),
    ] {
        let req = c.v1_request(
            method,
            "CreateScanInstances",
            &create_params(&[&md5(method)], "http://example.com/cb"),
            sig,
        );
        let r = c.send(req).await.unwrap();
        assert_eq!(r.code(), None, "{method} {sig:?}: {}", r.message());
        ms_model::check_response_json("CreateScanInstances", &r.json()).unwrap();
    }
    let wrong = c.clone().with_creds(ID, "wrong");
    let r = wrong
        .send(wrong.v1_request(
            "POST",
            "DescribeScanInstances",
            &json!({}),
            V1Method::HmacSha256,
        ))
        .await
        .unwrap();
    assert_eq!(r.code().as_deref(), Some("AuthFailure.SignatureFailure"));
    // Large v1 requests are refused as the gateway does, pointing to TC3.
    let big = c.v1_request(
        "POST",
        "DescribeScanResults",
        &json!({"ItemId": "a".repeat(1_100_000)}),
        V1Method::HmacSha256,
    );
    let r = c.send(big).await.unwrap();
    assert_eq!(r.code().as_deref(), Some("AuthFailure.SignatureFailure"));
    assert!(r.message().contains("TC3-HMAC-SHA256"), "{}", r.message());
    // Missing Nonce.
    let body = format!(
        "Action=DescribeScanInstances&Version=2018-04-08&Timestamp={}&SecretId={ID}&Signature=x",
        c.now()
    );
    let req = Request::post("/")
        .header("host", &c.host)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let r = c.send(req).await.unwrap();
    assert_eq!(r.code().as_deref(), Some("MissingParameter"));
    assert!(r.message().contains("Nonce"));
    emu.shutdown().await;
}

/// A TC3 request as an official SDK other than Python signs it: `service` in the scope,
/// `signed_host` in the canonical headers, `content_type` signed and sent, `Host` as sent.
fn sdk_style_request(
    c: &Client,
    signed_host: &str,
    service: &str,
    content_type: &str,
    body: &str,
    key: &str,
) -> Request<Full<Bytes>> {
    let creds = tc3_sign::Credentials::new(c.id.clone(), key).unwrap();
    let sig = tc3_sign::sign_tc3(
        &tc3_sign::Tc3Request {
            method: "POST",
            host: signed_host,
            path: "/",
            query: "",
            content_type,
            payload: tc3_sign::Payload::Bytes(body.as_bytes()),
        },
        &creds,
        service,
        c.now(),
    )
    .unwrap();
    let mut b = Request::post("/")
        .header("Host", &c.host)
        .header("Content-Type", content_type)
        .header("X-TC-Action", "DescribeScanInstances")
        .header("X-TC-Version", "2018-04-08")
        .header("X-TC-Region", "ap-guangzhou");
    for (k, v) in sig.headers() {
        b = b.header(k, v);
    }
    b.body(Full::new(Bytes::from(body.to_owned()))).unwrap()
}

#[tokio::test]
async fn tc3_as_every_official_sdk_signs_it_is_accepted_and_a_wrong_key_is_not() {
    let (emu, c, _) = setup().await;
    let host = c.host.clone(); // 127.0.0.1:PORT
    let hostname = host.rsplit_once(':').unwrap().0.to_owned();
    let body = r#"{"Limit":1}"#;
    for (sdk, signed_host, service, ct) in [
        ("Python, Go", host.as_str(), "ms", "application/json"),
        (
            "Java",
            host.as_str(),
            "127",
            "application/json; charset=utf-8",
        ),
        ("PHP, .NET", host.as_str(), "127", "application/json"),
        ("Node.js", hostname.as_str(), "127", "application/json"),
    ] {
        let r = c
            .send(sdk_style_request(&c, signed_host, service, ct, body, KEY))
            .await
            .unwrap();
        assert_eq!(r.code(), None, "{sdk}: {}", r.message());
        let r = c
            .send(sdk_style_request(
                &c,
                signed_host,
                service,
                ct,
                body,
                "wrong",
            ))
            .await
            .unwrap();
        assert_eq!(
            r.code().as_deref(),
            Some("AuthFailure.SignatureFailure"),
            "{sdk}"
        );
    }
    // A service that is neither `ms` nor the Host's first label.
    let r = c
        .send(sdk_style_request(
            &c,
            &host,
            "128",
            "application/json",
            body,
            KEY,
        ))
        .await
        .unwrap();
    assert_eq!(r.code().as_deref(), Some("AuthFailure.SignatureFailure"));
    assert!(r.message().contains("\"128\""), "{}", r.message());
    emu.shutdown().await;
}

/// `n` flat parameters `P0=v&P1=v...` as a JSON object (flattened back to the same names).
fn many_params(n: usize) -> serde_json::Value {
    let m: serde_json::Map<String, serde_json::Value> =
        (0..n).map(|i| (format!("P{i}"), json!("v"))).collect();
    serde_json::Value::Object(m)
}

#[tokio::test]
async fn form_parameter_count_is_capped_naming_the_limit() {
    let (emu, c, _) = setup().await;
    // The v1 request has 7 common parameters and Signature beside the action's own.
    let limit = Limits::default().max_parameters;
    let at_limit = c.v1_request(
        "POST",
        "DescribeScanInstances",
        &many_params(limit - 8),
        V1Method::HmacSha256,
    );
    let r = c.send(at_limit).await.unwrap();
    // Counted, decoded, verified and rebuilt: the names are then unknown to the action.
    assert_eq!(
        r.code().as_deref(),
        Some("UnknownParameter"),
        "{}",
        r.message()
    );
    let over = c.v1_request(
        "POST",
        "DescribeScanInstances",
        &many_params(limit - 7),
        V1Method::HmacSha256,
    );
    let r = c.send(over).await.unwrap();
    assert_eq!(r.code().as_deref(), Some("RequestSizeLimitExceeded"));
    assert!(
        r.message()
            .contains(&format!("more than {limit} parameters")),
        "{}",
        r.message()
    );
    assert!(r.message().contains("max_parameters"), "{}", r.message());
    // Checked before the signature: even a wrongly signed request gets the count error.
    let wrong = c.clone().with_creds(ID, "wrong");
    let r = wrong
        .send(wrong.v1_request(
            "POST",
            "DescribeScanInstances",
            &many_params(limit),
            V1Method::HmacSha1,
        ))
        .await
        .unwrap();
    assert_eq!(r.code().as_deref(), Some("RequestSizeLimitExceeded"));
    emu.shutdown().await;

    // A lower limit applies to TC3 GET queries and v1 GET queries alike.
    let (_clock, emu, c) =
        started(|clock| config(clock).with_limits(Limits::default().with_max_parameters(10))).await;
    let r = c.call_get("DescribeScanInstances", &many_params(11)).await;
    assert_eq!(
        r.code().as_deref(),
        Some("RequestSizeLimitExceeded"),
        "{}",
        r.message()
    );
    assert!(
        r.message().contains("more than 10 parameters"),
        "{}",
        r.message()
    );
    let r = c
        .call_get("DescribeScanInstances", &json!({"Limit": 5, "Offset": 0}))
        .await;
    assert_eq!(r.code(), None, "{}", r.message());
    let r = c
        .send(c.v1_request(
            "GET",
            "DescribeScanInstances",
            &many_params(3),
            V1Method::HmacSha1,
        ))
        .await
        .unwrap();
    assert_eq!(
        r.code().as_deref(),
        Some("RequestSizeLimitExceeded"),
        "{}",
        r.message()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn rate_limit_per_action_region_and_secret_id() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = start(
        config(&clock)
            .with_rate_limit(20)
            .with_action_rate_limit("DescribeScanResults", 3),
    )
    .await;
    let c = Client::new(&emu, &clock);
    let p = json!({"ItemId": "x"});
    for _ in 0..3 {
        assert_eq!(
            c.err("DescribeScanResults", &p).await,
            "ResourceNotFound.ItemIdNotFound"
        );
    }
    assert_eq!(
        c.err("DescribeScanResults", &p).await,
        "RequestLimitExceeded"
    );
    // Other action, other region, other SecretId: separate quotas.
    c.ok("DescribeScanInstances", &json!({})).await;
    let mut other_region = c.clone();
    other_region.region = "ap-shanghai".into();
    assert_eq!(
        other_region.err("DescribeScanResults", &p).await,
        "ResourceNotFound.ItemIdNotFound"
    );
    let other_id = c.clone().with_creds(ID2, KEY2);
    assert_eq!(
        other_id.err("DescribeScanResults", &p).await,
        "ResourceNotFound.ItemIdNotFound"
    );
    // Time passes (the injected clock): allowed again.
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        c.err("DescribeScanResults", &p).await,
        "ResourceNotFound.ItemIdNotFound"
    );
    // Default 20/s for the others (the bucket refilled during the second that passed).
    for _ in 0..20 {
        c.ok("DescribeScanInstances", &json!({})).await;
    }
    assert_eq!(
        c.err("DescribeScanInstances", &json!({})).await,
        "RequestLimitExceeded"
    );
    emu.shutdown().await;
}

/// Any `X-TC-Region` used to open a fresh 20/s bucket; only the documented regions are
/// accepted now (the gateway's `InvalidParameterValue` for others, TC3 and v1 alike), so the
/// limit cannot be sidestepped by inventing region names.
#[tokio::test]
async fn invented_regions_are_refused_before_the_rate_limit() {
    let (_clock, emu, c) = started(|clock| config(clock).with_rate_limit(2)).await;
    for _ in 0..2 {
        c.ok("DescribeScanInstances", &json!({})).await;
    }
    assert_eq!(
        c.err("DescribeScanInstances", &json!({})).await,
        "RequestLimitExceeded"
    );
    for region in ["ap-guangzhou-x1", "gz", "AP-GUANGZHOU", "x"] {
        let mut invented = c.clone();
        invented.region = region.into();
        let r = invented.call("DescribeScanInstances", &json!({})).await;
        assert_eq!(
            r.code().as_deref(),
            Some("InvalidParameterValue"),
            "{region}"
        );
        assert!(r.message().contains("`Region`"), "{}", r.message());
        let r = invented
            .send(invented.v1_request(
                "POST",
                "DescribeScanInstances",
                &json!({}),
                V1Method::HmacSha256,
            ))
            .await
            .unwrap();
        assert_eq!(
            r.code().as_deref(),
            Some("InvalidParameterValue"),
            "v1 {region}"
        );
    }
    // A documented region has its own bucket, as the service documents; no region at all is
    // accepted (the scan actions need none).
    let mut listed = c.clone();
    listed.region = "ap-singapore".into();
    listed.ok("DescribeScanInstances", &json!({})).await;
    let mut none = c.clone();
    none.region = String::new();
    none.ok("DescribeScanInstances", &json!({})).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn signatures_verify_on_both_sides_of_a_utc_midnight() {
    // The emulator caches derived keys per UTC day: each day's requests must use that day's
    // key, and a scope date that is not the timestamp's day fails.
    let (emu, c, clock) = setup().await;
    let midnight = T0_MS / 1000 + 86_400;
    for ts in [midnight - 1, midnight, midnight - 2, midnight + 1] {
        clock.set(ts * 1000);
        let r = c
            .send(c.tc3_post_request("DescribeScanInstances", "{}", ts))
            .await
            .unwrap();
        assert_eq!(r.code(), None, "ts {ts}: {}", r.message());
    }
    // Signed for 23:59:59 but sent with the next second's X-TC-Timestamp: the scope's date is
    // the previous day.
    let mut req = c.tc3_post_request("DescribeScanInstances", "{}", midnight - 1);
    req.headers_mut()
        .insert("x-tc-timestamp", midnight.to_string().parse().unwrap());
    let r = c.send(req).await.unwrap();
    assert_eq!(r.code().as_deref(), Some("AuthFailure.SignatureFailure"));
    emu.shutdown().await;
}

#[tokio::test]
async fn malformed_protocol_headers_are_named() {
    let (emu, c, _) = setup().await;
    let now = c.now();
    let non_ascii = http::HeaderValue::from_bytes("caf\u{e9}".as_bytes()).unwrap();
    let cases: Vec<(&str, http::HeaderValue, &str, &str)> = vec![
        (
            "x-tc-timestamp",
            "-1".parse().unwrap(),
            "InvalidParameterValue",
            "X-TC-Timestamp",
        ),
        (
            "x-tc-timestamp",
            "99999999999999999999999".parse().unwrap(),
            "InvalidParameterValue",
            "X-TC-Timestamp",
        ),
        (
            "x-tc-timestamp",
            "1e9".parse().unwrap(),
            "InvalidParameterValue",
            "X-TC-Timestamp",
        ),
        (
            "x-tc-timestamp",
            non_ascii.clone(),
            "InvalidParameterValue",
            "X-TC-Timestamp",
        ),
        (
            "x-tc-action",
            non_ascii.clone(),
            "InvalidParameterValue",
            "X-TC-Action",
        ),
        (
            "x-tc-version",
            non_ascii.clone(),
            "InvalidParameterValue",
            "X-TC-Version",
        ),
        (
            "authorization",
            non_ascii.clone(),
            "AuthFailure.InvalidAuthorization",
            "Authorization",
        ),
        (
            "authorization",
            "TC3-HMAC-SHA256 Credential=x".parse().unwrap(),
            "AuthFailure.InvalidAuthorization",
            "Authorization",
        ),
        (
            "content-type",
            non_ascii,
            "InvalidParameterValue",
            "Content-Type",
        ),
        (
            "x-tc-timestamp",
            (now - 10_000).to_string().parse().unwrap(),
            "AuthFailure.SignatureExpire",
            "",
        ),
    ];
    for (name, value, code, field) in cases {
        let mut req = c.tc3_post_request("DescribeScanInstances", "{}", now);
        req.headers_mut().insert(name, value.clone());
        let r = c.send(req).await.unwrap();
        assert_eq!(
            r.code().as_deref(),
            Some(code),
            "{name}: {value:?}: {}",
            r.message()
        );
        assert!(r.message().contains(field), "{name}: {}", r.message());
        assert!(r.inner()["RequestId"].is_string());
        assert!(r.headers.contains_key("date"));
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn error_codes_follow_the_violation_kind_not_the_quoted_value() {
    // Messages quote the client's value; a value that reads "required", "missing" or
    // "unknown parameter" must not turn an invalid value into MissingParameter or
    // UnknownParameter.
    let (emu, c, _) = setup().await;
    for url in [
        "https://required.example/a b.apk",
        "https://example.com/missing field.apk",
        "https://example.com/unknown parameter.apk",
    ] {
        let params = json!({
            "AppInfos": [{"AppUrl": url, "AppMd5": "dd5b29a800246d7089febf228286d901"}],
            "ScanInfo": {"CallbackUrl": "", "ScanTypes": ["VULSCAN"]},
        });
        let r = c.call("CreateScanInstances", &params).await;
        assert_eq!(
            r.code().as_deref(),
            Some("InvalidParameterValue"),
            "{url}: {}",
            r.message()
        );
    }
    emu.shutdown().await;
}
