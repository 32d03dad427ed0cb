//! Whole requests through the emulator's gateway (header checks, TC3 or legacy
//! authentication, decoding of JSON bodies, queries and forms, validation, the action), signed
//! by this target so that the fuzzer gets past the signature.
//!
//! Input (UTF-8), one of:
//! * `tc3-post <Action>\n<JSON body>`: TC3-signed POST of that body;
//! * `tc3-get <Action>\n<query>`: TC3-signed GET with that raw query;
//! * `v1-post <Action>\n<form>` / `v1-get <Action>\n<form>`: the form's parameters plus the
//!   common ones, HmacSHA256-signed (`v1-post-sha1`, `v1-get-sha1`: HmacSHA1);
//! * `raw <METHOD> <path>[?query]\n<Name: value lines>\n\n<body>`: sent as given, unsigned
//!   unless the input carries an `Authorization` or a `Signature` itself.
//!
//! A trailing ` tamper` on the first line of a signed mode changes one character of the
//! signature: the request must then be refused.
//!
//! Beyond "no panic": every reply is the official envelope with a RequestId; error codes are
//! documented ones (`ms_model::ErrorCode`, not `Other`); a success of a signed request matches
//! the action's response model (`ms_model::check_response_json`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ms_emulator::fuzzing::{Gateway, Reply};
use tc3_sign::{Credentials, Payload, Tc3Request, V1Method};

const ID: &str = "AKIDfuzz0000000000000000000000000000";
const KEY: &str = "fuzzSecretKey000000000000000000000";
const NOW: u64 = 1_767_225_600;
const HOST: &str = "127.0.0.1:8443";

fn tamper(sig: &str) -> String {
    let mut s = sig.to_owned();
    let last = s.pop().unwrap_or('0');
    s.push(if last == '0' { '1' } else { '0' });
    s
}

fn tc3(g: &Gateway, method: &str, action: &str, payload: &str, tampered: bool) -> Reply {
    let (query, body, ct) = if method == "GET" {
        (payload, "", "application/x-www-form-urlencoded")
    } else {
        ("", payload, "application/json")
    };
    let creds = Credentials::new(ID, KEY).expect("credentials");
    let req = Tc3Request {
        method,
        host: HOST,
        path: "/",
        query,
        content_type: ct,
        payload: Payload::Bytes(body.as_bytes()),
    };
    let Ok(sig) = tc3_sign::sign_tc3(&req, &creds, "ms", NOW) else {
        return g.handle(method, "/", query, &[("Host", HOST)], body.as_bytes());
    };
    let auth = if tampered {
        tamper(sig.authorization())
    } else {
        sig.authorization().to_owned()
    };
    let ts = NOW.to_string();
    let headers = [
        ("Host", HOST),
        ("Content-Type", ct),
        ("X-TC-Action", action),
        ("X-TC-Version", "2018-04-08"),
        ("X-TC-Region", "ap-guangzhou"),
        ("X-TC-Timestamp", ts.as_str()),
        ("Authorization", auth.as_str()),
    ];
    g.handle(method, "/", query, &headers, body.as_bytes())
}

fn v1(g: &Gateway, method: &str, action: &str, form: &str, sha1: bool, tampered: bool) -> Reply {
    let Ok(mut pairs) = tc3_sign::form_urldecode(form) else {
        let headers = [
            ("Host", HOST),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        return g.handle(method, "/", form, &headers, form.as_bytes());
    };
    let sm = if sha1 {
        V1Method::HmacSha1
    } else {
        V1Method::HmacSha256
    };
    for (k, v) in [
        ("Action", action),
        ("Version", "2018-04-08"),
        ("Region", "ap-guangzhou"),
        ("Nonce", "11886"),
        ("Timestamp", "1767225600"),
        ("SecretId", ID),
        ("SignatureMethod", sm.as_str()),
    ] {
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let sts = tc3_sign::v1_string_to_sign(method, HOST, "/", &pairs);
    let sig = tc3_sign::sign_v1(sm, KEY, &sts);
    pairs.push((
        "Signature".to_owned(),
        if tampered { tamper(&sig) } else { sig },
    ));
    let encoded = tc3_sign::form_urlencode(&pairs);
    let headers = [
        ("Host", HOST),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    if method == "GET" {
        g.handle("GET", "/", &encoded, &headers, b"")
    } else {
        g.handle("POST", "/", "", &headers, encoded.as_bytes())
    }
}

fn raw(g: &Gateway, line: &str, rest: &str) -> Reply {
    let (method, target) = line.split_once(' ').unwrap_or((line, "/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let headers: Vec<(&str, &str)> = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    g.handle(method, path, query, &headers, body.as_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, payload) = text.split_once('\n').unwrap_or((text, ""));
    let mut words = first.split(' ');
    let mode = words.next().unwrap_or("");
    let g = Gateway::new(ID, KEY, NOW * 1000);
    let mut action = "";
    let (reply, tampered) = match mode {
        "raw" => (
            raw(&g, first.strip_prefix("raw ").unwrap_or(""), payload),
            false,
        ),
        _ => {
            action = words.next().unwrap_or("");
            let tampered = words.next() == Some("tamper");
            let reply = match mode {
                "tc3-post" => tc3(&g, "POST", action, payload, tampered),
                "tc3-get" => tc3(&g, "GET", action, payload, tampered),
                "v1-post" => v1(&g, "POST", action, payload, false, tampered),
                "v1-get" => v1(&g, "GET", action, payload, false, tampered),
                "v1-post-sha1" => v1(&g, "POST", action, payload, true, tampered),
                "v1-get-sha1" => v1(&g, "GET", action, payload, true, tampered),
                _ => return,
            };
            (reply, tampered)
        }
    };
    // Every reply is the official envelope, error or not, with a RequestId.
    let v: serde_json::Value = serde_json::from_slice(&reply.body).expect("the reply is JSON");
    let inner = &v["Response"];
    assert!(inner["RequestId"].is_string(), "no RequestId: {v}");
    match &reply.code {
        Some(code) => {
            assert_eq!(inner["Error"]["Code"].as_str(), Some(code.as_str()));
            assert!(inner["Error"]["Message"].is_string());
            // Only documented codes (the common gateway codes and the service's own).
            assert!(
                !matches!(
                    ms_model::ErrorCode::parse(code),
                    ms_model::ErrorCode::Other(_)
                ),
                "undocumented error code {code}"
            );
        }
        None => {
            assert!(inner.get("Error").is_none());
            // A success answers the action that was signed, in its documented shape.
            if !action.is_empty() {
                if let Err(e) = ms_model::check_response_json(action, &v) {
                    panic!("{action} reply does not match the model: {e}: {v}");
                }
            }
        }
    }
    if tampered {
        assert!(
            reply.code.is_some(),
            "a request with a changed signature was accepted"
        );
    }
});
