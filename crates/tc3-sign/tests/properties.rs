//! Property tests: no panics, calendar correctness, sensitivity of the signature to every
//! signed byte, sign → verify round trips, and a transparent key cache.

use proptest::prelude::*;
use tc3_sign::{
    Credentials, Payload, ReceivedTc3, Tc3Request, Tc3Signer, V1Method, VerifyError,
    flatten_params, form_urldecode, form_urlencode, parse_authorization, sign_tc3, sign_v1,
    utc_date, v1_string_to_sign, verify_tc3, verify_v1,
};

/// Last second of 9999-12-31 UTC.
const MAX_4_DIGIT_YEAR_TS: u64 = 253_402_300_799;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Independent oracle: the `time` crate.
fn oracle_date(ts: u64) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(ts as i64).expect("in range");
    format!(
        "{:04}-{:02}-{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day()
    )
}

#[test]
fn utc_date_matches_oracle_for_every_day_to_9999() {
    // utc_date depends on ts / 86400 only; check the first and last second of every day
    // from 1970-01-01 to 9999-12-31 against the oracle (the proptest below samples
    // arbitrary seconds in between).
    let days = (MAX_4_DIGIT_YEAR_TS + 1) / 86_400;
    let mut date = time::Date::from_calendar_date(1970, time::Month::January, 1).unwrap();
    for day in 0..days {
        let want = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        let start = day * 86_400;
        assert_eq!(utc_date(start), want, "ts {start}");
        assert_eq!(utc_date(start + 86_399), want, "ts {}", start + 86_399);
        if let Some(next) = date.next_day() {
            date = next;
        }
    }
    assert_eq!(utc_date(MAX_4_DIGIT_YEAR_TS), "9999-12-31");
}

/// Printable header-ish text without control characters.
fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,40}"
}

fn nonempty_token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._-]{1,20}"
}

#[derive(Debug, Clone)]
struct Case {
    method: String,
    path: String,
    host: String,
    query: String,
    content_type: String,
    body: Vec<u8>,
    unsigned: bool,
    service: String,
    secret_id: String,
    secret_key: String,
    token: Option<String>,
    timestamp: u64,
}

impl Case {
    fn request(&self) -> Tc3Request<'_> {
        Tc3Request {
            method: &self.method,
            host: &self.host,
            path: &self.path,
            query: &self.query,
            content_type: &self.content_type,
            payload: if self.unsigned {
                Payload::Unsigned
            } else {
                Payload::Bytes(&self.body)
            },
        }
    }

    fn creds(&self) -> Credentials {
        let c = Credentials::new(self.secret_id.as_str(), self.secret_key.as_str()).unwrap();
        match &self.token {
            Some(t) => c.with_token(t.as_str()),
            None => c,
        }
    }

    fn signature(&self) -> String {
        sign_tc3(
            &self.request(),
            &self.creds(),
            &self.service,
            self.timestamp,
        )
        .unwrap()
        .signature()
        .to_owned()
    }
}

fn valid_case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![
            Just("POST".to_owned()),
            Just("GET".to_owned()),
            "[A-Z]{1,7}"
        ],
        prop_oneof![Just("/".to_owned()), "/[A-Za-z0-9/._~-]{0,20}"],
        "[a-z0-9.-]{1,30}",
        "[A-Za-z0-9._~%&=+-]{0,60}",
        prop_oneof![
            Just("application/json".to_owned()),
            Just("application/octet-stream".to_owned()),
            "multipart/form-data; boundary=[0-9a-f]{32}",
            text(),
        ],
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
        "[a-z]{1,8}",
        nonempty_token(),
        "[ -~]{0,10}[!-~]",
        proptest::option::of(nonempty_token()),
        0..=MAX_4_DIGIT_YEAR_TS,
    )
        .prop_map(
            |(
                method,
                path,
                host,
                query,
                content_type,
                body,
                unsigned,
                service,
                secret_id,
                secret_key,
                token,
                timestamp,
            )| Case {
                method,
                path,
                host,
                query,
                content_type,
                body,
                unsigned,
                service,
                secret_id,
                secret_key: format!("k{secret_key}"),
                token,
                timestamp,
            },
        )
}

