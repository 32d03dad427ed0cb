//! Command-line front end shared by the `ms-emulator` binary and `ms emulator serve`.
//!
//! [`run`] starts the emulator, writes the certificate (`--cert-out`) and then prints the
//! base URL as the **first line on stdout** (so scripts can start it on port 0), followed by
//! the demo credentials when no `--account` is given. It runs until SIGINT or SIGTERM and
//! then shuts down gracefully (closing the `--state` file), or until the state file cannot be
//! written: then it stops with that error (exit status 1 from the binaries).

// The doc comments of the argument types here are `--help` text (clap): URLs, `[default: …]`,
// `[::1]:PORT` and `redis://[:PASSWORD@]HOST` are meant literally, not as rustdoc links.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::config::{CallbackTarget, EmulatorConfig, FaultConfig, Limits, StateSync};
use crate::{Emulator, Error};

/// One `--account ID:KEY` value. `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountArg {
    /// The SecretId.
    pub secret_id: String,
    /// The SecretKey (never printed).
    pub secret_key: String,
}

impl fmt::Debug for AccountArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountArg({}:<redacted>)", self.secret_id)
    }
}

impl FromStr for AccountArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (id, key) = s
            .split_once(':')
            .ok_or_else(|| "expected SECRET_ID:SECRET_KEY".to_owned())?;
        let (id, key) = (id.trim(), key.trim());
        if id.is_empty() || key.is_empty() {
            return Err(
                "SecretId and SecretKey must not be empty (expected SECRET_ID:SECRET_KEY)"
                    .to_owned(),
            );
        }
        crate::config::check_account(id, key)?;
        Ok(AccountArg {
            secret_id: id.to_owned(),
            secret_key: key.to_owned(),
        })
    }
}

/// Parses `--account` values without echoing them in errors (clap's default parser error
/// quotes the whole value, which holds the SecretKey).
#[derive(Debug, Clone, Copy)]
struct AccountParser;

impl clap::builder::TypedValueParser for AccountParser {
    type Value = AccountArg;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<AccountArg, clap::Error> {
        let fail = |why: &str| {
            let name = arg.map_or_else(|| "--account".to_owned(), |a| a.to_string());
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '{name}' (not shown: it holds a secret key): {why}\n"),
            )
            .with_cmd(cmd)
        };
        let s = value.to_str().ok_or_else(|| fail("not valid UTF-8"))?;
        s.parse().map_err(|e: String| fail(&e))
    }
}

/// One `--action-rate-limit ACTION=N` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRateArg {
    /// The action name.
    pub action: String,
    /// Requests per second (0 = unlimited).
    pub per_second: u32,
}

impl FromStr for ActionRateArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, n) = s
            .split_once('=')
            .ok_or_else(|| "expected ACTION=N".to_owned())?;
        let per_second = n
            .trim()
            .parse()
            .map_err(|_| format!("expected a number of requests per second, got {n:?}"))?;
        if a.trim().is_empty() {
            return Err("expected ACTION=N".to_owned());
        }
        if ms_model::action_info(a.trim()).is_none() {
            return Err(format!(
                "{:?} is not an ms action (names are case-sensitive, e.g. DescribeScanResults)",
                a.trim()
            ));
        }
        Ok(ActionRateArg {
            action: a.trim().to_owned(),
            per_second,
        })
    }
}

fn share(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("expected a share between 0 and 1, got {s:?}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("expected a share between 0 and 1, got {s:?}"))
    }
}

fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("expected seconds, got {s:?}"))?;
    if v.is_finite() && (0.0..=86_400.0 * 365.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "expected seconds between 0 and one year, got {s:?}"
        ))
    }
}

