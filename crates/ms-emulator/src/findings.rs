//! Deterministic, varied scan findings derived from an app's MD5.
//!
//! A SplitMix64 generator is seeded from the 16 MD5 bytes, so the same app always gets the
//! same findings (across runs, restarts and machines) while different apps differ.

use ms_model::SafeType;
use serde_json::{Value, json};

/// SplitMix64: small, stable, good enough for picking findings.
#[derive(Debug, Clone)]
pub(crate) struct Prng(u64);

impl Prng {
    /// Seeds from the MD5 hex string (any string works; invalid hex is folded byte-wise).
    pub(crate) fn from_md5(md5: &str) -> Self {
        let bytes = hex::decode(md5).unwrap_or_else(|_| md5.as_bytes().to_vec());
        let mut seed: u64 = 0x6d73_2d65_6d75_6c61; // "ms-emula"
        for (i, b) in bytes.iter().enumerate() {
            seed ^= u64::from(*b) << ((i % 8) * 8);
            if i % 8 == 7 {
                seed = seed.rotate_left(29).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            }
        }
        Prng(seed)
    }

    /// Seeds from a number.
    pub(crate) fn from_seed(seed: u64) -> Self {
        Prng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `k` distinct indices of `0..n`, in ascending order.
    fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..n).collect();
        for i in 0..k.min(n) {
            let j = i + self.below((n - i) as u64) as usize;
            idx.swap(i, j);
        }
        let mut out = idx[..k.min(n)].to_vec();
        out.sort_unstable();
        out
    }

    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(len);
        s
    }
}

/// What the submitter told us about an app (all optional except the MD5).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SubmittedApp {
    pub app_md5: String,
    pub app_url: String,
    pub app_size: Option<u64>,
    pub file_name: Option<String>,
    pub app_pkg_name: Option<String>,
    pub app_version: Option<String>,
    pub app_icon_url: Option<String>,
    pub app_name: Option<String>,
}

/// Basic app details: what the submitter gave, completed deterministically.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppDetails {
    pub app_name: String,
    pub app_pkg_name: String,
    pub app_version: String,
    pub app_size: u64,
    pub app_md5: String,
    pub app_icon_url: String,
    pub file_name: String,
}

const NAME_WORDS: &[(&str, &str)] = &[
    ("Notes", "notes"),
    ("Weather", "weather"),
    ("Wallet", "wallet"),
    ("Camera", "camera"),
    ("Reader", "reader"),
    ("Music", "music"),
    ("Fitness", "fitness"),
    ("Maps", "maps"),
    ("Chat", "chat"),
    ("Shop", "shop"),
    ("Video", "video"),
    ("Browser", "browser"),
];
const NAME_PREFIXES: &[(&str, &str)] = &[
    ("Sunny", "sunny"),
    ("Quick", "quick"),
    ("Blue", "blue"),
    ("Smart", "smart"),
    ("Happy", "happy"),
    ("Daily", "daily"),
    ("Pocket", "pocket"),
    ("Star", "star"),
];
const VENDORS: &[&str] = &[
    "example",
    "demoapps",
    "sample",
    "acme",
    "mobilelab",
    "apptest",
];

pub(crate) fn app_details(app: &SubmittedApp) -> AppDetails {
    let mut r = Prng::from_md5(&app.app_md5);
    let (prefix, pprefix) = *r.pick(NAME_PREFIXES);
    let (word, pword) = *r.pick(NAME_WORDS);
    let vendor = *r.pick(VENDORS);
    let gen_name = format!("{prefix} {word}");
    let gen_pkg = format!("com.{vendor}.{pprefix}{pword}");
    let gen_version = format!("{}.{}.{}", 1 + r.below(9), r.below(20), r.below(50));
    let gen_size = 1_048_576 + r.below(150 * 1_048_576);
    let pkg = app
        .app_pkg_name
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or(gen_pkg);
    AppDetails {
        app_name: app
            .app_name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or(gen_name),
        app_version: app
            .app_version
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or(gen_version),
        app_size: app.app_size.filter(|s| *s > 0).unwrap_or(gen_size),
        app_md5: app.app_md5.clone(),
        app_icon_url: app.app_icon_url.clone().unwrap_or_default(),
        file_name: app
            .file_name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{pkg}.apk")),
        app_pkg_name: pkg,
    }
}

