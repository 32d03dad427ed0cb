//! Findings that are new, fixed and unchanged between two builds (`ms scan diff OLD NEW`).
//!
//! Apps are matched by what identifies them across versions: the package name (the MD5
//! when the service reported none). When one side holds several apps of one package (split
//! APKs, or the same build submitted twice), identical MD5s are paired first, then the
//! others in input order; the rest are added or removed apps. Findings are compared by
//! their stable identifiers ([`crate::findings::Finding::id`]).

use crate::findings::{AppFindings, Finding};
use crate::policy::{Evaluation, Gate};

/// How an app changed between the builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppChange {
    /// In both builds, with different findings.
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
    /// Findings of both builds.
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
            _ if self.new_findings.is_empty() && self.fixed.is_empty() => AppChange::Unchanged,
            _ => AppChange::Changed,
        }
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
    let has = |list: &[Finding], f: &Finding| list.iter().any(|x| x.id() == f.id());
    let (unchanged, new_findings): (Vec<Finding>, Vec<Finding>) = if new.is_some() {
        after.iter().cloned().partition(|f| has(&before, f))
    } else {
        (Vec::new(), Vec::new())
    };
    let fixed = if new.is_some() {
        before.into_iter().filter(|f| !has(&after, f)).collect()
    } else {
        Vec::new()
    };
    AppDiff {
        old,
        new,
        new_findings,
        fixed,
        unchanged,
    }
}

/// Judges only what is new: each app of the new build on its new findings (an app whose
/// new scan did not finish fails as the policy says). Returns the apps judged (in order)
/// and the evaluation.
pub fn evaluate_new<'a>(gate: &Gate, entries: &[AppDiff<'a>]) -> (Vec<AppFindings>, Evaluation) {
    let mut apps = Vec::new();
    let mut outcomes = Vec::new();
    for e in entries {
        if let Some(new) = e.new {
            outcomes.push(gate.evaluate_app(new, &e.new_findings));
            apps.push(new.clone());
        }
    }
    let evaluation = Evaluation {
        policy: format!("{} (new findings only)", gate.policy().name),
        apps: outcomes,
    };
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
}
