//! The running emulator: listener, TLS, connection limits, request handling, background
//! tasks (scan ticker, callback worker, persister) and graceful shutdown.

use ms_model::ErrorCode;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::{ApiError, Output, error_body, success_body};
use crate::callbacks::CallbackPolicy;
use crate::clock::http_date;
use crate::config::{EmulatorConfig, FaultConfig};
use crate::core::Core;
use crate::protocol::{self, Received};
use crate::ratelimit::Key;
use crate::state::{self, CallbackDelivery, State};
use crate::{Error, actions, callbacks, tls};

/// How long shutdown waits for open connections to finish.
const GRACE: Duration = Duration::from_secs(5);

/// A running emulator. Dropping it stops the server (without waiting);
/// [`Emulator::shutdown`] stops it gracefully and writes the state file.
pub struct Emulator {
    base_url: String,
    local_addr: SocketAddr,
    ca_pem: Option<String>,
    accounts: Vec<(String, String)>,
    core: Arc<Core>,
    stopping: Arc<AtomicBool>,
    shutdown_tx: watch::Sender<bool>,
    accept_task: Option<JoinHandle<()>>,
    ticker_task: Option<JoinHandle<()>>,
    callback_task: Option<JoinHandle<()>>,
    persist_task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.accounts.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url)
            .field("tls", &self.ca_pem.is_some())
            .field("accounts", &ids)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator listening on `listen` (use port 0 for any free port). Must be
    /// called within a Tokio runtime (multi-threaded or current-thread).
    ///
    /// Restores the state file if configured, makes the TLS certificate if `tls` is set,
    /// and starts serving before returning.
    ///
    /// # Errors
    /// An invalid configuration, an unreadable state file, a TLS setup failure or a bind
    /// failure.
    pub async fn start(config: EmulatorConfig, listen: SocketAddr) -> Result<Emulator, Error> {
        validate(&config, listen)?;
        let state = match &config.state_file {
            Some(path) => state::load(path)
                .map_err(|message| Error::State {
                    path: path.clone(),
                    message,
                })?
                .unwrap_or_default(),
            None => State::default(),
        };
        if let Some(path) = &config.state_file {
            // Fail now, not at the first change, if the file cannot be written.
            let bytes = serde_json::to_vec(&state).unwrap_or_default();
            state::write_atomic(path, &bytes).map_err(|e| Error::State {
                path: path.clone(),
                message: format!("cannot write: {e}"),
            })?;
        }
        let tls = if config.tls {
            Some(tls::generate(Some(listen.ip()))?)
        } else {
            None
        };
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| Error::Bind {
                addr: listen,
                source,
            })?;
        let local_addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{local_addr}");
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.server_config));

        let (cb_tx, cb_rx) = mpsc::unbounded_channel();
        let accounts = config.accounts.clone();
        let policy = CallbackPolicy::resolve(&config.callbacks, local_addr);
        if policy == CallbackPolicy::Only(Vec::new()) {
            tracing::warn!(%local_addr, "callbacks will not be delivered: give --callback-allow PORT to deliver to a loopback receiver");
        }
        let core = Arc::new(Core::new(config, state, policy, cb_tx));
        let stopping = Arc::new(AtomicBool::new(false));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);

        let callback_task = tokio::spawn(callbacks::run(core.clone(), cb_rx, stopping.clone()));
        core.resume_deliveries();
        let ticker_task = tokio::spawn(ticker(core.clone(), shutdown_rx.clone()));
        let persist_task = tokio::spawn(persister(core.clone(), shutdown_rx.clone()));
        let accept_task = tokio::spawn(accept_loop(listener, acceptor, core.clone(), shutdown_rx));
        tracing::info!(%base_url, "ms-emulator listening");
        Ok(Emulator {
            base_url,
            local_addr,
            ca_pem,
            accounts,
            core,
            stopping,
            shutdown_tx,
            accept_task: Some(accept_task),
            ticker_task: Some(ticker_task),
            callback_task: Some(callback_task),
            persist_task: Some(persist_task),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234` or `https://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// With TLS: the PEM certificate clients must trust (the emulator's own CA, which
    /// signed the server certificate for `127.0.0.1`, `::1` and `localhost`).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The accepted accounts (SecretId, SecretKey).
    pub fn accounts(&self) -> &[(String, String)] {
        &self.accounts
    }

    /// Replaces the fault injection at run time.
    pub fn set_faults(&self, f: FaultConfig) {
        self.core.set_faults(f);
    }

    /// The current fault injection.
    pub fn faults(&self) -> FaultConfig {
        self.core.faults()
    }

    /// All callback deliveries, oldest first.
    pub fn deliveries(&self) -> Vec<CallbackDelivery> {
        self.core.lock_state().deliveries.clone()
    }

    /// Remaining scan quota (`LimitCount`) of an account, if it has used the scan actions.
    pub fn quota(&self, secret_id: &str) -> Option<u64> {
        self.core
            .lock_state()
            .accounts
            .get(secret_id)
            .map(|a| a.remaining)
    }

    /// Stops accepting, lets open connections finish (up to 5 s), stops the background
    /// tasks and writes the state file.
    pub async fn shutdown(mut self) {
        self.stop_signal();
        if let Some(t) = self.accept_task.take() {
            let _ = t.await;
        }
        if let Some(t) = self.ticker_task.take() {
            let _ = t.await;
        }
        if let Some(t) = self.callback_task.take() {
            t.abort();
            let _ = t.await;
        }
        if let Some(t) = self.persist_task.take() {
            let _ = t.await;
        }
        tracing::info!(base_url = %self.base_url, "ms-emulator stopped");
    }

    fn stop_signal(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.shutdown_tx.send(true);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_signal();
        if let Some(t) = self.callback_task.take() {
            t.abort();
        }
    }
}

fn validate(config: &EmulatorConfig, listen: SocketAddr) -> Result<(), Error> {
    if config.accounts.is_empty() {
        return Err(Error::Config("at least one account is required".into()));
    }
    let demo = config
        .accounts
        .iter()
        .any(|(id, _)| id == crate::DEMO_SECRET_ID);
    if demo && !listen.ip().is_loopback() && !config.allow_public_demo {
        return Err(Error::Config(format!(
            "refusing to serve the published demo account on {listen}, a non-loopback address: \
             anyone who can reach it knows that key. Give your own credentials with \
             --account ID:KEY (or listen on 127.0.0.1); --allow-public-demo overrides this"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, (id, key)) in config.accounts.iter().enumerate() {
        crate::config::check_account(id, key)
            .map_err(|e| Error::Config(format!("accounts[{i}]: {e}")))?;
        if !seen.insert(id.as_str()) {
            return Err(Error::Config(format!(
                "accounts[{i}]: the SecretId {id:?} is configured more than once"
            )));
        }
    }
    config.faults.validate().map_err(Error::Config)?;
    let l = &config.limits;
    if l.max_connections == 0 || l.max_body_bytes == 0 || l.max_get_bytes == 0 || l.max_headers == 0
    {
        return Err(Error::Config("limits must be positive".into()));
    }
    Ok(())
}

async fn ticker(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    let every = callbacks::tick_interval(core.config.scan_duration);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let now = core.now_ms();
        let pending = {
            let mut st = core.lock_state();
            core.advance_locked(&mut st, now)
        };
        core.after_mutation(pending);
    }
}

/// Shortest time between two state-file writes while running. A write serializes the whole
/// state under the state lock, O(stored scans); spacing them keeps that cost per second, not
/// per request, however many requests change the state. Shutdown always writes.
const PERSIST_INTERVAL: Duration = Duration::from_secs(1);

async fn persister(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    let Some(path) = core.config.state_file.clone() else {
        return;
    };
    let mut last_write: Option<tokio::time::Instant> = None;
    loop {
        let mut stop = tokio::select! {
            _ = shutdown.changed() => true,
            _ = core.persist_notify.notified() => false,
        };
        if let Some(at) = last_write
            && !stop
        {
            tokio::select! {
                _ = shutdown.changed() => stop = true,
                _ = tokio::time::sleep_until(at + PERSIST_INTERVAL) => {}
            }
        }
        if core.take_dirty() || stop {
            last_write = Some(tokio::time::Instant::now());
            // Never replace a good state file with an empty one: on a (theoretical)
            // serialization failure keep the previous file and say so.
            let bytes = match serde_json::to_vec(&*core.lock_state()) {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::error!(error = %e, "cannot serialize the state; keeping the previous file");
                    if stop {
                        return;
                    }
                    continue;
                }
            };
            let p = path.clone();
            match tokio::task::spawn_blocking(move || state::write_atomic(&p, &bytes)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(path = %path.display(), error = %e, "cannot write the state file");
                }
                Err(e) => tracing::error!(error = %e, "state writer failed"),
            }
        }
        if stop {
            return;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    core: Arc<Core>,
    mut shutdown: watch::Receiver<bool>,
) {
    let max = core.config.limits.max_connections;
    let slots = Arc::new(Semaphore::new(max));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(core.config.limits.header_read_timeout)
        .max_headers(core.config.limits.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .max_header_list_size(64 * 1024);
    // hyper's automatic `Date` only fills in replies it makes itself (400, 408, 431 ...);
    // every emulator reply sets its own from the emulator clock.
    let builder = Arc::new(builder);
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.changed() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; closing the new connection");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let core = core.clone();
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let handshake_timeout = core.config.limits.header_read_timeout;
            match acceptor {
                Some(acc) => {
                    match tokio::time::timeout(handshake_timeout, acc.accept(stream)).await {
                        Ok(Ok(tls)) => serve(core, &builder, TokioIo::new(tls), shutdown).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
                None => serve(core, &builder, TokioIo::new(stream), shutdown).await,
            }
            drop(permit);
        });
    }
    drop(listener);
    // Every connection task holds a slot until it ends: wait for all of them.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(GRACE + Duration::from_secs(1), slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period");
    }
}

/// Activity of one connection: requests in flight and the time of the last one.
#[derive(Debug, Default)]
struct Activity {
    in_flight: AtomicU64,
    last_ms: AtomicU64,
}

/// Serves one connection until it ends, the emulator shuts down (graceful, up to
/// [`GRACE`]) or it stays idle longer than `Limits::idle_timeout`.
async fn serve<I>(
    core: Arc<Core>,
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    mut shutdown: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::default());
    let started = tokio::time::Instant::now();
    let elapsed_ms = move || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let svc_activity = activity.clone();
    let svc_core = core.clone();
    let svc = hyper::service::service_fn(move |req| {
        let core = svc_core.clone();
        let activity = svc_activity.clone();
        async move {
            activity.in_flight.fetch_add(1, Ordering::SeqCst);
            let out = handle(core, req).await;
            activity.last_ms.store(elapsed_ms(), Ordering::SeqCst);
            activity.in_flight.fetch_sub(1, Ordering::SeqCst);
            out
        }
    });
    let idle = core.config.limits.idle_timeout;
    let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
    let check_every = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(5));
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(check_every) => {
                let now = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                let last = activity.last_ms.load(Ordering::SeqCst);
                if activity.in_flight.load(Ordering::SeqCst) == 0 && now.saturating_sub(last) >= idle_ms {
                    tracing::debug!("closing an idle connection");
                    break;
                }
            }
        }
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(GRACE, conn.as_mut()).await;
}

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

