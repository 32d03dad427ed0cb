//! Building the HTTP request of one attempt: the wire encoding of the parameters
//! (`Params`), the common `X-TC-*` headers, and the signature (TC3-HMAC-SHA256 as a JSON
//! `POST` or a `GET`, or the legacy v1 form `POST`).

use std::fmt;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::Full;
use tc3_sign::{Credentials, Payload, SigningHeader, Tc3Request, Tc3Signer, V1Method};

use crate::client::Operation;
use crate::endpoint::Endpoint;
use crate::error::Error;

/// The `X-TC-RequestClient` value identifying this client.
pub const REQUEST_CLIENT: &str = concat!("SDK_RUST_MS_TRANSPORT_", env!("CARGO_PKG_VERSION"));

/// Header names whose values are never logged.
pub const REDACTED_HEADERS: [&str; 2] = ["authorization", "x-tc-token"];

/// The `Content-Type` of a TC3 `POST`.
const JSON: &str = "application/json";
/// The `Content-Type` of a TC3 `GET` and of a legacy v1 `POST`.
const FORM: &str = "application/x-www-form-urlencoded";

/// How requests are signed and encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignMethod {
    /// TC3-HMAC-SHA256, `POST` with a JSON body (the default, as the official SDKs).
    #[default]
    Tc3Post,
    /// TC3-HMAC-SHA256, `GET` with the flattened parameters in the query string.
    Tc3Get,
    /// Legacy signature v1 with HMAC-SHA1, form-encoded `POST`.
    HmacSha1,
    /// Legacy signature v1 with HMAC-SHA256, form-encoded `POST`.
    HmacSha256,
    /// No signature: a JSON `POST` with `Authorization: SKIP`, as the official SDKs send the
    /// few actions that take none (STS `AssumeRoleWithWebIdentity`). No credentials are
    /// asked for.
    SkipSign,
}

impl SignMethod {
    /// The HTTP method requests are sent with.
    fn http_method(self) -> http::Method {
        match self {
            SignMethod::Tc3Get => http::Method::GET,
            _ => http::Method::POST,
        }
    }

    /// The legacy signature method, for the v1 methods.
    fn v1(self) -> Option<V1Method> {
        match self {
            SignMethod::HmacSha1 => Some(V1Method::HmacSha1),
            SignMethod::HmacSha256 => Some(V1Method::HmacSha256),
            SignMethod::Tc3Post | SignMethod::Tc3Get | SignMethod::SkipSign => None,
        }
    }

    /// Whether requests carry a signature (and so need credentials).
    pub(crate) fn signs(self) -> bool {
        self != SignMethod::SkipSign
    }
}

/// `X-TC-Language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// `zh-CN` (the official SDK's default).
    #[default]
    ZhCn,
    /// `en-US`.
    EnUs,
}

impl Language {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::EnUs => "en-US",
        }
    }
}

/// The parameters of a call, prepared once and signed per attempt.
pub(crate) enum Params {
    /// TC3 POST: the exact JSON body.
    Json(Bytes),
    /// TC3 GET / legacy v1: the flattened parameters (`AppInfos.0.AppUrl`).
    Pairs(Vec<(String, String)>),
}

impl Params {
    /// Encodes `params` the way `method` sends them. The value is serialized once: a JSON
    /// body for TC3 POST, flattened pairs otherwise (no intermediate copy of the value).
    pub(crate) fn new(method: SignMethod, params: &serde_json::Value) -> Result<Self, Error> {
        Ok(match method {
            SignMethod::Tc3Post | SignMethod::SkipSign => Params::Json(Bytes::from(
                serde_json::to_vec(params)
                    .map_err(|e| Error::signing(format!("serialize: {e}")))?,
            )),
            _ => Params::Pairs(tc3_sign::flatten_params(params)),
        })
    }

    /// The JSON body, when the parameters travel as one.
    pub(crate) fn json_body(&self) -> Option<&Bytes> {
        match self {
            Params::Json(body) => Some(body),
            Params::Pairs(_) => None,
        }
    }
}

