//! Credential providers: where the client gets its SecretId, SecretKey and session token.
//!
//! The client asks a [`ProvideCredentials`] for credentials before every attempt; sources of
//! temporary credentials cache them and refresh them ahead of expiry, with one refresh shared
//! by every concurrent caller ([`CachedProvider`]).
//!
//! | provider | reads | as in the official SDKs |
//! | --- | --- | --- |
//! | [`StaticProvider`] | fixed credentials | `Credential(id, key, token)` |
//! | [`EnvironmentProvider`] | `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`, `TENCENTCLOUD_SESSION_TOKEN` (or tccli's `TENCENTCLOUD_TOKEN`) | `EnvProvider` (Go), `EnvironmentVariableCredential` (Python, Node.js) |
//! | [`ProfileProvider`] | the INI file `TENCENTCLOUD_CREDENTIALS_FILE`, else `~/.tencentcloud/credentials`, else `/etc/tencentcloud/credentials` | `ProfileProvider` (Go), `ProfileCredential` (Python, Java, Node.js) |
//! | [`TccliProvider`] | tccli's `~/.tccli/<profile>.credential` / `.configure` | tccli's `parse_global_arg` |
//! | [`CvmRoleProvider`] | the CVM instance role, from the metadata service | `CvmRoleProvider` (Go), `CVMRoleCredential` (Python), `CvmRoleCredential` (Java, Node.js) |
//! | [`AssumeRoleProvider`] | STS `AssumeRole` with long-term credentials | `RoleArnProvider` (Go), `STSAssumeRoleCredential` (Python), `STSCredential` (Java, Node.js) |
//! | [`WebIdentityProvider`] | STS `AssumeRoleWithWebIdentity` with an OIDC token (TKE: `TKE_REGION`, `TKE_PROVIDER_ID`, `TKE_WEB_IDENTITY_TOKEN_FILE`, `TKE_ROLE_ARN`) | `OIDCRoleArnProvider` (Go, Java), `OIDCRoleArnCredential` / `DefaultTkeOIDCRoleArnProvider` (Python), `OIDCRoleArnCredential` (Node.js) |
//!
//! # The default chain
//!
//! [`DefaultChain`] (what a [`Client`](crate::Client) uses when given no credentials) tries,
//! in this order, and keeps the first source that is configured:
//!
//! 1. **environment** ([`EnvironmentProvider`]); with `TENCENTCLOUD_ROLE_ARN` also set (and
//!    optionally `TENCENTCLOUD_ROLE_SESSION_NAME`), the role is assumed with those
//!    credentials, as tccli does;
//! 2. **profile file** ([`ProfileProvider`]);
//! 3. **tccli** ([`TccliProvider`]) — not in the SDKs' chains, but where tccli users keep
//!    their credentials. A profile named with [`DefaultChain::profile`] is looked for in
//!    the profile file, then here; when neither has it the chain stops with an error;
//! 4. **CVM instance role** ([`CvmRoleProvider`]), when a metadata service answers with a
//!    bound role;
//! 5. **TKE OIDC role** ([`WebIdentityProvider`]), when the `TKE_*` variables are set.
//!
//! Steps 1, 2, 4 and 5 are the order of the official SDKs (Python
//! `DefaultCredentialProvider`, Java `DefaultCredentialsProvider`, Node.js
//! `DefaultCredentialProvider`; Go's `DefaultProviderChain` stops after the CVM role). As in the Go SDK, a source that is absent (no variables,
//! no file, no metadata service) passes to the next, but a source that is present and broken
//! (both environment variables set but unusable, an unreadable or malformed file, a named
//! profile that does not exist, a metadata service that fails) stops the chain with its error: falling back silently to other credentials
//! would hide the mistake. The chain remembers the source that answered, so later calls go
//! straight to it (and to its cache).
//!
//! A source that does not answer (STS or the metadata service unreachable, timing out,
//! answering 5xx) fails with [`Error::credentials_unavailable`]: the request was not sent, so
//! the client tries the call again as after a refused connection, whatever the action (and
//! `ms` exits 3, a network failure). A source that answers "no" (a refused role, a malformed
//! reply, a broken file) fails with [`Error::credentials`], never retried (`ms` exits 2).
//!
//! Whitespace around every value is trimmed (a classic cause of signature failures), and one
//! pair of surrounding quotes is removed from profile values. Environment lookups go through an
//! injectable function so tests never touch the real process environment or `HOME`.
//!
//! No provider puts a secret (SecretKey, token, a reply holding them) into an error, a
//! `Debug` output or a log event: errors name the variable, file, member or role, never a
//! value.
//!
//! The behaviour follows the official sources as read in August 2026 (no code copied):
//! tencentcloud-sdk-go `tencentcloud/common/{provider_chain,env_provider,profile_provider,
//! cvm_role_provider,cvm_role_credential,role_arn_provider,oidc_role_arn_provider}.go`
//! (144f6c8), tencentcloud-sdk-python `tencentcloud/common/credential.py` (bf29717),
//! tencentcloud-sdk-java `common/provider/*.java` (970d68b), tencentcloud-sdk-nodejs
//! `src/common/{credential,cvm_role_credential}.ts` (48cf451) and tencentcloud-cli
//! `tccli/{configure,credentials,oauth}.py` and a service module's `parse_global_arg`
//! (6e53beb). Where they disagree (refresh margins: 30 s to 10 % of the lifetime; Go's chain
//! stops at the CVM role), this crate takes one rule and says so.

