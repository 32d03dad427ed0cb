//! The OIDC role of a TKE workload: STS `AssumeRoleWithWebIdentity` with the token TKE
//! mounts into the pod.
//!
//! As the official SDKs do (Go `common/oidc_role_arn_provider.go`, Python
//! `OIDCRoleArnCredential` / `DefaultTkeOIDCRoleArnProvider`, Java `OIDCRoleArnProvider`,
//! Node.js `OIDCRoleArnCredential`): an **unsigned** `AssumeRoleWithWebIdentity` call
//! (`Authorization: SKIP`) to `sts.tencentcloudapi.com` (service `sts`, version `2018-08-13`)
//! with `ProviderId`, `WebIdentityToken`, `RoleArn`, `RoleSessionName` and
//! `DurationSeconds` (default 7200). On TKE the values come from the environment:
//!
//! | variable | parameter |
//! | --- | --- |
//! | `TKE_REGION` | `X-TC-Region` of the call |
//! | `TKE_PROVIDER_ID` | `ProviderId` |
//! | `TKE_WEB_IDENTITY_TOKEN_FILE` | `WebIdentityToken`: the file's contents |
//! | `TKE_ROLE_ARN` | `RoleArn` |
//!
//! As in the SDKs' TKE providers, the token file is read again at every refresh (the
//! kubelet rotates it) and each refresh gets a new session name. The endpoint can be
//! overridden (the SDKs' `Endpoint`). Refresh ahead of expiry and one refresh for many
//! callers come from [`CachedProvider`].

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tc3_sign::Credentials;

use super::cache::{
    CachedProvider, FetchCredentials, FetchFuture, RefreshPolicy, TemporaryCredentials,
};
use super::sts::{
    DEFAULT_DURATION, STS_ENDPOINT, assume, check_duration, check_role_arn, check_token,
    default_session_name, sts_client,
};
use super::{CredentialsFuture, Detected, EnvLookup, ProvideCredentials, non_empty};
use crate::clock::{Clock, or_system};
use crate::error::Error;
use crate::request::SignMethod;
use crate::{Client, ClientBuilder};

/// The environment variables TKE sets for a workload with an OIDC role.
pub mod tke_env {
    /// Region of the `AssumeRoleWithWebIdentity` call.
    pub const REGION: &str = "TKE_REGION";
    /// The identity provider (`ProviderId`).
    pub const PROVIDER_ID: &str = "TKE_PROVIDER_ID";
    /// The file holding the OIDC token (`WebIdentityToken`).
    pub const WEB_IDENTITY_TOKEN_FILE: &str = "TKE_WEB_IDENTITY_TOKEN_FILE";
    /// The role to assume (`RoleArn`).
    pub const ROLE_ARN: &str = "TKE_ROLE_ARN";
    /// All four, in the order above.
    pub const ALL: [&str; 4] = [REGION, PROVIDER_ID, WEB_IDENTITY_TOKEN_FILE, ROLE_ARN];
}

const NAME: &str = "STS AssumeRoleWithWebIdentity";
/// Largest token file read.
const MAX_TOKEN_BYTES: u64 = 1024 * 1024;

/// Where the OIDC token comes from.
#[derive(Clone)]
enum TokenSource {
    /// Given once.
    Value(String),
    /// Read at every refresh.
    File(PathBuf),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Value(_) => f.write_str("Value(<redacted>)"),
            TokenSource::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// Temporary credentials of a role assumed with an OIDC token (see the
/// [module docs](self)).
///
/// ```no_run
/// # async fn demo() -> Result<(), ms_transport::Error> {
/// use ms_transport::{Client, WebIdentityProvider};
/// // In a TKE pod with an OIDC role: TKE_REGION, TKE_PROVIDER_ID,
/// // TKE_WEB_IDENTITY_TOKEN_FILE and TKE_ROLE_ARN are set.
/// let client = Client::builder()
///     .credentials(WebIdentityProvider::from_tke_env()?)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebIdentityProvider {
    cache: CachedProvider<WebIdentityFetcher>,
}

impl fmt::Debug for WebIdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WebIdentityProvider")
            .field(&self.cache)
            .finish()
    }
}

impl WebIdentityProvider {
    /// A builder; region, provider, role and token are required.
    pub fn builder() -> WebIdentityBuilder {
        WebIdentityBuilder::default()
    }

    /// The TKE workload's role, from `TKE_REGION`, `TKE_PROVIDER_ID`,
    /// `TKE_WEB_IDENTITY_TOKEN_FILE` and `TKE_ROLE_ARN` (an error names the missing ones).
    pub fn from_tke_env() -> Result<Self, Error> {
        Self::tke_builder(&|name| std::env::var(name).ok())?
            .ok_or_else(|| {
                Error::credentials(format!("{NAME}: {} are not set", tke_env::ALL.join(", ")))
            })?
            .build()
    }

