//! The HTML report: one self-contained page (inline CSS, no scripts, no external assets)
//! written from a `Doc`; every string from the service is escaped ([`html_escape`]).

use std::fmt::Write as _;

use crate::findings::{Verdict, risk_label};

use super::doc::{AppDoc, Doc, PolicyDoc};
use super::facts;

/// Escapes text for HTML; control characters other than tab and line ends are spelled
/// `\u{1b}`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in HTML (not even as references).
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {
                out.extend(c.escape_unicode());
            }
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1f2328}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}h3{margin:1.4em 0 .3em;font-size:1.05em}\
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f6f8fa;white-space:nowrap}td.n{text-align:right}code{background:#f6f8fa;padding:0 .2em;border-radius:3px}\
.badge{display:inline-block;white-space:nowrap;border-radius:1em;padding:0 .7em;font-size:.85em;font-weight:600;color:#fff}\
.virus{background:#8b0000}.high{background:#cf222e}.medium{background:#bc4c00}.low{background:#9a6700}.clean{background:#1a7f37}.incomplete{background:#6e7781}\
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5em 1em;min-width:8em}.card b{font-size:1.5em;display:block}\
details{margin:.3em 0}summary{cursor:pointer}.muted{color:#656d76}";

/// The CSS class of a verdict's badge.
fn css(v: Verdict) -> &'static str {
    match v {
        Verdict::Virus => "virus",
        Verdict::HighRisk => "high",
        Verdict::MediumRisk => "medium",
        Verdict::LowRisk => "low",
        Verdict::Clean => "clean",
        Verdict::Incomplete => "incomplete",
    }
}

fn badge(v: Verdict) -> String {
    format!("<span class=\"badge {}\">{}</span>", css(v), v.label())
}

/// Writes the page.
pub(crate) fn write(doc: &Doc<'_>) -> String {
    let e = html_escape;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        e(doc.title),
        e(doc.title)
    );
    summary(&mut o, doc);
    if let Some(p) = &doc.policy {
        policy(&mut o, p);
    }
    top_vulnerabilities(&mut o, doc);
    apps_table(&mut o, doc);
    for a in &doc.apps {
        app_section(&mut o, a);
    }
    let _ = writeln!(o, "</body>\n</html>");
    o
}

fn summary(o: &mut String, doc: &Doc<'_>) {
    let s = &doc.summary;
    let _ = writeln!(o, "<h2>Summary</h2>\n<div class=\"cards\">");
    let _ = writeln!(o, "<div class=\"card\"><b>{}</b>apps</div>", s.apps);
    for (v, n) in &doc.verdicts {
        let _ = writeln!(o, "<div class=\"card\"><b>{n}</b>{}</div>", badge(*v));
    }
    let _ = writeln!(o, "</div>");
    let _ = writeln!(
        o,
        "<p>Vulnerabilities: <b>{}</b> high, <b>{}</b> medium, <b>{}</b> low. Apps with ads: <b>{}</b>.</p>",
        s.vulns_by_risk[0], s.vulns_by_risk[1], s.vulns_by_risk[2], s.apps_with_ads
    );
}

fn policy(o: &mut String, p: &PolicyDoc) {
    let e = html_escape;
    let outcome = if p.passed {
        "<span class=\"badge clean\">passed</span>"
    } else {
        "<span class=\"badge high\">failed</span>"
    };
    let _ = writeln!(
        o,
        "<h2>Policy</h2>\n<p><code>{}</code> {outcome}</p>",
        e(&p.name)
    );
    if !p.violations.is_empty() {
        let _ = writeln!(o, "<ul>");
        for line in &p.violations {
            let _ = writeln!(o, "<li>{}</li>", e(line));
        }
        let _ = writeln!(o, "</ul>");
    }
    if !p.suppressed.is_empty() {
        let _ = writeln!(
            o,
            "<h3>Accepted findings</h3>\n<table><tr><th>App</th><th>Finding</th><th>Reason</th><th>Expires</th></tr>"
        );
        for [app, finding, reason, expires] in &p.suppressed {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(app),
                e(finding),
                e(reason),
                e(expires)
            );
        }
        let _ = writeln!(o, "</table>");
    }
}

fn top_vulnerabilities(o: &mut String, doc: &Doc<'_>) {
    let top = &doc.summary.top_vulnerabilities;
    if top.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "<h3>Most common vulnerabilities</h3>\n<table><tr><th>Vulnerability</th><th>Risk</th><th>Apps</th></tr>"
    );
    for (name, risk, n) in top {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{n}</td></tr>",
            html_escape(name),
            risk_label(*risk)
        );
    }
    let _ = writeln!(o, "</table>");
}

