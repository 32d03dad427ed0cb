//! Server side: parse a TC3 `Authorization` header and verify a received request.

use hmac::Mac;
use subtle::{Choice, ConstantTimeEq};

use crate::crypto::{HmacSha256, hex_str, hex32, hmac_sha256, sha256};
use crate::error::echo;
use crate::tc3::{
    ALGORITHM, TERMINATOR, UNSIGNED_PAYLOAD, UNSIGNED_PAYLOAD_SHA256, derive_key_chain,
};
use crate::{Tc3Signer, VerifyError, utc_date};

/// The fields of a TC3 `Authorization` header, borrowed from it.
///
/// `TC3-HMAC-SHA256 Credential=<secret_id>/<date>/<service>/tc3_request, SignedHeaders=<h1;h2>, Signature=<hex>`
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParsedAuthorization<'a> {
    /// The algorithm token (not checked by the parser; `verify_tc3` requires `TC3-HMAC-SHA256`).
    pub algorithm: &'a str,
    /// The SecretId from the credential.
    pub secret_id: &'a str,
    /// The date from the credential scope (not checked by the parser).
    pub date: &'a str,
    /// The service from the credential scope.
    pub service: &'a str,
    /// The `SignedHeaders` list, `;`-separated lower-case names.
    pub signed_headers: &'a str,
    /// The signature: 64 hex digits.
    pub signature: &'a str,
}

impl std::fmt::Debug for ParsedAuthorization<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedAuthorization")
            .field("algorithm", &self.algorithm)
            .field("secret_id", &self.secret_id)
            .field("date", &self.date)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

fn malformed(reason: &str) -> VerifyError {
    VerifyError::MalformedAuthorization(reason.to_owned())
}

/// Parses a TC3 `Authorization` header value.
///
/// Accepts `,` with or without following spaces and the three fields in any order; each
/// must appear exactly once. The credential is split from the right, so the SecretId is
/// everything before `/<date>/<service>/tc3_request`.
///
/// # Errors
/// [`VerifyError::MalformedAuthorization`] naming what is wrong (never echoing the value).
pub fn parse_authorization(value: &str) -> Result<ParsedAuthorization<'_>, VerifyError> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').ok_or_else(|| {
        malformed("expected '<algorithm> Credential=..., SignedHeaders=..., Signature=...'")
    })?;
    if algorithm.is_empty() {
        return Err(malformed("empty algorithm"));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in rest.split(',') {
        let field = field.trim();
        let (name, val) = field
            .split_once('=')
            .ok_or_else(|| malformed("each field must be Name=Value"))?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(malformed(
                    "unknown field (expected Credential, SignedHeaders, Signature)",
                ));
            }
        };
        if slot.replace(val).is_some() {
            return Err(malformed("duplicate field"));
        }
    }
    let credential = credential.ok_or_else(|| malformed("missing Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| malformed("missing SignedHeaders"))?;
    let signature = signature.ok_or_else(|| malformed("missing Signature"))?;

    let mut parts = credential.rsplitn(4, '/');
    let terminator = parts.next().unwrap_or_default();
    let service = parts.next();
    let date = parts.next();
    let secret_id = parts.next();
    let (Some(service), Some(date), Some(secret_id)) = (service, date, secret_id) else {
        return Err(malformed(
            "Credential must be <SecretId>/<date>/<service>/tc3_request",
        ));
    };
    if terminator != "tc3_request" {
        return Err(malformed("Credential scope must end with /tc3_request"));
    }
    if secret_id.is_empty() || date.is_empty() || service.is_empty() {
        return Err(malformed("empty SecretId, date or service in Credential"));
    }
    if signed_headers.is_empty() || signed_headers.split(';').any(str::is_empty) {
        return Err(malformed(
            "SignedHeaders must be a ';'-separated list of names",
        ));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("Signature must be 64 hex digits"));
    }
    Ok(ParsedAuthorization {
        algorithm,
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    })
}