pub mod cache;
pub mod cvm;
pub mod oidc;
pub mod sts;
pub mod tccli;

pub use cache::{
    CachedProvider, DEFAULT_REFRESH_BEFORE, FetchCredentials, FetchFuture, RefreshPolicy,
    TemporaryCredentials,
};
pub use cvm::{
    CvmRoleBuilder, CvmRoleFetcher, CvmRoleProvider, DEFAULT_METADATA_ENDPOINT,
    DEFAULT_METADATA_TIMEOUT, SECURITY_CREDENTIALS_PATH,
};
pub use oidc::{WebIdentityBuilder, WebIdentityFetcher, WebIdentityProvider, tke_env};
pub use sts::{
    AssumeRoleBuilder, AssumeRoleFetcher, AssumeRoleProvider, DEFAULT_DURATION, MAX_DURATION,
    SESSION_NAME_PREFIX, STS_ENDPOINT, STS_REGION, STS_SERVICE, STS_VERSION,
};
pub use tccli::{TCCLI_DIR, TCCLI_PROFILE, TccliConfig, TccliFileFetcher, TccliProvider};

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use tc3_sign::Credentials;

use crate::ClientBuilder;
use crate::error::Error;

/// Builds the [`ClientBuilder`] (proxy, TLS roots, timeouts) of the STS calls that
/// providers make.
pub type ClientFactory = Arc<dyn Fn() -> ClientBuilder + Send + Sync>;

/// What a step of the chain found.
pub(crate) enum Detected {
    /// Not configured here; why (for the final error).
    Absent(String),
    /// Configured: the provider to use.
    Found(Arc<dyn ProvideCredentials>),
}

/// The future returned by [`ProvideCredentials::provide_credentials`].
pub type CredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, Error>> + Send + 'a>>;

/// A source of credentials. Called before every attempt; implementations that fetch remote
/// credentials should cache them until shortly before they expire.
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Returns the credentials to sign the next request with.
    fn provide_credentials(&self) -> CredentialsFuture<'_>;
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Arc<T> {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        (**self).provide_credentials()
    }
}

/// A function that looks up an environment variable.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

fn process_env() -> EnvLookup {
    Arc::new(|name| std::env::var(name).ok())
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn make_credentials(
    id: String,
    key: String,
    token: Option<String>,
    source: &str,
) -> Result<Credentials, Error> {
    let creds = Credentials::new(id.trim(), key.trim())
        .map_err(|e| Error::credentials(source).with_source(e))?;
    Ok(
        match token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
            Some(t) => creds.with_token(t),
            None => creds,
        },
    )
}

/// Fixed credentials.
#[derive(Clone)]
pub struct StaticProvider {
    credentials: Credentials,
}

impl StaticProvider {
    /// Wraps credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self { credentials }
    }

    /// Builds credentials from parts (trimmed; empty id or key is an error).
    pub fn from_parts(
        secret_id: &str,
        secret_key: &str,
        token: Option<&str>,
    ) -> Result<Self, Error> {
        make_credentials(
            secret_id.to_owned(),
            secret_key.to_owned(),
            token.map(str::to_owned),
            "static credentials",
        )
        .map(Self::new)
    }
}

impl fmt::Debug for StaticProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticProvider")
            .field("secret_id", &self.credentials.secret_id())
            .finish_non_exhaustive()
    }
}

impl ProvideCredentials for StaticProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        let c = self.credentials.clone();
        Box::pin(async move { Ok(c) })
    }
}

