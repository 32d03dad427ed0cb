//! Local fakes of the services credential providers talk to, over real HTTP on loopback:
//! the CVM instance metadata service and STS (`AssumeRole`, TC3-signed and verified here
//! with `tc3-sign`; `AssumeRoleWithWebIdentity`, unsigned). Each starts on a free port and
//! stops when dropped.
#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use ms_transport::FakeClock;
use ms_transport::clock::Clock;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// What a fake answers to a credentials request.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Valid credentials.
    Normal,
    /// This status and body.
    Raw(u16, String),
    /// Wait, then answer normally.
    Delay(Duration),
    /// Never answer (hold the connection).
    Hang,
}

struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Handler =
    Arc<dyn Fn(Recorded) -> futures_util::future::BoxFuture<'static, (u16, String)> + Send + Sync>;

/// A request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn serve(handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let handler = Arc::clone(&handler);
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec())
                            .unwrap_or_default();
                        let recorded = Recorded {
                            method: parts.method.to_string(),
                            path: parts.uri.to_string(),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(n, v)| {
                                    (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into())
                                })
                                .collect(),
                            body,
                        };
                        let (status, body) = handler(recorded).await;
                        let mut response = Response::new(Full::new(Bytes::from(body)));
                        *response.status_mut() =
                            hyper::StatusCode::from_u16(status).unwrap_or_default();
                        response.headers_mut().insert(
                            "content-type",
                            hyper::header::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server { addr, task }
}

async fn apply(mode: &Mode) -> Option<(u16, String)> {
    match mode {
        Mode::Normal => None,
        Mode::Raw(status, body) => Some((*status, body.clone())),
        Mode::Delay(d) => {
            tokio::time::sleep(*d).await;
            None
        }
        Mode::Hang => {
            std::future::pending::<()>().await;
            None
        }
    }
}

#[derive(Debug)]
struct MetadataState {
    role: Option<String>,
    mode: Mode,
    lifetime: u64,
    discoveries: u32,
    fetches: u32,
}

/// The CVM metadata service: `GET /latest/meta-data/cam/security-credentials/[role]`.
pub struct FakeMetadata {
    server: Server,
    state: Arc<Mutex<MetadataState>>,
    pub clock: FakeClock,
}

/// The SecretKey the fake metadata service hands out for fetch number `n`.
pub fn metadata_key(n: u32) -> String {
    format!("cvm-tmp-key-{n}-DO-NOT-LOG")
}

/// The token the fake metadata service hands out for fetch number `n`.
pub fn metadata_token(n: u32) -> String {
    format!("cvm-tmp-token-{n}-DO-NOT-LOG")
}

impl FakeMetadata {
    /// Serves role `role` (`None`: no role bound, 404), credentials living `lifetime`
    /// seconds of `clock`.
    pub async fn start(role: Option<&str>, lifetime: u64, clock: FakeClock) -> Self {
        let state = Arc::new(Mutex::new(MetadataState {
            role: role.map(str::to_owned),
            mode: Mode::Normal,
            lifetime,
            discoveries: 0,
            fetches: 0,
        }));
        let st = Arc::clone(&state);
        let ck = clock.clone();
        let handler: Handler = Arc::new(move |req: Recorded| {
            let st = Arc::clone(&st);
            let ck = ck.clone();
            Box::pin(async move {
                const BASE: &str = "/latest/meta-data/cam/security-credentials/";
                let Some(rest) = req.path.strip_prefix(BASE) else {
                    return (404, "not found".to_owned());
                };
                if rest.is_empty() {
                    let mut s = st.lock().expect("state");
                    s.discoveries += 1;
                    return match &s.role {
                        Some(r) => (200, r.clone()),
                        None => (404, "<html>404 Not Found</html>".to_owned()),
                    };
                }
                let (mode, known, n, lifetime) = {
                    let mut s = st.lock().expect("state");
                    s.fetches += 1;
                    (
                        s.mode.clone(),
                        s.role.as_deref() == Some(rest),
                        s.fetches,
                        s.lifetime,
                    )
                };
                if let Some(reply) = apply(&mode).await {
                    return reply;
                }
                if !known {
                    return (404, "<html>404 Not Found</html>".to_owned());
                }
                let expires = ck.unix_seconds() + lifetime;
                let body = json!({
                    "TmpSecretId": format!("AKIDcvm{n}"),
                    "TmpSecretKey": metadata_key(n),
                    "ExpiredTime": expires,
                    "Expiration": "2030-01-01T00:00:00Z",
                    "Token": metadata_token(n),
                    "Code": "Success",
                });
                (200, body.to_string())
            })
        });
        Self {
            server: serve(handler).await,
            state,
            clock,
        }
    }

    /// The endpoint to give `CvmRoleProvider::builder().endpoint(...)`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/latest/meta-data/", self.server.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().expect("state").mode = mode;
    }

    pub fn set_role(&self, role: Option<&str>) {
        self.state.lock().expect("state").role = role.map(str::to_owned);
    }

    /// (role discoveries, credential fetches) so far.
    pub fn hits(&self) -> (u32, u32) {
        let s = self.state.lock().expect("state");
        (s.discoveries, s.fetches)
    }
}

/// The long-term credentials the fake STS accepts.
pub const LONG_ID: &str = "AKIDlongterm";
pub const LONG_KEY: &str = "long-term-key-DO-NOT-LOG";