struct Vul {
    id: &'static str,
    name: &'static str,
    code: &'static str,
    desc: &'static str,
    solution: &'static str,
    file: &'static str,
    src_type: i64,
    risk: u64,
}

const VULS: &[Vul] = &[
    Vul {
        id: "1",
        name: "调试标志未关闭漏洞",
        code: "debuggable option do not disable in AndroidManifest",
        desc: "在AndroidManifest.xml中配置debuggable=true导致程序可以被调试，有数据泄漏的风险",
        solution: "在AndroidManifest.xml配置debuggable=false",
        file: "AndroidManifest.xml",
        src_type: 0,
        risk: 2,
    },
    Vul {
        id: "2",
        name: "allowBackUp文件备份漏洞",
        code: "allowBackUp option do not disable in AndroidManifest",
        desc: "在AndroidManifest.xml若将allowBackUp属性设为true，用户即可通过adb backup命令备份文件数据并通过adb restore命令将备份文件导入",
        solution: "在应用正式发布之前将AndroidManifest.xml文件中的allowBackUp属性值设置为false",
        file: "AndroidManifest.xml",
        src_type: 0,
        risk: 2,
    },
    Vul {
        id: "5",
        name: "WebView远程代码执行漏洞",
        code: "<android.webkit.WebView: void addJavascriptInterface(java.lang.Object,java.lang.String)>",
        desc: "Android API level 17以下使用addJavascriptInterface接口，攻击者可通过Java反射在客户端执行任意代码",
        solution: "API level 17及以上使用@JavascriptInterface注解；17以下移除addJavascriptInterface，改用prompt等方式交互",
        file: "classes.dex",
        src_type: 0,
        risk: 3,
    },
    Vul {
        id: "9",
        name: "SSL证书校验绕过风险",
        code: "<javax.net.ssl.X509TrustManager: void checkServerTrusted(java.security.cert.X509Certificate[],java.lang.String)>",
        desc: "自定义X509TrustManager未对服务器证书进行校验，可能导致中间人攻击，通信数据被窃取或篡改",
        solution: "在checkServerTrusted中严格校验证书链，不要信任所有证书",
        file: "classes.dex",
        src_type: 0,
        risk: 3,
    },
    Vul {
        id: "11",
        name: "HostnameVerifier主机名校验绕过",
        code: "<org.apache.http.conn.ssl.SSLSocketFactory: void setHostnameVerifier(org.apache.http.conn.ssl.X509HostnameVerifier)>",
        desc: "使用ALLOW_ALL_HOSTNAME_VERIFIER或自定义HostnameVerifier总是返回true，攻击者可冒充服务器",
        solution: "使用系统默认的主机名校验，或严格校验证书中的主机名",
        file: "classes.dex",
        src_type: 1,
        risk: 3,
    },
    Vul {
        id: "14",
        name: "Activity组件暴露风险",
        code: "exported activity without permission in AndroidManifest",
        desc: "Activity组件被导出且未做权限控制，第三方应用可直接启动该组件，可能导致敏感页面绕过或拒绝服务",
        solution: "不需要导出的组件设置android:exported=false；需要导出的组件添加权限控制",
        file: "AndroidManifest.xml",
        src_type: 0,
        risk: 1,
    },
    Vul {
        id: "15",
        name: "Service组件暴露风险",
        code: "exported service without permission in AndroidManifest",
        desc: "Service组件被导出且未做权限控制，第三方应用可启动或绑定该服务执行敏感操作",
        solution: "不需要导出的服务设置android:exported=false，或使用signature级别的权限保护",
        file: "AndroidManifest.xml",
        src_type: 0,
        risk: 1,
    },
    Vul {
        id: "16",
        name: "ContentProvider数据泄露风险",
        code: "exported content provider without permission in AndroidManifest",
        desc: "ContentProvider组件被导出且未设置读写权限，第三方应用可读取或修改其中的数据",
        solution: "设置android:exported=false，或为ContentProvider设置readPermission/writePermission",
        file: "AndroidManifest.xml",
        src_type: 0,
        risk: 2,
    },
    Vul {
        id: "22",
        name: "Broadcast Receiver组件暴露风险（含动态注册）",
        code: "<com.unity3d.player.UnityPlayer: void <init>(android.content.ContextWrapper)>",
        desc: "在android中使用Broadcast接收广播的过程中，当receiver没有进行合适的配置时，可能导致攻击者构造广播发送给被攻击receiver。导致被攻击应用接受到错误信息，从而导致进一步的危害。",
        solution: "1.如果应用的Receiver组件不必要导出，或者组件配置了intent filter标签，建议在AndroidManifest.xml文件中设置组件的“android:exported”属性为false\n2.如果组件必须要提供给外部应用使用，建议对组件进行权限控制",
        file: "classes.dex",
        src_type: 1,
        risk: 1,
    },
    Vul {
        id: "27",
        name: "日志泄露敏感信息风险",
        code: "<android.util.Log: int d(java.lang.String,java.lang.String)>",
        desc: "应用在日志中输出了敏感信息（账号、令牌等），可被其他应用或通过adb读取",
        solution: "发布版本中关闭调试日志，避免在日志中输出敏感信息",
        file: "classes.dex",
        src_type: 0,
        risk: 1,
    },
    Vul {
        id: "31",
        name: "SharedPreferences全局可读写漏洞",
        code: "<android.content.Context: android.content.SharedPreferences getSharedPreferences(java.lang.String,int)>",
        desc: "以MODE_WORLD_READABLE或MODE_WORLD_WRITEABLE模式创建SharedPreferences，其他应用可读取或篡改其中的数据",
        solution: "使用MODE_PRIVATE模式创建SharedPreferences",
        file: "classes.dex",
        src_type: 0,
        risk: 2,
    },
    Vul {
        id: "35",
        name: "ZIP文件目录遍历漏洞",
        code: "<java.util.zip.ZipEntry: java.lang.String getName()>",
        desc: "解压ZIP文件时未校验条目名中的../，攻击者可构造压缩包覆盖应用私有文件，导致任意代码执行",
        solution: "解压时校验ZipEntry名称，过滤包含../的条目",
        file: "lib/armeabi-v7a/libunzip.so",
        src_type: 1,
        risk: 3,
    },
    Vul {
        id: "40",
        name: "AES/DES弱加密风险",
        code: "<javax.crypto.Cipher: javax.crypto.Cipher getInstance(java.lang.String)>",
        desc: "使用ECB模式或硬编码密钥进行加密，加密数据容易被破解",
        solution: "使用CBC/GCM模式与随机IV，密钥不要硬编码在代码中",
        file: "classes2.dex",
        src_type: 0,
        risk: 2,
    },
];