fn date_value(core: &Core) -> HeaderValue {
    HeaderValue::from_str(&http_date(core.now_ms() / 1000))
        .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

async fn handle(
    core: Arc<Core>,
    req: Request<Incoming>,
) -> Result<Response<ReplyBody>, DropConnection> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let faults = core.faults();
    let plan = core.plan_faults(&faults);
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if plan.drop {
        tracing::debug!(%request_id, "fault: dropping the connection");
        return Err(DropConnection);
    }
    if plan.error_5xx {
        let status = if core
            .plan_faults(&FaultConfig {
                error_5xx: 0.5,
                ..faults.clone()
            })
            .error_5xx
        {
            StatusCode::BAD_GATEWAY
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let body = format!("<html><body><h1>{status}</h1>injected fault</body></html>");
        let mut resp = Response::new(ReplyBody::Full(Some(Bytes::from(body))));
        *resp.status_mut() = status;
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        resp.headers_mut().insert(header::DATE, date_value(&core));
        return Ok(resp);
    }
    let now = core.now_ms();
    let (action, outcome) = process(&core, req, now, plan.throttle).await;
    let code = match &outcome {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.code.to_string(),
    };
    tracing::info!(%request_id, action = action.as_deref().unwrap_or("-"), %code, "request");
    let mut bytes = match outcome {
        Ok(inner) => success_body(inner, &request_id),
        Err(e) => error_body(&e, &request_id),
    };
    if plan.malformed {
        bytes.truncate(bytes.len() / 2);
        bytes.extend_from_slice(b"<injected malformed body>");
    }
    let len = bytes.len();
    let body = if plan.truncate {
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
    h.insert(
        header::DATE,
        HeaderValue::from_str(&http_date(now / 1000)).unwrap_or_else(|_| date_value(&core)),
    );
    if plan.truncate {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    Ok(resp)
}

async fn process(
    core: &Core,
    req: Request<Incoming>,
    now: u64,
    throttle: bool,
) -> (Option<String>, Result<Output, ApiError>) {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str();
    if method != "GET" && method != "POST" {
        return (
            None,
            Err(ApiError::new(
                ErrorCode::UnsupportedProtocol,
                format!("The HTTP method {method} is not supported: use GET or POST."),
            )),
        );
    }
    let limits = &core.config.limits;
    let query = parts.uri.query().unwrap_or("");
    if method == "GET" && query.len() > limits.max_get_bytes {
        return (
            None,
            Err(ApiError::new(
                ErrorCode::RequestSizeLimitExceeded,
                format!(
                    "The GET request is {} bytes; GET requests are limited to {} bytes (use POST).",
                    query.len(),
                    limits.max_get_bytes
                ),
            )),
        );
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_big = || {
        ApiError::new(
            ErrorCode::RequestSizeLimitExceeded,
            format!(
                "The request body exceeds the limit of {} bytes.",
                limits.max_body_bytes
            ),
        )
    };
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return (None, Err(too_big()));
    }
    let body = match tokio::time::timeout(
        limits.body_read_timeout,
        Limited::new(body, limits.max_body_bytes).collect(),
    )
    .await
    {
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return (None, Err(too_big()));
            }
            return (
                None,
                Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    "The request body could not be read.",
                )),
            );
        }
        Err(_) => {
            return (
                None,
                Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    "Timed out reading the request body.",
                )),
            );
        }
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    // A header the protocol reads whose value is not visible ASCII is answered as invalid
    // (naming it), not as missing.
    if let Some(name) = protocol::PROTOCOL_HEADERS.iter().find(|n| {
        parts
            .headers
            .get_all(**n)
            .iter()
            .any(|v| v.to_str().is_err())
    }) {
        return (None, Err(protocol::invalid_header(name)));
    }
    let mut headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
        .collect();
    if !parts.headers.contains_key(header::HOST) && !host.is_empty() {
        // HTTP/2 carries the host in `:authority`; it is what the client signed as `host`.
        headers.push(("host", host));
    }
    let received = Received {
        method,
        path: parts.uri.path(),
        query,
        headers: &headers,
        host,
        body: &body,
    };
    let call = match protocol::authenticate(core, &received, now) {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };
    let action = Some(call.action.clone());
    // Before the limiter: an invented region would otherwise open a fresh bucket.
    if let Err(e) = crate::regions::check(&call.action, &call.region) {
        return (action, Err(e));
    }
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
        return (
            action,
            Err(ApiError::new(
                ErrorCode::RequestLimitExceeded,
                format!(
                    "Your current request times exceed the frequency limit of {rate} requests per second for action {}; please reduce the frequency of calls.",
                    call.action
                ),
            )),
        );
    }
    let result = if actions::SCAN_ACTIONS.contains(&call.action.as_str()) {
        actions::dispatch(core, &call.action, &call.params, &call.secret_id)
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "The action {} is not emulated: ms-emulator implements only the scan workflow ({}).",
                call.action,
                actions::SCAN_ACTIONS.join(", ")
            ),
        ))
    };
    (action, result)
}
