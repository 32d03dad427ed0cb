//! tccli's credential and configuration files: `~/.tccli/<profile>.credential` and
//! `~/.tccli/<profile>.configure` (JSON), as `tccli configure` and `tccli auth login` write
//! them (read from tccli's `configure.py`, `credentials.py`, `oauth.py` and the generated
//! `parse_global_arg` of every service module).
//!
//! The profile is the one named, else `TCCLI_PROFILE`, else `default`. The credential file
//! holds `secretId`, `secretKey`, optionally `token`, and one of:
//! - `"type": "cvm-role"` (`tccli configure set use-cvm-role true`): the CVM instance role;
//! - `role-arn` and `role-session-name`: STS `AssumeRole` signed with `secretId`/`secretKey`,
//!   against the configure file's `sts.endpoint` when it has one;
//! - `"type": "oauth"` or `"sso"` with `expiresAt` (`tccli auth login`): temporary
//!   credentials that tccli itself renews; the file is read again when they near expiry, and
//!   an expired file is an error saying to run tccli.
//!
//! [`TccliConfig`] reads the configure file: the region (`_sys_param.region`), and the
//! `ms` and `sts` endpoints.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use tc3_sign::Credentials;

use super::cache::{
    CachedProvider, FetchCredentials, FetchFuture, RefreshPolicy, TemporaryCredentials,
};
use super::cvm::CvmRoleProvider;
use super::{
    CredentialsFuture, Detected, EnvLookup, ProvideCredentials, StaticProvider, env_vars,
    make_credentials, non_empty, process_env,
};
use crate::clock::{Clock, or_system};
use crate::error::Error;

/// The environment variable tccli reads the profile name from.
pub const TCCLI_PROFILE: &str = "TCCLI_PROFILE";
/// tccli's directory below the home directory.
pub const TCCLI_DIR: &str = ".tccli";

const NAME: &str = "tccli";

/// What the chain and the provider need to know about `<profile>.configure`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TccliConfig {
    /// `_sys_param.region`.
    pub region: Option<String>,
    /// `_sys_param.language` (`zh-CN` or `en-US`).
    pub language: Option<String>,
    /// `ms.endpoint`.
    pub ms_endpoint: Option<String>,
    /// `sts.endpoint`.
    pub sts_endpoint: Option<String>,
}

impl TccliConfig {
    /// Parses a configure file's contents (no I/O). Unknown members are ignored.
    ///
    /// Only the four members read here are decoded; the others (tccli keeps one section per
    /// Tencent Cloud service, 20 KB and more) are skipped without being built, which keeps
    /// every `ms` start-up that consults the file cheap.
    pub fn parse(contents: &str, file: &Path) -> Result<Self, Error> {
        /// The members of `<profile>.configure` this type reads; anything else is skipped.
        #[derive(serde::Deserialize)]
        struct ConfigureFile {
            #[serde(rename = "_sys_param")]
            sys_param: Option<Value>,
            region: Option<Value>,
            ms: Option<Value>,
            sts: Option<Value>,
        }
        let parsed: ConfigureFile = serde_json::from_str(contents).map_err(|e| {
            let what = if e.classify() == serde_json::error::Category::Data {
                // Every member is any JSON value: only the top level can have the wrong type.
                "is not a JSON object".to_owned()
            } else {
                format!("is not JSON: {e}")
            };
            Error::credentials(format!("{NAME}: {} {what}", file.display()))
        })?;
        let text = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let get = |section: &Option<Value>, key: &str| {
            text(
                section
                    .as_ref()
                    .and_then(|s| s.as_object())
                    .and_then(|s| s.get(key)),
            )
        };
        Ok(Self {
            // Old tccli versions kept the region at the top level.
            region: get(&parsed.sys_param, "region").or_else(|| text(parsed.region.as_ref())),
            language: get(&parsed.sys_param, "language"),
            ms_endpoint: get(&parsed.ms, "endpoint"),
            sts_endpoint: get(&parsed.sts, "endpoint"),
        })
    }

