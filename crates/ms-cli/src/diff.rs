//! Findings that are new, fixed and unchanged between two builds (`ms scan diff OLD NEW`).
//!
//! Apps are matched by what identifies them across versions: the package name (the MD5
//! when the service reported none). When one side holds several apps of one package (split
//! APKs, or the same build submitted twice), identical MD5s are paired first, then the
//! others in input order; the rest are added or removed apps. Findings are matched by
//! their stable identifiers ([`crate::findings::Finding::id`]); a finding of both builds
//! whose severity differs (a vulnerability re-rated from low to high) is *changed*, not
//! unchanged, and the gate judges it when its new severity fails the policy and its old one
//! did not.

use crate::findings::{AppFindings, Finding, Severity};
use crate::policy::{Evaluation, Gate};

/// How an app changed between the builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppChange {
    /// In both builds, with different findings (or findings whose severity changed).
    Changed,
    /// In both builds, with the same findings.
    Unchanged,
    /// Only in the new build: every finding is new.
    Added,
    /// Only in the old build.
    Removed,
}

impl AppChange {
    /// The word used in the output.
    pub fn as_str(self) -> &'static str {
        match self {
            AppChange::Changed => "changed",
            AppChange::Unchanged => "unchanged",
            AppChange::Added => "added",
            AppChange::Removed => "removed",
        }
    }
}

/// A finding of both builds whose severity differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFinding {
    /// The finding as the new build has it (its new severity).
    pub finding: Finding,
    /// Its severity in the old build.
    pub old_severity: Severity,
}

impl ChangedFinding {
    /// True when the severity rose.
    pub fn rose(&self) -> bool {
        self.finding.severity > self.old_severity
    }
}

/// One app of the diff.
#[derive(Debug, Clone)]
pub struct AppDiff<'a> {
    /// The app in the old build.
    pub old: Option<&'a AppFindings>,
    /// The app in the new build.
    pub new: Option<&'a AppFindings>,
    /// Findings of the new build that the old one did not have.
    pub new_findings: Vec<Finding>,
    /// Findings of the old build that the new one no longer has.
    pub fixed: Vec<Finding>,
    /// Findings of both builds whose severity differs.
    pub changed: Vec<ChangedFinding>,
    /// Findings of both builds, with the same severity.
    pub unchanged: Vec<Finding>,
}

impl AppDiff<'_> {
    /// The app (the new build's when it has one).
    pub fn app(&self) -> &AppFindings {
        self.new.or(self.old).expect("a diff entry has an app")
    }

    /// How the app changed.
    pub fn change(&self) -> AppChange {
        match (self.old, self.new) {
            (None, _) => AppChange::Added,
            (_, None) => AppChange::Removed,
            _ if self.new_findings.is_empty()
                && self.fixed.is_empty()
                && self.changed.is_empty() =>
            {
                AppChange::Unchanged
            }
            _ => AppChange::Changed,
        }
    }

    /// What the gate judges: the new findings, and the changed ones whose new severity fails
    /// the policy's threshold for their kind while the old one did not (a re-rating that
    /// crosses the line is as new to the gate as a new finding).
    pub fn gated_findings(&self, gate: &Gate) -> Vec<Finding> {
        let crossed = self.changed.iter().filter(|c| {
            let threshold = gate.policy().threshold(c.finding.kind);
            threshold.fails(c.finding.severity) && !threshold.fails(c.old_severity)
        });
        self.new_findings
            .iter()
            .chain(crossed.map(|c| &c.finding))
            .cloned()
            .collect()
    }
}

/// Pairs the apps of the two builds and compares their findings; entries follow the new
/// build's order, then the removed apps in the old build's order.
pub fn diff<'a>(old: &'a [AppFindings], new: &'a [AppFindings]) -> Vec<AppDiff<'a>> {
    let mut unmatched: Vec<Option<&'a AppFindings>> = old.iter().map(Some).collect();
    let mut take = |pred: &dyn Fn(&AppFindings) -> bool| {
        let slot = unmatched.iter_mut().find(|o| o.is_some_and(pred))?;
        slot.take()
    };
    // Identical builds first, so that a package present twice pairs its same MD5s.
    let mut pairs: Vec<(Option<&'a AppFindings>, &'a AppFindings)> = new
        .iter()
        .map(|n| {
            let same = |o: &AppFindings| {
                !n.md5.is_empty()
                    && o.md5.eq_ignore_ascii_case(&n.md5)
                    && o.identity() == n.identity()
            };
            (take(&same), n)
        })
        .collect();
    for (old_app, n) in &mut pairs {
        if old_app.is_none() {
            *old_app = take(&|o: &AppFindings| o.identity() == n.identity());
        }
    }
    let mut out: Vec<AppDiff<'a>> = pairs
        .into_iter()
        .map(|(o, n)| compare(o, Some(n)))
        .collect();
    out.extend(
        unmatched
            .into_iter()
            .flatten()
            .map(|o| compare(Some(o), None)),
    );
    out
}

