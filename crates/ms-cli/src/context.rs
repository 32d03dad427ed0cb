//! What every command gets: the global options, the printer, and (built on first
//! use) the API client, pointed at the embedded emulator with `--emulator`.

use std::time::Duration;

#[cfg(feature = "emulator")]
use ms_transport::StaticProvider;
use ms_transport::{Client, DefaultChain};

use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};
use crate::output::Printer;

/// Scan duration of the emulator started by `--emulator` (short, so a demo finishes quickly).
#[cfg(feature = "emulator")]
pub const EMBEDDED_SCAN_DURATION: Duration = Duration::from_secs(2);

/// The context of one `ms` run.
#[derive(Debug)]
pub struct Ctx {
    /// The global options.
    pub global: GlobalArgs,
    /// Stdout in the chosen format.
    pub printer: Printer,
    client: Option<Client>,
    #[cfg(feature = "emulator")]
    emulator: Option<ms_emulator::Emulator>,
}

impl Ctx {
    /// A context for the given options.
    pub fn new(global: GlobalArgs) -> Self {
        let printer = Printer::new(global.output.unwrap_or_default());
        Ctx {
            global,
            printer,
            client: None,
            #[cfg(feature = "emulator")]
            emulator: None,
        }
    }

    /// The API client (built on first use; starts the embedded emulator with `--emulator`).
    pub async fn client(&mut self) -> CliResult<Client> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let client = self.build_client().await?;
        self.client = Some(client.clone());
        Ok(client)
    }

    async fn build_client(&mut self) -> CliResult<Client> {
        let g = &self.global;
        let tccli = tccli_config(&g.profile);
        let mut builder = Client::builder().request_timeout(Duration::from_secs_f64(g.timeout));
        if let Some(region) = g
            .region
            .clone()
            .or_else(|| profile_region(&g.profile))
            .or_else(|| tccli.region.clone())
        {
            builder = builder.region(region);
        }
        if let Some(rate) = g.rate_limit {
            builder = builder.default_rate_limit(ms_transport::RateLimit::per_second(rate));
        }
        if let Some(url) = &g.shared_rate_limit {
            builder = builder.shared_rate_limit(shared_limiter(url, g)?);
        }
        if g.emulator {
            #[cfg(feature = "emulator")]
            {
                let (b, emulator) = start_embedded(builder).await?;
                builder = b;
                self.emulator = Some(emulator);
            }
            #[cfg(not(feature = "emulator"))]
            return Err(no_emulator());
        } else {
            if let Some(endpoint) = g.endpoint.as_ref().or(tccli.ms_endpoint.as_ref()) {
                // A plain http:// endpoint given explicitly is allowed (the endpoint rule is
                // the transport's own; an unusable endpoint is reported by build()).
                if ms_transport::Endpoint::parse(endpoint).is_ok_and(|e| !e.is_https()) {
                    builder = builder.allow_http();
                }
                builder = builder.endpoint(endpoint.as_str());
            }
            if let Some(path) = &g.ca_cert {
                let pem = std::fs::read(path)
                    .map_err(|e| CliError::file(path, "read the CA certificate", &e))?;
                builder = builder.add_root_pem(&pem);
            }
            builder = builder.credentials(DefaultChain::new().profile(g.profile.as_str()));
        }
        let ca_cert = if g.emulator {
            None
        } else {
            g.ca_cert.as_deref()
        };
        builder.build().map_err(|e| match e.kind() {
            ms_transport::ErrorKind::Config => config_error(&e, ca_cert),
            _ => transport_error(e),
        })
    }

    /// Stops the embedded emulator, if one was started.
    pub async fn shutdown(&mut self) {
        self.client = None;
        #[cfg(feature = "emulator")]
        if let Some(e) = self.emulator.take() {
            e.shutdown().await;
        }
    }
}

