//! What a Markdown or HTML report shows, decided once from the findings and the policy's
//! evaluation; the writers ([`super::markdown`], [`super::html`]) only format it.

use ms_model::SafeType;

use crate::findings::{AppFindings, Summary, Verdict};
use crate::policy::violation_lines;

use super::Report;

/// The content of a report.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    /// The title.
    pub title: &'a str,
    /// Numbers across the apps.
    pub summary: Summary,
    /// Apps per verdict, worst first, verdicts without apps left out.
    pub verdicts: Vec<(Verdict, usize)>,
    /// The policy section, when a gate was given.
    pub policy: Option<PolicyDoc>,
    /// One section per app, in input order.
    pub apps: Vec<AppDoc<'a>>,
}

/// One app's section.
#[derive(Debug)]
pub(crate) struct AppDoc<'a> {
    /// The findings.
    pub app: &'a AppFindings,
    /// Position in the report (anchors).
    pub index: usize,
    /// The verdict.
    pub verdict: Verdict,
    /// The virus scan in a word (`safe`, `VIRUS`, `not scanned`).
    pub virus_word: &'static str,
    /// The virus scan with the name and description, if any.
    pub virus_text: String,
    /// Vulnerabilities per risk level: high, medium, low.
    pub counts: [usize; 3],
}

/// The policy's verdict, for the report.
#[derive(Debug)]
pub(crate) struct PolicyDoc {
    /// What the policy is.
    pub name: String,
    /// True when it passed.
    pub passed: bool,
    /// One line per violation (app and finding).
    pub violations: Vec<String>,
    /// Accepted findings: (app, finding, reason, expiry date).
    pub suppressed: Vec<[String; 4]>,
}

impl<'a> Doc<'a> {
    /// Decides what the report shows.
    pub fn new(report: &Report<'a>) -> Self {
        let summary = Summary::of(report.apps);
        let verdicts = Verdict::ALL
            .into_iter()
            .filter_map(|v| summary.verdicts.get(&v).map(|n| (v, *n)))
            .collect();
        Doc {
            title: report.title,
            summary,
            verdicts,
            policy: report.evaluation.map(|e| policy_doc(report.apps, e)),
            apps: report
                .apps
                .iter()
                .enumerate()
                .map(|(index, app)| AppDoc {
                    app,
                    index,
                    verdict: app.verdict(),
                    virus_word: virus_word(app),
                    virus_text: virus_text(app),
                    counts: [app.count_risk(3), app.count_risk(2), app.count_risk(1)],
                })
                .collect(),
        }
    }
}

fn policy_doc(apps: &[AppFindings], evaluation: &crate::policy::Evaluation) -> PolicyDoc {
    let mut violations = Vec::new();
    let mut suppressed = Vec::new();
    for (app, outcome) in apps.iter().zip(&evaluation.apps) {
        violations.extend(violation_lines(app, outcome));
        for s in &outcome.suppressed {
            suppressed.push([
                app.describe(),
                format!("{} [{}]", s.finding.headline(), s.finding.id()),
                s.reason.clone(),
                s.expires.to_string(),
            ]);
        }
    }
    PolicyDoc {
        name: evaluation.policy.clone(),
        passed: evaluation.passed(),
        violations,
        suppressed,
    }
}

/// The virus verdict in a word.
fn virus_word(a: &AppFindings) -> &'static str {
    match (a.safe_type, a.safety()) {
        (None, _) => "not scanned",
        (_, Some(SafeType::Safe)) => "safe",
        (_, Some(SafeType::Risky)) => "risky",
        (_, Some(SafeType::Virus)) => "VIRUS",
        (Some(_), None) => "unknown",
    }
}

fn virus_text(a: &AppFindings) -> String {
    let base = virus_word(a);
    match &a.virus {
        Some((name, desc)) if !desc.is_empty() => format!("{base} — {name}: {desc}"),
        Some((name, _)) => format!("{base} — {name}"),
        None => base.to_owned(),
    }
}
