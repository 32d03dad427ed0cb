//! TC3-HMAC-SHA256 request signing (client side).

use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hmac::Mac;

use crate::Credentials;
use crate::Error;
use crate::crypto::{HmacSha256, hex32, hmac_sha256, sha256, tag};
use crate::date::{DateBuf, SECS_PER_DAY, write_utc_date};

/// Algorithm name in the `Authorization` header and the string to sign.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// Literal hashed instead of the body when the payload is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The signed headers the official SDK always uses.
pub const SIGNED_HEADERS: &str = "content-type;host";
/// `sha256("UNSIGNED-PAYLOAD")` in lower-case hex.
pub(crate) const UNSIGNED_PAYLOAD_SHA256: &str =
    "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96";
/// Credential scope terminator.
pub(crate) const TERMINATOR: &str = "tc3_request";
/// `"\n\n" + SIGNED_HEADERS + "\n"`: the end of the canonical headers and the signed headers.
const CR_SIGNED_HEADERS_LINES: &str = "\n\ncontent-type;host\n";
/// `ALGORITHM + "\n"`.
const STS_HEAD: &str = "TC3-HMAC-SHA256\n";
/// `"/" + TERMINATOR + "\n"`.
const SCOPE_TAIL_NEWLINE: &str = "/tc3_request\n";
/// `ALGORITHM + " Credential="`.
const AUTH_HEAD: &str = "TC3-HMAC-SHA256 Credential=";
/// `"/" + TERMINATOR + ", SignedHeaders=" + SIGNED_HEADERS + ", Signature="`.
const AUTH_TAIL: &str = "/tc3_request, SignedHeaders=content-type;host, Signature=";
/// Derived keys kept by one [`Tc3Signer`] (a ring buffer: the oldest entry is replaced).
const CACHE_SLOTS: usize = 8;

/// What to hash as the request payload.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload<'a> {
    /// Exactly these body bytes (JSON, multipart, octet-stream...). For `GET` pass `b""`:
    /// the official SDK hashes the empty string there.
    Bytes(&'a [u8]),
    /// Do not sign the body: the literal `UNSIGNED-PAYLOAD` is hashed and the signature
    /// adds the header `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
    Unsigned,
}

impl fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
            Payload::Unsigned => f.write_str("Unsigned"),
        }
    }
}

/// The parts of an outgoing request that TC3 signs, borrowed exactly as they will be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tc3Request<'a> {
    /// HTTP method, upper case: `"POST"` or `"GET"`.
    pub method: &'a str,
    /// `Host` header value exactly as sent (not lower-cased: the SDK signs it verbatim).
    pub host: &'a str,
    /// Request path, `"/"` for Tencent Cloud APIs.
    pub path: &'a str,
    /// Query string exactly as sent, without `?` (`""` for `POST`).
    pub query: &'a str,
    /// `Content-Type` header value exactly as sent (including `; boundary=...`).
    pub content_type: &'a str,
    /// The payload to hash.
    pub payload: Payload<'a>,
}

/// The result of signing: the headers to add, plus every intermediate for inspection.
///
/// `Debug` shows the scope and the canonical request but redacts the signature and the
/// token.
#[derive(Clone)]
pub struct Tc3Signature {
    /// `canonical_request | string_to_sign | authorization | token`, back to back.
    buf: String,
    cr_end: usize,
    sts_end: usize,
    auth_end: usize,
    /// Length of the decimal timestamp (it starts the string to sign after `ALGORITHM\n`).
    ts_len: usize,
    /// Length of the date (it starts the credential scope).
    date_len: usize,
    /// Length of the credential scope.
    scope_len: usize,
    unsigned: bool,
}

impl Tc3Signature {
    /// The `Authorization` header value:
    /// `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=content-type;host, Signature=<hex>`.
    pub fn authorization(&self) -> &str {
        &self.buf[self.sts_end..self.auth_end]
    }

    /// The signature, 64 lower-case hex digits.
    pub fn signature(&self) -> &str {
        &self.buf[self.auth_end - 64..self.auth_end]
    }

