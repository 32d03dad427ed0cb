//! Entry points for the `cargo fuzz` targets of `fuzz/` (and their regression tests): the
//! parts of the emulator that face the network, without sockets. Not a stable API; hidden from
//! the documentation.
//!
//! * [`rebuild_form`]: a query or legacy form body → the parameter count limit, form decoding
//!   and the rebuilding of the JSON parameters from flattened names.
//! * [`Gateway`]: one request (method, path, query, headers, body) through the same steps as
//!   the server after the body is read — header checks, authentication (TC3 or legacy),
//!   decoding, region check and the action — on an in-memory state with a manual clock, and the
//!   reply envelope. Rate limiting and fault injection are left out (they depend on time).

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::api::{ApiError, error_body, success_body};
use crate::callbacks::CallbackPolicy;
use crate::clock::ManualClock;
use crate::config::EmulatorConfig;
use crate::core::Core;
use crate::params;
use crate::protocol::{self, BodyAllowance, Received};
use crate::state::State;

/// Decodes a form (`k=v&...`, as a GET query or a legacy v1 body) into the JSON parameters the
/// actions receive, after the count limit (`max_parameters`), as the gateway does.
///
/// # Errors
/// The error code and message the emulator would answer.
pub fn rebuild_form(raw: &str, max_parameters: usize) -> Result<Value, String> {
    let shown = |e: ApiError| format!("{}: {}", e.code, e.message);
    if params::exceeds_count(raw, max_parameters) {
        return Err(shown(params::too_many(max_parameters)));
    }
    let pairs = tc3_sign::form_urldecode(raw).map_err(|e| format!("InvalidParameter: {e}"))?;
    params::unflatten(&pairs).map_err(shown)
}

/// An emulator without sockets: requests in, reply envelopes out.
pub struct Gateway {
    core: Core,
    callbacks: std::sync::Mutex<mpsc::UnboundedReceiver<u64>>,
    now_ms: u64,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("now_ms", &self.now_ms)
            .finish_non_exhaustive()
    }
}

/// The reply to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The error code, or `None` for a success.
    pub code: Option<String>,
    /// The reply body (the official envelope, JSON).
    pub body: Vec<u8>,
}

impl Gateway {
    /// An emulator accepting one account, its clock stopped at `now_ms` (Unix milliseconds),
    /// default limits, scans that finish after one second of that clock (never, as it is
    /// stopped), no callbacks.
    pub fn new(secret_id: &str, secret_key: &str, now_ms: u64) -> Gateway {
        let config = EmulatorConfig::demo()
            .with_account(secret_id, secret_key)
            .with_clock(Arc::new(ManualClock::new(now_ms)));
        let (tx, rx) = mpsc::unbounded_channel();
        // In memory: no store, so nothing waits for a commit.
        let core = Core::new(
            config,
            State::default(),
            None,
            CallbackPolicy::Only(Vec::new()),
            tx,
        );
        Gateway {
            core,
            callbacks: std::sync::Mutex::new(rx),
            now_ms,
        }
    }

    /// Answers one request. `headers` are the received headers whose values are text;
    /// `host` is taken from them.
    pub fn handle(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        // Deliveries are not made here: forget the ids queued for them.
        if let Ok(mut rx) = self.callbacks.lock() {
            while rx.try_recv().is_ok() {}
        }
        let outcome = self.answer(method, path, query, headers, body);
        let request_id = "00000000-0000-4000-8000-000000000000";
        match outcome {
            Ok(out) => Reply {
                code: None,
                body: success_body(out, request_id),
            },
            Err(e) => Reply {
                code: Some(e.code.to_string()),
                body: error_body(&e, request_id),
            },
        }
    }

