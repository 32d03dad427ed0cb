//! What a request head allows is decided before its body is read: requests the gateway
//! refuses on their headers are answered without waiting for (or reading) a byte of body, and
//! HTTP/2 connections get few streams and small windows.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::Request;
use http_body_util::Full;
use ms_emulator::{Limits, ManualClock};
use tc3_sign::V1Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Writes only the head of `req` with this Content-Length; returns the connection.
async fn send_head(c: &Client, req: &Request<Full<Bytes>>, length: u64) -> tokio::net::TcpStream {
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method(), req.uri());
    for (n, v) in req.headers() {
        if n != "content-length" {
            head.push_str(&format!("{}: {}\r\n", n, v.to_str().unwrap()));
        }
    }
    head.push_str(&format!("content-length: {length}\r\n\r\n"));
    let mut s = tokio::net::TcpStream::connect(c.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Reads one reply (head and a Content-Length body), or `None` if none comes within `wait`.
async fn reply(s: &mut tokio::net::TcpStream, wait: Duration) -> Option<String> {
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    return text;
                }
            }
            let n = s.read(&mut chunk).await.unwrap();
            assert!(
                n > 0,
                "connection closed without a full reply: {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(wait, read).await.ok()
}

fn code(reply: &str) -> String {
    let body = &reply[reply.find("\r\n\r\n").unwrap() + 4..];
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["Response"]["Error"]["Code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn refusals_on_the_head_do_not_wait_for_the_body() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    // A body the emulator waited for would take a minute: every answer below comes at once.
    let limits = Limits::default().with_body_read_timeout(Duration::from_secs(60));
    let emu = start(config(&clock).with_limits(limits)).await;
    let c = Client::new(&emu, &clock);
    let body = r#"{"Limit": 5}"#;
    let ten_mib = 10 * 1024 * 1024;
    let unknown = c.clone().with_creds("AKIDnobodyKnowsThisOne", "whatever");
    let mut unsigned = c.tc3_post_request("DescribeScanInstances", body, c.now());
    unsigned.headers_mut().remove("authorization");
    let cases: Vec<(&str, Request<Full<Bytes>>, u64, &str)> = vec![
        (
            "no Authorization",
            unsigned,
            ten_mib,
            "AuthFailure.InvalidAuthorization",
        ),
        (
            "unknown SecretId",
            unknown.tc3_post_request("DescribeScanInstances", body, c.now()),
            ten_mib,
            "AuthFailure.SecretIdNotFound",
        ),
        (
            "expired timestamp",
            c.tc3_post_request("DescribeScanInstances", body, c.now() - 3600),
            ten_mib,
            "AuthFailure.SignatureExpire",
        ),
        (
            "unknown action",
            c.tc3_post_request("DescribeEverything", body, c.now()),
            ten_mib,
            "InvalidAction",
        ),
        (
            "declared body over 10 MiB",
            c.tc3_post_request("DescribeScanInstances", body, c.now()),
            ten_mib + 1,
            "RequestSizeLimitExceeded",
        ),
        (
            "legacy form over 1 MiB",
            c.v1_request(
                "POST",
                "DescribeScanInstances",
                &serde_json::json!({}),
                V1Method::HmacSha256,
            ),
            2 * 1024 * 1024,
            "AuthFailure.SignatureFailure",
        ),
    ];
    for (what, req, length, want) in cases {
        let mut s = send_head(&c, &req, length).await;
        let r = reply(&mut s, Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("{what}: no answer without the body"));
        assert_eq!(code(&r), want, "{what}: {r}");
    }
    // The control: a request whose head passes is answered only once its body has come.
    let req = c.tc3_post_request("DescribeScanInstances", body, c.now());
    let mut s = send_head(&c, &req, body.len() as u64).await;
    assert!(
        reply(&mut s, Duration::from_millis(500)).await.is_none(),
        "answered before its body"
    );
    s.write_all(body.as_bytes()).await.unwrap();
    let r = reply(&mut s, Duration::from_secs(20))
        .await
        .expect("answered");
    assert_eq!(code(&r), "", "{r}");
    emu.shutdown().await;
}

#[tokio::test]
async fn http2_connections_get_the_configured_stream_limit() {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let limits = Limits::default().with_max_streams_per_connection(3);
    let emu = start(config(&clock).with_limits(limits)).await;
    let tcp = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    let conn_task = tokio::spawn(conn);
    let mut client = client.ready().await.unwrap();
    // One exchange, so that the server's SETTINGS have been applied.
    let c = Client::new(&emu, &clock);
    let req = c.tc3_post_request("DescribeScanInstances", "{}", c.now());
    let (parts, body) = req.into_parts();
    let mut h2req = Request::from_parts(parts, ());
    *h2req.uri_mut() = format!("http://{}/", c.host).parse().unwrap();
    h2req.headers_mut().remove("host");
    let (resp, mut send) = client.send_request(h2req, false).unwrap();
    use http_body_util::BodyExt;
    send.send_data(body.collect().await.unwrap().to_bytes(), true)
        .unwrap();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(client.current_max_send_streams(), 3);
    conn_task.abort();
    emu.shutdown().await;
}
