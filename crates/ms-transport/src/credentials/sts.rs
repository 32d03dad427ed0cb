//! STS `AssumeRole`: temporary credentials of a CAM role, requested with long-term ones.
//!
//! As the official SDKs do (Go `common/role_arn_provider.go`, Python
//! `STSAssumeRoleCredential`, Java `STSCredential`, Node.js `STSCredential`): a TC3-signed
//! `AssumeRole` call to `sts.tencentcloudapi.com` (service `sts`, version `2018-08-13`, region
//! `ap-guangzhou`) with `RoleArn`, `RoleSessionName` and `DurationSeconds` (default 7200,
//! at most 43200); the reply's `Credentials.{TmpSecretId,TmpSecretKey,Token}` are used until
//! shortly before `ExpiredTime`. The endpoint can be overridden as in the SDKs (their
//! `endpoint` argument; tccli's `sts.endpoint`).
//!
//! Beyond the SDKs: `Policy` (an inline policy narrowing the role's permissions; the API
//! wants it URL-encoded, which is done here) and `ExternalId`, both documented parameters
//! of `AssumeRole` that the SDKs' providers do not pass; the request goes through this
//! crate's [`Client`] (TLS, proxies, timeouts, retries of a call that is safe to repeat);
//! concurrent callers share one refresh ([`CachedProvider`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tc3_sign::Credentials;

use super::cache::{
    CachedProvider, FetchCredentials, FetchFuture, RefreshPolicy, TemporaryCredentials,
};
use super::cvm::{expired_time, temporary_from};
use super::{ClientFactory, CredentialsFuture, ProvideCredentials};
use crate::clock::{Clock, or_system};
use crate::error::Error;
use crate::{Client, ClientBuilder, Operation};

/// The STS endpoint of the official SDKs.
pub const STS_ENDPOINT: &str = "sts.tencentcloudapi.com";
/// The STS service name signed into the credential scope.
pub const STS_SERVICE: &str = "sts";
/// The STS API version.
pub const STS_VERSION: &str = "2018-08-13";
/// The region the official SDKs send STS calls to.
pub const STS_REGION: &str = "ap-guangzhou";
/// Default session duration (the SDKs' `defaultDurationSeconds`).
pub const DEFAULT_DURATION: Duration = Duration::from_secs(7200);
/// Longest session STS grants.
pub const MAX_DURATION: Duration = Duration::from_secs(43_200);
/// Prefix of the generated session names (the SDKs use `tencentcloud-<lang>-sdk-`).
pub const SESSION_NAME_PREFIX: &str = "ms-rust-sdk-";

const NAME: &str = "STS AssumeRole";

/// The temporary credentials of a role, assumed with long-term credentials (see the
/// [module docs](self)).
///
/// ```no_run
/// # async fn demo() -> Result<(), ms_transport::Error> {
/// use ms_transport::{AssumeRoleProvider, Client, EnvironmentProvider};
/// let role = AssumeRoleProvider::builder("qcs::cam::uin/100000000001:roleName/ci-scanner")
///     .source(EnvironmentProvider::new())
///     .session_name("nightly-scan")
///     .build()?;
/// let client = Client::builder().credentials(role).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AssumeRoleProvider {
    cache: CachedProvider<AssumeRoleFetcher>,
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AssumeRoleProvider")
            .field(&self.cache)
            .finish()
    }
}

impl AssumeRoleProvider {
    /// A builder for the role `role_arn` (`qcs::cam::uin/<uin>:roleName/<name>`).
    pub fn builder(role_arn: impl Into<String>) -> AssumeRoleBuilder {
        AssumeRoleBuilder::new(role_arn.into())
    }

    /// The credentials (cached; refreshed ahead of expiry).
    pub async fn load(&self) -> Result<Credentials, Error> {
        self.cache.load().await
    }