fn compare<'a>(old: Option<&'a AppFindings>, new: Option<&'a AppFindings>) -> AppDiff<'a> {
    let before = old.map(AppFindings::findings).unwrap_or_default();
    let after = new.map(AppFindings::findings).unwrap_or_default();
    let find = |list: &[Finding], f: &Finding| {
        let id = f.id();
        list.iter().find(|x| x.id() == id).map(|x| x.severity)
    };
    let (mut new_findings, mut changed, mut unchanged, mut fixed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if new.is_some() {
        for f in &after {
            match find(&before, f) {
                None => new_findings.push(f.clone()),
                Some(old_severity) if old_severity != f.severity => changed.push(ChangedFinding {
                    finding: f.clone(),
                    old_severity,
                }),
                Some(_) => unchanged.push(f.clone()),
            }
        }
        fixed = before
            .into_iter()
            .filter(|f| find(&after, f).is_none())
            .collect();
    }
    AppDiff {
        old,
        new,
        new_findings,
        fixed,
        changed,
        unchanged,
    }
}

/// Judges only what is new: each app of the new build on its new findings and on the
/// findings whose severity rose across the policy's threshold ([`AppDiff::gated_findings`];
/// an app whose new scan did not finish fails as the policy says). Returns the apps judged
/// (in order) and the evaluation.
pub fn evaluate_new<'a>(gate: &Gate, entries: &[AppDiff<'a>]) -> (Vec<AppFindings>, Evaluation) {
    let mut apps = Vec::new();
    let mut outcomes = Vec::new();
    for e in entries {
        if let Some(new) = e.new {
            let mut outcome = gate.evaluate_app(new, &e.gated_findings(gate));
            // An allow entry is in use when it matches any finding of the new build, not
            // only the judged ones.
            (outcome.allow_for_app, outcome.allow_used) = gate.allow_use(new, &new.findings());
            outcomes.push(outcome);
            apps.push(new.clone());
        }
    }
    let policy = format!("{} (new findings only)", gate.policy().name);
    let evaluation = gate.evaluation(policy, &apps, outcomes);
    (apps, evaluation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::tests::sample;
    use crate::policy::{Date, FailOn, Policy};
    use serde_json::json;

    fn app(package: &str, md5: &str, vul_ids: &[(&str, u64)]) -> AppFindings {
        let mut v = sample();
        v["AppDetailInfo"]["AppPkgName"] = json!(package);
        v["AppDetailInfo"]["AppMd5"] = json!(md5);
        v["VulInfo"]["VulList"] = vul_ids
            .iter()
            .map(|(id, risk)| json!({"VulId": id, "VulName": format!("v{id}"), "RiskLevel": risk}))
            .collect();
        v["AdInfo"] = json!({});
        v["PermissionInfo"] = json!({});
        v["SensitiveInfo"] = json!({});
        AppFindings::from_json(&v)
    }

    fn ids(list: &[Finding]) -> Vec<String> {
        list.iter().map(Finding::id).collect()
    }

    #[test]
    fn findings_are_new_fixed_or_unchanged_per_package() {
        let old = [
            app("com.a", "aa", &[("1", 3), ("2", 1)]),
            app("com.gone", "gg", &[("1", 3)]),
            app("com.same", "ss", &[("5", 2)]),
        ];
        let new = [
            app("com.same", "s2", &[("5", 2)]),
            app("com.a", "a2", &[("2", 1), ("9", 3)]),
            app("com.fresh", "ff", &[("7", 1)]),
        ];
        let d = diff(&old, &new);
        type Row<'a> = (&'a str, &'a str, Vec<String>, Vec<String>, Vec<String>);
        let summary: Vec<Row<'_>> = d
            .iter()
            .map(|e| {
                (
                    e.app().package.as_str(),
                    e.change().as_str(),
                    ids(&e.new_findings),
                    ids(&e.fixed),
                    ids(&e.unchanged),
                )
            })
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            summary,
            [
                ("com.same", "unchanged", s(&[]), s(&[]), s(&["vul:5"])),
                (
                    "com.a",
                    "changed",
                    s(&["vul:9"]),
                    s(&["vul:1"]),
                    s(&["vul:2"])
                ),
                ("com.fresh", "added", s(&["vul:7"]), s(&[]), s(&[])),
                ("com.gone", "removed", s(&[]), s(&[]), s(&[])),
            ]
        );
    }

    #[test]
    fn a_package_present_twice_pairs_identical_builds_first() {
        let old = [
            app("com.x", "m1", &[("1", 1)]),
            app("com.x", "m2", &[("2", 1)]),
        ];
        let new = [
            app("com.x", "m2", &[("2", 1)]),
            app("com.x", "m3", &[("3", 1)]),
        ];
        let d = diff(&old, &new);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].old.unwrap().md5, "m2");
        assert_eq!(d[0].change(), AppChange::Unchanged);
        assert_eq!(d[1].old.unwrap().md5, "m1");
        assert_eq!(ids(&d[1].new_findings), ["vul:3"]);
    }

    #[test]
    fn the_gate_sees_only_new_findings() {
        let old = [app("com.a", "aa", &[("1", 3)])];
        let new = [app("com.a", "a2", &[("1", 3), ("4", 2)])];
        let d = diff(&old, &new);
        let today = Date::parse("2026-01-01").unwrap();
        let high = Gate::new(Policy::fail_on(FailOn::High), today);
        let (apps, e) = evaluate_new(&high, &d);
        assert!(e.passed(), "the high-risk vul:1 is not new");
        assert_eq!(apps.len(), 1);
        let medium = Gate::new(Policy::fail_on(FailOn::Medium), today);
        let (apps, e) = evaluate_new(&medium, &d);
        assert_eq!(e.violations(), 1);
        assert!(e.decision(&apps).unwrap_err().message().contains("vul:4"));
        assert!(e.policy.ends_with("(new findings only)"));
    }

    #[test]
    fn a_finding_whose_severity_changed_is_changed_and_gated_when_it_crosses() {
        let old = [app(
            "com.a",
            "aa",
            &[("1", 1), ("2", 2), ("3", 3), ("4", 2)],
        )];
        let new = [app(
            "com.a",
            "a2",
            &[("1", 3), ("2", 3), ("3", 1), ("4", 2)],
        )];
        let d = diff(&old, &new);
        assert_eq!(d[0].change(), AppChange::Changed);
        assert!(d[0].new_findings.is_empty() && d[0].fixed.is_empty());
        assert_eq!(ids(&d[0].unchanged), ["vul:4"]);
        let changed: Vec<(String, Severity, Severity, bool)> = d[0]
            .changed
            .iter()
            .map(|c| (c.finding.id(), c.old_severity, c.finding.severity, c.rose()))
            .collect();
        assert_eq!(
            changed,
            [
                ("vul:1".into(), Severity::Low, Severity::High, true),
                ("vul:2".into(), Severity::Medium, Severity::High, true),
                ("vul:3".into(), Severity::High, Severity::Low, false),
            ]
        );
        let today = Date::parse("2026-01-01").unwrap();
        // high: low->high and medium->high cross the line; high->low does not fail.
        let high = Gate::new(Policy::fail_on(FailOn::High), today);
        let (_, e) = evaluate_new(&high, &d);
        assert_eq!(ids(&d[0].gated_findings(&high)), ["vul:1", "vul:2"]);
        assert_eq!(e.violations(), 2);
        // medium: vul:2 already failed in the old build, only vul:1 is new to the gate.
        let medium = Gate::new(Policy::fail_on(FailOn::Medium), today);
        assert_eq!(ids(&d[0].gated_findings(&medium)), ["vul:1"]);
        // low: every one of them already failed.
        let low = Gate::new(Policy::fail_on(FailOn::Low), today);
        assert!(evaluate_new(&low, &d).1.passed());
    }
}
