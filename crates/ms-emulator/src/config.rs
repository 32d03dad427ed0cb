//! Emulator configuration: accounts, timing, limits, rate limits, faults.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

/// SecretId of the demo account created when no account is configured.
pub const DEMO_SECRET_ID: &str = "AKIDmsEmulatorDemoAccount000000000";
/// SecretKey of the demo account (a published, local-only credential).
pub const DEMO_SECRET_KEY: &str = "msEmulatorDemoSecretKey000000000";

/// Checks one account's credentials; the message names what is wrong but never contains the
/// key.
///
/// A SecretId must be visible ASCII without `/`, `,`, `;` or `=` (it is embedded in the TC3
/// `Authorization` header, where those characters separate fields); a SecretKey must not be
/// empty, have leading or trailing whitespace or contain control characters (the official SDK
/// refuses such credentials, so no client could sign with them).
pub(crate) fn check_account(secret_id: &str, secret_key: &str) -> Result<(), String> {
    if secret_id.is_empty() {
        return Err("the SecretId is empty".to_owned());
    }
    if let Some(c) = secret_id
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '/' | ',' | ';' | '='))
    {
        return Err(format!(
            "the SecretId {secret_id:?} contains {c:?}: expected visible ASCII without '/', ',', ';' or '='"
        ));
    }
    if secret_key.is_empty() {
        return Err("the SecretKey is empty".to_owned());
    }
    if secret_key.trim() != secret_key {
        return Err("the SecretKey has leading or trailing whitespace".to_owned());
    }
    if secret_key.chars().any(char::is_control) {
        return Err("the SecretKey contains a control character".to_owned());
    }
    Ok(())
}

/// Everything the emulator can be told at start.
///
/// Start from [`EmulatorConfig::demo`] (or `Default`) and adjust with the `with_*` setters
/// or by assigning the public fields.
#[derive(Clone)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// Accepted credentials: (SecretId, SecretKey). Each SecretId is its own account
    /// (own tasks, quota and rate limits).
    pub accounts: Vec<(String, String)>,
    /// Simulated duration of one app's scan, from submission to completion.
    pub scan_duration: Duration,
    /// Request rate limits.
    pub rate_limits: RateLimits,
    /// Serve HTTPS with a self-signed certificate made at start.
    pub tls: bool,
    /// Keep the state in this SQLite file (every change committed before it is acknowledged)
    /// and restore it at start.
    pub state_file: Option<PathBuf>,
    /// How far a commit to the state file is synced before it is acknowledged.
    pub state_sync: StateSync,
    /// Fault injection (can also be changed at run time with `Emulator::set_faults`).
    pub faults: FaultConfig,
    /// Resource limits.
    pub limits: Limits,
    /// Scan quota (`LimitCount`) each account starts with.
    pub initial_quota: u64,
    /// Callback delivery settings.
    pub callbacks: CallbackConfig,
    /// Allowed distance between the request timestamp and the server clock (300 s).
    pub signature_window: Duration,
    /// The clock (system clock by default; tests inject a `ManualClock`).
    pub clock: Arc<dyn Clock>,
    /// Serve the published demo account ([`DEMO_SECRET_ID`]) on a non-loopback address.
    /// Off by default: anyone who can reach the address knows that key, so `start` refuses.
    pub allow_public_demo: bool,
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.accounts.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("EmulatorConfig")
            .field("accounts", &ids)
            .field("scan_duration", &self.scan_duration)
            .field("rate_limits", &self.rate_limits)
            .field("tls", &self.tls)
            .field("state_file", &self.state_file)
            .field("state_sync", &self.state_sync)
            .field("faults", &self.faults)
            .field("limits", &self.limits)
            .field("initial_quota", &self.initial_quota)
            .field("callbacks", &self.callbacks)
            .field("signature_window", &self.signature_window)
            .field("clock", &self.clock)
            .field("allow_public_demo", &self.allow_public_demo)
            .finish()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self::demo()
    }
}