    /// The UTC date of the timestamp, `YYYY-MM-DD`.
    pub fn date(&self) -> &str {
        let start = self.scope_start();
        &self.buf[start..start + self.date_len]
    }

    /// `<date>/<service>/tc3_request`.
    pub fn credential_scope(&self) -> &str {
        let start = self.scope_start();
        &self.buf[start..start + self.scope_len]
    }

    /// The canonical request that was hashed.
    pub fn canonical_request(&self) -> &str {
        &self.buf[..self.cr_end]
    }

    /// Lower-case hex SHA-256 of the payload (or of `UNSIGNED-PAYLOAD`).
    pub fn payload_sha256(&self) -> &str {
        &self.buf[self.cr_end - 64..self.cr_end]
    }

    /// Lower-case hex SHA-256 of the canonical request.
    pub fn canonical_request_sha256(&self) -> &str {
        &self.buf[self.sts_end - 64..self.sts_end]
    }

    /// The string to sign.
    pub fn string_to_sign(&self) -> &str {
        &self.buf[self.cr_end..self.sts_end]
    }

    /// The `X-TC-Timestamp` value (decimal Unix seconds).
    pub fn timestamp(&self) -> &str {
        let start = self.cr_end + ALGORITHM.len() + 1;
        &self.buf[start..start + self.ts_len]
    }

    /// The signing instructions: the headers to add to the request, in the official SDK's
    /// order — `X-TC-Timestamp`, `X-TC-Content-SHA256` (if the payload is unsigned),
    /// `X-TC-Token` (if the credentials have a token), `Authorization` — each with its
    /// [`sensitive`](SigningHeader::sensitive) flag, as aws-sigv4's `SigningInstructions`.
    /// The caller applies them to its own request type (no HTTP crate here).
    pub fn signing_headers(&self) -> impl Iterator<Item = SigningHeader<'_>> + '_ {
        let token = &self.buf[self.auth_end..];
        let header = |name, value, sensitive| SigningHeader {
            name,
            value,
            sensitive,
        };
        [
            Some(header("X-TC-Timestamp", self.timestamp(), false)),
            self.unsigned
                .then(|| header("X-TC-Content-SHA256", UNSIGNED_PAYLOAD, false)),
            (!token.is_empty()).then(|| header("X-TC-Token", token, true)),
            Some(header("Authorization", self.authorization(), true)),
        ]
        .into_iter()
        .flatten()
    }

    /// The [signing headers](Self::signing_headers) as owned `(name, value)` pairs, without
    /// the sensitive flag.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        self.header_pairs()
            .map(|(name, value)| (name, value.to_owned()))
            .collect()
    }

    /// The [signing headers](Self::signing_headers) as borrowed `(name, value)` pairs,
    /// without the sensitive flag (no allocation).
    pub fn header_pairs(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.signing_headers().map(|h| (h.name, h.value))
    }

    fn scope_start(&self) -> usize {
        self.cr_end + ALGORITHM.len() + 1 + self.ts_len + 1
    }
}

impl fmt::Debug for Tc3Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tc3Signature")
            .field("timestamp", &self.timestamp())
            .field("credential_scope", &self.credential_scope())
            .field("canonical_request", &self.canonical_request())
            .field("unsigned_payload", &self.unsigned)
            .field("signature", &"<redacted>")
            .field(
                "token",
                &(self.auth_end < self.buf.len()).then_some("<redacted>"),
            )
            .finish()
    }
}

/// One header a [`Tc3Signature`] adds to the request: a signing instruction.
///
/// `Debug` redacts the value of a sensitive header.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SigningHeader<'a> {
    name: &'static str,
    value: &'a str,
    sensitive: bool,
}

