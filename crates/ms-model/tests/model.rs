//! The generated model: actions, wire names, integer tolerance, envelopes, error codes.

use ms_model::*;
use serde_json::{Value, json};

/// The 48 business error codes of the service (errorcodes.py of tencentcloud-sdk-python-ms).
const SERVICE_CODES: [&str; 48] = [
    "AuthFailure",
    "AuthFailure.InvalidAuthorization",
    "FailedOperation",
    "InternalError",
    "InternalError.ApkServerError",
    "InternalError.ServerError",
    "InvalidParameter",
    "InvalidParameter.MissingServiceInfo",
    "InvalidParameter.ParameterError",
    "InvalidParameter.PlanIdNotFound",
    "InvalidParameterValue",
    "InvalidParameterValue.AndroidAppMd5Error",
    "InvalidParameterValue.AndroidAppPkgNameError",
    "InvalidParameterValue.AndroidAppPkgNameListError",
    "InvalidParameterValue.AndroidAppTypeError",
    "InvalidParameterValue.AndroidAppUrlError",
    "InvalidParameterValue.AndroidAssetsError",
    "InvalidParameterValue.AndroidEncryptParamError",
    "InvalidParameterValue.AndroidResError",
    "InvalidParameterValue.AndroidSoError",
    "InvalidParameterValue.AndroidVMPError",
    "InvalidParameterValue.AppletEncryptParamError",
    "InvalidParameterValue.CheckUrlError",
    "InvalidParameterValue.EncryptParamAppTypeError",
    "InvalidParameterValue.InvalidCoexistItemIdsFilters",
    "InvalidParameterValue.InvalidFilter",
    "InvalidParameterValue.InvalidItemIds",
    "InvalidParameterValue.InvalidLimit",
    "InvalidParameterValue.InvalidOffset",
    "InvalidParameterValue.InvalidOrderDirection",
    "InvalidParameterValue.InvalidOrderField",
    "LimitExceeded",
    "LimitExceeded.EncryptTaskLimitExceeded",
    "MissingParameter",
    "MissingParameter.MissingAppInfo",
    "MissingParameter.MissingItemId",
    "MissingParameter.MissingItemIds",
    "ResourceNotFound",
    "ResourceNotFound.ItemIdNotFound",
    "ResourceNotFound.PlanIdNotFound",
    "ResourceNotFound.ResultIdNotFound",
    "ResourceUnavailable",
    "ResourceUnavailable.NotBind",
    "ResourceUnavailable.NotFound",
    "UnauthorizedOperation",
    "UnauthorizedOperation.AuthFailed",
    "UnauthorizedOperation.NotWhiteUser",
    "UnsupportedOperation",
];

/// Gateway codes the emulator and the transport rely on.
const GATEWAY_CODES: &[&str] = &[
    "AuthFailure.SignatureExpire",
    "AuthFailure.SecretIdNotFound",
    "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure",
    "AuthFailure.InvalidSecretId",
    "AuthFailure.MFAFailure",
    "AuthFailure.UnauthorizedOperation",
    "RequestLimitExceeded",
    "RequestLimitExceeded.UinLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    "InvalidAction",
    "InvalidParameter",
    "InvalidParameterValue",
    "MissingParameter",
    "UnknownParameter",
    "UnsupportedProtocol",
    "UnsupportedRegion",
    "InvalidRequest",
    "NoSuchVersion",
    "RequestSizeLimitExceeded",
    "ResponseSizeLimitExceeded",
    "InternalError",
    "ServiceUnavailable",
    "ActionOffline",
];

#[test]
fn all_48_service_codes_and_the_gateway_codes_are_known() {
    for code in SERVICE_CODES.iter().chain(GATEWAY_CODES) {
        let c = ErrorCode::parse(code);
        assert!(!matches!(c, ErrorCode::Other(_)), "{code} is not generated");
        assert_eq!(c.as_str(), *code);
        assert!(c.description().is_some_and(|d| !d.is_empty()), "{code}");
        assert!(ErrorCode::KNOWN.contains(&c));
    }
    for code in GATEWAY_CODES {
        assert!(ErrorCode::parse(code).is_common(), "{code}");
    }
    assert!(!ErrorCode::parse("InvalidParameterValue.InvalidLimit").is_common());
    assert_eq!(
        ErrorCode::parse("AuthFailure.SignatureExpire"),
        ErrorCode::AuthFailureSignatureExpire
    );
    assert_eq!(
        ErrorCode::parse("RequestLimitExceeded"),
        ErrorCode::RequestLimitExceeded
    );
}