/// Environment variable names read by [`EnvironmentProvider`].
pub mod env_vars {
    /// SecretId.
    pub const SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
    /// SecretKey.
    pub const SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
    /// Session token (preferred name).
    pub const SESSION_TOKEN: &str = "TENCENTCLOUD_SESSION_TOKEN";
    /// Session token (tccli's name).
    pub const TOKEN: &str = "TENCENTCLOUD_TOKEN";
    /// Overrides the profile file path.
    pub const CREDENTIALS_FILE: &str = "TENCENTCLOUD_CREDENTIALS_FILE";
    /// Home directory.
    pub const HOME: &str = "HOME";
    /// A role to assume with the environment's credentials (tccli).
    pub const ROLE_ARN: &str = "TENCENTCLOUD_ROLE_ARN";
    /// The session name for [`ROLE_ARN`] (tccli).
    pub const ROLE_SESSION_NAME: &str = "TENCENTCLOUD_ROLE_SESSION_NAME";
    /// tccli's profile name.
    pub const TCCLI_PROFILE: &str = "TCCLI_PROFILE";
}

/// Credentials from `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY` and an optional
/// `TENCENTCLOUD_SESSION_TOKEN` (or `TENCENTCLOUD_TOKEN`).
#[derive(Clone)]
pub struct EnvironmentProvider {
    lookup: EnvLookup,
}

impl fmt::Debug for EnvironmentProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvironmentProvider")
            .finish_non_exhaustive()
    }
}

impl Default for EnvironmentProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl EnvironmentProvider {
    /// Reads the process environment.
    pub fn new() -> Self {
        Self {
            lookup: process_env(),
        }
    }

    /// Reads variables through `lookup` (tests, embedding).
    pub fn with_lookup(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self {
            lookup: Arc::new(lookup),
        }
    }

    /// Synchronous variant of [`ProvideCredentials::provide_credentials`].
    pub fn load(&self) -> Result<Credentials, Error> {
        let (id, key, token) = self.variables()?;
        make_credentials(id, key, token, "environment")
    }

    /// The SecretId, SecretKey and token as set (trimmed, unchecked), or an error saying
    /// which variable is not set: the environment is then absent, not broken.
    fn variables(&self) -> Result<(String, String, Option<String>), Error> {
        let id = non_empty((self.lookup)(env_vars::SECRET_ID));
        let key = non_empty((self.lookup)(env_vars::SECRET_KEY));
        let token = non_empty((self.lookup)(env_vars::SESSION_TOKEN))
            .or_else(|| non_empty((self.lookup)(env_vars::TOKEN)));
        match (id, key) {
            (Some(id), Some(key)) => Ok((id, key, token)),
            (None, None) => Err(Error::credentials(format!(
                "environment: {} and {} are not set",
                env_vars::SECRET_ID,
                env_vars::SECRET_KEY
            ))),
            (None, Some(_)) => Err(Error::credentials(format!(
                "environment: {} is not set",
                env_vars::SECRET_ID
            ))),
            (Some(_), None) => Err(Error::credentials(format!(
                "environment: {} is not set",
                env_vars::SECRET_KEY
            ))),
        }
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.load() })
    }
}

/// Credentials from an INI profile file:
///
/// ```ini
/// [default]
/// secret_id = AKID...
/// secret_key = ...
///
/// [ci]
/// secret_id = AKID...
/// secret_key = ...
/// token = ...            ; optional session token
/// ```
///
/// The file is `TENCENTCLOUD_CREDENTIALS_FILE` when set, else `$HOME/.tencentcloud/credentials`
/// when it exists, else `/etc/tencentcloud/credentials` (the system-wide file the Python,
/// Java and Node.js SDKs also read).
///
/// The file is read on first use and the credentials are cached for the life of the provider
/// (and its clones); a failed read is not cached.
#[derive(Clone)]
pub struct ProfileProvider {
    path: Option<PathBuf>,
    system_path: Option<PathBuf>,
    profile: String,
    lookup: EnvLookup,
    cache: Arc<tokio::sync::OnceCell<Credentials>>,
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileProvider")
            .field("path", &self.path)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Default for ProfileProvider {
    fn default() -> Self {
        Self::new()
    }
}

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// The system-wide profile file, read when the user has none.
pub const SYSTEM_CREDENTIALS_FILE: &str = "/etc/tencentcloud/credentials";

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].trim();
        }
    }
    v
}

