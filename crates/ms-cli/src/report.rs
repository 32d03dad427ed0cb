//! Scan reports a person would rather read than JSON: a summary across apps, then
//! per app the verdict, vulnerabilities by risk level, the virus verdict, ads and
//! plugins, permissions and sensitive words. Markdown or self-contained HTML.
//!
//! The report is built from `ScanSetInfo` objects as the API returns them (wire
//! field names), so it works on typed responses serialised back to JSON as well as
//! on saved `ms scan results -o json` output.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::output::{field, human_size, scalar};

/// The report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// One self-contained HTML page (inline CSS, no external assets).
    Html,
}

/// Overall verdict for one app, from worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The virus scan flagged the app.
    Virus,
    /// A high-risk vulnerability, or the app is classed as risky.
    HighRisk,
    /// Medium-risk vulnerabilities.
    MediumRisk,
    /// Only low-risk vulnerabilities.
    LowRisk,
    /// Nothing found.
    Clean,
    /// The scan did not complete (error, timeout or still running), or the service did not
    /// say that it did: a result without `TaskStatus` is never reported as clean.
    Incomplete,
}

impl Verdict {
    /// Short label.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Virus => "virus",
            Verdict::HighRisk => "high risk",
            Verdict::MediumRisk => "medium risk",
            Verdict::LowRisk => "low risk",
            Verdict::Clean => "clean",
            Verdict::Incomplete => "incomplete",
        }
    }

    fn css(self) -> &'static str {
        match self {
            Verdict::Virus => "virus",
            Verdict::HighRisk => "high",
            Verdict::MediumRisk => "medium",
            Verdict::LowRisk => "low",
            Verdict::Clean => "clean",
            Verdict::Incomplete => "incomplete",
        }
    }

    const ALL: [Verdict; 6] = [
        Verdict::Virus,
        Verdict::HighRisk,
        Verdict::MediumRisk,
        Verdict::LowRisk,
        Verdict::Clean,
        Verdict::Incomplete,
    ];
}

/// One vulnerability of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vulnerability {
    /// 1 low, 2 medium, 3 high.
    pub risk: u64,
    /// VulId.
    pub id: String,
    /// VulName.
    pub name: String,
    /// VulFilepath.
    pub file: String,
    /// VulDesc.
    pub description: String,
    /// VulSolution.
    pub solution: String,
    /// True when found in a third-party plugin (VulSrcType 1).
    pub third_party: bool,
}

/// One ad plugin of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdPlugin {
    /// Ad kind (banner, interstitial, ...).
    pub kind: &'static str,
    /// PluginName.
    pub name: String,
    /// PluginDesc.
    pub description: String,
}

/// What the scan found in one app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppFindings {
    /// AppName (or FileName, or MD5 when both are empty).
    pub name: String,
    /// AppPkgName.
    pub package: String,
    /// AppVersion.
    pub version: String,
    /// AppMd5.
    pub md5: String,
    /// AppSize.
    pub size: Option<u64>,
    /// TaskStatus (1 done, 2 scanning, 3 error, 4 timeout).
    pub task_status: Option<u64>,
    /// StatusCode / StatusDesc / StatusRef when not successful.
    pub status: Option<String>,
    /// VirusInfo.SafeType (0 unknown, 1 safe, 2 risky, 3 virus).
    pub safe_type: Option<i64>,
    /// VirusName and VirusDesc.
    pub virus: Option<(String, String)>,
    /// VulInfo.VulFileScore.
    pub vul_score: Option<u64>,
    /// Vulnerabilities, highest risk first.
    pub vulnerabilities: Vec<Vulnerability>,
    /// Ad plugins.
    pub ads: Vec<AdPlugin>,
    /// Permissions.
    pub permissions: Vec<String>,
    /// Sensitive words per file.
    pub sensitive: Vec<(String, Vec<String>)>,
}

