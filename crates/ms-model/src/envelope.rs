//! The response envelopes and decoding.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ErrorCode;

/// `{"Response": T}`: how every reply (success or error) is wrapped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponseEnvelope<T> {
    /// The inner object.
    #[serde(rename = "Response")]
    pub response: T,
}

/// The `Error` object of an error reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error code (`AuthFailure.SignatureExpire`).
    #[serde(rename = "Code")]
    pub code: ErrorCode,
    /// The human-readable message.
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// The inner object of an error reply: `{"Error": {"Code", "Message"}, "RequestId"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    #[serde(rename = "Error")]
    pub error: ErrorBody,
    /// The request ID (absent when the request never reached the service).
    #[serde(rename = "RequestId", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error reported by the service (or the API gateway) in the error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The error code.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
    /// The request ID, when the service returned one.
    pub request_id: Option<String>,
}

impl ServiceError {
    /// A service error without a request ID.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ServiceError {
            code,
            message: message.into(),
            request_id: None,
        }
    }

    /// The wire form: `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`.
    pub fn to_envelope(&self) -> ResponseEnvelope<ErrorResponse> {
        ResponseEnvelope {
            response: ErrorResponse {
                error: ErrorBody {
                    code: self.code.clone(),
                    message: self.message.clone(),
                },
                request_id: self.request_id.clone(),
            },
        }
    }
}

impl From<ErrorResponse> for ServiceError {
    fn from(e: ErrorResponse) -> Self {
        ServiceError {
            code: e.error.code,
            message: e.error.message,
            request_id: e.request_id,
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (RequestId: {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

/// A reply that is not a well-formed envelope of the expected type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body is not JSON.
    #[error("response body is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON is not `{"Response": {...}}` (or a malformed `Error` object).
    #[error("malformed response envelope: {0}")]
    Envelope(String),
    /// The inner object does not match the response type.
    #[error("response does not match the expected type: {0}")]
    Body(#[source] serde_json::Error),
}

/// Decodes a reply body: `Ok(Ok(T))` for a success, `Ok(Err(ServiceError))` for the error
/// envelope, `Err(DecodeError)` for anything else.
///
/// Never panics, whatever the bytes. Errors show what was found: serde's message with the
/// offending value and its line and column, or (for a wrong envelope) a short rendering of the
/// value in place of the expected object.
pub fn decode_response<T: DeserializeOwned>(
    body: &[u8],
) -> Result<Result<T, ServiceError>, DecodeError> {
    let v: Value = serde_json::from_slice(body).map_err(DecodeError::Json)?;
    let Value::Object(mut top) = v else {
        return Err(DecodeError::Envelope(format!(
            "expected a JSON object, got {}",
            crate::validate::show(&v)
        )));
    };
    let inner = match top.remove("Response") {
        Some(Value::Object(inner)) => inner,
        Some(other) => {
            return Err(DecodeError::Envelope(format!(
                "`Response` is not an object, got {}",
                crate::validate::show(&other)
            )));
        }
        None => return Err(DecodeError::Envelope("missing `Response`".into())),
    };
    if let Some(err) = inner.get("Error") {
        let code = err.get("Code").and_then(Value::as_str).ok_or_else(|| {
            DecodeError::Envelope("`Response.Error.Code` is missing or not a string".into())
        })?;
        let message = match err.get("Message") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(DecodeError::Envelope(
                    "`Response.Error.Message` is not a string".into(),
                ));
            }
        };
        let request_id = inner
            .get("RequestId")
            .and_then(Value::as_str)
            .map(str::to_string);
        return Ok(Err(ServiceError {
            code: ErrorCode::parse(code),
            message,
            request_id,
        }));
    }
    match T::deserialize(Value::Object(inner)) {
        Ok(t) => Ok(Ok(t)),
        // Decoding from the tree loses the position; decode the bytes again (only on this
        // error path) so the error says where the offending value is: `invalid type: string
        // "soon", expected u64 at line 1 column 27`.
        Err(e) => Err(DecodeError::Body(
            serde_json::from_slice::<ResponseEnvelope<T>>(body)
                .err()
                .filter(|located| located.line() > 0)
                .unwrap_or(e),
        )),
    }
}