/// The settings of `--shared-rate-limit`: the URL checked (an error never shows the
/// password), the fallback, and one warning on stderr when Redis first fails with `local`.
fn shared_limiter(
    url: &crate::cli::SecretUrl,
    g: &GlobalArgs,
) -> CliResult<ms_transport::ratelimit::redis::RedisLimiterConfig> {
    use ms_transport::ratelimit::redis::{
        EventHook, FailureMode, LimiterEvent, RedisLimiterConfig, RedisUrl,
    };
    let url = RedisUrl::parse(url.expose()).map_err(|e| {
        CliError::usage(format!("--shared-rate-limit/MS_SHARED_RATE_LIMIT: {}", e.message()))
            .with_hint("give the Redis all runners share, e.g. redis://10.0.0.5:6379/0 (rediss:// for TLS; a password goes in redis://:PASSWORD@HOST)")
    })?;
    let mode = match g.shared_rate_limit_fallback {
        crate::cli::SharedFallback::Fail => FailureMode::Fail,
        crate::cli::SharedFallback::Local => FailureMode::Local {
            share: g.shared_rate_limit_share,
        },
    };
    let warned = std::sync::atomic::AtomicBool::new(false);
    let hook: EventHook = std::sync::Arc::new(move |event: &LimiterEvent| {
        if let LimiterEvent::Unreachable {
            url,
            reason,
            mode: FailureMode::Local { share },
        } = event
            && !warned.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            errln!(
                "warning: shared rate limiter {url} unavailable ({reason}); going on alone at {:.0} % of the quota until it answers again",
                share * 100.0
            );
        }
    });
    let mut config = RedisLimiterConfig::new(url)
        .failure_mode(mode)
        .on_event(hook);
    if let Some(path) = &g.shared_rate_limit_ca {
        let pem = std::fs::read(path)
            .map_err(|e| CliError::file(path, "read the --shared-rate-limit-ca certificate", &e))?;
        ms_transport::ratelimit::redis::check_root_pem(&pem).map_err(|e| {
            CliError::usage(format!("--shared-rate-limit-ca {}: {}", path.display(), e.message()))
                .with_hint("pass a PEM file with a CERTIFICATE block: the CA that signed the Redis server's certificate")
        })?;
        config = config.root_pem(pem);
    }
    Ok(config)
}

/// Starts the emulator in this process and points `builder` at it with its demo account.
#[cfg(feature = "emulator")]
async fn start_embedded(
    builder: ms_transport::ClientBuilder,
) -> CliResult<(ms_transport::ClientBuilder, ms_emulator::Emulator)> {
    let config = ms_emulator::EmulatorConfig::demo().with_scan_duration(EMBEDDED_SCAN_DURATION);
    let emulator = ms_emulator::Emulator::start(config, ([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| CliError::network(format!("cannot start the embedded emulator: {e}")))?;
    let (id, key) = emulator
        .accounts()
        .first()
        .cloned()
        .ok_or_else(|| CliError::usage("the embedded emulator has no account"))?;
    tracing::info!(url = emulator.base_url(), "embedded emulator started");
    let builder = builder
        .endpoint(emulator.base_url())
        .allow_http()
        // In-process loopback: a proxy from the environment (or a broken one)
        // must not get in the way of the demo.
        .proxy(ms_transport::Proxy::None)
        .credentials(StaticProvider::from_parts(&id, &key, None).map_err(transport_error)?);
    Ok((builder, emulator))
}

/// What to do when no credentials were found.
#[cfg(feature = "emulator")]
const NO_CREDENTIALS_HINT: &str = "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, run `ms configure`, or try `ms --emulator ...`";
#[cfg(not(feature = "emulator"))]
const NO_CREDENTIALS_HINT: &str =
    "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or run `ms configure`";

/// The error of `--emulator` in a client-only build.
pub fn no_emulator() -> CliError {
    CliError::usage("--emulator: this `ms` was built without the emulator (cargo feature `emulator`)")
        .with_hint("use --endpoint with a running emulator (`ms-emulator`), or build `ms` with the default features")
}

/// tccli's configure file (`~/.tccli/<profile>.configure`: region, `ms.endpoint`), for the
/// settings not given otherwise. The profile is `--profile` unless it is `default`, then
/// `TCCLI_PROFILE`, as the credential chain reads tccli. Absent or unreadable: no settings
/// (the credential step reports a broken tccli credential file).
fn tccli_config(profile: &str) -> ms_transport::credentials::TccliConfig {
    let mut tccli = ms_transport::TccliProvider::new();
    if profile != ms_transport::credentials::DEFAULT_PROFILE {
        tccli = tccli.profile(profile);
    }
    let Some(dir) = tccli.resolved_dir() else {
        return Default::default();
    };
    match ms_transport::credentials::TccliConfig::load(&dir, &tccli.resolved_profile()) {
        Ok(config) => config.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "tccli configure file ignored");
            Default::default()
        }
    }
}

