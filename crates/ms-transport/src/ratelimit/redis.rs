//! The shared rate limiter: one GCRA schedule per quota key in Redis, for every process and
//! machine that uses the same account (feature `redis`).
//!
//! A caller reserves an absolute slot on the key's schedule with ONE Lua script
//! (`gcra.lua`, the arithmetic of [`ms_gcra::Gcra::reserve`]) that reads the Redis server's
//! `TIME`, so the machines' clocks do not matter, and then sleeps until its slot. The TAT of
//! each (action, region, SecretId) lives in one Redis key,
//! `ms:ratelimit:v1:{action}:{region}:{sha256(SecretId)}` (the SecretId is never stored in
//! clear), which expires once its schedule has caught up with now. A waiter dropped before
//! its slot gives it back when it is still the latest reservation of its key
//! (`release.lua`, sent in the background). Quotas per action are the client's
//! [`RateLimitConfig`] (20/s, 1500/s for `DescribeUrlDetectionResult`, overrides).
//!
//! Failure: every exchange with Redis is bounded by a short timeout (250 ms by default).
//! When Redis is unreachable, slow or answers with an error, the [`FailureMode`] decides:
//! [`FailureMode::Fail`] returns an [`ErrorKind::RateLimiter`](crate::ErrorKind) error (nothing
//! is sent), [`FailureMode::Local`] falls back to an in-process [`RateLimiter`] at a share of
//! the quota. Either way the limiter reports the outage once ([`LimiterEvent`] and one
//! `tracing` warning), then tries Redis again at most once per
//! [`retry_every`](RedisLimiterConfig::retry_every) until it answers (and reports that too).
//! Nothing panics and nothing waits for Redis longer than the timeout.
//!
//! The URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS) is held as a
//! [`RedisUrl`], whose `Debug` and `Display` hide the password; errors and logs name the
//! redacted form only.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ms_gcra::Gcra;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::{AcquireFuture, Limiter, LimiterKey, RateLimit, RateLimitConfig, RateLimiter};
use crate::error::Error;

/// Default bound of one exchange with Redis (connect, script, reply).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
/// Default pause between two attempts to reach Redis again after it failed.
pub const DEFAULT_RETRY_EVERY: Duration = Duration::from_secs(1);
/// Default share of the quota a process uses on its own while Redis is out of reach.
pub const DEFAULT_LOCAL_SHARE: f64 = 0.25;
/// Default prefix of the Redis keys.
pub const DEFAULT_KEY_PREFIX: &str = "ms:ratelimit:v1";

const RESERVE_LUA: &str = include_str!("gcra.lua");
const RELEASE_LUA: &str = include_str!("release.lua");

/// A Redis URL whose password never shows: `Debug` and `Display` print
/// `redis://user:***@host:port/db`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    raw: String,
    redacted: String,
    secret: Option<String>,
}

impl RedisUrl {
    /// Parses and checks `redis://[[user]:password@]host[:port][/db]` or `rediss://...`.
    /// The error names what is wrong, never the password.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |what: &str| Error::config(format!("shared rate limit URL: {what}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected redis://HOST[:PORT][/DB] or rediss://..."))?;
        if scheme != "redis" && scheme != "rediss" {
            return Err(bad(
                "the scheme must be redis:// or rediss:// (TLS); unix sockets are not supported",
            ));
        }
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, secret) = match userinfo {
            Some(info) => match info.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => ("", Some(info)),
            },
            None => ("", None),
        };
        let (host, port) = split_host_port(hostport).ok_or_else(|| bad("bad port"))?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_[]:".contains(c))
        {
            return Err(bad("the host has characters a host name cannot have"));
        }
        let db = match path {
            "" | "/" => None,
            p if p.starts_with('/') && p[1..].bytes().all(|b| b.is_ascii_digit()) => p[1..]
                .parse::<u32>()
                .map(Some)
                .map_err(|_| bad("bad database number"))?,
            _ => {
                return Err(bad(
                    "after the host only /DB (a database number) is accepted",
                ));
            }
        };
        let mut redacted = format!("{scheme}://");
        if secret.is_some() {
            redacted.push_str(user);
            redacted.push_str(":***@");
        }
        redacted.push_str(host);
        if let Some(port) = port {
            redacted.push_str(&format!(":{port}"));
        }
        if let Some(db) = db {
            redacted.push_str(&format!("/{db}"));
        }
        Ok(Self {
            raw: url.to_owned(),
            redacted,
            secret: secret.filter(|s| !s.is_empty()).map(str::to_owned),
        })
    }

    /// Whether the connection uses TLS (`rediss://`).
    pub fn is_tls(&self) -> bool {
        self.raw.starts_with("rediss://")
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// `text` with every occurrence of the password (as written, and percent-decoded)
    /// replaced by `***`: for messages that come from the Redis client library.
    fn scrub(&self, text: &str) -> String {
        let Some(secret) = &self.secret else {
            return text.to_owned();
        };
        let mut out = text.replace(secret.as_str(), "***");
        let decoded = percent_decode(secret);
        if !decoded.is_empty() && decoded != *secret {
            out = out.replace(&decoded, "***");
        }
        out.replace(&self.raw, &self.redacted)
    }
}

