//! [`Client`] and [`ClientBuilder`]: signing, sending, retrying.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full, Limited};
use ms_model::{Action, ErrorCode};
use serde::de::DeserializeOwned;
use tc3_sign::{Credentials, Payload, Tc3Request, Tc3Signer, V1Method};
use tracing::{Instrument, Span, debug, field, info_span, trace, warn};

use crate::clock::{Clock, SystemClock};
use crate::credentials::{DefaultChain, ProvideCredentials};
use crate::error::Error;
use crate::http::{
    ConnSettings, HttpClient, Proxy, TlsSettings, map_body_error, map_send_error, resolve_proxy,
    tls_config,
};
use crate::ratelimit::{LimiterKey, RateLimit, RateLimitConfig, RateLimiter};
use crate::retry::{RetryBudget, RetryConfig};
use crate::skew::SkewStore;

/// The default endpoint.
pub const DEFAULT_ENDPOINT: &str = "ms.tencentcloudapi.com";
/// The default service name signed into the credential scope.
pub const DEFAULT_SERVICE: &str = "ms";
/// The default API version.
pub const DEFAULT_VERSION: &str = "2018-04-08";
/// Default connect timeout: establishing the TCP connection to the endpoint, or to the proxy
/// when one is used (split across the addresses when a name resolves to several). The TLS
/// handshake and the proxy's `CONNECT` exchange count against the request timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout of one attempt: from asking the pool for a connection (so including any
/// connect, proxy `CONNECT` and TLS handshake) to the last byte of the reply. The rate
/// limiter's wait and retry backoffs are not included; each attempt gets the full timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default idle timeout of pooled connections: below the 60 s after which Tencent Cloud
/// closes idle connections, so the client never picks a connection the server is closing.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);
/// Default cap on a reply body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// The `X-TC-RequestClient` value identifying this client.
pub const REQUEST_CLIENT: &str = concat!("SDK_RUST_MS_TRANSPORT_", env!("CARGO_PKG_VERSION"));

/// How requests are signed and encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignMethod {
    /// TC3-HMAC-SHA256, `POST` with a JSON body (the default, as the official SDKs).
    #[default]
    Tc3Post,
    /// TC3-HMAC-SHA256, `GET` with the flattened parameters in the query string.
    Tc3Get,
    /// Legacy signature v1 with HMAC-SHA1, form-encoded `POST`.
    HmacSha1,
    /// Legacy signature v1 with HMAC-SHA256, form-encoded `POST`.
    HmacSha256,
}

/// `X-TC-Language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// `zh-CN` (the official SDK's default).
    #[default]
    ZhCn,
    /// `en-US`.
    EnUs,
}

impl Language {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::EnUs => "en-US",
        }
    }
}

/// One call of the generic core: which service, version and action, and whether the action
/// is idempotent (decides which failures may be retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation<'a> {
    /// Service name signed into the credential scope (`ms`).
    pub service: &'a str,
    /// API version (`2018-04-08`).
    pub version: &'a str,
    /// Action name (`CreateScanInstances`).
    pub action: &'a str,
    /// Whether the action may be repeated safely.
    pub idempotent: bool,
}

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    https: bool,
    authority: String,
    base: String,
}

impl Endpoint {
    /// Parses `host`, `host:port`, `https://host[:port][/]` or `http://host[:port][/]`.
    /// The host is lower-cased (the official SDKs disagree on case; lower case is safe).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let (https, rest) = if let Some(r) = s.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (false, r)
        } else if s.contains("://") {
            return Err(Error::config(format!(
                "endpoint {s:?}: only https:// and http:// are supported"
            )));
        } else {
            (true, s)
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(Error::config(format!(
                "endpoint {s:?}: expected a host, host:port or base URL without path"
            )));
        }
        let scheme = if https { "https" } else { "http" };
        let base = format!("{scheme}://{authority}/");
        base.parse::<http::Uri>()
            .map_err(|e| Error::config(format!("endpoint {s:?}: {e}")))?;
        Ok(Self {
            https,
            authority,
            base,
        })
    }

    /// The `Host` header value (`host` or `host:port`).
    pub fn host(&self) -> &str {
        &self.authority
    }

    /// Whether TLS is used.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `scheme://authority/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }
}