/// The SecretKey the fake STS hands out for call number `n`.
pub fn sts_key(n: u32) -> String {
    format!("sts-tmp-key-{n}-DO-NOT-LOG")
}

/// The token the fake STS hands out for call number `n`.
pub fn sts_token(n: u32) -> String {
    format!("sts-tmp-token-{n}-DO-NOT-LOG")
}

#[derive(Debug)]
struct StsState {
    mode: Mode,
    calls: Vec<Recorded>,
}

/// STS: `AssumeRole` (TC3 signature verified against [`LONG_KEY`]) and
/// `AssumeRoleWithWebIdentity` (`Authorization: SKIP`).
pub struct FakeSts {
    server: Server,
    state: Arc<Mutex<StsState>>,
    pub clock: FakeClock,
}

fn sts_error(code: &str, message: &str) -> (u16, String) {
    (
        200,
        json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req-sts-err"}})
            .to_string(),
    )
}

/// Checks the request is what the official SDKs send; `Err` is the STS error to answer.
fn check_sts(req: &Recorded, now: u64) -> Result<(String, Value), (u16, String)> {
    let action = req.header("x-tc-action").unwrap_or("").to_owned();
    if req.header("x-tc-version") != Some("2018-08-13") {
        return Err(sts_error("InvalidParameter", "bad X-TC-Version"));
    }
    if req.method != "POST" || req.header("content-type") != Some("application/json") {
        return Err(sts_error("InvalidParameter", "expected a JSON POST"));
    }
    let params: Value = serde_json::from_slice(&req.body)
        .map_err(|_| sts_error("InvalidParameter", "body is not JSON"))?;
    let authorization = req.header("authorization").unwrap_or("");
    match action.as_str() {
        "AssumeRole" => {
            let timestamp: u64 = req
                .header("x-tc-timestamp")
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| sts_error("MissingParameter", "X-TC-Timestamp"))?;
            if timestamp.abs_diff(now) > 300 {
                return Err(sts_error("AuthFailure.SignatureExpire", "expired"));
            }
            let parsed = tc3_sign::parse_authorization(authorization)
                .map_err(|_| sts_error("AuthFailure.InvalidAuthorization", "bad header"))?;
            if parsed.secret_id != LONG_ID {
                return Err(sts_error("AuthFailure.SecretIdNotFound", "unknown id"));
            }
            let headers: Vec<(&str, &str)> = req
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            tc3_sign::verify_tc3(
                &tc3_sign::ReceivedTc3 {
                    method: &req.method,
                    path: "/",
                    query: "",
                    headers: &headers,
                    body: &req.body,
                    timestamp,
                    authorization,
                },
                LONG_KEY,
                "sts",
            )
            .map_err(|_| sts_error("AuthFailure.SignatureFailure", "signature mismatch"))?;
        }
        "AssumeRoleWithWebIdentity" => {
            if authorization != "SKIP" {
                return Err(sts_error(
                    "InvalidParameter",
                    "AssumeRoleWithWebIdentity is not signed",
                ));
            }
        }
        _ => return Err(sts_error("InvalidAction", "unknown action")),
    }
    Ok((action, params))
}

impl FakeSts {
    pub async fn start(clock: FakeClock) -> Self {
        let state = Arc::new(Mutex::new(StsState {
            mode: Mode::Normal,
            calls: Vec::new(),
        }));
        let st = Arc::clone(&state);
        let ck = clock.clone();
        let handler: Handler = Arc::new(move |req: Recorded| {
            let st = Arc::clone(&st);
            let ck = ck.clone();
            Box::pin(async move {
                // Signatures are checked against the real time: the client signs with it.
                let real_now = ms_transport::SystemClock::new().unix_seconds();
                let (mode, n) = {
                    let mut s = st.lock().expect("state");
                    s.calls.push(req.clone());
                    (
                        s.mode.clone(),
                        u32::try_from(s.calls.len()).unwrap_or(u32::MAX),
                    )
                };
                if let Some(reply) = apply(&mode).await {
                    return reply;
                }
                let (_action, params) = match check_sts(&req, real_now) {
                    Ok(p) => p,
                    Err(reply) => return reply,
                };
                let duration = params
                    .get("DurationSeconds")
                    .and_then(Value::as_u64)
                    .unwrap_or(7200);
                let body = json!({"Response": {
                    "Credentials": {
                        "Token": sts_token(n),
                        "TmpSecretId": format!("AKIDsts{n}"),
                        "TmpSecretKey": sts_key(n),
                    },
                    "ExpiredTime": ck.unix_seconds() + duration,
                    "Expiration": "2030-01-01T00:00:00Z",
                    "RequestId": format!("req-sts-{n}"),
                }});
                (200, body.to_string())
            })
        });
        Self {
            server: serve(handler).await,
            state,
            clock,
        }
    }

    /// The endpoint to give the providers (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().expect("state").mode = mode;
    }

    /// Every request received.
    pub fn calls(&self) -> Vec<Recorded> {
        self.state.lock().expect("state").calls.clone()
    }

    /// The JSON parameters of call `i`.
    pub fn params(&self, i: usize) -> HashMap<String, Value> {
        let calls = self.calls();
        let v: Value = serde_json::from_slice(&calls[i].body).expect("json body");
        v.as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