    fn answer(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<crate::api::Output, ApiError> {
        if method != "GET" && method != "POST" {
            return Err(ApiError::new(
                ms_model::ErrorCode::UnsupportedProtocol,
                "The HTTP method is not supported: use GET or POST.",
            ));
        }
        let host = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host"))
            .map_or("", |(_, v)| *v);
        let received = |body| Received {
            method,
            path,
            query,
            headers,
            host,
            body,
        };
        let limits = &self.core.config.limits;
        if method == "GET" && query.len() > limits.max_get_bytes {
            return Err(ApiError::new(
                ms_model::ErrorCode::RequestSizeLimitExceeded,
                "The GET request is over the limit.",
            ));
        }
        let max = match protocol::precheck(&self.core, &received(b""), self.now_ms)? {
            BodyAllowance::Tc3(max) | BodyAllowance::V1(max) => max,
        };
        if body.len() > max {
            return Err(ApiError::new(
                ms_model::ErrorCode::RequestSizeLimitExceeded,
                "The request body is over the limit.",
            ));
        }
        let call = protocol::authenticate(&self.core, &received(body), self.now_ms)?;
        crate::regions::check(&call.action, &call.region)?;
        crate::actions::dispatch(&self.core, &call.action, &call.params, &call.secret_id).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tc3_sign::{Credentials, Payload, Tc3Request, V1Method};

    const ID: &str = "AKIDfuzz";
    const KEY: &str = "fuzzKey";
    const NOW_MS: u64 = 1_767_225_600_000;

    #[test]
    fn a_signed_request_reaches_the_action() {
        let g = Gateway::new(ID, KEY, NOW_MS);
        let body = br#"{"Limit": 5}"#;
        let creds = Credentials::new(ID, KEY).unwrap();
        let req = Tc3Request {
            method: "POST",
            host: "127.0.0.1:1",
            path: "/",
            query: "",
            content_type: "application/json",
            payload: Payload::Bytes(body),
        };
        let sig = tc3_sign::sign_tc3(&req, &creds, "ms", NOW_MS / 1000).unwrap();
        let mut headers = vec![
            ("Host", "127.0.0.1:1"),
            ("Content-Type", "application/json"),
            ("X-TC-Action", "DescribeScanInstances"),
            ("X-TC-Version", "2018-04-08"),
            ("X-TC-Region", "ap-guangzhou"),
        ];
        let sig_headers = sig.headers();
        headers.extend(sig_headers.iter().map(|(n, v)| (*n, v.as_str())));
        let r = g.handle("POST", "/", "", &headers, body);
        assert_eq!(r.code, None, "{}", String::from_utf8_lossy(&r.body));
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["Response"]["TotalCount"], 0);
        // A changed byte of the body fails the signature.
        let r = g.handle("POST", "/", "", &headers, br#"{"Limit": 6}"#);
        assert_eq!(r.code.as_deref(), Some("AuthFailure.SignatureFailure"));

        // The same as a legacy form.
        let mut pairs: Vec<(String, String)> = [
            ("Action", "DescribeScanInstances"),
            ("Version", "2018-04-08"),
            ("Region", "ap-guangzhou"),
            ("Nonce", "1"),
            ("Timestamp", "1767225600"),
            ("SecretId", ID),
            ("SignatureMethod", "HmacSHA256"),
            ("Limit", "5"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let sts = tc3_sign::v1_string_to_sign("POST", "h", "/", &pairs);
        pairs.push((
            "Signature".into(),
            tc3_sign::sign_v1(V1Method::HmacSha256, KEY, &sts),
        ));
        let form = tc3_sign::form_urlencode(&pairs);
        let headers = [
            ("Host", "h"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let r = g.handle("POST", "/", "", &headers, form.as_bytes());
        assert_eq!(r.code, None, "{}", String::from_utf8_lossy(&r.body));
    }

    #[test]
    fn rebuild_form_reports_the_limit_and_malformed_forms() {
        assert_eq!(
            rebuild_form("A.0=x&A.1=y&B=z", 10).unwrap(),
            serde_json::json!({"A": ["x", "y"], "B": "z"})
        );
        assert!(
            rebuild_form("a=1&b=2", 1)
                .unwrap_err()
                .starts_with("RequestSizeLimitExceeded")
        );
        assert!(
            rebuild_form("a=%zz", 10)
                .unwrap_err()
                .starts_with("InvalidParameter")
        );
        assert!(
            rebuild_form("A.1=x", 10)
                .unwrap_err()
                .starts_with("InvalidParameter")
        );
    }
}
