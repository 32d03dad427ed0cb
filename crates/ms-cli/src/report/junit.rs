//! JUnit XML (`ms scan report --format junit`), so Jenkins, GitLab and other CI systems
//! show scans as test results: one test case per app, a `<failure>` per policy violation,
//! an `<error>` for a scan the policy fails because it did not complete (`<skipped>` when
//! no policy was given or the policy ignores unfinished scans), and the app's findings in
//! `<system-out>`.
//!
//! A test case is named so that the next build of the app is the same test (CI test
//! histories, GitLab's "new failures" of a merge request): `classname` is the package (the
//! MD5 when the service reported none), `name` the app's name; the version and MD5 are in
//! the failure texts and `<system-out>`. Only when one report holds the same package more
//! than once (two builds, split APKs) does the name carry the version and MD5 too, so that
//! no two test cases share a name.
//!
//! Every string from the service is escaped for XML 1.0; characters XML cannot carry at all
//! (control characters other than tab, newline and carriage return) are written as
//! `\u{..}` text.

use std::fmt::Write as _;

use crate::findings::AppFindings;
use crate::policy::{AppOutcome, violation_lines};

use super::Report;

/// Where escaped text goes: attribute values keep newlines and tabs only as character
/// references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XmlPlace {
    Content,
    Attribute,
}

/// Escapes text for XML element content.
pub fn xml_text(s: &str) -> String {
    xml_escape(s, XmlPlace::Content)
}

/// Escapes text for an XML attribute value (newlines and tabs as character references, so
/// parsers keep them).
pub fn xml_attr(s: &str) -> String {
    xml_escape(s, XmlPlace::Attribute)
}

fn xml_escape(s: &str, place: XmlPlace) -> String {
    let attribute = place == XmlPlace::Attribute;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if allowed_in_xml(c) => out.push(c),
            c => out.extend(c.escape_unicode()),
        }
    }
    out
}

/// XML 1.0's `Char` production (tab, newline and carriage return are handled above).
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Counts for the `<testsuite>` attributes.
#[derive(Debug, Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

/// Writes the XML document.
pub(crate) fn write(report: &Report<'_>) -> String {
    let mut per_identity: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for app in report.apps {
        *per_identity.entry(app.identity()).or_default() += 1;
    }
    let cases: Vec<(String, Kind)> = report
        .apps
        .iter()
        .enumerate()
        .map(|(i, app)| {
            let outcome = report.evaluation.and_then(|e| e.apps.get(i));
            let name = if per_identity[app.identity()] > 1 {
                app.describe()
            } else {
                case_name(app)
            };
            test_case(app, &name, outcome)
        })
        .collect();
    let mut counts = Counts {
        tests: cases.len(),
        ..Counts::default()
    };
    for (_, kind) in &cases {
        match kind {
            Kind::Passed => {}
            Kind::Failed => counts.failures += 1,
            Kind::Error => counts.errors += 1,
            Kind::Skipped => counts.skipped += 1,
        }
    }
    let title = xml_attr(report.title);
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let Counts {
        tests,
        failures,
        errors,
        skipped,
    } = counts;
    let _ = writeln!(
        o,
        "<testsuites name=\"{title}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">"
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"{title}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">"
    );
    if let Some(e) = report.evaluation {
        let _ = writeln!(
            o,
            "    <properties>\n      <property name=\"policy\" value=\"{}\"/>\n    </properties>",
            xml_attr(&e.policy)
        );
    }
    for (case, _) in &cases {
        o.push_str(case);
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o
}

/// How a test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Passed,
    Failed,
    Error,
    Skipped,
}

/// The name of an app's test case, the same from one build to the next: the app's name,
/// its package (or MD5) when it has none.
fn case_name(app: &AppFindings) -> String {
    if app.name.trim().is_empty() {
        app.identity().to_owned()
    } else {
        app.name.clone()
    }
}

/// One `<testcase>` and how it ended.
fn test_case(app: &AppFindings, name: &str, outcome: Option<&AppOutcome>) -> (String, Kind) {
    let mut body = String::new();
    let mut kind = Kind::Passed;
    if let Some(outcome) = outcome {
        let lines = violation_lines(app, outcome);
        let mut lines = lines.iter();
        if let Some(status) = &outcome.incomplete {
            let line = lines.next().map_or("", String::as_str);
            let _ = writeln!(
                body,
                "      <error type=\"incomplete\" message=\"{}\">{}</error>",
                xml_attr(&format!("scan did not complete ({status})")),
                xml_text(line)
            );
            kind = Kind::Error;
        }
        for (v, line) in outcome.violations.iter().zip(lines) {
            let _ = writeln!(
                body,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                xml_attr(&v.finding.id()),
                xml_attr(&format!("{} [{}]", v.finding.headline(), v.finding.id())),
                xml_text(line)
            );
            if kind == Kind::Passed {
                kind = Kind::Failed;
            }
        }
    }
    // An unfinished scan that nothing failed (no policy, or one that ignores unfinished
    // scans) is skipped, never shown as passed.
    if kind == Kind::Passed && !app.complete() {
        let _ = writeln!(
            body,
            "      <skipped message=\"{}\"/>",
            xml_attr("scan did not complete")
        );
        kind = Kind::Skipped;
    }
    let _ = writeln!(
        body,
        "      <system-out>{}</system-out>",
        xml_text(&findings_text(app, outcome))
    );
    let case = format!(
        "    <testcase classname=\"{}\" name=\"{}\">\n{body}    </testcase>\n",
        xml_attr(app.identity()),
        xml_attr(name),
    );
    (case, kind)
}

/// The app's verdict and findings, one per line, with what the policy accepted.
fn findings_text(app: &AppFindings, outcome: Option<&AppOutcome>) -> String {
    let mut s = format!(
        "app: {}\nverdict: {}\n",
        app.describe(),
        app.verdict().label()
    );
    for f in app.findings() {
        let _ = writeln!(s, "{} [{}]", f.headline(), f.id());
    }
    for a in outcome.map_or(&[][..], |o| &o.suppressed[..]) {
        let _ = writeln!(
            s,
            "accepted: {} — {} ({}, expires {})",
            a.finding.id(),
            a.reason,
            a.origin,
            a.expires
        );
    }
    s
}
