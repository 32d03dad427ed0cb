//! Carrying out a submission plan: the batch engine over the run's journal, each outcome
//! printed as it lands (tables, `-o jsonl`) or the whole run as one document (`-o json`),
//! the exit status decided from the journal *before* anything is printed (a closed stdout
//! never turns a failure into success), and `--wait` streaming results task by task into
//! the journal and to stdout.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use ms_journal::{AppRecord, SqliteJournal};
use ms_transport::Client;
use ms_transport::batch::{
    AppState, BatchCounts, BatchError, BatchEvent, BatchRun, ChunkOutcome, StopSignal, run_batch,
};
use serde_json::{Value, json};

use crate::commands::submit::{SubmitPlan, WaitPlan};
use crate::context::Ctx;
use crate::error::{CliError, CliResult, ErrorKind};
use crate::journal::{RunJournal, journal_error};
use crate::output::{OutputFormat, Printer, Render};
use crate::policy::{Gate, Tally};
use crate::report::{AppFindings, Verdict};
use crate::scan::{ResultsView, TaskResults, TaskWaiter, fetch_results};
use crate::signals::Interrupts;

/// Runs the submission and prints it (see the module docs).
pub async fn run(
    ctx: &mut Ctx,
    client: &Client,
    mut run: RunJournal,
    plan: &SubmitPlan,
) -> CliResult<()> {
    let resume = run.path.as_deref().map(resume_command);
    announce(&mut run)?;
    let stop = StopSignal::new();
    let interrupts = Interrupts::install(
        stop.clone(),
        resume
            .clone()
            .unwrap_or_else(|| "(no journal was kept: submit again)".to_owned()),
    )?;
    run.journal
        .begin_run(&command_line())
        .map_err(journal_error)?;
    let mut out = Out::new(&mut ctx.printer, run.path.clone());
    let batch = submit_all(client, &mut run, plan, &stop, &mut out).await;
    let batch = match batch {
        Ok(batch) => batch,
        Err(e) => {
            let _ = run.journal.end_run("failed");
            return Err(e);
        }
    };
    let signal = interrupts.received();
    run.journal
        .end_run(match (signal, batch.counts.all_accepted()) {
            (Some(_), _) => "interrupted",
            (None, true) => "completed",
            (None, false) => "incomplete",
        })
        .map_err(journal_error)?;
    // The exit status, from the journal, before the summary is printed.
    let review = Review::of(&run.journal)?;
    let verdict = decide(&batch.counts, signal, &review, resume.as_deref());
    let with_results = plan.wait.is_some() && signal.is_none() && batch.counts.accepted > 0;
    out.summary(&run.journal, &batch, with_results)
        .map_err(journal_error)?;
    if verdict.is_ok() {
        let tasks = run
            .journal
            .item_ids_in_order()
            .map_err(journal_error)?
            .len();
        errln!(
            "submitted {} app(s) in {tasks} task(s)",
            batch.counts.accepted
        );
    }
    let waited = match (plan.wait, with_results) {
        (Some(wait), true) => {
            let ids = run.journal.item_ids_in_order().map_err(journal_error)?;
            let hint = wait_hint(run.path.as_deref());
            let mut scanned = Scanned::new(plan.gate.as_ref(), run.path.as_deref());
            wait_and_stream(
                client,
                &mut run.journal,
                &ids,
                wait,
                &stop,
                &mut out,
                &mut scanned,
            )
            .await
            .map(|()| scanned.decision())
            .map_err(|e| {
                match (e.kind(), interrupts.received()) {
                    // The signal that stopped the wait sets the exit code (130 or 143).
                    (ErrorKind::Interrupted(_), Some(code)) => {
                        CliError::new(ErrorKind::Interrupted(code), e.message())
                    }
                    _ => e,
                }
                .with_hint(hint)
            })
        }
        _ => Ok(Ok(())),
    };
    out.end(with_results);
    drop(interrupts);
    // Precedence: apps not accepted (1, 2, 3), an interruption (130, 143), a failed wait
    // (1, 3), a failed write (1), and only then the policy (4).
    verdict?;
    let policy = waited?;
    crate::policy::finish(policy, out.into_result())
}