#[test]
fn every_documented_action_error_is_a_known_code() {
    for a in ACTIONS {
        for code in a.errors {
            assert!(
                !matches!(ErrorCode::parse(code), ErrorCode::Other(_)),
                "{}: {code}",
                a.name
            );
        }
    }
}

#[test]
fn unknown_codes_are_kept_verbatim() {
    let c = ErrorCode::parse("FailedOperation.Brand.New");
    assert_eq!(c, ErrorCode::Other("FailedOperation.Brand.New".into()));
    assert_eq!(c.to_string(), "FailedOperation.Brand.New");
    assert_eq!(c.description(), None);
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!("FailedOperation.Brand.New")
    );
    let back: ErrorCode = serde_json::from_value(json!("AuthFailure.TokenFailure")).unwrap();
    assert_eq!(back, ErrorCode::AuthFailureTokenFailure);
    assert_eq!(
        "InvalidAction".parse::<ErrorCode>().unwrap(),
        ErrorCode::InvalidAction
    );
}

#[test]
fn action_constants_come_from_the_tables() {
    assert_eq!(CreateScanInstancesRequest::NAME, "CreateScanInstances");
    assert_eq!(CreateScanInstancesRequest::VERSION, "2018-04-08");
    assert_eq!(CreateScanInstancesRequest::SERVICE, "ms");
    const { assert!(!CreateScanInstancesRequest::IDEMPOTENT) };
    const { assert!(DescribeScanResultsRequest::IDEMPOTENT) };
    const { assert!(!DeleteShieldInstancesRequest::IDEMPOTENT) };
    const { assert!(!CancelEncryptTaskRequest::IDEMPOTENT) };
    const { assert!(DescribeUserBaseInfoInstanceRequest::IDEMPOTENT) };
}

#[test]
fn actions_registry_lists_all_27_sorted() {
    assert_eq!(ACTIONS.len(), 27);
    assert!(ACTIONS.windows(2).all(|w| w[0].name < w[1].name));
    for a in ACTIONS {
        assert_eq!(a.idempotent, a.name.starts_with("Describe"), "{}", a.name);
        assert_eq!(action_info(a.name).map(|i| i.name), Some(a.name));
        assert_eq!(a.request.name, format!("{}Request", a.name));
        assert!(a.response.field("RequestId").is_some());
        assert!(!a.summary.is_empty());
    }
    let scan: Vec<&str> = ACTIONS
        .iter()
        .filter(|a| a.scan_workflow)
        .map(|a| a.name)
        .collect();
    assert_eq!(
        scan,
        [
            "CreateScanInstances",
            "DeleteScanInstances",
            "DescribeScanInstances",
            "DescribeScanResults"
        ]
    );
    assert!(
        ACTIONS
            .iter()
            .filter(|a| a.scan_workflow)
            .all(|a| a.availability == "removed")
    );
    assert_eq!(
        action_info("CreateEncryptInstance")
            .unwrap()
            .region_required,
        Some(true)
    );
    assert_eq!(
        action_info("CreateScanInstances").unwrap().region_required,
        Some(false)
    );
    assert!(action_info("Nope").is_none());
}

#[test]
fn structures_are_generated_with_their_table_names() {
    // One type per structure: a value of each of the 41 (compile-time check of the names).
    let _: (
        AdInfo,
        AndroidAppInfo,
        AndroidPlan,
        AndroidResult,
        AppDetailInfo,
        AppInfo,
        AppScanSet,
        AppSetInfo,
    ) = Default::default();
    let _: (
        AppletInfo,
        AppletPlan,
        AppletResult,
        BindInfo,
        EncryptResults,
        Filter,
        IOSInfo,
        IOSPlan,
    ) = Default::default();
    let _: (
        IOSResult,
        OptPluginListItem,
        Orders,
        PlanDetailInfo,
        PlanInfo,
        PluginInfo,
        PluginListItem,
    ) = Default::default();
    let _: (
        ResourceInfo,
        ResourceServiceInfo,
        ResultListItem,
        SDKPlan,
        SDKResult,
        ScanInfo,
        ScanPermissionInfo,
    ) = Default::default();
    let _: (
        ScanPermissionList,
        ScanSensitiveInfo,
        ScanSensitiveList,
        ScanSetInfo,
        ServiceInfo,
        ShieldInfo,
    ) = Default::default();
    let _: (ShieldPlanInfo, SoInfo, VirusInfo, VulInfo, VulList) = Default::default();
    assert_eq!(<AppInfo as HasSchema>::SCHEMA.fields.len(), 8);
}

