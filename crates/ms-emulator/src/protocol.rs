//! Request authentication and decoding, as Tencent Cloud's API 3.0 gateway does it.
//!
//! * TC3-HMAC-SHA256 (`Authorization` header): POST with `Content-Type: application/json`
//!   (parameters in the JSON body) or GET (parameters in the query string, signed exactly as
//!   received). Common parameters come from `X-TC-Action`, `X-TC-Version`, `X-TC-Timestamp`,
//!   `X-TC-Region`.
//! * Legacy v1 (`HmacSHA1` / `HmacSHA256`, no `Authorization` header): every parameter,
//!   including `Action`, `Version`, `Timestamp`, `Nonce`, `SecretId`, `SignatureMethod` and
//!   `Signature`, as a form-encoded POST body or in the GET query.

use ms_model::ErrorCode;
use serde_json::Value;

use crate::api::{ApiError, show};
use crate::core::Core;
use crate::params::{self, unflatten};

/// The API version the emulator serves.
pub(crate) const VERSION: &str = "2018-04-08";
/// The service name in the TC3 credential scope.
pub(crate) const SERVICE: &str = "ms";

/// Parameters of the v1 protocol that are not action parameters.
const V1_COMMON: &[&str] = &[
    "Action",
    "Nonce",
    "Timestamp",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Version",
    "Region",
    "Token",
    "Language",
    "RequestClient",
];

/// Headers the gateway protocol reads (lower case).
pub(crate) const PROTOCOL_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "host",
    "x-tc-action",
    "x-tc-version",
    "x-tc-timestamp",
    "x-tc-region",
    "x-tc-content-sha256",
    "x-tc-token",
    "x-tc-language",
];

/// The error for a protocol header whose value is not visible ASCII.
pub(crate) fn invalid_header(name: &str) -> ApiError {
    let what = "contains bytes other than visible ASCII";
    match name {
        "authorization" => ApiError::new(
            ErrorCode::AuthFailureInvalidAuthorization,
            format!("The Authorization header is invalid: it {what}."),
        ),
        "x-tc-timestamp" => ApiError::invalid_value("X-TC-Timestamp", what),
        other => {
            // The canonical spelling: X-TC-Action, Content-Type, Host ...
            let shown = other
                .split('-')
                .map(|part| match part {
                    "x" => "X".to_owned(),
                    "tc" => "TC".to_owned(),
                    "sha256" => "SHA256".to_owned(),
                    p => {
                        let mut c = p.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                    }
                })
                .collect::<Vec<_>>()
                .join("-");
            ApiError::invalid_value(&shown, format!("the header {what}"))
        }
    }
}

/// A received request, reduced to what authentication needs.
#[derive(Debug)]
pub(crate) struct Received<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// Headers whose value is valid visible ASCII/UTF-8 (others are dropped).
    pub headers: &'a [(&'a str, &'a str)],
    /// `Host` header (or the HTTP/2 authority).
    pub host: &'a str,
    pub body: &'a [u8],
}

impl Received<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// An authenticated call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub action: String,
    pub region: String,
    pub secret_id: String,
    pub params: Value,
}

fn check_action(action: &str) -> Result<(), ApiError> {
    if ms_model::ACTIONS.iter().any(|a| a.name == action) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidAction,
            format!(
                "The action {} is invalid or not found for service ms version {VERSION}.",
                show(action)
            ),
        ))
    }
}

fn check_version(version: &str) -> Result<(), ApiError> {
    if version == VERSION {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NoSuchVersion,
            // The gateway's wording (seen in the wild for other services).
            format!(
                "The specified api version=`{}` does not exist in service=`{SERVICE}` (supported: {VERSION}).",
                version.chars().take(32).collect::<String>()
            ),
        ))
    }
}

fn check_timestamp(
    core: &Core,
    name: &str,
    value: Option<&str>,
    now_ms: u64,
) -> Result<u64, ApiError> {
    let raw = value.ok_or_else(|| ApiError::missing(name))?;
    let ts: u64 = raw.trim().parse().map_err(|_| {
        ApiError::invalid_value(name, format!("expected Unix seconds, got {}", show(raw)))
    })?;
    let now = now_ms / 1000;
    let window = core.config.signature_window.as_secs();
    if ts.abs_diff(now) > window {
        return Err(ApiError::new(
            ErrorCode::AuthFailureSignatureExpire,
            format!(
                "Signature expired: the request timestamp {ts} is more than {window} seconds from the server time {now}."
            ),
        ));
    }
    Ok(ts)
}

