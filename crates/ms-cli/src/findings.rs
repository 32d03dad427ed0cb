//! What a scan found in each app, read from the API's `ScanSetInfo` objects, and the
//! same findings as a flat list with stable identifiers ([`Finding`]), the one vocabulary
//! that reports, the policy gate, SARIF, JUnit and diffs between builds share.
//!
//! A finding's identifier is `KIND:KEY`, stable across builds of an app:
//!
//! | kind | key | severity | scan type |
//! |---|---|---|---|
//! | `vul` | `VulId` | `RiskLevel`: 3 high, 2 medium, 1 (or unrated) low | `VULSCAN` |
//! | `virus` | `VirusName` (`SafeType` 3) | virus | `VIRUSSCAN` |
//! | `riskware` | `VirusName` (`SafeType` 2, "risky") | high | `VIRUSSCAN` |
//! | `ad` | `PluginName` | info | `ADSCAN` |
//! | `permission` | permission name, if [risky](RISKY_PERMISSIONS) | info | `PERMISSION` |
//! | `word` | the sensitive word | info | `SENSITIVE` |

use std::collections::BTreeMap;

use ms_model::SafeType;
use serde_json::Value;

use crate::output::{field, i64_field, scalar, u64_field};

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

    /// Every verdict, worst first.
    pub const ALL: [Verdict; 6] = [
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

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn member<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
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
        let detail = member(v, "AppDetailInfo");
        let virus_info = member(v, "VirusInfo");
        let vul_info = member(v, "VulInfo");
        let virus_name = field(virus_info, "VirusName");
        let virus_desc = field(virus_info, "VirusDesc");
        AppFindings {
            name: display_name(detail),
            package: field(detail, "AppPkgName"),
            version: field(detail, "AppVersion"),
            md5: field(detail, "AppMd5"),
            size: u64_field(detail, "AppSize"),
            task_status: u64_field(v, "TaskStatus"),
            status: status_text(v),
            safe_type: i64_field(virus_info, "SafeType"),
            virus: if virus_name.is_empty() && virus_desc.is_empty() {
                None
            } else {
                Some((virus_name, virus_desc))
            },
            vul_score: u64_field(vul_info, "VulFileScore"),
            vulnerabilities: vulnerabilities(vul_info),
            ads: ads(member(v, "AdInfo")),
            permissions: array(member(v, "PermissionInfo"), "PermissionList")
                .iter()
                .map(|p| field(p, "Permission"))
                .filter(|p| !p.is_empty())
                .collect(),
            sensitive: array(member(v, "SensitiveInfo"), "SensitiveList")
                .iter()
                .map(|s| {
                    let words = array(s, "WordList").iter().map(scalar).collect();
                    (field(s, "FilePath"), words)
                })
                .collect(),
        }
    }

    /// Number of vulnerabilities with the given risk level (1 low, 2 medium, 3 high).
    pub fn count_risk(&self, risk: u64) -> usize {
        self.vulnerabilities
            .iter()
            .filter(|v| v.risk == risk)
            .count()
    }

    /// True when the scan of this app finished successfully (its findings are complete).
    pub fn complete(&self) -> bool {
        self.task_status == Some(ms_model::TaskStatus::Completed.code()) && self.status.is_none()
    }

    /// The named [`SafeType`] of `safe_type` (`None`: not scanned, 0 unknown, or a value the
    /// list does not name).
    pub fn safety(&self) -> Option<SafeType> {
        self.safe_type
            .and_then(|code| u64::try_from(code).ok())
            .and_then(SafeType::from_code)
    }

    /// The overall verdict.
    pub fn verdict(&self) -> Verdict {
        if !self.complete() {
            return Verdict::Incomplete;
        }
        if self.safety() == Some(SafeType::Virus) {
            Verdict::Virus
        } else if self.safety() == Some(SafeType::Risky) || self.count_risk(3) > 0 {
            Verdict::HighRisk
        } else if self.count_risk(2) > 0 {
            Verdict::MediumRisk
        } else if !self.vulnerabilities.is_empty() {
            Verdict::LowRisk
        } else {
            Verdict::Clean
        }
    }

    /// What identifies the app across builds: its package name, or its MD5 when the
    /// service reported no package.
    pub fn identity(&self) -> &str {
        if self.package.is_empty() {
            &self.md5
        } else {
            &self.package
        }
    }

    /// `Name 1.2 (com.example, MD5 0123…)`: the app in one line for messages.
    pub fn describe(&self) -> String {
        let mut s = self.name.clone();
        if !self.version.is_empty() {
            s.push(' ');
            s.push_str(&self.version);
        }
        let mut ids = Vec::new();
        if !self.package.is_empty() {
            ids.push(self.package.clone());
        }
        if !self.md5.is_empty() {
            ids.push(format!("MD5 {}", self.md5));
        }
        if !ids.is_empty() {
            s.push_str(&format!(" ({})", ids.join(", ")));
        }
        s
    }

    /// The app's findings, each once (a vulnerability reported in several files is one
    /// finding with several locations), worst first, then by identifier.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        let mut add = |f: Finding| match out.iter_mut().find(|o| o.id() == f.id()) {
            Some(existing) => {
                for l in f.locations {
                    if !existing.locations.contains(&l) {
                        existing.locations.push(l);
                    }
                }
                existing.severity = existing.severity.max(f.severity);
            }
            None => out.push(f),
        };
        if let Some(f) = self.virus_finding() {
            add(f);
        }
        for v in &self.vulnerabilities {
            add(Finding {
                kind: FindingKind::Vulnerability,
                key: v.id.clone(),
                severity: Severity::of_risk(v.risk),
                title: v.name.clone(),
                description: v.description.clone(),
                help: v.solution.clone(),
                locations: nonempty(&v.file),
            });
        }
        for ad in &self.ads {
            add(Finding {
                kind: FindingKind::AdSdk,
                key: ad.name.clone(),
                severity: Severity::Info,
                title: format!("{} ({})", ad.name, ad.kind),
                description: ad.description.clone(),
                help: String::new(),
                locations: Vec::new(),
            });
        }
        for p in self.permissions.iter().filter(|p| is_risky_permission(p)) {
            add(Finding {
                kind: FindingKind::Permission,
                key: p.clone(),
                severity: Severity::Info,
                title: p.clone(),
                description: String::new(),
                help: String::new(),
                locations: Vec::new(),
            });
        }
        for (file, words) in &self.sensitive {
            for w in words.iter().filter(|w| !w.is_empty()) {
                add(Finding {
                    kind: FindingKind::SensitiveWord,
                    key: w.clone(),
                    severity: Severity::Info,
                    title: w.clone(),
                    description: String::new(),
                    help: String::new(),
                    locations: nonempty(file),
                });
            }
        }
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.id().cmp(&b.id()))
        });
        out
    }

    fn virus_finding(&self) -> Option<Finding> {
        let (kind, severity) = match self.safety() {
            Some(SafeType::Virus) => (FindingKind::Virus, Severity::Virus),
            Some(SafeType::Risky) => (FindingKind::Riskware, Severity::High),
            _ => return None,
        };
        let (name, desc) = self.virus.clone().unwrap_or_default();
        let key = if name.is_empty() {
            "unnamed".to_owned()
        } else {
            name
        };
        Some(Finding {
            title: key.clone(),
            kind,
            key,
            severity,
            description: desc,
            help: String::new(),
            locations: Vec::new(),
        })
    }
}