/// Builds a [`Client`]. Every setting has a documented default.
pub struct ClientBuilder {
    endpoint: String,
    region: Option<String>,
    language: Option<Language>,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    tls: TlsSettings,
    allow_http: bool,
    proxy: Proxy,
    no_proxy: Option<String>,
    rate_limit: RateLimitConfig,
    retry: RetryConfig,
    connect_timeout: Duration,
    request_timeout: Duration,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
    sign_method: SignMethod,
    service: String,
    version: String,
    request_client: Option<String>,
    clock: Option<Arc<dyn Clock>>,
    skew: Option<SkewStore>,
    skew_correction: bool,
    max_response_bytes: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("sign_method", &self.sign_method)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            region: None,
            language: Some(Language::ZhCn),
            credentials: None,
            tls: TlsSettings {
                webpki_roots: true,
                native_roots: false,
                extra_pem: Vec::new(),
            },
            allow_http: false,
            proxy: Proxy::FromEnv,
            no_proxy: None,
            rate_limit: RateLimitConfig::ms_defaults(),
            retry: RetryConfig::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            pool_max_idle_per_host: 64,
            sign_method: SignMethod::Tc3Post,
            service: DEFAULT_SERVICE.to_owned(),
            version: DEFAULT_VERSION.to_owned(),
            request_client: None,
            clock: None,
            skew: None,
            skew_correction: true,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults: `https://ms.tencentcloudapi.com`, no region, `zh-CN`,
    /// credentials from [`DefaultChain`], webpki roots, proxies from the environment, the ms
    /// quotas (20/s, `DescribeUrlDetectionResult` 1500/s), 3 attempts, TC3 POST.
    pub fn new() -> Self {
        Self::default()
    }