    /// The cache, to inspect the expiry or invalidate it.
    pub fn cache(&self) -> &CachedProvider<AssumeRoleFetcher> {
        &self.cache
    }
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// Builds an [`AssumeRoleProvider`].
pub struct AssumeRoleBuilder {
    role_arn: String,
    source: Option<Arc<dyn ProvideCredentials>>,
    session_name: Option<String>,
    duration: Duration,
    policy: Option<String>,
    external_id: Option<String>,
    endpoint: String,
    region: String,
    client: ClientBuilder,
    refresh: RefreshPolicy,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for AssumeRoleBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleBuilder")
            .field("role_arn", &self.role_arn)
            .field("source", &self.source)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl AssumeRoleBuilder {
    fn new(role_arn: String) -> Self {
        Self {
            role_arn,
            source: None,
            session_name: None,
            duration: DEFAULT_DURATION,
            policy: None,
            external_id: None,
            endpoint: STS_ENDPOINT.to_owned(),
            region: STS_REGION.to_owned(),
            client: ClientBuilder::new(),
            refresh: RefreshPolicy::default(),
            clock: None,
        }
    }

    /// The long-term credentials that sign the `AssumeRole` call (required).
    pub fn source(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.source = Some(Arc::new(provider));
        self
    }

    /// The source credentials, already shared.
    pub fn source_arc(mut self, provider: Arc<dyn ProvideCredentials>) -> Self {
        self.source = Some(provider);
        self
    }

    /// `RoleSessionName`: 2 to 128 of `A-Z a-z 0-9 + = , . @ _ -`. Default
    /// `ms-rust-sdk-<microseconds since the epoch>`, as the SDKs name theirs.
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }

    /// `DurationSeconds`: from 1 s to 12 h. Default 2 h.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// `Policy`: an inline CAM policy (JSON) that narrows the role's permissions. Pass the
    /// policy itself; it is URL-encoded as the API requires.
    pub fn policy(mut self, policy_json: impl Into<String>) -> Self {
        self.policy = Some(policy_json.into());
        self
    }

    /// `ExternalId`: the role's external ID, when its trust policy asks for one (2 to 128
    /// of `A-Z a-z 0-9 + = , . @ : / _ -`).
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }

    /// The STS endpoint: a host or a base URL (default `sts.tencentcloudapi.com`). An
    /// `http://` URL (a local fake, a private gateway) is allowed as given.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// `X-TC-Region` of the STS call (default `ap-guangzhou`, as the SDKs).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// HTTP settings of the STS client (proxy, TLS roots, timeouts, retries). Its endpoint,
    /// region, service and credentials are replaced by this builder's.
    pub fn client(mut self, builder: ClientBuilder) -> Self {
        self.client = builder;
        self
    }

    /// When to refresh (default: 300 s before expiry, at most half the lifetime).
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.refresh = policy;
        self
    }

    /// The clock that decides expiry (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Checks every parameter and builds the provider (no I/O).
    pub fn build(self) -> Result<AssumeRoleProvider, Error> {
        let role_arn = check_role_arn(&self.role_arn)?;
        let source = self.source.ok_or_else(|| {
            Error::config(format!(
                "{NAME}: no source credentials to sign the call (AssumeRoleBuilder::source)"
            ))
        })?;
        let session_name = match self.session_name {
            Some(s) => check_token("RoleSessionName", &s, "+=,.@_-")?,
            None => default_session_name(),
        };
        let duration = check_duration(self.duration)?;
        let mut params = Map::new();
        params.insert("RoleArn".into(), Value::String(role_arn.clone()));
        params.insert("RoleSessionName".into(), Value::String(session_name));
        params.insert("DurationSeconds".into(), Value::from(duration));
        if let Some(policy) = &self.policy {
            params.insert("Policy".into(), Value::String(encode_policy(policy)?));
        }
        if let Some(id) = &self.external_id {
            params.insert(
                "ExternalId".into(),
                Value::String(check_token("ExternalId", id, "+=,.@:/_-")?),
            );
        }
        let client = sts_client(self.client, &self.endpoint, &self.region)?
            .credentials_arc(source)
            .build()
            .map_err(|e| Error::config(format!("{NAME}: {}", e.message())))?;
        let fetcher = AssumeRoleFetcher {
            client,
            role_arn,
            params: Value::Object(params),
        };
        let clock = or_system(self.clock);
        Ok(AssumeRoleProvider {
            cache: CachedProvider::with_policy(fetcher, self.refresh, clock),
        })
    }
}