fn u64_of(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_i64().map(|i| i.max(0) as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn i64_of(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

const AD_KINDS: [(&str, &str); 6] = [
    ("Banners", "banner"),
    ("Spots", "interstitial"),
    ("FloatWindowses", "floating window"),
    ("NotifyBars", "notification bar"),
    ("IntegralWalls", "offer wall"),
    ("BoutiqueRecommands", "boutique recommendation"),
];

impl AppFindings {
    /// Reads one `ScanSetInfo` object (API field names).
    pub fn from_json(v: &Value) -> Self {
        let detail = v.get("AppDetailInfo").unwrap_or(&Value::Null);
        let md5 = field(detail, "AppMd5");
        let mut name = field(detail, "AppName");
        if name.is_empty() {
            name = field(detail, "FileName");
        }
        if name.is_empty() {
            name = if md5.is_empty() {
                "(unnamed app)".to_owned()
            } else {
                md5.clone()
            };
        }
        let status_code = u64_of(v, "StatusCode");
        let status = match status_code {
            Some(0) | None => None,
            Some(code) => {
                let mut s = format!("status {code}");
                for key in ["StatusDesc", "StatusRef"] {
                    let t = field(v, key);
                    if !t.is_empty() {
                        s.push_str(": ");
                        s.push_str(&t);
                    }
                }
                Some(s)
            }
        };
        let virus_info = v.get("VirusInfo").unwrap_or(&Value::Null);
        let virus_name = field(virus_info, "VirusName");
        let virus_desc = field(virus_info, "VirusDesc");
        let vul_info = v.get("VulInfo").unwrap_or(&Value::Null);
        let mut vulnerabilities: Vec<Vulnerability> = array(vul_info, "VulList")
            .iter()
            .map(|x| Vulnerability {
                risk: u64_of(x, "RiskLevel").unwrap_or(0),
                id: field(x, "VulId"),
                name: field(x, "VulName"),
                file: field(x, "VulFilepath"),
                description: field(x, "VulDesc"),
                solution: field(x, "VulSolution"),
                third_party: i64_of(x, "VulSrcType") == Some(1),
            })
            .collect();
        vulnerabilities.sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.name.cmp(&b.name)));
        let ad_info = v.get("AdInfo").unwrap_or(&Value::Null);
        let ads = AD_KINDS
            .iter()
            .flat_map(|(key, kind)| {
                array(ad_info, key).iter().map(move |p| AdPlugin {
                    kind,
                    name: field(p, "PluginName"),
                    description: field(p, "PluginDesc"),
                })
            })
            .collect();
        let permissions = array(
            v.get("PermissionInfo").unwrap_or(&Value::Null),
            "PermissionList",
        )
        .iter()
        .map(|p| field(p, "Permission"))
        .filter(|p| !p.is_empty())
        .collect();
        let sensitive = array(
            v.get("SensitiveInfo").unwrap_or(&Value::Null),
            "SensitiveList",
        )
        .iter()
        .map(|s| {
            (
                field(s, "FilePath"),
                array(s, "WordList").iter().map(scalar).collect(),
            )
        })
        .collect();
        AppFindings {
            name,
            package: field(detail, "AppPkgName"),
            version: field(detail, "AppVersion"),
            md5,
            size: u64_of(detail, "AppSize"),
            task_status: u64_of(v, "TaskStatus"),
            status,
            safe_type: i64_of(virus_info, "SafeType"),
            virus: if virus_name.is_empty() && virus_desc.is_empty() {
                None
            } else {
                Some((virus_name, virus_desc))
            },
            vul_score: u64_of(vul_info, "VulFileScore"),
            vulnerabilities,
            ads,
            permissions,
            sensitive,
        }
    }

    /// Number of vulnerabilities with the given risk level (1 low, 2 medium, 3 high).
    pub fn count_risk(&self, risk: u64) -> usize {
        self.vulnerabilities
            .iter()
            .filter(|v| v.risk == risk)
            .count()
    }

    /// The overall verdict.
    pub fn verdict(&self) -> Verdict {
        if self.task_status != Some(1) || self.status.is_some() {
            return Verdict::Incomplete;
        }
        if self.safe_type == Some(3) {
            Verdict::Virus
        } else if self.safe_type == Some(2) || self.count_risk(3) > 0 {
            Verdict::HighRisk
        } else if self.count_risk(2) > 0 {
            Verdict::MediumRisk
        } else if self.count_risk(1) > 0 || !self.vulnerabilities.is_empty() {
            Verdict::LowRisk
        } else {
            Verdict::Clean
        }
    }
}

/// Text for a risk level.
pub fn risk_label(risk: u64) -> &'static str {
    match risk {
        3 => "high",
        2 => "medium",
        1 => "low",
        _ => "unrated",
    }
}