    /// Endpoint: a host (`ms.ap-shanghai.tencentcloudapi.com`) or a base URL
    /// (`https://127.0.0.1:8443`). `http://` needs [`ClientBuilder::allow_http`].
    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.endpoint = endpoint.to_owned();
        self
    }

    /// `X-TC-Region` (not sent when unset or empty).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        let r = region.into();
        self.region = if r.trim().is_empty() {
            None
        } else {
            Some(r.trim().to_owned())
        };
        self
    }

    /// `X-TC-Language`; `None` sends no header. Default `zh-CN`.
    pub fn language(mut self, language: Option<Language>) -> Self {
        self.language = language;
        self
    }

    /// The credentials source (default: [`DefaultChain`]).
    pub fn credentials(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// The credentials source, already shared.
    pub fn credentials_arc(mut self, provider: Arc<dyn ProvideCredentials>) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Trusts the certificates of this PEM (e.g. the emulator's self-signed certificate).
    pub fn add_root_pem(mut self, pem: &[u8]) -> Self {
        self.tls.extra_pem.push(pem.to_vec());
        self
    }

    /// Also trusts the operating system's roots. Default off.
    pub fn native_roots(mut self, yes: bool) -> Self {
        self.tls.native_roots = yes;
        self
    }

    /// Trusts the bundled Mozilla roots (webpki-roots). Default on.
    pub fn webpki_roots(mut self, yes: bool) -> Self {
        self.tls.webpki_roots = yes;
        self
    }

    /// Permits a plain `http://` endpoint (the emulator on loopback). Default off.
    pub fn allow_http(mut self, yes: bool) -> Self {
        self.allow_http = yes;
        self
    }

    /// Proxy settings (default: from the environment). Proxies are used through HTTP CONNECT.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// Hosts that bypass the proxy (`NO_PROXY` syntax: comma-separated domains, matching
    /// subdomains too, IPs and CIDRs, `*`). Overrides `NO_PROXY`.
    pub fn no_proxy(mut self, list: impl Into<String>) -> Self {
        self.no_proxy = Some(list.into());
        self
    }

    /// Rate-limit configuration (default [`RateLimitConfig::ms_defaults`]).
    pub fn rate_limit(mut self, config: RateLimitConfig) -> Self {
        self.rate_limit = config;
        self
    }

    /// Sets the quota of every action without an override.
    pub fn default_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = self.rate_limit.with_default(limit);
        self
    }

    /// Sets the quota of one action.
    pub fn action_rate_limit(mut self, action: &str, limit: RateLimit) -> Self {
        self.rate_limit = self.rate_limit.with_override(action, limit);
        self
    }

    /// Switches client-side rate limiting off.
    pub fn disable_rate_limit(mut self) -> Self {
        self.rate_limit = RateLimitConfig::disabled();
        self
    }

    /// Retry policy (default [`RetryConfig::default`]: 3 attempts).
    pub fn retry(mut self, config: RetryConfig) -> Self {
        self.retry = config;
        self
    }

    /// Connect timeout: the TCP connection to the endpoint or the proxy. Default 10 s
    /// ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Timeout of one attempt, connection set-up included, to the end of the reply body.
    /// Default 60 s ([`DEFAULT_REQUEST_TIMEOUT`]). A timed-out attempt may have been
    /// processed, so it is retried for idempotent actions only.
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }

    /// Both timeouts at once.
    pub fn timeouts(self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout(connect).request_timeout(request)
    }

    /// Idle timeout of pooled keep-alive connections. Default 50 s (Tencent closes at 60 s).
    pub fn pool_idle_timeout(mut self, t: Duration) -> Self {
        self.pool_idle_timeout = t;
        self
    }

    /// Maximum idle connections kept per host. Default 64.
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.pool_max_idle_per_host = n;
        self
    }

    /// Signature and encoding (default TC3 POST JSON).
    pub fn sign_method(mut self, method: SignMethod) -> Self {
        self.sign_method = method;
        self
    }

    /// Service and version used by [`Client::send_json`] (default `ms`, `2018-04-08`), so the
    /// client can talk to another Tencent Cloud product.
    pub fn service(mut self, service: impl Into<String>, version: impl Into<String>) -> Self {
        self.service = service.into();
        self.version = version.into();
        self
    }

    /// Appends `; <suffix>` to `X-TC-RequestClient` (must match `[0-9A-Za-z-_,;.]+`, at most
    /// 64 characters; ignored otherwise).
    pub fn request_client_suffix(mut self, suffix: &str) -> Self {
        let ok = !suffix.is_empty()
            && suffix.len() <= 64
            && suffix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_,;.".contains(c));
        self.request_client = ok.then(|| suffix.to_owned());
        self
    }

    /// Clock for timestamps and the rate limiter (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Shares a skew store between clients (default: one per client).
    pub fn skew_store(mut self, store: SkewStore) -> Self {
        self.skew = Some(store);
        self
    }

    /// Learn the clock offset on `AuthFailure.SignatureExpire` and retry once. Default on.
    pub fn skew_correction(mut self, yes: bool) -> Self {
        self.skew_correction = yes;
        self
    }

    /// Maximal reply body size. Default 32 MiB.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Builds the client (no I/O; requests must then be sent from within a tokio runtime).
    pub fn build(self) -> Result<Client, Error> {
        let endpoint = Endpoint::parse(&self.endpoint)?;
        for (field, value) in [
            ("region", self.region.as_deref().unwrap_or("")),
            ("service", self.service.as_str()),
            ("version", self.version.as_str()),
        ] {
            if HeaderValue::from_str(value).is_err() || value.trim() != value {
                return Err(Error::config(format!(
                    "{field} {value:?}: not usable in a header (control characters or surrounding spaces)"
                )));
            }
        }
        if self.service.is_empty() || self.version.is_empty() {
            return Err(Error::config("service and version must not be empty"));
        }
        if !endpoint.is_https() && !self.allow_http {
            return Err(Error::config(format!(
                "endpoint {}: plain http:// requires allow_http(true)",
                endpoint.base_url()
            )));
        }
        let uri: http::Uri = endpoint
            .base_url()
            .parse()
            .map_err(|e| Error::config(format!("endpoint: {e}")))?;
        let proxy = resolve_proxy(&self.proxy, self.no_proxy.as_deref(), &uri)?;
        let tls = tls_config(&self.tls)?;
        let http = HttpClient::build(
            tls,
            &ConnSettings {
                connect_timeout: self.connect_timeout,
                pool_idle_timeout: self.pool_idle_timeout,
                pool_max_idle_per_host: self.pool_max_idle_per_host,
                allow_http: self.allow_http,
            },
            proxy,
        )?;
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock::new()));
        let request_client = match &self.request_client {
            Some(s) => format!("{REQUEST_CLIENT}; {s}"),
            None => REQUEST_CLIENT.to_owned(),
        };
        let credentials = self
            .credentials
            .unwrap_or_else(|| Arc::new(DefaultChain::new()));
        Ok(Client {
            inner: Arc::new(ClientInner {
                http,
                endpoint,
                region: self.region,
                language: self.language,
                credentials,
                signer: Tc3Signer::new(),
                limiter: RateLimiter::with_clock(self.rate_limit, Arc::clone(&clock)),
                budget: RetryBudget::new(self.retry.budget_capacity),
                retry: self.retry,
                skew: self.skew.unwrap_or_default(),
                skew_correction: self.skew_correction,
                clock,
                request_timeout: self.request_timeout,
                sign_method: self.sign_method,
                service: self.service,
                version: self.version,
                request_client,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// The client. Cloning is cheap; clones share the connection pool, the rate limiter, the
/// retry budget and the learned clock offsets.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    http: HttpClient,
    endpoint: Endpoint,
    region: Option<String>,
    language: Option<Language>,
    credentials: Arc<dyn ProvideCredentials>,
    signer: Tc3Signer,
    limiter: RateLimiter,
    retry: RetryConfig,
    budget: RetryBudget,
    skew: SkewStore,
    skew_correction: bool,
    clock: Arc<dyn Clock>,
    request_timeout: Duration,
    sign_method: SignMethod,
    service: String,
    version: String,
    request_client: String,
    max_response_bytes: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("endpoint", &i.endpoint.base_url())
            .field("region", &i.region)
            .field("sign_method", &i.sign_method)
            .field("http", &i.http)
            .field("credentials", &i.credentials)
            .finish_non_exhaustive()
    }
}

/// The parameters of a call, prepared once and signed per attempt.
enum Params {
    /// TC3 POST: the exact JSON body.
    Json(Bytes),
    /// TC3 GET / legacy v1: the flattened parameters (`AppInfos.0.AppUrl`).
    Pairs(Vec<(String, String)>),
}

impl Params {
    /// Encodes `params` the way `method` sends them. The value is serialized once: a JSON
    /// body for TC3 POST, flattened pairs otherwise (no intermediate copy of the value).
    fn new(method: SignMethod, params: &serde_json::Value) -> Result<Self, Error> {
        Ok(match method {
            SignMethod::Tc3Post => Params::Json(Bytes::from(
                serde_json::to_vec(params)
                    .map_err(|e| Error::signing(format!("serialize: {e}")))?,
            )),
            _ => Params::Pairs(tc3_sign::flatten_params(params)),
        })
    }
}

struct AttemptFailure {
    error: Error,
    /// The reply's `Date` header, when there was a reply.
    date: Option<String>,
}

impl From<Error> for AttemptFailure {
    fn from(error: Error) -> Self {
        Self { error, date: None }
    }
}

/// Headers rendered for logs, with `Authorization` and `X-TC-Token` redacted.
struct Redacted<'a>(&'a HeaderMap);

/// Header names whose values are never logged.
pub const REDACTED_HEADERS: [&str; 2] = ["authorization", "x-tc-token"];

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, value) in self.0 {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if REDACTED_HEADERS.contains(&name.as_str()) || value.is_sensitive() {
                write!(f, "{name}: <redacted>")?;
            } else {
                write!(f, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
            }
        }
        Ok(())
    }
}