/// Where the profile file comes from.
enum ProfilePath {
    /// Named explicitly (argument or `TENCENTCLOUD_CREDENTIALS_FILE`): must exist.
    Explicit(PathBuf),
    /// Found at a default location.
    Found(PathBuf),
    /// None of the default locations exists; the user's one, for messages.
    Missing(Option<PathBuf>),
}

impl ProfileProvider {
    /// The `default` profile of the default file.
    pub fn new() -> Self {
        Self {
            path: None,
            system_path: Some(PathBuf::from(SYSTEM_CREDENTIALS_FILE)),
            profile: DEFAULT_PROFILE.to_owned(),
            lookup: process_env(),
            cache: Arc::default(),
        }
    }

    /// Selects a named profile.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = name.into();
        self.cache = Arc::default();
        self
    }

    /// Reads this file instead of the default one.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self.cache = Arc::default();
        self
    }

    /// The system-wide fallback file (default `/etc/tencentcloud/credentials`; `None` reads
    /// none).
    pub fn system_path(mut self, path: Option<PathBuf>) -> Self {
        self.system_path = path;
        self.cache = Arc::default();
        self
    }

    /// Resolves `TENCENTCLOUD_CREDENTIALS_FILE` and `HOME` through `lookup`.
    pub fn with_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.lookup = Arc::new(lookup);
        self
    }

    fn user_path(&self) -> Option<PathBuf> {
        non_empty((self.lookup)(env_vars::HOME))
            .map(|h| Path::new(&h).join(".tencentcloud").join("credentials"))
    }

    fn locate(&self) -> ProfilePath {
        if let Some(p) = &self.path {
            return ProfilePath::Explicit(p.clone());
        }
        if let Some(p) = non_empty((self.lookup)(env_vars::CREDENTIALS_FILE)) {
            return ProfilePath::Explicit(PathBuf::from(p));
        }
        let user = self.user_path();
        for candidate in user.iter().chain(self.system_path.iter()) {
            if candidate.is_file() {
                return ProfilePath::Found(candidate.clone());
            }
        }
        ProfilePath::Missing(user)
    }

    /// The file that will be read: the one given, else `TENCENTCLOUD_CREDENTIALS_FILE`, else
    /// the first of `$HOME/.tencentcloud/credentials` and the system file that exists (else
    /// the user's, which does not exist).
    pub fn resolved_path(&self) -> Option<PathBuf> {
        match self.locate() {
            ProfilePath::Explicit(p) | ProfilePath::Found(p) => Some(p),
            ProfilePath::Missing(user) => user,
        }
    }

    /// Parses profile file contents (no I/O).
    pub fn parse(contents: &str, profile: &str) -> Result<Credentials, Error> {
        let ini = ini::Ini::load_from_str(contents)
            .map_err(|e| Error::credentials(format!("profile file: cannot parse: {e}")))?;
        let section = ini
            .section(Some(profile))
            .ok_or_else(|| Error::credentials(format!("profile file: no [{profile}] section")))?;
        let get = |k: &str| {
            section
                .get(k)
                .map(unquote)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let id = get("secret_id").ok_or_else(|| {
            Error::credentials(format!("profile file: [{profile}] has no secret_id"))
        })?;
        let key = get("secret_key").ok_or_else(|| {
            Error::credentials(format!("profile file: [{profile}] has no secret_key"))
        })?;
        let token = get("token").or_else(|| get("session_token"));
        make_credentials(id, key, token, &format!("profile [{profile}]"))
    }

    /// The credentials: from the cache, or read and parsed from the file.
    pub async fn load(&self) -> Result<Credentials, Error> {
        self.cache.get_or_try_init(|| self.read()).await.cloned()
    }

    /// Reads and parses the file (no cache).
    pub async fn read(&self) -> Result<Credentials, Error> {
        let path = self
            .resolved_path()
            .ok_or_else(|| Error::credentials("profile file: HOME is not set and no path given"))?;
        let contents = read_profile_file(&path).await?;
        Self::parse(&contents, &self.profile)
            .map_err(|e| Error::credentials(format!("{} ({})", e.message(), path.display())))
    }

    /// For the chain: absent when no file exists at a default location, or when the file
    /// has no section for the profile (a named profile may be tccli's; the chain decides).
    pub(crate) async fn detect(&self) -> Result<Detected, Error> {
        let path = match self.locate() {
            ProfilePath::Explicit(p) | ProfilePath::Found(p) => p,
            ProfilePath::Missing(Some(user)) => {
                return Ok(Detected::Absent(format!(
                    "profile file: no {}",
                    user.display()
                )));
            }
            ProfilePath::Missing(None) => {
                return Ok(Detected::Absent("profile file: HOME is not set".to_owned()));
            }
        };
        let contents = read_profile_file(&path).await?;
        let in_file =
            |e: Error| Error::credentials(format!("{} ({})", e.message(), path.display()));
        let ini = ini::Ini::load_from_str(&contents).map_err(|e| {
            Error::credentials(format!(
                "profile file {}: cannot parse: {e}",
                path.display()
            ))
        })?;
        if ini.section(Some(self.profile.as_str())).is_none() {
            return Ok(Detected::Absent(format!(
                "profile file: {} has no [{}] section",
                path.display(),
                self.profile
            )));
        }
        let creds = Self::parse(&contents, &self.profile).map_err(in_file)?;
        Ok(Detected::Found(Arc::new(StaticProvider::new(creds))))
    }
}

