//! A whole session logged at TRACE level must never contain the SecretKey, the session token,
//! a signature, the password of a URL or the signature / token of a pre-signed download URL,
//! and must carry the per-call fields.

mod support;

use ms_model::Idempotency;
use std::time::Duration;

use ms_transport::{Client, Proxy, RetryConfig, SignMethod, StaticProvider};
use serde_json::json;
use support::log_buffer::LogBuffer;
use support::{Reply, TestServer, create_params};
use tracing_subscriber::fmt::format::FmtSpan;

const ID: &str = "AKIDtracingtest";
const KEY: &str = "tracing-secret-key-DO-NOT-LOG";
const TOKEN: &str = "tracing-session-token-DO-NOT-LOG";
/// Temporary COS credentials in `CreateCosSecKeyInstance` replies (secret-tagged members).
const COS_KEY: &str = "cos-temporary-key-DO-NOT-LOG";
const COS_TOKEN: &str = "cos-session-token-DO-NOT-LOG";
const COS_TOCKEN: &str = "cos-legacy-token-DO-NOT-LOG";

/// The query values of pre-signed download URLs and the password of a URL's user info.
const URL_SECRETS: [&str; 6] = [
    "cdn-sign-DO-NOT-LOG",
    "amz-signature-DO-NOT-LOG",
    "cos-q-signature-DO-NOT-LOG",
    "cos-security-token-DO-NOT-LOG",
    "url-password-DO-NOT-LOG",
    "fragment-token-DO-NOT-LOG",
];

/// `CreateScanInstances` parameters whose download and callback URLs carry [`URL_SECRETS`]
/// (but the password: a URL with user info is refused before anything is sent).
fn presigned_params() -> serde_json::Value {
    let [sign, amz, q, token, _, fragment] = URL_SECRETS;
    json!({
        "AppInfos": [
            {"AppUrl": format!("https://bkt.cos.ap-guangzhou.myqcloud.com/c.apk?q-sign-algorithm=sha1&q-signature={q}&x-cos-security-token={token}"), "AppMd5": "0123456789abcdef0123456789abcded"},
            {"AppUrl": format!("https://s3.example.com/b.apk?X-Amz-Expires=900&X-Amz-Signature={amz}"), "AppMd5": "0123456789abcdef0123456789abcdee"},
            {"AppUrl": format!("https://cdn.example.com/builds/a.apk?sign={sign}&t=1700000000"), "AppMd5": "0123456789abcdef0123456789abcdef"}
        ],
        "ScanInfo": {"CallbackUrl": format!("https://hooks.example.com/ms#access_token={fragment}"), "ScanTypes": ["VULSCAN"]}
    })
}

/// A `CreateCosSecKeyInstance` reply carrying the temporary credentials.
fn cos_reply() -> String {
    format!(
        r#"{{"Response":{{"CosAppid":1,"CosBucket":"b","CosId":"AKIDcos","CosKey":"{COS_KEY}","CosTocken":"{COS_TOCKEN}","CosToken" : "{COS_TOKEN}","RequestId":"req-cos"}}}}"#
    )
}

/// A client of `server` signing with `method`, without retries.
fn client_for(server: &TestServer, method: SignMethod) -> Client {
    Client::builder()
        .endpoint(&server.url())
        .allow_http()
        .proxy(Proxy::None)
        .sign_method(method)
        .credentials(StaticProvider::from_parts(ID, KEY, Some(TOKEN)).expect("creds"))
        .retry(RetryConfig::disabled())
        .build()
        .expect("client")
}

