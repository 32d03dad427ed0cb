//! A whole session logged at TRACE level must never contain the SecretKey, the session token
//! or a signature, and must carry the per-call fields.

mod support;

use ms_model::Idempotency;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ms_transport::{Client, Proxy, RetryConfig, SignMethod, StaticProvider};
use serde_json::json;
use support::{Reply, TestServer, create_params};

const ID: &str = "AKIDtracingtest";
const KEY: &str = "tracing-secret-key-DO-NOT-LOG";
const TOKEN: &str = "tracing-session-token-DO-NOT-LOG";
/// Temporary COS credentials in `CreateCosSecKeyInstance` replies (secret-tagged members).
const COS_KEY: &str = "cos-temporary-key-DO-NOT-LOG";
const COS_TOKEN: &str = "cos-session-token-DO-NOT-LOG";
const COS_TOCKEN: &str = "cos-legacy-token-DO-NOT-LOG";

/// A `CreateCosSecKeyInstance` reply carrying the temporary credentials.
fn cos_reply() -> String {
    format!(
        r#"{{"Response":{{"CosAppid":1,"CosBucket":"b","CosId":"AKIDcos","CosKey":"{COS_KEY}","CosTocken":"{COS_TOCKEN}","CosToken" : "{COS_TOKEN}","RequestId":"req-cos"}}}}"#
    )
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn trace_output_of_a_whole_session_contains_no_secret() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buffer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let signatures: Vec<String> = tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
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
            server
                .requests()
                .iter()
                .filter_map(|r| r.header("authorization").map(str::to_owned))
                .filter_map(|a| a.rsplit("Signature=").next().map(str::to_owned))
                .collect()
        })
    });
    let out = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf8");
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
    assert!(!signatures.is_empty());
    for sig in signatures {
        assert!(!out.contains(&sig), "signature leaked");
    }
}
