//! A small signed test client over real HTTP (hyper + tc3-sign), shared by the tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Lines};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use ms_emulator::{Emulator, EmulatorConfig, ManualClock};
use serde_json::Value;
use tc3_sign::{Credentials, Payload, Tc3Request, V1Method};

pub const ID: &str = "AKIDtestAccount000000000000000000001";
pub const KEY: &str = "testSecretKey0000000000000000001";
pub const ID2: &str = "AKIDtestAccount000000000000000000002";
pub const KEY2: &str = "testSecretKey0000000000000000002";
/// 2026-01-01T00:00:00Z.
pub const T0_MS: u64 = 1_767_225_600_000;

/// A response as received.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// The error code, or None on success.
    pub fn code(&self) -> Option<String> {
        self.json()["Response"]["Error"]["Code"]
            .as_str()
            .map(str::to_owned)
    }
    pub fn inner(&self) -> Value {
        self.json()["Response"].clone()
    }
    pub fn message(&self) -> String {
        self.json()["Response"]["Error"]["Message"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// Test configuration: two accounts, a manual clock at T0, 1 s scans, high rate limit.
pub fn config(clock: &Arc<ManualClock>) -> EmulatorConfig {
    EmulatorConfig::demo()
        .with_account(ID, KEY)
        .add_account(ID2, KEY2)
        .with_clock(clock.clone())
        .with_scan_duration(Duration::from_secs(1))
        .with_rate_limit(1000)
}

pub async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator starts")
}

/// A manual clock at T0, an emulator started with `config(&clock)` on a free loopback port
/// (stopped when dropped) and a client of it.
pub async fn started(
    config: impl FnOnce(&Arc<ManualClock>) -> EmulatorConfig,
) -> (Arc<ManualClock>, Emulator, Client) {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = start(config(&clock)).await;
    let client = Client::new(&emu, &clock);
    (clock, emu, client)
}

/// A client bound to one emulator.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub host: String,
    pub id: String,
    pub key: String,
    pub clock: Arc<ManualClock>,
    pub tls: Option<tokio_rustls::TlsConnector>,
    pub region: String,
}

impl Client {
    pub fn new(emu: &Emulator, clock: &Arc<ManualClock>) -> Self {
        Client {
            addr: emu.local_addr(),
            host: emu.local_addr().to_string(),
            id: ID.into(),
            key: KEY.into(),
            clock: clock.clone(),
            tls: None,
            region: "ap-guangzhou".into(),
        }
    }

    pub fn with_creds(mut self, id: &str, key: &str) -> Self {
        self.id = id.into();
        self.key = key.into();
        self
    }

    pub fn now(&self) -> u64 {
        use ms_emulator::Clock;
        self.clock.now_ms() / 1000
    }

    /// Sends a request over a fresh connection.
    pub async fn send(&self, req: Request<Full<Bytes>>) -> Result<Resp, String> {
        tokio::time::timeout(Duration::from_secs(30), self.send_inner(req))
            .await
            .map_err(|_| "timed out".to_string())?
    }