async fn read_profile_file(path: &Path) -> Result<String, Error> {
    tokio::fs::read_to_string(path)
        .await
        .map_err(|e| Error::credentials(format!("profile file {}: {e}", path.display())))
}

impl ProvideCredentials for ProfileProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// Which source [`DefaultChain`] took its credentials from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialSource {
    /// `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY`.
    Environment,
    /// `TENCENTCLOUD_ROLE_ARN` assumed with the environment's credentials.
    EnvironmentAssumeRole,
    /// The INI profile file.
    ProfileFile,
    /// tccli's files.
    Tccli,
    /// The CVM instance role.
    CvmRole,
    /// The TKE OIDC role (`AssumeRoleWithWebIdentity`).
    WebIdentity,
}

impl CredentialSource {
    /// A short name for logs (`"environment"`, `"CVM role"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialSource::Environment => "environment",
            CredentialSource::EnvironmentAssumeRole => "environment (AssumeRole)",
            CredentialSource::ProfileFile => "profile file",
            CredentialSource::Tccli => "tccli",
            CredentialSource::CvmRole => "CVM role",
            CredentialSource::WebIdentity => "TKE OIDC role",
        }
    }
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The default credential chain (see the [module docs](self#the-default-chain) for the order
/// and the rules).
///
/// ```no_run
/// # async fn demo() -> Result<(), ms_transport::Error> {
/// use ms_transport::DefaultChain;
/// let chain = DefaultChain::new().profile("ci");
/// println!("credentials from {}", chain.resolve().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DefaultChain {
    lookup: EnvLookup,
    profile: Option<String>,
    system_profile_file: Option<PathBuf>,
    tccli_dir: Option<PathBuf>,
    cvm: Option<CvmRoleProvider>,
    cvm_enabled: bool,
    sts_endpoint: Option<String>,
    sts_client: Option<ClientFactory>,
    resolved: Arc<tokio::sync::OnceCell<(CredentialSource, Arc<dyn ProvideCredentials>)>>,
}

impl fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultChain")
            .field("profile", &self.profile)
            .field("resolved", &self.resolved.get().map(|(s, p)| (s, p)))
            .finish_non_exhaustive()
    }
}

impl Default for DefaultChain {
    fn default() -> Self {
        Self::new()
    }
}

impl DefaultChain {
    /// The chain on the process environment and the `default` profile.
    pub fn new() -> Self {
        Self::from_lookup(process_env())
    }

    /// The chain, resolving every environment variable (and `HOME`) through `lookup`.
    pub fn with_lookup(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self::from_lookup(Arc::new(lookup))
    }

    fn from_lookup(lookup: EnvLookup) -> Self {
        Self {
            lookup,
            profile: None,
            system_profile_file: Some(PathBuf::from(SYSTEM_CREDENTIALS_FILE)),
            tccli_dir: None,
            cvm: None,
            cvm_enabled: true,
            sts_endpoint: None,
            sts_client: None,
            resolved: Arc::default(),
        }
    }

    fn reset(mut self) -> Self {
        self.resolved = Arc::default();
        self
    }