fn nonempty(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        vec![s.to_owned()]
    }
}

/// AppName, else FileName, else the MD5.
fn display_name(detail: &Value) -> String {
    for key in ["AppName", "FileName", "AppMd5"] {
        let name = field(detail, key);
        if !name.is_empty() {
            return name;
        }
    }
    "(unnamed app)".to_owned()
}

/// `status N: StatusDesc: StatusRef` for a result whose StatusCode is not 0.
fn status_text(v: &Value) -> Option<String> {
    match u64_field(v, "StatusCode") {
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
    }
}

fn vulnerabilities(vul_info: &Value) -> Vec<Vulnerability> {
    let mut list: Vec<Vulnerability> = array(vul_info, "VulList")
        .iter()
        .map(|x| Vulnerability {
            risk: u64_field(x, "RiskLevel").unwrap_or(0),
            id: field(x, "VulId"),
            name: field(x, "VulName"),
            file: field(x, "VulFilepath"),
            description: field(x, "VulDesc"),
            solution: field(x, "VulSolution"),
            third_party: i64_field(x, "VulSrcType") == Some(1),
        })
        .collect();
    list.sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.name.cmp(&b.name)));
    list
}

fn ads(ad_info: &Value) -> Vec<AdPlugin> {
    AD_KINDS
        .iter()
        .flat_map(|(key, kind)| {
            array(ad_info, key).iter().map(move |p| AdPlugin {
                kind,
                name: field(p, "PluginName"),
                description: field(p, "PluginDesc"),
            })
        })
        .collect()
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

    /// `32 app(s): 2 virus, 18 high risk, ...` in one line.
    pub fn line(&self) -> String {
        let parts: Vec<String> = self
            .verdicts
            .iter()
            .map(|(v, n)| format!("{n} {}", v.label()))
            .collect();
        format!("{} app(s): {}", self.apps, parts.join(", "))
    }
}

