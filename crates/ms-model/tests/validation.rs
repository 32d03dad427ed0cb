//! Validation: a named corpus of bad requests, each with the exact violations expected.

use ms_model::*;
use serde_json::{Value, json};

fn app(md5: &str) -> Value {
    json!({"AppUrl": "https://example.com/a.apk", "AppMd5": md5, "AppSize": 1024})
}

fn scan(apps: Vec<Value>) -> Value {
    json!({"AppInfos": apps, "ScanInfo": {"CallbackUrl": "https://example.com/cb", "ScanTypes": ["VULSCAN"]}})
}

const MD5: &str = "dd5b29a800246d7089febf228286d901";

fn encrypt(android_app: Value, plan: Value) -> Value {
    json!({
        "PlatformType": 1, "OrderType": 1, "EncryptOpType": 1, "ResourceId": "r-1",
        "AndroidAppInfo": android_app, "AndroidPlan": plan,
    })
}

/// (case name, action, params, expected violations as (path, message)).
/// A named bad request: (case name, action, params, expected violations as (path, message)).
type Case = (
    &'static str,
    &'static str,
    Value,
    Vec<(&'static str, String)>,
);

fn corpus() -> Vec<Case> {
    let mut too_many: Vec<Value> = (0..21).map(|_| app(MD5)).collect();
    too_many[3] = app("xyz");
    vec![
        (
            "md5_not_hex",
            "CreateScanInstances",
            scan(vec![app("xyz")]),
            vec![("AppInfos[0].AppMd5", r#"expected 32 hex digits, got "xyz""#.into())],
        ),
        (
            "too_many_apps_and_a_bad_md5_both_reported",
            "CreateScanInstances",
            scan(too_many),
            vec![
                ("AppInfos[3].AppMd5", r#"expected 32 hex digits, got "xyz""#.into()),
                ("AppInfos", "expected at most 20 items, got 21".into()),
            ],
        ),
        ("no_apps", "CreateScanInstances", scan(vec![]), vec![("AppInfos", "expected at least 1 item, got 0".into())]),
        (
            "missing_required_members",
            "CreateScanInstances",
            json!({"AppInfos": [{"AppMd5": MD5}]}),
            vec![("AppInfos[0].AppUrl", "is required".into()), ("ScanInfo", "is required".into())],
        ),
        (
            "null_counts_as_missing",
            "CreateScanInstances",
            json!({"AppInfos": [app(MD5)], "ScanInfo": null}),
            vec![("ScanInfo", "is required".into())],
        ),
        (
            "unknown_scan_type",
            "CreateScanInstances",
            json!({"AppInfos": [app(MD5)], "ScanInfo": {"CallbackUrl": "http://e.com/cb", "ScanTypes": ["VULSCAN", "FOO"]}}),
            vec![(
                "ScanInfo.ScanTypes[1]",
                r#"expected one of VULSCAN, VIRUSSCAN, ADSCAN, PLUGINSCAN, PERMISSION, SENSITIVE, got "FOO""#.into(),
            )],
        ),
        (
            "empty_scan_type_is_not_a_scan_type",
            "CreateScanInstances",
            json!({"AppInfos": [app(MD5)], "ScanInfo": {"CallbackUrl": "http://e.com/cb", "ScanTypes": [""]}}),
            vec![(
                "ScanInfo.ScanTypes[0]",
                r#"expected one of VULSCAN, VIRUSSCAN, ADSCAN, PLUGINSCAN, PERMISSION, SENSITIVE, got """#.into(),
            )],
        ),
        (
            "callback_scheme_with_non_ascii_after_it",
            "CreateScanInstances",
            json!({"AppInfos": [app(MD5)], "ScanInfo": {"CallbackUrl": "httpé://e.com/cb", "ScanTypes": ["ADSCAN"]}}),
            vec![("ScanInfo.CallbackUrl", r#"expected an http(s) URL, got "httpé://e.com/cb""#.into())],
        ),
        (
            "callback_not_http",
            "CreateScanInstances",
            json!({"AppInfos": [app(MD5)], "ScanInfo": {"CallbackUrl": "ftp://e.com/cb", "ScanTypes": ["ADSCAN"]}}),
            vec![("ScanInfo.CallbackUrl", r#"expected an http(s) URL, got "ftp://e.com/cb""#.into())],
        ),
        (
            "app_url_without_host",
            "CreateScanInstances",
            scan(vec![json!({"AppUrl": "https://", "AppMd5": MD5})]),
            vec![("AppInfos[0].AppUrl", r#"expected an http(s) URL, got "https://""#.into())],
        ),
        (
            "app_url_port_not_a_number",
            "CreateScanInstances",
            scan(vec![json!({"AppUrl": "https://e.com:notaport/a.apk", "AppMd5": MD5})]),
            vec![("AppInfos[0].AppUrl", r#"expected an http(s) URL, got "https://e.com:notaport/a.apk""#.into())],
        ),
        (
            "app_url_with_user_info",
            "CreateScanInstances",
            scan(vec![json!({"AppUrl": "https://user@e.com/a.apk", "AppMd5": MD5})]),
            vec![("AppInfos[0].AppUrl", r#"expected an http(s) URL, got "https://***@e.com/a.apk""#.into())],
        ),
        (
            "app_url_unclosed_ipv6_bracket",
            "CreateScanInstances",
            scan(vec![json!({"AppUrl": "http://[::1", "AppMd5": MD5})]),
            vec![("AppInfos[0].AppUrl", r#"expected an http(s) URL, got "http://[::1""#.into())],
        ),
        (
            "app_size_not_numeric",
            "CreateScanInstances",
            scan(vec![json!({"AppUrl": "http://e.com/a", "AppMd5": MD5, "AppSize": "12a"})]),
            vec![("AppInfos[0].AppSize", r#"expected an unsigned integer, got "12a""#.into())],
        ),
        (
            "app_size_negative",
            "CreateScanInstances",
            scan(vec![json!({"AppUrl": "http://e.com/a", "AppMd5": MD5, "AppSize": -1})]),
            vec![("AppInfos[0].AppSize", "expected an unsigned integer, got -1".into())],
        ),
        (
            "app_size_fractional",
            "CreateScanInstances",
            scan(vec![json!({"AppUrl": "http://e.com/a", "AppMd5": MD5, "AppSize": 1.5})]),
            vec![("AppInfos[0].AppSize", "expected an unsigned integer, got 1.5".into())],
        ),
        (
            "unknown_parameter",
            "CreateScanInstances",
            {
                let mut v = scan(vec![app(MD5)]);
                v["Colour"] = json!("red");
                v["AppInfos"][0]["Extra"] = json!(1);
                v
            },
            vec![
                ("Colour", "unknown parameter (not a member of CreateScanInstancesRequest)".into()),
                ("AppInfos[0].Extra", "unknown parameter (not a member of AppInfo)".into()),
            ],
        ),
        (
            "filters_with_item_ids",
            "DescribeScanInstances",
            json!({"Filters": [{"Name": "AppName", "Value": "x"}], "ItemIds": ["a"]}),
            vec![("Filters", "cannot be combined with ItemIds".into())],
        ),
        (
            "limit_out_of_range_and_bad_order",
            "DescribeShieldInstances",
            json!({"Limit": 101, "Offset": "0", "OrderDirection": "up", "OrderField": "AppName"}),
            vec![
                ("Limit", "expected at most 100, got 101".into()),
                ("OrderField", r#"expected one of TaskTime, got "AppName""#.into()),
                ("OrderDirection", r#"expected one of asc, desc, got "up""#.into()),
            ],
        ),
        ("limit_zero_as_string", "DescribeResourceInstances", json!({"Limit": "0"}), vec![("Limit", "expected at least 1, got 0".into())]),
        (
            "unknown_filter_name",
            "DescribeScanInstances",
            json!({"Filters": [{"Name": "AppName", "Value": "x"}, {"Name": "Size", "Value": "1"}]}),
            vec![("Filters[1].Name", r#"expected one of AppName, AppPkgName, got "Size""#.into())],
        ),
        (
            "filter_without_name",
            "DescribeScanInstances",
            json!({"Filters": [{"Value": "x"}]}),
            vec![("Filters[0].Name", "is required".into())],
        ),
        (
            "platform_type_out_of_enum",
            "DescribeEncryptPlan",
            json!({"PlatformType": 5, "OrderType": "2", "EncryptOpType": 1, "ResourceId": "r"}),
            vec![("PlatformType", "expected one of 1, 2, 3, 4, got 5".into())],
        ),
        (
            "online_hardening_needs_md5_and_url",
            "CreateEncryptInstance",
            encrypt(json!({"AppPkgName": "com.a", "AppType": "apk"}), json!({"AppPkgName": "com.a", "AppType": "apk", "EncryptParam": "{}"})),
            vec![
                ("AndroidAppInfo.AppMd5", "is required when EncryptOpType == 1".into()),
                ("AndroidAppInfo.AppUrl", "is required when EncryptOpType == 1".into()),
            ],
        ),
        (
            "package_names_must_agree",
            "CreateEncryptInstance",
            encrypt(
                json!({"AppMd5": MD5, "AppUrl": "https://e.com/a.apk", "AppPkgName": "com.a", "AppType": "aab"}),
                json!({"AppPkgName": "com.b", "AppType": "aab", "EncryptParam": "{\"dex\": {\"enable\": 1}}"}),
            ),
            vec![
                ("AndroidAppInfo.AppPkgName", r#"must equal AndroidPlan.AppPkgName ("com.b"), got "com.a""#.into()),
                ("AndroidPlan.AppPkgName", r#"must equal AndroidAppInfo.AppPkgName ("com.a"), got "com.b""#.into()),
            ],
        ),
        (
            "encrypt_param_not_json_and_android_plan_needed",
            "CreateEncryptInstance",
            encrypt(json!({"AppMd5": MD5, "AppUrl": "https://e.com/a.apk", "AppType": "zip"}), json!({"EncryptParam": "{dex"})),
            vec![
                ("AndroidAppInfo.AppType", r#"expected one of apk, aab, got "zip""#.into()),
                (
                    "AndroidPlan.EncryptParam",
                    r#"expected a JSON document, got "{dex" (key must be a string at line 1 column 2)"#.into(),
                ),
            ],
        ),
        (
            "applet_name_needs_zip",
            "CreateEncryptInstance",
            json!({"PlatformType": 4, "OrderType": 1, "EncryptOpType": 1, "ResourceId": "r",
                   "AppletInfo": {"AppletJsUrl": "https://e.com/a.zip", "AppletLevel": 4, "Name": "out.tar"}}),
            vec![
                ("AppletInfo.AppletLevel", "expected one of 1, 2, 3, got 4".into()),
                ("AppletInfo.Name", r#"expected a value ending in ".zip", got "out.tar""#.into()),
            ],
        ),
        (
            "package_list_too_long_and_required",
            "CreateOrderInstance",
            json!({"PlatformType": 1, "OrderType": 2, "AppPkgNameList": (0..11).map(|i| format!("a.b{i}")).collect::<Vec<_>>().join(",")}),
            vec![("AppPkgNameList", "expected at most 10 values, got 11".into())],
        ),
        (
            "package_list_required_for_android_annual",
            "CreateOrderInstance",
            json!({"PlatformType": 1, "OrderType": "2"}),
            vec![("AppPkgNameList", "is required when PlatformType == 1 && OrderType == 2".into())],
        ),
        (
            "package_list_empty_item",
            "CreateOrderInstance",
            json!({"PlatformType": 2, "OrderType": 3, "AppPkgNameList": "a.b,,c.d"}),
            vec![("AppPkgNameList", r#"expected comma-separated non-empty values, got "a.b,,c.d""#.into())],
        ),
        ("empty_required_string", "DescribeShieldResult", json!({"ItemId": ""}), vec![("ItemId", "must not be empty".into())]),
        ("number_for_string", "DescribeShieldResult", json!({"ItemId": 5}), vec![("ItemId", "expected a string, got 5".into())]),
        (
            "object_for_array",
            "DeleteShieldInstances",
            json!({"ItemIds": {"0": "a"}}),
            vec![("ItemIds", r#"expected an array, got {"0":"a"}"#.into())],
        ),
        ("params_not_an_object", "DescribeUserBaseInfoInstance", json!([1]), vec![("", "expected an object, got [1]".into())]),
        ("unknown_action", "DescribeEverything", json!({}), vec![("Action", "unknown action `DescribeEverything`".into())]),
        (
            "shield_callback_may_be_empty_but_edition_checked",
            "CreateShieldInstance",
            json!({"AppInfo": app(MD5), "ServiceInfo": {"CallbackUrl": "", "SubmitSource": "MC", "ServiceEdition": "gold"}}),
            vec![("ServiceInfo.ServiceEdition", r#"expected one of basic, professional, enterprise, got "gold""#.into())],
        ),
    ]
}

#[test]
fn bad_request_corpus_reports_every_violation_with_its_path() {
    let mut failures = Vec::new();
    for (name, action, params, want) in corpus() {
        let got = match validate_json(action, &params) {
            Ok(()) => Vec::new(),
            Err(e) => e.0,
        };
        let got: Vec<(String, String)> = got.into_iter().map(|v| (v.path, v.message)).collect();
        let want: Vec<(String, String)> =
            want.into_iter().map(|(p, m)| (p.to_string(), m)).collect();
        if got != want {
            failures.push(format!("{name}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn good_requests_pass() {
    let ok = [
        (
            "CreateScanInstances",
            scan(vec![app(MD5), app(&MD5.to_uppercase())]),
        ),
        // Common parameters next to the action's own are ignored.
        (
            "DescribeScanInstances",
            json!({"Action": "DescribeScanInstances", "Version": "2018-04-08", "Region": "ap-guangzhou", "Limit": "100"}),
        ),
        // An empty list does not conflict with the other member.
        (
            "DescribeScanInstances",
            json!({"Filters": [], "ItemIds": ["a"]}),
        ),
        ("DescribeUserBaseInfoInstance", json!({})),
        // GET-style: every value a string.
        (
            "DescribeResourceInstances",
            json!({"Pids": ["13624"], "Offset": "0", "Limit": "20"}),
        ),
        (
            "CreateShieldInstance",
            json!({"AppInfo": app(MD5), "ServiceInfo": {"CallbackUrl": "", "SubmitSource": "MC", "ServiceEdition": "basic"}}),
        ),
        (
            "CreateOrderInstance",
            json!({"PlatformType": 1, "OrderType": 2, "AppPkgNameList": "a.b,c.d"}),
        ),
        // Internationalized host names right after the scheme (a multi-byte character at
        // byte 7 or 8), any case of the scheme.
        (
            "CreateScanInstances",
            json!({"AppInfos": [{"AppUrl": "http://例子.测试/a.apk", "AppMd5": MD5}],
                   "ScanInfo": {"CallbackUrl": "HTTPS://é.example/cb", "ScanTypes": ["VULSCAN"]}}),
        ),
    ];
    for (action, params) in ok {
        if let Err(e) = validate_json(action, &params) {
            panic!("{action} {params}: {e}");
        }
    }
}

#[test]
fn typed_validate_reports_the_same_paths() {
    let mut req = CreateScanInstancesRequest {
        app_infos: (0..21)
            .map(|_| AppInfo {
                app_url: "https://example.com/a.apk".into(),
                app_md5: MD5.into(),
                ..Default::default()
            })
            .collect(),
        scan_info: ScanInfo {
            callback_url: "https://example.com/cb".into(),
            scan_types: vec!["VULSCAN".into()],
        },
    };
    req.app_infos[3].app_md5 = "xyz".into();
    let e = req.validate().unwrap_err();
    assert_eq!(e.0.len(), 2);
    assert_eq!(
        e.0[0].to_string(),
        r#"AppInfos[3].AppMd5: expected 32 hex digits, got "xyz""#
    );
    assert_eq!(
        e.0[1].to_string(),
        "AppInfos: expected at most 20 items, got 21"
    );
    assert_eq!(
        e.to_string(),
        r#"2 invalid parameters: AppInfos[3].AppMd5: expected 32 hex digits, got "xyz"; AppInfos: expected at most 20 items, got 21"#
    );
    assert!(e.at("AppInfos").is_some());
    // The same checks on the serialized value (serialize once, validate and send it).
    let v = serde_json::to_value(&req).unwrap();
    assert_eq!(
        CreateScanInstancesRequest::validate_value(&v).unwrap_err(),
        e
    );
    req.app_infos.truncate(3);
    req.validate().unwrap();
    CreateScanInstancesRequest::validate_value(&serde_json::to_value(&req).unwrap()).unwrap();
    // Structures validate on their own too.
    AppInfo {
        app_url: "x".into(),
        app_md5: MD5.into(),
        ..Default::default()
    }
    .validate()
    .unwrap_err();
}

#[test]
fn typed_required_strings_must_not_be_empty() {
    let req = DescribeShieldResultRequest::default();
    let e = req.validate().unwrap_err();
    assert_eq!(e.to_string(), "ItemId: must not be empty");
}

#[test]
fn urls_with_ports_and_ipv6_hosts_pass() {
    for url in [
        "https://e.com:8443/a.apk",
        "http://127.0.0.1:8080/a.apk?x=1",
        "HTTPS://E.COM/a.apk",
        "http://[::1]/a.apk",
        "http://[::1]:9000",
        "https://e.com/a@b.apk",
    ] {
        let params = scan(vec![json!({"AppUrl": url, "AppMd5": MD5})]);
        assert_eq!(
            validate_json("CreateScanInstances", &params),
            Ok(()),
            "{url}"
        );
    }
}

#[test]
fn violations_carry_their_kind_whatever_the_value_says() {
    let kinds = |params: Value| -> Vec<(String, ViolationKind)> {
        validate_json("CreateScanInstances", &params)
            .expect_err("invalid")
            .violations()
            .iter()
            .map(|v| (v.path.clone(), v.kind))
            .collect()
    };
    // A value that reads like another kind of problem is still an invalid value: callers
    // match the kind, never the message (which quotes the value).
    let mut wordy = scan(vec![app("is required; unknown parameter; missing")]);
    wordy["Extra"] = json!(1);
    assert_eq!(
        kinds(wordy),
        [
            ("Extra".to_owned(), ViolationKind::Unknown),
            ("AppInfos[0].AppMd5".to_owned(), ViolationKind::Invalid),
        ]
    );
    assert_eq!(
        kinds(json!({"AppInfos": [{"AppMd5": MD5}]})),
        [
            ("AppInfos[0].AppUrl".to_owned(), ViolationKind::Missing),
            ("ScanInfo".to_owned(), ViolationKind::Missing),
        ]
    );
    let unknown_action = validate_json("NoSuchAction", &json!({})).expect_err("unknown");
    assert_eq!(unknown_action.violations()[0].kind, ViolationKind::Unknown);
}
