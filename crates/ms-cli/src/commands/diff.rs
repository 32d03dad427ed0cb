//! `ms scan diff OLD NEW`: findings new, fixed, changed (severity) and unchanged between two
//! builds, per app; `--fail-on` / `--policy` judge the new findings only, and the changed
//! ones whose new severity fails while the old did not (exit code 4).

use clap::Args;
use serde_json::{Value, json};

use crate::context::Ctx;
use crate::diff::{AppChange, AppDiff, ChangedFinding, diff, evaluate_new};
use crate::error::{CliError, CliResult};
use crate::findings::{AppFindings, Finding};
use crate::output::{Render, Table};
use crate::policy::{GateArgs, finish};
use crate::sources::{Source, apps_of};

/// Arguments of `ms scan diff`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
OLD and NEW are each a file of saved results (`ms scan results ... -o json`, `ms scan
submit --wait -o json`), a run's journal (`ms scan submit --journal FILE`: every task of
the run, fetched; told from saved results by its SQLite header, whatever its name) or
ItemIds separated by commas. Apps are matched by package name, so a new version of an app
is compared with the old one. A finding of both builds whose severity differs is changed
(old and new severity shown); the gate judges the new findings and the changed ones whose
new severity fails the policy while the old one did not.

Examples:
  ms scan diff main-results.json pr-results.json --fail-on high
  ms scan diff main-run.db pr-run.db --policy .ms/policy.toml
  ms scan diff OLD_ITEM_ID NEW_ITEM_ID1,NEW_ITEM_ID2 -o json")]
pub struct DiffArgs {
    /// The old build's results: a saved-results file, a run's journal or ItemIds
    /// (comma-separated)
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new build's results: a saved-results file, a run's journal or ItemIds
    /// (comma-separated)
    #[arg(value_name = "NEW")]
    pub new: String,
    /// The policy gate, applied to the new findings only.
    #[command(flatten)]
    pub gate: GateArgs,
}

/// Compares the builds.
pub async fn exec(ctx: &mut Ctx, args: DiffArgs) -> CliResult<()> {
    let gate = args.gate.gate()?;
    let (old_source, new_source) = (Source::from_arg(&args.old)?, Source::from_arg(&args.new)?);
    let old = load_side(ctx, &old_source, "OLD", &args.old).await?;
    let new = load_side(ctx, &new_source, "NEW", &args.new).await?;
    let entries = diff(&old, &new);
    let decision = match &gate {
        Some(gate) => {
            let (apps, evaluation) = evaluate_new(gate, &entries);
            evaluation.conclude(&apps)
        }
        None => Ok(()),
    };
    let view = DiffView {
        old: old_source.label(),
        new: new_source.label(),
        entries: &entries,
    };
    let printed = ctx.printer.print(&view);
    finish(decision, printed)
}

/// The apps of one side. An argument read as ItemIds (no file has its name) that names no
/// task either is none of the three things a side can be: a usage error naming it.
async fn load_side(
    ctx: &mut Ctx,
    source: &Source,
    side: &str,
    arg: &str,
) -> CliResult<Vec<AppFindings>> {
    match source.load(ctx).await {
        Ok(tasks) => Ok(apps_of(&tasks, &[])),
        Err(e)
            if matches!(source, Source::ItemIds(_))
                && e.code() == Some("ResourceNotFound.ItemIdNotFound") =>
        {
            Err(CliError::usage(format!(
                "{side} {arg:?} is neither a file nor the ItemIds of tasks: {}",
                e.message()
            ))
            .with_hint("give saved results (`ms scan results ITEM_ID -o json > FILE`), a run's journal (`ms scan submit --journal FILE`) or ItemIds separated by commas"))
        }
        Err(e) => Err(e),
    }
}

/// The diff as output.
#[derive(Debug)]
pub struct DiffView<'a> {
    /// What the old build is.
    pub old: String,
    /// What the new build is.
    pub new: String,
    /// Per app.
    pub entries: &'a [AppDiff<'a>],
}

fn finding_json(f: &Finding) -> Value {
    json!({"Id": f.id(), "Severity": f.severity.as_str(), "Title": f.headline()})
}

fn changed_json(c: &ChangedFinding) -> Value {
    json!({
        "Id": c.finding.id(),
        "OldSeverity": c.old_severity.as_str(),
        "Severity": c.finding.severity.as_str(),
        "Title": c.finding.headline(),
    })
}

/// `low → high`: a changed finding's severities.
fn severities(c: &ChangedFinding) -> String {
    format!(
        "{} → {}",
        c.old_severity.as_str(),
        c.finding.severity.as_str()
    )
}