    /// Reads `<dir>/<profile>.configure`; `Ok(None)` when there is none.
    pub fn load(dir: &Path, profile: &str) -> Result<Option<Self>, Error> {
        let path = dir.join(format!("{profile}.configure"));
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::credentials(format!(
                "{NAME}: cannot read {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Credentials from tccli's files (see the [module docs](self)).
///
/// The files are read on first use; what they say (static keys, CVM role, AssumeRole,
/// OAuth) is then kept for the life of the provider and its clones.
#[derive(Clone)]
pub struct TccliProvider {
    dir: Option<PathBuf>,
    profile: Option<String>,
    lookup: EnvLookup,
    cvm: Option<CvmRoleProvider>,
    sts_client: Option<super::ClientFactory>,
    sts_endpoint: Option<String>,
    clock: Option<Arc<dyn Clock>>,
    resolved: Arc<tokio::sync::OnceCell<Arc<dyn ProvideCredentials>>>,
}

impl fmt::Debug for TccliProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TccliProvider")
            .field("dir", &self.dir)
            .field("profile", &self.profile)
            .field("resolved", &self.resolved.get())
            .finish_non_exhaustive()
    }
}

impl Default for TccliProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl TccliProvider {
    /// The profile named by `TCCLI_PROFILE` (else `default`) in `$HOME/.tccli`.
    pub fn new() -> Self {
        Self {
            dir: None,
            profile: None,
            lookup: process_env(),
            cvm: None,
            sts_client: None,
            sts_endpoint: None,
            clock: None,
            resolved: Arc::default(),
        }
    }

    /// Uses this profile (`tccli --profile NAME`).
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self.resolved = Arc::default();
        self
    }

    /// Reads the files from this directory instead of `$HOME/.tccli`.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self.resolved = Arc::default();
        self
    }

