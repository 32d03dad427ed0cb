//! `ms scan submit`: apps from arguments, a streamed manifest or local APK files,
//! submitted in chunks of 20 at the quota rate, with a progress bar; prints every
//! ItemId; `--wait` waits for the scans and shows the results.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Args;
use serde_json::{Value, json};

use crate::apk::{UrlSpec, expand_paths, local_app};
use crate::context::{Ctx, transport_error};
use crate::error::{CliError, CliResult};
use crate::manifest::{ManifestApp, ManifestError, ManifestFormat, ManifestSource, is_md5};
use crate::output::{OutputFormat, Render, Table};
use crate::scan::{ResultsView, TaskResults, fetch_all_results};

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

Manifest fields: url, md5 (required), size, name, package, version, file_name, icon_url
(or the API names AppUrl, AppMd5, AppSize, ...). A manifest file is checked completely
before the first request, so a bad entry submits nothing.")]
#[command(group(clap::ArgGroup::new("source").required(true).multiple(false).args(["url", "manifest", "apk"])))]
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

    /// Wait for the scans to finish, then show the results
    #[arg(long)]
    pub wait: bool,
    /// With --wait: seconds between two rounds of polls
    #[arg(long, default_value_t = 2.0, value_name = "SECS", value_parser = crate::commands::wait::parse_secs)]
    pub poll_interval: f64,
    /// With --wait: give up after this many seconds
    #[arg(long, default_value_t = 3600.0, value_name = "SECS", value_parser = crate::commands::wait::parse_secs)]
    pub wait_timeout: f64,
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

/// Converts a manifest entry to the API's AppInfo.
pub fn app_info(app: ManifestApp) -> ms_model::AppInfo {
    ms_model::AppInfo {
        app_url: app.url,
        app_md5: app.md5,
        app_size: app.size,
        file_name: app.file_name,
        app_pkg_name: app.package,
        app_version: app.version,
        app_icon_url: app.icon_url,
        app_name: app.name,
    }
}

/// One submitted chunk.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// ItemId of the task.
    pub item_id: String,
    /// MD5s accepted in the chunk.
    pub app_md5s: Vec<String>,
}

/// A chunk that failed (or whose outcome is unknown).
#[derive(Debug, Clone)]
pub struct FailedChunk {
    /// Position of the first app of the chunk in the input (1-based).
    pub first_app: u64,
    /// MD5s of the apps of the chunk.
    pub app_md5s: Vec<String>,
    /// Why.
    pub error: CliError,
}

/// The outcome of a submission.
#[derive(Debug, Default)]
pub struct SubmitOutcome {
    /// Apps read from the input.
    pub apps: u64,
    /// Chunks accepted, in input order.
    pub chunks: Vec<Chunk>,
    /// Chunks that provably were not processed (safe to submit again).
    pub failed: Vec<FailedChunk>,
    /// Chunks whose outcome is unknown (timeout, 5xx after sending): never resubmitted
    /// automatically, since CreateScanInstances is not idempotent.
    pub unknown: Vec<FailedChunk>,
    /// Apps the API model rejected (never sent): MD5 and what is wrong.
    pub invalid: Vec<(String, String)>,
}

/// Streams the stable JSON form (same fields as [`Render::json`]) without building a tree.
impl serde::Serialize for SubmitOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Tasks<'a>(&'a [Chunk]);
        impl serde::Serialize for Tasks<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(|c| {
                    let mut m = std::collections::BTreeMap::new();
                    m.insert(
                        "AppMd5s",
                        serde_json::to_value(&c.app_md5s).unwrap_or_default(),
                    );
                    m.insert("ItemId", Value::from(c.item_id.as_str()));
                    m
                }))
            }
        }
        let mut map = serializer.serialize_map(Some(6))?;
        map.serialize_entry("Apps", &self.apps)?;
        map.serialize_entry("Submitted", &self.submitted())?;
        map.serialize_entry("Tasks", &Tasks(&self.chunks))?;
        map.serialize_entry("Failed", &Self::chunks_json(&self.failed))?;
        map.serialize_entry("Unknown", &Self::chunks_json(&self.unknown))?;
        map.serialize_entry("Invalid", &self.invalid_json())?;
        map.end()
    }
}

impl SubmitOutcome {
    /// Number of apps accepted.
    pub fn submitted(&self) -> usize {
        self.chunks.iter().map(|c| c.app_md5s.len()).sum()
    }

    fn invalid_json(&self) -> Value {
        self.invalid
            .iter()
            .map(|(md5, problem)| json!({"AppMd5": md5, "Problem": problem}))
            .collect()
    }