    /// Selects a named profile: the section of the profile file, else tccli's profile of
    /// that name (for tccli, `default` leaves the choice to `TCCLI_PROFILE`). A named profile
    /// found in neither ends the chain with an error: the CVM and TKE roles are not tried.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self.reset()
    }

    /// The system-wide profile file (default `/etc/tencentcloud/credentials`; `None`: none).
    pub fn system_profile_file(mut self, path: Option<PathBuf>) -> Self {
        self.system_profile_file = path;
        self.reset()
    }

    /// tccli's directory (default `$HOME/.tccli`).
    pub fn tccli_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.tccli_dir = Some(dir.into());
        self.reset()
    }

    /// The CVM role step's provider (e.g. with another metadata endpoint or timeout).
    pub fn cvm_role(mut self, provider: CvmRoleProvider) -> Self {
        self.cvm = Some(provider);
        self.cvm_enabled = true;
        self.reset()
    }

    /// Skips the CVM role step (no metadata request at all).
    pub fn without_cvm_role(mut self) -> Self {
        self.cvm_enabled = false;
        self.reset()
    }

    /// The STS endpoint of the steps that assume a role (default `sts.tencentcloudapi.com`,
    /// or tccli's `sts.endpoint`).
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.sts_endpoint = Some(endpoint.into());
        self.reset()
    }

    /// HTTP settings (proxy, TLS roots, timeouts) of the STS calls of the steps that assume
    /// a role.
    pub fn sts_client(mut self, make: impl Fn() -> ClientBuilder + Send + Sync + 'static) -> Self {
        self.sts_client = Some(Arc::new(make));
        self.reset()
    }

    fn profile_name(&self) -> &str {
        self.profile.as_deref().unwrap_or(DEFAULT_PROFILE)
    }

    /// The profile the caller named, unless it is `default`.
    fn named_profile(&self) -> Option<&str> {
        self.profile.as_deref().filter(|n| *n != DEFAULT_PROFILE)
    }

    /// Runs one step; says which source answered (the environment step may assume a role).
    async fn step(&self, source: CredentialSource) -> Result<(CredentialSource, Detected), Error> {
        let detected = match source {
            CredentialSource::Environment | CredentialSource::EnvironmentAssumeRole => {
                let env = EnvironmentProvider {
                    lookup: Arc::clone(&self.lookup),
                };
                // Not set: absent. Set but unusable (a space or a control character in
                // the key): broken, so the chain stops rather than sign with the next
                // source's credentials.
                let (id, key, token) = match env.variables() {
                    Ok(set) => set,
                    Err(e) => return Ok((source, Detected::Absent(e.message().to_owned()))),
                };
                let creds = make_credentials(id, key, token, "environment")?;
                if let Some(arn) = non_empty((self.lookup)(env_vars::ROLE_ARN)) {
                    let session = non_empty((self.lookup)(env_vars::ROLE_SESSION_NAME));
                    let provider = sts::assume_with(
                        arn,
                        session,
                        creds,
                        self.sts_endpoint.clone(),
                        self.sts_client.as_ref(),
                    )?;
                    return Ok((
                        CredentialSource::EnvironmentAssumeRole,
                        Detected::Found(Arc::new(provider)),
                    ));
                }
                Detected::Found(Arc::new(StaticProvider::new(creds)))
            }
            CredentialSource::ProfileFile => {
                let lookup = Arc::clone(&self.lookup);
                ProfileProvider::new()
                    .with_lookup(move |k| lookup(k))
                    .system_path(self.system_profile_file.clone())
                    .profile(self.profile_name())
                    .detect()
                    .await?
            }
            CredentialSource::Tccli => {
                let lookup = Arc::clone(&self.lookup);
                let mut p = TccliProvider::new()
                    .with_lookup(move |k| lookup(k))
                    .with_sts_factory(self.sts_client.clone());
                if let Some(name) = self.named_profile() {
                    p = p.profile(name);
                }
                if let Some(dir) = &self.tccli_dir {
                    p = p.dir(dir.clone());
                }
                if let Some(cvm) = &self.cvm {
                    p = p.cvm_role(cvm.clone());
                }
                if let Some(e) = &self.sts_endpoint {
                    p = p.sts_endpoint(e.clone());
                }
                p.detect().await?
            }
            CredentialSource::CvmRole => {
                if !self.cvm_enabled {
                    Detected::Absent("CVM role: disabled".to_owned())
                } else {
                    let cvm = self.cvm.clone().unwrap_or_default();
                    match cvm.discover().await? {
                        Some(_) => Detected::Found(Arc::new(cvm)),
                        None => Detected::Absent(
                            "CVM role: no metadata service or no role bound".to_owned(),
                        ),
                    }
                }
            }
            CredentialSource::WebIdentity => WebIdentityProvider::detect_tke(
                &self.lookup,
                self.sts_endpoint.as_deref(),
                self.sts_client.as_ref().map(|make| make()),
            )?,
        };
        Ok((source, detected))
    }

    /// Finds the first configured source (once; later calls return the same) and says which
    /// it is.
    pub async fn resolve(&self) -> Result<CredentialSource, Error> {
        Ok(self.resolved().await?.0)
    }

    async fn resolved(&self) -> Result<&(CredentialSource, Arc<dyn ProvideCredentials>), Error> {
        self.resolved
            .get_or_try_init(|| async {
                let mut absent = Vec::new();
                for step in CHAIN_ORDER {
                    match self.step(step).await? {
                        (source, Detected::Found(p)) => {
                            tracing::debug!(source = source.as_str(), "credentials source chosen");
                            return Ok((source, p));
                        }
                        (_, Detected::Absent(why)) => absent.push(why),
                    }
                    // A profile named by the caller lives in the profile file or in tccli's
                    // files: not finding it there is a mistake to report, never a reason to
                    // take the instance's role instead.
                    if step == CredentialSource::Tccli
                        && let Some(name) = self.named_profile()
                    {
                        return Err(Error::credentials(format!(
                            "profile {name:?} not found ({})",
                            absent.join("; ")
                        )));
                    }
                }
                Err(Error::credentials(format!(
                    "no credentials found ({})",
                    absent.join("; ")
                )))
            })
            .await
    }

    /// Resolves credentials.
    pub async fn load(&self) -> Result<Credentials, Error> {
        let (_, provider) = self.resolved().await?;
        provider.provide_credentials().await
    }
}

