//! Property tests: values generated from the schemas round-trip through the generated types;
//! arbitrary input never panics the decoders or the validators.

mod common;

use common::{lenient_eq, strip_nulls};
use ms_model::schema::{Kind, StructSchema};
use ms_model::*;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A JSON value of the element type; request integers sometimes travel as strings.
fn element(kind: Kind, request: bool) -> BoxedStrategy<Value> {
    match kind {
        Kind::String => any::<String>().prop_map(Value::from).boxed(),
        Kind::Int64 if request => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<i64>().prop_map(|n| Value::from(n.to_string()))
        ]
        .boxed(),
        Kind::Int64 => any::<i64>().prop_map(Value::from).boxed(),
        Kind::UInt64 if request => prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<u64>().prop_map(|n| Value::from(n.to_string()))
        ]
        .boxed(),
        Kind::UInt64 => any::<u64>().prop_map(Value::from).boxed(),
        Kind::Struct(s) => object(s, request),
    }
}

/// A JSON object that fits the schema: required request members always present, others maybe
/// absent or null.
fn object(schema: &'static StructSchema, request: bool) -> BoxedStrategy<Value> {
    let fields: Vec<BoxedStrategy<(&'static str, Option<Value>)>> = schema
        .fields
        .iter()
        .map(|f| {
            let elem = element(f.kind, request);
            let value = if f.array {
                prop::collection::vec(elem, 0..3)
                    .prop_map(Value::Array)
                    .boxed()
            } else {
                elem
            };
            let name = f.name;
            if request && f.required {
                value.prop_map(move |v| (name, Some(v))).boxed()
            } else {
                prop_oneof![
                    3 => value.prop_map(move |v| (name, Some(v))),
                    1 => Just((name, None)),
                    1 => Just((name, Some(Value::Null))),
                ]
                .boxed()
            }
        })
        .collect();
    fields
        .prop_map(|pairs| {
            let map: Map<String, Value> = pairs
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_string(), v?)))
                .collect();
            Value::Object(map)
        })
        .boxed()
}

fn request_value() -> impl Strategy<Value = (&'static str, Value)> {
    (0..ACTIONS.len())
        .prop_flat_map(|i| object(ACTIONS[i].request, true).prop_map(move |v| (ACTIONS[i].name, v)))
}

fn response_value() -> impl Strategy<Value = (&'static str, Value)> {
    (0..ACTIONS.len()).prop_flat_map(|i| {
        object(ACTIONS[i].response, false).prop_map(move |v| (ACTIONS[i].name, v))
    })
}

/// decode -> encode -> decode; the JSON is preserved (numeric strings become numbers).
fn round_trip<T: DeserializeOwned + serde::Serialize>(v: &Value) -> Result<(), String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| format!("decode {v}: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if !lenient_eq(&strip_nulls(v), &back) {
        return Err(format!("changed:\n{v}\n{back}"));
    }
    let again: T =
        serde_json::from_value(back.clone()).map_err(|e| format!("second decode: {e}"))?;
    let twice = serde_json::to_value(&again).map_err(|e| e.to_string())?;
    if twice != back {
        return Err(format!("second round trip changed:\n{back}\n{twice}"));
    }
    Ok(())
}

struct RequestRoundTrip<'a>(&'a Value);

impl ActionVisitor for RequestRoundTrip<'_> {
    type Output = Result<(), String>;
    fn visit<A: Action + DeserializeOwned>(self) -> Self::Output {
        round_trip::<A>(self.0)?;
        // Validation of any well-typed request terminates without panicking.
        let typed: A = serde_json::from_value(self.0.clone()).map_err(|e| e.to_string())?;
        let _ = typed.validate();
        let _ = validate_json(A::NAME, self.0);
        Ok(())
    }
}

struct ResponseRoundTrip<'a>(&'a Value);

impl ActionVisitor for ResponseRoundTrip<'_> {
    type Output = Result<(), String>;
    fn visit<A: Action + DeserializeOwned>(self) -> Self::Output {
        round_trip::<A::Response>(self.0)?;
        let body = serde_json::to_vec(&ResponseEnvelope { response: self.0 })
            .map_err(|e| e.to_string())?;
        match decode_response::<A::Response>(&body) {
            Ok(Ok(_)) => {}
            other => return Err(format!("decode_response: {other:?}")),
        }
        // A schema-conformant success reply passes the response check when it has a RequestId.
        if self.0.get("RequestId").is_some_and(Value::is_string) {
            check_response_json(A::NAME, self.0)?;
        }
        Ok(())
    }
}

struct DecodeAnything<'a>(&'a [u8]);

impl ActionVisitor for DecodeAnything<'_> {
    type Output = ();
    fn visit<A: Action + DeserializeOwned>(self) {
        let _ = decode_response::<A::Response>(self.0);
        let _ = serde_json::from_slice::<A>(self.0);
    }
}

/// Arbitrary JSON, biased towards the API's member names so decoding gets past the first level.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[0-9a-zA-Z.:/_-]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    let keys = prop_oneof![
        Just("Response".to_string()),
        Just("Error".to_string()),
        Just("Code".to_string()),
        Just("Message".to_string()),
        Just("RequestId".to_string()),
        Just("AppInfos".to_string()),
        Just("AppMd5".to_string()),
        Just("AppSize".to_string()),
        Just("ScanInfo".to_string()),
        Just("ScanSet".to_string()),
        Just("Filters".to_string()),
        Just("Progress".to_string()),
        "[A-Za-z]{1,8}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_requests_round_trip((action, v) in request_value()) {
        let r = visit_action(action, RequestRoundTrip(&v)).expect("known action");
        prop_assert!(r.is_ok(), "{action}: {}", r.unwrap_err());
    }

    #[test]
    fn generated_responses_round_trip((action, v) in response_value()) {
        let r = visit_action(action, ResponseRoundTrip(&v)).expect("known action");
        prop_assert!(r.is_ok(), "{action}: {}", r.unwrap_err());
    }

    #[test]
    fn arbitrary_json_never_panics(v in arbitrary_json()) {
        let wrapped = serde_json::json!({"Response": v.clone()});
        let bytes = [serde_json::to_vec(&v).unwrap(), serde_json::to_vec(&wrapped).unwrap()];
        for a in ACTIONS {
            let _ = validate_json(a.name, &v);
            let _ = check_response_json(a.name, &v);
            let _ = check_response_json(a.name, &wrapped);
            for b in &bytes {
                visit_action(a.name, DecodeAnything(b));
            }
        }
        let _ = validate_json("NoSuchAction", &v);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_response::<DescribeScanResultsResponse>(&bytes);
        let _ = decode_response::<CreateScanInstancesResponse>(&bytes);
    }

    #[test]
    fn error_envelopes_round_trip(code in "[A-Za-z]{1,10}(\\.[A-Za-z]{1,10})?", message in any::<String>(), id in proptest::option::of("[a-f0-9-]{8,36}")) {
        let e = ServiceError { code: ErrorCode::parse(&code), message, request_id: id };
        let body = serde_json::to_vec(&e.to_envelope()).unwrap();
        let back = decode_response::<DescribeUserBaseInfoInstanceResponse>(&body).unwrap().unwrap_err();
        prop_assert_eq!(back.code.as_str(), code.as_str());
        prop_assert_eq!(back, e);
    }
}