    fn chunks_json(list: &[FailedChunk]) -> Value {
        list.iter()
            .map(|f| {
                json!({
                    "FirstApp": f.first_app,
                    "AppMd5s": f.app_md5s,
                    "Code": f.error.code(),
                    "RequestId": f.error.request_id(),
                    "Message": f.error.message(),
                })
            })
            .collect()
    }
}

impl Render for SubmitOutcome {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
    fn table(&self) -> Table {
        let mut t = Table::new(["ITEM_ID", "APPS", "FIRST_MD5"]);
        for c in &self.chunks {
            t.push([
                c.item_id.clone(),
                c.app_md5s.len().to_string(),
                c.app_md5s.first().cloned().unwrap_or_default(),
            ]);
        }
        t
    }
}

/// The apps to submit: a stream that stops at the first bad manifest entry and keeps
/// the error for the caller.
struct AppStream {
    inner: AppSource,
    error: Arc<Mutex<Option<ManifestError>>>,
    read: Arc<std::sync::atomic::AtomicU64>,
}

impl Iterator for AppStream {
    type Item = ms_model::AppInfo;
    fn next(&mut self) -> Option<Self::Item> {
        match self.inner.next()? {
            Ok(app) => {
                self.read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Some(app_info(app))
            }
            Err(e) => {
                if let Ok(mut slot) = self.error.lock() {
                    *slot = Some(e);
                }
                None
            }
        }
    }
}

fn manifest_error(e: ManifestError) -> CliError {
    CliError::usage(format!("manifest {e}"))
        .with_hint("fix the entry; each app needs url (http/https) and md5 (32 hex digits); see `ms scan submit --help`")
}

/// A stream of apps, each checked, or the first problem.
type AppSource = Box<dyn Iterator<Item = Result<ManifestApp, ManifestError>> + Send>;

/// Reads the input: returns the number of apps if known in advance, and the stream.
fn open_input(args: &SubmitArgs) -> CliResult<(Option<u64>, AppSource)> {
    if let Some(url) = &args.url {
        let app = ManifestApp {
            url: url.clone(),
            md5: args.md5.clone().unwrap_or_default(),
            size: args.size,
            name: args.name.clone(),
            package: args.package.clone(),
            version: args.app_version.clone(),
            ..ManifestApp::default()
        }
        .validate()
        .map_err(|m| CliError::usage(format!("--url/--md5: {m}")))?;
        return Ok((Some(1), Box::new(std::iter::once(Ok(app)))));
    }
    if !args.apk.is_empty() {
        let spec = match (&args.url_prefix, &args.url_template) {
            (Some(p), _) => UrlSpec::Prefix(p.clone()),
            (None, Some(t)) => UrlSpec::Template(t.clone()),
            (None, None) => {
                return Err(CliError::usage("--apk needs --url-prefix or --url-template")
                    .with_hint("the service downloads each app by URL: publish the files, then give their base URL with --url-prefix"));
            }
        };
        spec.check()?;
        let files = expand_paths(&args.apk)?;
        let mut apps = Vec::with_capacity(files.len());
        for f in &files {
            apps.push(Ok(local_app(f, &spec)?
                .validate()
                .map_err(|m| CliError::usage(format!("{}: {m}", f.display())))?));
        }
        return Ok((Some(apps.len() as u64), Box::new(apps.into_iter())));
    }
    let path = args.manifest.clone().unwrap_or_else(|| PathBuf::from("-"));
    let source = ManifestSource::from_arg(&path);
    // Opening fails only when the file cannot be read (entries are checked as they stream).
    let open = |s: &ManifestSource| {
        s.open(args.manifest_format).map_err(|e| {
            CliError::usage(format!("manifest {e}")).with_hint("check the path given to --manifest")
        })
    };
    let mut total = None;
    if source.rereadable() {
        // First pass: check every entry (also against the API model), so that a bad
        // manifest submits nothing.
        let mut n = 0u64;
        for app in open(&source)? {
            let app = app.map_err(manifest_error)?;
            n += 1;
            if let Err(errors) = ms_model::Validate::validate(&app_info(app)) {
                let problems: Vec<String> = errors.0.iter().map(|v| v.to_string()).collect();
                return Err(manifest_error(ManifestError {
                    source: source.name(),
                    index: Some(n),
                    line: None,
                    message: problems.join("; "),
                }));
            }
        }
        if n == 0 {
            return Err(CliError::usage(format!(
                "manifest {}: no apps",
                source.name()
            )));
        }
        total = Some(n);
    }
    Ok((total, Box::new(open(&source)?)))
}

