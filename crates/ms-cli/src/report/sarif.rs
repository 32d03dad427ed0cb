//! SARIF 2.1.0 (`ms scan report --format sarif`), for code-scanning dashboards such as
//! GitHub code scanning.
//!
//! - One rule per kind of finding: each vulnerability ID, virus, riskware, ad SDK, risky
//!   permission and sensitive word (rule id = the finding id, `vul:5`).
//! - `level` from the risk: viruses, riskware and high-risk vulnerabilities are `error`,
//!   medium `warning`, low and informational findings `note`; rules carry GitHub's
//!   `security-severity` so the dashboard ranks them.
//! - Each app is an artifact (location `PACKAGE.apk`, MD5 hash, size, package, version).
//! - `partialFingerprints."msFinding/v1"` is a hash of the app's package (its MD5 when it
//!   has none) and the finding id: the same finding in the next build of the app (another
//!   version, another MD5) is the same alert.
//! - Findings accepted by a policy's allow-list carry an external, accepted suppression with
//!   the entry's reason; scans that did not complete are tool execution notifications.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::findings::{AppFindings, Finding, FindingKind, Severity};
use crate::policy::Suppression;

use super::Report;

/// The schema the log names (the OASIS 2.1.0 standard with its errata).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of the fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "msFinding/v1";

/// The SARIF level of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Virus | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score (0.1–10; ≥ 9 critical, ≥ 7 high, ≥ 4 medium).
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Virus => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

/// The stable fingerprint of a finding of an app: SHA-256 of the app's identity (package,
/// else MD5) and the finding id, hex.
pub fn fingerprint(app: &AppFindings, finding: &Finding) -> String {
    let mut h = sha2::Sha256::new();
    h.update(app.identity().as_bytes());
    h.update([0]);
    h.update(finding.id().as_bytes());
    hex::encode(h.finalize())
}

/// The artifact's URI: `PACKAGE.apk` (or `MD5.apk`), percent-encoding anything that is
/// not an unreserved URI character.
fn artifact_uri(app: &AppFindings) -> String {
    let mut uri = String::new();
    for b in app.identity().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    if uri.is_empty() {
        uri.push_str("unknown");
    }
    uri.push_str(".apk");
    uri
}

/// Text ending with a period (SARIF's advice for messages).
fn sentence(s: &str) -> String {
    let t = s.trim_end();
    if t.ends_with(['.', '!', '?', '。']) {
        t.to_owned()
    } else {
        format!("{t}.")
    }
}

/// `AdSdk` + `AdMob` → `AdSdkAdMob`: a PascalCase rule name from the ASCII letters and
/// digits of the key.
fn rule_name(finding: &Finding) -> String {
    let mut name = match finding.kind {
        FindingKind::Vulnerability => "Vulnerability",
        FindingKind::Virus => "Virus",
        FindingKind::Riskware => "Riskware",
        FindingKind::AdSdk => "AdSdk",
        FindingKind::Permission => "RiskyPermission",
        FindingKind::SensitiveWord => "SensitiveWord",
    }
    .to_owned();
    let key = finding
        .key
        .strip_prefix("android.permission.")
        .unwrap_or(&finding.key);
    for word in key.split(|c: char| !c.is_ascii_alphanumeric()) {
        // READ_SMS → ReadSms; SmsThief stays SmsThief.
        let shouting = !word.chars().any(|c| c.is_ascii_lowercase());
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars.map(|c| if shouting { c.to_ascii_lowercase() } else { c }));
        }
    }
    name
}

/// The rules: one per finding id, in order of first appearance; the index of each id.
fn rules(apps: &[(&AppFindings, Vec<Finding>)]) -> (Vec<Value>, BTreeMap<String, usize>) {
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut worst: Vec<(Finding, Severity)> = Vec::new();
    for (_, findings) in apps {
        for f in findings {
            let id = f.id();
            match index.get(&id) {
                Some(&i) => worst[i].1 = worst[i].1.max(f.severity),
                None => {
                    index.insert(id, worst.len());
                    worst.push((f.clone(), f.severity));
                }
            }
        }
    }
    let rules = worst.iter().map(|(f, s)| rule(f, *s)).collect();
    (rules, index)
}

fn rule(f: &Finding, severity: Severity) -> Value {
    let mut properties = json!({
        "tags": ["security", f.kind.scan_type().to_ascii_lowercase()],
        "kind": f.kind.noun(),
    });
    if let Some(score) = security_severity(severity) {
        properties["security-severity"] = json!(score);
    }
    let short = headline_without_app(f, severity);
    let full = if f.description.is_empty() {
        short.clone()
    } else {
        f.description.clone()
    };
    let help = if f.help.is_empty() {
        format!(
            "Review the {} and remove it if it is not needed.",
            f.kind.noun()
        )
    } else {
        f.help.clone()
    };
    json!({
        "id": f.id(),
        "name": rule_name(f),
        "shortDescription": {"text": sentence(&short)},
        "fullDescription": {"text": sentence(&full)},
        "help": {"text": sentence(&help)},
        "defaultConfiguration": {"level": level(severity)},
        "properties": properties,
    })
}