/// The `region` key of the profile written by `ms configure`, if any.
fn profile_region(profile: &str) -> Option<String> {
    let path = crate::commands::configure::credentials_path().ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    let ini = ini::Ini::load_from_str(&text).ok()?;
    let region = ini.section(Some(profile))?.get("region")?.trim();
    (!region.is_empty()).then(|| region.to_owned())
}

/// A configuration error of the client (exit code 2), reworded to name the option or
/// environment variable the user set and how to fix it. The transport says which setting
/// failed ([`ms_transport::ConfigSetting`]); its message is never parsed.
fn config_error(e: &ms_transport::Error, ca_cert: Option<&std::path::Path>) -> CliError {
    use ms_transport::ConfigSetting as S;
    let message = e.message();
    match e.config_setting() {
        Some(S::Proxy(Some(var))) => CliError::usage(format!("proxy setting {message}"))
            .with_hint(format!(
                "fix or unset {var}: only http://host:port proxies are supported (NO_PROXY lists hosts to reach directly)"
            )),
        Some(S::RootCertificate(_)) => {
            let file = ca_cert
                .map(|p| format!(" {}", p.display()))
                .unwrap_or_default();
            CliError::usage(format!("--ca-cert{file}: {}", e.config_detail()))
                .with_hint("pass a PEM file with a CERTIFICATE block, e.g. the one written by `ms emulator serve --tls --cert-out FILE`")
        }
        Some(S::Endpoint) => CliError::usage(format!("--endpoint/MS_ENDPOINT: {message}"))
            .with_hint(
                "give a host (ms.tencentcloudapi.com), host:port, or a base URL such as https://127.0.0.1:8443",
            ),
        Some(S::Region) => CliError::usage(format!("--region/TENCENTCLOUD_REGION: {message}"))
            .with_hint(
                "use a region name such as ap-guangzhou (or leave it out: the scan actions need none)",
            ),
        _ => CliError::usage(format!("client configuration: {message}")),
    }
}