impl<'a> SigningHeader<'a> {
    /// The header name, as the official SDK spells it (`X-TC-Timestamp`, `Authorization`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The header value.
    pub fn value(&self) -> &'a str {
        self.value
    }

    /// Whether the value is a secret (`Authorization`, `X-TC-Token`): never log it, and mark
    /// it sensitive in the HTTP stack (`http::HeaderValue::set_sensitive`, which keeps it
    /// out of HPACK tables and `Debug`).
    pub fn sensitive(&self) -> bool {
        self.sensitive
    }
}

impl fmt::Debug for SigningHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.sensitive {
            "<redacted>"
        } else {
            self.value
        };
        f.debug_struct("SigningHeader")
            .field("name", &self.name)
            .field("value", &value)
            .field("sensitive", &self.sensitive)
            .finish()
    }
}

/// A TC3 signer that caches the derived signing key per (secret key, UTC date, service).
///
/// Cheap to clone; clones share the cache (`Arc` inside), and it is `Send + Sync`. The
/// cache holds the last few keys only and never changes a result: `sign` always equals
/// [`sign_tc3`].
#[derive(Clone, Default)]
pub struct Tc3Signer {
    cache: Arc<RwLock<KeyCache>>,
}

#[derive(Default)]
struct KeyCache {
    entries: Vec<CacheEntry>,
    next: usize,
}

struct CacheEntry {
    fingerprint: [u8; 32],
    day: u64,
    service: Box<str>,
    key: DayKey,
}

/// What signing needs per (secret key, UTC day, service).
#[derive(Clone)]
pub(crate) struct DayKey {
    /// HMAC already keyed with the signing key (saves re-keying on every use).
    pub(crate) mac: HmacSha256,
    /// The UTC date as ASCII in `date[..date_len]`.
    date: DateBuf,
    date_len: usize,
}

impl DayKey {
    fn derive(secret_key: &str, timestamp: u64, service: &str) -> Self {
        let mut date = DateBuf::default();
        let date_len = write_utc_date(timestamp, &mut date);
        let keys = derive_key_chain(secret_key, &date[..date_len], service);
        DayKey {
            mac: hmac_sha256(&keys.secret_signing),
            date,
            date_len,
        }
    }
}

impl Tc3Signer {
    /// A signer with an empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signs `req` with `creds` for `service` at `timestamp` (Unix seconds), reusing the
    /// derived signing key when one is cached.
    ///
    /// # Errors
    /// See [`sign_tc3`].
    pub fn sign(
        &self,
        req: &Tc3Request<'_>,
        creds: &Credentials,
        service: &str,
        timestamp: u64,
    ) -> Result<Tc3Signature, Error> {
        sign_inner(req, creds, service, timestamp, || {
            self.day_key(creds.fingerprint(), creds.secret_key(), timestamp, service)
        })
    }

    /// Number of derived keys currently cached (at most a small constant).
    pub fn cached_keys(&self) -> usize {
        self.read().entries.len()
    }

    /// The keyed HMAC and the date for `timestamp`'s UTC day, from the cache or derived
    /// (and then cached).
    pub(crate) fn day_key(
        &self,
        fingerprint: &[u8; 32],
        secret_key: &str,
        timestamp: u64,
        service: &str,
    ) -> DayKey {
        let day = timestamp / SECS_PER_DAY;
        let matches = |e: &CacheEntry| {
            e.day == day && &e.fingerprint == fingerprint && &*e.service == service
        };
        if let Some(e) = self.read().entries.iter().find(|e| matches(e)) {
            return e.key.clone();
        }
        let key = DayKey::derive(secret_key, timestamp, service);
        let mut cache = self.write();
        if cache.entries.iter().any(matches) {
            // Another thread inserted it meanwhile.
            return key;
        }
        let entry = CacheEntry {
            fingerprint: *fingerprint,
            day,
            service: service.into(),
            key: key.clone(),
        };
        if cache.entries.len() < CACHE_SLOTS {
            cache.entries.push(entry);
        } else {
            let slot = cache.next % CACHE_SLOTS;
            cache.entries[slot] = entry;
            cache.next = (slot + 1) % CACHE_SLOTS;
        }
        key
    }