/// Finds the top-level `"RequestId"` of a reply without decoding it (the last occurrence:
/// Tencent Cloud puts it at the end of `Response`).
pub fn extract_request_id(body: &[u8]) -> Option<String> {
    let needle = b"\"RequestId\"";
    let pos = body.windows(needle.len()).rposition(|w| w == needle)?;
    let rest = &body[pos + needle.len()..];
    let rest = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &rest[i..])?;
    let rest = rest.strip_prefix(b":")?;
    let rest = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &rest[i..])?;
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    let id = std::str::from_utf8(&rest[..end]).ok()?;
    (!id.is_empty() && id.len() <= 128).then(|| id.to_owned())
}

/// Turns a reply body into the answer or the service's error.
type Decoder<T> = fn(&[u8]) -> Result<Result<T, ms_model::ServiceError>, ms_model::DecodeError>;

/// [`ms_model::decode_response`] for an untyped answer, without its second copy: the
/// success case parses the body once and returns the `Response` object itself (the generic
/// version rebuilds it through `Value`'s `Deserialize`, a full copy of a reply that can be
/// megabytes). Errors and malformed envelopes go to `decode_response`, so they read the same.
fn decode_value(
    body: &[u8],
) -> Result<Result<serde_json::Value, ms_model::ServiceError>, ms_model::DecodeError> {
    if let Ok(serde_json::Value::Object(mut top)) = serde_json::from_slice(body)
        && let Some(serde_json::Value::Object(inner)) = top.remove("Response")
        && !inner.contains_key("Error")
    {
        return Ok(Ok(serde_json::Value::Object(inner)));
    }
    ms_model::decode_response::<serde_json::Value>(body)
}

