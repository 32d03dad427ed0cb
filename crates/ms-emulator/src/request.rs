//! One request, from its head to the reply: every decision is made in the order the gateway
//! makes it, and the body is read only once the headers allow it.
//!
//! 1. [`Head::check`]: method, GET size, protocol headers, and what
//!    [`protocol::precheck`] can decide from the headers (TC3: action, version, content type,
//!    timestamp window, well-formed `Authorization`, known SecretId), giving the body size
//!    allowed.
//! 2. [`body::read`]: the body, within that size and the global budget of bytes in flight.
//! 3. [`protocol::authenticate`]: the signature and the parameters.
//! 4. [`admit`]: region, then rate limit.
//! 5. [`actions::dispatch`], then the reply (with the injected reply faults).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use ms_model::ErrorCode;

use crate::actions;
use crate::api::{ApiError, Output, error_body, success_body};
use crate::body::{self, BodyError};
use crate::clock::http_date;
use crate::config::FaultConfig;
use crate::core::Core;
use crate::protocol::{self, BodyAllowance, Call, Received};
use crate::ratelimit::Key;

/// The reply body: complete, or cut short (fault injection).
#[derive(Debug)]
pub(crate) enum ReplyBody {
    Full(Option<Bytes>),
    Truncated(Option<Bytes>, bool),
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            ReplyBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ReplyBody::Truncated(b, failed) => {
                if let Some(b) = b.take() {
                    Poll::Ready(Some(Ok(Frame::data(b))))
                } else if !*failed {
                    *failed = true;
                    Poll::Ready(Some(Err(std::io::Error::other(
                        "body truncated (injected fault)",
                    ))))
                } else {
                    Poll::Ready(None)
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ReplyBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReplyBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ReplyBody::Full(None) => SizeHint::with_exact(0),
            ReplyBody::Truncated(..) => SizeHint::default(),
        }
    }
}

/// Returned by the service to make hyper drop the connection without replying.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped (injected fault)")
    }
}

impl std::error::Error for DropConnection {}

fn date_value(now_ms: u64) -> HeaderValue {
    HeaderValue::from_str(&http_date(now_ms / 1000))
        .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

/// Serves one request (the hyper service function).
pub(crate) async fn handle(
    core: Arc<Core>,
    req: Request<Incoming>,
) -> Result<Response<ReplyBody>, DropConnection> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let faults = core.faults();
    let plan = core.plan_faults(&faults);
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if plan.drop && !plan.drop_after {
        tracing::debug!(%request_id, "fault: dropping the connection");
        return Err(DropConnection);
    }
    if plan.error_5xx {
        return Ok(injected_5xx(&core, &faults));
    }
    let now = core.now_ms();
    let (action, outcome) = process(&core, req, now, plan.throttle).await;
    let code = match &outcome {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.code.to_string(),
    };
    tracing::info!(%request_id, action = action.as_deref().unwrap_or("-"), %code, "request");
    if plan.drop_after {
        tracing::debug!(%request_id, "fault: dropping the connection after processing");
        return Err(DropConnection);
    }
    let mut bytes = match outcome {
        Ok(inner) => success_body(inner, &request_id),
        Err(e) => error_body(&e, &request_id),
    };
    if plan.malformed {
        bytes.truncate(bytes.len() / 2);
        bytes.extend_from_slice(b"<injected malformed body>");
    }
    Ok(json_reply(bytes, now, plan.truncate))
}

