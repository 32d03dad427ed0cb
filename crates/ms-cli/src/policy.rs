//! The policy gate: which findings fail a CI build (`--fail-on`, `--policy FILE`), worked
//! out as data before any output is written, so the exit code (4 when the policy is
//! violated) never depends on whether stdout could be written.
//!
//! A policy is a threshold for every finding (`--fail-on virus|high|medium|low`, `high`
//! also failing on viruses), thresholds per scan type, whether an unfinished scan fails,
//! and an allow-list of accepted findings, each for one app (package or MD5) and one
//! finding (see [`crate::findings`] for the identifiers), with a reason and an expiry
//! date: an expired entry stops suppressing. The file format is TOML, documented in
//! `docs/policy.md`:
//!
//! ```toml
//! fail-on = "high"              # virus | high | medium | low | any | none
//! incomplete = "fail"           # an unfinished scan fails (default) or is "ignore"d
//!
//! [scan-types]                  # overrides fail-on for findings of one scan type
//! VULSCAN = "medium"
//! SENSITIVE = "any"
//!
//! [[allow]]
//! package = "com.example.notes" # or md5 = "…" (both: both must match)
//! finding = "vul:5"             # a finding id, or "KIND:*" for every finding of a kind
//! reason = "WebView only loads bundled pages (SEC-1234)"
//! expires = 2027-06-30          # the last day the entry applies (UTC)
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{CliError, CliResult};
use crate::findings::{AppFindings, Finding, FindingKind, Severity};

/// The `--fail-on` levels of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Viruses only.
    Virus,
    /// High-risk vulnerabilities, riskware and viruses.
    High,
    /// Medium-risk vulnerabilities and worse.
    Medium,
    /// Any vulnerability, riskware or virus.
    Low,
}

impl FailOn {
    /// The least severe finding that fails.
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Virus => Severity::Virus,
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
        }
    }
}

/// Which findings fail: none, or those at least as severe as a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// Nothing fails.
    Never,
    /// Findings of this severity or worse fail.
    AtLeast(Severity),
}

impl Threshold {
    /// True when a finding of this severity fails.
    pub fn fails(self, severity: Severity) -> bool {
        matches!(self, Threshold::AtLeast(min) if severity >= min)
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Threshold::Never,
            "any" => Threshold::AtLeast(Severity::Info),
            "low" => Threshold::AtLeast(Severity::Low),
            "medium" => Threshold::AtLeast(Severity::Medium),
            "high" => Threshold::AtLeast(Severity::High),
            "virus" => Threshold::AtLeast(Severity::Virus),
            _ => return None,
        })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Never => f.write_str("none"),
            Threshold::AtLeast(Severity::Info) => f.write_str("any"),
            Threshold::AtLeast(s) => f.write_str(s.as_str()),
        }
    }
}

/// A calendar date (UTC), for allow-list expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A valid date, or `None` (month 13, February 30, ...).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (day >= 1 && day <= days).then_some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: Range<usize>| -> Option<u16> {
            let t = &s[r];
            t.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        Date::new(num(0..4)?, num(5..7)? as u8, num(8..10)? as u8)
    }

    /// Today's date in UTC.
    pub fn today() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::parse(&tc3_sign::utc_date(secs)).unwrap_or(Date {
            year: 1970,
            month: 1,
            day: 1,
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Which finding(s) an allow-list entry accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingPattern {
    /// One finding id (`vul:5`).
    Id(String),
    /// Every finding of a kind (`vul:*`).
    Kind(FindingKind),
}

impl FindingPattern {
    fn parse(s: &str) -> Result<Self, String> {
        let Some((prefix, key)) = s.split_once(':') else {
            return Err(format!("expected KIND:KEY (such as vul:5), got {s:?}"));
        };
        let Some(kind) = FindingKind::from_prefix(prefix) else {
            let kinds: Vec<&str> = FindingKind::ALL.iter().map(|k| k.prefix()).collect();
            return Err(format!(
                "unknown kind {prefix:?} in {s:?}; kinds: {}",
                kinds.join(", ")
            ));
        };
        match key {
            "" => Err(format!("{s:?} names no finding after the colon")),
            "*" => Ok(FindingPattern::Kind(kind)),
            _ => Ok(FindingPattern::Id(s.to_owned())),
        }
    }

    fn matches(&self, finding: &Finding) -> bool {
        match self {
            FindingPattern::Id(id) => *id == finding.id(),
            FindingPattern::Kind(kind) => *kind == finding.kind,
        }
    }
}

impl fmt::Display for FindingPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindingPattern::Id(id) => f.write_str(id),
            FindingPattern::Kind(kind) => write!(f, "{}:*", kind.prefix()),
        }
    }
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    /// The app's package, if the entry names one.
    pub package: Option<String>,
    /// The app's MD5 (lowercase), if the entry names one.
    pub md5: Option<String>,
    /// The finding(s) accepted.
    pub finding: FindingPattern,
    /// Why it is accepted.
    pub reason: String,
    /// The last day the entry applies.
    pub expires: Date,
    /// Where the entry is (`policy.toml:12`), for messages.
    pub origin: String,
}

impl AllowEntry {
    fn matches(&self, app: &AppFindings, finding: &Finding) -> bool {
        self.names(app) && self.finding.matches(finding)
    }