/// A request as received by a server, for [`verify_tc3`].
#[derive(Clone, Copy)]
pub struct ReceivedTc3<'a> {
    /// HTTP method as received.
    pub method: &'a str,
    /// Request path, e.g. `"/"`.
    pub path: &'a str,
    /// Raw query string as received, without `?`.
    pub query: &'a str,
    /// All received headers; names are matched case-insensitively.
    pub headers: &'a [(&'a str, &'a str)],
    /// The received body. Ignored when `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` is present.
    pub body: &'a [u8],
    /// The parsed `X-TC-Timestamp` (the caller checks the freshness window itself).
    pub timestamp: u64,
    /// The `Authorization` header value.
    pub authorization: &'a str,
}

impl std::fmt::Debug for ReceivedTc3<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceivedTc3")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_len", &self.query.len())
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .field("timestamp", &self.timestamp)
            .field("authorization", &"<redacted>")
            .finish()
    }
}

fn header<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

/// Verifies a received TC3-HMAC-SHA256 request against `secret_key` (the key of the
/// SecretId in its `Authorization`, which the caller looks up with
/// [`parse_authorization`]).
///
/// Checks, in order: the header parses; the algorithm is `TC3-HMAC-SHA256`; the scope's
/// service is accepted (below); the scope's date is the UTC date of `timestamp`;
/// `SignedHeaders` contains `content-type` and `host` and every signed header is present;
/// the signature recomputed over the received method, path, raw query, signed header
/// values and body equals the one sent (constant-time comparison).
///
/// What the official SDKs sign differently, all accepted (`docs/sdk-signing.md` has the
/// table per SDK):
/// * **Service.** `expected_service`, or the service the Node.js, Java, PHP and .NET SDKs
///   derive from the endpoint they are pointed at: the `Host` up to its first `.`
///   (`127.0.0.1:8443` → `127`, `localhost:8443` → `localhost:8443`; ASCII case ignored). Not
///   for a `*.tencentcloudapi.com` host, whose first label names its own service. The key is
///   derived with the service of the scope, so the signature still proves the secret key.
/// * **Header values.** Verbatim, as the Python, Go, Java, PHP and .NET SDKs sign them; the
///   documented canonical form (values trimmed of leading/trailing spaces and tabs, ASCII
///   letters lower-cased); and the Node.js form, which signs the `Host` without its port
///   (`new URL(url).hostname`) while sending `host:port`.
///
/// Only those: the method, path, query, header names, body, timestamp and scope are never
/// normalized, no Unicode case folding or Unicode whitespace is applied to header values, and
/// a port is dropped only from the `host` value. A signature over any other bytes fails; a
/// request signed over its port fails when the port is changed.
///
/// # Errors
/// The first failing check as a [`VerifyError`].
pub fn verify_tc3(
    req: &ReceivedTc3<'_>,
    secret_key: &str,
    expected_service: &str,
) -> Result<(), VerifyError> {
    verify_with(req, expected_service, |service, date| {
        hmac_sha256(&derive_key_chain(secret_key, date, service).secret_signing)
    })
}

impl Tc3Signer {
    /// [`verify_tc3`] reusing this signer's derived-key cache. Same result.
    ///
    /// # Errors
    /// See [`verify_tc3`].
    pub fn verify(
        &self,
        req: &ReceivedTc3<'_>,
        secret_key: &str,
        expected_service: &str,
    ) -> Result<(), VerifyError> {
        // verify_with only asks for the key once the scope date equals the timestamp's
        // UTC date, so the key of the timestamp's day is the right one (and a request
        // rejected before that costs no fingerprint hash).
        verify_with(req, expected_service, |service, _date| {
            let fingerprint = crate::credentials::key_fingerprint(secret_key);
            self.day_key(&fingerprint, secret_key, req.timestamp, service)
                .mac
        })
    }
}

