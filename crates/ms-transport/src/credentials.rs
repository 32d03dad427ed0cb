//! Credential providers.
//!
//! The client asks a [`ProvideCredentials`] for credentials before every attempt, so refreshing
//! sources (CVM instance roles, STS AssumeRole) plug in without changing the client: they
//! implement the trait and cache internally.
//!
//! Shipped providers:
//! - [`StaticProvider`]: fixed credentials.
//! - [`EnvironmentProvider`]: `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY` and a session
//!   token from `TENCENTCLOUD_SESSION_TOKEN` or (as tccli calls it) `TENCENTCLOUD_TOKEN`.
//! - [`ProfileProvider`]: the INI file `~/.tencentcloud/credentials` (`[default]` and named
//!   profiles with `secret_id`, `secret_key`, optional `token`); `TENCENTCLOUD_CREDENTIALS_FILE`
//!   overrides the path.
//! - [`DefaultChain`]: environment, then profile file.
//!
//! Whitespace around every value is trimmed (a classic cause of signature failures), and one
//! pair of surrounding quotes is removed from profile values. Environment lookups go through an
//! injectable function so tests never touch the real process environment or `HOME`.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use tc3_sign::Credentials;

use crate::error::Error;

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
        .map_err(|e| Error::credentials(format!("{source}: {e}")))?;
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
        let id = non_empty((self.lookup)(env_vars::SECRET_ID));
        let key = non_empty((self.lookup)(env_vars::SECRET_KEY));
        let token = non_empty((self.lookup)(env_vars::SESSION_TOKEN))
            .or_else(|| non_empty((self.lookup)(env_vars::TOKEN)));
        match (id, key) {
            (Some(id), Some(key)) => make_credentials(id, key, token, "environment"),
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

/// Credentials from an INI profile file (`~/.tencentcloud/credentials` by default):
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
/// The file is read on first use and the credentials are cached for the life of the provider
/// (and its clones); a failed read is not cached.
#[derive(Clone)]
pub struct ProfileProvider {
    path: Option<PathBuf>,
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

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].trim();
        }
    }
    v
}

impl ProfileProvider {
    /// The `default` profile of the default file (`TENCENTCLOUD_CREDENTIALS_FILE`, else
    /// `$HOME/.tencentcloud/credentials`).
    pub fn new() -> Self {
        Self {
            path: None,
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

    /// Resolves `TENCENTCLOUD_CREDENTIALS_FILE` and `HOME` through `lookup`.
    pub fn with_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.lookup = Arc::new(lookup);
        self
    }

    /// The file that will be read.
    pub fn resolved_path(&self) -> Option<PathBuf> {
        if let Some(p) = &self.path {
            return Some(p.clone());
        }
        if let Some(p) = non_empty((self.lookup)(env_vars::CREDENTIALS_FILE)) {
            return Some(PathBuf::from(p));
        }
        non_empty((self.lookup)(env_vars::HOME))
            .map(|h| Path::new(&h).join(".tencentcloud").join("credentials"))
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
        let contents = tokio::fs::read_to_string(&path)
            .await
            .map_err(|e| Error::credentials(format!("profile file {}: {e}", path.display())))?;
        Self::parse(&contents, &self.profile)
    }
}

impl ProvideCredentials for ProfileProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

/// Environment first, then the profile file. The error lists why each source failed.
#[derive(Debug, Clone, Default)]
pub struct DefaultChain {
    env: EnvironmentProvider,
    profile: ProfileProvider,
}

impl DefaultChain {
    /// The chain on the process environment and the `default` profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects a named profile for the profile-file step.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = self.profile.profile(name);
        self
    }

    /// Both steps resolve variables through `lookup`.
    pub fn with_lookup(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        let lookup: EnvLookup = Arc::new(lookup);
        let l2 = Arc::clone(&lookup);
        Self {
            env: EnvironmentProvider { lookup },
            profile: ProfileProvider::new().with_lookup(move |k| l2(k)),
        }
    }

    /// Resolves credentials.
    pub async fn load(&self) -> Result<Credentials, Error> {
        let env_err = match self.env.load() {
            Ok(c) => return Ok(c),
            Err(e) => e,
        };
        match self.profile.load().await {
            Ok(c) => Ok(c),
            Err(profile_err) => Err(Error::credentials(format!(
                "no credentials found ({}; {})",
                env_err.message(),
                profile_err.message()
            ))),
        }
    }
}

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
            .load()
            .await
            .expect_err("nothing");
        assert!(e.to_string().contains("TENCENTCLOUD_SECRET_ID"), "{e}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let p =
            StaticProvider::from_parts("AKIDx", "supersecretkey", Some("tokentoken")).expect("ok");
        let d = format!("{p:?}");
        assert!(d.contains("AKIDx") && !d.contains("supersecretkey") && !d.contains("tokentoken"));
    }
}