    /// The builder the TKE variables describe: `Ok(None)` when none is set, an error naming
    /// the missing ones when only some are.
    fn tke_builder(
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<WebIdentityBuilder>, Error> {
        let values: Vec<Option<String>> = tke_env::ALL
            .iter()
            .map(|name| non_empty(lookup(name)))
            .collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<&str> = tke_env::ALL
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(Error::credentials(format!(
                "{NAME}: the TKE OIDC variables are incomplete: {} not set",
                missing.join(", ")
            )));
        }
        let mut present = values.into_iter().flatten();
        let (Some(region), Some(provider), Some(file), Some(role)) = (
            present.next(),
            present.next(),
            present.next(),
            present.next(),
        ) else {
            return Ok(None);
        };
        Ok(Some(
            Self::builder()
                .region(region)
                .provider_id(provider)
                .token_file(file)
                .role_arn(role),
        ))
    }

    /// For the chain: absent when no TKE variable is set.
    pub(crate) fn detect_tke(
        lookup: &EnvLookup,
        endpoint: Option<&str>,
        client: Option<ClientBuilder>,
    ) -> Result<Detected, Error> {
        match Self::tke_builder(&|name| lookup(name))? {
            None => Ok(Detected::Absent(format!(
                "TKE OIDC role: {} not set",
                tke_env::ALL.join(", ")
            ))),
            Some(mut b) => {
                if let Some(e) = endpoint {
                    b = b.endpoint(e);
                }
                if let Some(c) = client {
                    b = b.client(c);
                }
                Ok(Detected::Found(Arc::new(b.build()?)))
            }
        }
    }

    /// The credentials (cached; refreshed ahead of expiry).
    pub async fn load(&self) -> Result<Credentials, Error> {
        self.cache.load().await
    }

    /// The cache, to inspect the expiry or invalidate it.
    pub fn cache(&self) -> &CachedProvider<WebIdentityFetcher> {
        &self.cache
    }
}

impl ProvideCredentials for WebIdentityProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// Builds a [`WebIdentityProvider`].
pub struct WebIdentityBuilder {
    region: Option<String>,
    provider_id: Option<String>,
    role_arn: Option<String>,
    token: Option<TokenSource>,
    session_name: Option<String>,
    duration: Duration,
    endpoint: String,
    client: ClientBuilder,
    refresh: RefreshPolicy,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for WebIdentityBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityBuilder")
            .field("region", &self.region)
            .field("provider_id", &self.provider_id)
            .field("role_arn", &self.role_arn)
            .field("token", &self.token)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Default for WebIdentityBuilder {
    fn default() -> Self {
        Self {
            region: None,
            provider_id: None,
            role_arn: None,
            token: None,
            session_name: None,
            duration: DEFAULT_DURATION,
            endpoint: STS_ENDPOINT.to_owned(),
            client: ClientBuilder::new(),
            refresh: RefreshPolicy::default(),
            clock: None,
        }
    }
}

impl WebIdentityBuilder {
    /// `X-TC-Region` of the call (`TKE_REGION`). Required.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// `ProviderId`: the identity provider (`TKE_PROVIDER_ID`). Required.
    pub fn provider_id(mut self, id: impl Into<String>) -> Self {
        self.provider_id = Some(id.into());
        self
    }

    /// `RoleArn` (`TKE_ROLE_ARN`). Required.
    pub fn role_arn(mut self, arn: impl Into<String>) -> Self {
        self.role_arn = Some(arn.into());
        self
    }

    /// `WebIdentityToken` read from this file at every refresh
    /// (`TKE_WEB_IDENTITY_TOKEN_FILE`).
    pub fn token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token = Some(TokenSource::File(path.into()));
        self
    }