    /// True when the entry is about this app (its package and/or MD5).
    fn names(&self, app: &AppFindings) -> bool {
        self.package.as_ref().is_none_or(|p| *p == app.package)
            && self
                .md5
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&app.md5))
    }

    /// The app the entry names, for messages (`com.example.notes`, `md5 0f…`).
    fn app_label(&self) -> String {
        match (&self.package, &self.md5) {
            (Some(p), Some(m)) => format!("{p} (md5 {m})"),
            (Some(p), None) => p.clone(),
            (None, Some(m)) => format!("md5 {m}"),
            (None, None) => "any app".to_owned(),
        }
    }

    /// True when the entry no longer applies on `today`.
    pub fn expired(&self, today: Date) -> bool {
        today > self.expires
    }
}

/// The scan types a policy may name (PLUGINSCAN reports into `AdInfo`: its findings are
/// ADSCAN's).
pub const POLICY_SCAN_TYPES: [&str; 5] =
    ["VULSCAN", "VIRUSSCAN", "ADSCAN", "PERMISSION", "SENSITIVE"];

/// A policy: what fails, and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Threshold for findings of scan types without their own rule.
    pub fail_on: Threshold,
    /// Thresholds per scan type (`VULSCAN`, ...).
    pub scan_types: BTreeMap<String, Threshold>,
    /// Whether an app whose scan did not finish fails.
    pub fail_incomplete: bool,
    /// Accepted findings.
    pub allow: Vec<AllowEntry>,
    /// What the policy is, for messages (`--fail-on high`, `policy.toml`).
    pub name: String,
}

impl Policy {
    /// The policy of `--fail-on LEVEL` alone.
    pub fn fail_on(level: FailOn) -> Self {
        Policy {
            fail_on: Threshold::AtLeast(level.severity()),
            scan_types: BTreeMap::new(),
            fail_incomplete: true,
            allow: Vec::new(),
            name: format!("--fail-on {}", level.severity().as_str()),
        }
    }

    /// The threshold that applies to a finding.
    pub fn threshold(&self, kind: FindingKind) -> Threshold {
        self.scan_types
            .get(kind.scan_type())
            .copied()
            .unwrap_or(self.fail_on)
    }

    /// Reads a policy file; errors name the file, the line and the field.
    pub fn load(path: &Path) -> CliResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| CliError::file(path, "read", &e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses a policy; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> CliResult<Self> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        let at = |span: Range<usize>, field: &str, problem: String| {
            policy_error(file, text, span, field, problem)
        };
        let threshold = |v: &Spanned<String>, field: &str| {
            Threshold::parse(v.get_ref()).ok_or_else(|| {
                at(
                    v.span(),
                    field,
                    format!(
                        "expected virus, high, medium, low, any or none, got {:?}",
                        v.get_ref()
                    ),
                )
            })
        };
        if let Some(v) = &raw.version
            && *v.get_ref() != 1
        {
            return Err(at(v.span(), "version", "only version 1 exists".into()));
        }
        let fail_on = match &raw.fail_on {
            Some(v) => threshold(v, "fail-on")?,
            None => Threshold::Never,
        };
        let fail_incomplete = match &raw.incomplete {
            None => true,
            Some(v) => match v.get_ref().as_str() {
                "fail" => true,
                "ignore" => false,
                other => {
                    return Err(at(
                        v.span(),
                        "incomplete",
                        format!("expected \"fail\" or \"ignore\", got {other:?}"),
                    ));
                }
            },
        };
        let mut scan_types = BTreeMap::new();
        for (name, v) in &raw.scan_types {
            let field = format!("scan-types.{name}");
            if !POLICY_SCAN_TYPES.contains(&name.as_str()) {
                let hint = if name == "PLUGINSCAN" {
                    " (plugins are reported as ads: use ADSCAN)"
                } else {
                    ""
                };
                return Err(at(
                    v.span(),
                    &field,
                    format!(
                        "unknown scan type{hint}; expected one of {}",
                        POLICY_SCAN_TYPES.join(", ")
                    ),
                ));
            }
            scan_types.insert(name.clone(), threshold(v, &field)?);
        }
        let mut allow = Vec::with_capacity(raw.allow.len());
        for (i, entry) in raw.allow.iter().enumerate() {
            allow.push(allow_entry(entry, i, file, text)?);
        }
        Ok(Policy {
            fail_on,
            scan_types,
            fail_incomplete,
            allow,
            name: file.to_owned(),
        })
    }
}

