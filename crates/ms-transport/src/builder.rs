//! [`ClientBuilder`]: every setting of a [`Client`] with its documented default, checked
//! once by [`ClientBuilder::build`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderValue;
use tc3_sign::Tc3Signer;

use crate::client::{Client, ClientInner};
use crate::clock::{Clock, or_system};
use crate::connect::{ConnSettings, HttpClient, TlsSettings, tls_config};
use crate::credentials::{DefaultChain, ProvideCredentials};
use crate::endpoint::Endpoint;
use crate::error::{ConfigSetting, Error};
use crate::proxy::{Proxy, resolve_proxy};
use crate::ratelimit::{Limiter, RateLimit, RateLimitConfig, RateLimiter};
use crate::request::{Language, REQUEST_CLIENT, RequestSettings, SignMethod};
use crate::retry::{RetryConfig, RetryStrategy};
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
    limiter: LimiterBackend,
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
            limiter: LimiterBackend::InProcess,
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

    /// Also trusts the operating system's roots (by default only the bundled Mozilla roots
    /// and [`ClientBuilder::add_root_pem`] are trusted).
    pub fn native_roots(mut self) -> Self {
        self.tls.native_roots = true;
        self
    }

    /// Stops trusting the bundled Mozilla roots (webpki-roots), trusted by default: only the
    /// operating system's ([`ClientBuilder::native_roots`]) and added ones remain.
    pub fn without_webpki_roots(mut self) -> Self {
        self.tls.webpki_roots = false;
        self
    }

    /// Permits a plain `http://` endpoint (the emulator on loopback). Refused by default.
    pub fn allow_http(mut self) -> Self {
        self.allow_http = true;
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

    /// Uses this limiter instead of the in-process one (it brings its own quotas; the
    /// builder's rate-limit settings are then ignored). Clones of the client share it.
    pub fn limiter(mut self, limiter: impl Limiter + 'static) -> Self {
        self.limiter = LimiterBackend::Custom(Arc::new(limiter));
        self
    }

    /// Shares the quotas with every process and machine that uses the same Redis
    /// ([`RedisLimiter`](crate::ratelimit::redis::RedisLimiter)); the quotas are the
    /// builder's rate-limit settings. Feature `redis`.
    #[cfg(feature = "redis")]
    pub fn shared_rate_limit(
        mut self,
        config: crate::ratelimit::redis::RedisLimiterConfig,
    ) -> Self {
        self.limiter = LimiterBackend::Redis(Box::new(config));
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

    /// Stops learning the clock offset on `AuthFailure.SignatureExpire` (by default the
    /// offset is learnt from the reply's `Date` and the call retried once).
    pub fn without_skew_correction(mut self) -> Self {
        self.skew_correction = false;
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
        for (setting, field, value) in [
            (
                ConfigSetting::Region,
                "region",
                self.region.as_deref().unwrap_or(""),
            ),
            (ConfigSetting::Service, "service", self.service.as_str()),
            (ConfigSetting::Version, "version", self.version.as_str()),
        ] {
            if HeaderValue::from_str(value).is_err() || value.trim() != value {
                return Err(Error::config_of(
                    setting,
                    format_args!("{field} {value:?}"),
                    "not usable in a header (control characters or surrounding spaces)",
                ));
            }
            if value.is_empty() && setting != ConfigSetting::Region {
                return Err(Error::config_of(setting, field, "must not be empty"));
            }
        }
        if !endpoint.is_https() && !self.allow_http {
            return Err(Error::config_of(
                ConfigSetting::Endpoint,
                format_args!("endpoint {}", endpoint.base_url()),
                "plain http:// requires ClientBuilder::allow_http()",
            ));
        }
        let uri: http::Uri = endpoint
            .base_url()
            .parse()
            .map_err(|e| Error::config_of(ConfigSetting::Endpoint, "endpoint", e))?;
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
        let clock = or_system(self.clock);
        let request_client = match &self.request_client {
            Some(s) => format!("{REQUEST_CLIENT}; {s}"),
            None => REQUEST_CLIENT.to_owned(),
        };
        let credentials = self
            .credentials
            .unwrap_or_else(|| Arc::new(DefaultChain::new()));
        let limiter: Arc<dyn Limiter> = match self.limiter {
            LimiterBackend::InProcess => {
                Arc::new(RateLimiter::with_clock(self.rate_limit, Arc::clone(&clock)))
            }
            LimiterBackend::Custom(limiter) => limiter,
            #[cfg(feature = "redis")]
            LimiterBackend::Redis(config) => Arc::new(crate::ratelimit::redis::RedisLimiter::new(
                config.quotas(self.rate_limit),
            )?),
        };
        Ok(Client {
            inner: Arc::new(ClientInner {
                http,
                request: RequestSettings {
                    endpoint,
                    region: self.region,
                    language: self.language,
                    request_client,
                    sign_method: self.sign_method,
                    signer: Tc3Signer::new(),
                },
                credentials,
                limiter,
                retry: RetryStrategy::new(self.retry),
                skew: self.skew.unwrap_or_default(),
                skew_correction: self.skew_correction,
                clock,
                request_timeout: self.request_timeout,
                service: self.service,
                version: self.version,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// Which limiter the client waits on.
enum LimiterBackend {
    InProcess,
    Custom(Arc<dyn Limiter>),
    #[cfg(feature = "redis")]
    Redis(Box<crate::ratelimit::redis::RedisLimiterConfig>),
}