/// Arguments of `ms-emulator` / `ms emulator serve`.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate for 127.0.0.1/::1/localhost made at start.
    #[arg(long)]
    pub tls: bool,
    /// Write the certificate to trust (PEM) to FILE (with --tls).
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub cert_out: Option<PathBuf>,
    /// Accept these credentials (repeatable). Without it a demo account is created and printed
    /// (refused on a non-loopback --listen address unless --allow-public-demo is given).
    #[arg(long = "account", value_name = "ID:KEY", value_parser = AccountParser)]
    pub accounts: Vec<AccountArg>,
    /// Serve the published demo account even on a non-loopback --listen address.
    #[arg(long)]
    pub allow_public_demo: bool,
    /// Deliver callbacks only to this loopback receiver (repeatable): PORT, 127.0.0.1:PORT,
    /// [::1]:PORT or localhost:PORT. Without it: any loopback port when listening on a
    /// loopback address, none otherwise.
    #[arg(long = "callback-allow", value_name = "TARGET")]
    pub callback_allow: Vec<CallbackTarget>,
    /// Simulated duration of one app's scan, in seconds (fractions allowed).
    #[arg(long, value_name = "N", default_value = "3", value_parser = seconds)]
    pub scan_seconds: f64,
    /// Requests per second per (action, region, SecretId); 0 disables rate limiting.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub rate_limit: u32,
    /// Rate limit of one action (repeatable), e.g. DescribeScanResults=5.
    #[arg(long = "action-rate-limit", value_name = "ACTION=N")]
    pub action_rate_limits: Vec<ActionRateArg>,
    /// Keep tasks, scans, quota and deliveries in FILE (SQLite; every change is stored before
    /// it is acknowledged), restored at start. A JSON state file of earlier versions is migrated.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// How far each commit to the --state file is synced before it is acknowledged: full
    /// (survives a power loss) or normal (survives a crash of the process; faster).
    #[arg(long, value_name = "LEVEL", default_value = "full")]
    pub state_sync: StateSync,
    /// Scan quota (LimitCount) each account starts with.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub quota: u64,
    /// Maximum simultaneous connections.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_connections: usize,
    /// Maximum request body size in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Request-body bytes held at once across all connections (at least --max-body-bytes).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_inflight_body_bytes: usize,
    /// Concurrent HTTP/2 streams per connection.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_http2_streams: u32,
    /// Seconds allowed to receive a request's headers (and the TLS handshake).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub header_timeout: f64,
    /// Fault injection: latency added to every reply, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub fault_latency_ms: u64,
    /// Fault injection: share of requests answered with HTTP 502/503.
    #[arg(long = "fault-5xx", value_name = "SHARE", default_value = "0", value_parser = share)]
    pub fault_5xx: f64,
    /// Fault injection: share of connections dropped without a reply (half of them after
    /// the request was processed).
    #[arg(long, value_name = "SHARE", default_value = "0", value_parser = share)]
    pub fault_drop: f64,
    /// Fault injection: share of replies cut short mid-body.
    #[arg(long, value_name = "SHARE", default_value = "0", value_parser = share)]
    pub fault_truncate: f64,
    /// Fault injection: share of replies with a malformed JSON body.
    #[arg(long, value_name = "SHARE", default_value = "0", value_parser = share)]
    pub fault_malformed: f64,
    /// Fault injection: share of requests answered RequestLimitExceeded (throttling storm).
    #[arg(long, value_name = "SHARE", default_value = "0", value_parser = share)]
    pub fault_throttle: f64,
    /// Fault injection: answer the first N authenticated requests RequestLimitExceeded.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_throttle_burst: u32,
    /// Fault injection: seconds added to the server clock (may be negative).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub clock_offset: i64,
    /// Seed of the fault generator.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_seed: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            cert_out: None,
            accounts: Vec::new(),
            allow_public_demo: false,
            callback_allow: Vec::new(),
            scan_seconds: 3.0,
            rate_limit: 20,
            action_rate_limits: Vec::new(),
            state: None,
            state_sync: StateSync::Full,
            quota: 1000,
            max_connections: 256,
            max_body_bytes: 10 * 1024 * 1024,
            max_inflight_body_bytes: 64 * 1024 * 1024,
            max_http2_streams: 16,
            header_timeout: 10.0,
            fault_latency_ms: 0,
            fault_5xx: 0.0,
            fault_drop: 0.0,
            fault_truncate: 0.0,
            fault_malformed: 0.0,
            fault_throttle: 0.0,
            fault_throttle_burst: 0,
            clock_offset: 0,
            fault_seed: 0,
        }
    }
}

impl ServeArgs {
    /// The emulator configuration these arguments describe.
    pub fn to_config(&self) -> EmulatorConfig {
        let mut config = EmulatorConfig::demo()
            .with_scan_duration(Duration::from_secs_f64(self.scan_seconds))
            .with_rate_limit(self.rate_limit)
            .with_initial_quota(self.quota)
            .with_limits(Limits {
                max_connections: self.max_connections,
                max_body_bytes: self.max_body_bytes,
                max_inflight_body_bytes: self.max_inflight_body_bytes,
                max_streams_per_connection: self.max_http2_streams,
                header_read_timeout: Duration::from_secs_f64(self.header_timeout),
                ..Limits::default()
            })
            .with_faults(FaultConfig {
                latency: Duration::from_millis(self.fault_latency_ms),
                error_5xx: self.fault_5xx,
                drop_connection: self.fault_drop,
                truncate_body: self.fault_truncate,
                malformed_body: self.fault_malformed,
                throttle: self.fault_throttle,
                throttle_burst: self.fault_throttle_burst,
                clock_offset_secs: self.clock_offset,
                seed: self.fault_seed,
            });
        if !self.accounts.is_empty() {
            config.accounts = self
                .accounts
                .iter()
                .map(|a| (a.secret_id.clone(), a.secret_key.clone()))
                .collect();
        }
        if self.tls {
            config = config.with_tls();
        }
        for r in &self.action_rate_limits {
            config = config.with_action_rate_limit(r.action.clone(), r.per_second);
        }
        if let Some(p) = &self.state {
            config = config.with_state_file(p.clone());
        }
        config.state_sync = self.state_sync;
        if !self.callback_allow.is_empty() {
            config.callbacks = config.callbacks.with_allow(self.callback_allow.clone());
        }
        config.allow_public_demo = self.allow_public_demo;
        config
    }
}