#[test]
fn misspelled_wire_names_are_kept() {
    let r = AndroidResult {
        creat_time: Some("1".into()),
        ..Default::default()
    };
    assert_eq!(serde_json::to_value(&r).unwrap(), json!({"CreatTime": "1"}));
    let c = CreateCosSecKeyInstanceResponse {
        cos_tocken: Some("t".into()),
        cos_token: Some("u".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"CosTocken": "t", "CosToken": "u"})
    );
    let p = PlanInfo {
        seperate_dex: Some(1),
        ..Default::default()
    };
    assert_eq!(serde_json::to_value(&p).unwrap(), json!({"SeperateDex": 1}));
    let a: AdInfo = serde_json::from_value(
        json!({"BoutiqueRecommands": [{"PluginType": 5}], "FloatWindowses": []}),
    )
    .unwrap();
    assert_eq!(a.boutique_recommands.unwrap()[0].plugin_type, Some(5));
    assert_eq!(a.float_windowses, Some(vec![]));
    let r: ResultListItem = serde_json::from_value(json!({"Errno": "1", "ErrNo": "2"})).unwrap();
    assert_eq!(
        (r.errno.as_deref(), r.err_no.as_deref()),
        (Some("1"), Some("2"))
    );
}

#[test]
fn request_integers_accept_numeric_strings_and_serialize_numbers() {
    let app: AppInfo =
        serde_json::from_value(json!({"AppUrl": "u", "AppMd5": "m", "AppSize": "1024"})).unwrap();
    assert_eq!(app.app_size, Some(1024));
    assert_eq!(serde_json::to_value(&app).unwrap()["AppSize"], json!(1024));
    let req: DescribeResourceInstancesRequest =
        serde_json::from_value(json!({"Pids": ["13624", 12750], "Limit": "20", "Offset": 0}))
            .unwrap();
    assert_eq!(req.pids, Some(vec![13624, 12750]));
    assert_eq!(req.limit, Some(20));
    let req: DescribeEncryptInstancesRequest =
        serde_json::from_value(json!({"PlatformType": "-1", "EncryptState": ["0", 5]})).unwrap();
    assert_eq!(req.platform_type, Some(-1));
    assert_eq!(req.encrypt_state, Some(vec![0, 5]));
    let req: CreateResourceInstancesRequest = serde_json::from_value(
        json!({"Pid": "12750", "TimeUnit": "m", "TimeSpan": "6", "ResourceNum": 10}),
    )
    .unwrap();
    assert_eq!((req.pid, req.time_span, req.resource_num), (12750, 6, 10));
    // Not numbers: rejected with a message naming the expectation.
    for bad in [
        json!("12a"),
        json!("-1"),
        json!(" 1"),
        json!("+1"),
        json!(1.5),
        json!(true),
        json!("18446744073709551616"),
    ] {
        let e = serde_json::from_value::<AppInfo>(
            json!({"AppUrl": "u", "AppMd5": "m", "AppSize": bad.clone()}),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("unsigned 64-bit integer"),
            "{bad}: {e}"
        );
    }
    // Null and absent are None.
    let app: AppInfo =
        serde_json::from_value(json!({"AppUrl": "u", "AppMd5": "m", "AppSize": null})).unwrap();
    assert_eq!(app.app_size, None);
}

#[test]
fn response_integers_are_strict_and_every_member_optional() {
    let r: CreateScanInstancesResponse = serde_json::from_value(json!({})).unwrap();
    assert_eq!(r, CreateScanInstancesResponse::default());
    let r: CreateScanInstancesResponse =
        serde_json::from_value(json!({"Progress": null, "RequestId": "x"})).unwrap();
    assert_eq!((r.progress, r.request_id.as_deref()), (None, Some("x")));
    assert!(
        serde_json::from_value::<CreateScanInstancesResponse>(json!({"Progress": "1"})).is_err()
    );
    let r: CancelEncryptTaskResponse = serde_json::from_value(json!({"State": -1})).unwrap();
    assert_eq!(r.state, Some(-1));
}