fn secret_key<'c>(core: &'c Core, secret_id: &str) -> Result<&'c str, ApiError> {
    core.accounts
        .get(secret_id)
        .map(String::as_str)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::AuthFailureSecretIdNotFound,
                "The SecretId is not found, please ensure that your SecretId is correct.",
            )
        })
}

fn map_verify_error(e: tc3_sign::VerifyError) -> ApiError {
    use tc3_sign::VerifyError as V;
    match e {
        V::MalformedAuthorization(_) | V::UnsupportedAlgorithm(_) | V::MissingSignedHeader(_) => {
            ApiError::new(
                ErrorCode::AuthFailureInvalidAuthorization,
                format!("The Authorization header is invalid: {e}."),
            )
        }
        V::MissingParameter(p) => ApiError::missing(&p),
        V::SignatureMismatch => ApiError::new(
            ErrorCode::AuthFailureSignatureFailure,
            "The provided credentials could not be validated. Please check your signature is correct.",
        ),
        other => ApiError::new(
            ErrorCode::AuthFailureSignatureFailure,
            format!("The provided credentials could not be validated: {other}."),
        ),
    }
}

fn mime(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Authenticates and decodes a request (method already known to be GET or POST).
pub(crate) fn authenticate(core: &Core, req: &Received<'_>, now_ms: u64) -> Result<Call, ApiError> {
    if let Some(auth) = req.header("authorization") {
        return tc3(core, req, auth, now_ms);
    }
    unsigned_post_check(req)?;
    v1(core, req, now_ms)
}

/// A POST without `Authorization` must be a legacy v1 form.
fn unsigned_post_check(req: &Received<'_>) -> Result<(), ApiError> {
    let ct = mime(req.header("content-type").unwrap_or(""));
    if req.method == "POST" && ct != "application/x-www-form-urlencoded" {
        if ct == "application/json" || ct == "multipart/form-data" {
            return Err(ApiError::new(
                ErrorCode::AuthFailureInvalidAuthorization,
                "The Authorization header is missing: TC3-HMAC-SHA256 requests must carry it.",
            ));
        }
        return Err(unsupported_content_type(req.header("content-type")));
    }
    Ok(())
}

fn unsupported_content_type(ct: Option<&str>) -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedProtocol,
        format!(
            "The Content-Type {} is not supported: use application/json (TC3 POST) or application/x-www-form-urlencoded (GET, v1).",
            ct.map(show).unwrap_or_else(|| "(none)".to_owned())
        ),
    )
}

/// How much body a request may send, worked out from its headers alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyAllowance {
    /// A TC3 request that passed every header-only check (action, version, content type,
    /// timestamp window, well-formed `Authorization`, known SecretId): its body, up to this
    /// many bytes, is needed to verify the signature.
    Tc3(usize),
    /// A legacy v1 request: its parameters (and so its credentials) are in the body, which
    /// may be at most this many bytes.
    V1(usize),
}

/// The checks `authenticate` makes that need no body, in the same order, so that a request
/// the gateway refuses on its headers is refused before its body is read (`req.body` is
/// empty here). `Ok` says how much body may be read.
pub(crate) fn precheck(
    core: &Core,
    req: &Received<'_>,
    now_ms: u64,
) -> Result<BodyAllowance, ApiError> {
    let limits = &core.config.limits;
    if let Some(auth) = req.header("authorization") {
        tc3_head(core, req, auth, now_ms)?;
        let max = if req.method == "GET" {
            limits.max_get_bytes
        } else {
            limits.max_body_bytes
        };
        return Ok(BodyAllowance::Tc3(max));
    }
    unsigned_post_check(req)?;
    let max = if req.method == "GET" {
        limits.max_get_bytes
    } else {
        limits.max_v1_body_bytes
    };
    Ok(BodyAllowance::V1(max))
}