fn split_host_port(hostport: &str) -> Option<(&str, Option<u16>)> {
    // [v6]:port, host:port, host
    if let Some(rest) = hostport.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &hostport[..end + 2];
        return match &rest[end + 1..] {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((hostport, None)),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16)),
                bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl FromStr for RedisUrl {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedisUrl").field(&self.redacted).finish()
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// Checks the root certificates given for `rediss://` ([`RedisLimiterConfig::root_pem`]):
/// at least one well-formed `CERTIFICATE` block, each a certificate rustls can trust. Returns
/// how many there are. [`RedisLimiter::new`] runs it, so that a wrong file is a configuration
/// error at start rather than every connection failing (and the limiter falling back) later.
///
/// # Errors
/// [`ErrorKind::Config`](crate::ErrorKind) saying what is wrong with the PEM.
pub fn check_root_pem(pem: &[u8]) -> Result<usize, Error> {
    let bad = |detail: String| Error::config(format!("shared rate limit CA certificate: {detail}"));
    let mut roots = rustls::RootCertStore::empty();
    let mut n = 0;
    for cert in rustls_pemfile::certs(&mut &pem[..]) {
        let cert = cert.map_err(|e| bad(format!("invalid PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("certificate #{n}: {e}")))?;
        n += 1;
    }
    if n == 0 {
        return Err(bad("no CERTIFICATE block in the PEM".to_owned()));
    }
    Ok(n)
}

/// What to do when Redis cannot give a slot in time.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FailureMode {
    /// Fail the call with an [`ErrorKind::RateLimiter`](crate::ErrorKind) error; nothing is
    /// sent.
    Fail,
    /// Go on with an in-process limiter at `share` (0 < share ≤ 1) of each quota, e.g.
    /// `1 / number of machines`.
    Local {
        /// The share of each quota this process uses on its own.
        share: f64,
    },
}

impl Default for FailureMode {
    fn default() -> Self {
        FailureMode::Local {
            share: DEFAULT_LOCAL_SHARE,
        }
    }
}

impl fmt::Display for FailureMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureMode::Fail => f.write_str("fail"),
            FailureMode::Local { share } => {
                write!(f, "local ({:.0} % of the quota)", share * 100.0)
            }
        }
    }
}

/// A change of the shared limiter's health, reported once per change.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LimiterEvent {
    /// Redis gave no slot in time; the limiter now follows its [`FailureMode`].
    Unreachable {
        /// The redacted URL.
        url: String,
        /// What went wrong (no secret).
        reason: String,
        /// What the limiter does meanwhile.
        mode: FailureMode,
    },
    /// Redis answers again; the shared schedule is back in force.
    Reachable {
        /// The redacted URL.
        url: String,
    },
}

/// A callback told of [`LimiterEvent`]s (e.g. to print one warning for the user).
pub type EventHook = Arc<dyn Fn(&LimiterEvent) + Send + Sync>;

/// Settings of a [`RedisLimiter`].
#[derive(Clone)]
pub struct RedisLimiterConfig {
    url: RedisUrl,
    quotas: RateLimitConfig,
    failure: FailureMode,
    timeout: Duration,
    retry_every: Duration,
    key_prefix: String,
    on_event: Option<EventHook>,
    root_pem: Option<Vec<u8>>,
}