/// The order of the default chain (the environment step answers
/// [`CredentialSource::EnvironmentAssumeRole`] when `TENCENTCLOUD_ROLE_ARN` is set).
pub const CHAIN_ORDER: [CredentialSource; 5] = [
    CredentialSource::Environment,
    CredentialSource::ProfileFile,
    CredentialSource::Tccli,
    CredentialSource::CvmRole,
    CredentialSource::WebIdentity,
];

impl ProvideCredentials for DefaultChain {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[tokio::test]
    async fn environment_provider_trims_and_reads_token_names() {
        let p = EnvironmentProvider::with_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "  AKIDabc \n"),
            ("TENCENTCLOUD_SECRET_KEY", "\tkey123 "),
            ("TENCENTCLOUD_TOKEN", " tok "),
        ]));
        let c = p.provide_credentials().await.expect("creds");
        assert_eq!(c.secret_id(), "AKIDabc");
        assert_eq!(c.secret_key(), "key123");
        assert_eq!(c.token(), Some("tok"));

        let p = EnvironmentProvider::with_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", "key"),
            ("TENCENTCLOUD_SESSION_TOKEN", "sess"),
            ("TENCENTCLOUD_TOKEN", "other"),
        ]));
        assert_eq!(p.load().expect("creds").token(), Some("sess"));
    }

    #[test]
    fn environment_provider_names_the_missing_variable() {
        let e = EnvironmentProvider::with_lookup(env(&[("TENCENTCLOUD_SECRET_ID", "id")]))
            .load()
            .expect_err("missing key");
        assert!(e.to_string().contains("TENCENTCLOUD_SECRET_KEY"), "{e}");
        let e = EnvironmentProvider::with_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "  "),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
        ]))
        .load()
        .expect_err("blank id");
        assert!(e.to_string().contains("TENCENTCLOUD_SECRET_ID"), "{e}");
    }

    const FILE: &str = "[default]\nsecret_id =  AKIDdefault  \nsecret_key = \"quoted-key\"\n\n[ci]\nsecret_id=AKIDci\nsecret_key=cikey\ntoken = citoken\n";

    #[test]
    fn profile_parsing_default_and_named() {
        let c = ProfileProvider::parse(FILE, "default").expect("default");
        assert_eq!(c.secret_id(), "AKIDdefault");
        assert_eq!(c.secret_key(), "quoted-key");
        assert_eq!(c.token(), None);
        let c = ProfileProvider::parse(FILE, "ci").expect("ci");
        assert_eq!(c.token(), Some("citoken"));
        let e = ProfileProvider::parse(FILE, "nope").expect_err("missing");
        assert!(e.to_string().contains("[nope]"), "{e}");
        let e = ProfileProvider::parse("[default]\nsecret_id=x\n", "default").expect_err("no key");
        assert!(e.to_string().contains("secret_key"), "{e}");
    }

    #[tokio::test]
    async fn profile_path_resolution_and_override() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".tencentcloud")).expect("mkdir");
        std::fs::write(home.join(".tencentcloud/credentials"), FILE).expect("write");
        let other = dir.path().join("other.ini");
        std::fs::write(&other, "[default]\nsecret_id=AKIDother\nsecret_key=k\n").expect("write");

        let home_s = home.to_string_lossy().into_owned();
        let p = ProfileProvider::new().with_lookup(env(&[("HOME", &home_s)]));
        assert_eq!(p.load().await.expect("home").secret_id(), "AKIDdefault");

        let other_s = other.to_string_lossy().into_owned();
        let p = ProfileProvider::new().with_lookup(env(&[
            ("HOME", &home_s),
            ("TENCENTCLOUD_CREDENTIALS_FILE", &other_s),
        ]));
        assert_eq!(p.resolved_path(), Some(other.clone()));
        assert_eq!(p.load().await.expect("override").secret_id(), "AKIDother");

        let p = ProfileProvider::new()
            .path(home.join(".tencentcloud/credentials"))
            .profile("ci")
            .with_lookup(env(&[]));
        assert_eq!(p.load().await.expect("explicit").secret_id(), "AKIDci");

        let p = ProfileProvider::new().with_lookup(env(&[]));
        assert!(p.load().await.is_err());

        // Read once, then cached (shared by clones); read() bypasses the cache.
        let file = dir.path().join("cached.ini");
        std::fs::write(&file, "[default]\nsecret_id=AKIDone\nsecret_key=k\n").expect("write");
        let p = ProfileProvider::new().path(&file).with_lookup(env(&[]));
        let clone = p.clone();
        assert_eq!(p.load().await.expect("first").secret_id(), "AKIDone");
        std::fs::write(&file, "[default]\nsecret_id=AKIDtwo\nsecret_key=k\n").expect("write");
        assert_eq!(clone.load().await.expect("cached").secret_id(), "AKIDone");
        assert_eq!(p.read().await.expect("fresh").secret_id(), "AKIDtwo");
    }

    #[tokio::test]
    async fn default_chain_prefers_env_then_profile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.ini");
        std::fs::write(&file, FILE).expect("write");
        let f = file.to_string_lossy().into_owned();
        let chain = DefaultChain::with_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
            ("TENCENTCLOUD_CREDENTIALS_FILE", &f),
        ]));
        assert_eq!(chain.load().await.expect("env").secret_id(), "AKIDenv");
        let chain =
            DefaultChain::with_lookup(env(&[("TENCENTCLOUD_CREDENTIALS_FILE", &f)])).profile("ci");
        assert_eq!(chain.load().await.expect("profile").secret_id(), "AKIDci");
        let e = DefaultChain::with_lookup(env(&[]))
            .system_profile_file(None)
            .without_cvm_role()
            .load()
            .await
            .expect_err("nothing");
        assert!(e.to_string().contains("TENCENTCLOUD_SECRET_ID"), "{e}");
    }

    #[tokio::test]
    async fn default_chain_stops_at_unusable_environment_credentials() {
        // Both variables set, but the key holds a control character (a pasted secret): the
        // chain reports it instead of signing with the profile file's credentials.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.ini");
        std::fs::write(&file, FILE).expect("write");
        let f = file.to_string_lossy().into_owned();
        let chain = DefaultChain::with_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_SECRET_KEY", "pasted\u{1}key"),
            ("TENCENTCLOUD_CREDENTIALS_FILE", &f),
        ]))
        .without_cvm_role();
        let e = chain.resolve().await.expect_err("broken environment");
        assert_eq!(e.kind(), crate::ErrorKind::Credentials);
        assert!(
            e.message().starts_with("environment") && e.message().contains("secret_key"),
            "{e}"
        );
        assert!(!e.to_string().contains("pasted"), "{e}");

        // Only one of the two set: the environment is absent, the profile file answers.
        let chain = DefaultChain::with_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
            ("TENCENTCLOUD_CREDENTIALS_FILE", &f),
        ]))
        .without_cvm_role();
        assert_eq!(
            chain.resolve().await.expect("profile"),
            CredentialSource::ProfileFile
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let p =
            StaticProvider::from_parts("AKIDx", "supersecretkey", Some("tokentoken")).expect("ok");
        let d = format!("{p:?}");
        assert!(d.contains("AKIDx") && !d.contains("supersecretkey") && !d.contains("tokentoken"));
    }
}