/// Checks one `[[allow]]` table.
fn allow_entry(
    entry: &Spanned<RawAllow>,
    index: usize,
    file: &str,
    text: &str,
) -> CliResult<AllowEntry> {
    let at = |span: Range<usize>, field: &str, problem: String| {
        policy_error(
            file,
            text,
            span,
            &format!("allow[{index}].{field}"),
            problem,
        )
    };
    let e = entry.get_ref();
    let nonempty = |v: &Spanned<String>, field: &str| {
        let t = v.get_ref().trim();
        if t.is_empty() {
            Err(at(v.span(), field, "must not be empty".into()))
        } else {
            Ok(t.to_owned())
        }
    };
    let package = e
        .package
        .as_ref()
        .map(|v| nonempty(v, "package"))
        .transpose()?;
    let md5 = match &e.md5 {
        Some(v) if crate::manifest::is_md5(v.get_ref().trim()) => {
            Some(v.get_ref().trim().to_ascii_lowercase())
        }
        Some(v) => {
            return Err(at(
                v.span(),
                "md5",
                format!("expected 32 hex digits, got {:?}", v.get_ref()),
            ));
        }
        None => None,
    };
    if package.is_none() && md5.is_none() {
        return Err(at(
            entry.span(),
            "package",
            "an entry names its app with package or md5 (or both)".into(),
        ));
    }
    let finding = FindingPattern::parse(e.finding.get_ref().trim())
        .map_err(|m| at(e.finding.span(), "finding", m))?;
    let reason = nonempty(&e.reason, "reason")?;
    let expires = match e.expires.get_ref() {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
            d.date.and_then(|d| Date::new(d.year, d.month, d.day))
        }
        toml::Value::String(s) => Date::parse(s.trim()),
        _ => None,
    }
    .ok_or_else(|| {
        at(
            e.expires.span(),
            "expires",
            format!(
                "expected a date such as 2026-06-30, got {}",
                match e.expires.get_ref() {
                    toml::Value::String(s) => format!("{s:?}"),
                    toml::Value::Datetime(d) => d.to_string(),
                    other => {
                        let kind = other.type_str();
                        let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                            "an"
                        } else {
                            "a"
                        };
                        format!("{article} {kind}")
                    }
                }
            ),
        )
    })?;
    Ok(AllowEntry {
        package,
        md5,
        finding,
        reason,
        expires,
        origin: format!("{file}:{}", line_of(text, entry.span().start).0),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    version: Option<Spanned<i64>>,
    fail_on: Option<Spanned<String>>,
    incomplete: Option<Spanned<String>>,
    #[serde(default)]
    scan_types: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    allow: Vec<Spanned<RawAllow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    package: Option<Spanned<String>>,
    md5: Option<Spanned<String>>,
    finding: Spanned<String>,
    reason: Spanned<String>,
    expires: Spanned<toml::Value>,
}

/// (line, column), both 1-based, of a byte offset.
fn line_of(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn policy_error(
    file: &str,
    text: &str,
    span: Range<usize>,
    field: &str,
    problem: String,
) -> CliError {
    let (line, column) = line_of(text, span.start);
    CliError::usage(format!("policy {file}:{line}:{column}: {field}: {problem}"))
        .with_hint("see docs/policy.md for the policy file format")
}

/// The key whose value is at `offset` (`allow[1].expires`), read from the text: for syntax
/// errors, which toml reports without the key.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let (line, _) = line_of(text, offset);
    let lines: Vec<&str> = text.lines().collect();
    let key = lines.get(line - 1)?.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let header = lines[..line - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['));
    Some(match header {
        Some(h) if h.starts_with("[[") => {
            let name = h.trim_matches(|c| c == '[' || c == ']').trim();
            let index = lines[..line - 1]
                .iter()
                .filter(|l| {
                    l.trim().starts_with("[[")
                        && l.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace())
                            == name
                })
                .count();
            format!("{name}[{}].{key}", index.saturating_sub(1))
        }
        Some(h) => format!("{}.{key}", h.trim_matches(|c| c == '[' || c == ']').trim()),
        None => key.to_owned(),
    })
}

/// A TOML or structure error: file, line, column, the key path when toml knows it.
fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> CliError {
    let mut bare = e.clone();
    bare.set_input(None);
    let shown = bare.to_string();
    let field = shown
        .lines()
        .find_map(|l| l.strip_prefix("in `")?.strip_suffix('`'))
        .map(str::to_owned)
        .or_else(|| key_at(text, e.span()?.start))
        .map(|k| format!("{k}: "))
        .unwrap_or_default();
    let message = e.message().trim().replace('\n', "; ");
    let place = match e.span() {
        Some(span) => {
            let (line, column) = line_of(text, span.start);
            format!("{file}:{line}:{column}")
        }
        None => file.to_owned(),
    };
    CliError::usage(format!("policy {place}: {field}{message}"))
        .with_hint("see docs/policy.md for the policy file format")
}

/// `--fail-on` and `--policy`: the options of every command that gates on findings.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Policy gate (exit code 4 when violated)")]
pub struct GateArgs {
    /// Fail (exit 4) on findings this severe or worse: virus, high (also viruses and
    /// riskware), medium or low; an unfinished scan fails too
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// Policy file (TOML): thresholds per scan type and an allow-list of accepted findings
    /// with reasons and expiry dates (see docs/policy.md); --fail-on overrides its fail-on
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

impl GateArgs {
    /// The gate these options ask for (`None` without either); reads and checks the
    /// policy file, so call it before doing anything else.
    pub fn gate(&self) -> CliResult<Option<Gate>> {
        let policy = match (&self.policy, self.fail_on) {
            (None, None) => return Ok(None),
            (None, Some(level)) => Policy::fail_on(level),
            (Some(path), level) => {
                let mut p = Policy::load(path)?;
                if let Some(level) = level {
                    p.fail_on = Threshold::AtLeast(level.severity());
                    p.name = format!("{} with --fail-on {}", p.name, level.severity().as_str());
                }
                p
            }
        };
        Ok(Some(Gate::new(policy, Date::today())))
    }
}

/// A policy applied on a given day.
#[derive(Debug, Clone)]
pub struct Gate {
    policy: Policy,
    today: Date,
}

/// A finding that fails the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The finding.
    pub finding: Finding,
    /// The threshold it met.
    pub threshold: Threshold,
    /// An allow-list entry that matched but has expired (its origin and date).
    pub expired_allow: Option<(String, Date)>,
}

/// A finding accepted by the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The finding.
    pub finding: Finding,
    /// The entry's reason.
    pub reason: String,
    /// The entry's expiry date.
    pub expires: Date,
    /// Where the entry is.
    pub origin: String,
}

/// The policy's verdict on one app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppOutcome {
    /// The scan did not finish and the policy fails unfinished scans: the status.
    pub incomplete: Option<String>,
    /// Findings that fail the policy.
    pub violations: Vec<Violation>,
    /// Findings accepted by the allow-list (whether or not they would have failed).
    pub suppressed: Vec<Suppression>,
    /// Unexpired allow-list entries (indices into [`Policy::allow`]) that name this app
    /// (its package and/or MD5), when its scan finished: those that match none of its
    /// findings may be stale.
    pub allow_for_app: Vec<usize>,
    /// Those of [`allow_for_app`](Self::allow_for_app) that matched a finding of the app.
    pub allow_used: Vec<usize>,
}