fn header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let v = HeaderValue::from_str(value)
        .map_err(|_| Error::signing(format!("header {name}: invalid value")))?;
    Ok((HeaderName::from_static(name), v))
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// The endpoint in use.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// The region sent as `X-TC-Region`.
    pub fn region(&self) -> Option<&str> {
        self.inner.region.as_deref()
    }

    /// The shared rate limiter.
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    /// The shared skew store.
    pub fn skew_store(&self) -> &SkewStore {
        &self.inner.skew
    }

    /// The shared retry budget.
    pub fn retry_budget(&self) -> &RetryBudget {
        &self.inner.budget
    }

    /// Sends a typed request: validates it (nothing is sent when invalid), signs, sends,
    /// retries safely, and decodes the typed response.
    pub async fn send<A: Action>(&self, request: &A) -> Result<A::Response, Error> {
        // One serialization serves validation and the wire encoding (validate_value gives
        // exactly the violations of validate(), without serializing again).
        let value = serde_json::to_value(request)
            .map_err(|e| Error::signing(format!("serialize: {e}")).with_action(A::NAME))?;
        A::validate_value(&value).map_err(|e| Error::validation(e).with_action(A::NAME))?;
        let params =
            Params::new(self.inner.sign_method, &value).map_err(|e| e.with_action(A::NAME))?;
        let op = Operation {
            service: A::SERVICE,
            version: A::VERSION,
            action: A::NAME,
            idempotent: A::IDEMPOTENT,
        };
        self.execute::<A::Response>(op, params, ms_model::decode_response::<A::Response>)
            .await
    }

    /// Sends an action by name with JSON parameters (the CLI's `ms call`), using the
    /// configured service and version. When the action is known to `ms-model` and the
    /// service is `ms`, the parameters are validated first, and the action is treated as
    /// idempotent only if both the caller and the model say so (a wrong `true` for
    /// `CreateScanInstances` cannot cause a duplicate submission). Returns the inner
    /// `Response` object.
    pub async fn send_json(
        &self,
        action: &str,
        idempotent: bool,
        params: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let mut idempotent = idempotent;
        if self.inner.service == DEFAULT_SERVICE
            && let Some(info) = ms_model::action_info(action)
        {
            ms_model::validate_json(action, params)
                .map_err(|e| Error::validation(e).with_action(action))?;
            idempotent &= info.idempotent;
        }
        let op = Operation {
            service: &self.inner.service,
            version: &self.inner.version,
            action,
            idempotent,
        };
        self.send_operation(op, params).await
    }

    /// The generic core: sends any action of any Tencent Cloud API 3.0 service (no
    /// validation). Returns the inner `Response` object.
    pub async fn send_operation(
        &self,
        op: Operation<'_>,
        params: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        if op.action.is_empty() || !op.action.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::config(format!(
                "action {:?}: expected an alphanumeric name",
                op.action
            )));
        }
        if !params.is_object() {
            return Err(Error::config("params: expected a JSON object").with_action(op.action));
        }
        let params = Params::new(self.inner.sign_method, params)?;
        self.execute::<serde_json::Value>(op, params, decode_value)
            .await
    }

    async fn execute<T: DeserializeOwned>(
        &self,
        op: Operation<'_>,
        params: Params,
        decode: Decoder<T>,
    ) -> Result<T, Error> {
        let span = info_span!(
            "ms.call",
            action = op.action,
            service = op.service,
            idempotent = op.idempotent,
            attempts = field::Empty,
            request_id = field::Empty,
            latency_ms = field::Empty,
            limiter_wait_ms = field::Empty,
            outcome = field::Empty,
        );
        self.execute_inner(op, params, decode)
            .instrument(span)
            .await
    }

    async fn execute_inner<T: DeserializeOwned>(
        &self,
        op: Operation<'_>,
        params: Params,
        decode: Decoder<T>,
    ) -> Result<T, Error> {
        let inner = &self.inner;
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        let mut max_attempts = inner.retry.max_attempts.max(1);
        let mut skew_retried = false;
        let mut spent: u32 = 0;
        let span = Span::current();
        loop {
            attempt = attempt.saturating_add(1);
            let attempt_span = tracing::debug_span!(
                "ms.attempt",
                attempt,
                limiter_wait_ms = field::Empty,
                status = field::Empty
            );
            let result = self
                .attempt::<T>(op, &params, &mut waited, decode)
                .instrument(attempt_span)
                .await;
            span.record("attempts", attempt);
            span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
            span.record("limiter_wait_ms", waited.as_secs_f64() * 1000.0);
            match result {
                Ok((value, request_id)) => {
                    if let Some(id) = &request_id {
                        span.record("request_id", id.as_str());
                    }
                    span.record("outcome", "ok");
                    inner.budget.refund(if spent > 0 { spent } else { 1 });
                    debug!("call succeeded");
                    return Ok(value);
                }
                Err(failure) => {
                    let error = failure.error.with_action(op.action).with_attempts(attempt);
                    if let Some(id) = error.request_id() {
                        span.record("request_id", id);
                    }
                    let expired = error.code().is_some_and(is_signature_expired);
                    if expired
                        && inner.skew_correction
                        && !skew_retried
                        && let Some(date) = &failure.date
                        && let Some(offset) = inner.skew.learn_from_date(
                            inner.endpoint.host(),
                            date,
                            inner.clock.unix_seconds(),
                        )
                    {
                        warn!(
                            offset_seconds = offset,
                            "clock skew detected; retrying with the server's time"
                        );
                        skew_retried = true;
                        max_attempts = max_attempts.saturating_add(1);
                        continue;
                    }
                    let class = error.retry_class();
                    if !class.allows(op.idempotent) || attempt >= max_attempts {
                        span.record("outcome", error.code_str());
                        debug!(error = %error, retry_class = ?class, "call failed");
                        return Err(error);
                    }
                    let cost = if error.is_timeout() {
                        inner.retry.timeout_retry_cost
                    } else {
                        inner.retry.retry_cost
                    };
                    if !inner.budget.try_acquire(cost) {
                        span.record("outcome", "retry-budget-exhausted");
                        warn!(error = %error, "retry budget exhausted; not retrying");
                        return Err(error);
                    }
                    spent = spent.saturating_add(cost);
                    let backoff = inner.retry.backoff(attempt, class, rand::random::<f64>());
                    debug!(error = %error, retry_class = ?class, backoff_ms = backoff.as_secs_f64() * 1000.0, "retrying");
                    if !backoff.is_zero() {
                        tokio::time::sleep(backoff).await;
                    }
                }
            }
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        op: Operation<'_>,
        params: &Params,
        waited: &mut Duration,
        decode: Decoder<T>,
    ) -> Result<(T, Option<String>), AttemptFailure> {
        let inner = &self.inner;
        let creds = inner.credentials.provide_credentials().await?;
        let key = LimiterKey::new(
            op.action,
            inner.region.as_deref().unwrap_or(""),
            creds.secret_id(),
        );
        let wait = inner.limiter.acquire(&key).await;
        *waited += wait;
        Span::current().record("limiter_wait_ms", wait.as_secs_f64() * 1000.0);
        let timestamp = inner
            .skew
            .corrected(inner.endpoint.host(), inner.clock.unix_seconds());
        let request = self.build_request(op, params, &creds, timestamp)?;
        trace!(method = %request.method(), uri = %request.uri(), headers = %Redacted(request.headers()), "sending request");
        if let (Params::Json(body), true) = (params, tracing::enabled!(tracing::Level::TRACE)) {
            trace!(body = %crate::error::body_snippet(body), "request body");
        }
        let sent_at = Instant::now();
        let max = inner.max_response_bytes;
        let exchange = async {
            let response = inner.http.request(request).await.map_err(map_send_error)?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, max)
                .collect()
                .await
                .map_err(|e| map_body_error(e, max))?
                .to_bytes();
            Ok::<_, Error>((parts, bytes))
        };
        let (parts, body) = match tokio::time::timeout(inner.request_timeout, exchange).await {
            Ok(r) => r?,
            Err(_) => return Err(Error::timeout(inner.request_timeout).into()),
        };
        let status = parts.status.as_u16();
        Span::current().record("status", status);
        let date = parts
            .headers
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        trace!(status, latency_ms = sent_at.elapsed().as_secs_f64() * 1000.0, body = %crate::error::body_snippet(&body), "received reply");
        let request_id = extract_request_id(&body);
        if status != 200 {
            return Err(AttemptFailure {
                error: Error::http_status(status, &body).with_request_id(request_id),
                date,
            });
        }
        match decode(&body) {
            Ok(Ok(value)) => Ok((value, request_id)),
            Ok(Err(service_error)) => Err(AttemptFailure {
                error: Error::api(
                    service_error.code,
                    service_error.message,
                    service_error.request_id.or(request_id),
                ),
                date,
            }),
            Err(decode) => Err(AttemptFailure {
                error: Error::decode(decode.to_string(), &body).with_request_id(request_id),
                date,
            }),
        }
    }

    fn build_request(
        &self,
        op: Operation<'_>,
        params: &Params,
        creds: &Credentials,
        timestamp: u64,
    ) -> Result<http::Request<Full<Bytes>>, Error> {
        let inner = &self.inner;
        let host = inner.endpoint.host();
        let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(12);
        let trace_id = uuid::Uuid::new_v4().to_string();
        headers.push(header("x-tc-traceid", &trace_id)?);
        let (uri, body) = match inner.sign_method {
            SignMethod::Tc3Post | SignMethod::Tc3Get => {
                let (method, content_type, query, body): (&str, &str, String, Bytes) = match params
                {
                    Params::Json(b) => ("POST", "application/json", String::new(), b.clone()),
                    Params::Pairs(p) => (
                        "GET",
                        "application/x-www-form-urlencoded",
                        tc3_sign::form_urlencode(p),
                        Bytes::new(),
                    ),
                };
                let signature = inner
                    .signer
                    .sign(
                        &Tc3Request {
                            method,
                            host,
                            path: "/",
                            query: &query,
                            content_type,
                            payload: Payload::Bytes(&body),
                        },
                        creds,
                        op.service,
                        timestamp,
                    )
                    .map_err(|e| Error::signing(e.to_string()))?;
                headers.push(header("content-type", content_type)?);
                headers.push(header("host", host)?);
                headers.push(header("x-tc-action", op.action)?);
                headers.push(header("x-tc-requestclient", &inner.request_client)?);
                headers.push(header("x-tc-timestamp", &timestamp.to_string())?);
                headers.push(header("x-tc-version", op.version)?);
                if let Some(region) = &inner.region {
                    headers.push(header("x-tc-region", region)?);
                }
                if let Some(token) = creds.token() {
                    let (n, mut v) = header("x-tc-token", token)?;
                    v.set_sensitive(true);
                    headers.push((n, v));
                }
                if let Some(lang) = inner.language {
                    headers.push(header("x-tc-language", lang.as_str())?);
                }
                let (n, mut v) = header("authorization", signature.authorization())?;
                v.set_sensitive(true);
                headers.push((n, v));
                let uri = if query.is_empty() {
                    inner.endpoint.base_url().to_owned()
                } else {
                    format!("{}?{query}", inner.endpoint.base_url())
                };
                (uri, body)
            }
            SignMethod::HmacSha1 | SignMethod::HmacSha256 => {
                let method = if inner.sign_method == SignMethod::HmacSha1 {
                    V1Method::HmacSha1
                } else {
                    V1Method::HmacSha256
                };
                let mut pairs = match params {
                    Params::Pairs(p) => p.clone(),
                    Params::Json(b) => tc3_sign::flatten_params(
                        &serde_json::from_slice(b)
                            .map_err(|e| Error::signing(format!("serialize: {e}")))?,
                    ),
                };
                let nonce: u64 = rand::random::<u64>() % (i64::MAX as u64) + 1;
                pairs.push(("Action".into(), op.action.to_owned()));
                pairs.push((
                    "RequestClient".into(),
                    inner.request_client.replace(' ', ""),
                ));
                pairs.push(("Nonce".into(), nonce.to_string()));
                pairs.push(("Timestamp".into(), timestamp.to_string()));
                pairs.push(("Version".into(), op.version.to_owned()));
                if let Some(region) = &inner.region {
                    pairs.push(("Region".into(), region.clone()));
                }
                if let Some(token) = creds.token() {
                    pairs.push(("Token".into(), token.to_owned()));
                }
                pairs.push(("SecretId".into(), creds.secret_id().to_owned()));
                pairs.push(("SignatureMethod".into(), method.as_str().to_owned()));
                if let Some(lang) = inner.language {
                    pairs.push(("Language".into(), lang.as_str().to_owned()));
                }
                let sts = tc3_sign::v1_string_to_sign("POST", host, "/", &pairs);
                let signature = tc3_sign::sign_v1(method, creds.secret_key(), &sts);
                pairs.push(("Signature".into(), signature));
                let body = Bytes::from(tc3_sign::form_urlencode(&pairs));
                headers.push(header("content-type", "application/x-www-form-urlencoded")?);
                headers.push(header("host", host)?);
                (inner.endpoint.base_url().to_owned(), body)
            }
        };
        let method = if inner.sign_method == SignMethod::Tc3Get {
            http::Method::GET
        } else {
            http::Method::POST
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::new(body))
            .map_err(|e| Error::signing(format!("request: {e}")))?;
        let map = request.headers_mut();
        for (n, v) in headers {
            map.append(n, v);
        }
        Ok(request)
    }
}

