//! Reports of scan results: a summary across apps, then per app the verdict,
//! vulnerabilities by risk level, the virus verdict, ads and plugins, permissions and
//! sensitive words, as Markdown or a self-contained HTML page for people, SARIF 2.1.0 for
//! code-scanning dashboards, or JUnit XML for CI test views.
//!
//! Deciding and writing are separate: `doc` works out what a Markdown or HTML report
//! shows; [`markdown`], [`html`], [`sarif`] and [`junit`] only write. The findings come from
//! [`crate::findings`] (API field names, so typed responses serialised back to JSON and
//! saved `ms scan results -o json` output both work); the policy's verdict, when a gate
//! is given, from [`crate::policy`].

mod doc;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod sarif;

pub use crate::findings::{AdPlugin, AppFindings, Summary, Verdict, Vulnerability, risk_label};
pub use html::html_escape;

use crate::output::human_size;
use crate::policy::Evaluation;

/// The report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// One self-contained HTML page (inline CSS, no external assets).
    Html,
    /// SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning, ...).
    Sarif,
    /// JUnit XML, for CI test views (Jenkins, GitLab): a test case per app.
    Junit,
}

/// What a report is about.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The title.
    pub title: &'a str,
    /// The apps, in the order to show them.
    pub apps: &'a [AppFindings],
    /// The policy's verdict on the same apps (same order), when a gate was given.
    pub evaluation: Option<&'a Evaluation>,
}

impl<'a> Report<'a> {
    /// A report of these apps, without a policy.
    pub fn new(title: &'a str, apps: &'a [AppFindings]) -> Self {
        Report {
            title,
            apps,
            evaluation: None,
        }
    }

    /// The same report with the policy's verdict.
    pub fn with_evaluation(self, evaluation: Option<&'a Evaluation>) -> Self {
        Report { evaluation, ..self }
    }
}

/// Renders a report.
pub fn render(format: ReportFormat, report: &Report<'_>) -> String {
    match format {
        ReportFormat::Md => markdown::write(&doc::Doc::new(report)),
        ReportFormat::Html => html::write(&doc::Doc::new(report)),
        ReportFormat::Sarif => sarif::write(report),
        ReportFormat::Junit => junit::write(report),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::tests::sample;
    use serde_json::{Value, json};

    fn md(title: &str, apps: &[AppFindings]) -> String {
        render(ReportFormat::Md, &Report::new(title, apps))
    }

    fn html(title: &str, apps: &[AppFindings]) -> String {
        render(ReportFormat::Html, &Report::new(title, apps))
    }

    #[test]
    fn the_facts_line_is_the_same_in_markdown_and_html() {
        let f = AppFindings::from_json(&sample());
        let md = md("t", std::slice::from_ref(&f));
        assert!(
            md.contains(&format!(
                "package `com.demo` · version 1.2 · MD5 `bc80057cf4323db8579e011f8a5f1402` · {}",
                human_size(484980)
            )),
            "{md}"
        );
        let html = html("t", &[f]);
        assert!(
            html.contains(&format!(
                "package <code>com.demo</code> · version 1.2 · MD5 <code>bc80057cf4323db8579e011f8a5f1402</code> · {}",
                human_size(484980)
            )),
            "{html}"
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
        let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'&amp;*x*`|\u{1b}]0;pwned\u{7}\u{1b}[2J";
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

    /// No control character but line ends and tabs: a report printed on a terminal cannot
    /// carry its escape sequences, and an HTML page none of the characters HTML forbids.
    fn assert_no_control_characters(text: &str) {
        let bad: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\t'))
            .collect();
        assert!(bad.is_empty(), "{bad:?} in {text}");
    }

    #[test]
    fn html_escapes_every_service_provided_string() {
        let page = html("Report", &[AppFindings::from_json(&hostile())]);
        assert_no_control_characters(&page);
        assert!(page.contains("\\u{1b}]0;pwned\\u{7}"), "{page}");
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
        let md = md("Report", &[AppFindings::from_json(&hostile())]);
        assert_no_control_characters(&md);
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
        let md = md("Scan report", &[a, b]);
        assert!(md.contains("2 app(s) scanned."));
        assert!(md.contains("| high risk | 1 |"));
        assert!(md.contains("| low risk | 1 |") || md.contains("| clean | 1 |"));
        assert!(md.contains("## Demo \\<b\\> — high risk"), "{md}");
        assert!(md.contains("| high | Debuggable |"));
        assert!(md.contains("AdMob (banner)"));
    }
}