impl AppOutcome {
    /// True when the app passes.
    pub fn passed(&self) -> bool {
        self.incomplete.is_none() && self.violations.is_empty()
    }
}

/// The policy's verdict on a set of apps (one [`AppOutcome`] per app, in the same order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// What the policy is, for messages.
    pub policy: String,
    /// Per app.
    pub apps: Vec<AppOutcome>,
    /// A note for each unexpired allow-list entry that named an app judged here but matched
    /// none of its findings (see [`Tally::unused_allow`]).
    pub unused_allow: Vec<String>,
}

impl Gate {
    /// A gate applying `policy` as of `today` (expired allow entries do not suppress).
    pub fn new(policy: Policy, today: Date) -> Self {
        Gate { policy, today }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Judges every app on all its findings.
    pub fn evaluate(&self, apps: &[AppFindings]) -> Evaluation {
        let outcomes = apps
            .iter()
            .map(|a| self.evaluate_app(a, &a.findings()))
            .collect();
        self.evaluation(self.policy.name.clone(), apps, outcomes)
    }

    /// The evaluation named `policy` of `apps` whose outcomes (in the same order) are
    /// `outcomes`.
    pub fn evaluation(
        &self,
        policy: String,
        apps: &[AppFindings],
        outcomes: Vec<AppOutcome>,
    ) -> Evaluation {
        let mut tally = self.tally();
        for (app, outcome) in apps.iter().zip(&outcomes) {
            tally.record(app, outcome);
        }
        Evaluation {
            policy,
            apps: outcomes,
            unused_allow: tally.unused_allow(),
        }
    }

    /// An empty [`Tally`] for this policy, to judge apps one at a time with [`Gate::judge`];
    /// it also follows which unexpired allow-list entries are used.
    pub fn tally(&self) -> Tally {
        let mut tally = Tally::new(self.policy.name.clone());
        tally.allow = self
            .policy
            .allow
            .iter()
            .map(|e| {
                (!e.expired(self.today)).then(|| AllowUse {
                    what: format!("{} for {}", e.finding, e.app_label()),
                    origin: e.origin.clone(),
                    app_judged: false,
                    used: false,
                })
            })
            .collect();
        tally
    }

    /// The unexpired allow-list entries that name `app` (when its scan finished), and those
    /// of them that match one of `findings`: (named, used), indices into [`Policy::allow`].
    pub fn allow_use(&self, app: &AppFindings, findings: &[Finding]) -> (Vec<usize>, Vec<usize>) {
        if !app.complete() {
            return (Vec::new(), Vec::new());
        }
        let named: Vec<usize> = self
            .policy
            .allow
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.expired(self.today) && e.names(app))
            .map(|(i, _)| i)
            .collect();
        let used = named
            .iter()
            .copied()
            .filter(|&i| {
                findings
                    .iter()
                    .any(|f| self.policy.allow[i].finding.matches(f))
            })
            .collect();
        (named, used)
    }

    /// Judges one app on all its findings and counts it in `tally`; nothing of the app
    /// is kept but the summary lines of its first violations.
    pub fn judge(&self, app: &AppFindings, tally: &mut Tally) {
        tally.record(app, &self.evaluate_app(app, &app.findings()));
    }