/// Replaces the character at `idx % len` with a different one whose lower case also
/// differs (the verifier treats header values case-insensitively as documented).
fn change_char(s: &str, idx: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return "z".to_owned();
    }
    let i = idx % chars.len();
    let c = chars[i].to_ascii_lowercase();
    chars[i] = if c == 'a' { 'b' } else { 'a' };
    chars.into_iter().collect()
}

fn received_headers(case: &Case, sig: &tc3_sign::Tc3Signature) -> Vec<(String, String)> {
    let mut h = vec![
        ("Content-Type".to_owned(), case.content_type.clone()),
        ("Host".to_owned(), case.host.clone()),
    ];
    h.extend(sig.headers().into_iter().map(|(n, v)| (n.to_owned(), v)));
    h
}

fn verify_case(
    case: &Case,
    headers: &[(String, String)],
    authorization: &str,
    key: &str,
    service: &str,
) -> Result<(), VerifyError> {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    verify_tc3(
        &ReceivedTc3 {
            method: &case.method,
            path: &case.path,
            query: &case.query,
            headers: &headers,
            body: &case.body,
            timestamp: case.timestamp,
            authorization,
        },
        key,
        service,
    )
}

/// The official SDKs whose TC3 canonicalizations differ (see `docs/sdk-signing.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sdk {
    /// Python (`tencentcloud-sdk-python-common` 3.1.195) and Go (v1.0.650 / v1.3.166): service
    /// `ms`, host and content type verbatim.
    PythonGo,
    /// Java 3.2.11: service from the endpoint, `application/json; charset=utf-8`.
    Java,
    /// PHP 3.0.1656: service from the endpoint, `application/json`.
    Php,
    /// .NET 3.0.1493: service from the endpoint; `Authorization` sent as
    /// `AuthenticationHeaderValue("TC3-HMAC-SHA256", " Credential=...")`, two spaces.
    DotNet,
    /// Node.js 4.0.576: service from the endpoint, host name signed without the port.
    Node,
}

#[derive(Debug, Clone)]
struct SdkCase {
    sdk: Sdk,
    endpoint: String,
    method: String,
    path: String,
    query: String,
    body: Vec<u8>,
    timestamp: u64,
    key: String,
    service: String,
}

impl SdkCase {
    /// (received headers, Authorization) as this SDK sends them.
    fn sign(&self) -> (Vec<(String, String)>, String) {
        let first_label = self.endpoint.split('.').next().unwrap().to_owned();
        let content_type = match (self.sdk, self.method.as_str()) {
            (_, "GET") => "application/x-www-form-urlencoded",
            (Sdk::Java, _) => "application/json; charset=utf-8",
            _ => "application/json",
        };
        // Node.js: `new URL(url)`: lower-cased; `hostname` has no port, `host` keeps it.
        let hostname = |h: &str| -> String {
            let h = h.to_ascii_lowercase();
            match h.rfind(':') {
                Some(i) if !h.ends_with(']') => h[..i].to_owned(),
                _ => h,
            }
        };
        let (signed_host, sent_host) = match self.sdk {
            Sdk::Node => (hostname(&self.endpoint), self.endpoint.to_ascii_lowercase()),
            _ => (self.endpoint.clone(), self.endpoint.clone()),
        };
        let service = match self.sdk {
            Sdk::PythonGo => "ms".to_owned(),
            _ => first_label,
        };
        assert_eq!(service, self.service);
        let creds = Credentials::new("AKIDEXAMPLE", self.key.as_str()).unwrap();
        let req = Tc3Request {
            method: &self.method,
            host: &signed_host,
            path: &self.path,
            query: &self.query,
            content_type,
            payload: Payload::Bytes(&self.body),
        };
        let sig = sign_tc3(&req, &creds, &service, self.timestamp).unwrap();
        let mut auth = sig.authorization().to_owned();
        if self.sdk == Sdk::DotNet {
            auth = auth.replacen("TC3-HMAC-SHA256 ", "TC3-HMAC-SHA256  ", 1);
        }
        let headers = vec![
            ("Content-Type".to_owned(), content_type.to_owned()),
            ("Host".to_owned(), sent_host),
            ("X-TC-Action".to_owned(), "DescribeScanInstances".to_owned()),
            ("X-TC-Timestamp".to_owned(), self.timestamp.to_string()),
        ];
        (headers, auth)
    }

