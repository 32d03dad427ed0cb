//! `ms scan submit`: apps from arguments, a manifest (file, pipe, FIFO, `<(...)`, stdin) or
//! local APK files, recorded in a run journal, submitted in chunks of 20 at the quota rate;
//! every app ends accepted (with its ItemId) or named with the reason, and an interrupted
//! run resumes from its journal. `--wait` streams the results task by task.
//!
//! The arguments are first turned into a [`SubmitPlan`] (everything checked, nothing read
//! or sent), which [`exec`] then carries out.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use ms_model::ScanInfo;
use ms_transport::batch::BatchOptions;
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::input::Input;
use crate::journal::JournalChoice;
use crate::manifest::{ManifestFormat, is_md5};
use crate::output::OutputFormat;
use crate::policy::{Gate, GateArgs};

/// A scan type (ScanInfo.ScanTypes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum ScanType {
    /// Vulnerabilities.
    Vulscan,
    /// Viruses.
    Virusscan,
    /// Ads.
    Adscan,
    /// Plugins.
    Pluginscan,
    /// System permissions.
    Permission,
    /// Sensitive words.
    Sensitive,
}

impl ScanType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanType::Vulscan => "VULSCAN",
            ScanType::Virusscan => "VIRUSSCAN",
            ScanType::Adscan => "ADSCAN",
            ScanType::Pluginscan => "PLUGINSCAN",
            ScanType::Permission => "PERMISSION",
            ScanType::Sensitive => "SENSITIVE",
        }
    }

    /// All six.
    pub const ALL: [ScanType; 6] = [
        ScanType::Vulscan,
        ScanType::Virusscan,
        ScanType::Adscan,
        ScanType::Pluginscan,
        ScanType::Permission,
        ScanType::Sensitive,
    ];
}

/// Arguments of `ms scan submit`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ms scan submit --url https://cdn.example.com/app.apk --md5 0123456789abcdef0123456789abcdef --size 1048576
  ms scan submit --manifest apps.json --wait            # JSON array, JSON Lines or CSV (.csv)
  ms scan submit --apk build/outputs/ --url-prefix https://cdn.example.com/apks/
  ms scan submit --apk app.apk --url-template 'https://cdn.example.com/{md5}/{file}'

  ms scan submit --manifest apps.json --journal run.db  # resumable: run it again after a failure
  ms scan submit --journal run.db                       # resume from the journal alone
  generate-apps | ms scan submit --manifest - -o jsonl  # one line per chunk as it lands

Manifest fields: url, md5 (required), size, name, package, version, file_name, icon_url
(or the API names AppUrl, AppMd5, AppSize, ...; CSV headers in any case); other keys are
named in a warning and ignored. The input is read once and checked completely into the
run's journal before the first request: a bad entry submits nothing.