    /// Judges one app on the given findings (all of them, or only those new since
    /// another build, as `ms scan diff` does).
    pub fn evaluate_app(&self, app: &AppFindings, findings: &[Finding]) -> AppOutcome {
        let mut out = AppOutcome::default();
        (out.allow_for_app, out.allow_used) = self.allow_use(app, findings);
        if self.policy.fail_incomplete && !app.complete() {
            out.incomplete = Some(
                app.status
                    .clone()
                    .unwrap_or_else(|| crate::output::task_status(app.task_status).to_owned()),
            );
        }
        for f in findings {
            let threshold = self.policy.threshold(f.kind);
            let mut entries = self.policy.allow.iter().filter(|e| e.matches(app, f));
            if let Some(entry) = entries.clone().find(|e| !e.expired(self.today)) {
                out.suppressed.push(Suppression {
                    finding: f.clone(),
                    reason: entry.reason.clone(),
                    expires: entry.expires,
                    origin: entry.origin.clone(),
                });
            } else if threshold.fails(f.severity) {
                out.violations.push(Violation {
                    finding: f.clone(),
                    threshold,
                    expired_allow: entries.next().map(|e| (e.origin.clone(), e.expires)),
                });
            }
        }
        out
    }
}

/// Most violations listed on stderr (the reports list them all).
const SHOWN_VIOLATIONS: usize = 10;

impl Evaluation {
    /// True when no app violates the policy.
    pub fn passed(&self) -> bool {
        self.apps.iter().all(AppOutcome::passed)
    }

    /// Number of violations (findings, and unfinished scans that fail).
    pub fn violations(&self) -> usize {
        self.apps
            .iter()
            .map(|a| a.violations.len() + usize::from(a.incomplete.is_some()))
            .sum()
    }

    /// [`decision`](Self::decision), after a note on stderr for each unused allow-list
    /// entry ([`Evaluation::unused_allow`]); the notes never change the exit code.
    pub fn conclude(&self, apps: &[AppFindings]) -> CliResult<()> {
        note_unused_allow(&self.unused_allow);
        self.decision(apps)
    }

    /// The exit decision: `Ok` when the policy passes, else the policy error (exit code 4)
    /// whose message is the short summary of what violated it (see [`Tally::decision`]).
    pub fn decision(&self, apps: &[AppFindings]) -> CliResult<()> {
        let mut tally = Tally::new(self.policy.clone());
        for (app, outcome) in apps.iter().zip(&self.apps) {
            tally.record(app, outcome);
        }
        tally.decision()
    }
}

/// The policy's verdict gathered one app at a time, keeping only counts and the few lines
/// the stderr summary shows: for results that stream past and are never held together
/// (`ms scan submit --wait`, `ms scan wait`). [`Evaluation::decision`] goes through it
/// too, so every command words its summary the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    policy: String,
    apps: usize,
    failing: usize,
    violations: usize,
    shown: Vec<String>,
    /// Per allow-list entry (`None` when expired): whether it was used.
    allow: Vec<Option<AllowUse>>,
}

/// What a [`Tally`] knows of one unexpired allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowUse {
    /// `vul:5 for com.example.notes`.
    what: String,
    /// `policy.toml:12`.
    origin: String,
    /// An app it names was judged (its scan finished).
    app_judged: bool,
    /// It matched a finding of such an app.
    used: bool,
}

/// Prints the notes of [`Tally::unused_allow`] on stderr.
pub fn note_unused_allow(notes: &[String]) {
    for note in notes {
        errln!("note: {note}");
    }
}

impl Tally {
    /// An empty tally for the policy named `policy` (in messages).
    pub fn new(policy: impl Into<String>) -> Self {
        Tally {
            policy: policy.into(),
            apps: 0,
            failing: 0,
            violations: 0,
            shown: Vec::new(),
            allow: Vec::new(),
        }
    }

    /// Counts one judged app.
    pub fn record(&mut self, app: &AppFindings, outcome: &AppOutcome) {
        for &i in &outcome.allow_for_app {
            if let Some(Some(entry)) = self.allow.get_mut(i) {
                entry.app_judged = true;
            }
        }
        for &i in &outcome.allow_used {
            if let Some(Some(entry)) = self.allow.get_mut(i) {
                entry.used = true;
            }
        }
        self.apps += 1;
        if outcome.passed() {
            return;
        }
        self.failing += 1;
        self.violations += outcome.violations.len() + usize::from(outcome.incomplete.is_some());
        if self.shown.len() < SHOWN_VIOLATIONS {
            let room = SHOWN_VIOLATIONS - self.shown.len();
            self.shown
                .extend(violation_lines(app, outcome).into_iter().take(room));
        }
    }

    /// Apps judged so far.
    pub fn apps(&self) -> usize {
        self.apps
    }

    /// Violations so far (findings, and unfinished scans that fail).
    pub fn violations(&self) -> usize {
        self.violations
    }

    /// True when no app judged so far violates the policy.
    pub fn passed(&self) -> bool {
        self.failing == 0
    }

    /// One note per unexpired allow-list entry that named an app judged here (its scan
    /// finished) yet matched none of its findings: a stale entry to clean up. Entries for
    /// apps this gate did not see (another job's apps, an `--md5` filter) are not named: they
    /// may still be needed.
    pub fn unused_allow(&self) -> Vec<String> {
        self.allow
            .iter()
            .flatten()
            .filter(|e| e.app_judged && !e.used)
            .map(|e| {
                format!(
                    "allow entry {} ({}) matched no finding; remove it if the finding is gone",
                    e.origin, e.what
                )
            })
            .collect()
    }