    /// `WebIdentityToken` given as is.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(TokenSource::Value(token.into()));
        self
    }

    /// `RoleSessionName` (default: `ms-rust-sdk-<microseconds>`, new at every refresh).
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }

    /// `DurationSeconds`: 1 s to 12 h. Default 2 h.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// The STS endpoint (default `sts.tencentcloudapi.com`); `http://` URLs allowed as given.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// HTTP settings of the STS client (proxy, TLS roots, timeouts, retries).
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

    /// Checks every parameter and builds the provider (no I/O: the token file is read at
    /// the first fetch).
    pub fn build(self) -> Result<WebIdentityProvider, Error> {
        let required = |v: Option<String>, what: &str| {
            v.map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| Error::config(format!("{NAME}: {what} is required")))
        };
        let region = required(self.region, "the region (TKE_REGION)")?;
        let provider_id = required(self.provider_id, "ProviderId (TKE_PROVIDER_ID)")?;
        let role_arn = check_role_arn(&required(self.role_arn, "RoleArn (TKE_ROLE_ARN)")?)?;
        let token = self.token.ok_or_else(|| {
            Error::config(format!(
                "{NAME}: WebIdentityToken is required (token or token_file; TKE_WEB_IDENTITY_TOKEN_FILE)"
            ))
        })?;
        let session_name = match self.session_name {
            Some(s) => Some(check_token("RoleSessionName", &s, "+=,.@_-")?),
            None => None,
        };
        let duration = check_duration(self.duration)?;
        let client = sts_client(self.client, &self.endpoint, &region)?
            .sign_method(SignMethod::SkipSign)
            .build()
            .map_err(|e| Error::config(format!("{NAME}: {}", e.message())))?;
        let fetcher = WebIdentityFetcher {
            client,
            provider_id,
            role_arn,
            token,
            session_name,
            duration,
        };
        let clock = or_system(self.clock);
        Ok(WebIdentityProvider {
            cache: CachedProvider::with_policy(fetcher, self.refresh, clock),
        })
    }
}

/// The fetch half of [`WebIdentityProvider`].
pub struct WebIdentityFetcher {
    client: Client,
    provider_id: String,
    role_arn: String,
    token: TokenSource,
    session_name: Option<String>,
    duration: u64,
}

impl fmt::Debug for WebIdentityFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityFetcher")
            .field("role_arn", &self.role_arn)
            .field("provider_id", &self.provider_id)
            .field("token", &self.token)
            .field("endpoint", &self.client.endpoint().base_url())
            .finish_non_exhaustive()
    }
}

impl WebIdentityFetcher {
    async fn read_token(&self) -> Result<String, Error> {
        let path = match &self.token {
            TokenSource::Value(t) => return Ok(t.trim().to_owned()),
            TokenSource::File(p) => p,
        };
        let fail = |why: String| {
            Error::credentials(format!("{NAME}: token file {}: {why}", path.display()))
        };
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| fail(e.to_string()))?;
        if meta.len() > MAX_TOKEN_BYTES {
            return Err(fail(format!("larger than {MAX_TOKEN_BYTES} bytes")));
        }
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(fail("empty".to_owned()));
        }
        Ok(token.to_owned())
    }

    async fn fetch_once(&self) -> Result<TemporaryCredentials, Error> {
        let source = format!("{NAME} {}", self.role_arn);
        let token = self.read_token().await?;
        let mut params = Map::new();
        params.insert("ProviderId".into(), Value::String(self.provider_id.clone()));
        params.insert("WebIdentityToken".into(), Value::String(token));
        params.insert("RoleArn".into(), Value::String(self.role_arn.clone()));
        params.insert(
            "RoleSessionName".into(),
            Value::String(
                self.session_name
                    .clone()
                    .unwrap_or_else(default_session_name),
            ),
        );
        params.insert("DurationSeconds".into(), Value::from(self.duration));
        assume(
            &self.client,
            "AssumeRoleWithWebIdentity",
            &Value::Object(params),
            &source,
        )
        .await
    }
}

impl FetchCredentials for WebIdentityFetcher {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.fetch_once())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tke_variables_all_none_or_named() {
        let none = WebIdentityProvider::tke_builder(&|_| None).expect("ok");
        assert!(none.is_none());
        let e = WebIdentityProvider::tke_builder(&|name| {
            (name == tke_env::REGION || name == tke_env::ROLE_ARN).then(|| "x".to_owned())
        })
        .expect_err("partial");
        assert!(
            e.message()
                .contains("TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE not set"),
            "{e}"
        );
        let all = WebIdentityProvider::tke_builder(&|name| Some(format!("v-{name}")))
            .expect("ok")
            .expect("some");
        assert_eq!(all.region.as_deref(), Some("v-TKE_REGION"));
        assert!(
            matches!(all.token, Some(TokenSource::File(ref p)) if p.ends_with("v-TKE_WEB_IDENTITY_TOKEN_FILE"))
        );
    }

    #[test]
    fn required_parameters_are_named() {
        let e = WebIdentityProvider::builder()
            .region("ap-guangzhou")
            .role_arn("qcs::cam::uin/1:roleName/r")
            .token("t")
            .build()
            .expect_err("provider");
        assert!(e.message().contains("ProviderId"), "{e}");
        let e = WebIdentityProvider::builder()
            .region("ap-guangzhou")
            .provider_id("p")
            .role_arn("qcs::cam::uin/1:roleName/r")
            .build()
            .expect_err("token");
        assert!(e.message().contains("WebIdentityToken"), "{e}");
        let b = WebIdentityProvider::builder().token("secret-oidc-token");
        assert!(!format!("{b:?}").contains("secret-oidc-token"));
    }
}
