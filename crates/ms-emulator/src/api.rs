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

/// Deepest nesting accepted in flattened parameter names.
const MAX_DEPTH: usize = 16;

/// Rebuilds a JSON object from flattened form parameters (`AppInfos.0.AppMd5=...`), as the
/// gateway does for GET and legacy v1 requests: numeric segments are array indices, all values
/// stay strings.
pub(crate) fn unflatten(pairs: &[(String, String)]) -> Result<Value, ApiError> {
    #[derive(Debug)]
    enum Node {
        Leaf(String),
        Map(Vec<(String, Node)>),
    }
    fn insert(
        node: &mut Vec<(String, Node)>,
        path: &[&str],
        value: &str,
        full: &str,
    ) -> Result<(), ApiError> {
        let (head, rest) = match path.split_first() {
            Some(x) => x,
            None => {
                return Err(ApiError::invalid_param(format!(
                    "Invalid parameter name `{full}`."
                )));
            }
        };
        if head.is_empty() {
            return Err(ApiError::invalid_param(format!(
                "Invalid parameter name `{full}`."
            )));
        }
        let pos = node.iter().position(|(k, _)| k == head);
        match (pos, rest.is_empty()) {
            (Some(_), true) => Err(ApiError::invalid_param(format!(
                "The parameter `{full}` is given more than once or conflicts with another parameter."
            ))),
            (None, true) => {
                node.push(((*head).to_owned(), Node::Leaf(value.to_owned())));
                Ok(())
            }
            (Some(i), false) => match &mut node[i].1 {
                Node::Map(m) => insert(m, rest, value, full),
                Node::Leaf(_) => Err(ApiError::invalid_param(format!(
                    "The parameter `{full}` conflicts with another parameter."
                ))),
            },
            (None, false) => {
                let mut m = Vec::new();
                insert(&mut m, rest, value, full)?;
                node.push(((*head).to_owned(), Node::Map(m)));
                Ok(())
            }
        }
    }
    fn to_value(node: Node, path: &str) -> Result<Value, ApiError> {
        match node {
            Node::Leaf(s) => Ok(Value::String(s)),
            Node::Map(entries) => {
                let numeric = entries
                    .iter()
                    .all(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
                if numeric && !entries.is_empty() {
                    let mut indexed: Vec<(usize, Node)> = Vec::with_capacity(entries.len());
                    for (k, v) in entries {
                        let i: usize = k.parse().map_err(|_| {
                            ApiError::invalid_param(format!(
                                "Invalid array index in parameter `{path}.{k}`."
                            ))
                        })?;
                        indexed.push((i, v));
                    }
                    indexed.sort_by_key(|(i, _)| *i);
                    let mut out = Vec::with_capacity(indexed.len());
                    for (expected, (i, v)) in indexed.into_iter().enumerate() {
                        if i != expected {
                            return Err(ApiError::invalid_param(format!(
                                "The array parameter `{path}` has no element {expected} (indices must start at 0 and be contiguous)."
                            )));
                        }
                        out.push(to_value(v, &format!("{path}.{i}"))?);
                    }
                    Ok(Value::Array(out))
                } else {
                    let mut m = Map::new();
                    for (k, v) in entries {
                        if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) {
                            return Err(ApiError::invalid_param(format!(
                                "The parameter `{path}` mixes array indices and member names."
                            )));
                        }
                        let sub = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        m.insert(k, to_value(v, &sub)?);
                    }
                    Ok(Value::Object(m))
                }
            }
        }
    }
    let mut root = Vec::new();
    for (k, v) in pairs {
        let segs: Vec<&str> = k.split('.').collect();
        if segs.len() > MAX_DEPTH {
            return Err(ApiError::invalid_param(format!(
                "The parameter name {} is nested more than {MAX_DEPTH} levels deep.",
                show(k)
            )));
        }
        insert(&mut root, &segs, v, k)?;
    }
    // The root is always an object, even if its keys look numeric.
    let mut m = Map::new();
    for (k, v) in root {
        let value = to_value(v, &k)?;
        m.insert(k, value);
    }
    Ok(Value::Object(m))
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

/// `true` for 32 hexadecimal digits.
pub(crate) fn is_md5(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

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

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn unflatten_builds_nested_arrays_and_objects() {
        let v = unflatten(&p(&[
            ("AppInfos.0.AppUrl", "u"),
            ("AppInfos.0.AppMd5", "m"),
            ("AppInfos.1.AppUrl", "u2"),
            ("ScanInfo.ScanTypes.1", "VULSCAN"),
            ("ScanInfo.ScanTypes.0", "ADSCAN"),
            ("ScanInfo.CallbackUrl", ""),
        ]))
        .unwrap();
        assert_eq!(
            v,
            json!({"AppInfos": [{"AppUrl": "u", "AppMd5": "m"}, {"AppUrl": "u2"}],
                   "ScanInfo": {"ScanTypes": ["ADSCAN", "VULSCAN"], "CallbackUrl": ""}})
        );
    }

    #[test]
    fn unflatten_rejects_gaps_duplicates_and_conflicts() {
        assert!(unflatten(&p(&[("A.0", "x"), ("A.2", "y")])).is_err());
        assert!(unflatten(&p(&[("A", "x"), ("A", "y")])).is_err());
        assert!(unflatten(&p(&[("A", "x"), ("A.0", "y")])).is_err());
        assert!(unflatten(&p(&[("A.0", "x"), ("A.b", "y")])).is_err());
        assert!(unflatten(&p(&[("A..b", "x")])).is_err());
        assert!(unflatten(&p(&[("A.99999999999999999999999", "x")])).is_err());
        let deep = vec!["a"; 5000].join(".");
        assert!(unflatten(&[(deep, "x".to_owned())]).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn unflatten_never_panics(pairs in proptest::collection::vec(("[a-c0-2.]{0,12}", ".{0,4}"), 0..12)) {
            let _ = unflatten(&pairs);
        }

        #[test]
        fn unflatten_inverts_flatten_for_string_trees(
            v in proptest::collection::btree_map("[A-Z][a-z]{0,5}", proptest::collection::vec("[a-z0-9]{0,4}", 1..4), 0..4)
        ) {
            let value = serde_json::to_value(&v).unwrap();
            let pairs = tc3_sign::flatten_params(&value);
            proptest::prop_assert_eq!(unflatten(&pairs).unwrap(), value);
        }
    }

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