/// Says on stderr which journal holds the run (and, when resuming, where it stands).
fn announce(run: &mut RunJournal) -> CliResult<()> {
    let Some(path) = &run.path else {
        return Ok(());
    };
    if run.resumed {
        let c = ms_transport::batch::Journal::counts(&mut run.journal)
            .map_err(|e| CliError::remote(format!("journal {e}")))?;
        errln!(
            "journal: {} (resuming: {} of {} app(s) accepted so far)",
            path.display(),
            c.accepted,
            c.apps
        );
    } else {
        errln!("journal: {}", path.display());
    }
    Ok(())
}

/// The batch itself, with a progress bar and each event printed.
async fn submit_all(
    client: &Client,
    run: &mut RunJournal,
    plan: &SubmitPlan,
    stop: &StopSignal,
    out: &mut Out<'_>,
) -> CliResult<BatchRun> {
    let total = run.journal.input_apps().map_err(journal_error)?;
    let bar = crate::progress::bar(total, "submitting");
    out.start_events();
    let result = run_batch(
        client,
        &mut run.journal,
        &run.scan_info,
        &plan.batch,
        stop,
        |event, counts| {
            bar.set_position(done(counts));
            if let BatchEvent::Reconciling { apps, .. } = &event {
                bar.set_message("reconciling");
                tracing::info!(
                    apps,
                    "listing the account's scans to reconcile lost replies"
                );
            } else {
                bar.set_message("submitting");
            }
            out.event(&event);
        },
    )
    .await;
    bar.finish_and_clear();
    result.map_err(|e| match e {
        BatchError::ScanInfo(v) => CliError::usage(format!("--scan-types/--callback-url: {v}")),
        BatchError::Journal(e) => CliError::remote(format!("journal {e}")).with_hint(
            "the run stopped: nothing more could be recorded (check the disk); what was recorded stays, and the same command resumes",
        ),
        other => CliError::remote(other.to_string()),
    })
}

fn done(c: &BatchCounts) -> u64 {
    c.accepted + c.not_accepted + c.failed + c.unknown + c.invalid
}

/// What the journal says about the apps that were not accepted: enough to decide the exit
/// status and name the first one.
#[derive(Debug, Default)]
struct Review {
    first: Option<AppRecord>,
    first_invalid: Option<AppRecord>,
    /// The distinct failure codes (at most a few are kept).
    codes: BTreeSet<String>,
}

impl Review {
    fn of(journal: &SqliteJournal) -> CliResult<Self> {
        let mut r = Review::default();
        journal
            .for_each_app_not_accepted(|a| {
                if a.state == AppState::Invalid && r.first_invalid.is_none() {
                    r.first_invalid = Some(a.clone());
                }
                if r.codes.len() < 8 {
                    r.codes
                        .insert(a.code.clone().unwrap_or_else(|| a.state.to_string()));
                }
                if r.first.is_none() {
                    r.first = Some(a);
                }
            })
            .map_err(journal_error)?;
        Ok(r)
    }
}

