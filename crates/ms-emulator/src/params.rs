//! Form parameters (GET queries and legacy v1 bodies): the count limit and the rebuilding of
//! the JSON parameter tree from flattened names (`AppInfos.0.AppMd5=...`).
//!
//! Both are linear in the number of parameters: the count stops at the limit, and the rebuild
//! finds a member by name in its parent's hash map instead of scanning the parent's members
//! (which made a request with 100,000 parameters cost tens of seconds).

use ms_model::ErrorCode;
use serde_json::map::Entry;
use serde_json::{Map, Value};

use crate::api::{ApiError, show};

/// Deepest nesting accepted in flattened parameter names.
pub(crate) const MAX_DEPTH: usize = 16;

/// `true` when `raw` (`k=v&k2=v2`, as a query or a form body) holds more than `max`
/// parameters (non-empty `&`-separated segments). Stops counting at `max + 1`.
pub(crate) fn exceeds_count(raw: &str, max: usize) -> bool {
    raw.split('&')
        .filter(|s| !s.is_empty())
        .take(max.saturating_add(1))
        .count()
        > max
}

/// The error for a request with more than `max` parameters: the gateway's
/// `RequestSizeLimitExceeded`, naming the limit.
pub(crate) fn too_many(max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::RequestSizeLimitExceeded,
        format!(
            "The request has more than {max} parameters (the limit of parameters per request, \
             `max_parameters`); send fewer parameters."
        ),
    )
}

/// Rebuilds a JSON object from flattened form parameters (`AppInfos.0.AppMd5=...`), as the
/// gateway does for GET and legacy v1 requests: numeric segments are array indices, all values
/// stay strings.
///
/// Linear in the total length of the names: the tree is built directly as JSON objects (each
/// segment is one hash-map lookup in its parent object, never a scan of the parent's members),
/// then objects whose members are all indices become arrays in one more pass.
///
/// # Errors
/// `InvalidParameter` for an empty segment, a name nested deeper than [`MAX_DEPTH`], a name
/// given twice or that is both a value and a parent, an array with a gap or an index that does
/// not fit, and members that mix indices and names.
pub(crate) fn unflatten<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<Value, ApiError> {
    // Sized for the worst case (every name a root member): one allocation instead of ~17
    // regrowths for 100,000 names.
    let mut root = Map::with_capacity(pairs.len());
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), value.as_ref());
        let depth = name.bytes().filter(|&b| b == b'.').count() + 1;
        if depth > MAX_DEPTH {
            return Err(ApiError::invalid_param(format!(
                "The parameter name {} is nested more than {MAX_DEPTH} levels deep.",
                show(name)
            )));
        }
        insert(&mut root, name, value)?;
    }
    // The root is always an object, even if its names look numeric.
    let mut path = String::new();
    for (name, member) in root.iter_mut() {
        path.clear();
        path.push_str(name);
        arrays(member, &mut path)?;
    }
    Ok(Value::Object(root))
}

/// Inserts `value` at the flattened `name` below `root` (objects only; arrays come later).
fn insert(root: &mut Map<String, Value>, name: &str, value: &str) -> Result<(), ApiError> {
    let invalid = || ApiError::invalid_param(format!("Invalid parameter name `{name}`."));
    let mut node = root;
    let mut segments = name.split('.').peekable();
    while let Some(segment) = segments.next() {
        if segment.is_empty() {
            return Err(invalid());
        }
        if segments.peek().is_none() {
            return match node.entry(segment) {
                Entry::Vacant(slot) => {
                    slot.insert(Value::String(value.to_owned()));
                    Ok(())
                }
                Entry::Occupied(_) => Err(ApiError::invalid_param(format!(
                    "The parameter `{name}` is given more than once or conflicts with another parameter."
                ))),
            };
        }
        // Two lookups for a member seen before, and no allocation (the common case: the
        // members of `AppInfos.0` share their parents).
        let child = if node.contains_key(segment) {
            node.get_mut(segment)
        } else {
            Some(node.entry(segment).or_insert(Value::Object(Map::new())))
        };
        node = match child {
            Some(Value::Object(child)) => child,
            _ => {
                return Err(ApiError::invalid_param(format!(
                    "The parameter `{name}` conflicts with another parameter."
                )));
            }
        };
    }
    Err(invalid())
}