    /// [`decision`](Self::decision), after a note on stderr for each unused allow-list
    /// entry ([`Tally::unused_allow`]); the notes never change the exit code.
    pub fn conclude(&self) -> CliResult<()> {
        note_unused_allow(&self.unused_allow());
        self.decision()
    }

    /// The exit decision: `Ok` when the policy passes, else the policy error (exit code 4)
    /// whose message is the short summary of what violated it: the counts, then the first
    /// violations, one a line.
    ///
    /// A gate that judged no app at all (saved results `[]`, an `--md5` matching nothing)
    /// fails closed: a usage error (exit code 2), never a silent pass.
    pub fn decision(&self) -> CliResult<()> {
        if self.apps == 0 {
            return Err(CliError::usage(format!(
                "policy {} judged no app: the results hold no app, so nothing was checked",
                self.policy
            ))
            .with_hint(
                "check the ItemIds, the --md5 filter or the saved results; a gate that checked nothing does not pass",
            ));
        }
        if self.passed() {
            return Ok(());
        }
        let mut lines = vec![format!(
            "policy {} violated: {} violation(s) in {} of {} app(s)",
            self.policy, self.violations, self.failing, self.apps
        )];
        lines.extend(self.shown.iter().map(|l| format!("  {l}")));
        if self.violations > self.shown.len() {
            lines.push(format!(
                "  … and {} more (see the report)",
                self.violations - self.shown.len()
            ));
        }
        Err(CliError::policy(lines.join("\n")).with_hint(
            "fix the findings, or accept one in a --policy file's [[allow]] list with a reason and an expiry date",
        ))
    }
}

/// One line per violation of an app.
pub fn violation_lines(app: &AppFindings, outcome: &AppOutcome) -> Vec<String> {
    let who = app.describe();
    let mut lines = Vec::new();
    if let Some(status) = &outcome.incomplete {
        lines.push(format!("{who}: scan did not complete ({status})"));
    }
    for v in &outcome.violations {
        let expired = match &v.expired_allow {
            Some((origin, date)) => format!(" (allow entry {origin} expired on {date})"),
            None => String::new(),
        };
        lines.push(format!(
            "{who}: {} [{}]{expired}",
            v.finding.headline(),
            v.finding.id()
        ));
    }
    lines
}