/// The role `role_arn` assumed with `source` (the environment's or a tccli profile's
/// long-term credentials), with the caller's STS endpoint and HTTP client when given (else
/// `sts.tencentcloudapi.com` and the default client): what the default chain and
/// [`TccliProvider`](super::TccliProvider) configure.
pub(crate) fn assume_with(
    role_arn: String,
    session_name: Option<String>,
    source: Credentials,
    endpoint: Option<String>,
    client: Option<&ClientFactory>,
) -> Result<AssumeRoleProvider, Error> {
    let mut b = AssumeRoleProvider::builder(role_arn).source(super::StaticProvider::new(source));
    if let Some(name) = session_name {
        b = b.session_name(name);
    }
    if let Some(e) = endpoint {
        b = b.endpoint(e);
    }
    if let Some(make) = client {
        b = b.client(make());
    }
    b.build()
}

/// The STS client settings shared by `AssumeRole` and `AssumeRoleWithWebIdentity`.
pub(crate) fn sts_client(
    builder: ClientBuilder,
    endpoint: &str,
    region: &str,
) -> Result<ClientBuilder, Error> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(Error::config("STS endpoint: empty"));
    }
    let mut builder = builder
        .endpoint(endpoint)
        .region(region)
        .service(STS_SERVICE, STS_VERSION)
        // Credentials are fetched rarely; the ms quotas do not apply to STS.
        .disable_rate_limit();
    if endpoint.starts_with("http://") {
        builder = builder.allow_http();
    }
    Ok(builder)
}

/// Calls STS `action` (`AssumeRole`, `AssumeRoleWithWebIdentity`) with `params` and reads
/// the temporary credentials of its reply; an error names `source`.
pub(crate) async fn assume(
    client: &Client,
    action: &str,
    params: &Value,
    source: &str,
) -> Result<TemporaryCredentials, Error> {
    let reply = client
        .send_operation(sts_operation(action), params)
        .await
        .map_err(|e| e.credentials_like(format!("{source}: {e}")))?;
    parse_sts_reply(&reply, source)
}

/// The STS call `action` (`AssumeRole`, `AssumeRoleWithWebIdentity`).
fn sts_operation(action: &str) -> Operation<'_> {
    Operation {
        service: STS_SERVICE,
        version: STS_VERSION,
        action,
        // Asking again only issues other temporary credentials: safe to retry.
        idempotency: ms_model::Idempotency::Idempotent,
    }
}

/// Reads `Credentials` and `ExpiredTime` from an STS `Response` object.
fn parse_sts_reply(reply: &Value, source: &str) -> Result<TemporaryCredentials, Error> {
    let obj = reply
        .as_object()
        .ok_or_else(|| Error::credentials(format!("{source}: the reply is not a JSON object")))?;
    let creds = match obj.get("Credentials") {
        Some(Value::Object(c)) => c,
        Some(_) => {
            return Err(Error::credentials(format!(
                "{source}: Credentials is not an object"
            )));
        }
        None => {
            return Err(Error::credentials(format!(
                "{source}: the reply has no Credentials"
            )));
        }
    };
    let expires_at = expired_time(obj, source)?;
    temporary_from(creds, expires_at, source)
}

/// The fetch half of [`AssumeRoleProvider`].
pub struct AssumeRoleFetcher {
    client: Client,
    role_arn: String,
    params: Value,
}

impl fmt::Debug for AssumeRoleFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleFetcher")
            .field("role_arn", &self.role_arn)
            .field("endpoint", &self.client.endpoint().base_url())
            .finish_non_exhaustive()
    }
}

impl AssumeRoleFetcher {
    async fn fetch_once(&self) -> Result<TemporaryCredentials, Error> {
        let source = format!("{NAME} {}", self.role_arn);
        assume(&self.client, "AssumeRole", &self.params, &source).await
    }
}

impl FetchCredentials for AssumeRoleFetcher {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.fetch_once())
    }
}

/// `ms-rust-sdk-<microseconds>`.
pub(crate) fn default_session_name() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!("{SESSION_NAME_PREFIX}{micros}")
}