const VIRUSES: &[(&str, &str)] = &[
    (
        "a.privacy.SmsThief",
        "该应用会在后台窃取用户短信并上传到远程服务器，存在隐私泄露风险",
    ),
    (
        "a.payment.FakePay",
        "该应用会在用户不知情的情况下订购扣费业务，造成资费消耗",
    ),
    (
        "a.rogue.AdPush",
        "该应用会在通知栏频繁推送广告并私自下载安装其他应用",
    ),
    (
        "a.remote.Backdoor",
        "该应用包含远程控制模块，可接收远程指令执行恶意行为",
    ),
];
const RISKS: &[(&str, &str)] = &[
    (
        "a.expense.SilentDownload",
        "该应用存在静默下载行为，可能消耗用户流量",
    ),
    (
        "a.privacy.ContactUpload",
        "该应用会上传用户通讯录，存在隐私风险",
    ),
];

/// (name, description) of ad plugins.
const AD_PLUGINS: &[(&str, &str)] = &[
    (
        "Pangle (穿山甲)",
        "字节跳动广告联盟SDK，提供开屏、插屏、横幅、激励视频等广告",
    ),
    (
        "GDT 优量汇",
        "腾讯广告联盟SDK，提供横幅、插屏、原生等广告形式",
    ),
    ("Baidu Mobads", "百度移动联盟广告SDK"),
    ("AdMob", "Google移动广告SDK"),
    ("Mintegral", "Mintegral程序化广告SDK"),
    ("Unity Ads", "Unity游戏广告SDK，提供激励视频广告"),
    ("Kuaishou Ads", "快手广告联盟SDK"),
    ("Umeng Push", "友盟推送SDK，可在通知栏推送营销消息"),
    ("Vungle", "Vungle视频广告SDK"),
    ("InMobi", "InMobi原生广告SDK"),
];

