//! The running emulator: listener, TLS, connection limits, request handling, background
//! tasks (scan ticker, callback worker, persister) and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::callbacks::CallbackPolicy;
use crate::config::{EmulatorConfig, FaultConfig};
use crate::core::Core;
use crate::state::{CallbackDelivery, State};
use crate::store::Store;
use crate::{Error, callbacks, tls};

/// HTTP/2 flow-control window (per stream and per connection): what one connection can
/// have in flight to the server before the emulator reads it.
const H2_WINDOW: u32 = 256 * 1024;

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
    shutdown_tx: watch::Sender<bool>,
    accept_task: Option<JoinHandle<()>>,
    ticker_task: Option<JoinHandle<()>>,
    callback_task: Option<JoinHandle<()>>,
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
        let (store, state) = match config.state_file.clone() {
            Some(path) => {
                let sync = config.state_sync;
                let opened = tokio::task::spawn_blocking({
                    let path = path.clone();
                    move || Store::open(&path, sync)
                })
                .await
                .map_err(|e| Error::Config(format!("the state loader failed: {e}")))?;
                let (store, state) = opened.map_err(|e| Error::State {
                    path,
                    message: e.message,
                })?;
                (Some(store), state)
            }
            None => (None, State::default()),
        };
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
        let core = Arc::new(Core::new(config, state, store, policy, cb_tx));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);

        let callback_task = tokio::spawn(callbacks::run(core.clone(), cb_rx, shutdown_rx.clone()));
        core.resume_deliveries();
        let ticker_task = tokio::spawn(ticker(core.clone(), shutdown_rx.clone()));
        let accept_task = tokio::spawn(accept_loop(listener, acceptor, core.clone(), shutdown_rx));
        tracing::info!(%base_url, "ms-emulator listening");
        Ok(Emulator {
            base_url,
            local_addr,
            ca_pem,
            accounts,
            core,
            shutdown_tx,
            accept_task: Some(accept_task),
            ticker_task: Some(ticker_task),
            callback_task: Some(callback_task),
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
        self.core.lock_state().deliveries().to_vec()
    }

    /// Remaining scan quota (`LimitCount`) of an account, if it has used the scan actions.
    pub fn quota(&self, secret_id: &str) -> Option<u64> {
        self.core
            .lock_state()
            .accounts()
            .get(secret_id)
            .map(|a| a.remaining)
    }

    /// Resolves when the state file can no longer be written (the emulator then answers
    /// every request with `InternalError` and should be stopped: [`Emulator::close`]
    /// reports the error). Never resolves without a state file or while writes succeed.
    pub async fn failure(&self) -> Error {
        match &self.core.store {
            Some(store) => Error::State {
                path: store.path().to_owned(),
                message: format!("cannot write: {}", store.failure().await),
            },
            None => std::future::pending().await,
        }
    }

    /// Stops accepting, lets open connections finish (up to 5 s), stops the background
    /// tasks (waiting for callback attempts under way), commits what is left and closes the
    /// state file. Errors are logged; [`Emulator::close`] returns them.
    pub async fn shutdown(self) {
        if let Err(e) = self.close().await {
            tracing::error!(error = %e, "ms-emulator stopped with an error");
        }
    }

    /// Like [`Emulator::shutdown`], and says whether everything the emulator changed is
    /// stored.
    ///
    /// # Errors
    /// The state file could not be written (now or earlier).
    pub async fn close(mut self) -> Result<(), Error> {
        self.stop_signal();
        for task in [
            self.accept_task.take(),
            self.ticker_task.take(),
            self.callback_task.take(),
        ]
        .into_iter()
        .flatten()
        {
            let _ = task.await;
        }
        let result = match &self.core.store {
            Some(store) => {
                let core = self.core.clone();
                let closed = tokio::task::spawn_blocking(move || {
                    core.store.as_ref().map_or(Ok(()), |s| s.close())
                })
                .await
                .unwrap_or_else(|e| {
                    Err(crate::store::StoreError {
                        message: format!("the state writer failed: {e}"),
                    })
                });
                closed.map_err(|e| Error::State {
                    path: store.path().to_owned(),
                    message: format!("cannot write: {e}"),
                })
            }
            None => Ok(()),
        };
        tracing::info!(base_url = %self.base_url, "ms-emulator stopped");
        result
    }

    fn stop_signal(&self) {
        let _ = self.shutdown_tx.send(true);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_signal();
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
    if let Some(action) = config
        .rate_limits
        .per_action
        .keys()
        .find(|a| ms_model::action_info(a).is_none())
    {
        return Err(Error::Config(format!(
            "rate_limits.per_action: {action:?} is not an ms action"
        )));
    }
    let l = &config.limits;
    if l.max_connections == 0
        || l.max_body_bytes == 0
        || l.max_get_bytes == 0
        || l.max_headers == 0
        || l.max_streams_per_connection == 0
    {
        return Err(Error::Config("limits must be positive".into()));
    }
    let largest = l
        .max_body_bytes
        .max(l.max_v1_body_bytes)
        .max(l.max_get_bytes);
    if l.max_inflight_body_bytes < largest {
        return Err(Error::Config(format!(
            "limits.max_inflight_body_bytes ({}) must be at least the largest body allowed ({largest})",
            l.max_inflight_body_bytes
        )));
    }
    if u32::try_from(largest).is_err() {
        return Err(Error::Config(format!(
            "limits.max_body_bytes ({largest}) must be below 4 GiB"
        )));
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
        // Nobody waits for this commit: a failed write stops the emulator.
        let ((), _commit) = core.transact(core.now_ms(), |_| ());
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
    // HTTP/2: few streams per connection, and small flow-control windows, so that what a
    // connection can make the server buffer before its bodies are read stays small (bodies
    // themselves are bounded by the global budget once they are read).
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(core.config.limits.max_streams_per_connection)
        .initial_stream_window_size(H2_WINDOW)
        .initial_connection_window_size(H2_WINDOW)
        .max_pending_accept_reset_streams(Some(32))
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
            let out = crate::request::handle(core, req).await;
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
