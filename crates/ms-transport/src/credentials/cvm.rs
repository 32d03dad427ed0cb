//! The CVM instance role: temporary credentials from the instance metadata service.
//!
//! As the official SDKs do (Go `common/cvm_role_provider.go`, Python `CVMRoleCredential`,
//! Java `CvmRoleCredential`, Node.js `cvm_role_credential.ts`):
//!
//! 1. `GET http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/` answers
//!    the name of the role bound to the instance (404: no role bound);
//! 2. `GET .../cam/security-credentials/<role>` answers
//!    `{"TmpSecretId", "TmpSecretKey", "Token", "ExpiredTime", "Expiration", "Code": "Success"}`;
//! 3. the credentials are cached and refreshed 300 s before `ExpiredTime`.
//!
//! Beyond the SDKs: the role name is remembered but discovered again when the metadata
//! service stops knowing it (the role was unbound or replaced); every request has a timeout
//! (the SDKs' have none) and a size cap; concurrent callers share one refresh
//! ([`CachedProvider`]); a reply that is not what the service documents is an error that
//! names the member, never echoing the reply (it holds the key).
//! The metadata service is reached directly, never through a proxy.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tc3_sign::Credentials;
use tracing::debug;

use super::cache::{
    CachedProvider, FetchCredentials, FetchFuture, RefreshPolicy, TemporaryCredentials,
};
use super::{CredentialsFuture, ProvideCredentials};
use crate::clock::{Clock, or_system};
use crate::error::Error;

/// The metadata service of CVM instances (the official SDKs' `metaUrl`).
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://metadata.tencentyun.com/latest/meta-data/";
/// The path, below the metadata endpoint, of the role name and the role credentials.
pub const SECURITY_CREDENTIALS_PATH: &str = "cam/security-credentials/";
/// Default timeout of one metadata request, connection included.
pub const DEFAULT_METADATA_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest metadata reply read.
const MAX_REPLY_BYTES: usize = 64 * 1024;

const NAME: &str = "CVM role";

/// Credentials of the role bound to this CVM instance (see the [module docs](self)).
///
/// ```no_run
/// # async fn demo() -> Result<(), ms_transport::Error> {
/// use ms_transport::{Client, CvmRoleProvider};
/// let client = Client::builder().credentials(CvmRoleProvider::new()).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CvmRoleProvider {
    cache: CachedProvider<CvmRoleFetcher>,
}

impl fmt::Debug for CvmRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CvmRoleProvider").field(&self.cache).finish()
    }
}

impl Default for CvmRoleProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl CvmRoleProvider {
    /// The role bound to the instance, from the default metadata endpoint.
    pub fn new() -> Self {
        CvmRoleBuilder::default().assemble(DEFAULT_METADATA_ENDPOINT.to_owned(), None)
    }

    /// A builder to name the role, override the endpoint, timeout or refresh policy.
    pub fn builder() -> CvmRoleBuilder {
        CvmRoleBuilder::default()
    }

    /// The credentials (cached; refreshed ahead of expiry).
    pub async fn load(&self) -> Result<Credentials, Error> {
        self.cache.load().await
    }

    /// The cache, to inspect the expiry or invalidate it.
    pub fn cache(&self) -> &CachedProvider<CvmRoleFetcher> {
        &self.cache
    }

    /// Whether a role is bound: `Ok(None)` when the metadata service is unreachable, times
    /// out or says no role is bound (the default chain then moves on), `Ok(Some(role))`
    /// when one is.
    pub async fn discover(&self) -> Result<Option<String>, Error> {
        self.cache.fetcher().role_name().await
    }
}

impl ProvideCredentials for CvmRoleProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// Builds a [`CvmRoleProvider`].
#[derive(Debug)]
pub struct CvmRoleBuilder {
    endpoint: String,
    role: Option<String>,
    timeout: Duration,
    policy: RefreshPolicy,
    clock: Option<Arc<dyn Clock>>,
}