    // A poisoned lock only means another thread panicked while holding it; entries are
    // always complete values, so the cache stays usable.
    fn read(&self) -> RwLockReadGuard<'_, KeyCache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, KeyCache> {
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for Tc3Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tc3Signer")
            .field("cached_keys", &self.cached_keys())
            .finish()
    }
}

/// Signs without a cache (derives the key chain every time). Same result as
/// [`Tc3Signer::sign`].
///
/// # Errors
/// [`Error::EmptyField`] for an empty method, host, path or service;
/// [`Error::InvalidField`] when a field contains a control character (it would change the
/// canonical request's structure), when the method is not upper-case ASCII letters, the
/// path does not start with `/`, the service contains `/`, `,` or whitespace, or the token
/// contains a control character.
pub fn sign_tc3(
    req: &Tc3Request<'_>,
    creds: &Credentials,
    service: &str,
    timestamp: u64,
) -> Result<Tc3Signature, Error> {
    sign_inner(req, creds, service, timestamp, || {
        DayKey::derive(creds.secret_key(), timestamp, service)
    })
}

/// The three derived keys of the TC3 chain (secret material: `Debug` redacts them).
#[derive(Clone, PartialEq, Eq)]
pub struct DerivedKeys {
    /// `HMAC_SHA256("TC3" + SecretKey, date)`.
    pub secret_date: [u8; 32],
    /// `HMAC_SHA256(secret_date, service)`.
    pub secret_service: [u8; 32],
    /// `HMAC_SHA256(secret_service, "tc3_request")`: the key that signs the string to sign.
    pub secret_signing: [u8; 32],
}

impl fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKeys(<redacted>)")
    }
}

/// Derives the TC3 key chain for `secret_key`, `date` (`YYYY-MM-DD`) and `service`.
pub fn derive_keys(secret_key: &str, date: &str, service: &str) -> DerivedKeys {
    derive_key_chain(secret_key, date.as_bytes(), service)
}

pub(crate) fn derive_key_chain(secret_key: &str, date: &[u8], service: &str) -> DerivedKeys {
    let mut first = hmac_sha256_prefixed(b"TC3", secret_key.as_bytes());
    first.update(date);
    let secret_date = tag(first);
    let secret_service = tag(hmac_sha256(&secret_date).chain_update(service.as_bytes()));
    let secret_signing = tag(hmac_sha256(&secret_service).chain_update(TERMINATOR.as_bytes()));
    DerivedKeys {
        secret_date,
        secret_service,
        secret_signing,
    }
}

/// HMAC keyed with `prefix || key` without allocating when it fits in a block.
fn hmac_sha256_prefixed(prefix: &[u8], key: &[u8]) -> HmacSha256 {
    let mut buf = [0u8; 64];
    let total = prefix.len() + key.len();
    if total <= buf.len() {
        buf[..prefix.len()].copy_from_slice(prefix);
        buf[prefix.len()..total].copy_from_slice(key);
        hmac_sha256(&buf[..total])
    } else {
        let mut joined = Vec::with_capacity(total);
        joined.extend_from_slice(prefix);
        joined.extend_from_slice(key);
        hmac_sha256(&joined)
    }
}

fn has_control(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == 0x7f)
}

pub(crate) fn validate_service(service: &str) -> Result<(), Error> {
    if service.is_empty() {
        return Err(Error::EmptyField { field: "service" });
    }
    if service
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == ',')
    {
        return Err(Error::InvalidField {
            field: "service",
            reason: "must not contain whitespace, control characters, '/' or ','",
        });
    }
    Ok(())
}