/// The AdInfo member for each plugin type (1..=6).
const AD_KINDS: &[(u64, &str)] = &[
    (1, "NotifyBars"),
    (2, "IntegralWalls"),
    (3, "Banners"),
    (4, "FloatWindowses"),
    (5, "BoutiqueRecommands"),
    (6, "Spots"),
];

const PERMISSIONS: &[&str] = &[
    "android.permission.ACCESS_NETWORK_STATE",
    "android.permission.ACCESS_WIFI_STATE",
    "android.permission.READ_EXTERNAL_STORAGE",
    "android.permission.WRITE_EXTERNAL_STORAGE",
    "android.permission.CAMERA",
    "android.permission.RECORD_AUDIO",
    "android.permission.ACCESS_FINE_LOCATION",
    "android.permission.ACCESS_COARSE_LOCATION",
    "android.permission.READ_PHONE_STATE",
    "android.permission.READ_CONTACTS",
    "android.permission.READ_SMS",
    "android.permission.SEND_SMS",
    "android.permission.CALL_PHONE",
    "android.permission.VIBRATE",
    "android.permission.WAKE_LOCK",
    "android.permission.RECEIVE_BOOT_COMPLETED",
    "android.permission.SYSTEM_ALERT_WINDOW",
    "android.permission.REQUEST_INSTALL_PACKAGES",
    "android.permission.BLUETOOTH",
    "android.permission.GET_TASKS",
];

const SENSITIVE_WORDS: &[&str] = &[
    "赌博",
    "六合彩",
    "代开发票",
    "手槍",
    "刷单",
    "套现",
    "私服",
    "外挂",
];
const SENSITIVE_FILES: &[&str] = &[
    "resources.arsc",
    "assets/config.json",
    "assets/www/index.html",
    "res/raw/notice.txt",
    "classes.dex",
];

/// Virus verdict: (SafeType, VirusName, VirusDesc). Most apps safe, some risky, a few viruses.
fn virus_verdict(md5: &str) -> (SafeType, &'static str, &'static str) {
    let mut r = Prng::from_md5(md5);
    r.next_u64(); // separate stream from app_details
    let roll = Prng::from_seed(r.next_u64() ^ 0x0076_6972_7573).unit();
    // Roughly what app-store scans report: most apps safe, some risky (aggressive SDKs,
    // riskware), a few malicious.
    if roll < 0.84 {
        (SafeType::Safe, "", "")
    } else if roll < 0.95 {
        let (n, d) = *r.pick(RISKS);
        (SafeType::Risky, n, d)
    } else {
        let (n, d) = *r.pick(VIRUSES);
        (SafeType::Virus, n, d)
    }
}

/// The scan types a task asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct ScanTypes {
    pub vul: bool,
    pub virus: bool,
    pub ad: bool,
    pub plugin: bool,
    pub permission: bool,
    pub sensitive: bool,
}

impl ScanTypes {
    pub(crate) fn from_names(names: &[String]) -> Self {
        let mut t = Self::default();
        for n in names {
            match n.as_str() {
                "VULSCAN" => t.vul = true,
                "VIRUSSCAN" => t.virus = true,
                "ADSCAN" => t.ad = true,
                "PLUGINSCAN" => t.plugin = true,
                "PERMISSION" => t.permission = true,
                "SENSITIVE" => t.sensitive = true,
                _ => {}
            }
        }
        t
    }
}

/// Names accepted in `ScanInfo.ScanTypes`.
pub(crate) const SCAN_TYPE_NAMES: &[&str] = &[
    "VULSCAN",
    "VIRUSSCAN",
    "ADSCAN",
    "PLUGINSCAN",
    "PERMISSION",
    "SENSITIVE",
];