/// Numbers across all apps of a report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Apps in the report.
    pub apps: usize,
    /// Apps per verdict.
    pub verdicts: BTreeMap<Verdict, usize>,
    /// Vulnerabilities per risk level (3, 2, 1).
    pub vulns_by_risk: [usize; 3],
    /// Apps carrying ads.
    pub apps_with_ads: usize,
    /// Most common vulnerabilities: (name, risk, number of apps).
    pub top_vulnerabilities: Vec<(String, u64, usize)>,
}

impl Summary {
    /// Computes the summary.
    pub fn of(apps: &[AppFindings]) -> Self {
        let mut s = Summary {
            apps: apps.len(),
            ..Summary::default()
        };
        let mut by_name: BTreeMap<(String, u64), usize> = BTreeMap::new();
        for app in apps {
            *s.verdicts.entry(app.verdict()).or_default() += 1;
            for (i, risk) in [3, 2, 1].into_iter().enumerate() {
                s.vulns_by_risk[i] += app.count_risk(risk);
            }
            if !app.ads.is_empty() {
                s.apps_with_ads += 1;
            }
            let mut seen = std::collections::BTreeSet::new();
            for v in &app.vulnerabilities {
                if seen.insert((&v.name, v.risk)) {
                    *by_name.entry((v.name.clone(), v.risk)).or_default() += 1;
                }
            }
        }
        let mut top: Vec<(String, u64, usize)> =
            by_name.into_iter().map(|((n, r), c)| (n, r, c)).collect();
        top.sort_by(|a, b| {
            b.2.cmp(&a.2)
                .then(b.1.cmp(&a.1))
                .then_with(|| a.0.cmp(&b.0))
        });
        top.truncate(10);
        s.top_vulnerabilities = top;
        s
    }
}

/// Renders a report of the given apps.
pub fn render(format: ReportFormat, title: &str, apps: &[AppFindings]) -> String {
    match format {
        ReportFormat::Md => markdown(title, apps),
        ReportFormat::Html => html(title, apps),
    }
}

/// The line under an app's heading: package, version, MD5 and size, joined with ` · `;
/// `text` escapes plain values and `code` renders identifiers for the output format.
fn facts(a: &AppFindings, text: impl Fn(&str) -> String, code: impl Fn(&str) -> String) -> String {
    let mut facts = Vec::new();
    if !a.package.is_empty() {
        facts.push(format!("package {}", code(&a.package)));
    }
    if !a.version.is_empty() {
        facts.push(format!("version {}", text(&a.version)));
    }
    facts.push(format!("MD5 {}", code(&a.md5)));
    if let Some(size) = a.size {
        facts.push(human_size(size));
    }
    facts.join(" · ")
}

/// Service-provided text as literal Markdown: on one line, with every character that
/// Markdown or inline HTML would interpret backslash-escaped (so an app named
/// `<script>` or `*x*` shows as written, also inside table cells).
fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text as a Markdown code span, or as escaped text when it holds a backtick.
fn md_code(s: &str) -> String {
    if s.contains(['`', '\n', '\r']) {
        md_cell(s)
    } else {
        format!("`{s}`")
    }
}