/// An entry's findings as table rows (CHANGE, SEVERITY, the finding): the new, fixed and
/// changed ones, then the unchanged ones when `unchanged` is set.
fn finding_rows<'e>(
    e: &'e AppDiff<'_>,
    unchanged: bool,
) -> impl Iterator<Item = (&'static str, String, &'e Finding)> {
    let plain = |change: &'static str, list: &'e [Finding]| {
        list.iter()
            .map(move |f| (change, f.severity.as_str().to_owned(), f))
    };
    let unchanged: &[Finding] = if unchanged { &e.unchanged } else { &[] };
    plain("new", &e.new_findings)
        .chain(plain("fixed", &e.fixed))
        .chain(
            e.changed
                .iter()
                .map(|c| ("changed", severities(c), &c.finding)),
        )
        .chain(plain("unchanged", unchanged))
}

fn side(app: Option<&AppFindings>) -> Value {
    app.map_or(
        Value::Null,
        |a| json!({"Version": a.version, "AppMd5": a.md5}),
    )
}

impl DiffView<'_> {
    /// New, fixed, changed, unchanged findings.
    fn totals(&self) -> [usize; 4] {
        self.entries.iter().fold([0; 4], |[n, f, c, u], e| {
            [
                n + e.new_findings.len(),
                f + e.fixed.len(),
                c + e.changed.len(),
                u + e.unchanged.len(),
            ]
        })
    }

    /// One line per app for people: what changed.
    fn apps_table(&self) -> Table {
        let mut t = Table::new([
            "APP",
            "PACKAGE",
            "OLD",
            "NEW",
            "CHANGE",
            "NEW_FINDINGS",
            "FIXED",
            "CHANGED",
            "UNCHANGED",
        ]);
        for e in self.entries {
            let version = |a: Option<&AppFindings>| a.map_or("-".to_owned(), |a| a.version.clone());
            t.push([
                e.app().name.clone(),
                e.app().identity().to_owned(),
                version(e.old),
                version(e.new),
                e.change().as_str().to_owned(),
                e.new_findings.len().to_string(),
                e.fixed.len().to_string(),
                e.changed.len().to_string(),
                e.unchanged.len().to_string(),
            ]);
        }
        t
    }
}

impl Render for DiffView<'_> {
    fn json(&self) -> Value {
        let [new, fixed, changed, unchanged] = self.totals();
        let apps: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                json!({
                    "Package": e.app().package,
                    "AppName": e.app().name,
                    "Change": e.change().as_str(),
                    "Old": side(e.old),
                    "New": side(e.new),
                    "NewFindings": e.new_findings.iter().map(finding_json).collect::<Vec<_>>(),
                    "Fixed": e.fixed.iter().map(finding_json).collect::<Vec<_>>(),
                    "Changed": e.changed.iter().map(changed_json).collect::<Vec<_>>(),
                    "Unchanged": e.unchanged.iter().map(finding_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "Old": self.old,
            "New": self.new,
            "Summary": {"NewFindings": new, "Fixed": fixed, "Changed": changed, "Unchanged": unchanged},
            "Apps": apps,
        })
    }

    /// One row per finding: PACKAGE, CHANGE (new, fixed, changed, unchanged), SEVERITY
    /// (`low → high` for a changed one), ID, TITLE.
    fn table(&self) -> Table {
        let mut t = Table::new(["PACKAGE", "CHANGE", "SEVERITY", "FINDING", "TITLE"]);
        for e in self.entries {
            let package = e.app().identity();
            for (change, severity, f) in finding_rows(e, true) {
                t.push([
                    package.to_owned(),
                    change.to_owned(),
                    severity,
                    f.id(),
                    f.headline(),
                ]);
            }
        }
        t
    }

    fn people(&self) -> String {
        let [new, fixed, changed, unchanged] = self.totals();
        let mut out = format!(
            "{} → {}: {new} new, {fixed} fixed, {changed} changed, {unchanged} unchanged finding(s)\n\n",
            self.old, self.new
        );
        out.push_str(&self.apps_table().render());
        let mut changes = Table::new(["APP", "CHANGE", "SEVERITY", "FINDING", "TITLE"]);
        for e in self
            .entries
            .iter()
            .filter(|e| e.change() != AppChange::Unchanged)
        {
            for (change, severity, f) in finding_rows(e, false) {
                // The title, unless the id already says it (permissions, words).
                let title = if f.title == f.key {
                    ""
                } else {
                    f.title.as_str()
                };
                changes.push([
                    e.app().name.clone(),
                    change.to_owned(),
                    severity,
                    f.id(),
                    title.to_owned(),
                ]);
            }
        }
        if !changes.rows.is_empty() {
            out.push('\n');
            out.push_str(&changes.render());
        }
        out
    }
}
