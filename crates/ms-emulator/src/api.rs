//! API errors, the response envelope and request-parameter helpers.

use ms_model::ErrorCode;
use serde_json::{Map, Value, json};

/// An error answered in the official envelope
/// `{"Response":{"Error":{"Code","Message"},"RequestId"}}` (HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn missing(param: &str) -> Self {
        Self::new(
            ErrorCode::MissingParameter,
            format!("The request is missing a required parameter `{param}`."),
        )
    }

    pub(crate) fn invalid_value(param: &str, detail: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::InvalidParameterValue,
            format!("The value of parameter `{param}` is invalid: {detail}."),
        )
    }

    pub(crate) fn invalid_param(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameter, detail)
    }
}

/// Serialises an error envelope.
pub(crate) fn error_body(err: &ApiError, request_id: &str) -> Vec<u8> {
    let v = json!({"Response": {"Error": {"Code": err.code, "Message": err.message}, "RequestId": request_id}});
    serde_json::to_vec(&v).unwrap_or_default()
}

/// The output members of a successful action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    /// Members as a JSON object.
    Map(Map<String, Value>),
    /// Members already serialized: the text between the braces of a JSON object, non-empty
    /// (`"ScanSet":[...],"TotalCount":2`). Lets large answers embed cached fragments instead
    /// of rebuilding and re-serializing them.
    Raw(String),
}

impl From<Map<String, Value>> for Output {
    fn from(m: Map<String, Value>) -> Self {
        Output::Map(m)
    }
}

/// Serialises a success envelope: the action's output members plus `RequestId`.
pub(crate) fn success_body(inner: Output, request_id: &str) -> Vec<u8> {
    match inner {
        Output::Map(mut inner) => {
            inner.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
            let mut outer = Map::new();
            outer.insert("Response".to_owned(), Value::Object(inner));
            serde_json::to_vec(&Value::Object(outer)).unwrap_or_default()
        }
        Output::Raw(members) => {
            let mut out = Vec::with_capacity(members.len() + request_id.len() + 40);
            out.extend_from_slice(b"{\"Response\":{");
            out.extend_from_slice(members.as_bytes());
            out.extend_from_slice(b",\"RequestId\":");
            // A JSON string (request ids are UUIDs; escaped anyway).
            let _ = serde_json::to_writer(&mut out, request_id);
            out.extend_from_slice(b"}}");
            out
        }
    }
}

/// An unsigned integer parameter: a JSON number or a decimal string (the SDKs send both).
pub(crate) fn get_u64(params: &Value, name: &str) -> Result<Option<u64>, ()> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or(()),
        Some(Value::String(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| ()),
        Some(_) => Err(()),
    }
}

/// A string parameter.
pub(crate) fn get_str<'a>(params: &'a Value, name: &str) -> Result<Option<&'a str>, ()> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(()),
    }
}

/// An array-of-strings parameter.
pub(crate) fn get_str_array(params: &Value, name: &str) -> Result<Option<Vec<String>>, ()> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or(()))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(()),
    }
}

/// `true` for 32 hexadecimal digits: the API's MD5 rule, [`ms_model::is_md5`].
pub(crate) use ms_model::is_md5;

/// Shortens a client-supplied value for an error message.
pub(crate) fn show(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    format!("{out:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_helpers_accept_numbers_and_strings() {
        let v = json!({"a": 5, "b": "7", "c": "x", "d": -1});
        assert_eq!(get_u64(&v, "a"), Ok(Some(5)));
        assert_eq!(get_u64(&v, "b"), Ok(Some(7)));
        assert_eq!(get_u64(&v, "c"), Err(()));
        assert_eq!(get_u64(&v, "d"), Err(()));
        assert_eq!(get_u64(&v, "z"), Ok(None));
    }
}