/// Markdown report.
pub fn markdown(title: &str, apps: &[AppFindings]) -> String {
    let summary = Summary::of(apps);
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", md_cell(title));
    let _ = writeln!(o, "## Summary\n");
    let _ = writeln!(o, "{} app(s) scanned.\n", summary.apps);
    let _ = writeln!(o, "| Verdict | Apps |\n|---|---:|");
    for v in Verdict::ALL {
        if let Some(n) = summary.verdicts.get(&v) {
            let _ = writeln!(o, "| {} | {n} |", v.label());
        }
    }
    let _ = writeln!(
        o,
        "\nVulnerabilities: {} high, {} medium, {} low. Apps with ads: {}.\n",
        summary.vulns_by_risk[0],
        summary.vulns_by_risk[1],
        summary.vulns_by_risk[2],
        summary.apps_with_ads
    );
    if !summary.top_vulnerabilities.is_empty() {
        let _ = writeln!(
            o,
            "Most common vulnerabilities:\n\n| Vulnerability | Risk | Apps |\n|---|---|---:|"
        );
        for (name, risk, n) in &summary.top_vulnerabilities {
            let _ = writeln!(o, "| {} | {} | {n} |", md_cell(name), risk_label(*risk));
        }
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "| App | Package | Version | Verdict | Virus scan | High | Medium | Low | Ads |\n|---|---|---|---|---|---:|---:|---:|---:|"
    );
    for a in apps {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md_cell(&a.name),
            md_cell(&a.package),
            md_cell(&a.version),
            a.verdict().label(),
            virus_word(a),
            a.count_risk(3),
            a.count_risk(2),
            a.count_risk(1),
            a.ads.len()
        );
    }
    for a in apps {
        let _ = writeln!(o, "\n## {} — {}\n", md_cell(&a.name), a.verdict().label());
        let _ = writeln!(o, "{}\n", facts(a, md_cell, md_code));
        if let Some(status) = &a.status {
            let _ = writeln!(o, "**Scan status:** {}\n", md_cell(status));
        }
        let _ = writeln!(o, "**Virus scan:** {}", md_cell(&virus_text(a)));
        let _ = writeln!(o);
        if a.vulnerabilities.is_empty() {
            let _ = writeln!(o, "**Vulnerabilities:** none found.\n");
        } else {
            let _ = writeln!(
                o,
                "**Vulnerabilities:** {} high, {} medium, {} low{}.\n",
                a.count_risk(3),
                a.count_risk(2),
                a.count_risk(1),
                a.vul_score
                    .map(|s| format!(" (file score {s})"))
                    .unwrap_or_default()
            );
            let _ = writeln!(
                o,
                "| Risk | Vulnerability | File | Fix |\n|---|---|---|---|"
            );
            for v in &a.vulnerabilities {
                let third = if v.third_party { " (third-party)" } else { "" };
                let _ = writeln!(
                    o,
                    "| {} | {}{} | {} | {} |",
                    risk_label(v.risk),
                    md_cell(&v.name),
                    third,
                    md_cell(&v.file),
                    md_cell(&v.solution)
                );
            }
            o.push('\n');
        }
        if a.ads.is_empty() {
            let _ = writeln!(o, "**Ads and plugins:** none found.\n");
        } else {
            let _ = writeln!(o, "**Ads and plugins:**\n");
            for ad in &a.ads {
                let desc = if ad.description.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", md_cell(&ad.description))
                };
                let _ = writeln!(o, "- {} ({}){}", md_cell(&ad.name), ad.kind, desc);
            }
            o.push('\n');
        }
        if a.permissions.is_empty() {
            let _ = writeln!(o, "**Permissions:** none reported.\n");
        } else {
            let _ = writeln!(
                o,
                "**Permissions ({}):** {}\n",
                a.permissions.len(),
                a.permissions
                    .iter()
                    .map(|p| md_code(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if a.sensitive.is_empty() {
            let _ = writeln!(o, "**Sensitive words:** none found.");
        } else {
            let _ = writeln!(o, "**Sensitive words:**\n");
            for (file, words) in &a.sensitive {
                let _ = writeln!(o, "- {}: {}", md_code(file), md_cell(&words.join(", ")));
            }
        }
    }
    o
}

/// The virus verdict in a word.
fn virus_word(a: &AppFindings) -> &'static str {
    match a.safe_type {
        Some(1) => "safe",
        Some(2) => "risky",
        Some(3) => "VIRUS",
        Some(_) => "unknown",
        None => "not scanned",
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

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
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

/// Self-contained HTML report (inline CSS, no scripts, no external assets).
pub fn html(title: &str, apps: &[AppFindings]) -> String {
    let summary = Summary::of(apps);
    let e = html_escape;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        e(title),
        e(title)
    );
    let _ = writeln!(o, "<h2>Summary</h2>\n<div class=\"cards\">");
    let _ = writeln!(o, "<div class=\"card\"><b>{}</b>apps</div>", summary.apps);
    for v in Verdict::ALL {
        if let Some(n) = summary.verdicts.get(&v) {
            let _ = writeln!(
                o,
                "<div class=\"card\"><b>{n}</b><span class=\"badge {}\">{}</span></div>",
                v.css(),
                v.label()
            );
        }
    }
    let _ = writeln!(o, "</div>");
    let _ = writeln!(
        o,
        "<p>Vulnerabilities: <b>{}</b> high, <b>{}</b> medium, <b>{}</b> low. Apps with ads: <b>{}</b>.</p>",
        summary.vulns_by_risk[0],
        summary.vulns_by_risk[1],
        summary.vulns_by_risk[2],
        summary.apps_with_ads
    );
    if !summary.top_vulnerabilities.is_empty() {
        let _ = writeln!(
            o,
            "<h3>Most common vulnerabilities</h3>\n<table><tr><th>Vulnerability</th><th>Risk</th><th>Apps</th></tr>"
        );
        for (name, risk, n) in &summary.top_vulnerabilities {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{n}</td></tr>",
                e(name),
                risk_label(*risk)
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(
        o,
        "<h3>Apps</h3>\n<table><tr><th>App</th><th>Package</th><th>Version</th><th>Verdict</th><th>Virus scan</th><th>High</th><th>Medium</th><th>Low</th><th>Ads</th></tr>"
    );
    for (i, a) in apps.iter().enumerate() {
        let v = a.verdict();
        let _ = writeln!(
            o,
            "<tr><td><a href=\"#app-{i}\">{}</a></td><td>{}</td><td>{}</td><td><span class=\"badge {}\">{}</span></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            e(&a.name),
            e(&a.package),
            e(&a.version),
            v.css(),
            v.label(),
            virus_word(a),
            a.count_risk(3),
            a.count_risk(2),
            a.count_risk(1),
            a.ads.len()
        );
    }
    let _ = writeln!(o, "</table>");
    for (i, a) in apps.iter().enumerate() {
        let v = a.verdict();
        let _ = writeln!(
            o,
            "<h2 id=\"app-{i}\">{} <span class=\"badge {}\">{}</span></h2>",
            e(&a.name),
            v.css(),
            v.label()
        );
        let code = |s: &str| format!("<code>{}</code>", e(s));
        let _ = writeln!(o, "<p class=\"muted\">{}</p>", facts(a, e, code));
        if let Some(status) = &a.status {
            let _ = writeln!(o, "<p><b>Scan status:</b> {}</p>", e(status));
        }
        let _ = writeln!(o, "<p><b>Virus scan:</b> {}</p>", e(&virus_text(a)));
        if a.vulnerabilities.is_empty() {
            let _ = writeln!(o, "<p><b>Vulnerabilities:</b> none found.</p>");
        } else {
            let _ = writeln!(
                o,
                "<p><b>Vulnerabilities:</b> {} high, {} medium, {} low.</p>\n<table><tr><th>Risk</th><th>Vulnerability</th><th>File</th><th>Fix</th></tr>",
                a.count_risk(3),
                a.count_risk(2),
                a.count_risk(1)
            );
            for vul in &a.vulnerabilities {
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
        if a.ads.is_empty() {
            let _ = writeln!(o, "<p><b>Ads and plugins:</b> none found.</p>");
        } else {
            let _ = writeln!(o, "<p><b>Ads and plugins:</b></p><ul>");
            for ad in &a.ads {
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
        if a.permissions.is_empty() {
            let _ = writeln!(o, "<p><b>Permissions:</b> none reported.</p>");
        } else {
            let _ = writeln!(
                o,
                "<details><summary><b>Permissions</b> ({})</summary><ul>",
                a.permissions.len()
            );
            for p in &a.permissions {
                let _ = writeln!(o, "<li><code>{}</code></li>", e(p));
            }
            let _ = writeln!(o, "</ul></details>");
        }
        if a.sensitive.is_empty() {
            let _ = writeln!(o, "<p><b>Sensitive words:</b> none found.</p>");
        } else {
            let _ = writeln!(o, "<p><b>Sensitive words:</b></p><ul>");
            for (file, words) in &a.sensitive {
                let _ = writeln!(
                    o,
                    "<li><code>{}</code>: {}</li>",
                    e(file),
                    e(&words.join(", "))
                );
            }
            let _ = writeln!(o, "</ul>");
        }
    }
    let _ = writeln!(o, "</body>\n</html>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "TaskStatus": 1, "StatusCode": 0, "StatusDesc": "", "StatusRef": "", "TaskTime": 1546511829,
            "AppDetailInfo": {"AppName": "Demo <b>", "AppPkgName": "com.demo", "AppVersion": "1.2", "AppMd5": "bc80057cf4323db8579e011f8a5f1402", "AppSize": 484980, "FileName": "demo.apk", "AppIconUrl": "http://x/icon"},
            "VirusInfo": {"SafeType": 1, "VirusName": "", "VirusDesc": ""},
            "VulInfo": {"VulFileScore": 0, "VulList": [
                {"RiskLevel": 1, "VulId": "22", "VulName": "Broadcast exposure", "VulFilepath": "classes.dex", "VulSrcType": 1, "VulDesc": "d", "VulSolution": "s", "VulCode": "c"},
                {"RiskLevel": 3, "VulId": "1", "VulName": "Debuggable", "VulFilepath": "AndroidManifest.xml", "VulSrcType": 0, "VulDesc": "d", "VulSolution": "set debuggable=false", "VulCode": "c"}
            ]},
            "AdInfo": {"Banners": [{"PluginType": 3, "PluginName": "AdMob", "PluginDesc": "banner ads"}], "Spots": [], "FloatWindowses": [], "IntegralWalls": [], "NotifyBars": [], "BoutiqueRecommands": []},
            "PermissionInfo": {"PermissionList": [{"Permission": "android.permission.INTERNET"}]},
            "SensitiveInfo": {"SensitiveList": [{"FilePath": "resources.arsc", "FileSha": "35", "WordList": ["手槍"]}]}
        })
    }

    #[test]
    fn the_facts_line_is_the_same_in_markdown_and_html() {
        let f = AppFindings::from_json(&sample());
        let md = render(ReportFormat::Md, "t", std::slice::from_ref(&f));
        assert!(
            md.contains(&format!(
                "package `com.demo` · version 1.2 · MD5 `bc80057cf4323db8579e011f8a5f1402` · {}",
                human_size(484980)
            )),
            "{md}"
        );
        let html = render(ReportFormat::Html, "t", &[f]);
        assert!(
            html.contains(&format!(
                "package <code>com.demo</code> · version 1.2 · MD5 <code>bc80057cf4323db8579e011f8a5f1402</code> · {}",
                human_size(484980)
            )),
            "{html}"
        );
    }

    #[test]
    fn findings_and_verdict() {
        let f = AppFindings::from_json(&sample());
        assert_eq!(f.name, "Demo <b>");
        assert_eq!(f.vulnerabilities[0].risk, 3);
        assert_eq!(f.verdict(), Verdict::HighRisk);
        assert_eq!(f.ads.len(), 1);
        assert_eq!(f.ads[0].kind, "banner");
        assert_eq!(f.permissions, ["android.permission.INTERNET"]);
        assert_eq!(f.sensitive[0].1, ["手槍"]);
    }

    #[test]
    fn virus_beats_everything_and_incomplete_is_separate() {
        let mut v = sample();
        v["VirusInfo"]["SafeType"] = json!(3);
        assert_eq!(AppFindings::from_json(&v).verdict(), Verdict::Virus);
        v["TaskStatus"] = json!(3);
        assert_eq!(AppFindings::from_json(&v).verdict(), Verdict::Incomplete);
        // No TaskStatus at all: the service did not say the scan finished, so not "clean".
        assert_eq!(
            AppFindings::from_json(&json!({})).verdict(),
            Verdict::Incomplete
        );
        let mut finished_empty = json!({"TaskStatus": 1});
        assert_eq!(
            AppFindings::from_json(&finished_empty).verdict(),
            Verdict::Clean
        );
        finished_empty["TaskStatus"] = json!(2);
        assert_eq!(
            AppFindings::from_json(&finished_empty).verdict(),
            Verdict::Incomplete
        );
    }

    #[test]
    fn html_is_escaped_and_self_contained() {
        let f = AppFindings::from_json(&sample());
        let page = html("Report <x>", &[f]);
        assert!(page.contains("Demo &lt;b&gt;"));
        assert!(!page.contains("Demo <b>"));
        assert!(!page.contains("http://"), "no external assets");
        assert!(!page.contains("<script"));
        assert!(page.contains("<style>"));
    }

    /// A scan result whose every service-provided string tries to break out of the page.
    fn hostile() -> Value {
        let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'&amp;*x*`|";
        let mut v = sample();
        v["AppDetailInfo"]["AppName"] = json!(evil);
        v["AppDetailInfo"]["AppPkgName"] = json!(evil);
        v["AppDetailInfo"]["AppVersion"] = json!(evil);
        v["VirusInfo"] = json!({"SafeType": 3, "VirusName": evil, "VirusDesc": evil});
        v["VulInfo"]["VulList"][0]["VulName"] = json!(evil);
        v["VulInfo"]["VulList"][0]["VulDesc"] = json!(evil);
        v["VulInfo"]["VulList"][0]["VulSolution"] = json!(evil);
        v["VulInfo"]["VulList"][0]["VulFilepath"] = json!(evil);
        v["AdInfo"]["Banners"][0]["PluginName"] = json!(evil);
        v["AdInfo"]["Banners"][0]["PluginDesc"] = json!(evil);
        v["PermissionInfo"]["PermissionList"][0]["Permission"] = json!(evil);
        v["SensitiveInfo"]["SensitiveList"][0]["FilePath"] = json!(evil);
        v["SensitiveInfo"]["SensitiveList"][0]["WordList"] = json!([evil]);
        v
    }

    #[test]
    fn html_escapes_every_service_provided_string() {
        let page = html("Report", &[AppFindings::from_json(&hostile())]);
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("&amp;*"), "the & is escaped too: {page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img"));
        // Every tag in the page is one of ours.
        let allowed = [
            "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "div",
            "b", "span", "p", "table", "tr", "th", "td", "a", "code", "details", "summary", "ul",
            "li", "br",
        ];
        for tag in page.split('<').skip(1) {
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
                .collect();
            assert!(allowed.contains(&name.as_str()), "unexpected tag <{name}");
        }
    }

    #[test]
    fn markdown_shows_service_strings_literally() {
        let md = markdown("Report", &[AppFindings::from_json(&hostile())]);
        // No raw HTML and no unescaped Markdown emphasis from the service's strings
        // (outside code spans; our own table pipes and bold labels aside).
        for line in md.lines() {
            let (mut escaped, mut in_code) = (false, false);
            for c in line.chars() {
                if escaped {
                    escaped = false;
                    continue;
                }
                match c {
                    '\\' if !in_code => escaped = true,
                    '`' => in_code = !in_code,
                    '<' | '>' | '&' if !in_code => panic!("unescaped {c:?} in {line:?}"),
                    '*' if !in_code && !line.starts_with("**") => {
                        panic!("unescaped {c:?} in {line:?}")
                    }
                    '|' if !in_code && !line.starts_with('|') => {
                        panic!("unescaped {c:?} in {line:?}")
                    }
                    _ => {}
                }
            }
        }
        assert!(md.contains("\\<script\\>alert(1)\\</script\\>"), "{md}");
        // Table rows keep their column count.
        for line in md.lines().filter(|l| l.starts_with("| ")) {
            let cells = line.replace("\\|", "").matches('|').count();
            assert!(
                cells == 5 || cells == 4 || cells == 10 || cells == 3,
                "{line}"
            );
        }
    }

    #[test]
    fn markdown_has_summary_and_sections() {
        let a = AppFindings::from_json(&sample());
        let mut b = AppFindings::from_json(&sample());
        b.vulnerabilities.clear();
        b.name = "Other".into();
        let md = markdown("Scan report", &[a, b]);
        assert!(md.contains("2 app(s) scanned."));
        assert!(md.contains("| high risk | 1 |"));
        assert!(md.contains("| low risk | 1 |") || md.contains("| clean | 1 |"));
        assert!(md.contains("## Demo \\<b\\> — high risk"), "{md}");
        assert!(md.contains("| high | Debuggable |"));
        assert!(md.contains("AdMob (banner)"));
    }
}