    #[allow(clippy::too_many_arguments)]
    fn verify(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(String, String)],
        body: &[u8],
        timestamp: u64,
        authorization: &str,
        key: &str,
    ) -> Result<(), VerifyError> {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let req = ReceivedTc3 {
            method,
            path,
            query,
            headers: &headers,
            body,
            timestamp,
            authorization,
        };
        let uncached = verify_tc3(&req, key, "ms");
        assert_eq!(
            uncached,
            Tc3Signer::new().verify(&req, key, "ms"),
            "cached and uncached disagree"
        );
        uncached
    }
}

fn sdk_case() -> impl Strategy<Value = SdkCase> {
    (
        prop_oneof![
            Just(Sdk::PythonGo),
            Just(Sdk::Java),
            Just(Sdk::Php),
            Just(Sdk::DotNet),
            Just(Sdk::Node)
        ],
        prop_oneof![
            (1024..65535u16).prop_map(|p| format!("127.0.0.1:{p}")),
            (1024..65535u16).prop_map(|p| format!("localhost:{p}")),
            (1024..65535u16).prop_map(|p| format!("[::1]:{p}")),
            Just("ms.tencentcloudapi.com".to_owned()),
            Just("ms.ap-guangzhou.tencentcloudapi.com".to_owned()),
            Just("localhost".to_owned()),
        ],
        any::<bool>(),
        "[A-Za-z0-9.=&%+_-]{0,40}",
        proptest::collection::vec(any::<u8>(), 0..200),
        1_500_000_000..2_000_000_000u64,
        "[!-~]{1,30}",
    )
        .prop_map(|(sdk, endpoint, post, query, body, timestamp, key)| {
            let service = match sdk {
                Sdk::PythonGo => "ms".to_owned(),
                _ => endpoint.split('.').next().unwrap().to_owned(),
            };
            SdkCase {
                sdk,
                endpoint,
                method: if post { "POST" } else { "GET" }.to_owned(),
                path: "/".to_owned(),
                query: if post { String::new() } else { query },
                body: if post { body } else { Vec::new() },
                timestamp,
                key,
                service,
            }
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn utc_date_matches_oracle_for_any_second(ts in 0..=MAX_4_DIGIT_YEAR_TS) {
        prop_assert_eq!(utc_date(ts), oracle_date(ts));
    }

    #[test]
    fn utc_date_never_panics(ts in any::<u64>()) {
        let d = utc_date(ts);
        prop_assert!(d.len() >= 10);
    }

    #[test]
    fn signing_arbitrary_input_never_panics(
        method in ".{0,8}", host in ".{0,20}", path in ".{0,8}", query in ".{0,40}",
        content_type in ".{0,30}", body in proptest::collection::vec(any::<u8>(), 0..64),
        unsigned in any::<bool>(), service in ".{0,8}", id in ".{0,10}", key in ".{0,10}",
        token in proptest::option::of(".{0,10}"), ts in any::<u64>(),
    ) {
        if let Ok(mut creds) = Credentials::new(id, key) {
            if let Some(t) = token {
                creds = creds.with_token(t);
            }
            let req = Tc3Request {
                method: &method, host: &host, path: &path, query: &query, content_type: &content_type,
                payload: if unsigned { Payload::Unsigned } else { Payload::Bytes(&body) },
            };
            let signer = Tc3Signer::new();
            let a = sign_tc3(&req, &creds, &service, ts);
            let b = signer.sign(&req, &creds, &service, ts);
            match (a, b) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a.authorization(), b.authorization()),
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "cached and uncached disagree: {:?} vs {:?}", a, b),
            }
        }
    }

    #[test]
    fn parsing_and_verifying_arbitrary_strings_never_panics(
        auth in ".{0,200}", method in ".{0,8}", query in ".{0,40}",
        names in proptest::collection::vec(".{0,12}", 0..4), values in proptest::collection::vec(".{0,12}", 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..64), ts in any::<u64>(), key in ".{0,10}", service in ".{0,8}",
    ) {
        let _ = parse_authorization(&auth);
        let headers: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(values.iter().map(String::as_str)).collect();
        let req = ReceivedTc3 { method: &method, path: "/", query: &query, headers: &headers, body: &body, timestamp: ts, authorization: &auth };
        let _ = verify_tc3(&req, &key, &service);
        let _ = Tc3Signer::new().verify(&req, &key, &service);
        let _ = form_urldecode(&auth);
        if let Ok(pairs) = form_urldecode(&query) {
            let _ = verify_v1(&method, &service, "/", &pairs, &key);
        }
    }

    #[test]
    fn structured_authorization_mutations_never_panic(
        prefix in "(TC3-HMAC-SHA256)?[ ,=/;]{0,3}", id in "[ -~]{0,12}", date in "[0-9-]{0,12}",
        service in "[a-z/]{0,6}", sh in "[a-z;-]{0,30}", sig in "[0-9a-fA-F]{0,70}", sep in "[ ,]{0,3}",
        ts in any::<u64>(),
    ) {
        let auth = format!("{prefix} Credential={id}/{date}/{service}/tc3_request{sep}SignedHeaders={sh}{sep}Signature={sig}");
        let _ = parse_authorization(&auth);
        let headers = [("content-type", "a"), ("host", "h"), ("x-tc-action", "A")];
        let req = ReceivedTc3 { method: "POST", path: "/", query: "", headers: &headers, body: b"", timestamp: ts, authorization: &auth };
        let _ = verify_tc3(&req, "k", "ms");
    }

    #[test]
    fn flatten_and_form_never_panic_and_round_trip(
        pairs in proptest::collection::vec((".{0,12}", ".{0,12}"), 0..8),
        json in "[\\[\\]{}\":,0-9a-z. -]{0,60}",
    ) {
        prop_assert_eq!(form_urldecode(&form_urlencode(&pairs)).unwrap(), pairs.clone());
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&json) {
            let _ = flatten_params(&v);
        }
        let _ = v1_string_to_sign("GET", "h", "/", &pairs);
    }

    #[test]
    fn changing_any_signed_byte_changes_the_signature(case in valid_case(), which in 0..9usize, idx in any::<usize>(), delta in 1..1_000_000u64) {
        let original = case.signature();
        let mut changed = case.clone();
        match which {
            0 => {
                if case.unsigned {
                    // Body not signed: signing it instead must change the signature.
                    changed.unsigned = false;
                } else if case.body.is_empty() {
                    changed.body.push(0);
                } else {
                    let i = idx % case.body.len();
                    changed.body[i] ^= 1 << (idx % 8);
                }
            }
            1 => changed.query = if case.query.is_empty() { "a".to_owned() } else { change_char(&case.query, idx) },
            2 => changed.host = change_char(&case.host, idx),
            3 => changed.content_type = if case.content_type.is_empty() { "a".to_owned() } else { change_char(&case.content_type, idx) },
            4 => changed.timestamp = case.timestamp.wrapping_add(delta),
            5 => changed.service = change_char(&case.service, idx),
            6 => changed.method = change_char(&case.method, idx).to_ascii_uppercase(),
            7 => changed.path = format!("{}{}", case.path, if idx % 2 == 0 { "/" } else { "x" }),
            _ => changed.secret_key.push('x'),
        }
        prop_assert_ne!(changed.signature(), original, "change #{} went unnoticed", which);
    }

    #[test]
    fn sign_then_verify_holds_and_any_single_change_is_rejected(case in valid_case(), which in 0..15usize, idx in any::<usize>(), delta in 1..1_000_000u64) {
        let creds = case.creds();
        let sig = sign_tc3(&case.request(), &creds, &case.service, case.timestamp).unwrap();
        let headers = received_headers(&case, &sig);
        let mut received = case.clone();
        if case.unsigned {
            // The body is not signed: any body is accepted.
            received.body = b"anything".to_vec();
        }
        prop_assert_eq!(verify_case(&received, &headers, sig.authorization(), creds.secret_key(), &case.service), Ok(()));
        // Cached verification agrees.
        let hv: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let cached = Tc3Signer::new().verify(&ReceivedTc3 {
            method: &received.method, path: &received.path, query: &received.query, headers: &hv, body: &received.body,
            timestamp: received.timestamp, authorization: sig.authorization(),
        }, creds.secret_key(), &case.service);
        prop_assert_eq!(cached, Ok(()));

        let mut changed = received.clone();
        let mut headers2 = headers.clone();
        let mut auth = sig.authorization().to_owned();
        let mut key = creds.secret_key().to_owned();
        let mut service = case.service.clone();
        match which {
            0 => {
                if case.unsigned {
                    // Dropping X-TC-Content-SHA256 makes the body signed, and it was not.
                    headers2.retain(|(n, _)| n != "X-TC-Content-SHA256");
                } else {
                    changed.body.push(b'x');
                }
            }
            1 => changed.query.push('x'),
            2 => headers2[1].1 = change_char(&case.host, idx),
            3 => headers2[0].1 = format!("{}x", case.content_type),
            4 => changed.timestamp = case.timestamp.wrapping_add(delta),
            5 => service = change_char(&case.service, idx),
            6 => changed.method = format!("{}X", case.method),
            7 => {
                let i = auth.len() - 1 - idx % 64;
                let c = if &auth[i..=i] == "0" { "1" } else { "0" };
                auth.replace_range(i..=i, c);
            }
            8 => key.push('x'),
            9 => headers2.retain(|(n, _)| n != "Host"),
            // Byte-level changes inside the signed parts, not only appends.
            10 => {
                if case.unsigned || case.body.is_empty() {
                    changed.path.push('x');
                } else {
                    let i = idx % case.body.len();
                    changed.body[i] ^= 1 << (idx % 8);
                }
            }
            11 => changed.query = if case.query.is_empty() { "a".to_owned() } else { change_char(&case.query, idx) },
            12 => changed.path = format!("{}x", case.path),
            13 => changed.method = change_char(&case.method, idx).to_ascii_uppercase(),
            // A header value changed in more than case or outer whitespace.
            _ => headers2[0].1 = if case.content_type.is_empty() { "a".to_owned() } else { change_char(&case.content_type, idx) },
        }
        let result = verify_case(&changed, &headers2, &auth, &key, &service);
        // The scope's service is also accepted when it is what the Node.js/Java/PHP/.NET SDKs
        // derive from the Host (its first label): then expecting another service changes nothing.
        let derived = which == 5
            && !case.host.ends_with(".tencentcloudapi.com")
            && case.service.eq_ignore_ascii_case(case.host.split('.').next().unwrap_or(""));
        if derived {
            prop_assert_eq!(result, Ok(()));
        } else {
            prop_assert!(result.is_err(), "change #{} accepted", which);
        }
    }

    #[test]
    fn every_official_sdk_style_verifies_and_any_signed_change_is_rejected(case in sdk_case(), which in 0..13usize, idx in any::<usize>(), delta in 1..100_000u64) {
        let (headers, auth) = case.sign();
        prop_assert_eq!(case.verify(&case.method, &case.path, &case.query, &headers, &case.body, case.timestamp, &auth, &case.key), Ok(()),
            "{:?} not accepted", case.sdk);
        let mut method = case.method.clone();
        let mut path = case.path.clone();
        let mut query = case.query.clone();
        let mut headers2 = headers.clone();
        let mut body = case.body.clone();
        let mut ts = case.timestamp;
        let mut auth2 = auth.clone();
        let mut key = case.key.clone();
        // Whether the change touches something this SDK does not sign (Node.js: the port).
        let mut unsigned_part = false;
        match which {
            0 => if body.is_empty() { body.push(b'x') } else { let i = idx % body.len(); body[i] ^= 1 << (idx % 8) },
            1 => query = format!("{query}x"),
            2 => method = if method == "POST" { "GET".into() } else { "POST".into() },
            3 => path = format!("{path}x"),
            4 => ts = ts.wrapping_add(delta),
            5 => {
                // A character of the host name (not of the port).
                let host = &mut headers2[1].1;
                let name_len = host.rfind(':').filter(|_| !host.ends_with(']')).unwrap_or(host.len());
                let i = idx % name_len;
                let c = if host.as_bytes()[i] == b'7' { "8" } else { "7" };
                host.replace_range(i..=i, c);
            }
            6 => {
                // The port. A signature over a host name without a port (Node.js always, the
                // others when their endpoint has none) holds for any port, as long as the scope's
                // service is still accepted for the new Host (`ms`, or the Host's first label,
                // which for `localhost:8443` includes the port).
                let host = &mut headers2[1].1;
                let had_port = host.rfind(':').is_some() && !host.ends_with(']');
                if had_port { host.push('1') } else { host.push_str(":1") }
                let header_ok = !had_port || case.sdk == Sdk::Node;
                let service_ok = case.service == "ms"
                    || (!host.ends_with(".tencentcloudapi.com")
                        && case.service.eq_ignore_ascii_case(host.split('.').next().unwrap()));
                unsigned_part = header_ok && service_ok;
            }
            7 => headers2[0].1 = format!("{}x", headers2[0].1),
            8 => {
                let i = auth2.len() - 1 - idx % 64;
                let c = if &auth2[i..=i] == "0" { "1" } else { "0" };
                auth2.replace_range(i..=i, c);
            }
            9 => key.push('x'),
            10 => auth2 = auth2.replacen(&format!("/{}/tc3_request", case.service), &format!("/{}x/tc3_request", case.service), 1),
            11 => headers2.retain(|(n, _)| n != "Host"),
            _ => auth2 = auth2.replacen("SignedHeaders=content-type;host", "SignedHeaders=content-type;host;x-tc-action", 1),
        }
        let result = case.verify(&method, &path, &query, &headers2, &body, ts, &auth2, &key);
        if unsigned_part {
            prop_assert_eq!(result, Ok(()));
        } else {
            prop_assert!(result.is_err(), "{:?}: change #{} accepted", case.sdk, which);
        }
    }

    #[test]
    fn cache_never_changes_a_result(
        keys in proptest::collection::vec(0..20usize, 1..40), days in proptest::collection::vec(0..30u64, 1..40),
        body in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let signer = Tc3Signer::new();
        for (i, (k, d)) in keys.iter().zip(days.iter().cycle()).enumerate() {
            let creds = Credentials::new("AKID", format!("key-{k}")).unwrap();
            let service = ["ms", "cvm", "cls"][i % 3];
            let ts = 1_700_000_000 + d * 86_400 + (i as u64 * 37) % 86_400;
            let req = Tc3Request { method: "POST", host: "ms.tencentcloudapi.com", path: "/", query: "", content_type: "application/json", payload: Payload::Bytes(&body) };
            let cached = signer.sign(&req, &creds, service, ts).unwrap();
            let uncached = sign_tc3(&req, &creds, service, ts).unwrap();
            prop_assert_eq!(cached.authorization(), uncached.authorization());
            prop_assert!(signer.cached_keys() <= 8);
        }
    }

    #[test]
    fn v1_sign_then_verify_and_reject_changes(
        names in proptest::collection::btree_set("[A-Za-z0-9]{1,8}", 1..8),
        values in proptest::collection::vec(".{0,12}", 8),
        sha256 in any::<bool>(), idx in any::<usize>(), key in "[!-~]{1,20}",
    ) {
        let method = if sha256 { V1Method::HmacSha256 } else { V1Method::HmacSha1 };
        let mut params: Vec<(String, String)> = names.into_iter().zip(values).collect();
        params.push(("SignatureMethod".to_owned(), method.as_str().to_owned()));
        let sts = v1_string_to_sign("POST", "ms.tencentcloudapi.com", "/", &params);
        params.push(("Signature".to_owned(), sign_v1(method, &key, &sts)));
        let decoded = form_urldecode(&form_urlencode(&params)).unwrap();
        prop_assert_eq!(verify_v1("POST", "ms.tencentcloudapi.com", "/", &decoded, &key), Ok(()));
        let mut changed = decoded.clone();
        let i = idx % (changed.len() - 2);
        changed[i].1.push('x');
        prop_assert_eq!(verify_v1("POST", "ms.tencentcloudapi.com", "/", &changed, &key), Err(VerifyError::SignatureMismatch));
        prop_assert_eq!(verify_v1("POST", "ms.tencentcloudapi.com", "/", &decoded, &format!("{key}x")), Err(VerifyError::SignatureMismatch));
        prop_assert_eq!(verify_v1("POST", "ms.tencentcloudapi.Com", "/", &decoded, &key), Err(VerifyError::SignatureMismatch));
    }
}