/// The exit status of a command that printed its output after judging the findings:
/// an error while printing wins (exit 1–3), then the policy (exit 4); a closed stdout
/// never hides a violated policy.
pub fn finish(decision: CliResult<()>, printed: CliResult<()>) -> CliResult<()> {
    match printed {
        Err(e) if e.kind() != crate::error::ErrorKind::BrokenPipe => Err(e),
        printed => decision.and(printed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::tests::sample;
    use serde_json::json;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn app_with_virus() -> AppFindings {
        let mut v = sample();
        v["VirusInfo"] = json!({"SafeType": 3, "VirusName": "a.remote.Backdoor", "VirusDesc": "d"});
        AppFindings::from_json(&v)
    }

    fn ids(o: &AppOutcome) -> Vec<String> {
        o.violations.iter().map(|v| v.finding.id()).collect()
    }

    #[test]
    fn fail_on_is_a_threshold() {
        let app = app_with_virus();
        let judge = |level| {
            Gate::new(Policy::fail_on(level), day("2026-01-01"))
                .evaluate(std::slice::from_ref(&app))
        };
        assert_eq!(
            ids(&judge(FailOn::Virus).apps[0]),
            ["virus:a.remote.Backdoor"]
        );
        assert_eq!(
            ids(&judge(FailOn::High).apps[0]),
            ["virus:a.remote.Backdoor", "vul:1"]
        );
        assert_eq!(
            ids(&judge(FailOn::Low).apps[0]),
            ["virus:a.remote.Backdoor", "vul:1", "vul:22"],
            "ads, permissions and words are info: only `any` fails on them"
        );
        let clean = AppFindings::from_json(&json!({"TaskStatus": 1}));
        assert!(
            Gate::new(Policy::fail_on(FailOn::Low), day("2026-01-01"))
                .evaluate(&[clean])
                .passed()
        );
    }

    #[test]
    fn unfinished_scans_fail_unless_the_policy_ignores_them() {
        let mut v = sample();
        v["TaskStatus"] = json!(4);
        let app = AppFindings::from_json(&v);
        let e = Gate::new(Policy::fail_on(FailOn::Virus), day("2026-01-01"))
            .evaluate(std::slice::from_ref(&app));
        assert_eq!(e.apps[0].incomplete.as_deref(), Some("timeout"));
        assert_eq!(e.violations(), 1);
        let p = Policy::parse("fail-on = \"virus\"\nincomplete = \"ignore\"\n", "p.toml").unwrap();
        assert!(Gate::new(p, day("2026-01-01")).evaluate(&[app]).passed());
    }

    const POLICY: &str = r#"
fail-on = "virus"

[scan-types]
VULSCAN = "high"
SENSITIVE = "any"

[[allow]]
package = "com.demo"
finding = "virus:a.remote.Backdoor"
reason = "test fixture, not shipped"
expires = 2026-03-31

[[allow]]
md5 = "BC80057CF4323DB8579E011F8A5F1402"
finding = "word:*"
reason = "words are in bundled fiction"
expires = "2026-12-31"
"#;

    #[test]
    fn allow_entries_suppress_until_they_expire() {
        let policy = Policy::parse(POLICY, "p.toml").unwrap();
        assert_eq!(policy.allow[0].origin, "p.toml:8");
        assert_eq!(
            policy.allow[1].md5.as_deref(),
            Some("bc80057cf4323db8579e011f8a5f1402")
        );
        let app = app_with_virus();
        // On the expiry date the entry still applies.
        let before =
            Gate::new(policy.clone(), day("2026-03-31")).evaluate(std::slice::from_ref(&app));
        assert_eq!(
            ids(&before.apps[0]),
            ["vul:1"],
            "VULSCAN = high still fails"
        );
        let suppressed: Vec<String> = before.apps[0]
            .suppressed
            .iter()
            .map(|s| s.finding.id())
            .collect();
        assert_eq!(suppressed, ["virus:a.remote.Backdoor", "word:手槍"]);
        assert_eq!(
            before.apps[0].suppressed[0].reason,
            "test fixture, not shipped"
        );
        // The day after, the virus fails again and the message names the expired entry.
        let after = Gate::new(policy, day("2026-04-01")).evaluate(&[app]);
        assert_eq!(ids(&after.apps[0]), ["virus:a.remote.Backdoor", "vul:1"]);
        assert_eq!(
            after.apps[0].violations[0].expired_allow,
            Some(("p.toml:8".to_owned(), day("2026-03-31")))
        );
    }

    #[test]
    fn an_entry_for_another_app_or_finding_does_not_suppress() {
        let policy = Policy::parse(
            "fail-on = \"virus\"\n[[allow]]\npackage = \"com.other\"\nfinding = \"virus:*\"\nreason = \"x\"\nexpires = 2099-01-01\n[[allow]]\npackage = \"com.demo\"\nmd5 = \"00000000000000000000000000000000\"\nfinding = \"virus:*\"\nreason = \"x\"\nexpires = 2099-01-01\n",
            "p.toml",
        )
        .unwrap();
        let e = Gate::new(policy, day("2026-01-01")).evaluate(&[app_with_virus()]);
        assert_eq!(ids(&e.apps[0]), ["virus:a.remote.Backdoor"]);
    }

    fn error_of(text: &str) -> String {
        Policy::parse(text, "ci/policy.toml")
            .unwrap_err()
            .message()
            .to_owned()
    }

    #[test]
    fn malformed_policies_name_file_line_and_field() {
        let base = "fail-on = \"high\"\n[[allow]]\npackage = \"com.demo\"\nfinding = \"vul:5\"\nreason = \"ok\"\n";
        for (text, expected) in [
            (
                format!("{base}expires = 2026-02-30\n"),
                "ci/policy.toml:6:11: allow[0].expires: invalid date",
            ),
            (
                format!("{base}expires = \"soon\"\n"),
                "ci/policy.toml:6:11: allow[0].expires: expected a date",
            ),
            (
                format!("{base}expires = 2026-02-03T10:00:00Z\n"),
                "allow[0].expires: expected a date",
            ),
            (
                format!("{base}expires = 20260630\n"),
                "allow[0].expires: expected a date such as 2026-06-30, got an integer",
            ),
            (
                format!("{base}expires = true\n"),
                "allow[0].expires: expected a date such as 2026-06-30, got a boolean",
            ),
            (
                "fail-on = \"severe\"\n".to_owned(),
                "ci/policy.toml:1:11: fail-on: expected virus, high, medium, low, any or none",
            ),
            (
                "[scan-types]\nPLUGINSCAN = \"any\"\n".to_owned(),
                "ci/policy.toml:2:14: scan-types.PLUGINSCAN: unknown scan type (plugins are reported as ads: use ADSCAN)",
            ),
            (
                base.replace("vul:5", "cve:5") + "expires = 2026-01-01\n",
                "ci/policy.toml:4:11: allow[0].finding: unknown kind \"cve\"",
            ),
            (
                base.replace("\"ok\"", "\" \"") + "expires = 2026-01-01\n",
                "ci/policy.toml:5:10: allow[0].reason: must not be empty",
            ),
            (
                base.replace("package = \"com.demo\"", "md5 = \"xyz\"") + "expires = 2026-01-01\n",
                "ci/policy.toml:3:7: allow[0].md5: expected 32 hex digits",
            ),
            (
                base.replace("package = \"com.demo\"\n", "") + "expires = 2026-01-01\n",
                "ci/policy.toml:2:1: allow[0].package: an entry names its app",
            ),
            (
                base.to_owned(),
                "ci/policy.toml:2:1: allow: missing field `expires`",
            ),
            (
                format!("{base}expires = 2026-01-01\npakage = \"x\"\n"),
                "ci/policy.toml:7:1: allow: unknown field `pakage`",
            ),
            ("fail-on = \n".to_owned(), "ci/policy.toml:1:"),
            (
                "version = 2\n".to_owned(),
                "ci/policy.toml:1:11: version: only version 1 exists",
            ),
        ] {
            let message = error_of(&text);
            assert!(
                message.starts_with("policy ") && message.contains(expected),
                "{text:?}:\n{message}"
            );
        }
    }

    #[test]
    fn a_tally_app_by_app_says_what_the_whole_evaluation_says() {
        let clean = AppFindings::from_json(&json!({"TaskStatus": 1}));
        let mut apps = vec![app_with_virus(); 12];
        apps.insert(3, clean);
        let gate = Gate::new(Policy::fail_on(FailOn::High), day("2026-01-01"));
        let mut tally = gate.tally();
        for app in &apps {
            gate.judge(app, &mut tally);
        }
        assert_eq!(tally.apps(), 13);
        assert_eq!(
            tally.violations(),
            24,
            "a virus and vul:1 in each of 12 apps"
        );
        let whole = gate.evaluate(&apps).decision(&apps).unwrap_err();
        let streamed = tally.decision().unwrap_err();
        assert_eq!(streamed.message(), whole.message());
        assert_eq!(streamed.exit_code(), 4);
        assert!(
            streamed
                .message()
                .starts_with("policy --fail-on high violated: 24 violation(s) in 12 of 13 app(s)"),
            "{streamed}"
        );
        assert!(
            streamed
                .message()
                .ends_with("  … and 14 more (see the report)"),
            "{streamed}"
        );
        // Only the shown lines are kept, however many apps pass through.
        assert_eq!(tally.shown.len(), SHOWN_VIOLATIONS);
        let mut passing = gate.tally();
        gate.judge(&apps[3], &mut passing);
        assert!(passing.passed() && passing.decision().is_ok());
    }

    #[test]
    fn unused_unexpired_allow_entries_of_judged_apps_are_noted() {
        let entry = |package: &str, finding: &str, expires: &str| {
            format!(
                "\n[[allow]]\npackage = \"{package}\"\nfinding = \"{finding}\"\nreason = \"r\"\nexpires = {expires}\n"
            )
        };
        let text = [
            "fail-on = \"virus\"\n".to_owned(),
            entry("com.demo", "virus:*", "2099-01-01"), // used
            entry("com.demo", "vul:999", "2099-01-01"), // stale: noted
            entry("com.other", "virus:*", "2099-01-01"), // its app not judged here
            entry("com.demo", "vul:998", "2025-01-01"), // expired: not noted
            entry("com.demo", "word:*", "2099-01-01"),  // used by a word
        ]
        .concat();
        let gate = Gate::new(Policy::parse(&text, "p.toml").unwrap(), day("2026-01-01"));
        let app = app_with_virus();
        let expected = [
            "allow entry p.toml:9 (vul:999 for com.demo) matched no finding; remove it if the finding is gone",
        ];
        let e = gate.evaluate(std::slice::from_ref(&app));
        assert_eq!(e.unused_allow, expected);
        assert!(e.passed(), "a note, not a failure");
        let mut tally = gate.tally();
        gate.judge(&app, &mut tally);
        assert_eq!(tally.unused_allow(), expected);
        assert!(tally.conclude().is_ok());
        // An unfinished scan has no findings to match: nothing is noted for it.
        let mut v = sample();
        v["TaskStatus"] = json!(4);
        let unfinished = AppFindings::from_json(&v);
        assert!(gate.evaluate(&[unfinished]).unused_allow.is_empty());
    }

    #[test]
    fn a_gate_that_judged_no_app_fails_closed() {
        let gate = Gate::new(Policy::fail_on(FailOn::Virus), day("2026-01-01"));
        let e = gate.tally().decision().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.message()
                .starts_with("policy --fail-on virus judged no app"),
            "{e}"
        );
        let e = gate.evaluate(&[]).decision(&[]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn dates_are_checked_and_ordered() {
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "+026-01-01",
            "2026-01-32",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert!(day("2026-01-31") < day("2026-02-01"));
        assert!(Date::today() > day("2025-01-01"));
    }

    #[test]
    fn the_decision_summarises_and_a_closed_stdout_does_not_hide_it() {
        let apps = vec![app_with_virus(); 12];
        let e = Gate::new(Policy::fail_on(FailOn::Virus), day("2026-01-01")).evaluate(&apps);
        let err = e.decision(&apps).unwrap_err();
        assert_eq!(err.exit_code(), 4);
        let lines: Vec<&str> = err.message().lines().collect();
        assert_eq!(
            lines[0],
            "policy --fail-on virus violated: 12 violation(s) in 12 of 12 app(s)"
        );
        assert!(
            lines[1].contains("com.demo")
                && lines[1].ends_with("): virus a.remote.Backdoor [virus:a.remote.Backdoor]"),
            "{}",
            lines[1]
        );
        assert_eq!(
            lines.len(),
            12,
            "10 shown, then the rest counted: {lines:?}"
        );
        assert_eq!(lines[11], "  … and 2 more (see the report)");
        let decision = || e.decision(&apps);
        assert_eq!(
            finish(decision(), Err(CliError::broken_pipe()))
                .unwrap_err()
                .exit_code(),
            4
        );
        assert_eq!(
            finish(decision(), Err(CliError::usage("disk full")))
                .unwrap_err()
                .exit_code(),
            2
        );
        assert_eq!(
            finish(Ok(()), Err(CliError::broken_pipe()))
                .unwrap_err()
                .exit_code(),
            0
        );
        assert!(finish(Ok(()), Ok(())).is_ok());
    }
}