/// Findings for one finished scan.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Findings {
    pub vul_info: Value,
    pub vul_count: u64,
    pub virus_info: Value,
    pub safe_type: u64,
    pub ad_info: Value,
    pub permission_info: Value,
    pub sensitive_info: Value,
}

/// [`Findings`] serialized, member by member (what DescribeScanResults embeds).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FindingsJson {
    pub vul_info: String,
    pub virus_info: String,
    pub ad_info: String,
    pub permission_info: String,
    pub sensitive_info: String,
}

impl From<&Findings> for FindingsJson {
    fn from(f: &Findings) -> Self {
        Self {
            vul_info: f.vul_info.to_string(),
            virus_info: f.virus_info.to_string(),
            ad_info: f.ad_info.to_string(),
            permission_info: f.permission_info.to_string(),
            sensitive_info: f.sensitive_info.to_string(),
        }
    }
}

/// Empty findings (scan not finished, or failed).
pub(crate) fn empty_findings() -> Findings {
    Findings {
        vul_info: json!({"VulList": [], "VulFileScore": 0}),
        vul_count: 0,
        virus_info: json!({"SafeType": 0, "VirusName": "", "VirusDesc": ""}),
        safe_type: 0,
        ad_info: empty_ad_info(),
        permission_info: json!({"PermissionList": []}),
        sensitive_info: json!({"SensitiveList": []}),
    }
}

fn empty_ad_info() -> Value {
    let mut m = serde_json::Map::new();
    for (_, k) in AD_KINDS {
        m.insert((*k).to_owned(), json!([]));
    }
    Value::Object(m)
}

/// `(SafeType, VulCount)` of a finished scan, as [`findings`] reports them, without building
/// the full result (for DescribeScanInstances listings).
pub(crate) fn summary(md5: &str, types: ScanTypes) -> (u64, u64) {
    let base = Prng::from_md5(md5).next_u64();
    let mut r = Prng::from_seed(base ^ 0xA24B_AED4_963E_E407);
    let vul_count = if types.vul { 1 + r.below(6) } else { 0 };
    let safe_type = if types.virus {
        virus_verdict(md5).0.code()
    } else {
        0
    };
    (safe_type, vul_count)
}