/// Starts the emulator, prints the base URL as the first stdout line, and serves until
/// SIGINT/SIGTERM, then shuts down gracefully.
///
/// # Errors
/// Start-up failures (bind, TLS, state file, certificate file) and signal set-up failures.
pub async fn run(args: ServeArgs) -> Result<(), Error> {
    // Install the signal handlers first: a signal arriving right after the URL is printed
    // must already lead to a graceful shutdown.
    let signals = Signals::install()?;
    let emulator = Emulator::start(args.to_config(), args.listen).await?;
    if let (Some(path), Some(pem)) = (&args.cert_out, emulator.ca_pem()) {
        crate::store::write_file_atomic(path, pem.as_bytes()).map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("cannot write the certificate to {}: {e}", path.display()),
            ))
        })?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", emulator.base_url())?;
        if args.accounts.is_empty()
            && let Some((id, key)) = emulator.accounts().first()
        {
            writeln!(
                out,
                "demo account (local only): TENCENTCLOUD_SECRET_ID={id} TENCENTCLOUD_SECRET_KEY={key}"
            )?;
        }
        out.flush()?;
    }
    let failure = tokio::select! {
        () = signals.wait() => {
            tracing::info!("signal received; shutting down");
            None
        }
        e = emulator.failure() => Some(e),
    };
    // Stop serving either way; a write failure is the error the process exits with.
    let closed = emulator.close().await;
    match failure {
        Some(e) => Err(e),
        None => closed,
    }
}

/// SIGINT/SIGTERM listeners.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, Error> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_flags_into_config() {
        let cli = Cli::try_parse_from([
            "ms-emulator",
            "--tls",
            "--cert-out",
            "/tmp/c.pem",
            "--account",
            "AKIDa:keya",
            "--account",
            "AKIDb:key:with:colons",
            "--scan-seconds",
            "0.05",
            "--rate-limit",
            "7",
            "--action-rate-limit",
            "DescribeScanResults=2",
            "--fault-5xx",
            "0.5",
            "--clock-offset",
            "-400",
        ])
        .unwrap();
        let c = cli.serve.to_config();
        assert!(c.tls);
        assert_eq!(c.accounts[1], ("AKIDb".into(), "key:with:colons".into()));
        assert_eq!(c.scan_duration, Duration::from_millis(50));
        assert_eq!(c.rate_limits.for_action("DescribeScanResults"), 2);
        assert_eq!(c.rate_limits.for_action("CreateScanInstances"), 7);
        assert_eq!(c.faults.error_5xx, 0.5);
        assert_eq!(c.faults.clock_offset_secs, -400);
        assert!(!format!("{:?}", cli.serve).contains("keya"));
        assert_eq!(c.callbacks.allow, None);
        assert!(!c.allow_public_demo);
        let cli = Cli::try_parse_from([
            "ms-emulator",
            "--callback-allow",
            "8080",
            "--callback-allow",
            "localhost:9090",
            "--allow-public-demo",
        ])
        .unwrap();
        let c = cli.serve.to_config();
        let allow: Vec<String> = c
            .callbacks
            .allow
            .unwrap()
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(allow, ["8080", "127.0.0.1:9090"]);
        assert!(c.allow_public_demo);
    }

    #[test]
    fn rejects_bad_values() {
        assert!(Cli::try_parse_from(["x", "--account", "nokey"]).is_err());
        assert!(Cli::try_parse_from(["x", "--account", ":k"]).is_err());
        for bad in [
            "AKID/x:topsecret",
            "AKID x:topsecret",
            "AKID,x:topsecret",
            "AKIDx=topsecret",
            "AKIDx:top\u{7}secret",
        ] {
            let Err(e) = Cli::try_parse_from(["x", "--account", bad]) else {
                panic!("{bad:?} accepted");
            };
            let text = e.to_string();
            assert!(text.contains("--account"), "{text}");
            assert!(!text.contains("topsecret"), "the key is echoed: {text}");
        }
        assert!(Cli::try_parse_from(["x", "--fault-drop", "1.5"]).is_err());
        assert!(Cli::try_parse_from(["x", "--callback-allow", "10.0.0.1:80"]).is_err());
        assert!(Cli::try_parse_from(["x", "--cert-out", "f.pem"]).is_err());
        assert!(Cli::try_parse_from(["x", "--scan-seconds", "-1"]).is_err());
        // A misspelt action would be a limit that never applies.
        for bad in [
            "describeScanResults=5",
            "NoSuchAction=5",
            "DescribeScanResult=5",
        ] {
            let Err(e) = Cli::try_parse_from(["x", "--action-rate-limit", bad]) else {
                panic!("{bad} accepted");
            };
            assert!(e.to_string().contains("not an ms action"), "{e}");
        }
    }
}