Every app ends accepted (with its ItemId) or is named with the reason: not accepted by the
service (quota), failed (safe to submit again), or unknown. Lost replies are reconciled
with the account's scan list before anything is sent again. Exit status: 0 when every app
was accepted, 1 otherwise (2 for invalid input, 3 when the service could not be reached,
130/143 when interrupted); run the same command (or the one printed) to resume. With --wait:
1 as well when some app's scan failed (as `ms scan wait`); with --fail-on/--policy: 4 when
every app was accepted and scanned but the results of the run violate the policy. The
results are printed in full first.")]
#[command(group(clap::ArgGroup::new("source").multiple(false).args(["url", "manifest", "apk"])))]
pub struct SubmitArgs {
    /// Download URL of one app (with --md5)
    #[arg(long, value_name = "URL", requires = "md5", help_heading = "One app")]
    pub url: Option<String>,
    /// MD5 of the app (32 hex digits)
    #[arg(long, value_name = "MD5", requires = "url", value_parser = parse_md5, help_heading = "One app")]
    pub md5: Option<String>,
    /// Size of the app in bytes
    #[arg(long, value_name = "BYTES", requires = "url", help_heading = "One app")]
    pub size: Option<u64>,
    /// App name
    #[arg(long, value_name = "NAME", requires = "url", help_heading = "One app")]
    pub name: Option<String>,
    /// Package name
    #[arg(
        long,
        value_name = "PACKAGE",
        requires = "url",
        help_heading = "One app"
    )]
    pub package: Option<String>,
    /// App version
    #[arg(
        long,
        value_name = "VERSION",
        requires = "url",
        help_heading = "One app"
    )]
    pub app_version: Option<String>,

    /// Manifest of apps: JSON array, JSON Lines or CSV; `-` reads standard input
    #[arg(long, value_name = "FILE", help_heading = "Many apps")]
    pub manifest: Option<PathBuf>,
    /// Manifest format
    #[arg(long, value_enum, default_value_t = ManifestFormat::Auto, value_name = "FORMAT", help_heading = "Many apps")]
    pub manifest_format: ManifestFormat,

    /// Local APK files or directories of them (MD5 and size are computed)
    #[arg(long, value_name = "PATH", num_args = 1.., help_heading = "Local files")]
    pub apk: Vec<PathBuf>,
    /// Base URL where the local files are published: URL/FILE_NAME
    #[arg(
        long,
        value_name = "URL",
        requires = "apk",
        conflicts_with = "url_template",
        help_heading = "Local files"
    )]
    pub url_prefix: Option<String>,
    /// URL template for local files with {file}, {stem}, {md5}, {size}
    #[arg(
        long,
        value_name = "TEMPLATE",
        requires = "apk",
        help_heading = "Local files"
    )]
    pub url_template: Option<String>,

    /// Scan types, comma-separated [default: all six]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "TYPES")]
    pub scan_types: Vec<ScanType>,
    /// URL the service notifies (POST) as each app's scan finishes [default: none]
    #[arg(long, value_name = "URL", env = "MS_CALLBACK_URL")]
    pub callback_url: Option<String>,
    /// Apps per request (at most 20)
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=20))]
    pub chunk_size: u64,
    /// Requests in flight at once (the rate limit still applies)
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// Check the input and print what would be submitted, without sending anything
    #[arg(long)]
    pub dry_run: bool,

    /// The run's journal (SQLite): created if missing, resumed if it exists (accepted apps
    /// are never sent again) [default: a new file under ~/.local/state/ms/journals]
    #[arg(long, value_name = "FILE", help_heading = "Journal")]
    pub journal: Option<PathBuf>,
    /// Keep the run in a temporary journal only (an interrupted run cannot be resumed)
    #[arg(long, conflicts_with = "journal", help_heading = "Journal")]
    pub no_journal: bool,

    /// Wait for the scans to finish, then show the results
    #[arg(long)]
    pub wait: bool,
    /// With --wait: seconds between two rounds of polls
    #[arg(long, default_value_t = 2.0, value_name = "SECS", value_parser = crate::commands::wait::parse_secs)]
    pub poll_interval: f64,
    /// With --wait: give up after this many seconds
    #[arg(long, default_value_t = 3600.0, value_name = "SECS", value_parser = crate::commands::wait::parse_secs)]
    pub wait_timeout: f64,

    /// The policy gate (with --wait), judging every app of the run.
    #[command(flatten)]
    pub gate: GateArgs,
}

/// Parses an MD5 argument (32 hex digits, returned in lowercase).
pub fn parse_md5(s: &str) -> Result<String, String> {
    let t = s.trim();
    if is_md5(t) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(format!("expected 32 hex digits, got {s:?}"))
    }
}

/// How long to wait for the scans, with `--wait`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPlan {
    /// Pause between two rounds of polls.
    pub poll: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