fn validate(req: &Tc3Request<'_>, service: &str, token: Option<&str>) -> Result<(), Error> {
    if req.method.is_empty() {
        return Err(Error::EmptyField { field: "method" });
    }
    if !req.method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::InvalidField {
            field: "method",
            reason: "must be upper-case ASCII letters, e.g. POST",
        });
    }
    if req.host.is_empty() {
        return Err(Error::EmptyField { field: "host" });
    }
    if req.path.is_empty() {
        return Err(Error::EmptyField { field: "path" });
    }
    if !req.path.starts_with('/') {
        return Err(Error::InvalidField {
            field: "path",
            reason: "must start with '/'",
        });
    }
    for (field, value) in [
        ("host", req.host),
        ("path", req.path),
        ("query", req.query),
        ("content_type", req.content_type),
    ] {
        if has_control(value) {
            return Err(Error::InvalidField {
                field,
                reason: "must not contain control characters",
            });
        }
    }
    validate_service(service)?;
    if token.is_some_and(has_control) {
        return Err(Error::InvalidField {
            field: "token",
            reason: "must not contain control characters",
        });
    }
    Ok(())
}

/// ASCII decimal digits of `n` in a stack buffer; returns the used tail.
fn decimal(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

fn sign_inner(
    req: &Tc3Request<'_>,
    creds: &Credentials,
    service: &str,
    timestamp: u64,
    day_key: impl FnOnce() -> DayKey,
) -> Result<Tc3Signature, Error> {
    let token = creds.token();
    validate(req, service, token)?;

    // Payload hash.
    let (payload_hex, unsigned) = match req.payload {
        Payload::Bytes(body) => (hex32(&sha256(body)), false),
        Payload::Unsigned => {
            let mut hex = [0u8; 64];
            hex.copy_from_slice(UNSIGNED_PAYLOAD_SHA256.as_bytes());
            (hex, true)
        }
    };

    // Date (with the key) and timestamp as ASCII on the stack.
    let DayKey {
        mut mac,
        date: date_buf,
        date_len,
    } = day_key();
    let date = &date_buf[..date_len];
    let mut ts_buf = [0u8; 20];
    let ts = decimal(timestamp, &mut ts_buf);

    let secret_id = creds.secret_id();
    let token = token.unwrap_or("");
    let cr_len = req.method.len()
        + req.path.len()
        + req.query.len()
        + "content-type:".len()
        + req.content_type.len()
        + "host:".len()
        + req.host.len()
        + SIGNED_HEADERS.len()
        + 64
        + 7;
    let scope_len = date.len() + 1 + service.len() + 1 + TERMINATOR.len();
    let sts_len = ALGORITHM.len() + 1 + ts.len() + 1 + scope_len + 1 + 64;
    let auth_len = AUTH_HEAD.len() + secret_id.len() + 1 + scope_len + AUTH_TAIL.len()
        - (1 + TERMINATOR.len())
        + 64;
    // Built as bytes (every piece is UTF-8: `&str` inputs and ASCII digits), checked once
    // at the end.
    let mut buf: Vec<u8> = Vec::with_capacity(cr_len + sts_len + auth_len + token.len());

    // Canonical request.
    buf.extend_from_slice(req.method.as_bytes());
    buf.push(b'\n');
    buf.extend_from_slice(req.path.as_bytes());
    buf.push(b'\n');
    buf.extend_from_slice(req.query.as_bytes());
    buf.extend_from_slice(b"\ncontent-type:");
    buf.extend_from_slice(req.content_type.as_bytes());
    buf.extend_from_slice(b"\nhost:");
    buf.extend_from_slice(req.host.as_bytes());
    buf.extend_from_slice(CR_SIGNED_HEADERS_LINES.as_bytes());
    buf.extend_from_slice(&payload_hex);
    let cr_end = buf.len();
    let cr_hex = hex32(&sha256(&buf));

    // String to sign.
    buf.extend_from_slice(STS_HEAD.as_bytes());
    buf.extend_from_slice(ts);
    buf.push(b'\n');
    let scope_start = buf.len();
    buf.extend_from_slice(date);
    buf.push(b'/');
    buf.extend_from_slice(service.as_bytes());
    let scope_prefix_end = buf.len();
    buf.extend_from_slice(SCOPE_TAIL_NEWLINE.as_bytes());
    buf.extend_from_slice(&cr_hex);
    let sts_end = buf.len();

    // Signature.
    mac.update(&buf[cr_end..sts_end]);
    let sig = tag(mac);

    // Authorization.
    buf.extend_from_slice(AUTH_HEAD.as_bytes());
    buf.extend_from_slice(secret_id.as_bytes());
    buf.push(b'/');
    buf.extend_from_within(scope_start..scope_prefix_end);
    buf.extend_from_slice(AUTH_TAIL.as_bytes());
    buf.extend_from_slice(&hex32(&sig));
    let auth_end = buf.len();
    buf.extend_from_slice(token.as_bytes());
    let buf = String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());

    Ok(Tc3Signature {
        buf,
        cr_end,
        sts_end,
        auth_end,
        ts_len: ts.len(),
        date_len,
        scope_len,
        unsigned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::new(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        )
        .unwrap()
    }

    fn doc_request(body: &[u8]) -> Tc3Request<'_> {
        Tc3Request {
            method: "POST",
            host: "cvm.tencentcloudapi.com",
            path: "/",
            query: "",
            content_type: "application/json; charset=utf-8",
            payload: Payload::Bytes(body),
        }
    }

    const DOC_BODY: &[u8] = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    #[test]
    fn published_example() {
        let sig = sign_tc3(&doc_request(DOC_BODY), &creds(), "cvm", 1_551_113_065).unwrap();
        assert_eq!(
            sig.signature(),
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(sig.date(), "2019-02-25");
        assert_eq!(sig.credential_scope(), "2019-02-25/cvm/tc3_request");
        assert_eq!(sig.timestamp(), "1551113065");
        assert_eq!(
            sig.payload_sha256(),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            sig.canonical_request_sha256(),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let names: Vec<_> = sig.headers().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["X-TC-Timestamp", "Authorization"]);
    }

    #[test]
    fn headers_in_sdk_order_with_token_and_unsigned() {
        let c = creds().with_token("tok");
        let mut req = doc_request(b"");
        req.payload = Payload::Unsigned;
        let sig = sign_tc3(&req, &c, "ms", 1_700_000_000).unwrap();
        let h = sig.headers();
        assert_eq!(
            h.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [
                "X-TC-Timestamp",
                "X-TC-Content-SHA256",
                "X-TC-Token",
                "Authorization"
            ]
        );
        assert_eq!(h[0].1, "1700000000");
        assert_eq!(h[1].1, "UNSIGNED-PAYLOAD");
        assert_eq!(h[2].1, "tok");
        assert_eq!(h[3].1, sig.authorization());
        let flags: Vec<_> = sig
            .signing_headers()
            .map(|h| (h.name(), h.sensitive()))
            .collect();
        assert_eq!(
            flags,
            [
                ("X-TC-Timestamp", false),
                ("X-TC-Content-SHA256", false),
                ("X-TC-Token", true),
                ("Authorization", true)
            ],
            "the token and the authorization are the sensitive instructions"
        );
        for header in sig.signing_headers() {
            let shown = format!("{header:?}");
            assert_eq!(
                shown.contains(header.value()),
                !header.sensitive(),
                "{shown}"
            );
        }
        assert_eq!(sig.payload_sha256(), UNSIGNED_PAYLOAD_SHA256);
        let dbg = format!("{sig:?}");
        assert!(
            !dbg.contains(sig.signature()) && !dbg.contains("tok\""),
            "{dbg}"
        );
    }

    #[test]
    fn joined_constants_agree_with_their_parts() {
        assert_eq!(CR_SIGNED_HEADERS_LINES, format!("\n\n{SIGNED_HEADERS}\n"));
        assert_eq!(STS_HEAD, format!("{ALGORITHM}\n"));
        assert_eq!(SCOPE_TAIL_NEWLINE, format!("/{TERMINATOR}\n"));
        assert_eq!(AUTH_HEAD, format!("{ALGORITHM} Credential="));
        assert_eq!(
            AUTH_TAIL,
            format!("/{TERMINATOR}, SignedHeaders={SIGNED_HEADERS}, Signature=")
        );
    }

    #[test]
    fn unsigned_payload_constant_is_the_hash() {
        assert_eq!(
            &hex32(&sha256(UNSIGNED_PAYLOAD.as_bytes()))[..],
            UNSIGNED_PAYLOAD_SHA256.as_bytes()
        );
    }

    #[test]
    fn cache_is_bounded_and_transparent() {
        let signer = Tc3Signer::new();
        for i in 0..40u64 {
            let key = format!("key-{}", i % 13);
            let c = Credentials::new("id", key).unwrap();
            let service = ["ms", "cvm", "cls"][(i % 3) as usize];
            let ts = 1_700_000_000 + (i % 5) * 86_400 + i;
            let req = doc_request(DOC_BODY);
            let cached = signer.sign(&req, &c, service, ts).unwrap();
            let again = signer.sign(&req, &c, service, ts).unwrap();
            let uncached = sign_tc3(&req, &c, service, ts).unwrap();
            assert_eq!(cached.authorization(), uncached.authorization());
            assert_eq!(again.authorization(), uncached.authorization());
            assert!(signer.cached_keys() <= CACHE_SLOTS);
        }
        assert_eq!(signer.cached_keys(), CACHE_SLOTS);
        assert!(format!("{signer:?}").contains("cached_keys"));
    }

    #[test]
    fn shared_across_threads() {
        let signer = Tc3Signer::new();
        std::thread::scope(|scope| {
            for t in 0..4u64 {
                let signer = signer.clone();
                scope.spawn(move || {
                    for i in 0..50u64 {
                        let c = Credentials::new("id", format!("key-{}", (t + i) % 5)).unwrap();
                        let ts = 1_700_000_000 + (i % 3) * 86_400;
                        let req = doc_request(DOC_BODY);
                        let a = signer.sign(&req, &c, "ms", ts).unwrap();
                        let b = sign_tc3(&req, &c, "ms", ts).unwrap();
                        assert_eq!(a.authorization(), b.authorization());
                    }
                });
            }
        });
        assert!(signer.cached_keys() <= CACHE_SLOTS);
    }

    #[test]
    fn rejects_bad_fields_by_name() {
        let c = creds();
        let base = doc_request(DOC_BODY);
        let cases: Vec<(Tc3Request<'_>, &str, &str)> = vec![
            (Tc3Request { method: "", ..base }, "ms", "method"),
            (
                Tc3Request {
                    method: "post",
                    ..base
                },
                "ms",
                "method",
            ),
            (Tc3Request { host: "", ..base }, "ms", "host"),
            (
                Tc3Request {
                    host: "a\nb",
                    ..base
                },
                "ms",
                "host",
            ),
            (Tc3Request { path: "", ..base }, "ms", "path"),
            (Tc3Request { path: "x", ..base }, "ms", "path"),
            (
                Tc3Request {
                    query: "a=\r",
                    ..base
                },
                "ms",
                "query",
            ),
            (
                Tc3Request {
                    content_type: "x\n",
                    ..base
                },
                "ms",
                "content_type",
            ),
            (base, "", "service"),
            (base, "m/s", "service"),
        ];
        for (req, service, field) in cases {
            let err = sign_tc3(&req, &c, service, 0).unwrap_err();
            let named = match err {
                Error::EmptyField { field } | Error::InvalidField { field, .. } => field,
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(named, field);
        }
        let bad_token = creds().with_token("a\nb");
        assert!(matches!(
            sign_tc3(&base, &bad_token, "ms", 0),
            Err(Error::InvalidField { field: "token", .. })
        ));
    }

    #[test]
    fn year_past_9999_still_signs() {
        let sig = sign_tc3(&doc_request(b""), &creds(), "ms", u64::MAX).unwrap();
        assert_eq!(sig.timestamp(), u64::MAX.to_string());
        assert_eq!(sig.date(), crate::utc_date(u64::MAX));
        assert!(sig.credential_scope().starts_with(sig.date()));
    }
}