/// How bad a finding is; ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing, not a vulnerability: ad SDKs, risky permissions, sensitive words.
    Info,
    /// A low-risk (or unrated) vulnerability.
    Low,
    /// A medium-risk vulnerability.
    Medium,
    /// A high-risk vulnerability, or riskware (`SafeType` 2).
    High,
    /// A virus (`SafeType` 3).
    Virus,
}

impl Severity {
    /// The severity of a vulnerability's `RiskLevel` (unrated counts as low).
    pub fn of_risk(risk: u64) -> Self {
        match risk {
            3.. => Severity::High,
            2 => Severity::Medium,
            _ => Severity::Low,
        }
    }

    /// The name used on the command line and in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Virus => "virus",
        }
    }
}

/// The kinds of finding (each a family of SARIF rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// A vulnerability (`VulInfo.VulList`), keyed by `VulId`.
    Vulnerability,
    /// A virus (`VirusInfo`, `SafeType` 3), keyed by `VirusName`.
    Virus,
    /// Riskware (`VirusInfo`, `SafeType` 2), keyed by `VirusName`.
    Riskware,
    /// An ad SDK (`AdInfo`), keyed by `PluginName`.
    AdSdk,
    /// A risky permission (`PermissionInfo`), keyed by the permission.
    Permission,
    /// A sensitive word (`SensitiveInfo`), keyed by the word.
    SensitiveWord,
}

impl FindingKind {
    /// Every kind.
    pub const ALL: [FindingKind; 6] = [
        FindingKind::Vulnerability,
        FindingKind::Virus,
        FindingKind::Riskware,
        FindingKind::AdSdk,
        FindingKind::Permission,
        FindingKind::SensitiveWord,
    ];

    /// The prefix of the identifiers of this kind (`vul` in `vul:5`).
    pub fn prefix(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vul",
            FindingKind::Virus => "virus",
            FindingKind::Riskware => "riskware",
            FindingKind::AdSdk => "ad",
            FindingKind::Permission => "permission",
            FindingKind::SensitiveWord => "word",
        }
    }

    /// The kind of an identifier prefix.
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.prefix() == prefix)
    }

    /// The scan type (`ScanInfo.ScanTypes`) that reports findings of this kind.
    pub fn scan_type(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "VULSCAN",
            FindingKind::Virus | FindingKind::Riskware => "VIRUSSCAN",
            FindingKind::AdSdk => "ADSCAN",
            FindingKind::Permission => "PERMISSION",
            FindingKind::SensitiveWord => "SENSITIVE",
        }
    }

    /// A noun for messages.
    pub fn noun(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Virus => "virus",
            FindingKind::Riskware => "riskware",
            FindingKind::AdSdk => "ad SDK",
            FindingKind::Permission => "risky permission",
            FindingKind::SensitiveWord => "sensitive word",
        }
    }
}

/// One finding of one app, with its stable identifier ([`Finding::id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of finding.
    pub kind: FindingKind,
    /// What identifies it within its kind (VulId, virus name, SDK, permission, word).
    pub key: String,
    /// How bad it is.
    pub severity: Severity,
    /// Its name: the vulnerability's name, the virus name, `AdMob (banner)`, the
    /// permission, the word.
    pub title: String,
    /// The service's description, if any.
    pub description: String,
    /// How to fix it, if the service says.
    pub help: String,
    /// Files of the app where it was found, if the service says.
    pub locations: Vec<String>,
}