impl EmulatorConfig {
    /// The demo configuration: one demo account ([`DEMO_SECRET_ID`] / [`DEMO_SECRET_KEY`]),
    /// 3 s scans, 20 requests/s per (action, region, SecretId), plain HTTP, in-memory state,
    /// no faults, 1000 scans of quota, the system clock.
    pub fn demo() -> Self {
        Self {
            accounts: vec![(DEMO_SECRET_ID.to_owned(), DEMO_SECRET_KEY.to_owned())],
            scan_duration: Duration::from_secs(3),
            rate_limits: RateLimits::default(),
            tls: false,
            state_file: None,
            state_sync: StateSync::Full,
            faults: FaultConfig::default(),
            limits: Limits::default(),
            initial_quota: 1000,
            callbacks: CallbackConfig::default(),
            signature_window: Duration::from_secs(300),
            clock: Arc::new(SystemClock),
            allow_public_demo: false,
        }
    }

    /// Replaces the accounts with this single one.
    pub fn with_account(
        mut self,
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        self.accounts = vec![(secret_id.into(), secret_key.into())];
        self
    }

    /// Adds an account to the existing ones.
    pub fn add_account(
        mut self,
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        self.accounts.push((secret_id.into(), secret_key.into()));
        self
    }

    /// Sets the simulated scan duration.
    pub fn with_scan_duration(mut self, d: Duration) -> Self {
        self.scan_duration = d;
        self
    }

    /// Sets the default rate limit (requests per second; 0 disables limiting).
    pub fn with_rate_limit(mut self, per_second: u32) -> Self {
        self.rate_limits.default_per_second = per_second;
        self
    }

    /// Sets the rate limit of one action (requests per second; 0 disables limiting).
    pub fn with_action_rate_limit(mut self, action: impl Into<String>, per_second: u32) -> Self {
        self.rate_limits
            .per_action
            .insert(action.into(), per_second);
        self
    }

    /// Serves HTTPS with a self-signed certificate (plain HTTP by default).
    pub fn with_tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Keeps the state in this file.
    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Sets how far commits to the state file are synced.
    pub fn with_state_sync(mut self, sync: StateSync) -> Self {
        self.state_sync = sync;
        self
    }

    /// Sets the fault injection.
    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Sets the resource limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the scan quota of each new account.
    pub fn with_initial_quota(mut self, quota: u64) -> Self {
        self.initial_quota = quota;
        self
    }

    /// Sets the callback delivery settings.
    pub fn with_callbacks(mut self, callbacks: CallbackConfig) -> Self {
        self.callbacks = callbacks;
        self
    }

    /// Injects a clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// How far a commit to the state file is synced before the change is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StateSync {
    /// `synchronous = FULL`: every commit syncs the WAL. An acknowledged change survives a
    /// crash of the process and of the machine (power loss). The default.
    #[default]
    Full,
    /// `synchronous = NORMAL`: the WAL is written before the commit returns and synced at
    /// checkpoints. An acknowledged change survives a crash or `kill -9` of the process, but a
    /// power loss may take the last ones; commits cost no sync.
    Normal,
}

impl FromStr for StateSync {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(StateSync::Full),
            "normal" => Ok(StateSync::Normal),
            other => Err(format!("expected full or normal, got {other:?}")),
        }
    }
}

/// Request rate limits, per (action, region, SecretId).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Requests per second for actions without an override (20, as documented; 0 = unlimited).
    pub default_per_second: u32,
    /// Per-action overrides (requests per second; 0 = unlimited).
    pub per_action: BTreeMap<String, u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            default_per_second: 20,
            per_action: BTreeMap::new(),
        }
    }
}

impl RateLimits {
    /// The limit that applies to `action`.
    pub fn for_action(&self, action: &str) -> u32 {
        self.per_action
            .get(action)
            .copied()
            .unwrap_or(self.default_per_second)
    }
}