/// What the client's settings fix in every request: where it goes, the common headers and
/// how it is signed.
#[derive(Debug)]
pub(crate) struct RequestSettings {
    pub(crate) endpoint: Endpoint,
    pub(crate) region: Option<String>,
    pub(crate) language: Option<Language>,
    /// The full `X-TC-RequestClient` value.
    pub(crate) request_client: String,
    pub(crate) sign_method: SignMethod,
    pub(crate) signer: Tc3Signer,
}

/// The signed request of one attempt, before it becomes an `http::Request`.
struct Signed {
    uri: String,
    body: Bytes,
}

impl RequestSettings {
    /// The signed request of one attempt of `op` at `timestamp` (Unix seconds).
    /// `creds` is `None` only with [`SignMethod::SkipSign`].
    pub(crate) fn build(
        &self,
        op: Operation<'_>,
        params: &Params,
        creds: Option<&Credentials>,
        timestamp: u64,
    ) -> Result<http::Request<Full<Bytes>>, Error> {
        let mut headers = Headers::default();
        headers.push("x-tc-traceid", &uuid::Uuid::new_v4().to_string())?;
        let missing = || Error::credentials("no credentials to sign the request with");
        let signed = match (self.sign_method.v1(), creds) {
            _ if !self.sign_method.signs() => {
                self.sign_tc3(op, params, None, timestamp, &mut headers)?
            }
            (None, Some(creds)) => {
                self.sign_tc3(op, params, Some(creds), timestamp, &mut headers)?
            }
            (Some(method), Some(creds)) => {
                self.sign_v1(method, op, params, creds, timestamp, &mut headers)?
            }
            (_, None) => return Err(missing()),
        };
        let mut request = http::Request::builder()
            .method(self.sign_method.http_method())
            .uri(signed.uri)
            .body(Full::new(signed.body))
            .map_err(|e| Error::signing(format!("request: {e}")))?;
        let map = request.headers_mut();
        for (name, value) in headers.0 {
            map.append(name, value);
        }
        Ok(request)
    }

    /// TC3-HMAC-SHA256: a JSON `POST`, or a `GET` with the parameters in the query; without
    /// credentials, the same headers with `Authorization: SKIP` ([`SignMethod::SkipSign`]).
    fn sign_tc3(
        &self,
        op: Operation<'_>,
        params: &Params,
        creds: Option<&Credentials>,
        timestamp: u64,
        headers: &mut Headers,
    ) -> Result<Signed, Error> {
        let host = self.endpoint.host();
        let (method, content_type, query, body) = match params {
            Params::Json(body) => ("POST", JSON, String::new(), body.clone()),
            Params::Pairs(pairs) => ("GET", FORM, tc3_sign::form_urlencode(pairs), Bytes::new()),
        };
        let signable = Tc3Request {
            method,
            host,
            path: "/",
            query: &query,
            content_type,
            payload: Payload::Bytes(&body),
        };
        let signature = match creds {
            Some(creds) => Some(
                self.signer
                    .sign(&signable, creds, op.service, timestamp)
                    .map_err(|e| Error::signing("cannot sign the request").with_source(e))?,
            ),
            None => None,
        };
        headers.push("content-type", content_type)?;
        headers.push("host", host)?;
        headers.push("x-tc-action", op.action)?;
        headers.push("x-tc-requestclient", &self.request_client)?;
        headers.push("x-tc-version", op.version)?;
        if let Some(region) = &self.region {
            headers.push("x-tc-region", region)?;
        }
        if let Some(lang) = self.language {
            headers.push("x-tc-language", lang.as_str())?;
        }
        match &signature {
            // The signer's instructions: X-TC-Timestamp, X-TC-Token, Authorization.
            Some(signature) => {
                for instruction in signature.signing_headers() {
                    headers.apply(instruction)?;
                }
            }
            // Unsigned (SkipSign): the timestamp, and `Authorization: SKIP`.
            None => {
                headers.push("x-tc-timestamp", &timestamp.to_string())?;
                headers.push("authorization", "SKIP")?;
            }
        }
        headers.sort_as_the_sdk();
        let uri = if query.is_empty() {
            self.endpoint.base_url().to_owned()
        } else {
            format!("{}?{query}", self.endpoint.base_url())
        };
        Ok(Signed { uri, body })
    }