impl Default for CvmRoleBuilder {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_METADATA_ENDPOINT.to_owned(),
            role: None,
            timeout: DEFAULT_METADATA_TIMEOUT,
            policy: RefreshPolicy::default(),
            clock: None,
        }
    }
}

impl CvmRoleBuilder {
    /// The metadata endpoint, an `http://` URL (default
    /// [`DEFAULT_METADATA_ENDPOINT`]); tests and private deployments point it elsewhere.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Uses this role instead of asking the metadata service which one is bound (the SDKs'
    /// `NewCvmRoleProvider(roleName)`).
    pub fn role(mut self, name: impl Into<String>) -> Self {
        self.role = Some(name.into());
        self
    }

    /// Timeout of each metadata request, connection included. Default 2 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When to refresh (default: 300 s before expiry).
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The clock that decides expiry (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the provider (no I/O).
    pub fn build(self) -> Result<CvmRoleProvider, Error> {
        let base = parse_http_base(&self.endpoint)?;
        let role = match &self.role {
            Some(r) => Some(check_role_name(r).map_err(Error::config)?),
            None => None,
        };
        Ok(self.assemble(base, role))
    }

    /// The provider for a checked endpoint and role name.
    fn assemble(self, base: String, role: Option<String>) -> CvmRoleProvider {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(self.timeout));
        connector.set_nodelay(true);
        let http = LegacyClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        let fetcher = CvmRoleFetcher {
            base,
            fixed_role: role.is_some(),
            role: Mutex::new(role),
            timeout: self.timeout,
            http,
        };
        let clock = or_system(self.clock);
        CvmRoleProvider {
            cache: CachedProvider::with_policy(fetcher, self.policy, clock),
        }
    }
}

/// `http://host[:port]/path/`, with the trailing slash added.
fn parse_http_base(url: &str) -> Result<String, Error> {
    let url = url.trim();
    let bad = |why: &str| Error::config(format!("metadata endpoint {url:?}: {why}"));
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("expected an http:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(['?', '#', '@', ' ']) {
        return Err(bad("expected http://host[:port]/path/"));
    }
    let base = if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    };
    base.parse::<http::Uri>().map_err(|e| bad(&e.to_string()))?;
    Ok(base)
}

/// A role name as the metadata service answers it: trimmed, first line, safe in a path.
fn check_role_name(raw: &str) -> Result<String, String> {
    let name = raw.lines().next().unwrap_or("").trim();
    if name.is_empty() {
        return Err("CVM role: the role name is empty".to_owned());
    }
    if name.len() > 128
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        return Err(format!(
            "CVM role: {:?} is not a role name (at most 128 of A-Z a-z 0-9 + = , . @ _ -)",
            name.chars().take(64).collect::<String>()
        ));
    }
    Ok(name.to_owned())
}

/// The fetch half of [`CvmRoleProvider`]: asks the metadata service.
pub struct CvmRoleFetcher {
    base: String,
    fixed_role: bool,
    role: Mutex<Option<String>>,
    timeout: Duration,
    http: LegacyClient<HttpConnector, Empty<Bytes>>,
}