impl fmt::Debug for RedisLimiterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiterConfig")
            .field("url", &self.url)
            .field("quotas", &self.quotas)
            .field("failure", &self.failure)
            .field("timeout", &self.timeout)
            .field("retry_every", &self.retry_every)
            .field("key_prefix", &self.key_prefix)
            .field("on_event", &self.on_event.as_ref().map(|_| "set"))
            .field("root_pem", &self.root_pem.as_ref().map(|_| "set"))
            .finish()
    }
}

impl RedisLimiterConfig {
    /// The ms quotas ([`RateLimitConfig::ms_defaults`]) shared through `url`, falling back
    /// to a quarter of them in-process when Redis is out of reach.
    pub fn new(url: RedisUrl) -> Self {
        Self {
            url,
            quotas: RateLimitConfig::ms_defaults(),
            failure: FailureMode::default(),
            timeout: DEFAULT_TIMEOUT,
            retry_every: DEFAULT_RETRY_EVERY,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            on_event: None,
            root_pem: None,
        }
    }

    /// For `rediss://`: trust the certificate authorities of this PEM instead of the
    /// system's roots (which honour `SSL_CERT_FILE`).
    pub fn root_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_pem = Some(pem.into());
        self
    }

    /// The quotas (the same configuration the in-process limiter takes).
    pub fn quotas(mut self, quotas: RateLimitConfig) -> Self {
        self.quotas = quotas;
        self
    }

    /// What to do when Redis fails (default: local at 25 %).
    pub fn failure_mode(mut self, mode: FailureMode) -> Self {
        self.failure = match mode {
            FailureMode::Local { share } if !(share > 0.0 && share <= 1.0) => FailureMode::Local {
                share: DEFAULT_LOCAL_SHARE,
            },
            m => m,
        };
        self
    }

    /// Bound of one exchange with Redis (default 250 ms, at least 1 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Pause between attempts to reach Redis again after a failure (default 1 s).
    pub fn retry_every(mut self, every: Duration) -> Self {
        self.retry_every = every;
        self
    }

    /// Prefix of the Redis keys (default `ms:ratelimit:v1`): limiters with the same prefix
    /// and Redis database share their schedules.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// A callback told of every change of health (once per outage and once per recovery).
    pub fn on_event(mut self, hook: EventHook) -> Self {
        self.on_event = Some(hook);
        self
    }

    /// The URL (redacted in `Debug`/`Display`).
    pub fn url(&self) -> &RedisUrl {
        &self.url
    }
}

/// The rate limiter shared through Redis. Clones share one connection and one state.
#[derive(Clone)]
pub struct RedisLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    config: RedisLimiterConfig,
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    local: RateLimiter,
    reserve: redis::Script,
    release: redis::Script,
    health: Mutex<Health>,
}

#[derive(Debug, Default)]
struct Health {
    /// Set while Redis is considered down: when to try it again.
    retry_at: Option<Instant>,
    /// Why Redis last failed (scrubbed), for the error of the calls made while it is down.
    reason: Option<String>,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("config", &self.inner.config)
            .field("local", &self.inner.local)
            .finish_non_exhaustive()
    }
}

/// What went wrong talking to Redis (already scrubbed of secrets).
struct Unavailable(String);