    /// Resolves `HOME` and `TCCLI_PROFILE` through `lookup`.
    pub fn with_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.lookup = Arc::new(lookup);
        self.resolved = Arc::default();
        self
    }

    /// The CVM role provider used for `"type": "cvm-role"` (default [`CvmRoleProvider::new`]).
    pub fn cvm_role(mut self, provider: CvmRoleProvider) -> Self {
        self.cvm = Some(provider);
        self.resolved = Arc::default();
        self
    }

    /// Overrides the STS endpoint of `role-arn` profiles (else the configure file's
    /// `sts.endpoint`, else `sts.tencentcloudapi.com`).
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.sts_endpoint = Some(endpoint.into());
        self.resolved = Arc::default();
        self
    }

    /// The clock that decides the expiry of OAuth credentials.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self.resolved = Arc::default();
        self
    }

    /// HTTP settings of the STS client of `role-arn` profiles (proxy, TLS roots, timeouts).
    pub fn sts_client(
        mut self,
        make: impl Fn() -> crate::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.sts_client = Some(Arc::new(make));
        self.resolved = Arc::default();
        self
    }

    pub(crate) fn with_sts_factory(mut self, make: Option<super::ClientFactory>) -> Self {
        self.sts_client = make;
        self
    }

    /// The directory read: the one given, else `$HOME/.tccli`.
    pub fn resolved_dir(&self) -> Option<PathBuf> {
        if let Some(d) = &self.dir {
            return Some(d.clone());
        }
        non_empty((self.lookup)(env_vars::HOME)).map(|h| Path::new(&h).join(TCCLI_DIR))
    }

    /// The profile read: the one given, else `TCCLI_PROFILE`, else `default`.
    pub fn resolved_profile(&self) -> String {
        self.profile
            .clone()
            .or_else(|| non_empty((self.lookup)(TCCLI_PROFILE)))
            .unwrap_or_else(|| super::DEFAULT_PROFILE.to_owned())
    }

    /// The credentials.
    pub async fn load(&self) -> Result<Credentials, Error> {
        let provider = self
            .resolved
            .get_or_try_init(|| async {
                match self.detect().await? {
                    Detected::Found(p) => Ok(p),
                    Detected::Absent(why) => Err(Error::credentials(why)),
                }
            })
            .await?;
        provider.provide_credentials().await
    }

    /// Reads the credential file: what it configures, or why there is none.
    pub(crate) async fn detect(&self) -> Result<Detected, Error> {
        let Some(dir) = self.resolved_dir() else {
            return Ok(Detected::Absent(format!(
                "{NAME}: HOME is not set and no directory given"
            )));
        };
        let profile = self.resolved_profile();
        if profile.contains(['/', '\\']) || profile.starts_with('.') {
            return Err(Error::credentials(format!(
                "{NAME}: profile name {profile:?} is not a file name"
            )));
        }
        let path = dir.join(format!("{profile}.credential"));
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Detected::Absent(format!("{NAME}: no {}", path.display())));
            }
            Err(e) => {
                return Err(Error::credentials(format!(
                    "{NAME}: cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        let file = CredentialFile::parse(&text, &path)?;
        let provider: Arc<dyn ProvideCredentials> = match file.kind {
            Kind::CvmRole => Arc::new(self.cvm.clone().unwrap_or_default()),
            Kind::AssumeRole {
                ref role_arn,
                ref session_name,
            } => {
                let config = TccliConfig::load(&dir, &profile)?.unwrap_or_default();
                Arc::new(super::sts::assume_with(
                    role_arn.clone(),
                    Some(session_name.clone()),
                    file.static_credentials(&path)?,
                    self.sts_endpoint.clone().or(config.sts_endpoint),
                    self.sts_client.as_ref(),
                )?)
            }
            Kind::Temporary => {
                let clock = or_system(self.clock.clone());
                Arc::new(CachedProvider::with_policy(
                    TccliFileFetcher {
                        path: path.clone(),
                        clock: Arc::clone(&clock),
                    },
                    RefreshPolicy::default(),
                    clock,
                ))
            }
            Kind::Static => Arc::new(StaticProvider::new(file.static_credentials(&path)?)),
        };
        Ok(Detected::Found(provider))
    }
}

impl ProvideCredentials for TccliProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

enum Kind {
    Static,
    CvmRole,
    AssumeRole {
        role_arn: String,
        session_name: String,
    },
    /// `oauth` / `sso`: keys with an `expiresAt`.
    Temporary,
}

struct CredentialFile {
    obj: Map<String, Value>,
    kind: Kind,
}

impl CredentialFile {
    fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        // serde_json's messages quote no values of the input, only positions.
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::credentials(format!("{NAME}: {} is not JSON: {e}", path.display()))
        })?;
        let Value::Object(obj) = value else {
            return Err(Error::credentials(format!(
                "{NAME}: {} is not a JSON object",
                path.display()
            )));
        };
        let text_of = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let kind = match text_of("type").as_deref() {
            Some("cvm-role") => Kind::CvmRole,
            Some("oauth" | "sso") => Kind::Temporary,
            _ => match (text_of("role-arn"), text_of("role-session-name")) {
                (Some(role_arn), Some(session_name)) => Kind::AssumeRole {
                    role_arn,
                    session_name,
                },
                _ if obj.contains_key("expiresAt") => Kind::Temporary,
                _ => Kind::Static,
            },
        };
        Ok(Self { obj, kind })
    }

    fn field(&self, name: &str, path: &Path) -> Result<String, Error> {
        match self.obj.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::String(_)) | None => Err(Error::credentials(format!(
                "{NAME}: {} has no {name}",
                path.display()
            ))),
            Some(_) => Err(Error::credentials(format!(
                "{NAME}: {name} in {} is not a string",
                path.display()
            ))),
        }
    }

    fn static_credentials(&self, path: &Path) -> Result<Credentials, Error> {
        let id = self.field("secretId", path)?;
        let key = self.field("secretKey", path)?;
        let token = self
            .obj
            .get("token")
            .and_then(Value::as_str)
            .map(str::to_owned);
        make_credentials(id, key, token, &format!("{NAME} {}", path.display()))
    }

    fn expires_at(&self, path: &Path) -> Result<u64, Error> {
        self.obj
            .get("expiresAt")
            .and_then(|v| {
                v.as_u64().or_else(|| {
                    v.as_f64()
                        .filter(|f| f.is_finite() && *f > 0.0)
                        .map(|f| f as u64)
                })
            })
            .ok_or_else(|| {
                Error::credentials(format!(
                    "{NAME}: expiresAt in {} is missing or not a Unix time",
                    path.display()
                ))
            })
    }
}