/// Maps a transport error to a CLI error with the right exit code and a hint.
pub fn transport_error(e: ms_transport::Error) -> CliError {
    use ms_transport::ErrorKind as K;
    use ms_transport::model::ErrorCode as C;
    if e.kind() == K::Config {
        return config_error(&e, None);
    }
    let message = e.message().to_owned();
    let code = e.code().map(|c| c.as_str().to_owned());
    let request_id = e.request_id().map(str::to_owned);
    let mut err = match e.kind() {
        K::Api | K::HttpStatus | K::Decode => CliError::remote(message),
        K::Timeout | K::Connect | K::Tls | K::Transport | K::RateLimiter => {
            CliError::network(message)
        }
        // The credentials' source (STS, the metadata service) did not answer: a network
        // failure, not a mistake in the command.
        K::Credentials if e.is_safe_to_retry() => CliError::network(message),
        K::Validation | K::Credentials | K::Signing | K::Config => CliError::usage(message),
        _ => CliError::remote(message),
    };
    if let Some(code) = &code {
        err = err.with_code(code.clone());
    }
    err = err.with_request_id(request_id);
    // A Create/Delete/Update call that may have been processed must not be blindly resent:
    // the service may already hold the task (nothing submitted twice).
    let maybe_processed_write = e.is_outcome_unknown()
        && e.action()
            .is_none_or(|a| ms_model::action_info(a).is_none_or(|info| !info.idempotent));
    let hint = match (e.kind(), e.code()) {
        _ if maybe_processed_write => Some(
            "the request may have reached the service: check `ms scan list` (or the matching Describe action) before sending it again",
        ),
        (K::Credentials, _) if e.is_safe_to_retry() => Some(
            "the credentials' source (STS or the CVM metadata service) did not answer; check the network (HTTPS_PROXY, NO_PROXY) and try again",
        ),
        (K::Credentials, _) => Some(NO_CREDENTIALS_HINT),
        (K::Timeout, _) => Some("the service did not answer in time; raise --timeout or try again"),
        (K::RateLimiter, _) => Some(
            "check the Redis of --shared-rate-limit, or pass --shared-rate-limit-fallback local to go on alone at a share of the quota",
        ),
        (K::Connect, _) => {
            Some("check --endpoint and your network (proxy settings: HTTPS_PROXY, NO_PROXY)")
        }
        (K::Tls, _) => Some(
            "if the server uses a private CA (e.g. `ms emulator serve --tls`), pass it with --ca-cert",
        ),
        (_, Some(C::AuthFailureSecretIdNotFound | C::AuthFailureInvalidSecretId)) => {
            Some("check the SecretId of the profile (`ms configure`) or TENCENTCLOUD_SECRET_ID")
        }
        (_, Some(C::AuthFailureSignatureFailure)) => {
            Some("check the SecretKey of the profile (`ms configure`) or TENCENTCLOUD_SECRET_KEY")
        }
        (_, Some(C::AuthFailureSignatureExpire)) => Some("the system clock is off; sync it (NTP)"),
        (_, Some(C::ResourceNotFoundItemIdNotFound)) => {
            Some("check the ItemId; `ms scan list` shows the submitted tasks")
        }
        (_, Some(C::InvalidAction | C::ActionOffline)) => Some(
            "the scan actions were retired by Tencent Cloud in 2023; use `--emulator` or `ms emulator serve`",
        ),
        // `RequestLimitExceeded` and its sub-codes, and HTTP 429: the transport's one
        // classification of throttling.
        _ if e.is_throttling() => Some("too many requests; wait a moment and retry"),
        _ => None,
    };
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::transport_error;
    use std::time::Duration;

    #[test]
    fn timeout_hint_depends_on_whether_the_action_may_have_been_processed() {
        let hint = |action: &str| {
            let e = transport_error(
                ms_transport::Error::timeout(Duration::from_secs(1)).with_action(action),
            );
            assert_eq!(e.exit_code(), 3);
            e.hint().unwrap_or_default().to_owned()
        };
        // A write that may have been processed: check before resending (never "try again").
        let create = hint("CreateScanInstances");
        assert!(create.contains("may have reached the service"), "{create}");
        assert!(!create.contains("try again"), "{create}");
        // A read is safe to repeat.
        let describe = hint("DescribeScanInstances");
        assert!(
            describe.contains("raise --timeout or try again"),
            "{describe}"
        );
    }

    #[test]
    fn credentials_whose_source_did_not_answer_are_a_network_failure() {
        let e = transport_error(
            ms_transport::Error::credentials_unavailable("STS AssumeRole r: Timeout error")
                .with_action("CreateScanInstances"),
        );
        assert_eq!(e.exit_code(), 3, "{e:?}");
        let hint = e.hint().unwrap_or_default();
        assert!(hint.contains("did not answer"), "{hint}");
        assert!(!hint.contains("may have reached the service"), "{hint}");

        let e = transport_error(ms_transport::Error::credentials("no credentials found"));
        assert_eq!(e.exit_code(), 2, "{e:?}");
        assert!(
            e.hint()
                .unwrap_or_default()
                .contains("TENCENTCLOUD_SECRET_ID"),
            "{e:?}"
        );
    }

    #[test]
    fn api_error_hints_are_picked_by_the_typed_code() {
        use ms_transport::model::ErrorCode;
        let hint = |code: ErrorCode| {
            let e = transport_error(
                ms_transport::Error::api(code, "m", Some("r".into()))
                    .with_action("DescribeScanInstances"),
            );
            assert_eq!(e.exit_code(), 1);
            e.hint().unwrap_or_default().to_owned()
        };
        for (code, expected) in [
            (ErrorCode::AuthFailureSecretIdNotFound, "check the SecretId"),
            (ErrorCode::AuthFailureInvalidSecretId, "check the SecretId"),
            (
                ErrorCode::AuthFailureSignatureFailure,
                "check the SecretKey",
            ),
            (ErrorCode::AuthFailureSignatureExpire, "system clock is off"),
            (
                ErrorCode::ResourceNotFoundItemIdNotFound,
                "check the ItemId",
            ),
            (ErrorCode::InvalidAction, "retired by Tencent Cloud"),
            (ErrorCode::ActionOffline, "retired by Tencent Cloud"),
            (ErrorCode::RequestLimitExceeded, "too many requests"),
            (
                ErrorCode::RequestLimitExceededUinLimitExceeded,
                "too many requests",
            ),
            // A sub-code the tables do not list is still throttling.
            (
                ErrorCode::parse("RequestLimitExceeded.SomethingNew"),
                "too many requests",
            ),
        ] {
            let got = hint(code.clone());
            assert!(got.contains(expected), "{code}: {got:?}");
        }
        // No hint for codes that have none, nor for an unlisted code that merely starts
        // like one that has.
        assert_eq!(hint(ErrorCode::InternalError), "");
        assert_eq!(hint(ErrorCode::parse("AuthFailure.SignatureFailureX")), "");
    }
}