impl RedisLimiter {
    /// A limiter on the given settings. Connects lazily (on the first call, inside the
    /// tokio runtime), so an unreachable Redis is handled like any later outage.
    pub fn new(config: RedisLimiterConfig) -> Result<Self, Error> {
        if let Some(pem) = &config.root_pem {
            check_root_pem(pem)?;
        }
        let client = match &config.root_pem {
            Some(pem) => redis::Client::build_with_tls(
                config.url.raw.as_str(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
            None => redis::Client::open(config.url.raw.as_str()),
        }
        .map_err(|e| {
            Error::config(format!(
                "shared rate limit URL {}: {}",
                config.url,
                config.url.scrub(&e.to_string())
            ))
        })?;
        let share = match config.failure {
            FailureMode::Local { share } => share,
            FailureMode::Fail => 1.0,
        };
        let local = RateLimiter::new(config.quotas.scaled(share));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                client,
                connection: OnceCell::new(),
                local,
                reserve: redis::Script::new(RESERVE_LUA),
                release: redis::Script::new(RELEASE_LUA),
                health: Mutex::new(Health::default()),
            }),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &RedisLimiterConfig {
        &self.inner.config
    }

    /// The Redis key of a quota key: prefix, action, region (`-` when none) and the first
    /// 128 bits of the SHA-256 of the SecretId, in hex.
    pub fn redis_key(&self, key: &LimiterKey) -> String {
        let digest = Sha256::digest(key.secret_id.as_bytes());
        let region = if key.region.is_empty() {
            "-"
        } else {
            &key.region
        };
        format!(
            "{}:{}:{}:{}",
            self.inner.config.key_prefix,
            key.action,
            region,
            hex::encode(&digest[..16])
        )
    }

    /// Reserves a slot and sleeps until it: on Redis while it answers, else as the
    /// [`FailureMode`] says.
    pub async fn acquire(&self, key: &LimiterKey) -> Result<Duration, Error> {
        let inner = &self.inner;
        if !inner.config.quotas.is_enabled() {
            return Ok(Duration::ZERO);
        }
        if self.should_try_redis() {
            let gcra = gcra_micros(inner.config.quotas.limit_for(&key.action));
            let redis_key = self.redis_key(key);
            match self.reserve_remote(&redis_key, gcra, None).await {
                Ok(slot) => {
                    self.mark_up();
                    return Ok(self.wait_for(redis_key, slot).await);
                }
                Err(Unavailable(reason)) => self.mark_down(reason),
            }
        }
        match inner.config.failure {
            FailureMode::Local { .. } => Ok(inner.local.acquire(key).await),
            FailureMode::Fail => Err(self.unavailable_error()),
        }
    }

    /// The error of a call that got no slot with [`FailureMode::Fail`]: it names the URL
    /// (redacted) and why Redis last failed (refused connection, timeout, authentication,
    /// database, TLS), so that a misconfiguration does not read as a mere outage.
    fn unavailable_error(&self) -> Error {
        let inner = &self.inner;
        let reason = inner
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reason
            .clone()
            .unwrap_or_else(|| "no reply".to_owned());
        Error::rate_limiter(format!(
            "the shared rate limiter {} is unavailable ({reason}; each exchange is bounded by {} ms); nothing was sent",
            inner.config.url,
            inner.config.timeout.as_millis()
        ))
    }

    /// Whether this call goes to Redis: always while it is up; while it is down, one call
    /// per `retry_every` probes it (the others go on as the failure mode says).
    fn should_try_redis(&self) -> bool {
        let mut health = self
            .inner
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match health.retry_at {
            None => true,
            Some(at) if Instant::now() >= at => {
                health.retry_at = Some(Instant::now() + self.inner.config.retry_every);
                true
            }
            Some(_) => false,
        }
    }

    fn mark_up(&self) {
        let was_down = {
            let mut health = self
                .inner
                .health
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            health.reason = None;
            health.retry_at.take().is_some()
        };
        if was_down {
            let url = self.inner.config.url.redacted().to_owned();
            tracing::info!(url = %url, "shared rate limiter reachable again");
            self.emit(&LimiterEvent::Reachable { url });
        }
    }

    fn mark_down(&self, reason: String) {
        let inner = &self.inner;
        let was_up = {
            let mut health = inner.health.lock().unwrap_or_else(PoisonError::into_inner);
            let was_up = health.retry_at.is_none();
            health.retry_at = Some(Instant::now() + inner.config.retry_every);
            health.reason = Some(reason.clone());
            was_up
        };
        if was_up {
            let url = inner.config.url.redacted().to_owned();
            tracing::warn!(url = %url, reason = %reason, mode = %inner.config.failure, "shared rate limiter unavailable");
            self.emit(&LimiterEvent::Unreachable {
                url,
                reason,
                mode: inner.config.failure,
            });
        } else {
            tracing::debug!(reason = %reason, "shared rate limiter still unavailable");
        }
    }

    fn emit(&self, event: &LimiterEvent) {
        if let Some(hook) = &self.inner.config.on_event {
            hook(event);
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, Unavailable> {
        let inner = &self.inner;
        inner
            .connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(inner.config.timeout))
                    .set_response_timeout(Some(inner.config.timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(inner.config.timeout);
                ConnectionManager::new_lazy_with_config(inner.client.clone(), config)
                    .map_err(|e| self.unavailable(&e))
            })
            .await
            .cloned()
    }

    fn unavailable(&self, e: &redis::RedisError) -> Unavailable {
        Unavailable(self.inner.config.url.scrub(&e.to_string()))
    }

    /// Runs the reservation script; `now` (microseconds) replaces the server's TIME in
    /// the unit tests only.
    async fn reserve_remote(
        &self,
        redis_key: &str,
        gcra: Gcra,
        now: Option<u64>,
    ) -> Result<RemoteSlot, Unavailable> {
        let inner = &self.inner;
        let exchange = async {
            let mut conn = self.connection().await?;
            let reply: Vec<i64> = inner
                .reserve
                .key(redis_key)
                .arg(gcra.interval())
                .arg(gcra.tolerance())
                .arg(now.map(|n| n.to_string()).unwrap_or_default())
                .invoke_async(&mut conn)
                .await
                .map_err(|e| self.unavailable(&e))?;
            match reply.as_slice() {
                [wait, tat, previous] if *wait >= 0 => Ok(RemoteSlot {
                    wait: Duration::from_micros(u64::try_from(*wait).unwrap_or(0)),
                    tat: *tat,
                    previous: *previous,
                }),
                _ => Err(Unavailable(format!(
                    "unexpected reply from the reservation script: {reply:?}"
                ))),
            }
        };
        match tokio::time::timeout(inner.config.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Unavailable(format!(
                "no reply within {} ms",
                inner.config.timeout.as_millis()
            ))),
        }
    }

    /// Sleeps until the slot; if dropped before, gives the slot back in the background.
    async fn wait_for(&self, redis_key: String, slot: RemoteSlot) -> Duration {
        let wait = slot.wait;
        if !wait.is_zero() {
            let mut pending = PendingRemote(Some((self.clone(), redis_key, slot)));
            tokio::time::sleep(wait).await;
            pending.0 = None;
        }
        wait
    }

    /// Gives a reserved slot back if it is still the key's latest reservation.
    async fn release(&self, redis_key: &str, slot: RemoteSlot) -> Result<bool, Unavailable> {
        let exchange = async {
            let mut conn = self.connection().await?;
            let given_back: i64 = self
                .inner
                .release
                .key(redis_key)
                .arg(slot.tat)
                .arg(slot.previous)
                .invoke_async(&mut conn)
                .await
                .map_err(|e| self.unavailable(&e))?;
            Ok(given_back == 1)
        };
        tokio::time::timeout(self.inner.config.timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(Unavailable("release timed out".to_owned())))
    }
}

impl Limiter for RedisLimiter {
    fn acquire<'a>(&'a self, key: &'a LimiterKey) -> AcquireFuture<'a> {
        Box::pin(RedisLimiter::acquire(self, key))
    }

    fn config(&self) -> &RateLimitConfig {
        &self.inner.config.quotas
    }
}

/// The GCRA parameters of a rate in whole microseconds (the Redis script's unit; Lua numbers
/// are doubles, exact for integers up to 2^53). The interval is rounded up, so the shared
/// rate never exceeds the quota: 1500/s becomes one request every 667 µs.
pub(crate) fn gcra_micros(limit: RateLimit) -> Gcra {
    let interval = u64::try_from(limit.interval().as_nanos().div_ceil(1000)).unwrap_or(u64::MAX);
    Gcra::new(interval, limit.burst())
}

/// A slot reserved on Redis.
#[derive(Debug, Clone, Copy)]
struct RemoteSlot {
    wait: Duration,
    tat: i64,
    previous: i64,
}

/// Gives a Redis slot back when its waiter is dropped before the slot (best effort, in a
/// background task, bounded by the timeout).
struct PendingRemote(Option<(RedisLimiter, String, RemoteSlot)>);

impl Drop for PendingRemote {
    fn drop(&mut self) {
        if let Some((limiter, key, slot)) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = limiter.release(&key, slot).await;
            });
        }
    }
}

#[cfg(test)]
mod tests;