impl fmt::Debug for CvmRoleFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CvmRoleFetcher")
            .field("endpoint", &self.base)
            .field(
                "role",
                &*self.role.lock().unwrap_or_else(|e| e.into_inner()),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What a metadata GET gave.
enum Got {
    Ok(Bytes),
    Status(u16),
    /// No answer: connection refused or failed, timeout (not on a CVM).
    Unreachable(String),
}

impl CvmRoleFetcher {
    async fn get(&self, path: &str) -> Got {
        let url = format!("{}{path}", self.base);
        let Ok(uri) = url.parse::<http::Uri>() else {
            return Got::Unreachable(format!("invalid URL {url}"));
        };
        let exchange = async {
            let response = self
                .http
                .get(uri)
                .await
                .map_err(|e| Error::connect(e).message().to_owned())?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_REPLY_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the reply: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Got::Unreachable(format!("no reply within {:?}", self.timeout)),
            Ok(Err(e)) => Got::Unreachable(e),
            Ok(Ok((200, body))) => Got::Ok(body),
            Ok(Ok((status, _))) => Got::Status(status),
        }
    }

    fn remembered(&self) -> Option<String> {
        self.role.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The role bound to the instance (`None`: no metadata service or no role bound).
    async fn role_name(&self) -> Result<Option<String>, Error> {
        if let Some(role) = self.remembered() {
            return Ok(Some(role));
        }
        match self.get(SECURITY_CREDENTIALS_PATH).await {
            Got::Ok(body) => {
                let text = String::from_utf8_lossy(&body);
                let role = check_role_name(&text).map_err(Error::credentials)?;
                debug!(role = %role, "CVM role discovered");
                *self.role.lock().unwrap_or_else(|e| e.into_inner()) = Some(role.clone());
                Ok(Some(role))
            }
            Got::Status(404) => {
                debug!("the metadata service says no CVM role is bound");
                Ok(None)
            }
            Got::Status(status) => Err(metadata_status_error(
                format!(
                    "{NAME}: the metadata service answered HTTP {status} to the role name request"
                ),
                status,
            )),
            Got::Unreachable(why) => {
                debug!(reason = %why, "no metadata service");
                Ok(None)
            }
        }
    }

    async fn fetch_once(&self) -> Result<TemporaryCredentials, Error> {
        let role = self.role_name().await?.ok_or_else(|| {
            Error::credentials(format!(
                "{NAME}: no role is bound to this instance, or no metadata service at {}",
                self.base
            ))
        })?;
        let path = format!("{SECURITY_CREDENTIALS_PATH}{role}");
        match self.get(&path).await {
            Got::Ok(body) => parse_role_credentials(&body, &role),
            Got::Status(404) => {
                // The role was unbound or replaced: discover it again next time.
                if !self.fixed_role {
                    *self.role.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
                Err(Error::credentials(format!(
                    "{NAME}: the metadata service does not know the role {role:?} (HTTP 404)"
                )))
            }
            Got::Status(status) => Err(metadata_status_error(
                format!(
                    "{NAME}: the metadata service answered HTTP {status} for the role {role:?}"
                ),
                status,
            )),
            // Known to be there a moment ago (the role name came from it): may pass.
            Got::Unreachable(why) => Err(Error::credentials_unavailable(format!(
                "{NAME}: metadata service at {}: {why}",
                self.base
            ))),
        }
    }
}

impl FetchCredentials for CvmRoleFetcher {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.fetch_once())
    }
}

/// An HTTP status of the metadata service: a server error or throttling may pass (tried
/// again), anything else is an answer.
fn metadata_status_error(message: String, status: u16) -> Error {
    if status >= 500 || status == 429 {
        Error::credentials_unavailable(message)
    } else {
        Error::credentials(message)
    }
}

/// Reads a string member, naming it (never its value) when it is missing or not a string.
pub(crate) fn string_member<'a>(
    obj: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
    source: &str,
) -> Result<&'a str, Error> {
    match obj.get(name) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(serde_json::Value::String(_)) => {
            Err(Error::credentials(format!("{source}: {name} is empty")))
        }
        Some(_) => Err(Error::credentials(format!(
            "{source}: {name} is not a string"
        ))),
        None => Err(Error::credentials(format!(
            "{source}: the reply has no {name}"
        ))),
    }
}

/// Reads `ExpiredTime` (Unix seconds; an integer, or a float as Java's Gson reads it).
pub(crate) fn expired_time(
    obj: &serde_json::Map<String, serde_json::Value>,
    source: &str,
) -> Result<u64, Error> {
    let v = obj
        .get("ExpiredTime")
        .ok_or_else(|| Error::credentials(format!("{source}: the reply has no ExpiredTime")))?;
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.is_finite() && *f > 0.0 && *f < 1e12)
                .map(|f| f as u64)
        })
        .filter(|t| *t > 0)
        .ok_or_else(|| {
            Error::credentials(format!("{source}: ExpiredTime is not a positive Unix time"))
        })
}

