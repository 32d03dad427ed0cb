//! The command-line interface: global options and the command tree.

// The doc comments of the argument types here are `--help` text (clap): URLs, `[default: …]`,
// `[::1]:PORT` and `redis://[:PASSWORD@]HOST` are meant literally, not as rustdoc links.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::output::OutputFormat;

/// Exit codes and credentials: the end of `ms --help`, with or without the emulator.
macro_rules! after_help_common {
    () => {
        "\
Exit codes:
  0    success (also when stdout is closed early, e.g. `ms ... | head`)
  1    the API or the remote service reported an error; `scan submit`: an app
       was not accepted (the run's journal resumes it); `scan wait`, `scan submit
       --wait`: an app's scan failed or timed out
  2    usage or validation error (bad argument, manifest or JSON); also a gate
       (--fail-on, --policy) that judged no app: nothing checked is no pass
  3    network or transport error (connection, TLS, timeout, shared rate limiter)
  4    the scan results violate the policy (--fail-on, --policy); the output is complete
       and a summary is on stderr (any other error takes precedence)
  130  interrupted (SIGINT, Ctrl-C); 143: terminated (SIGTERM)

Credentials come from the first of: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY
(and TENCENTCLOUD_SESSION_TOKEN; with TENCENTCLOUD_ROLE_ARN that role is assumed); the
profile file ~/.tencentcloud/credentials (TENCENTCLOUD_CREDENTIALS_FILE overrides the
path; see `ms configure`); tccli's ~/.tccli; the CVM instance role; the TKE OIDC role
(TKE_REGION, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_ROLE_ARN)."
    };
}

#[cfg(feature = "emulator")]
const AFTER_HELP: &str = concat!(
    after_help_common!(),
    "\nTry it without an account: `ms --emulator scan submit --manifest examples/apps.json --wait`."
);
#[cfg(not(feature = "emulator"))]
const AFTER_HELP: &str = after_help_common!();

/// `ms`: batch security scans of Android apps with Tencent Cloud Mobile Security.
#[derive(Debug, Parser)]
#[command(
    name = "ms",
    version,
    about = "Batch security scans of Android apps with Tencent Cloud Mobile Security (ms 2018-04-08)",
    after_help = AFTER_HELP,
    max_term_width = 100,
    propagate_version = false,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Options that apply to every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options that apply to every command.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Start the emulator in this process (demo account, no network) and talk to it;
    /// overrides --endpoint and the credentials
    #[arg(long, global = true)]
    // A client-only build (no feature `emulator`) keeps the flag, hidden, to refuse it clearly.
    #[cfg_attr(not(feature = "emulator"), arg(hide = true))]
    pub emulator: bool,

    /// Profile of the credentials file to use
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        env = "TENCENTCLOUD_PROFILE",
        default_value = "default"
    )]
    pub profile: String,

    /// Region sent as X-TC-Region (the scan actions do not need one)
    #[arg(
        long,
        global = true,
        value_name = "REGION",
        env = "TENCENTCLOUD_REGION"
    )]
    pub region: Option<String>,

    /// API endpoint: a host or URL [default: https://ms.tencentcloudapi.com]
    #[arg(long, global = true, value_name = "URL", env = "MS_ENDPOINT")]
    pub endpoint: Option<String>,

    /// Extra CA certificate (PEM) to trust, e.g. the emulator's with --tls
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Output format: json (stable, for programs), table (for people), text (tab-separated)
    /// [default: table; json for `ms call`]
    #[arg(short, long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,

    /// Timeout of each HTTP request, in seconds
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60.0, value_parser = parse_timeout)]
    pub timeout: f64,

    /// Client-side requests per second per action [default: the service quotas, 20/s]
    #[arg(long, global = true, value_name = "PER_SEC", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate_limit: Option<u32>,

    /// Share the quotas with every `ms` that uses this Redis (many machines, one account):
    /// redis://[:PASSWORD@]HOST[:PORT][/DB], or rediss://... for TLS
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "MS_SHARED_RATE_LIMIT",
        hide_env_values = true,
        value_parser = SecretUrl::from_arg
    )]
    pub shared_rate_limit: Option<SecretUrl>,

    /// CA certificate (PEM) to trust for a rediss:// --shared-rate-limit instead of the
    /// system's roots
    #[arg(long, global = true, value_name = "FILE")]
    pub shared_rate_limit_ca: Option<PathBuf>,

    /// When that Redis is unreachable or slow: go on alone at a share of the quota (local,
    /// with one warning) or stop with exit code 3 (fail)
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "MODE",
        env = "MS_SHARED_RATE_LIMIT_FALLBACK",
        hide_env_values = true,
        default_value = "local"
    )]
    pub shared_rate_limit_fallback: SharedFallback,

    /// Share of each quota used alone while that Redis is out of reach (e.g. 1 / number of
    /// machines)
    #[arg(long, global = true, value_name = "SHARE", default_value_t = 0.25, value_parser = parse_share)]
    pub shared_rate_limit_share: f64,

    /// Log requests and retries to stderr (-vv for more); secrets are never logged
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Do not ask for confirmation (e.g. before deleting)
    #[arg(short, long, global = true)]
    pub yes: bool,
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("expected a number of seconds, got {s:?}"))?;
    if !(v > 0.0 && v <= 3600.0) {
        return Err(format!(
            "expected more than 0 and at most 3600 seconds, got {s}"
        ));
    }
    Ok(v)
}

fn parse_share(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("expected a share such as 0.25, got {s:?}"))?;
    if !(v > 0.0 && v <= 1.0) {
        return Err(format!("expected more than 0 and at most 1, got {s}"));
    }
    Ok(v)
}

/// A URL that may hold a password: never shown by `Debug` (nor by clap, which is given no
/// way to reject it: it is checked when the client is built, by an error that redacts it).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    fn from_arg(s: &str) -> Result<Self, String> {
        Ok(Self(s.to_owned()))
    }

    /// The URL as given, password included: pass it only to what connects.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match ms_transport::ratelimit::redis::RedisUrl::parse(&self.0) {
            Ok(url) => write!(f, "SecretUrl({url})"),
            Err(_) => f.write_str("SecretUrl(<not a valid URL; hidden>)"),
        }
    }
}

/// What the shared rate limiter does when its Redis fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SharedFallback {
    /// Go on alone at --shared-rate-limit-share of each quota, with one warning
    Local,
    /// Stop: the call fails with exit code 3, nothing is sent
    Fail,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit apps for scanning, follow scans, fetch results and reports
    #[command(subcommand)]
    Scan(ScanCommand),
    /// Call any of the 27 ms actions by name with JSON parameters
    Call(commands::call::CallArgs),
    /// Run the Mobile Security emulator
    #[cfg(feature = "emulator")]
    #[command(subcommand)]
    Emulator(EmulatorCommand),
    /// Write credentials to a profile of ~/.tencentcloud/credentials
    Configure(commands::configure::ConfigureArgs),
    /// Print a shell completion script
    Completions(commands::completions::CompletionsArgs),
}

/// `ms scan ...`
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Submit apps (arguments, manifest or local APKs) in chunks of 20 and print each ItemId
    Submit(Box<commands::submit::SubmitArgs>),
    /// List scanned apps (DescribeScanInstances)
    List(commands::list::ListArgs),
    /// Show the results of scan tasks (DescribeScanResults); --fail-on gates on them
    Results(commands::results::ResultsArgs),
    /// Wait until scan tasks finish
    Wait(commands::wait::WaitArgs),
    /// Delete scan records by AppSid (DeleteScanInstances)
    Delete(commands::delete::DeleteArgs),
    /// Write a report of scan tasks: Markdown, HTML, SARIF (code scanning) or JUnit XML
    Report(commands::report::ReportArgs),
    /// Compare two builds: findings new, fixed and unchanged per app (--fail-on: new only)
    Diff(commands::diff::DiffArgs),
}

/// `ms emulator ...`
#[cfg(feature = "emulator")]
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator over HTTP(S); prints its base URL on the first stdout line
    Serve(ms_emulator::serve::ServeArgs),
}