/// The exit status of the run: success only when every app was accepted.
fn decide(
    c: &BatchCounts,
    signal: Option<u8>,
    review: &Review,
    resume: Option<&str>,
) -> CliResult<()> {
    let resume_hint = |what: &str| match resume {
        Some(cmd) => format!("{what}: {cmd}"),
        None => "no journal was kept (--no-journal): submit those apps again".to_owned(),
    };
    if let Some(code) = signal {
        return Err(CliError::new(
            ErrorKind::Interrupted(code),
            format!(
                "interrupted: {} of {} app(s) accepted, {} not accepted yet",
                c.accepted,
                c.apps,
                c.apps - c.accepted - c.invalid
            ),
        )
        .with_hint(resume_hint("resume with")));
    }
    if c.all_accepted() {
        return Ok(());
    }
    if let Some(bad) = &review.first_invalid {
        return Err(CliError::usage(format!(
            "{} app(s) were rejected by validation (none of them is scanned); first: {}",
            c.invalid,
            describe(bad)
        ))
        .with_hint("fix those entries and submit them in a new run"));
    }
    let mut parts = Vec::new();
    for (n, what) in [
        (c.not_accepted, "not accepted by the service"),
        (c.failed, "failed"),
        (c.unknown, "with an unknown outcome"),
        (c.pending + c.sending, "not sent"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let first = review.first.as_ref().map(describe).unwrap_or_default();
    let message = format!(
        "{} of {} app(s) not accepted ({}); first: {first}",
        c.apps - c.accepted,
        c.apps,
        parts.join(", ")
    );
    let hint = if c.unknown > 0 {
        resume_hint(
            "apps with an unknown outcome may have been accepted; the next run checks the account's scans before sending them again; run",
        )
    } else {
        resume_hint("they are safe to submit again; run")
    };
    Err(CliError::new(exit_kind(review), message).with_hint(hint))
}

/// When every app that was not accepted failed for the same client-side cause, the exit
/// code is that cause's (2 credentials or configuration, 3 network or the shared rate
/// limiter), as for one request; otherwise 1.
fn exit_kind(review: &Review) -> ErrorKind {
    if review.codes.len() != 1 {
        return ErrorKind::Remote;
    }
    match review.codes.first().map(String::as_str) {
        Some("Credentials" | "Signing" | "Config" | "Validation") => ErrorKind::Usage,
        Some(
            "Connect" | "Tls" | "Timeout" | "Transport" | "RateLimiter" | "CredentialsUnavailable",
        ) => ErrorKind::Network,
        _ => ErrorKind::Remote,
    }
}

/// "app #31 (MD5 …): why".
fn describe(a: &AppRecord) -> String {
    let why = match a.state {
        AppState::NotAccepted => format!(
            "not accepted by the service in task {} (quota?)",
            a.item_id.as_deref().unwrap_or("-")
        ),
        _ => {
            let code = a
                .code
                .as_deref()
                .map(|c| format!("[{c}] "))
                .unwrap_or_default();
            format!("{}: {code}{}", a.state, a.message.as_deref().unwrap_or(""))
        }
    };
    format!("app #{} (MD5 {}): {why}", a.position, a.app.app_md5)
}

/// The command that resumes the run: this one without its input (the journal holds the
/// apps) and without scan settings (the journal keeps them), with `--journal PATH`.
fn resume_command(journal: &Path) -> String {
    // Options of `scan submit` that name the input, its settings or the journal.
    const WITH_VALUE: [&str; 13] = [
        "--manifest",
        "--manifest-format",
        "--url",
        "--md5",
        "--size",
        "--name",
        "--package",
        "--app-version",
        "--url-prefix",
        "--url-template",
        "--scan-types",
        "--callback-url",
        "--journal",
    ];
    // A password in a URL (`--shared-rate-limit redis://:PASSWORD@host`) is printed as `***`.
    let args: Vec<String> = std::env::args_os()
        .map(|a| ms_model::redact_url(&a.to_string_lossy()).into_owned())
        .collect();
    resume_command_of(&args, journal, &WITH_VALUE)
}

/// [`resume_command`] from the given command line.
fn resume_command_of(args: &[String], journal: &Path, with_value: &[&str]) -> String {
    let mut kept = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
        if i > 0 && with_value.contains(&name) {
            i += if a.contains('=') { 1 } else { 2 };
            continue;
        }
        // `--apk A B ...` or `--apk=A B ...`: the files are in the journal.
        if i > 0 && name == "--apk" {
            i += 1;
            while i < args.len() && !args[i].starts_with('-') {
                i += 1;
            }
            continue;
        }
        if a != "--no-journal" {
            kept.push(a.clone());
        }
        i += 1;
    }
    kept.push("--journal".to_owned());
    kept.push(journal.to_string_lossy().into_owned());
    kept.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command line as recorded in the journal's `runs` table (passwords in URLs as `***`).
fn command_line() -> String {
    std::env::args_os()
        .map(|a| shell_quote(&ms_model::redact_url(&a.to_string_lossy())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes an argument for a POSIX shell when needed.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// What the scans of a run found, counted app by app as the results stream past: the
/// verdicts (for the closing line on stderr), the apps whose scan failed (error or
/// timeout) and, with `--fail-on`/`--policy`, the policy's [`Tally`] (counts and the first
/// violations, never the results themselves).
struct Scanned<'g> {
    verdicts: BTreeMap<Verdict, usize>,
    failed: usize,
    journal: Option<&'g Path>,
    gate: Option<(&'g Gate, Tally)>,
}

impl<'g> Scanned<'g> {
    fn new(gate: Option<&'g Gate>, journal: Option<&'g Path>) -> Self {
        Scanned {
            verdicts: BTreeMap::new(),
            failed: 0,
            journal,
            gate: gate.map(|g| (g, g.tally())),
        }
    }

    /// Counts one app (a `ScanSetInfo` object).
    fn add(&mut self, app: &Value) {
        let app = AppFindings::from_json(app);
        *self.verdicts.entry(app.verdict()).or_default() += 1;
        if let Some((gate, tally)) = &mut self.gate {
            gate.judge(&app, tally);
        }
    }

    /// `scanned 32 app(s): 2 virus, 18 high risk, ...`.
    fn line(&self) -> String {
        let apps: usize = self.verdicts.values().sum();
        let parts: Vec<String> = self
            .verdicts
            .iter()
            .map(|(v, n)| format!("{n} {}", v.label()))
            .collect();
        format!("scanned {apps} app(s): {}", parts.join(", "))
    }

    /// The run's decision once every scan ended: apps whose scan failed exit 1, as
    /// `ms scan wait` does, before the policy's decision on the whole run (`Ok` without
    /// a gate) applies.
    fn decision(&self) -> CliResult<()> {
        if self.failed > 0 {
            let see = match self.journal {
                Some(path) => format!(
                    "ms scan results --journal {}",
                    shell_quote(&path.to_string_lossy())
                ),
                None => "ms scan results ITEM_ID".to_owned(),
            };
            return Err(
                CliError::remote(format!("{} app(s) could not be scanned", self.failed))
                    .with_hint(format!("see the status of each app with `{see}`")),
            );
        }
        self.gate
            .as_ref()
            .map_or(Ok(()), |(_, tally)| tally.conclude())
    }
}

/// `--wait`: as each task finishes, its results are fetched, stored in the journal,
/// printed and counted in `scanned`; only one task's results are held at a time.
async fn wait_and_stream(
    client: &Client,
    journal: &mut SqliteJournal,
    ids: &[String],
    wait: WaitPlan,
    stop: &StopSignal,
    out: &mut Out<'_>,
    scanned: &mut Scanned<'_>,
) -> CliResult<()> {
    if out.format != OutputFormat::Json && out.format != OutputFormat::Jsonl {
        errln!("waiting for the scans of {} task(s)...", ids.len());
    }
    let bar = crate::progress::wait_bar(ids.len());
    let mut waiter = TaskWaiter::new(client, ids, wait.poll, wait.timeout);
    loop {
        let round = tokio::select! {
            round = waiter.round() => round,
            () = stop.stopped() => {
                bar.finish_and_clear();
                return Err(CliError::new(ErrorKind::Interrupted(130), "interrupted while waiting for the scans"));
            }
        };
        let round = match round {
            Ok(Some(round)) => round,
            Ok(None) => break,
            Err(e) => {
                bar.finish_and_clear();
                return Err(e);
            }
        };
        crate::progress::show_wait(&bar, &round.progress);
        scanned.failed += round.finished.iter().map(|t| t.failed).sum::<usize>();
        let mut fetches = futures_util::stream::iter(round.finished)
            .map(|t| async move { fetch_results(client, &t.item_id, &[]).await })
            .buffer_unordered(4);
        while let Some(results) = fetches.next().await {
            let results = results?;
            let scan_set = serde_json::to_string(&results.scan_set).unwrap_or_default();
            journal
                .store_results(&results.item_id, &scan_set)
                .map_err(journal_error)?;
            for app in &results.scan_set {
                scanned.add(app);
            }
            out.task_results(&results);
        }
    }
    bar.finish_and_clear();
    if out.format != OutputFormat::Json && out.format != OutputFormat::Jsonl {
        errln!("{}", scanned.line());
    }
    Ok(())
}

/// How to go on waiting (the journal, or the ItemIds printed when none was kept).
fn wait_hint(journal: Option<&Path>) -> String {
    match journal {
        Some(path) => format!(
            "the scans go on; wait again with `ms scan wait --journal {}`",
            shell_quote(&path.to_string_lossy())
        ),
        None => {
            "the scans go on; wait for the ItemIds printed above with `ms scan wait ITEM_ID...`"
                .to_owned()
        }
    }
}

/// Standard output of a submission. A closed stdout (`| head`, `| true`) stops the
/// printing, never the run; another write error is remembered and reported at the end.
struct Out<'a> {
    printer: &'a mut Printer,
    format: OutputFormat,
    journal: Option<PathBuf>,
    closed: bool,
    failure: Option<CliError>,
    /// The JSON array element written last (its comma depends on what comes next).
    held: Option<String>,
}

impl<'a> Out<'a> {
    fn new(printer: &'a mut Printer, journal: Option<PathBuf>) -> Self {
        let format = printer.format();
        Out {
            printer,
            format,
            journal,
            closed: false,
            failure: None,
            held: None,
        }
    }

    fn line(&mut self, text: &str) {
        if self.closed {
            return;
        }
        if let Err(e) = self.printer.line(text) {
            self.closed = true;
            if e.kind() != ErrorKind::BrokenPipe {
                self.failure = Some(e);
            }
        }
    }

    fn flush(&mut self) {
        if self.closed {
            return;
        }
        if let Err(e) = self.printer.flush() {
            self.closed = true;
            if e.kind() != ErrorKind::BrokenPipe {
                self.failure = Some(e);
            }
        }
    }

    fn into_result(mut self) -> CliResult<()> {
        self.flush();
        match self.failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn start_events(&mut self) {
        if self.format == OutputFormat::Table {
            self.line(&format!("{:<32}  {:>4}  FIRST_MD5", "ITEM_ID", "APPS"));
            self.flush();
        }
    }

    /// One event as it happens: accepted tasks in tables, every outcome in JSON Lines.
    fn event(&mut self, event: &BatchEvent<'_>) {
        match (self.format, event) {
            (OutputFormat::Jsonl, _) => {
                if let Some(v) = event_json(event) {
                    self.line(&v.to_string());
                    self.flush();
                }
            }
            (OutputFormat::Table | OutputFormat::Text, BatchEvent::Outcome { chunk, outcome }) => {
                let ChunkOutcome::Accepted {
                    item_id,
                    not_accepted,
                    ..
                } = outcome
                else {
                    return;
                };
                let mut accepted = chunk
                    .apps
                    .iter()
                    .filter(|a| !not_accepted.contains(&a.position));
                let first = accepted.next().map(|a| a.app.app_md5.clone());
                let n = usize::from(first.is_some()) + accepted.count();
                let first = first.unwrap_or_default();
                let row = if self.format == OutputFormat::Table {
                    format!("{item_id:<32}  {n:>4}  {first}")
                } else {
                    format!("{item_id}\t{n}\t{first}")
                };
                self.line(&row);
                self.flush();
            }
            _ => {}
        }
    }

    /// After the batch: the whole run (`-o json`), the apps not accepted (tables, JSON
    /// Lines) and a summary line (JSON Lines).
    fn summary(
        &mut self,
        journal: &SqliteJournal,
        batch: &BatchRun,
        with_results: bool,
    ) -> ms_journal::Result<()> {
        match self.format {
            OutputFormat::Json => self.json_document(journal, batch, with_results)?,
            OutputFormat::Jsonl => {
                journal.for_each_app_not_accepted(|a| {
                    self.line(&event_first("app", app_json(&a)).to_string());
                })?;
                let s = summary_json(&batch.counts, batch.interrupted, self.journal.as_deref());
                self.line(&event_first("summary", s).to_string());
            }
            OutputFormat::Table | OutputFormat::Text => {
                let table = self.format == OutputFormat::Table;
                let mut first = true;
                journal.for_each_app_not_accepted(|a| {
                    if first && table {
                        self.line("");
                        self.line(&format!(
                            "{:>8}  {:<12}  {:<32}  {:<40}  REASON",
                            "POSITION", "STATE", "MD5", "URL"
                        ));
                    }
                    first = false;
                    let reason = a.code.clone().unwrap_or_default();
                    let row = if table {
                        format!(
                            "{:>8}  {:<12}  {:<32}  {:<40}  {reason}",
                            a.position,
                            a.state.as_str(),
                            a.app.app_md5,
                            a.app.app_url
                        )
                    } else {
                        format!(
                            "{}\t{}\t{}\t{}\t{reason}",
                            a.position, a.state, a.app.app_md5, a.app.app_url
                        )
                    };
                    self.line(&crate::output::cell_text(&row));
                })?;
            }
        }
        self.flush();
        Ok(())
    }

    fn json_document(
        &mut self,
        journal: &SqliteJournal,
        batch: &BatchRun,
        with_results: bool,
    ) -> ms_journal::Result<()> {
        let head = summary_json(&batch.counts, batch.interrupted, self.journal.as_deref());
        let head = serde_json::to_string_pretty(&head).unwrap_or_default();
        // The summary's members, then the lists, streamed from the journal.
        let members = head
            .trim_end()
            .strip_suffix('}')
            .unwrap_or(&head)
            .trim_end();
        self.line(&format!("{members},"));
        self.line("  \"Tasks\": [");
        journal.for_each_task(|t| {
            let md5s: Vec<&str> = t.apps.iter().map(|(_, m)| m.as_str()).collect();
            self.element(&json!({"ItemId": t.item_id, "AppMd5s": md5s}));
        })?;
        self.end_array(false);
        self.line("  \"Unaccepted\": [");
        journal.for_each_app_not_accepted(|a| self.element(&app_json(&a)))?;
        self.end_array(!with_results);
        if with_results {
            self.line("  \"Results\": [");
        } else {
            self.line("}");
        }
        Ok(())
    }

    /// Writes the held element (with its comma) and holds this one.
    fn element(&mut self, value: &Value) {
        let text = indent(&serde_json::to_string_pretty(value).unwrap_or_default(), 4);
        if let Some(prev) = self.held.take() {
            self.line(&format!("{prev},"));
        }
        self.held = Some(text);
    }

    /// Writes the held element and closes the array (`],` unless it is the last member).
    fn end_array(&mut self, last: bool) {
        if let Some(prev) = self.held.take() {
            self.line(&prev);
        }
        self.line(if last { "  ]" } else { "  ]," });
    }

    /// One task's results as it arrives (`--wait`).
    fn task_results(&mut self, results: &TaskResults) {
        match self.format {
            OutputFormat::Json => {
                let v = serde_json::to_value(results).unwrap_or_default();
                self.element(&v);
            }
            OutputFormat::Jsonl => {
                let v = serde_json::to_value(results).unwrap_or_default();
                self.line(&event_first("results", v).to_string());
            }
            OutputFormat::Table => {
                self.line("");
                let text = ResultsView {
                    tasks: std::slice::from_ref(results),
                }
                .people();
                self.line(text.trim_end());
            }
            OutputFormat::Text => {
                let text = ResultsView {
                    tasks: std::slice::from_ref(results),
                }
                .table()
                .render_text();
                if !text.is_empty() {
                    self.line(text.trim_end());
                }
            }
        }
        self.flush();
    }

    /// Closes the JSON document after the results.
    fn end(&mut self, with_results: bool) {
        if with_results && self.format == OutputFormat::Json {
            self.end_array(true);
            self.line("}");
        }
        self.flush();
    }
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `{"Event": event, ...the members of value}`.
fn event_first(event: &str, value: Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("Event".to_owned(), json!(event));
    if let Value::Object(members) = value {
        out.extend(members);
    }
    Value::Object(out)
}

/// The counts of a run (the head of the JSON document, the JSON Lines summary).
fn summary_json(c: &BatchCounts, interrupted: bool, journal: Option<&Path>) -> Value {
    let states: serde_json::Map<String, Value> = AppState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), json!(c.get(*s))))
        .collect();
    json!({
        "Apps": c.apps,
        "Submitted": c.accepted,
        "States": states,
        "Interrupted": interrupted,
        "Journal": journal.map(|p| p.to_string_lossy().into_owned()),
    })
}

/// An app that was not accepted, with why.
fn app_json(a: &AppRecord) -> Value {
    json!({
        "Position": a.position,
        "State": a.state.as_str(),
        "AppMd5": a.app.app_md5,
        "AppUrl": a.app.app_url,
        "AppName": a.app.app_name,
        "ItemId": a.item_id,
        "Code": a.code,
        "Message": a.message,
    })
}

/// A JSON Lines record of an event.
fn event_json(event: &BatchEvent<'_>) -> Option<Value> {
    let apps = |positions: &mut dyn Iterator<Item = (u64, &str)>| -> Vec<Value> {
        positions
            .map(|(p, m)| json!({"Position": p, "AppMd5": m}))
            .collect()
    };
    Some(match event {
        BatchEvent::Outcome { chunk, outcome } => {
            let all = || {
                chunk
                    .apps
                    .iter()
                    .map(|a| (a.position, a.app.app_md5.as_str()))
            };
            let mut v = json!({"Event": "chunk", "Chunk": chunk.id.0});
            match outcome {
                ChunkOutcome::Accepted {
                    item_id,
                    request_id,
                    not_accepted,
                    reconciled,
                } => {
                    v["Outcome"] = json!("accepted");
                    v["ItemId"] = json!(item_id);
                    v["Apps"] = json!(apps(&mut all().filter(|(p, _)| !not_accepted.contains(p))));
                    v["NotAccepted"] =
                        json!(apps(&mut all().filter(|(p, _)| not_accepted.contains(p))));
                    v["Reconciled"] = json!(reconciled);
                    v["RequestId"] = json!(request_id);
                }
                other => {
                    let label = match other {
                        ChunkOutcome::Failed(_) => "failed",
                        ChunkOutcome::Unknown { .. } => "unknown",
                        _ => "not_processed",
                    };
                    let e = other.error();
                    v["Outcome"] = json!(label);
                    v["Apps"] = json!(apps(&mut all()));
                    v["Code"] = json!(e.map(|e| &e.code));
                    v["Message"] = json!(e.map(|e| &e.message));
                    v["RequestId"] = json!(e.and_then(|e| e.request_id.as_ref()));
                }
            }
            v
        }
        BatchEvent::Rejected { problems, .. } => json!({
            "Event": "rejected",
            "Apps": problems.iter().map(|(p, m)| json!({"Position": p, "Problem": m})).collect::<Vec<_>>(),
        }),
        BatchEvent::Reconciling { chunks, apps } => {
            json!({"Event": "reconciling", "Chunks": chunks, "Apps": apps})
        }
        BatchEvent::Retrying { apps } => json!({"Event": "retrying", "Apps": apps}),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(shell_quote("scan"), "scan");
        assert_eq!(shell_quote("/tmp/a b.db"), "'/tmp/a b.db'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn the_resume_command_leaves_out_the_input_in_either_spelling() {
        let with_value = ["--manifest", "--url-prefix", "--journal"];
        let resume = |line: &str| {
            let args: Vec<String> = line.split(' ').map(str::to_owned).collect();
            resume_command_of(&args, Path::new("/j/run.db"), &with_value)
        };
        for line in [
            "ms scan submit --apk a.apk b.apk --url-prefix https://e/ -o json",
            "ms scan submit --apk=a.apk --url-prefix=https://e/ -o json",
            "ms scan submit --apk=a.apk b.apk --url-prefix https://e/ -o json --no-journal",
        ] {
            assert_eq!(
                resume(line),
                "ms scan submit -o json --journal /j/run.db",
                "{line}"
            );
        }
        assert_eq!(
            resume("ms -o jsonl scan submit --manifest=- --journal old.db --wait"),
            "ms -o jsonl scan submit --wait --journal /j/run.db"
        );
    }

    #[test]
    fn the_exit_status_says_what_was_not_accepted() {
        let mut c = BatchCounts::default();
        c.add(AppState::Accepted, 30);
        c.add(AppState::NotAccepted, 10);
        let review = Review {
            codes: ["NotAccepted".to_owned()].into(),
            ..Review::default()
        };
        let e = decide(&c, None, &review, Some("ms scan submit --journal j")).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(
            e.message()
                .contains("10 of 40 app(s) not accepted (10 not accepted by the service)"),
            "{e}"
        );
        assert!(
            e.hint().unwrap().contains("ms scan submit --journal j"),
            "{e}"
        );
        let e = decide(&c, Some(143), &review, None).unwrap_err();
        assert_eq!(e.exit_code(), 143);
        // Nothing accepted, one network cause: the network exit code.
        let mut c = BatchCounts::default();
        c.add(AppState::Failed, 5);
        let review = Review {
            codes: ["Connect".to_owned()].into(),
            ..Review::default()
        };
        assert_eq!(decide(&c, None, &review, None).unwrap_err().exit_code(), 3);
        let mut c = BatchCounts::default();
        c.add(AppState::Accepted, 5);
        assert!(decide(&c, None, &Review::default(), None).is_ok());
    }
}