fn headline_without_app(f: &Finding, severity: Severity) -> String {
    Finding {
        severity,
        ..f.clone()
    }
    .headline()
}

fn artifact(app: &AppFindings) -> Value {
    let mut a = json!({
        "location": {"uri": artifact_uri(app)},
        "description": {"text": sentence(&app.describe())},
        "roles": ["analysisTarget"],
        "mimeType": "application/vnd.android.package-archive",
        "properties": {"name": app.name, "package": app.package, "version": app.version},
    });
    if !app.md5.is_empty() {
        a["hashes"] = json!({"md5": app.md5});
    }
    if let Some(size) = app.size {
        a["length"] = json!(size);
    }
    a
}

fn result(
    app: &AppFindings,
    artifact_index: usize,
    f: &Finding,
    rule_index: usize,
    suppression: Option<&Suppression>,
) -> Value {
    let mut text = format!("{} in {}", f.headline(), app.describe());
    if !f.locations.is_empty() {
        text.push_str(&format!(" (found in {})", f.locations.join(", ")));
    }
    let mut r = json!({
        "ruleId": f.id(),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": sentence(&text)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(app), "index": artifact_index}}}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(app, f)},
        "properties": {"severity": f.severity.as_str(), "scanType": f.kind.scan_type(), "files": f.locations},
    });
    if let Some(s) = suppression {
        r["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} ({}, expires {})", s.reason, s.origin, s.expires),
        }]);
    }
    r
}

/// Writes the log (pretty JSON with a final newline).
pub(crate) fn write(report: &Report<'_>) -> String {
    let apps: Vec<(&AppFindings, Vec<Finding>)> =
        report.apps.iter().map(|a| (a, a.findings())).collect();
    let (rules, rule_index) = rules(&apps);
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for (i, (app, findings)) in apps.iter().enumerate() {
        let outcome = report.evaluation.and_then(|e| e.apps.get(i));
        for f in findings {
            let suppression =
                outcome.and_then(|o| o.suppressed.iter().find(|s| s.finding.id() == f.id()));
            results.push(result(app, i, f, rule_index[&f.id()], suppression));
        }
        if !app.complete() {
            let status = app
                .status
                .clone()
                .unwrap_or_else(|| crate::output::task_status(app.task_status).to_owned());
            notifications.push(json!({
                "level": "error",
                "message": {"text": sentence(&format!("The scan of {} did not complete ({status}); its findings are missing", app.describe()))},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(app), "index": i}}}],
            }));
        }
    }
    let mut invocation = Map::new();
    invocation.insert("executionSuccessful".into(), json!(true));
    if !notifications.is_empty() {
        invocation.insert(
            "toolExecutionNotifications".into(),
            Value::Array(notifications),
        );
    }
    let mut driver = json!({
        "name": "ms",
        "fullName": "ms — Tencent Cloud Mobile Security scans",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if !env!("CARGO_PKG_REPOSITORY").is_empty() {
        driver["informationUri"] = json!(env!("CARGO_PKG_REPOSITORY"));
    }
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [Value::Object(invocation)],
            "artifacts": apps.iter().map(|(a, _)| artifact(a)).collect::<Vec<_>>(),
            "results": results,
            "properties": {"title": report.title},
        }],
    });
    crate::output::json_string(&log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::tests::sample;

    #[test]
    fn rule_names_are_pascal_case_identifiers() {
        let f = |kind, key: &str| Finding {
            kind,
            key: key.into(),
            severity: Severity::Info,
            title: String::new(),
            description: String::new(),
            help: String::new(),
            locations: vec![],
        };
        assert_eq!(
            rule_name(&f(FindingKind::Vulnerability, "5")),
            "Vulnerability5"
        );
        assert_eq!(
            rule_name(&f(FindingKind::Permission, "android.permission.READ_SMS")),
            "RiskyPermissionReadSms"
        );
        assert_eq!(
            rule_name(&f(FindingKind::Virus, "a.privacy.SmsThief")),
            "VirusAPrivacySmsThief"
        );
        assert_eq!(
            rule_name(&f(FindingKind::SensitiveWord, "赌博")),
            "SensitiveWord"
        );
    }

    #[test]
    fn the_fingerprint_follows_the_package_not_the_build() {
        let a = AppFindings::from_json(&sample());
        let mut next = a.clone();
        next.md5 = "00000000000000000000000000000001".into();
        next.version = "1.3".into();
        let f = &a.findings()[0];
        assert_eq!(fingerprint(&a, f), fingerprint(&next, f));
        let mut other = a.clone();
        other.package = "com.other".into();
        assert_ne!(fingerprint(&a, f), fingerprint(&other, f));
        assert_ne!(fingerprint(&a, f), fingerprint(&a, &a.findings()[1]));
        let mut unnamed = a.clone();
        unnamed.package = "com.x y/é".into();
        assert_eq!(artifact_uri(&unnamed), "com.x%20y%2F%C3%A9.apk");
    }
}