#[test]
fn trace_output_of_a_whole_session_contains_no_secret() {
    let buffer = LogBuffer::default();
    let signatures: Vec<String> = buffer.trace(FmtSpan::CLOSE, async {
            let server = TestServer::start().await;
            let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1200));
            server.push([
                Reply::ok(r#""TotalCount":1"#),
                Reply::Http(503, vec![], b"busy".to_vec()),
                Reply::ok(""),
                Reply::error("RequestLimitExceeded"),
                Reply::ok(r#""ItemId":"i""#),
                Reply::Http(
                    200,
                    vec![("Date".into(), date)],
                    br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"r"}}"#.to_vec(),
                ),
                Reply::ok(""),
                Reply::error("InvalidParameter"),
                Reply::Reset,
            ]);
            for method in [SignMethod::Tc3Post, SignMethod::Tc3Get, SignMethod::HmacSha256] {
                let client = Client::builder()
                    .endpoint(&server.url())
                    .allow_http()
                    .proxy(Proxy::None)
                    .sign_method(method)
                    .credentials(StaticProvider::from_parts(ID, KEY, Some(TOKEN)).expect("creds"))
                    .retry(RetryConfig::default().with_backoff(Duration::from_millis(1), Duration::from_millis(2)).with_throttle_backoff(Duration::from_millis(1)))
                    .build()
                    .expect("client");
                let _ = client.send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({"Limit": 1})).await;
                let _ = client.send_json("DescribeScanInstances", Idempotency::Idempotent, &json!({})).await;
                let _ = client.send_json("CreateScanInstances", Idempotency::NotIdempotent, &create_params()).await;
                let _ = client.send_json("CreateScanInstances", Idempotency::NotIdempotent, &create_params()).await;
                let _ = client.send_json("DeleteScanInstances", Idempotency::NotIdempotent, &json!({"AppSids": ["sid-1"]})).await;
                let _ = client.send_json("DeleteScanInstances", Idempotency::NotIdempotent, &json!({"AppSids": ["sid-1"]})).await;
            }
            // Temporary COS credentials in a reply: logged at TRACE as a body snippet, and put
            // into errors (HTTP status, undecodable reply) — always redacted.
            let cos = cos_reply();
            server.push([
                Reply::json(&cos),
                Reply::Http(500, vec![], cos.clone().into_bytes()),
                Reply::json(&format!("{cos} trailing garbage")),
                Reply::json(&cos[..cos.len() - 40]),
            ]);
            let client = Client::builder()
                .endpoint(&server.url())
                .allow_http()
                .proxy(Proxy::None)
                .credentials(StaticProvider::from_parts(ID, KEY, Some(TOKEN)).expect("creds"))
                .retry(RetryConfig::disabled())
                .build()
                .expect("client");
            let mut errors = Vec::new();
            for _ in 0..4 {
                match client.send_json("CreateCosSecKeyInstance", Idempotency::NotIdempotent, &json!({})).await {
                    Ok(reply) => assert_eq!(reply["CosKey"], COS_KEY, "the caller gets the key"),
                    Err(e) => errors.push(e),
                }
            }
            assert_eq!(errors.len(), 3, "{errors:?}");
            for e in &errors {
                for shown in [e.to_string(), format!("{e:?}"), e.body_snippet().unwrap_or("").to_owned()] {
                    for secret in [COS_KEY, COS_TOKEN, COS_TOCKEN] {
                        // The distinctive start, so a value cut off by truncation counts too.
                        assert!(!shown.contains(&secret[..12]), "{secret} in error: {shown}");
                    }
                }
            }
            // Everything else of the reply is still shown.
            assert!(errors[0].to_string().contains("AKIDcos"), "{}", errors[0]);
            // Pre-signed download URLs: the request body (POST) or query (GET) is traced, the
            // service's message and an error body may quote them back.
            let quoted = presigned_params()["AppInfos"][2]["AppUrl"].as_str().expect("url").to_owned();
            let amz = presigned_params()["AppInfos"][1]["AppUrl"].as_str().expect("url").to_owned();
            let mut errors = Vec::new();
            for method in [SignMethod::Tc3Post, SignMethod::Tc3Get, SignMethod::HmacSha256] {
                server.push([
                    Reply::json(&format!(
                        r#"{{"Response":{{"Error":{{"Code":"InvalidParameterValue","Message":"AppInfos.0.AppUrl {quoted} cannot be downloaded"}},"RequestId":"req-url"}}}}"#
                    )),
                    Reply::Http(502, vec![], format!("<html>upstream {amz} failed</html>").into_bytes()),
                ]);
                let client = client_for(&server, method);
                for _ in 0..2 {
                    let e = client
                        .send_json("CreateScanInstances", Idempotency::NotIdempotent, &presigned_params())
                        .await
                        .expect_err("scripted failure");
                    errors.push(e);
                }
            }
            // A download URL with a password is refused by validation, which names it masked.
            let mut with_password = presigned_params();
            with_password["AppInfos"][2]["AppUrl"] = json!(format!("https://ci:{}@files.example.com/d.apk?sign=x", URL_SECRETS[4]));
            let e = client_for(&server, SignMethod::Tc3Post)
                .send_json("CreateScanInstances", Idempotency::NotIdempotent, &with_password)
                .await
                .expect_err("user info is refused");
            assert!(e.to_string().contains("https://***@files.example.com/d.apk?sign=***"), "{e}");
            errors.push(e);
            assert_eq!(errors[0].code_str(), "InvalidParameterValue");
            assert!(
                errors[0].message().contains("https://cdn.example.com/builds/a.apk?sign=***&t=***"),
                "the URL is still named: {}",
                errors[0]
            );
            assert!(errors[1].body_snippet().unwrap_or("").contains("https://s3.example.com/b.apk?X-Amz-Expires=***&X-Amz-Signature=***"), "{:?}", errors[1]);
            for e in &errors {
                for shown in [e.to_string(), format!("{e:?}"), e.body_snippet().unwrap_or("").to_owned()] {
                    for secret in URL_SECRETS {
                        assert!(!shown.contains(secret), "{secret} in error: {shown}");
                    }
                }
            }
            // What is sent is unchanged: the service gets every URL whole.
            let sent = server.requests();
            let sent = &sent[sent.len() - 6..];
            for r in sent {
                let text = format!("{} {}", r.target, String::from_utf8_lossy(&r.body));
                for secret in URL_SECRETS.iter().filter(|s| !s.starts_with("url-password")) {
                    assert!(text.contains(secret), "{secret} not sent: {text}");
                }
            }
            server
                .requests()
                .iter()
                .filter_map(|r| r.header("authorization").map(str::to_owned))
                .filter_map(|a| a.rsplit("Signature=").next().map(str::to_owned))
                .collect()
    });
    let out = buffer.text();
    assert!(out.contains("ms.call"), "spans are logged");
    assert!(
        out.contains("action=\"DescribeScanInstances\"")
            || out.contains("action=DescribeScanInstances"),
        "{out}"
    );
    assert!(
        out.contains("request_id=\"req-ok\"") && out.contains("request_id=\"req-cos\""),
        "request ids recorded"
    );
    assert!(out.contains("attempt=2"), "attempt spans");
    assert!(out.contains("limiter_wait_ms=") && out.contains("latency_ms="));
    assert!(out.contains("x-tc-token: <redacted>") && out.contains("authorization: <redacted>"));
    assert!(!out.contains(KEY), "secret key leaked");
    assert!(!out.contains(TOKEN), "token leaked");
    for secret in [COS_KEY, COS_TOKEN, COS_TOCKEN] {
        assert!(
            !out.contains(&secret[..12]),
            "{secret} leaked into the trace"
        );
    }
    assert!(out.contains("AKIDcos"), "reply bodies are still traced");
    for secret in URL_SECRETS {
        assert!(!out.contains(secret), "{secret} leaked into the trace");
    }
    // The request body (its first 256 characters) is traced with the URLs' scheme, host and
    // path, and the names of their parameters; the GET query with its values masked.
    for shown in [
        "https://cdn.example.com/builds/a.apk?sign=***&t=***",
        "https://bkt.cos.ap-guangzhou.myqcloud.com/c.apk?q-sign-algorithm=***&q-signature=***&x-cos-security-token=***",
    ] {
        assert!(out.contains(shown), "{shown} not in the trace:\n{out}");
    }
    assert!(
        out.contains("/?AppInfos.0.AppUrl=***&AppInfos.0.AppMd5=***&AppInfos.1.AppUrl=***"),
        "the GET query is traced, masked:\n{out}"
    );
    assert!(!signatures.is_empty());
    for sig in signatures {
        assert!(!out.contains(&sig), "signature leaked");
    }
}