/// Reads an OAuth / SSO credential file again (tccli renews it).
#[derive(Debug)]
pub struct TccliFileFetcher {
    path: PathBuf,
    clock: Arc<dyn Clock>,
}

impl TccliFileFetcher {
    async fn read(&self) -> Result<TemporaryCredentials, Error> {
        let text = tokio::fs::read_to_string(&self.path).await.map_err(|e| {
            Error::credentials(format!("{NAME}: cannot read {}: {e}", self.path.display()))
        })?;
        let file = CredentialFile::parse(&text, &self.path)?;
        let creds = file.static_credentials(&self.path)?;
        let expires_at = file.expires_at(&self.path)?;
        let now = self.clock.unix_seconds();
        if expires_at <= now {
            return Err(Error::credentials(format!(
                "{NAME}: the credentials in {} expired (expiresAt {expires_at}); run any tccli command (e.g. `tccli sts GetCallerIdentity`) or `tccli auth login` to renew them",
                self.path.display()
            )));
        }
        Ok(TemporaryCredentials::new(creds, expires_at))
    }
}

impl FetchCredentials for TccliFileFetcher {
    fn name(&self) -> &'static str {
        "tccli OAuth credentials"
    }

    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.read())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[tokio::test]
    async fn static_profile_from_tccli_profile_variable() {
        let home = tempfile::tempdir().expect("tmp");
        let dir = home.path().join(".tccli");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("default.credential"),
            r#"{"secretId":"AKIDdefault","secretKey":"k1"}"#,
        )
        .expect("write");
        std::fs::write(
            dir.join("ci.credential"),
            r#"{"secretId":" AKIDci ","secretKey":"k2","token":"tok","role-arn":"","role-session-name":""}"#,
        )
        .expect("write");
        let h = home.path().to_string_lossy().into_owned();
        let p = TccliProvider::new().with_lookup(env(&[("HOME", &h)]));
        assert_eq!(p.load().await.expect("default").secret_id(), "AKIDdefault");
        let p = TccliProvider::new().with_lookup(env(&[("HOME", &h), ("TCCLI_PROFILE", "ci")]));
        let c = p.load().await.expect("ci");
        assert_eq!((c.secret_id(), c.token()), ("AKIDci", Some("tok")));
        let p = TccliProvider::new()
            .with_lookup(env(&[("HOME", &h), ("TCCLI_PROFILE", "ci")]))
            .profile("default");
        assert_eq!(p.load().await.expect("explicit").secret_id(), "AKIDdefault");

        let p = TccliProvider::new()
            .with_lookup(env(&[("HOME", &h)]))
            .profile("absent");
        assert!(matches!(p.detect().await, Ok(Detected::Absent(_))));
        let p = TccliProvider::new()
            .with_lookup(env(&[("HOME", &h)]))
            .profile("../etc");
        assert!(p.detect().await.is_err());
    }

    #[tokio::test]
    async fn malformed_files_name_the_file_and_field_but_no_secret() {
        let dir = tempfile::tempdir().expect("tmp");
        for (name, body, expected) in [
            ("a", "{not json", "is not JSON"),
            ("b", "[]", "not a JSON object"),
            ("c", r#"{"secretKey":"sekrit"}"#, "has no secretId"),
            ("d", r#"{"secretId":"AKID","secretKey":7}"#, "secretKey in"),
            (
                "e",
                r#"{"type":"oauth","secretId":"AKID","secretKey":"sekrit","token":"t","expiresAt":"x"}"#,
                "expiresAt",
            ),
            (
                "f",
                r#"{"type":"oauth","secretId":"AKID","secretKey":"sekrit","token":"t","expiresAt":1000}"#,
                "tccli auth login",
            ),
        ] {
            std::fs::write(dir.path().join(format!("{name}.credential")), body).expect("write");
            let p = TccliProvider::new().dir(dir.path()).profile(name);
            let e = p.load().await.expect_err(name);
            let shown = format!("{e} {e:?}");
            assert!(shown.contains(expected), "{name}: {shown}");
            assert!(shown.contains(&format!("{name}.credential")), "{shown}");
            assert!(!shown.contains("sekrit"), "{shown}");
        }
    }

    #[tokio::test]
    async fn oauth_file_is_read_again_when_near_expiry() {
        let dir = tempfile::tempdir().expect("tmp");
        let now = SystemClock::new().unix_seconds();
        let file = dir.path().join("default.credential");
        let write = |id: &str, expires: u64| {
            std::fs::write(
                &file,
                format!(
                    r#"{{"type":"oauth","secretId":"{id}","secretKey":"k","token":"t","expiresAt":{expires},"oauth":{{"site":"cn"}}}}"#
                ),
            )
            .expect("write");
        };
        write("AKIDfirst", now + 3600);
        let clock = crate::FakeClock::new(now);
        let p = TccliProvider::new()
            .dir(dir.path())
            .clock(Arc::new(clock.clone()));
        assert_eq!(p.load().await.expect("first").secret_id(), "AKIDfirst");
        write("AKIDrenewed", now + 7200);
        assert_eq!(p.load().await.expect("cached").secret_id(), "AKIDfirst");
        clock.advance(std::time::Duration::from_secs(3600 - 299));
        assert_eq!(p.load().await.expect("re-read").secret_id(), "AKIDrenewed");
    }

    #[test]
    fn configure_file_fields() {
        let c = TccliConfig::parse(
            r#"{"_sys_param":{"region":"ap-shanghai","output":"json","language":"en-US"},"ms":{"endpoint":"ms.internal.tencentcloudapi.com","version":"2018-04-08"},"sts":{"endpoint":"sts.internal.tencentcloudapi.com"}}"#,
            Path::new("default.configure"),
        )
        .expect("parse");
        assert_eq!(c.region.as_deref(), Some("ap-shanghai"));
        assert_eq!(c.language.as_deref(), Some("en-US"));
        assert_eq!(
            c.ms_endpoint.as_deref(),
            Some("ms.internal.tencentcloudapi.com")
        );
        assert_eq!(
            c.sts_endpoint.as_deref(),
            Some("sts.internal.tencentcloudapi.com")
        );
        let old = TccliConfig::parse(r#"{"region":"ap-beijing"}"#, Path::new("x")).expect("old");
        assert_eq!(old.region.as_deref(), Some("ap-beijing"));
        assert!(TccliConfig::parse("[", Path::new("x")).is_err());
    }

    /// tccli's real file has a section per service; members of another type than expected
    /// are ignored as absent, a file that is no JSON object is named as such.
    #[test]
    fn configure_file_other_sections_and_odd_types() {
        let mut big = String::from("{");
        for i in 0..300 {
            big.push_str(&format!(
                r#""svc{i}":{{"endpoint":"svc{i}.tencentcloudapi.com","version":"2020-01-01","list":[1,{{"a":null}}]}},"#
            ));
        }
        big.push_str(
            r#""ms":{"endpoint":" ms.example.com "},"_sys_param":{"region":"ap-hongkong"}}"#,
        );
        let c = TccliConfig::parse(&big, Path::new("big")).expect("big");
        assert_eq!(c.region.as_deref(), Some("ap-hongkong"));
        assert_eq!(c.ms_endpoint.as_deref(), Some("ms.example.com"));
        assert_eq!(c.sts_endpoint, None);

        let odd = TccliConfig::parse(
            r#"{"_sys_param":[1],"region":7,"ms":"x","sts":{"endpoint":5}}"#,
            Path::new("odd"),
        )
        .expect("odd");
        assert_eq!(odd, TccliConfig::default());
        let nulls = TccliConfig::parse(r#"{"_sys_param":null,"ms":null}"#, Path::new("n"));
        assert_eq!(nulls.expect("nulls"), TccliConfig::default());

        for (body, expected) in [
            ("[]", "n.configure is not a JSON object"),
            ("3", "n.configure is not a JSON object"),
            ("{", "n.configure is not JSON"),
            (r#"{"ms":{}"#, "n.configure is not JSON"),
        ] {
            let e = TccliConfig::parse(body, Path::new("n.configure")).expect_err(body);
            assert!(e.to_string().contains(expected), "{body}: {e}");
        }
    }
}
