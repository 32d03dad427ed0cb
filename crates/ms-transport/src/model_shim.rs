//! Temporary stand-in for ms-model until it lands (same shapes as CONTRACTS.md).
#![allow(missing_docs, dead_code)]

use serde::de::DeserializeOwned;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode(String);
impl ErrorCode {
    pub fn parse(s: &str) -> Self {
        Self(s.to_owned())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub path: String,
    pub message: String,
}
#[derive(Debug, Clone)]
pub struct ValidationErrors(pub Vec<Violation>);
impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for v in &self.0 {
            write!(f, "{}: {}; ", v.path, v.message)?;
        }
        Ok(())
    }
}
impl std::error::Error for ValidationErrors {}

pub trait Validate {
    fn validate(&self) -> Result<(), ValidationErrors>;
}
pub trait Action: serde::Serialize + Validate + fmt::Debug + Clone + Send + Sync + 'static {
    const NAME: &'static str;
    const VERSION: &'static str;
    const SERVICE: &'static str;
    const IDEMPOTENT: bool;
    type Response: DeserializeOwned + serde::Serialize + fmt::Debug + Clone + Send + Sync + 'static;
}

pub struct ServiceError {
    pub code: ErrorCode,
    pub message: String,
    pub request_id: Option<String>,
}
#[derive(Debug)]
pub struct DecodeError(String);
impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn decode_response<T: DeserializeOwned>(
    body: &[u8],
) -> Result<Result<T, ServiceError>, DecodeError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| DecodeError(e.to_string()))?;
    let r = v
        .get("Response")
        .ok_or_else(|| DecodeError("no Response".into()))?;
    if let Some(e) = r.get("Error") {
        return Ok(Err(ServiceError {
            code: ErrorCode::parse(e.get("Code").and_then(|c| c.as_str()).unwrap_or("")),
            message: e
                .get("Message")
                .and_then(|c| c.as_str())
                .unwrap_or("")
                .to_owned(),
            request_id: r
                .get("RequestId")
                .and_then(|c| c.as_str())
                .map(str::to_owned),
        }));
    }
    serde_json::from_value(r.clone())
        .map(Ok)
        .map_err(|e| DecodeError(e.to_string()))
}

pub struct ActionInfo {
    pub name: &'static str,
}
pub static ACTIONS: &[ActionInfo] = &[];
pub fn validate_json(_action: &str, _params: &serde_json::Value) -> Result<(), ValidationErrors> {
    Ok(())
}