impl Finding {
    /// The identifier: `KIND:KEY` (`vul:5`, `virus:a.privacy.SmsThief`).
    pub fn id(&self) -> String {
        format!("{}:{}", self.kind.prefix(), self.key)
    }

    /// One line for people: `high-risk vulnerability NAME`, `virus NAME`, `ad SDK NAME`.
    pub fn headline(&self) -> String {
        match self.kind {
            FindingKind::Vulnerability => format!(
                "{}-risk vulnerability {}",
                self.severity.as_str(),
                self.title
            ),
            kind => format!("{} {}", kind.noun(), self.title),
        }
    }
}

/// Permissions reported as findings: Android's "dangerous" protection level (runtime
/// permissions) and the special app-op permissions that grant comparable power.
pub const RISKY_PERMISSIONS: &[&str] = &[
    "ACCEPT_HANDOVER",
    "ACCESS_BACKGROUND_LOCATION",
    "ACCESS_COARSE_LOCATION",
    "ACCESS_FINE_LOCATION",
    "ACCESS_MEDIA_LOCATION",
    "ACTIVITY_RECOGNITION",
    "ADD_VOICEMAIL",
    "ANSWER_PHONE_CALLS",
    "BIND_ACCESSIBILITY_SERVICE",
    "BIND_DEVICE_ADMIN",
    "BLUETOOTH_ADVERTISE",
    "BLUETOOTH_CONNECT",
    "BLUETOOTH_SCAN",
    "BODY_SENSORS",
    "BODY_SENSORS_BACKGROUND",
    "CALL_PHONE",
    "CAMERA",
    "GET_ACCOUNTS",
    "MANAGE_EXTERNAL_STORAGE",
    "NEARBY_WIFI_DEVICES",
    "PACKAGE_USAGE_STATS",
    "POST_NOTIFICATIONS",
    "PROCESS_OUTGOING_CALLS",
    "QUERY_ALL_PACKAGES",
    "READ_CALENDAR",
    "READ_CALL_LOG",
    "READ_CONTACTS",
    "READ_EXTERNAL_STORAGE",
    "READ_MEDIA_AUDIO",
    "READ_MEDIA_IMAGES",
    "READ_MEDIA_VIDEO",
    "READ_MEDIA_VISUAL_USER_SELECTED",
    "READ_PHONE_NUMBERS",
    "READ_PHONE_STATE",
    "READ_SMS",
    "RECEIVE_MMS",
    "RECEIVE_SMS",
    "RECEIVE_WAP_PUSH",
    "RECORD_AUDIO",
    "REQUEST_INSTALL_PACKAGES",
    "SEND_SMS",
    "SYSTEM_ALERT_WINDOW",
    "USE_SIP",
    "UWB_RANGING",
    "WRITE_CALENDAR",
    "WRITE_CALL_LOG",
    "WRITE_CONTACTS",
    "WRITE_EXTERNAL_STORAGE",
    "WRITE_SETTINGS",
];