    async fn send_inner(&self, req: Request<Full<Bytes>>) -> Result<Resp, String> {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        match &self.tls {
            Some(conn) => {
                let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
                let tls = conn
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("tls: {e}"))?;
                send_on(TokioIo::new(tls), req).await
            }
            None => send_on(TokioIo::new(tcp), req).await,
        }
    }

    /// TC3 POST JSON with the body given verbatim, signed at `ts`.
    pub fn tc3_post_request(&self, action: &str, body: &str, ts: u64) -> Request<Full<Bytes>> {
        self.tc3_request("POST", action, "", body, "application/json", ts)
    }

    pub fn tc3_request(
        &self,
        method: &str,
        action: &str,
        query: &str,
        body: &str,
        content_type: &str,
        ts: u64,
    ) -> Request<Full<Bytes>> {
        let creds = Credentials::new(self.id.clone(), self.key.clone()).unwrap();
        let payload = if method == "GET" {
            b"".as_slice()
        } else {
            body.as_bytes()
        };
        let sig = tc3_sign::sign_tc3(
            &Tc3Request {
                method,
                host: &self.host,
                path: "/",
                query,
                content_type,
                payload: Payload::Bytes(payload),
            },
            &creds,
            "ms",
            ts,
        )
        .unwrap();
        let uri = if query.is_empty() {
            "/".to_string()
        } else {
            format!("/?{query}")
        };
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("Host", &self.host)
            .header("Content-Type", content_type)
            .header("X-TC-Action", action)
            .header("X-TC-Version", "2018-04-08");
        if !self.region.is_empty() {
            b = b.header("X-TC-Region", &self.region);
        }
        for (k, v) in sig.headers() {
            b = b.header(k, v);
        }
        b.body(Full::new(Bytes::from(if method == "GET" {
            String::new()
        } else {
            body.to_owned()
        })))
        .unwrap()
    }

    pub async fn call(&self, action: &str, params: &Value) -> Resp {
        let req = self.tc3_post_request(action, &params.to_string(), self.now());
        self.send(req).await.expect("request answered")
    }

    /// Calls and expects success; returns the inner Response object.
    pub async fn ok(&self, action: &str, params: &Value) -> Value {
        let r = self.call(action, params).await;
        assert_eq!(
            r.code(),
            None,
            "{action} failed: {}",
            String::from_utf8_lossy(&r.body)
        );
        ms_model::check_response_json(action, &r.json())
            .unwrap_or_else(|e| panic!("{action} response: {e}"));
        r.inner()
    }

    /// Calls and expects an error; returns its code.
    pub async fn err(&self, action: &str, params: &Value) -> String {
        let r = self.call(action, params).await;
        r.code().unwrap_or_else(|| {
            panic!(
                "{action} unexpectedly succeeded: {}",
                String::from_utf8_lossy(&r.body)
            )
        })
    }

    /// TC3 GET with the params flattened into the query.
    pub async fn call_get(&self, action: &str, params: &Value) -> Resp {
        let pairs = tc3_sign::flatten_params(params);
        let query = tc3_sign::form_urlencode(&pairs);
        let req = self.tc3_request(
            "GET",
            action,
            &query,
            "",
            "application/x-www-form-urlencoded",
            self.now(),
        );
        self.send(req).await.expect("request answered")
    }

    /// Legacy v1 request (form POST or GET).
    pub fn v1_request(
        &self,
        http_method: &str,
        action: &str,
        params: &Value,
        method: V1Method,
    ) -> Request<Full<Bytes>> {
        let mut pairs = tc3_sign::flatten_params(params);
        pairs.push(("Action".into(), action.into()));
        pairs.push(("Nonce".into(), "12345".into()));
        pairs.push(("Timestamp".into(), self.now().to_string()));
        pairs.push(("Version".into(), "2018-04-08".into()));
        pairs.push(("Region".into(), self.region.clone()));
        pairs.push(("SecretId".into(), self.id.clone()));
        pairs.push(("SignatureMethod".into(), method.as_str().into()));
        let sts = tc3_sign::v1_string_to_sign(http_method, &self.host, "/", &pairs);
        pairs.push((
            "Signature".into(),
            tc3_sign::sign_v1(method, &self.key, &sts),
        ));
        let form = tc3_sign::form_urlencode(&pairs);
        let b = Request::builder()
            .header("Host", &self.host)
            .header("Content-Type", "application/x-www-form-urlencoded");
        if http_method == "GET" {
            b.method("GET")
                .uri(format!("/?{form}"))
                .body(Full::new(Bytes::new()))
                .unwrap()
        } else {
            b.method("POST")
                .uri("/")
                .body(Full::new(Bytes::from(form)))
                .unwrap()
        }
    }
}

pub async fn send_on<I>(io: I, req: Request<Full<Bytes>>) -> Result<Resp, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let task = tokio::spawn(conn);
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("send: {e}"));
    let out = match resp {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            match resp.into_body().collect().await {
                Ok(b) => Ok(Resp {
                    status,
                    headers,
                    body: b.to_bytes(),
                }),
                Err(e) => Err(format!("body: {e}")),
            }
        }
        Err(e) => Err(e),
    };
    task.abort();
    out
}

/// A distinct valid MD5 per label.
pub fn md5(label: &str) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(label.as_bytes()))
}

/// CreateScanInstances parameters for these MD5s.
pub fn create_params(md5s: &[&str], callback: &str) -> Value {
    serde_json::json!({
        "AppInfos": md5s.iter().map(|m| serde_json::json!({
            "AppUrl": format!("https://example.com/{m}.apk"),
            "AppMd5": m,
        })).collect::<Vec<_>>(),
        "ScanInfo": {"CallbackUrl": callback, "ScanTypes": ["VULSCAN", "VIRUSSCAN", "ADSCAN", "PERMISSION", "SENSITIVE"]},
    })
}

/// Polls `f` until it returns Some, up to 30 s (no timing assertion: just a generous bound).
pub async fn eventually<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached within 30 s");
}

/// An emulator process (the `ms-emulator` binary, or a wrapper running it); killed
/// (SIGKILL) when dropped, so a failing assertion leaves none.
pub struct Running(Option<Child>);

impl Running {
    /// Starts `cmd` with stdout and stderr piped; returns it with the lines of its stdout.
    pub fn spawn(cmd: &mut Command) -> (Running, Lines<BufReader<ChildStdout>>) {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        (Running(Some(child)), BufReader::new(stdout).lines())
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.as_ref().expect("running").id()
    }

    /// Sends signal `name` (`TERM`, `INT`, ...) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Kills it (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    /// Waits for its end (stdout was taken by [`Running::spawn`]: what is left of it is
    /// in the lines).
    pub fn wait_with_output(mut self) -> std::process::Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}