/// What `ms scan submit` will do, worked out from the arguments before anything is read or
/// sent (ripgrep's validated "high-level arguments").
#[derive(Debug)]
pub struct SubmitPlan {
    /// Where the apps come from (none: resume a journal alone).
    pub input: Option<Input>,
    /// Scan types and callback URL.
    pub scan_info: ScanInfo,
    /// Whether `--scan-types` / `--callback-url` were given (a resumed run otherwise takes
    /// the journal's).
    pub explicit_settings: (bool, bool),
    /// Which journal.
    pub journal: JournalChoice,
    /// Chunk size, concurrency.
    pub batch: BatchOptions,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--wait`.
    pub wait: Option<WaitPlan>,
    /// `--fail-on` / `--policy` (only with `--wait`): judges the results of the whole run.
    pub gate: Option<Gate>,
}

impl SubmitPlan {
    /// Checks the arguments and decides what to do.
    pub fn new(args: &SubmitArgs, global: &GlobalArgs) -> CliResult<Self> {
        let scan_info = scan_info_of(args)?;
        let input = Input::from_args(args)?;
        if input.is_none() && (args.journal.is_none() || args.dry_run) {
            return Err(CliError::usage(
                "one of --manifest, --url or --apk is required (or --journal FILE to resume a run)",
            )
            .with_hint("see `ms scan submit --help`"));
        }
        // The policy file is read and checked before anything is read or sent.
        let gate = args.gate.gate()?;
        if gate.is_some() && (!args.wait || args.dry_run) {
            return Err(CliError::usage(
                "--fail-on and --policy judge the scan results: they need --wait (and no --dry-run)",
            )
            .with_hint("add --wait, or gate later with `ms scan wait --journal FILE --fail-on LEVEL`"));
        }
        let journal = match &args.journal {
            Some(path) => JournalChoice::File(path.clone()),
            // The embedded emulator's scans end with the process: nothing to resume.
            None if args.no_journal || global.emulator => JournalChoice::Temporary,
            None => JournalChoice::Default,
        };
        Ok(SubmitPlan {
            input,
            scan_info,
            explicit_settings: (!args.scan_types.is_empty(), args.callback_url.is_some()),
            journal,
            batch: BatchOptions {
                chunk_size: args.chunk_size as usize,
                concurrency: args.concurrency as usize,
                ..BatchOptions::default()
            },
            dry_run: args.dry_run,
            wait: args.wait.then(|| WaitPlan {
                poll: Duration::from_secs_f64(args.poll_interval),
                timeout: Duration::from_secs_f64(args.wait_timeout),
            }),
            gate,
        })
    }
}

/// `ScanInfo` from `--scan-types` (all six by default, duplicates dropped) and
/// `--callback-url` (none by default), checked once with the model's rules: a bad callback
/// URL would otherwise fail every chunk.
fn scan_info_of(args: &SubmitArgs) -> CliResult<ScanInfo> {
    let mut scan_types: Vec<String> = Vec::new();
    let chosen = if args.scan_types.is_empty() {
        &ScanType::ALL[..]
    } else {
        &args.scan_types[..]
    };
    for t in chosen {
        if !scan_types.iter().any(|x| x == t.as_str()) {
            scan_types.push(t.as_str().to_owned());
        }
    }
    let scan_info = ScanInfo {
        // An empty CallbackUrl means no notification.
        callback_url: args
            .callback_url
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned(),
        scan_types,
    };
    if let Err(errors) = ms_model::Validate::validate(&scan_info) {
        let shown: Vec<String> = errors
            .0
            .iter()
            .map(|v| format!("ScanInfo.{}: {}", v.path, v.message))
            .collect();
        return Err(CliError::usage(format!(
            "--callback-url (or MS_CALLBACK_URL)/--scan-types: {}",
            shown.join("; ")
        ))
        .with_hint("fix the option (or leave --callback-url out for no notification)"));
    }
    Ok(scan_info)
}

/// Submits the apps.
pub async fn exec(ctx: &mut Ctx, args: SubmitArgs) -> CliResult<()> {
    let plan = SubmitPlan::new(&args, &ctx.global)?;
    if plan.dry_run {
        return dry_run(ctx, &plan);
    }
    let client = ctx.client().await?;
    let run = crate::journal::open_for_submit(
        &plan.journal,
        plan.input.as_ref(),
        &plan.scan_info,
        plan.explicit_settings,
    )?;
    crate::submission::run(ctx, &client, run, &plan).await
}

/// `--dry-run`: reads and checks the input, streamed: one line per app (table/text), a
/// summary (json), nothing sent, nothing written.
fn dry_run(ctx: &mut Ctx, plan: &SubmitPlan) -> CliResult<()> {
    let Some(input) = &plan.input else {
        return Err(CliError::usage(
            "--dry-run needs --manifest, --url or --apk",
        ));
    };
    let format = ctx.printer.format();
    if format == OutputFormat::Table {
        ctx.printer
            .line(&format!("{:<32}  {:>12}  URL", "MD5", "SIZE"))?;
    }
    let mut count = 0u64;
    for app in input.read()? {
        let app = app?;
        count += 1;
        let size = app.app_size.map(|s| s.to_string()).unwrap_or_default();
        match format {
            OutputFormat::Json => {}
            OutputFormat::Jsonl => ctx.printer.line(
                &json!({"Position": count, "AppMd5": app.app_md5, "AppSize": app.app_size, "AppUrl": app.app_url})
                    .to_string(),
            )?,
            OutputFormat::Table => ctx
                .printer
                .line(&format!("{:<32}  {size:>12}  {}", app.app_md5, app.app_url))?,
            OutputFormat::Text => ctx.printer.line(&format!(
                "{}\t{size}\t{}\t{}",
                app.app_md5,
                app.app_url,
                app.app_name.as_deref().unwrap_or_default()
            ))?,
        }
    }
    if count == 0 {
        return Err(CliError::usage(format!("{}: no apps", input.name())));
    }
    if format == OutputFormat::Json {
        ctx.printer.print_json(&json!({
            "Apps": count,
            "Requests": count.div_ceil(plan.batch.chunk_size as u64),
            "ScanTypes": plan.scan_info.scan_types,
            "CallbackUrl": plan.scan_info.callback_url,
        }))?;
    }
    Ok(())
}