/// The header-only part of TC3 authentication: (action, timestamp, secret key).
fn tc3_head<'r, 'c>(
    core: &'c Core,
    req: &'r Received<'r>,
    auth: &'r str,
    now_ms: u64,
) -> Result<(&'r str, u64, String, &'c str), ApiError> {
    let action = req
        .header("x-tc-action")
        .ok_or_else(|| ApiError::missing("X-TC-Action"))?;
    check_action(action)?;
    let version = req
        .header("x-tc-version")
        .ok_or_else(|| ApiError::missing("X-TC-Version"))?;
    check_version(version)?;
    let content_type = req.header("content-type");
    if req.method == "POST" {
        match mime(content_type.unwrap_or("")).as_str() {
            "application/json" => {}
            "multipart/form-data" => {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedProtocol,
                    "multipart/form-data bodies are not accepted by the ms scan actions; send application/json.",
                ));
            }
            _ => return Err(unsupported_content_type(content_type)),
        }
    }
    let timestamp = check_timestamp(core, "X-TC-Timestamp", req.header("x-tc-timestamp"), now_ms)?;
    let parsed = tc3_sign::parse_authorization(auth).map_err(map_verify_error)?;
    let secret_id = parsed.secret_id.to_owned();
    let key = secret_key(core, &secret_id)?;
    Ok((action, timestamp, secret_id, key))
}

fn tc3(core: &Core, req: &Received<'_>, auth: &str, now_ms: u64) -> Result<Call, ApiError> {
    let (action, timestamp, secret_id, key) = tc3_head(core, req, auth, now_ms)?;
    core.signer
        .verify(
            &tc3_sign::ReceivedTc3 {
                method: req.method,
                path: req.path,
                query: req.query,
                headers: req.headers,
                body: req.body,
                timestamp,
                authorization: auth,
            },
            key,
            SERVICE,
        )
        .map_err(map_verify_error)?;
    let params = if req.method == "POST" {
        let v: Value = serde_json::from_slice(req.body).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                format!("The request body is not valid JSON: {e}."),
            )
        })?;
        if !v.is_object() {
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                "The request body must be a JSON object.",
            ));
        }
        v
    } else {
        let max = core.config.limits.max_parameters;
        if params::exceeds_count(req.query, max) {
            return Err(params::too_many(max));
        }
        let pairs = tc3_sign::form_urldecode(req.query).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                format!("The query string is malformed: {e}."),
            )
        })?;
        unflatten(&pairs)?
    };
    Ok(Call {
        action: action.to_owned(),
        region: req.header("x-tc-region").unwrap_or("").to_owned(),
        secret_id,
        params,
    })
}

fn v1(core: &Core, req: &Received<'_>, now_ms: u64) -> Result<Call, ApiError> {
    let raw = if req.method == "POST" {
        std::str::from_utf8(req.body).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                "The form body is not valid UTF-8.",
            )
        })?
    } else {
        req.query
    };
    // Size and count first: nothing is decoded from a request over either limit.
    if req.method == "POST" && req.body.len() > core.config.limits.max_v1_body_bytes {
        return Err(ApiError::new(
            ErrorCode::AuthFailureSignatureFailure,
            "The request is exceeding request size limit, please use new signature method `TC3-HMAC-SHA256`.",
        ));
    }
    let max = core.config.limits.max_parameters;
    if params::exceeds_count(raw, max) {
        return Err(params::too_many(max));
    }
    let pairs = tc3_sign::form_urldecode(raw).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("The form parameters are malformed: {e}."),
        )
    })?;
    let get = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = get("Action").ok_or_else(|| ApiError::missing("Action"))?;
    check_action(action)?;
    let version = get("Version").ok_or_else(|| ApiError::missing("Version"))?;
    check_version(version)?;
    check_timestamp(core, "Timestamp", get("Timestamp"), now_ms)?;
    let nonce = get("Nonce").ok_or_else(|| ApiError::missing("Nonce"))?;
    if nonce.parse::<u64>().is_err() {
        return Err(ApiError::invalid_value(
            "Nonce",
            format!("expected a positive integer, got {}", show(nonce)),
        ));
    }
    let secret_id = get("SecretId").ok_or_else(|| ApiError::missing("SecretId"))?;
    let signature_present = get("Signature").is_some();
    if !signature_present {
        return Err(ApiError::missing("Signature"));
    }
    if let Some(m) = get("SignatureMethod")
        && m != "HmacSHA1"
        && m != "HmacSHA256"
    {
        return Err(ApiError::invalid_value(
            "SignatureMethod",
            format!("expected HmacSHA1 or HmacSHA256, got {}", show(m)),
        ));
    }
    let key = secret_key(core, secret_id)?;
    tc3_sign::verify_v1(req.method, req.host, req.path, &pairs, key).map_err(map_verify_error)?;
    let action_params: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| !V1_COMMON.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Ok(Call {
        action: action.to_owned(),
        region: get("Region").unwrap_or("").to_owned(),
        secret_id: secret_id.to_owned(),
        params: unflatten(&action_params)?,
    })
}