fn is_index(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

/// Turns every object below (and including) `value` whose members are all indices into an
/// array, checking that the indices are 0, 1, 2 ...; `path` is the value's flattened name
/// (restored on return). Recursion depth is bounded by [`MAX_DEPTH`].
fn arrays(value: &mut Value, path: &mut String) -> Result<(), ApiError> {
    let Value::Object(members) = value else {
        return Ok(());
    };
    let base = path.len();
    let numeric = !members.is_empty() && members.keys().all(|k| is_index(k));
    if numeric {
        let mut indexed: Vec<(usize, Value)> = Vec::with_capacity(members.len());
        for (k, v) in std::mem::take(members) {
            let i: usize = k.parse().map_err(|_| {
                ApiError::invalid_param(format!("Invalid array index in parameter `{path}.{k}`."))
            })?;
            indexed.push((i, v));
        }
        indexed.sort_unstable_by_key(|(i, _)| *i);
        let mut out = Vec::with_capacity(indexed.len());
        for (expected, (i, mut v)) in indexed.into_iter().enumerate() {
            if i != expected {
                return Err(ApiError::invalid_param(format!(
                    "The array parameter `{path}` has no element {expected} (indices must start at 0 and be contiguous)."
                )));
            }
            path.push('.');
            path.push_str(&i.to_string());
            arrays(&mut v, path)?;
            path.truncate(base);
            out.push(v);
        }
        *value = Value::Array(out);
    } else {
        for (k, v) in members.iter_mut() {
            if is_index(k) {
                return Err(ApiError::invalid_param(format!(
                    "The parameter `{path}` mixes array indices and member names."
                )));
            }
            path.push('.');
            path.push_str(k);
            arrays(v, path)?;
            path.truncate(base);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn message(pairs: &[(&str, &str)]) -> String {
        let e = unflatten(&p(pairs)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        e.message
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
        // Members keep their first-seen order; numeric names at the root stay names.
        let v = unflatten(&p(&[("b", "1"), ("0", "2"), ("a", "3")])).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "0", "a"]);
        assert_eq!(unflatten::<&str, &str>(&[]).unwrap(), json!({}));
    }

    #[test]
    fn unflatten_rejects_gaps_duplicates_and_conflicts_naming_the_parameter() {
        assert!(message(&[("A.0", "x"), ("A.2", "y")]).contains("`A` has no element 1"));
        assert!(message(&[("A", "x"), ("A", "y")]).contains("`A` is given more than once"));
        assert!(message(&[("A", "x"), ("A.0", "y")]).contains("`A.0` conflicts"));
        assert!(message(&[("A.0", "y"), ("A", "x")]).contains("`A` is given more than once"));
        assert!(message(&[("A.0", "x"), ("A.b", "y")]).contains("`A` mixes array indices"));
        assert!(
            message(&[("B.c.0", "x"), ("B.c.1.d", "y"), ("B.c.1.0", "z")])
                .contains("`B.c.1` mixes")
        );
        assert!(message(&[("A..b", "x")]).contains("`A..b`"));
        assert!(message(&[("", "x")]).contains("Invalid parameter name"));
        assert!(
            message(&[("A.99999999999999999999999", "x")]).contains("`A.99999999999999999999999`")
        );
        let deep = vec!["a"; 5000].join(".");
        assert!(message(&[(&deep, "x")]).contains("nested more than 16 levels"));
        let ok = vec!["a"; MAX_DEPTH].join(".");
        assert!(unflatten(&p(&[(&ok, "x")])).is_ok());
    }

    #[test]
    fn many_parameters_rebuild_in_one_pass() {
        // 100,000 top-level names and one 100,000-element array: the shapes that were quadratic.
        let flat: Vec<(String, String)> = (0..100_000)
            .map(|i| (format!("P{i}"), "v".into()))
            .collect();
        let v = unflatten(&flat).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 100_000);
        assert_eq!(v["P99999"], "v");
        let array: Vec<(String, String)> = (0..100_000)
            .rev()
            .map(|i| (format!("AppSids.{i}"), i.to_string()))
            .collect();
        let v = unflatten(&array).unwrap();
        let items = v["AppSids"].as_array().unwrap();
        assert_eq!(items.len(), 100_000);
        assert_eq!(items[12_345], "12345");
    }

    #[test]
    fn count_limit_counts_non_empty_segments_and_stops_early() {
        assert!(!exceeds_count("", 0));
        assert!(exceeds_count("a=1", 0));
        assert!(!exceeds_count("a=1&b=2", 2));
        assert!(exceeds_count("a=1&b=2&c", 2));
        assert!(!exceeds_count("a=1&&&&b=2&", 2));
        let big = "a=1&".repeat(1_000_000);
        assert!(exceeds_count(&big, 10_000));
        assert!(!exceeds_count(&big, 1_000_000));
        let e = too_many(10_000);
        assert_eq!(e.code, ErrorCode::RequestSizeLimitExceeded);
        assert!(
            e.message.contains("more than 10000 parameters"),
            "{}",
            e.message
        );
        assert!(e.message.contains("max_parameters"), "{}", e.message);
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

        #[test]
        fn unflatten_inverts_flatten_for_nested_objects(
            v in proptest::collection::btree_map(
                "[A-Z][a-z]{0,3}",
                proptest::collection::vec(proptest::collection::btree_map("[A-Z][a-z]{0,3}", "[a-z0-9]{0,3}", 1..3), 1..3),
                0..4,
            )
        ) {
            let value = serde_json::to_value(&v).unwrap();
            let pairs = tc3_sign::flatten_params(&value);
            proptest::prop_assert_eq!(unflatten(&pairs).unwrap(), value);
        }
    }
}