/// Submits the apps.
pub async fn exec(ctx: &mut Ctx, args: SubmitArgs) -> CliResult<()> {
    let scan_types: Vec<String> = if args.scan_types.is_empty() {
        ScanType::ALL
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect()
    } else {
        let mut v: Vec<String> = Vec::new();
        for t in &args.scan_types {
            if !v.iter().any(|x| x == t.as_str()) {
                v.push(t.as_str().to_owned());
            }
        }
        v
    };
    let (total, input) = open_input(&args)?;
    // ScanInfo.CallbackUrl: an empty string means no notification.
    let scan_info = ms_model::ScanInfo {
        callback_url: args
            .callback_url
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned(),
        scan_types,
    };
    // Checked once here with the model's rules, not per chunk: a bad callback URL would
    // otherwise fail every chunk of 20 (100,000 apps: 5,000 identical errors).
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
    let error_slot = Arc::new(Mutex::new(None));
    let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let apps = AppStream {
        inner: input,
        error: Arc::clone(&error_slot),
        read: Arc::clone(&read),
    };
    if args.dry_run {
        // Streamed: one line per app (table/text) or a summary (json).
        let format = ctx.printer.format();
        if format == OutputFormat::Table {
            ctx.printer
                .line(&format!("{:<32}  {:>12}  URL", "MD5", "SIZE"))?;
        }
        let mut count = 0u64;
        for app in apps {
            count += 1;
            let size = app.app_size.map(|s| s.to_string()).unwrap_or_default();
            match format {
                OutputFormat::Json => {}
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
        if let Some(e) = error_slot.lock().ok().and_then(|mut s| s.take()) {
            return Err(manifest_error(e));
        }
        if format == OutputFormat::Json {
            ctx.printer.print_json(&json!({
                "Apps": count,
                "Requests": count.div_ceil(args.chunk_size),
                "ScanTypes": scan_info.scan_types,
                "CallbackUrl": scan_info.callback_url,
            }))?;
        }
        return Ok(());
    }
    let client = ctx.client().await?;
    let bar = crate::progress::bar(total.unwrap_or(0), "submitting");
    let mut outcome = submit_apps(&client, apps, scan_info, &args, &bar).await;
    bar.finish_and_clear();
    outcome.apps = read.load(std::sync::atomic::Ordering::Relaxed);

    let input_error = error_slot.lock().ok().and_then(|mut s| s.take());
    let submitted = outcome.submitted();

    if args.wait && !outcome.chunks.is_empty() {
        let ids: Vec<String> = outcome.chunks.iter().map(|c| c.item_id.clone()).collect();
        if ctx.printer.format() != OutputFormat::Json {
            ctx.printer.print(&outcome)?;
            errln!(
                "submitted {submitted} app(s) in {} task(s); waiting for the scans...",
                ids.len()
            );
        }
        let waited = crate::commands::wait::wait_with_progress(
            &client,
            &ids,
            args.poll_interval,
            args.wait_timeout,
        )
        .await;
        let results = match waited {
            Ok(_) => {
                let bar = crate::progress::bar(ids.len() as u64, "results");
                let results = fetch_all_results(&client, &ids, || bar.inc(1)).await;
                bar.finish_and_clear();
                results
            }
            Err(e) => Err(e),
        };
        let results: Vec<TaskResults> = match results {
            Ok(r) => r,
            Err(e) => {
                // The ItemIds must not be lost when waiting fails.
                if ctx.printer.format() == OutputFormat::Json {
                    ctx.printer.print_serialize(&outcome)?;
                }
                return Err(e);
            }
        };
        let view = ResultsView { tasks: &results };
        match ctx.printer.format() {
            OutputFormat::Json => {
                let mut v = outcome.json();
                v["Results"] = results
                    .iter()
                    .map(|t| serde_json::to_value(t).unwrap_or_default())
                    .collect();
                ctx.printer.print_json(&v)?;
            }
            _ => {
                ctx.printer.write_str("\n")?;
                ctx.printer.print(&view)?;
                errln!("{}", verdict_summary(&results));
            }
        }
    } else if ctx.printer.format() == OutputFormat::Json {
        ctx.printer.print_serialize(&outcome)?;
    } else if !outcome.chunks.is_empty() {
        ctx.printer.print(&outcome)?;
    }
    if let Some(e) = input_error {
        return Err(CliError::usage(format!(
            "manifest {e} ({submitted} app(s) before it were submitted)"
        ))
        .with_hint("fix the entry and submit the remaining apps"));
    }
    if let Some((md5, problem)) = outcome.invalid.first() {
        return Err(CliError::usage(format!(
            "{} app(s) were rejected by validation and not sent; first: AppMd5 {md5}: {problem}",
            outcome.invalid.len()
        ))
        .with_hint("fix those entries (see -o json, field Invalid) and submit them again"));
    }
    if let Some(first) = outcome.unknown.first() {
        let apps: usize = outcome.unknown.iter().map(|f| f.app_md5s.len()).sum();
        let e = &first.error;
        return Err(CliError::new(
            e.kind(),
            format!(
                "the outcome of {apps} app(s) is unknown (first in {}): {}",
                app_range(first.first_app, first.app_md5s.len()),
                e.message()
            ),
        )
        .with_request_id(e.request_id().map(str::to_owned))
        .with_hint("they may have been accepted: check with `ms scan list` before submitting them again (-o json, field Unknown)"));
    }
    if let Some(first) = outcome.failed.first() {
        let failed_apps: usize = outcome.failed.iter().map(|f| f.app_md5s.len()).sum();
        let e = &first.error;
        return Err(e
            .clone()
            .with_message(format!(
                "{failed_apps} of {} app(s) were not submitted; first failure in {}: {}",
                outcome.apps,
                app_range(first.first_app, first.app_md5s.len()),
                e.message()
            ))
            .with_hint("the ItemIds printed were accepted; submit only the failed apps again (-o json, field Failed)"));
    }
    if !args.wait {
        errln!(
            "submitted {submitted} app(s) in {} task(s)",
            outcome.chunks.len()
        );
    }
    Ok(())
}

/// One line: how many apps got each verdict.
/// "app #7" or "apps #1-#20": the apps of one chunk (a rejected chunk fails as a whole, so
/// the failing app may be any of them; the error message names it by `AppInfos.N`).
fn app_range(first: u64, len: usize) -> String {
    match len as u64 {
        0 | 1 => format!("app #{first}"),
        n => format!("apps #{first}-#{}", first + n - 1),
    }
}

fn verdict_summary(results: &[TaskResults]) -> String {
    let apps: Vec<crate::report::AppFindings> = results
        .iter()
        .flat_map(|t| t.scan_set.iter().map(crate::report::AppFindings::from_json))
        .collect();
    let summary = crate::report::Summary::of(&apps);
    let parts: Vec<String> = summary
        .verdicts
        .iter()
        .map(|(v, n)| format!("{n} {}", v.label()))
        .collect();
    format!("scanned {} app(s): {}", summary.apps, parts.join(", "))
}

/// Apps handed to the transport's batch helper at a time: bounds memory (the helper's
/// report keeps every app of a window) while keeping `--concurrency` requests in flight.
const WINDOW_APPS: usize = 2000;

/// Submits the stream with [`ms_transport::scan::submit_batch`] (chunks of `--chunk-size`,
/// `--concurrency` requests in flight, paced by the client's rate limiter), one window of
/// [`WINDOW_APPS`] apps at a time, keeping only ItemIds and MD5s of what was accepted.
async fn submit_apps(
    client: &ms_transport::Client,
    mut apps: AppStream,
    scan_info: ms_model::ScanInfo,
    args: &SubmitArgs,
    bar: &indicatif::ProgressBar,
) -> SubmitOutcome {
    use ms_transport::scan::{BatchOptions, submit_batch};
    let chunk_size = args.chunk_size as usize;
    let options = BatchOptions {
        chunk_size,
        concurrency: args.concurrency as usize,
    };
    let window_size = WINDOW_APPS.div_ceil(chunk_size) * chunk_size;
    let mut outcome = SubmitOutcome::default();
    let mut base = 0u64;
    loop {
        let window: Vec<ms_model::AppInfo> = apps.by_ref().take(window_size).collect();
        if window.is_empty() {
            break;
        }
        let len = window.len() as u64;
        let report = submit_batch(client, window, scan_info.clone(), &options, |p| {
            bar.set_position(base + p.apps_done() as u64);
        })
        .await;
        let first_app = |index: usize| base + (index * chunk_size) as u64 + 1;
        for c in report.submitted {
            let app_md5s = if c.accepted_md5s.is_empty() {
                c.apps.into_iter().map(|a| a.app_md5).collect()
            } else {
                c.accepted_md5s
            };
            outcome.chunks.push(Chunk {
                item_id: c.item_id,
                app_md5s,
            });
        }
        for (list, target) in [
            (report.failed, &mut outcome.failed),
            (report.unknown, &mut outcome.unknown),
        ] {
            for c in list {
                target.push(FailedChunk {
                    first_app: first_app(c.index),
                    app_md5s: c.apps.into_iter().map(|a| a.app_md5).collect(),
                    error: transport_error(c.error),
                });
            }
        }
        for bad in report.invalid {
            let problems: Vec<String> = bad.violations.iter().map(|v| v.to_string()).collect();
            outcome.invalid.push((bad.app.app_md5, problems.join("; ")));
        }
        base += len;
        bar.set_position(base);
    }
    outcome
}