/// The service the Node.js, Java, PHP and .NET SDKs put in the credential scope when pointed
/// at `endpoint`: everything before its first `.` (Node.js `this.endpoint.split(".")[0]`, Java
/// `endpoint.split("\\.")[0]`, PHP `explode(".", $endpoint)[0]`, .NET `endpoint.Split('.')[0]`).
fn endpoint_service(endpoint: &str) -> &str {
    endpoint.split('.').next().unwrap_or(endpoint)
}

/// `true` for `tencentcloudapi.com` and its subdomains (with or without a port, and written
/// as a fully qualified name with its trailing dot: `cvm.tencentcloudapi.com.` is the same
/// host), whose first label names the service the host serves.
fn is_tencent_host(host: &str) -> bool {
    let name = strip_port(host).unwrap_or(host).to_ascii_lowercase();
    let name = name.trim_end_matches('.');
    name == "tencentcloudapi.com" || name.ends_with(".tencentcloudapi.com")
}

/// Whether the credential scope's `service` is acceptable for a request received with `host`.
fn service_accepted(service: &str, expected: &str, host: &str) -> bool {
    if service == expected {
        return true;
    }
    let host = host.trim_matches(|c: char| c == ' ' || c == '\t');
    !host.is_empty()
        && !is_tencent_host(host)
        && service.eq_ignore_ascii_case(endpoint_service(host))
}

/// The host without its `:port` (`127.0.0.1:8443` → `127.0.0.1`, `[::1]:8443` → `[::1]`), as
/// WHATWG `URL.hostname` gives it; `None` when there is no port.
fn strip_port(host: &str) -> Option<&str> {
    let (name, port) = host.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    if name.starts_with('[') {
        name.ends_with(']').then_some(name)
    } else if name.contains(':') {
        None // a bare IPv6 address has no port
    } else {
        Some(name)
    }
}