pub(crate) fn findings(md5: &str, types: ScanTypes) -> Findings {
    let mut f = empty_findings();
    // Each finding family has its own stream, so asking for more scan types never changes
    // the findings of another type.
    let base = Prng::from_md5(md5).next_u64();
    let stream = |n: u64| Prng::from_seed(base ^ n.wrapping_mul(0xA24B_AED4_963E_E407));

    // Vulnerabilities (always at least one, as in every real report the service produced).
    let mut r = stream(1);
    let n = 1 + r.below(6) as usize;
    let vuls: Vec<&Vul> = r
        .sample(VULS.len(), n)
        .into_iter()
        .map(|i| &VULS[i])
        .collect();
    let penalty: u64 = vuls.iter().map(|v| v.risk * 8).sum();
    if types.vul {
        f.vul_count = vuls.len() as u64;
        f.vul_info = json!({
            "VulList": vuls.iter().map(|v| json!({
                "VulId": v.id,
                "VulName": v.name,
                "VulCode": v.code,
                "VulDesc": v.desc,
                "VulSolution": v.solution,
                "VulSrcType": v.src_type,
                "VulFilepath": v.file,
                "RiskLevel": v.risk,
            })).collect::<Vec<_>>(),
            "VulFileScore": 100u64.saturating_sub(penalty).max(10),
        });
    }

    // Virus verdict.
    let (safe, vname, vdesc) = virus_verdict(md5);
    if types.virus {
        f.safe_type = safe.code();
        f.virus_info = json!({"SafeType": safe.code(), "VirusName": vname, "VirusDesc": vdesc});
    }

    // Ad plugins by kind.
    if types.ad || types.plugin {
        let mut r = stream(2);
        let count = r.below(5) as usize;
        let mut ad = empty_ad_info();
        for i in r.sample(AD_PLUGINS.len(), count) {
            let (kind, member) = *r.pick(AD_KINDS);
            let (name, desc) = AD_PLUGINS[i];
            if let Some(Value::Array(list)) = ad.get_mut(member) {
                list.push(json!({"PluginType": kind, "PluginName": name, "PluginDesc": desc}));
            }
        }
        f.ad_info = ad;
    }

    // Permissions (INTERNET always).
    if types.permission {
        let mut r = stream(3);
        let count = 2 + r.below(10) as usize;
        let mut list = vec![json!({"Permission": "android.permission.INTERNET"})];
        for i in r.sample(PERMISSIONS.len(), count) {
            list.push(json!({"Permission": PERMISSIONS[i]}));
        }
        f.permission_info = json!({"PermissionList": list});
    }

    // Sensitive words.
    if types.sensitive {
        let mut r = stream(4);
        let files = r.below(3) as usize;
        let mut list = Vec::new();
        for i in r.sample(SENSITIVE_FILES.len(), files) {
            let words = 1 + r.below(3) as usize;
            let word_list: Vec<&str> = r
                .sample(SENSITIVE_WORDS.len(), words)
                .into_iter()
                .map(|w| SENSITIVE_WORDS[w])
                .collect();
            let dir = r.hex(40);
            list.push(json!({
                "WordList": word_list,
                "FilePath": format!("{dir}/{}", SENSITIVE_FILES[i]),
                "FileSha": r.hex(40),
            }));
        }
        f.sensitive_info = json!({"SensitiveList": list});
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: ScanTypes = ScanTypes {
        vul: true,
        virus: true,
        ad: true,
        plugin: true,
        permission: true,
        sensitive: true,
    };

    fn md5(i: u32) -> String {
        use md5::Digest;
        hex::encode(md5::Md5::digest(i.to_le_bytes()))
    }

    #[test]
    fn same_md5_same_findings() {
        let a = findings("dd5b29a800246d7089febf228286d901", ALL);
        let b = findings("dd5b29a800246d7089febf228286d901", ALL);
        assert_eq!(a, b);
    }

    #[test]
    fn findings_are_varied() {
        let mut safe = [0u32; 4];
        let mut vul_counts = std::collections::BTreeSet::new();
        let mut with_ads = 0;
        for i in 0..300 {
            let f = findings(&md5(i), ALL);
            safe[f.safe_type as usize] += 1;
            vul_counts.insert(f.vul_count);
            if f.ad_info
                .as_object()
                .unwrap()
                .values()
                .any(|v| !v.as_array().unwrap().is_empty())
            {
                with_ads += 1;
            }
        }
        assert!(safe[1] > 150, "{safe:?}");
        assert!(safe[2] > 10 && safe[3] > 5, "{safe:?}");
        assert!(vul_counts.len() >= 5, "{vul_counts:?}");
        assert!(with_ads > 100 && with_ads < 300);
    }

    #[test]
    fn summary_matches_findings() {
        for i in 0..200 {
            let m = md5(i);
            for types in [
                ALL,
                ScanTypes {
                    vul: true,
                    ..Default::default()
                },
                ScanTypes::default(),
            ] {
                let f = findings(&m, types);
                assert_eq!(summary(&m, types), (f.safe_type, f.vul_count));
            }
        }
    }

    #[test]
    fn scan_types_select_families_without_changing_others() {
        let m = md5(7);
        let only_vul = findings(
            &m,
            ScanTypes {
                vul: true,
                ..Default::default()
            },
        );
        let all = findings(&m, ALL);
        assert_eq!(only_vul.vul_info, all.vul_info);
        assert_eq!(only_vul.virus_info, empty_findings().virus_info);
        assert_eq!(only_vul.permission_info, json!({"PermissionList": []}));
    }

    #[test]
    fn app_details_keep_submitted_values() {
        let app = SubmittedApp {
            app_md5: md5(1),
            app_name: Some("Mine".into()),
            app_size: Some(1024),
            ..Default::default()
        };
        let d = app_details(&app);
        assert_eq!(d.app_name, "Mine");
        assert_eq!(d.app_size, 1024);
        assert!(d.app_pkg_name.starts_with("com."));
        assert_eq!(d, app_details(&app));
    }
}