fn apps_table(o: &mut String, doc: &Doc<'_>) {
    let e = html_escape;
    let _ = writeln!(
        o,
        "<h3>Apps</h3>\n<table><tr><th>App</th><th>Package</th><th>Version</th><th>Verdict</th><th>Virus scan</th><th>High</th><th>Medium</th><th>Low</th><th>Ads</th></tr>"
    );
    for a in &doc.apps {
        let [high, medium, low] = a.counts;
        let _ = writeln!(
            o,
            "<tr><td><a href=\"#app-{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{high}</td><td class=\"n\">{medium}</td><td class=\"n\">{low}</td><td class=\"n\">{}</td></tr>",
            a.index,
            e(&a.app.name),
            e(&a.app.package),
            e(&a.app.version),
            badge(a.verdict),
            a.virus_word,
            a.app.ads.len()
        );
    }
    let _ = writeln!(o, "</table>");
}

fn app_section(o: &mut String, a: &AppDoc<'_>) {
    let e = html_escape;
    let app = a.app;
    let _ = writeln!(
        o,
        "<h2 id=\"app-{}\">{} {}</h2>",
        a.index,
        e(&app.name),
        badge(a.verdict)
    );
    let code = |s: &str| format!("<code>{}</code>", e(s));
    let _ = writeln!(o, "<p class=\"muted\">{}</p>", facts(app, e, code));
    if let Some(status) = &app.status {
        let _ = writeln!(o, "<p><b>Scan status:</b> {}</p>", e(status));
    }
    let _ = writeln!(o, "<p><b>Virus scan:</b> {}</p>", e(&a.virus_text));
    vulnerabilities(o, a);
    ads(o, a);
    permissions(o, a);
    sensitive_words(o, a);
}

fn vulnerabilities(o: &mut String, a: &AppDoc<'_>) {
    let e = html_escape;
    if a.app.vulnerabilities.is_empty() {
        let _ = writeln!(o, "<p><b>Vulnerabilities:</b> none found.</p>");
        return;
    }
    let [high, medium, low] = a.counts;
    let _ = writeln!(
        o,
        "<p><b>Vulnerabilities:</b> {high} high, {medium} medium, {low} low.</p>\n<table><tr><th>Risk</th><th>Vulnerability</th><th>File</th><th>Fix</th></tr>"
    );
    for vul in &a.app.vulnerabilities {
        let css = match vul.risk {
            3 => "high",
            2 => "medium",
            _ => "low",
        };
        let third = if vul.third_party {
            " <span class=\"muted\">(third-party)</span>"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "<tr><td><span class=\"badge {css}\">{}</span></td><td><details><summary>{}{third}</summary>{}</details></td><td><code>{}</code></td><td>{}</td></tr>",
            risk_label(vul.risk),
            e(&vul.name),
            e(&vul.description),
            e(&vul.file),
            e(&vul.solution).replace('\n', "<br>")
        );
    }
    let _ = writeln!(o, "</table>");
}

fn ads(o: &mut String, a: &AppDoc<'_>) {
    let e = html_escape;
    if a.app.ads.is_empty() {
        let _ = writeln!(o, "<p><b>Ads and plugins:</b> none found.</p>");
        return;
    }
    let _ = writeln!(o, "<p><b>Ads and plugins:</b></p><ul>");
    for ad in &a.app.ads {
        let _ = writeln!(
            o,
            "<li>{} <span class=\"muted\">({})</span> {}</li>",
            e(&ad.name),
            ad.kind,
            e(&ad.description)
        );
    }
    let _ = writeln!(o, "</ul>");
}

fn permissions(o: &mut String, a: &AppDoc<'_>) {
    let list = &a.app.permissions;
    if list.is_empty() {
        let _ = writeln!(o, "<p><b>Permissions:</b> none reported.</p>");
        return;
    }
    let _ = writeln!(
        o,
        "<details><summary><b>Permissions</b> ({})</summary><ul>",
        list.len()
    );
    for p in list {
        let _ = writeln!(o, "<li><code>{}</code></li>", html_escape(p));
    }
    let _ = writeln!(o, "</ul></details>");
}

fn sensitive_words(o: &mut String, a: &AppDoc<'_>) {
    let e = html_escape;
    if a.app.sensitive.is_empty() {
        let _ = writeln!(o, "<p><b>Sensitive words:</b> none found.</p>");
        return;
    }
    let _ = writeln!(o, "<p><b>Sensitive words:</b></p><ul>");
    for (file, words) in &a.app.sensitive {
        let _ = writeln!(
            o,
            "<li><code>{}</code>: {}</li>",
            e(file),
            e(&words.join(", "))
        );
    }
    let _ = writeln!(o, "</ul>");
}
