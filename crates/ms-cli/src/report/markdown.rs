//! The Markdown report: writes a `Doc`; every string from the service is escaped
//! (`md_cell`) so it shows literally.

use std::fmt::Write as _;

use crate::findings::risk_label;

use super::doc::{AppDoc, Doc, PolicyDoc};
use super::facts;

/// Service-provided text as literal Markdown: on one line, with every character that
/// Markdown or inline HTML would interpret backslash-escaped (so an app named
/// `<script>` or `*x*` shows as written, also inside table cells), and control characters
/// (a terminal's escape sequences) spelled `\u{1b}`.
pub(crate) fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Text as a Markdown code span, or as escaped text when it holds a backtick or a
/// control character.
pub(crate) fn md_code(s: &str) -> String {
    if s.contains(['`', '\n', '\r']) || s.chars().any(char::is_control) {
        md_cell(s)
    } else {
        format!("`{s}`")
    }
}

/// Writes the report.
pub(crate) fn write(doc: &Doc<'_>) -> String {
    let mut o = String::new();
    summary(&mut o, doc);
    if let Some(p) = &doc.policy {
        policy(&mut o, p);
    }
    top_vulnerabilities(&mut o, doc);
    apps_table(&mut o, doc);
    for a in &doc.apps {
        app_section(&mut o, a);
    }
    o
}

fn summary(o: &mut String, doc: &Doc<'_>) {
    let s = &doc.summary;
    let _ = writeln!(o, "# {}\n", md_cell(doc.title));
    let _ = writeln!(o, "## Summary\n");
    let _ = writeln!(o, "{} app(s) scanned.\n", s.apps);
    let _ = writeln!(o, "| Verdict | Apps |\n|---|---:|");
    for (v, n) in &doc.verdicts {
        let _ = writeln!(o, "| {} | {n} |", v.label());
    }
    let _ = writeln!(
        o,
        "\nVulnerabilities: {} high, {} medium, {} low. Apps with ads: {}.\n",
        s.vulns_by_risk[0], s.vulns_by_risk[1], s.vulns_by_risk[2], s.apps_with_ads
    );
}

fn policy(o: &mut String, p: &PolicyDoc) {
    let outcome = if p.passed { "passed" } else { "**failed**" };
    let _ = writeln!(o, "## Policy\n\n{} {outcome}.\n", md_code(&p.name));
    for line in &p.violations {
        let _ = writeln!(o, "- {}", md_cell(line));
    }
    if !p.violations.is_empty() {
        o.push('\n');
    }
    if !p.suppressed.is_empty() {
        let _ = writeln!(
            o,
            "Accepted findings:\n\n| App | Finding | Reason | Expires |\n|---|---|---|---|"
        );
        for [app, finding, reason, expires] in &p.suppressed {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {expires} |",
                md_cell(app),
                md_cell(finding),
                md_cell(reason)
            );
        }
        o.push('\n');
    }
}

fn top_vulnerabilities(o: &mut String, doc: &Doc<'_>) {
    let top = &doc.summary.top_vulnerabilities;
    if top.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "Most common vulnerabilities:\n\n| Vulnerability | Risk | Apps |\n|---|---|---:|"
    );
    for (name, risk, n) in top {
        let _ = writeln!(o, "| {} | {} | {n} |", md_cell(name), risk_label(*risk));
    }
    o.push('\n');
}

fn apps_table(o: &mut String, doc: &Doc<'_>) {
    let _ = writeln!(
        o,
        "| App | Package | Version | Verdict | Virus scan | High | Medium | Low | Ads |\n|---|---|---|---|---|---:|---:|---:|---:|"
    );
    for a in &doc.apps {
        let [high, medium, low] = a.counts;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {high} | {medium} | {low} | {} |",
            md_cell(&a.app.name),
            md_cell(&a.app.package),
            md_cell(&a.app.version),
            a.verdict.label(),
            a.virus_word,
            a.app.ads.len()
        );
    }
}

fn app_section(o: &mut String, a: &AppDoc<'_>) {
    let app = a.app;
    let _ = writeln!(o, "\n## {} — {}\n", md_cell(&app.name), a.verdict.label());
    let _ = writeln!(o, "{}\n", facts(app, md_cell, md_code));
    if let Some(status) = &app.status {
        let _ = writeln!(o, "**Scan status:** {}\n", md_cell(status));
    }
    let _ = writeln!(o, "**Virus scan:** {}\n", md_cell(&a.virus_text));
    vulnerabilities(o, a);
    ads(o, a);
    permissions(o, a);
    sensitive_words(o, a);
}

fn vulnerabilities(o: &mut String, a: &AppDoc<'_>) {
    let app = a.app;
    if app.vulnerabilities.is_empty() {
        let _ = writeln!(o, "**Vulnerabilities:** none found.\n");
        return;
    }
    let [high, medium, low] = a.counts;
    let score = app
        .vul_score
        .map(|s| format!(" (file score {s})"))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "**Vulnerabilities:** {high} high, {medium} medium, {low} low{score}.\n"
    );
    let _ = writeln!(
        o,
        "| Risk | Vulnerability | File | Fix |\n|---|---|---|---|"
    );
    for v in &app.vulnerabilities {
        let third = if v.third_party { " (third-party)" } else { "" };
        let _ = writeln!(
            o,
            "| {} | {}{third} | {} | {} |",
            risk_label(v.risk),
            md_cell(&v.name),
            md_cell(&v.file),
            md_cell(&v.solution)
        );
    }
    o.push('\n');
}

fn ads(o: &mut String, a: &AppDoc<'_>) {
    if a.app.ads.is_empty() {
        let _ = writeln!(o, "**Ads and plugins:** none found.\n");
        return;
    }
    let _ = writeln!(o, "**Ads and plugins:**\n");
    for ad in &a.app.ads {
        let desc = if ad.description.is_empty() {
            String::new()
        } else {
            format!(" — {}", md_cell(&ad.description))
        };
        let _ = writeln!(o, "- {} ({}){desc}", md_cell(&ad.name), ad.kind);
    }
    o.push('\n');
}

fn permissions(o: &mut String, a: &AppDoc<'_>) {
    let list = &a.app.permissions;
    if list.is_empty() {
        let _ = writeln!(o, "**Permissions:** none reported.\n");
        return;
    }
    let shown: Vec<String> = list.iter().map(|p| md_code(p)).collect();
    let _ = writeln!(
        o,
        "**Permissions ({}):** {}\n",
        list.len(),
        shown.join(", ")
    );
}

fn sensitive_words(o: &mut String, a: &AppDoc<'_>) {
    if a.app.sensitive.is_empty() {
        let _ = writeln!(o, "**Sensitive words:** none found.");
        return;
    }
    let _ = writeln!(o, "**Sensitive words:**\n");
    for (file, words) in &a.app.sensitive {
        let _ = writeln!(o, "- {}: {}", md_code(file), md_cell(&words.join(", ")));
    }
}