/// Resource limits that keep a misbehaving client from exhausting the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum simultaneous connections; further connections are closed at once.
    pub max_connections: usize,
    /// Maximum POST body size (TC3 JSON), in bytes (10 MB, as documented).
    pub max_body_bytes: usize,
    /// Maximum POST body size with a legacy v1 (HmacSHA1/HmacSHA256) signature (1 MB).
    pub max_v1_body_bytes: usize,
    /// Maximum GET request (query string) size, in bytes (32 KB, as documented).
    pub max_get_bytes: usize,
    /// Maximum number of form parameters (GET query or legacy v1 form body), common ones
    /// included; more is `RequestSizeLimitExceeded` before anything is decoded (10,000; a valid
    /// ms request has a few hundred at most).
    pub max_parameters: usize,
    /// Time allowed to receive a request's headers (and the TLS handshake).
    pub header_read_timeout: Duration,
    /// Time allowed to receive a request body.
    pub body_read_timeout: Duration,
    /// Maximum number of request headers.
    pub max_headers: usize,
    /// A connection (HTTP/1.1 or HTTP/2) with no request for this long is closed.
    pub idle_timeout: Duration,
    /// Request-body bytes held at once across all connections and streams (64 MiB): a body
    /// is read only once this budget has room for its `Content-Length` (or, without one, for
    /// the most it may be). At least the largest body allowed.
    pub max_inflight_body_bytes: usize,
    /// Concurrent HTTP/2 streams per connection (16).
    pub max_streams_per_connection: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_body_bytes: 10 * 1024 * 1024,
            max_v1_body_bytes: 1024 * 1024,
            max_get_bytes: 32 * 1024,
            max_parameters: 10_000,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_headers: 100,
            idle_timeout: Duration::from_secs(60),
            max_inflight_body_bytes: 64 * 1024 * 1024,
            max_streams_per_connection: 16,
        }
    }
}

impl Limits {
    /// Sets the maximum simultaneous connections.
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Sets the maximum number of form parameters (GET query or legacy v1 form body).
    pub fn with_max_parameters(mut self, n: usize) -> Self {
        self.max_parameters = n;
        self
    }

    /// Sets the maximum POST body size.
    pub fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Sets the maximum GET query size.
    pub fn with_max_get_bytes(mut self, n: usize) -> Self {
        self.max_get_bytes = n;
        self
    }

    /// Sets the idle connection timeout.
    pub fn with_idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Sets the budget of request-body bytes held at once.
    pub fn with_max_inflight_body_bytes(mut self, n: usize) -> Self {
        self.max_inflight_body_bytes = n;
        self
    }

    /// Sets the concurrent HTTP/2 streams per connection.
    pub fn with_max_streams_per_connection(mut self, n: u32) -> Self {
        self.max_streams_per_connection = n;
        self
    }

    /// Sets the time allowed to receive a request body.
    pub fn with_body_read_timeout(mut self, d: Duration) -> Self {
        self.body_read_timeout = d;
        self
    }

    /// Sets the header (and TLS handshake) read timeout.
    pub fn with_header_read_timeout(mut self, d: Duration) -> Self {
        self.header_read_timeout = d;
        self
    }
}

/// One entry of the callback allow-list: a loopback port, on one loopback address or on any.
///
/// Parsed from `PORT`, `127.0.0.1:PORT`, `[::1]:PORT` or `localhost:PORT` (= `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackTarget {
    /// The loopback address, or `None` for any loopback address.
    pub ip: Option<IpAddr>,
    /// The port.
    pub port: u16,
}

impl CallbackTarget {
    /// Whether a delivery to `addr` is allowed by this entry.
    pub fn allows(&self, addr: SocketAddr) -> bool {
        addr.port() == self.port && self.ip.is_none_or(|ip| ip == addr.ip())
    }
}

impl fmt::Display for CallbackTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            None => write!(f, "{}", self.port),
            Some(ip) => write!(f, "{}", SocketAddr::new(ip, self.port)),
        }
    }
}

impl FromStr for CallbackTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(port) = s.parse::<u16>() {
            return Ok(CallbackTarget { ip: None, port });
        }
        let addr = match s.strip_prefix("localhost:") {
            Some(port) => port
                .parse::<u16>()
                .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
                .map_err(|_| format!("{s:?}: expected a port after localhost:")),
            None => s.parse::<SocketAddr>().map_err(|_| {
                format!("{s:?}: expected PORT, 127.0.0.1:PORT, [::1]:PORT or localhost:PORT")
            }),
        }?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{s:?}: not a loopback address; the emulator delivers callbacks to loopback receivers only"
            ));
        }
        Ok(CallbackTarget {
            ip: Some(addr.ip()),
            port: addr.port(),
        })
    }
}