/// An HTTP 502 or 503 with an HTML body (fault injection).
fn injected_5xx(core: &Core, faults: &FaultConfig) -> Response<ReplyBody> {
    let half = FaultConfig {
        error_5xx: 0.5,
        ..faults.clone()
    };
    let status = if core.plan_faults(&half).error_5xx {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = format!("<html><body><h1>{status}</h1>injected fault</body></html>");
    let mut resp = Response::new(ReplyBody::Full(Some(Bytes::from(body))));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    resp.headers_mut()
        .insert(header::DATE, date_value(core.now_ms()));
    resp
}

/// The HTTP 200 JSON reply (optionally cut short: fault injection).
fn json_reply(bytes: Vec<u8>, now_ms: u64, truncate: bool) -> Response<ReplyBody> {
    let len = bytes.len();
    let body = if truncate {
        let half = Bytes::from(bytes).slice(..len / 2);
        ReplyBody::Truncated(Some(half), false)
    } else {
        ReplyBody::Full(Some(Bytes::from(bytes)))
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::DATE, date_value(now_ms));
    if truncate {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    resp
}

/// The outcome of one request: the action (once known) and the answer.
type Outcome = (Option<String>, Result<Output, ApiError>);

async fn process(core: &Core, req: Request<Incoming>, now: u64, throttle: bool) -> Outcome {
    if core.store_failed() {
        return (None, Err(not_stored()));
    }
    let (parts, incoming) = req.into_parts();
    let head = match Head::new(&parts) {
        Ok(h) => h,
        Err(e) => return (None, Err(e)),
    };
    let allowance = match head.check(core, now) {
        Ok(a) => a,
        Err(e) => return (None, Err(e)),
    };
    let body = match read_body(core, &head, incoming, allowance).await {
        Ok(b) => b,
        Err(e) => return (None, Err(e)),
    };
    let call = match protocol::authenticate(core, &head.received(&body.bytes), now) {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };
    let action = Some(call.action.clone());
    if let Err(e) = admit(core, &call, throttle) {
        return (action, Err(e));
    }
    let (result, commit) = actions::dispatch(core, &call.action, &call.params, &call.secret_id);
    // The body's share of the budget is released once the parameters are used.
    drop(body);
    // Acknowledged = durable: nothing is answered before what it changed is stored.
    if let Err(e) = commit.wait().await {
        tracing::error!(error = %e, action = %call.action, "a change could not be stored");
        return (action, Err(not_stored()));
    }
    (action, result)
}

/// The answer to every request once the state file cannot be written.
fn not_stored() -> ApiError {
    ApiError::new(
        ErrorCode::InternalError,
        "The emulator could not store its state; nothing of this request was kept and the emulator is stopping.",
    )
}

/// What the emulator reads of a request head.
struct Head<'a> {
    parts: &'a Parts,
    host: &'a str,
    /// Headers whose value is visible ASCII (plus the HTTP/2 authority as `host`).
    headers: Vec<(&'a str, &'a str)>,
    /// The declared `Content-Length`.
    declared: Option<u64>,
}

impl<'a> Head<'a> {
    /// The head, if the method is one the gateway serves.
    fn new(parts: &'a Parts) -> Result<Self, ApiError> {
        let method = parts.method.as_str();
        if method != "GET" && method != "POST" {
            return Err(ApiError::new(
                ErrorCode::UnsupportedProtocol,
                format!("The HTTP method {method} is not supported: use GET or POST."),
            ));
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or("");
        let mut headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
            .collect();
        if !parts.headers.contains_key(header::HOST) && !host.is_empty() {
            // HTTP/2 carries the host in `:authority`; it is what the client signed as `host`.
            headers.push(("host", host));
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        Ok(Head {
            parts,
            host,
            headers,
            declared,
        })
    }

    fn query(&self) -> &'a str {
        self.parts.uri.query().unwrap_or("")
    }

    /// The request as authentication sees it, with `body`.
    fn received<'b>(&'b self, body: &'b [u8]) -> Received<'b> {
        Received {
            method: self.parts.method.as_str(),
            path: self.parts.uri.path(),
            query: self.query(),
            headers: &self.headers,
            host: self.host,
            body,
        }
    }

    /// Every check the head alone allows; `Ok` says how much body may be read.
    fn check(&self, core: &Core, now_ms: u64) -> Result<BodyAllowance, ApiError> {
        let limits = &core.config.limits;
        let query = self.query();
        if self.parts.method == http::Method::GET && query.len() > limits.max_get_bytes {
            return Err(ApiError::new(
                ErrorCode::RequestSizeLimitExceeded,
                format!(
                    "The GET request is {} bytes; GET requests are limited to {} bytes (use POST).",
                    query.len(),
                    limits.max_get_bytes
                ),
            ));
        }
        // A header the protocol reads whose value is not visible ASCII is answered as
        // invalid (naming it), not as missing.
        if let Some(name) = protocol::PROTOCOL_HEADERS.iter().find(|n| {
            self.parts
                .headers
                .get_all(**n)
                .iter()
                .any(|v| v.to_str().is_err())
        }) {
            return Err(protocol::invalid_header(name));
        }
        let allowance = protocol::precheck(core, &self.received(b""), now_ms)?;
        match (allowance, self.declared) {
            (BodyAllowance::Tc3(max), Some(n)) if n > max as u64 => Err(too_big(max)),
            (BodyAllowance::V1(max), Some(n)) if n > max as u64 => Err(v1_too_big()),
            _ => Ok(allowance),
        }
    }
}

fn too_big(max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::RequestSizeLimitExceeded,
        format!("The request body exceeds the limit of {max} bytes."),
    )
}

/// What the gateway answers for a legacy-signed POST over 1 MB.
fn v1_too_big() -> ApiError {
    ApiError::new(
        ErrorCode::AuthFailureSignatureFailure,
        "The request is exceeding request size limit, please use new signature method `TC3-HMAC-SHA256`.",
    )
}

/// Reads the body the head allows, within the global budget.
async fn read_body(
    core: &Core,
    head: &Head<'_>,
    incoming: Incoming,
    allowance: BodyAllowance,
) -> Result<body::HeldBody, ApiError> {
    let max = match allowance {
        BodyAllowance::Tc3(max) | BodyAllowance::V1(max) => max,
    };
    let deadline = tokio::time::Instant::now() + core.config.limits.body_read_timeout;
    body::read(incoming, head.declared, max, &core.body_budget, deadline)
        .await
        .map_err(|e| match (e, allowance) {
            (BodyError::TooLarge, BodyAllowance::V1(_)) => v1_too_big(),
            (BodyError::TooLarge, BodyAllowance::Tc3(max)) => too_big(max),
            (BodyError::Busy, _) => ApiError::new(
                ErrorCode::ServiceUnavailable,
                "The server is receiving too many request bodies at once; try again shortly.",
            ),
            (BodyError::TimedOut, _) => ApiError::new(
                ErrorCode::InvalidRequest,
                "Timed out reading the request body.",
            ),
            (BodyError::Unreadable, _) => ApiError::new(
                ErrorCode::InvalidRequest,
                "The request body could not be read.",
            ),
        })
}

/// Region, then rate limit (the region first: an invented one would otherwise open a fresh
/// bucket), then the injected throttling.
fn admit(core: &Core, call: &Call, throttle: bool) -> Result<(), ApiError> {
    crate::regions::check(&call.action, &call.region)?;
    let rate = core.config.rate_limits.for_action(&call.action);
    let key = Key {
        action: call.action.clone(),
        region: call.region.clone(),
        secret_id: call.secret_id.clone(),
    };
    if core
        .limiter
        .check(&key, rate, core.config.clock.monotonic())
        .is_err()
        || throttle
        || core.take_throttle_burst()
    {
        return Err(ApiError::new(
            ErrorCode::RequestLimitExceeded,
            format!(
                "Your current request times exceed the frequency limit of {rate} requests per second for action {}; please reduce the frequency of calls.",
                call.action
            ),
        ));
    }
    Ok(())
}
