//! A scriptable raw HTTP/1.1 server for transport tests: records every request exactly as
//! received (header order included) and answers as the test script says, including
//! misbehaviour (reset, truncated body, delays).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub mod log_buffer;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub connection: usize,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status, extra headers, body.
    Http(u16, Vec<(String, String)>, Vec<u8>),
    /// Close the connection without answering (after reading the request).
    Reset,
    /// Announce `Content-Length` of the full body but send only the first `n` bytes, then close.
    Truncate(Vec<u8>, usize),
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// Answer, then close the connection (a keep-alive connection the server dropped).
    ThenClose(Box<Reply>),
}

impl Reply {
    pub fn json(body: &str) -> Self {
        Reply::Http(
            200,
            vec![("Content-Type".into(), "application/json".into())],
            body.as_bytes().to_vec(),
        )
    }
    pub fn ok(inner: &str) -> Self {
        let body = format!(
            r#"{{"Response":{{{inner}{}"RequestId":"req-ok"}}}}"#,
            if inner.is_empty() { "" } else { "," }
        );
        Self::json(&body)
    }
    pub fn error(code: &str) -> Self {
        Self::json(&format!(
            r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"scripted {code}"}},"RequestId":"req-err"}}}}"#
        ))
    }
}

type Script = Arc<Mutex<VecDeque<Reply>>>;

pub struct TestServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    script: Script,
    default: Arc<Mutex<Reply>>,
    task: tokio::task::JoinHandle<()>,
    is_tls: bool,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_inner(None).await
    }

    /// A TLS server with a fresh self-signed certificate for 127.0.0.1; returns the PEM.
    pub async fn start_tls() -> (Self, String) {
        let cert = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .expect("cert");
        let pem = cert.cert.pem();
        let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())
            .expect("key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .expect("server cfg");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        (Self::start_inner(Some(acceptor)).await, pem)
    }

    async fn start_inner(tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(Mutex::new(VecDeque::new()));
        let default = Arc::new(Mutex::new(Reply::ok("")));
        let (r, s, d) = (requests.clone(), script.clone(), default.clone());
        let is_tls = tls.is_some();
        let task = tokio::spawn(async move {
            let mut n = 0usize;
            while let Ok((stream, _)) = listener.accept().await {
                n += 1;
                let (r, s, d) = (r.clone(), s.clone(), d.clone());
                match &tls {
                    None => {
                        tokio::spawn(serve_conn(stream, n, r, s, d));
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                serve_conn(tls, n, r, s, d).await;
                            }
                        });
                    }
                }
            }
        });
        Self {
            addr,
            requests,
            script,
            default,
            task,
            is_tls,
        }
    }

    pub fn url(&self) -> String {
        if self.is_tls {
            format!("https://{}", self.addr)
        } else {
            format!("http://{}", self.addr)
        }
    }

    /// Queues replies (used in order, then the default).
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().expect("lock").extend(replies);
    }

    pub fn set_default(&self, reply: Reply) {
        *self.default.lock().expect("lock") = reply;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<(String, String, Vec<(String, String)>, Vec<u8>)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let mut lines = head.split("\r\n");
            let start = lines.next()?;
            let mut parts = start.split(' ');
            let method = parts.next()?.to_owned();
            let target = parts.next()?.to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .collect();
            let len = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut chunk = [0u8; 8192];
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            return Some((method, target, headers, body));
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    conn: usize,
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Script,
    default: Arc<Mutex<Reply>>,
) {
    let mut buf = Vec::new();
    while let Some((method, target, headers, body)) = read_request(&mut stream, &mut buf).await {
        requests.lock().expect("lock").push(Recorded {
            method,
            target,
            headers,
            body,
            connection: conn,
        });
        let reply = script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(|| default.lock().expect("lock").clone());
        if !answer(&mut stream, reply).await {
            return;
        }
    }
}

/// Returns false when the connection must be closed.
async fn answer<S: AsyncWrite + Unpin>(stream: &mut S, mut reply: Reply) -> bool {
    loop {
        match reply {
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                reply = *inner;
            }
            Reply::ThenClose(inner) => {
                Box::pin(answer(stream, *inner)).await;
                let _ = stream.shutdown().await;
                return false;
            }
            Reply::Reset => {
                let _ = stream.shutdown().await;
                return false;
            }
            Reply::Truncate(body, n) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body[..n.min(body.len())]).await;
                let _ = stream.shutdown().await;
                return false;
            }
            Reply::Http(status, headers, body) => {
                let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                for (n, v) in headers {
                    head.push_str(&format!("{n}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let ok = stream.write_all(head.as_bytes()).await.is_ok()
                    && stream.write_all(&body).await.is_ok();
                return ok;
            }
        }
    }
}

/// A minimal HTTP CONNECT proxy: records each CONNECT target and pipes bytes both ways.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    pub targets: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ConnectProxy {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let targets = Arc::new(Mutex::new(Vec::new()));
        let t = targets.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let t = t.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match client.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).into_owned();
                    let mut parts = head.split_whitespace();
                    let (method, target) = (
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or("").to_owned(),
                    );
                    if method != "CONNECT" {
                        let _ = client
                            .write_all(
                                b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n",
                            )
                            .await;
                        return;
                    }
                    t.lock().expect("lock").push(target.clone());
                    let Ok(mut upstream) = TcpStream::connect(&target).await else {
                        let _ = client
                            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                            .await;
                        return;
                    };
                    if client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        });
        Self {
            addr,
            targets,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().expect("lock").clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Valid `CreateScanInstances` parameters.
pub fn create_params() -> serde_json::Value {
    serde_json::json!({
        "AppInfos": [{"AppUrl": "https://example.com/a.apk", "AppMd5": "0123456789abcdef0123456789abcdef"}],
        "ScanInfo": {"CallbackUrl": "https://example.com/cb", "ScanTypes": ["VULSCAN"]}
    })
}