fn verify_with(
    req: &ReceivedTc3<'_>,
    expected_service: &str,
    signing_mac: impl FnOnce(&str, &[u8]) -> HmacSha256,
) -> Result<(), VerifyError> {
    let auth = parse_authorization(req.authorization)?;
    if auth.algorithm != ALGORITHM {
        return Err(VerifyError::UnsupportedAlgorithm(echo(auth.algorithm)));
    }
    let host = header(req.headers, "host").unwrap_or("");
    if !service_accepted(auth.service, expected_service, host) {
        return Err(VerifyError::WrongService {
            got: echo(auth.service),
            expected: echo(expected_service),
        });
    }
    let expected_date = utc_date(req.timestamp);
    if auth.date != expected_date {
        return Err(VerifyError::ScopeDateMismatch {
            scope: echo(auth.date),
            expected: expected_date,
        });
    }
    let names: Vec<&str> = auth.signed_headers.split(';').collect();
    for required in ["content-type", "host"] {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(required)) {
            return Err(malformed(
                "SignedHeaders must include content-type and host",
            ));
        }
    }
    let mut values = Vec::with_capacity(names.len());
    for name in &names {
        let value = header(req.headers, name)
            .ok_or_else(|| VerifyError::MissingSignedHeader(echo(name)))?;
        values.push(value);
    }

    let unsigned = header(req.headers, "x-tc-content-sha256") == Some(UNSIGNED_PAYLOAD);
    let body_hash;
    let payload_hash = if unsigned {
        UNSIGNED_PAYLOAD_SHA256
    } else {
        body_hash = hex32(&sha256(req.body));
        hex_str(&body_hash)
    };

    let mac = signing_mac(auth.service, auth.date.as_bytes());
    let scope = format!("{}/{}/{TERMINATOR}", auth.date, auth.service);
    let timestamp = req.timestamp.to_string();
    let sign = |canonical_headers: &str| -> [u8; 64] {
        let mut cr = String::with_capacity(
            64 + req.method.len() + req.path.len() + req.query.len() + canonical_headers.len(),
        );
        cr.push_str(req.method);
        cr.push('\n');
        cr.push_str(req.path);
        cr.push('\n');
        cr.push_str(req.query);
        cr.push('\n');
        cr.push_str(canonical_headers);
        cr.push('\n');
        cr.push_str(auth.signed_headers);
        cr.push('\n');
        cr.push_str(payload_hash);
        let cr_hex = hex32(&sha256(cr.as_bytes()));
        let mut mac = mac.clone();
        for part in [
            ALGORITHM,
            "\n",
            &timestamp,
            "\n",
            &scope,
            "\n",
            hex_str(&cr_hex),
        ] {
            mac.update(part.as_bytes());
        }
        hex32(&mac.finalize().into_bytes().into())
    };
    let sent = auth.signature.as_bytes();
    let mut matched = Choice::from(0);
    for block in header_blocks(&names, &values) {
        matched |= sign(&block).ct_eq(sent);
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

/// The canonical header blocks (`name:value\n` for each signed header) to try, without
/// repeats: the values verbatim; in the documented canonical form; in the canonical form with
/// the port dropped from `host` (Node.js). One to three blocks.
fn header_blocks(names: &[&str], values: &[&str]) -> Vec<String> {
    let block = |value_of: &dyn Fn(&str, &str) -> String| {
        let mut out = String::new();
        for (name, value) in names.iter().zip(values) {
            out.push_str(name);
            out.push(':');
            out.push_str(&value_of(name, value));
            out.push('\n');
        }
        out
    };
    let verbatim = block(&|_, v| v.to_owned());
    let normalized = block(&|_, v| normalize_value(v));
    let hostname = block(&|n, v| {
        let v = normalize_value(v);
        if n.eq_ignore_ascii_case("host") {
            strip_port(&v).unwrap_or(&v).to_owned()
        } else {
            v
        }
    });
    let mut out = vec![verbatim];
    for candidate in [normalized, hostname] {
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

/// The documented canonical form of a header value for the verification fallback: HTTP
/// optional whitespace (space, tab) trimmed from both ends, ASCII letters lower-cased. Nothing
/// else changes (no Unicode case folding or Unicode whitespace, which would let more distinct
/// received values match one signature).
fn normalize_value(value: &str) -> String {
    value
        .trim_matches(|c: char| c == ' ' || c == '\t')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";

    #[test]
    fn parses_the_sdk_format() {
        let p = parse_authorization(AUTH).unwrap();
        assert_eq!(p.algorithm, "TC3-HMAC-SHA256");
        assert_eq!(p.secret_id, "AKIDEXAMPLE");
        assert_eq!(p.date, "2019-02-25");
        assert_eq!(p.service, "cvm");
        assert_eq!(p.signed_headers, "content-type;host");
        assert_eq!(&p.signature[..8], "72e494ea");
        assert!(!format!("{p:?}").contains("72e494ea"));
        // Compact separators and another field order are accepted.
        let compact = "TC3-HMAC-SHA256 Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168,SignedHeaders=content-type;host,Credential=a/b/2019-02-25/cvm/tc3_request";
        let p = parse_authorization(compact).unwrap();
        assert_eq!(p.secret_id, "a/b");
    }

    #[test]
    fn rejects_malformed_without_echoing() {
        let bad = [
            "",
            "TC3-HMAC-SHA256",
            " Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=00",
            "TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host",
            "TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc4_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
            "TC3-HMAC-SHA256 Credential=2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
            "TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
            "TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=SECRETSIG",
            "TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
            "TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, Foo=1, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
        ];
        for value in bad {
            match parse_authorization(value) {
                Err(VerifyError::MalformedAuthorization(msg)) => {
                    assert!(
                        !msg.contains("SECRETSIG") && !msg.contains("72e494ea"),
                        "{msg}"
                    );
                }
                other => panic!("{value:?} gave {other:?}"),
            }
        }
    }
}

#[cfg(test)]
mod fallback_tests {
    //! The normalized-header fallback accepts exactly case and outer-whitespace differences
    //! of header values, nothing else.

    use super::*;
    use crate::crypto::tag;
    use crate::tc3::derive_keys;

    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const TS: u64 = 1_551_113_065;
    const BODY: &[u8] = br#"{"Limit": 1}"#;

    /// `Authorization` for a signature over exactly these parts (header values as given).
    fn authorization(method: &str, path: &str, query: &str, ct: &str, host: &str) -> String {
        let cr = format!(
            "{method}\n{path}\n{query}\ncontent-type:{ct}\nhost:{host}\n\ncontent-type;host\n{}",
            hex_str(&hex32(&sha256(BODY)))
        );
        let sts = format!(
            "TC3-HMAC-SHA256\n{TS}\n2019-02-25/cvm/tc3_request\n{}",
            hex_str(&hex32(&sha256(cr.as_bytes())))
        );
        let keys = derive_keys(KEY, "2019-02-25", "cvm");
        let sig = tag(hmac_sha256(&keys.secret_signing).chain_update(sts.as_bytes()));
        format!(
            "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature={}",
            hex_str(&hex32(&sig))
        )
    }

    fn verify(method: &str, path: &str, query: &str, ct: &str, host: &str, auth: &str) -> bool {
        let headers = [("Content-Type", ct), ("Host", host)];
        let req = ReceivedTc3 {
            method,
            path,
            query,
            headers: &headers,
            body: BODY,
            timestamp: TS,
            authorization: auth,
        };
        let uncached = verify_tc3(&req, KEY, "cvm");
        assert_eq!(uncached, Tc3Signer::new().verify(&req, KEY, "cvm"));
        match uncached {
            Ok(()) => true,
            Err(VerifyError::SignatureMismatch) => false,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    const CT: &str = "application/json; charset=utf-8";
    const HOST: &str = "cvm.tencentcloudapi.com";

    #[test]
    fn normalized_signature_accepts_case_and_outer_whitespace_only() {
        let auth = authorization("POST", "/", "a=1", CT, HOST);
        // Exact and normalized forms pass.
        assert!(verify("POST", "/", "a=1", CT, HOST, &auth));
        assert!(verify(
            "POST",
            "/",
            "a=1",
            " Application/JSON; Charset=UTF-8\t",
            "\tCVM.TencentCloudAPI.com ",
            &auth
        ));
        // Anything else fails: header bytes other than case / outer SP-HTAB ...
        for (ct, host) in [
            ("application/json;charset=utf-8", HOST), // inner space removed
            ("application/json;  charset=utf-8", HOST), // inner space added
            (CT, "cvm.tencentcloudapi.co"),
            (CT, "cvm.tencentcloudapi.com."),
            (CT, "\u{3000}cvm.tencentcloudapi.com"), // Unicode whitespace is not trimmed
            (CT, "cvm.tencentcloudapi.com\u{a0}"),   // nor NBSP
            (CT, "cvm.tencentcloudapi.com\n"),       // nor a line break
            (CT, "cvm.tencentcloudapi.\u{212a}om"),  // KELVIN SIGN lower-cases to 'k' in Unicode
            (CT, "cvm.tencentcloudapi.c\u{130}m"),   // nor any other non-ASCII folding
        ] {
            assert!(
                !verify("POST", "/", "a=1", ct, host, &auth),
                "{ct:?} {host:?}"
            );
        }
        // ... and no normalization of the method, path or query.
        assert!(!verify("post", "/", "a=1", CT, HOST, &auth));
        assert!(!verify("POST", "/ ", "a=1", CT, HOST, &auth));
        assert!(!verify("POST", "/", "A=1", CT, HOST, &auth));
        assert!(!verify("POST", "/", "a=1 ", CT, HOST, &auth));
    }

    #[test]
    fn verbatim_signature_is_not_normalized_the_other_way() {
        // Signed over mixed case (as the Python SDK does); a received lower-cased value is a
        // different byte string and fails.
        let auth = authorization("POST", "/", "", "Application/JSON", "CVM.example.com");
        assert!(verify(
            "POST",
            "/",
            "",
            "Application/JSON",
            "CVM.example.com",
            &auth
        ));
        assert!(!verify(
            "POST",
            "/",
            "",
            "application/json",
            "cvm.example.com",
            &auth
        ));
        assert!(!verify(
            "POST",
            "/",
            "",
            " Application/JSON",
            "CVM.example.com",
            &auth
        ));
    }
}

#[cfg(test)]
mod sdk_tests {
    //! What each official SDK signs when pointed at a local endpoint (`127.0.0.1:8443`), built
    //! here from each SDK's canonicalization (see `docs/sdk-signing.md`), independently of
    //! `sign_tc3`.

    use super::*;
    use crate::crypto::tag;
    use crate::tc3::derive_keys;

    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const TS: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z
    const DATE: &str = "2026-01-01";
    const BODY: &[u8] = br#"{"Limit":1,"Filters":[{"Name":"AppName","Value":"\u5fae\u4fe1\/x"}]}"#;

    /// `Authorization` for a canonical request over exactly these parts.
    fn authorization(
        method: &str,
        query: &str,
        ct: &str,
        host: &str,
        service: &str,
        body: &[u8],
    ) -> String {
        let cr = format!(
            "{method}\n/\n{query}\ncontent-type:{ct}\nhost:{host}\n\ncontent-type;host\n{}",
            hex_str(&hex32(&sha256(body)))
        );
        let sts = format!(
            "TC3-HMAC-SHA256\n{TS}\n{DATE}/{service}/tc3_request\n{}",
            hex_str(&hex32(&sha256(cr.as_bytes())))
        );
        let sig = tag(hmac_sha256(&derive_keys(KEY, DATE, service).secret_signing)
            .chain_update(sts.as_bytes()));
        format!(
            "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/{DATE}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={}",
            hex_str(&hex32(&sig))
        )
    }

    fn verify(
        method: &str,
        query: &str,
        ct: &str,
        host: &str,
        body: &[u8],
        auth: &str,
    ) -> Result<(), VerifyError> {
        let headers = [
            ("Content-Type", ct),
            ("Host", host),
            ("X-TC-Action", "DescribeScanInstances"),
        ];
        let req = ReceivedTc3 {
            method,
            path: "/",
            query,
            headers: &headers,
            body,
            timestamp: TS,
            authorization: auth,
        };
        let uncached = verify_tc3(&req, KEY, "ms");
        assert_eq!(uncached, Tc3Signer::new().verify(&req, KEY, "ms"));
        uncached
    }

    #[test]
    fn python_and_go_sign_service_ms_and_the_host_verbatim() {
        // Python `abstract_client.py` `_get_tc3_signature` (service = client._service) and Go
        // `common/client.go` `sendWithSignatureV3` (request.GetService(); headers["Host"] =
        // the endpoint): the port is signed.
        for (method, query, ct, body) in [
            ("POST", "", "application/json", BODY),
            (
                "GET",
                "Limit=1&Filters.0.Name=AppName",
                "application/x-www-form-urlencoded",
                &b""[..],
            ),
        ] {
            let auth = authorization(method, query, ct, "127.0.0.1:8443", "ms", body);
            assert_eq!(
                verify(method, query, ct, "127.0.0.1:8443", body, &auth),
                Ok(())
            );
            // The port is part of what was signed.
            assert_eq!(
                verify(method, query, ct, "127.0.0.1:8444", body, &auth),
                Err(VerifyError::SignatureMismatch)
            );
            assert_eq!(
                verify(method, query, ct, "127.0.0.1", body, &auth),
                Err(VerifyError::SignatureMismatch)
            );
        }
    }

    #[test]
    fn node_signs_the_endpoint_service_and_the_host_name_without_its_port() {
        // Node.js 4.0.576 `common/sign.js` `sign3`: `host:${new URL(url).hostname}`;
        // `abstract_client.js`: service = this.endpoint.split(".")[0]; `http_connection.js`
        // sends `Host: new URL(url).host` (with the port).
        for (endpoint, service, hostname) in [
            ("127.0.0.1:8443", "127", "127.0.0.1"),
            ("localhost:8443", "localhost:8443", "localhost"),
            ("[::1]:8443", "[::1]:8443", "[::1]"),
            ("ms.tencentcloudapi.com", "ms", "ms.tencentcloudapi.com"),
        ] {
            let auth = authorization("POST", "", "application/json", hostname, service, BODY);
            assert_eq!(
                verify("POST", "", "application/json", endpoint, BODY, &auth),
                Ok(()),
                "{endpoint}"
            );
            let get = authorization(
                "GET",
                "Limit=1&Name=a%27b",
                "application/x-www-form-urlencoded",
                hostname,
                service,
                b"",
            );
            assert_eq!(
                verify(
                    "GET",
                    "Limit=1&Name=a%27b",
                    "application/x-www-form-urlencoded",
                    endpoint,
                    b"",
                    &get
                ),
                Ok(())
            );
            // Another host name fails; so does a body, query or service change.
            assert_eq!(
                verify(
                    "POST",
                    "",
                    "application/json",
                    &endpoint.replace('1', "2"),
                    BODY,
                    &auth
                )
                .is_err(),
                endpoint.contains('1')
            );
            assert_eq!(
                verify("POST", "", "application/json", endpoint, b"{}", &auth),
                Err(VerifyError::SignatureMismatch)
            );
            assert!(
                verify(
                    "GET",
                    "Limit=2&Name=a%27b",
                    "application/x-www-form-urlencoded",
                    endpoint,
                    b"",
                    &get
                )
                .is_err()
            );
        }
        // The scope's service must still match the Host: `127` for 127.0.0.1, not for 10.0.0.1.
        let auth = authorization("POST", "", "application/json", "127.0.0.1", "127", BODY);
        assert!(matches!(
            verify("POST", "", "application/json", "10.0.0.1:8443", BODY, &auth),
            Err(VerifyError::WrongService { .. })
        ));
    }

    #[test]
    fn java_signs_json_with_charset_and_the_endpoint_service() {
        // Java 3.2.11 `AbstractClient.doRequestWithTC3`: contentType "application/json;
        // charset=utf-8" (okhttp would add it), host:endpoint, service endpoint.split("\\.")[0].
        let ct = "application/json; charset=utf-8";
        let auth = authorization("POST", "", ct, "127.0.0.1:8443", "127", BODY);
        assert_eq!(
            verify("POST", "", ct, "127.0.0.1:8443", BODY, &auth),
            Ok(())
        );
        assert_eq!(
            verify(
                "POST",
                "",
                "application/json",
                "127.0.0.1:8443",
                BODY,
                &auth
            ),
            Err(VerifyError::SignatureMismatch)
        );
        // GET: key=URLEncoder.encode(value) pairs in HashMap order, sent as signed.
        let q = "Filters.0.Value=%E5%BE%AE+x*&Limit=1";
        let auth = authorization(
            "GET",
            q,
            "application/x-www-form-urlencoded",
            "localhost:8443",
            "localhost:8443",
            b"",
        );
        assert_eq!(
            verify(
                "GET",
                q,
                "application/x-www-form-urlencoded",
                "localhost:8443",
                b"",
                &auth
            ),
            Ok(())
        );
    }

    #[test]
    fn php_and_dotnet_sign_the_endpoint_service_and_dotnet_sends_two_spaces() {
        // PHP 3.0.1656 `AbstractClient::doRequestWithTC3`: service explode(".", $endpoint)[0],
        // json_encode body (`\/` escapes are signed as sent).
        let auth = authorization(
            "POST",
            "",
            "application/json",
            "127.0.0.1:8443",
            "127",
            BODY,
        );
        assert_eq!(
            verify(
                "POST",
                "",
                "application/json",
                "127.0.0.1:8443",
                BODY,
                &auth
            ),
            Ok(())
        );
        // .NET 3.0.1493 `HttpConnection.Send`: AuthenticationHeaderValue("TC3-HMAC-SHA256",
        // value.Substring(15)) puts two spaces after the algorithm.
        let dotnet = auth.replacen("TC3-HMAC-SHA256 ", "TC3-HMAC-SHA256  ", 1);
        assert_eq!(
            verify(
                "POST",
                "",
                "application/json",
                "127.0.0.1:8443",
                BODY,
                &dotnet
            ),
            Ok(())
        );
        // WebUtility.UrlEncode query (upper-case hex, `+` for space), sent as signed.
        let q = "Limit=1&Filters.0.Value=%E5%BE%AE+(x)";
        let auth = authorization(
            "GET",
            q,
            "application/x-www-form-urlencoded",
            "127.0.0.1:8443",
            "127",
            b"",
        );
        let dotnet = auth.replacen("TC3-HMAC-SHA256 ", "TC3-HMAC-SHA256  ", 1);
        assert_eq!(
            verify(
                "GET",
                q,
                "application/x-www-form-urlencoded",
                "127.0.0.1:8443",
                b"",
                &dotnet
            ),
            Ok(())
        );
    }

    #[test]
    fn a_tencent_host_names_its_own_service() {
        // cvm.tencentcloudapi.com derives `cvm`: not accepted where `ms` is expected.
        let cvm = authorization(
            "POST",
            "",
            "application/json",
            "cvm.tencentcloudapi.com",
            "cvm",
            BODY,
        );
        assert!(matches!(
            verify(
                "POST",
                "",
                "application/json",
                "cvm.tencentcloudapi.com",
                BODY,
                &cvm
            ),
            Err(VerifyError::WrongService { .. })
        ));
        // A regional ms host derives `ms`.
        let ms = authorization(
            "POST",
            "",
            "application/json",
            "ms.ap-guangzhou.tencentcloudapi.com",
            "ms",
            BODY,
        );
        assert_eq!(
            verify(
                "POST",
                "",
                "application/json",
                "ms.ap-guangzhou.tencentcloudapi.com",
                BODY,
                &ms
            ),
            Ok(())
        );
        assert!(is_tencent_host("MS.TencentCloudAPI.com:443"));
        assert!(!is_tencent_host("tencentcloudapi.com.example.org"));
        // The fully qualified spelling (trailing dot) is the same Tencent host: a request
        // signed for `cvm` there is not an ms request either.
        for host in ["cvm.tencentcloudapi.com.", "cvm.tencentcloudapi.com.:443"] {
            let cvm = authorization("POST", "", "application/json", host, "cvm", BODY);
            assert!(
                matches!(
                    verify("POST", "", "application/json", host, BODY, &cvm),
                    Err(VerifyError::WrongService { .. })
                ),
                "{host}"
            );
        }
    }

    #[test]
    fn ports_are_dropped_like_url_hostname() {
        assert_eq!(strip_port("127.0.0.1:8443"), Some("127.0.0.1"));
        assert_eq!(strip_port("localhost:1"), Some("localhost"));
        assert_eq!(strip_port("[::1]:8443"), Some("[::1]"));
        assert_eq!(strip_port("[::1]"), None);
        assert_eq!(strip_port("::1"), None);
        assert_eq!(strip_port("localhost"), None);
        assert_eq!(strip_port("localhost:"), None);
        assert_eq!(strip_port(":8443"), None);
        assert_eq!(strip_port("host:84a3"), None);
        assert_eq!(endpoint_service("127.0.0.1:8443"), "127");
        assert_eq!(endpoint_service("localhost:8443"), "localhost:8443");
        assert_eq!(endpoint_service(""), "");
    }
}