/// Callback delivery settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackConfig {
    /// Where callbacks may be delivered (always loopback `http` receivers).
    ///
    /// `None` (the default): any loopback port other than the emulator's own when it listens
    /// on a loopback address, and nowhere when it listens on another address (a public
    /// emulator must not be a way to POST to every local service). `Some(list)`: only the
    /// listed ports (an empty list delivers nothing). Refused deliveries are recorded as
    /// `Refused` with the reason.
    pub allow: Option<Vec<CallbackTarget>>,
    /// Attempts per callback before it is marked failed (at least 1).
    pub max_attempts: u32,
    /// Delay before the first retry; doubled for each further retry.
    pub initial_backoff: Duration,
    /// Upper bound of the retry delay.
    pub max_backoff: Duration,
    /// Timeout of one delivery attempt (connect + reply).
    pub attempt_timeout: Duration,
}

impl Default for CallbackConfig {
    fn default() -> Self {
        Self {
            allow: None,
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

impl CallbackConfig {
    /// Settings with `max_attempts` and `initial_backoff` (other values default).
    pub fn new(max_attempts: u32, initial_backoff: Duration) -> Self {
        Self {
            max_attempts,
            initial_backoff,
            ..Self::default()
        }
    }

    /// Delivers callbacks only to these loopback ports.
    pub fn with_allow(mut self, targets: Vec<CallbackTarget>) -> Self {
        self.allow = Some(targets);
        self
    }
}

/// Fault injection. Shares are probabilities in `0.0..=1.0`; the choice for each request is
/// made from a seeded generator, so a given seed and request order give the same faults.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct FaultConfig {
    /// Added latency before every reply.
    pub latency: Duration,
    /// Share of requests answered with an HTTP 5xx (`503`/`502`) and a non-JSON body.
    pub error_5xx: f64,
    /// Share of requests whose connection is dropped without a reply: half of them before
    /// the request is processed, half after (the client cannot tell which).
    pub drop_connection: f64,
    /// Share of replies whose body is cut short mid-stream (the connection is aborted).
    pub truncate_body: f64,
    /// Share of replies with a complete but malformed JSON body.
    pub malformed_body: f64,
    /// Share of (otherwise valid) requests answered with `RequestLimitExceeded`
    /// (a throttling storm).
    pub throttle: f64,
    /// A throttling storm: the next N requests that pass authentication after these faults
    /// are set (at start or with `Emulator::set_faults`) are answered `RequestLimitExceeded`,
    /// then service resumes.
    pub throttle_burst: u32,
    /// Offset added to the server clock, in seconds (may be negative): the `Date` header,
    /// the signature window and scan progress all see the shifted clock.
    pub clock_offset_secs: i64,
    /// Seed of the fault generator.
    pub seed: u64,
}

impl FaultConfig {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Sets the added latency.
    pub fn with_latency(mut self, d: Duration) -> Self {
        self.latency = d;
        self
    }

    /// Sets the share of 5xx replies.
    pub fn with_5xx(mut self, share: f64) -> Self {
        self.error_5xx = share;
        self
    }

    /// Sets the share of dropped connections.
    pub fn with_drop(mut self, share: f64) -> Self {
        self.drop_connection = share;
        self
    }

    /// Sets the share of truncated bodies.
    pub fn with_truncate(mut self, share: f64) -> Self {
        self.truncate_body = share;
        self
    }

    /// Sets the share of malformed bodies.
    pub fn with_malformed(mut self, share: f64) -> Self {
        self.malformed_body = share;
        self
    }

    /// Sets the share of throttled requests.
    pub fn with_throttle(mut self, share: f64) -> Self {
        self.throttle = share;
        self
    }

    /// Sets the seed of the fault generator.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Throttles the next `n` authenticated requests.
    pub fn with_throttle_burst(mut self, n: u32) -> Self {
        self.throttle_burst = n;
        self
    }

    /// Sets the clock offset in seconds.
    pub fn with_clock_offset(mut self, secs: i64) -> Self {
        self.clock_offset_secs = secs;
        self
    }

    /// Checks that the shares are within `0.0..=1.0`.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("error_5xx", self.error_5xx),
            ("drop_connection", self.drop_connection),
            ("truncate_body", self.truncate_body),
            ("malformed_body", self.malformed_body),
            ("throttle", self.throttle),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!(
                    "faults.{name}: expected a share between 0 and 1, got {v}"
                ));
            }
        }
        Ok(())
    }
}