/// True for a permission of [`RISKY_PERMISSIONS`] (`android.permission.` prefix or not).
pub fn is_risky_permission(permission: &str) -> bool {
    let name = permission
        .strip_prefix("android.permission.")
        .unwrap_or(permission);
    RISKY_PERMISSIONS.binary_search(&name).is_ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A finished scan result with one of each kind of finding.
    pub(crate) fn sample() -> Value {
        json!({
            "TaskStatus": 1, "StatusCode": 0, "StatusDesc": "", "StatusRef": "", "TaskTime": 1546511829,
            "AppDetailInfo": {"AppName": "Demo <b>", "AppPkgName": "com.demo", "AppVersion": "1.2", "AppMd5": "bc80057cf4323db8579e011f8a5f1402", "AppSize": 484980, "FileName": "demo.apk", "AppIconUrl": "http://x/icon"},
            "VirusInfo": {"SafeType": 1, "VirusName": "", "VirusDesc": ""},
            "VulInfo": {"VulFileScore": 0, "VulList": [
                {"RiskLevel": 1, "VulId": "22", "VulName": "Broadcast exposure", "VulFilepath": "classes.dex", "VulSrcType": 1, "VulDesc": "d", "VulSolution": "s", "VulCode": "c"},
                {"RiskLevel": 3, "VulId": "1", "VulName": "Debuggable", "VulFilepath": "AndroidManifest.xml", "VulSrcType": 0, "VulDesc": "d", "VulSolution": "set debuggable=false", "VulCode": "c"}
            ]},
            "AdInfo": {"Banners": [{"PluginType": 3, "PluginName": "AdMob", "PluginDesc": "banner ads"}], "Spots": [], "FloatWindowses": [], "IntegralWalls": [], "NotifyBars": [], "BoutiqueRecommands": []},
            "PermissionInfo": {"PermissionList": [{"Permission": "android.permission.INTERNET"}, {"Permission": "android.permission.READ_SMS"}]},
            "SensitiveInfo": {"SensitiveList": [{"FilePath": "resources.arsc", "FileSha": "35", "WordList": ["手槍"]}]}
        })
    }

    #[test]
    fn findings_and_verdict() {
        let f = AppFindings::from_json(&sample());
        assert_eq!(f.name, "Demo <b>");
        assert_eq!(f.vulnerabilities[0].risk, 3);
        assert_eq!(f.verdict(), Verdict::HighRisk);
        assert_eq!(f.ads.len(), 1);
        assert_eq!(f.ads[0].kind, "banner");
        assert_eq!(
            f.permissions,
            ["android.permission.INTERNET", "android.permission.READ_SMS"]
        );
        assert_eq!(f.sensitive[0].1, ["手槍"]);
        assert_eq!(f.identity(), "com.demo");
        assert_eq!(
            f.describe(),
            "Demo <b> 1.2 (com.demo, MD5 bc80057cf4323db8579e011f8a5f1402)"
        );
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
    fn every_kind_of_finding_has_a_stable_id_and_severity() {
        let mut v = sample();
        v["VirusInfo"] = json!({"SafeType": 2, "VirusName": "a.expense.X", "VirusDesc": "d"});
        let ids: Vec<(String, Severity)> = AppFindings::from_json(&v)
            .findings()
            .into_iter()
            .map(|f| (f.id(), f.severity))
            .collect();
        assert_eq!(
            ids,
            [
                ("riskware:a.expense.X".to_owned(), Severity::High),
                ("vul:1".to_owned(), Severity::High),
                ("vul:22".to_owned(), Severity::Low),
                ("ad:AdMob".to_owned(), Severity::Info),
                (
                    "permission:android.permission.READ_SMS".to_owned(),
                    Severity::Info
                ),
                ("word:手槍".to_owned(), Severity::Info),
            ]
        );
        v["VirusInfo"]["SafeType"] = json!(3);
        let top = &AppFindings::from_json(&v).findings()[0];
        assert_eq!(
            (top.id(), top.severity),
            ("virus:a.expense.X".to_owned(), Severity::Virus)
        );
    }

    #[test]
    fn a_vulnerability_in_several_files_is_one_finding_with_several_locations() {
        let mut v = sample();
        v["VulInfo"]["VulList"][0]["VulId"] = json!("1");
        v["VulInfo"]["VulList"][0]["RiskLevel"] = json!(0);
        let f = AppFindings::from_json(&v).findings();
        let vul: Vec<&Finding> = f
            .iter()
            .filter(|f| f.kind == FindingKind::Vulnerability)
            .collect();
        assert_eq!(vul.len(), 1);
        assert_eq!(vul[0].severity, Severity::High);
        assert_eq!(vul[0].locations, ["AndroidManifest.xml", "classes.dex"]);
    }

    #[test]
    fn risky_permissions_are_sorted_and_matched_with_or_without_prefix() {
        assert!(RISKY_PERMISSIONS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_risky_permission("android.permission.CAMERA"));
        assert!(is_risky_permission("READ_SMS"));
        assert!(!is_risky_permission("android.permission.INTERNET"));
        assert!(!is_risky_permission("com.vendor.permission.CAMERA"));
    }

    #[test]
    fn kinds_round_trip_through_their_prefix() {
        for k in FindingKind::ALL {
            assert_eq!(FindingKind::from_prefix(k.prefix()), Some(k));
        }
        assert_eq!(FindingKind::from_prefix("nope"), None);
    }
}
