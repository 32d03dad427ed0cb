//! Bad input never breaks the server: random parameters and bodies always get an envelope.

mod common;

use std::sync::Arc;

use common::*;
use ms_emulator::ManualClock;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

const NAMES: &[&str] = &[
    "AppInfos",
    "AppMd5",
    "AppUrl",
    "AppSize",
    "ScanInfo",
    "ScanTypes",
    "CallbackUrl",
    "ItemId",
    "ItemIds",
    "AppMd5s",
    "AppSids",
    "Filters",
    "Name",
    "Value",
    "Limit",
    "Offset",
    "OrderField",
    "OrderDirection",
    "x",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "[a-zA-Z0-9:/._-]{0,12}".prop_map(Value::String),
        Just(Value::String("dd5b29a800246d7089febf228286d901".into())),
        Just(Value::String("VULSCAN".into())),
        Just(Value::String("http://127.0.0.1:9/cb".into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(NAMES), inner), 0..6).prop_map(
                |kv| Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>()
                )
            ),
        ]
    })
}

#[test]
fn random_parameters_and_bodies_always_get_an_envelope() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = rt.block_on(start(config(&clock).with_rate_limit(0)));
    let c = Client::new(&emu, &clock);
    const ACTIONS: &[&str] = &[
        "CreateScanInstances",
        "DescribeScanInstances",
        "DescribeScanResults",
        "DeleteScanInstances",
        "CreateShieldInstance",
    ];
    let mut runner = TestRunner::new(Config {
        cases: 192,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(
                proptest::sample::select(ACTIONS),
                json_value(),
                proptest::collection::vec(any::<u8>(), 0..64),
            ),
            |(action, params, raw)| {
                rt.block_on(async {
                    for (body, get) in [
                        (params.to_string(), false),
                        (String::from_utf8_lossy(&raw).into_owned(), false),
                        (String::new(), true),
                    ] {
                        let req = if get {
                            let q = tc3_sign::form_urlencode(&tc3_sign::flatten_params(&params));
                            c.tc3_request(
                                "GET",
                                action,
                                &q,
                                "",
                                "application/x-www-form-urlencoded",
                                c.now(),
                            )
                        } else {
                            c.tc3_post_request(action, &body, c.now())
                        };
                        let r = c.send(req).await.map_err(TestCaseError::fail)?;
                        prop_assert_eq!(r.status, 200);
                        prop_assert_eq!(&r.headers["content-type"], "application/json");
                        let v: Value = serde_json::from_slice(&r.body)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                        if v["Response"]["Error"].is_object() {
                            prop_assert!(v["Response"]["Error"]["Code"].is_string());
                            prop_assert!(v["Response"]["RequestId"].is_string());
                        } else {
                            ms_model::check_response_json(action, &v)
                                .map_err(TestCaseError::fail)?;
                        }
                    }
                    Ok(())
                })
            },
        )
        .unwrap();
    rt.block_on(emu.shutdown());
}