    /// Legacy signature v1: a form `POST` carrying the common parameters and `Signature`.
    fn sign_v1(
        &self,
        method: V1Method,
        op: Operation<'_>,
        params: &Params,
        creds: &Credentials,
        timestamp: u64,
        headers: &mut Headers,
    ) -> Result<Signed, Error> {
        let host = self.endpoint.host();
        let mut pairs = self.v1_pairs(method, op, params, creds, timestamp)?;
        let string_to_sign = tc3_sign::v1_string_to_sign("POST", host, "/", &pairs);
        let signature = tc3_sign::sign_v1(method, creds.secret_key(), &string_to_sign);
        pairs.push(("Signature".into(), signature));
        headers.push("content-type", FORM)?;
        headers.push("host", host)?;
        Ok(Signed {
            uri: self.endpoint.base_url().to_owned(),
            body: Bytes::from(tc3_sign::form_urlencode(&pairs)),
        })
    }

    /// The parameters a v1 request signs: the action's own, then the common ones in the
    /// official SDK's order.
    fn v1_pairs(
        &self,
        method: V1Method,
        op: Operation<'_>,
        params: &Params,
        creds: &Credentials,
        timestamp: u64,
    ) -> Result<Vec<(String, String)>, Error> {
        let mut pairs = match params {
            Params::Pairs(p) => p.clone(),
            Params::Json(b) => tc3_sign::flatten_params(
                &serde_json::from_slice(b)
                    .map_err(|e| Error::signing(format!("serialize: {e}")))?,
            ),
        };
        let nonce: u64 = rand::random::<u64>() % (i64::MAX as u64) + 1;
        let mut common = |name: &str, value: String| pairs.push((name.to_owned(), value));
        common("Action", op.action.to_owned());
        common("RequestClient", self.request_client.replace(' ', ""));
        common("Nonce", nonce.to_string());
        common("Timestamp", timestamp.to_string());
        common("Version", op.version.to_owned());
        if let Some(region) = &self.region {
            common("Region", region.clone());
        }
        if let Some(token) = creds.token() {
            common("Token", token.to_owned());
        }
        common("SecretId", creds.secret_id().to_owned());
        common("SignatureMethod", method.as_str().to_owned());
        if let Some(lang) = self.language {
            common("Language", lang.as_str().to_owned());
        }
        Ok(pairs)
    }
}

/// The order in which the official SDK sends its headers (lower case); others go before
/// `authorization`, which is always last.
const SDK_HEADER_ORDER: [&str; 12] = [
    "x-tc-traceid",
    "content-type",
    "host",
    "x-tc-action",
    "x-tc-requestclient",
    "x-tc-timestamp",
    "x-tc-content-sha256",
    "x-tc-version",
    "x-tc-region",
    "x-tc-token",
    "x-tc-language",
    "authorization",
];

/// Headers in the order they are sent.
#[derive(Default)]
struct Headers(Vec<(HeaderName, HeaderValue)>);

impl Headers {
    /// Puts the headers in the official SDK's order (stable: equal ranks keep their order).
    fn sort_as_the_sdk(&mut self) {
        let last = SDK_HEADER_ORDER.len() - 1;
        self.0.sort_by_key(|(name, _)| {
            SDK_HEADER_ORDER
                .iter()
                .position(|n| *n == name.as_str())
                .unwrap_or(last - 1)
        });
    }

    fn push(&mut self, name: &'static str, value: &str) -> Result<(), Error> {
        self.push_value(HeaderName::from_static(name), value, false)
    }

    /// Adds a header the signature asks for, marked sensitive when its value is a secret
    /// (so it is never logged).
    fn apply(&mut self, instruction: SigningHeader<'_>) -> Result<(), Error> {
        let name = HeaderName::from_bytes(instruction.name().as_bytes())
            .map_err(|_| Error::signing(format!("header {}: invalid name", instruction.name())))?;
        self.push_value(name, instruction.value(), instruction.sensitive())
    }

    fn push_value(&mut self, name: HeaderName, value: &str, sensitive: bool) -> Result<(), Error> {
        let mut v = HeaderValue::from_str(value)
            .map_err(|_| Error::signing(format!("header {name}: invalid value")))?;
        v.set_sensitive(sensitive);
        self.0.push((name, v));
        Ok(())
    }
}