/// The service error code that reports an expired signature (clock skew).
pub fn is_signature_expired(code: &ErrorCode) -> bool {
    code.as_str() == "AuthFailure.SignatureExpire"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_value_answers_as_decode_response() {
        let bodies: [&[u8]; 7] = [
            br#"{"Response":{"ScanSet":[{"A":1}],"TotalCount":1,"RequestId":"r"}}"#,
            br#"{"Response":{"Error":{"Code":"InvalidAction","Message":"m"},"RequestId":"r"}}"#,
            br#"{"Response":{"Error":{"Message":"no code"}}}"#,
            br#"{"Response":[]}"#,
            br#"{"Other":{}}"#,
            br#"[1]"#,
            b"not json",
        ];
        for body in bodies {
            let fast = decode_value(body);
            let slow = ms_model::decode_response::<serde_json::Value>(body);
            assert_eq!(
                format!("{fast:?}"),
                format!("{slow:?}"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("MS.TencentCloudAPI.com").expect("host");
        assert_eq!(e.host(), "ms.tencentcloudapi.com");
        assert_eq!(e.base_url(), "https://ms.tencentcloudapi.com/");
        let e = Endpoint::parse("http://127.0.0.1:8080/").expect("url");
        assert!(!e.is_https());
        assert_eq!(e.host(), "127.0.0.1:8080");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("https://host/path").is_err());
        assert!(Endpoint::parse("").is_err());
    }

    #[test]
    fn request_id_extraction() {
        let body = br#"{"Response":{"ItemId":"x","Nested":{"RequestId":"inner"},"RequestId" : "abc-123"}}"#;
        assert_eq!(extract_request_id(body).as_deref(), Some("abc-123"));
        assert_eq!(extract_request_id(b"garbage"), None);
        assert_eq!(extract_request_id(br#"{"RequestId":5}"#), None);
    }

    #[test]
    fn redacted_headers_hide_secrets() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("TC3-HMAC-SHA256 Credential=x, Signature=deadbeef"),
        );
        h.insert("x-tc-token", HeaderValue::from_static("tok-secret"));
        h.insert(
            "x-tc-action",
            HeaderValue::from_static("DescribeScanInstances"),
        );
        let s = Redacted(&h).to_string();
        assert!(!s.contains("deadbeef") && !s.contains("tok-secret"), "{s}");
        assert!(s.contains("DescribeScanInstances"));
    }

    #[test]
    fn builds_outside_a_runtime_with_the_defaults() {
        let c = Client::builder()
            .proxy(Proxy::None)
            .credentials(crate::StaticProvider::from_parts("AKIDx", "k", None).expect("creds"))
            .build()
            .expect("client");
        assert_eq!(c.endpoint().base_url(), "https://ms.tencentcloudapi.com/");
        assert!(c.region().is_none());
        let d = format!("{c:?}");
        assert!(
            d.contains("ms.tencentcloudapi.com") && !d.contains("\"k\""),
            "{d}"
        );
    }

    #[test]
    fn unusable_region_service_or_version_is_a_config_error_naming_it() {
        let base = || {
            Client::builder()
                .proxy(Proxy::None)
                .credentials(crate::StaticProvider::from_parts("AKIDx", "k", None).expect("creds"))
        };
        let e = base().region("ap-\nguangzhou").build().expect_err("region");
        assert!(e.message().starts_with("region "), "{e}");
        let e = base()
            .service("ms", "2018-04-08\r")
            .build()
            .expect_err("version");
        assert!(e.message().starts_with("version "), "{e}");
        let e = base()
            .service("", "2018-04-08")
            .build()
            .expect_err("service");
        assert!(e.message().contains("service"), "{e}");
        assert!(
            base().region(" ap-guangzhou ").build().is_ok(),
            "region is trimmed"
        );
    }

    #[test]
    fn clones_share_one_rate_limiter_quota() {
        let clock = crate::FakeClock::new(1_700_000_000);
        let c = Client::builder()
            .proxy(Proxy::None)
            .clock(Arc::new(clock))
            .credentials(crate::StaticProvider::from_parts("AKIDx", "k", None).expect("creds"))
            .build()
            .expect("client");
        let clone = c.clone();
        let key = LimiterKey::new("CreateScanInstances", "", "AKIDx");
        assert_eq!(c.rate_limiter().reserve(&key), Duration::ZERO);
        assert_eq!(
            clone.rate_limiter().reserve(&key),
            Duration::from_millis(50),
            "the clone waits for the slot after the original's"
        );
        assert_eq!(c.rate_limiter().reserve(&key), Duration::from_millis(100));
    }

    #[test]
    fn request_client_matches_sdk_charset() {
        assert!(
            REQUEST_CLIENT
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_,;.".contains(c))
        );
    }
}