/// A role ARN: non-empty, printable, at most 1024 characters.
pub(crate) fn check_role_arn(arn: &str) -> Result<String, Error> {
    let arn = arn.trim();
    if arn.is_empty() {
        return Err(Error::config("RoleArn: empty"));
    }
    if arn.len() > 1024 || arn.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::config(
            "RoleArn: expected qcs::cam::uin/<uin>:roleName/<name> (no spaces or control characters, at most 1024 characters)",
        ));
    }
    Ok(arn.to_owned())
}

/// 2 to 128 of word characters and `extra`.
pub(crate) fn check_token(field: &str, value: &str, extra: &str) -> Result<String, Error> {
    let v = value.trim();
    let ok = (2..=128).contains(&v.chars().count())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
    if ok {
        Ok(v.to_owned())
    } else {
        let shown: String = extra.chars().flat_map(|c| [c, ' ']).collect();
        Err(Error::config(format!(
            "{field}: expected 2 to 128 of A-Z a-z 0-9 {}",
            shown.trim_end()
        )))
    }
}

/// `DurationSeconds` in 1..=43200.
pub(crate) fn check_duration(d: Duration) -> Result<u64, Error> {
    let secs = d.as_secs();
    if secs == 0 || d > MAX_DURATION {
        return Err(Error::config(format!(
            "DurationSeconds: {secs} is outside 1..=43200 (12 hours)"
        )));
    }
    Ok(secs)
}

/// Checks the policy is a JSON object and URL-encodes it (RFC 3986: everything but
/// `A-Z a-z 0-9 - . _ ~` as `%XX`), as `AssumeRole` documents for `Policy`.
fn encode_policy(policy: &str) -> Result<String, Error> {
    match serde_json::from_str::<Value>(policy) {
        Ok(Value::Object(_)) => {}
        Ok(_) => return Err(Error::config("Policy: expected a JSON object")),
        Err(e) => return Err(Error::config(format!("Policy: not valid JSON: {e}"))),
    }
    Ok(percent_encode(policy.trim()))
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_naming_the_field() {
        let b = || {
            AssumeRoleProvider::builder("qcs::cam::uin/1:roleName/r")
                .source(crate::StaticProvider::from_parts("AKID", "k", None).expect("creds"))
        };
        assert!(b().build().is_ok());
        let e = AssumeRoleProvider::builder("qcs::cam::uin/1:roleName/r")
            .build()
            .expect_err("no source");
        assert!(e.message().contains("source"), "{e}");
        for (builder, field) in [
            (b().duration(Duration::ZERO), "DurationSeconds"),
            (b().duration(Duration::from_secs(43_201)), "DurationSeconds"),
            (b().session_name("x"), "RoleSessionName"),
            (b().session_name("has space"), "RoleSessionName"),
            (b().external_id("a\u{7}b"), "ExternalId"),
            (b().policy("[1]"), "Policy"),
            (b().policy("{"), "Policy"),
            (b().endpoint(""), "endpoint"),
            (b().endpoint("ftp://x"), "endpoint"),
        ] {
            let e = builder.build().expect_err(field);
            assert_eq!(e.kind(), crate::ErrorKind::Config);
            assert!(e.message().contains(field), "{field}: {e}");
        }
        let e = AssumeRoleProvider::builder(" ")
            .source(crate::StaticProvider::from_parts("AKID", "k", None).expect("creds"))
            .build()
            .expect_err("arn");
        assert!(e.message().contains("RoleArn"), "{e}");
    }

    #[test]
    fn policy_is_percent_encoded() {
        assert_eq!(
            encode_policy(r#"{"version":"2.0","a":"b/c d"}"#).expect("ok"),
            "%7B%22version%22%3A%222.0%22%2C%22a%22%3A%22b%2Fc%20d%22%7D"
        );
        assert_eq!(percent_encode("A-z_0.9~é"), "A-z_0.9~%C3%A9");
    }

    #[test]
    fn default_session_names_are_valid() {
        let name = default_session_name();
        assert!(name.starts_with(SESSION_NAME_PREFIX));
        check_token("RoleSessionName", &name, "+=,.@_-").expect("valid");
    }
}