/// Builds credentials from TmpSecretId / TmpSecretKey / Token members.
pub(crate) fn temporary_from(
    creds: &serde_json::Map<String, serde_json::Value>,
    expires_at: u64,
    source: &str,
) -> Result<TemporaryCredentials, Error> {
    let id = string_member(creds, "TmpSecretId", source)?;
    let key = string_member(creds, "TmpSecretKey", source)?;
    let token = string_member(creds, "Token", source)?;
    let credentials = Credentials::new(id, key)
        .map_err(|e| Error::credentials(source).with_source(e))?
        .with_token(token);
    Ok(TemporaryCredentials::new(credentials, expires_at))
}

fn parse_role_credentials(body: &[u8], role: &str) -> Result<TemporaryCredentials, Error> {
    let source = format!("{NAME} {role:?}");
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        Error::credentials(format!(
            "{source}: the metadata reply is not JSON ({} bytes)",
            body.len()
        ))
    })?;
    let obj = value.as_object().ok_or_else(|| {
        Error::credentials(format!("{source}: the metadata reply is not a JSON object"))
    })?;
    match obj.get("Code").and_then(|c| c.as_str()) {
        Some("Success") => {}
        Some(code) => {
            return Err(Error::credentials(format!(
                "{source}: the metadata service answered Code {:?}",
                code.chars().take(64).collect::<String>()
            )));
        }
        None => {
            return Err(Error::credentials(format!(
                "{source}: the metadata reply has no Code"
            )));
        }
    }
    let expires_at = expired_time(obj, &source)?;
    temporary_from(obj, expires_at, &source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_and_role_name_checks() {
        assert_eq!(
            parse_http_base("http://127.0.0.1:9/latest/meta-data").expect("ok"),
            "http://127.0.0.1:9/latest/meta-data/"
        );
        assert!(parse_http_base("https://x/").is_err());
        assert!(parse_http_base("http:///x").is_err());
        assert_eq!(check_role_name("  ci-role\n").expect("ok"), "ci-role");
        assert!(check_role_name("").is_err());
        assert!(check_role_name("../../etc").is_err());
        assert!(check_role_name("a b").is_err());
    }

    #[test]
    fn malformed_replies_name_the_member_and_never_echo_the_key() {
        let cases: [(&[u8], &str); 7] = [
            (b"<html>", "not JSON"),
            (b"[1]", "not a JSON object"),
            (br#"{"TmpSecretKey":"sekrit"}"#, "no Code"),
            (br#"{"Code":"Failed","TmpSecretKey":"sekrit"}"#, "Failed"),
            (
                br#"{"Code":"Success","TmpSecretId":"AKID","TmpSecretKey":"sekrit","Token":"t"}"#,
                "ExpiredTime",
            ),
            (
                br#"{"Code":"Success","ExpiredTime":"soon","TmpSecretKey":"sekrit"}"#,
                "ExpiredTime",
            ),
            (
                br#"{"Code":"Success","ExpiredTime":2000000000,"TmpSecretId":"AKID","TmpSecretKey":5,"Token":"t"}"#,
                "TmpSecretKey is not a string",
            ),
        ];
        for (body, expected) in cases {
            let e = parse_role_credentials(body, "r").expect_err("malformed");
            let shown = format!("{e} {e:?}");
            assert!(shown.contains(expected), "{shown}");
            assert!(!shown.contains("sekrit"), "{shown}");
        }
        let ok = parse_role_credentials(
            br#"{"Code":"Success","ExpiredTime":2000000000.0,"TmpSecretId":"AKIDt","TmpSecretKey":"k","Token":"t","Expiration":"x"}"#,
            "r",
        )
        .expect("ok");
        assert_eq!(ok.expires_at(), 2_000_000_000);
        assert_eq!(ok.credentials().token(), Some("t"));
    }
}