#[test]
fn optional_inputs_are_skipped_when_none() {
    let req = DescribeScanInstancesRequest {
        limit: Some(10),
        ..Default::default()
    };
    assert_eq!(serde_json::to_value(&req).unwrap(), json!({"Limit": 10}));
    assert_eq!(
        serde_json::to_value(DescribeUserBaseInfoInstanceRequest {}).unwrap(),
        json!({})
    );
}

#[test]
fn decode_response_success_and_error_envelopes() {
    let ok =
        br#"{"Response": {"ItemId": "i-1", "Progress": 2, "AppMd5s": [], "RequestId": "r-1"}}"#;
    let r = decode_response::<CreateScanInstancesResponse>(ok)
        .unwrap()
        .unwrap();
    assert_eq!(r.item_id.as_deref(), Some("i-1"));
    assert_eq!(r.progress, Some(2));
    assert_eq!(r.request_id.as_deref(), Some("r-1"));

    let err = br#"{"Response": {"Error": {"Code": "AuthFailure.SignatureExpire", "Message": "expired"}, "RequestId": "r-2"}}"#;
    let e = decode_response::<CreateScanInstancesResponse>(err)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthFailureSignatureExpire);
    assert_eq!(e.message, "expired");
    assert_eq!(e.request_id.as_deref(), Some("r-2"));
    assert_eq!(
        e.to_string(),
        "AuthFailure.SignatureExpire: expired (RequestId: r-2)"
    );
    // The wire form round-trips.
    let v = serde_json::to_value(e.to_envelope()).unwrap();
    assert_eq!(v, serde_json::from_slice::<Value>(err).unwrap());

    let other = br#"{"Response": {"Error": {"Code": "Brand.New"}}}"#;
    let e = decode_response::<DescribeShieldResultResponse>(other)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Other("Brand.New".into()));
    assert_eq!((e.message.as_str(), e.request_id), ("", None));
}