/// Headers rendered for logs, with `Authorization` and `X-TC-Token` redacted.
pub(crate) struct Redacted<'a>(pub(crate) &'a HeaderMap);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, value) in self.0 {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if REDACTED_HEADERS.contains(&name.as_str()) || value.is_sensitive() {
                write!(f, "{name}: <redacted>")?;
            } else {
                write!(f, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_headers_hide_secrets() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("TC3-HMAC-SHA256 Credential=x, Signature=deadbeef"),
        );
        h.insert("x-tc-token", HeaderValue::from_static("tok-secret"));
        h.insert(
            "x-tc-action",
            HeaderValue::from_static("DescribeScanInstances"),
        );
        let s = Redacted(&h).to_string();
        assert!(!s.contains("deadbeef") && !s.contains("tok-secret"), "{s}");
        assert!(s.contains("DescribeScanInstances"));
    }

    const OP: Operation<'static> = Operation {
        service: "ms",
        version: "2018-04-08",
        action: "DescribeScanInstances",
        idempotency: ms_model::Idempotency::Idempotent,
    };

    fn settings(sign_method: SignMethod) -> RequestSettings {
        RequestSettings {
            endpoint: Endpoint::parse("ms.tencentcloudapi.com").expect("endpoint"),
            region: Some("ap-guangzhou".into()),
            language: Some(Language::EnUs),
            request_client: REQUEST_CLIENT.into(),
            sign_method,
            signer: Tc3Signer::new(),
        }
    }

    #[test]
    fn tc3_requests_apply_the_signers_headers_with_their_sensitivity() {
        let creds = Credentials::new("AKIDx", "key")
            .expect("creds")
            .with_token("tok");
        let params =
            Params::new(SignMethod::Tc3Post, &serde_json::json!({"Limit": 1})).expect("params");
        let request = settings(SignMethod::Tc3Post)
            .build(OP, &params, Some(&creds), 1_700_000_000)
            .expect("request");
        let expected = tc3_sign::sign_tc3(
            &Tc3Request {
                method: "POST",
                host: "ms.tencentcloudapi.com",
                path: "/",
                query: "",
                content_type: JSON,
                payload: Payload::Bytes(br#"{"Limit":1}"#),
            },
            &creds,
            "ms",
            1_700_000_000,
        )
        .expect("signature");
        let h = request.headers();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(h["authorization"], expected.authorization());
        assert_eq!(h["x-tc-token"], "tok");
        assert_eq!(h["x-tc-timestamp"], "1700000000");
        assert!(h["authorization"].is_sensitive() && h["x-tc-token"].is_sensitive());
        for name in [
            "x-tc-traceid",
            "content-type",
            "host",
            "x-tc-action",
            "x-tc-requestclient",
            "x-tc-timestamp",
            "x-tc-version",
            "x-tc-region",
            "x-tc-language",
        ] {
            assert_eq!(h.get_all(name).iter().count(), 1, "{name}");
            assert!(!h[name].is_sensitive(), "{name}");
        }
        assert_eq!(h.len(), 11, "{h:?}");
    }

    #[test]
    fn a_signing_failure_keeps_the_signers_typed_error_as_its_source() {
        let creds = Credentials::new("AKIDx", "key")
            .expect("creds")
            .with_token("a\nb");
        let params =
            Params::new(SignMethod::Tc3Get, &serde_json::json!({"Limit": 1})).expect("params");
        let err = settings(SignMethod::Tc3Get)
            .build(OP, &params, Some(&creds), 1_700_000_000)
            .expect_err("a token with a line break cannot be signed");
        assert_eq!(err.kind(), crate::ErrorKind::Signing);
        let source = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<tc3_sign::Error>())
            .expect("the signer's error is the source");
        assert!(
            matches!(source, tc3_sign::Error::InvalidField { field: "token", .. }),
            "{source:?}"
        );
        assert!(err.message().contains("token"), "{err}");
    }

    #[test]
    fn request_client_matches_sdk_charset() {
        assert!(
            REQUEST_CLIENT
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_,;.".contains(c))
        );
    }
}