#[test]
fn decode_response_rejects_what_is_not_an_envelope() {
    let cases: [(&[u8], &str); 7] = [
        (b"not json", "response body is not valid JSON"),
        (
            b"[]",
            "malformed response envelope: expected a JSON object, got []",
        ),
        (b"{}", "malformed response envelope: missing `Response`"),
        (
            br#"{"Response": 1}"#,
            "malformed response envelope: `Response` is not an object, got 1",
        ),
        (
            br#"{"Response": {"Error": {"Message": "m"}}}"#,
            "`Response.Error.Code` is missing or not a string",
        ),
        (
            br#"{"Response": {"Error": {"Code": "X", "Message": 5}}}"#,
            "`Response.Error.Message` is not a string",
        ),
        (
            br#"{"Response": {"Progress": "soon"}}"#,
            r#"response does not match the expected type: invalid type: string "soon", expected u64 at line 1 column 32"#,
        ),
    ];
    for (body, want) in cases {
        let e = decode_response::<CreateScanInstancesResponse>(body).unwrap_err();
        assert!(
            e.to_string().contains(want),
            "{}: {e}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn check_response_json_is_strict() {
    let good = json!({"Response": {"ItemId": "i", "Progress": 1, "RequestId": "r"}});
    check_response_json("CreateScanInstances", &good).unwrap();
    check_response_json("CreateScanInstances", &good["Response"]).unwrap();
    let cases = [
        (
            json!({"Response": {"ItemId": "i"}}),
            "RequestId: expected a string",
        ),
        (
            json!({"Response": {"Progress": "1", "RequestId": "r"}}),
            r#"Progress: expected an unsigned integer, got "1""#,
        ),
        (
            json!({"Response": {"Extra": 1, "RequestId": "r"}}),
            "Extra: unknown member (not in CreateScanInstancesResponse)",
        ),
        (
            json!({"Response": {"AppMd5s": "a", "RequestId": "r"}}),
            r#"AppMd5s: expected an array, got "a""#,
        ),
        (
            json!({"Response": {"Error": {"Code": 1, "Message": "m"}, "RequestId": "r"}}),
            "Error.Code: expected a string",
        ),
        (
            json!({"Response": {"Error": {"Code": "C", "Message": "m"}, "RequestId": "r", "ItemId": "i"}}),
            "ItemId: unexpected member next to Error",
        ),
        (json!([]), "expected the Response object, got an array"),
    ];
    for (body, want) in cases {
        let e = check_response_json("CreateScanInstances", &body).unwrap_err();
        assert!(e.contains(want), "{body}: {e}");
    }
    let nested =
        json!({"Response": {"ScanSet": [{"AppDetailInfo": {"AppSize": -5}}], "RequestId": "r"}});
    assert_eq!(
        check_response_json("DescribeScanResults", &nested).unwrap_err(),
        "ScanSet[0].AppDetailInfo.AppSize: expected an unsigned integer, got -5"
    );
    check_response_json(
        "DescribeScanResults",
        &json!({"Response": {"Error": {"Code": "C", "Message": "m"}, "RequestId": "r"}}),
    )
    .unwrap();
    assert_eq!(
        check_response_json("Nope", &good).unwrap_err(),
        "unknown action `Nope`"
    );
}

#[test]
fn schema_exposes_constraints_for_tools() {
    use ms_model::schema::{Constraint, Kind};
    let info = action_info("DescribeScanInstances").unwrap();
    let limit = info.request.field("Limit").unwrap();
    assert!(matches!(limit.kind, Kind::UInt64));
    assert!(limit.constraints.contains(&Constraint::Max(100)));
    assert!(limit.constraints.contains(&Constraint::Default("20")));
    let filters = info.request.field("Filters").unwrap();
    assert!(filters.array);
    assert_eq!(filters.kind.name(), "Filter");
}

/// Secret members (`{secret: true}` in the tables) never show in `Debug`, for every action's
/// request and response (schema-driven, so a newly tagged member is covered too).
#[test]
fn secret_members_are_redacted_in_debug() {
    use ms_model::schema::{Constraint, Kind, StructSchema};

    struct DebugOf(Value, bool);
    impl ActionVisitor for DebugOf {
        type Output = String;
        fn visit<A: Action + serde::de::DeserializeOwned>(self) -> String {
            if self.1 {
                format!(
                    "{:?}",
                    serde_json::from_value::<A::Response>(self.0).unwrap()
                )
            } else {
                format!("{:?}", serde_json::from_value::<A>(self.0).unwrap())
            }
        }
    }
    fn secrets(schema: &StructSchema) -> Vec<&'static str> {
        schema
            .fields
            .iter()
            .filter(|f| f.has(|c| matches!(c, Constraint::Secret)))
            .inspect(|f| assert!(matches!(f.kind, Kind::String) && !f.array, "{}", f.name))
            .map(|f| f.name)
            .collect()
    }
    let mut checked = 0;
    for info in ACTIONS {
        for (schema, response) in [(info.request, false), (info.response, true)] {
            let names = secrets(schema);
            if names.is_empty() {
                continue;
            }
            let mut v = serde_json::Map::new();
            for name in &names {
                v.insert((*name).to_owned(), json!(format!("SENTINEL-{name}")));
            }
            let shown = visit_action(info.name, DebugOf(Value::Object(v), response)).unwrap();
            for name in &names {
                assert!(!shown.contains("SENTINEL"), "{}.{name}: {shown}", info.name);
                checked += 1;
            }
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }
    assert!(
        checked >= 3,
        "CosKey, CosToken, CosTocken at least: {checked}"
    );

    // The other members still show.
    let r = CreateCosSecKeyInstanceResponse {
        cos_id: Some("AKIDtemp".into()),
        cos_key: Some("temp-secret-key".into()),
        cos_token: Some("temp-token".into()),
        request_id: Some("r-1".into()),
        ..Default::default()
    };
    let shown = format!("{r:?} {r:#?}");
    assert!(
        shown.contains("AKIDtemp") && shown.contains("r-1"),
        "{shown}"
    );
    assert!(
        !shown.contains("temp-secret-key") && !shown.contains("temp-token"),
        "{shown}"
    );
}

#[test]
fn every_known_code_round_trips_through_text_and_serde() {
    assert!(ErrorCode::KNOWN.len() >= SERVICE_CODES.len() + GATEWAY_CODES.len());
    assert_eq!(SERVICE_CODES.len(), 48);
    for c in ErrorCode::KNOWN {
        assert_eq!(&ErrorCode::parse(c.as_str()), c);
        assert_eq!(&c.to_string().parse::<ErrorCode>().unwrap(), c);
        let v = serde_json::to_value(c).unwrap();
        assert_eq!(v, json!(c.as_str()));
        assert_eq!(&serde_json::from_value::<ErrorCode>(v).unwrap(), c);
    }
}
