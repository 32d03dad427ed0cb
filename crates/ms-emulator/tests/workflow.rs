//! The scan workflow over real HTTP, on the emulator's injected clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use ms_emulator::{Emulator, ManualClock};
use serde_json::{Value, json};

async fn setup() -> (Emulator, Client, Arc<ManualClock>) {
    let (clock, emu, client) = started(config).await;
    (emu, client, clock)
}

fn statuses(v: &Value) -> Vec<u64> {
    v["ScanSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["TaskStatus"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn create_describe_results_delete() {
    let (emu, c, clock) = setup().await;
    let (a, b) = (md5("app-a"), md5("app-b"));
    let created = c
        .ok(
            "CreateScanInstances",
            &create_params(&[&a, &b], "http://example.com/cb"),
        )
        .await;
    let item = created["ItemId"].as_str().unwrap().to_owned();
    assert_eq!(created["AppMd5s"], json!([a, b]));
    assert_eq!(created["Progress"], 2);
    assert_eq!(created["LimitCount"], 998);
    assert!(created["LimitTime"].as_u64().unwrap() > T0_MS / 1000);

    // Processing until the simulated scan time has passed.
    let listed = c
        .ok("DescribeScanInstances", &json!({"ItemIds": [item]}))
        .await;
    assert_eq!(listed["TotalCount"], 2);
    assert_eq!(statuses(&listed), vec![2, 2]);
    let pending = c.ok("DescribeScanResults", &json!({"ItemId": item})).await;
    assert_eq!(pending["ScanSet"][0]["TaskStatus"], 2);
    assert_eq!(pending["ScanSet"][0]["VulInfo"]["VulList"], json!([]));

    clock.advance(Duration::from_millis(1000));
    let listed = c
        .ok("DescribeScanInstances", &json!({"ItemIds": [item]}))
        .await;
    assert_eq!(statuses(&listed), vec![1, 1]);
    let sids: Vec<String> = listed["ScanSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["AppSid"].as_str().unwrap().to_owned())
        .collect();
    assert_ne!(sids[0], sids[1]);

    let results = c.ok("DescribeScanResults", &json!({"ItemId": item})).await;
    assert_eq!(results["TotalCount"], 2);
    for s in results["ScanSet"].as_array().unwrap() {
        assert_eq!(s["TaskStatus"], 1);
        assert_eq!(s["StatusCode"], 0);
        assert!(!s["VulInfo"]["VulList"].as_array().unwrap().is_empty());
        assert!([1, 2, 3].contains(&s["VirusInfo"]["SafeType"].as_i64().unwrap()));
        assert!(
            s["PermissionInfo"]["PermissionList"]
                .as_array()
                .unwrap()
                .len()
                >= 3
        );
        for key in [
            "Spots",
            "BoutiqueRecommands",
            "FloatWindowses",
            "Banners",
            "IntegralWalls",
            "NotifyBars",
        ] {
            assert!(s["AdInfo"][key].is_array());
        }
    }
    let one = c
        .ok(
            "DescribeScanResults",
            &json!({"ItemId": item, "AppMd5s": [b]}),
        )
        .await;
    assert_eq!(one["TotalCount"], 1);
    assert_eq!(one["ScanSet"][0]["AppDetailInfo"]["AppMd5"], b.as_str());

    let del = c
        .ok("DeleteScanInstances", &json!({"AppSids": [sids[0]]}))
        .await;
    assert_eq!(del["Progress"], 1);
    let listed = c
        .ok("DescribeScanInstances", &json!({"ItemIds": [item]}))
        .await;
    assert_eq!(listed["TotalCount"], 1);
    c.ok("DeleteScanInstances", &json!({"AppSids": [sids[1]]}))
        .await;
    assert_eq!(
        c.err("DescribeScanResults", &json!({"ItemId": item})).await,
        "ResourceNotFound.ItemIdNotFound"
    );
    assert_eq!(
        c.err("DeleteScanInstances", &json!({"AppSids": [sids[1]]}))
            .await,
        "InvalidParameterValue"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn findings_are_deterministic_per_md5_and_respect_scan_types() {
    let (emu, c, clock) = setup().await;
    let m = md5("deterministic");
    let t1 = c
        .ok(
            "CreateScanInstances",
            &create_params(&[&m], "http://example.com/cb"),
        )
        .await["ItemId"]
        .clone();
    let mut only_vul = create_params(&[&m], "http://example.com/cb");
    only_vul["ScanInfo"]["ScanTypes"] = json!(["VULSCAN"]);
    let t2 = c.ok("CreateScanInstances", &only_vul).await["ItemId"].clone();
    clock.advance(Duration::from_secs(2));
    let r1 = c.ok("DescribeScanResults", &json!({"ItemId": t1})).await;
    let r1b = c.ok("DescribeScanResults", &json!({"ItemId": t1})).await;
    let r2 = c.ok("DescribeScanResults", &json!({"ItemId": t2})).await;
    let (s1, s2) = (&r1["ScanSet"][0], &r2["ScanSet"][0]);
    assert_eq!(s1, &r1b["ScanSet"][0]);
    assert_eq!(s1["VulInfo"], s2["VulInfo"]);
    assert_eq!(s1["AppDetailInfo"], s2["AppDetailInfo"]);
    assert_eq!(s2["VirusInfo"]["SafeType"], 0);
    assert_eq!(s2["PermissionInfo"]["PermissionList"], json!([]));
    // Another app differs somewhere.
    let other = c
        .ok(
            "CreateScanInstances",
            &create_params(&[&md5("other")], "http://example.com/cb"),
        )
        .await["ItemId"]
        .clone();
    clock.advance(Duration::from_secs(2));
    let r3 = c.ok("DescribeScanResults", &json!({"ItemId": other})).await;
    assert_ne!(r3["ScanSet"][0]["AppDetailInfo"], s1["AppDetailInfo"]);
    emu.shutdown().await;
}

#[tokio::test]
async fn error_and_timeout_states() {
    let (emu, c, clock) = setup().await;
    let bad = format!("bad0{}", &md5("x")[4..]);
    let slow = format!("bad1{}", &md5("y")[4..]);
    let item = c
        .ok(
            "CreateScanInstances",
            &create_params(&[&bad, &slow], "http://example.com/cb"),
        )
        .await["ItemId"]
        .clone();
    clock.advance(Duration::from_secs(1));
    let r = c.ok("DescribeScanResults", &json!({"ItemId": item})).await;
    assert_eq!(r["ScanSet"][0]["TaskStatus"], 3);
    assert_eq!(r["ScanSet"][0]["StatusCode"], 1000);
    assert!(!r["ScanSet"][0]["StatusDesc"].as_str().unwrap().is_empty());
    assert_eq!(r["ScanSet"][1]["TaskStatus"], 4);
    emu.shutdown().await;
}

#[tokio::test]
async fn quota_falls_per_app_and_limit_exceeded_at_zero() {
    let (_clock, emu, c) = started(|clock| config(clock).with_initial_quota(3)).await;
    let r = c
        .ok(
            "CreateScanInstances",
            &create_params(&[&md5("q1"), &md5("q2")], "http://example.com/cb"),
        )
        .await;
    assert_eq!(r["LimitCount"], 1);
    let r = c
        .ok(
            "CreateScanInstances",
            &create_params(&[&md5("q3"), &md5("q4")], "http://example.com/cb"),
        )
        .await;
    assert_eq!(r["LimitCount"], 0);
    assert_eq!(r["AppMd5s"], json!([md5("q3")]));
    assert_eq!(
        c.err(
            "CreateScanInstances",
            &create_params(&[&md5("q5")], "http://example.com/cb")
        )
        .await,
        "LimitExceeded"
    );
    assert_eq!(emu.quota(ID), Some(0));
    // Quotas are per account.
    let other = c.clone().with_creds(ID2, KEY2);
    assert_eq!(
        other
            .ok(
                "CreateScanInstances",
                &create_params(&[&md5("q6")], "http://example.com/cb")
            )
            .await["LimitCount"],
        2
    );
    // Accounts do not see each other's tasks.
    assert_eq!(
        other.ok("DescribeScanInstances", &json!({})).await["TotalCount"],
        1
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn create_validation_codes() {
    let (emu, c, _) = setup().await;
    let cb = "http://example.com/cb";
    assert_eq!(
        c.err(
            "CreateScanInstances",
            &json!({"ScanInfo": {"CallbackUrl": cb, "ScanTypes": ["VULSCAN"]}})
        )
        .await,
        "MissingParameter.MissingAppInfo"
    );
    let mut p = create_params(&[], cb);
    assert_eq!(
        c.err("CreateScanInstances", &p).await,
        "MissingParameter.MissingAppInfo"
    );
    let many: Vec<String> = (0..21).map(|i| md5(&i.to_string())).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        c.err("CreateScanInstances", &create_params(&refs, cb))
            .await,
        "InvalidParameterValue"
    );
    assert_eq!(
        c.ok("CreateScanInstances", &create_params(&refs[..20], cb))
            .await["AppMd5s"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let r = c
        .call("CreateScanInstances", &create_params(&["xyz"], cb))
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidParameterValue"));
    assert!(r.message().contains("AppInfos.0.AppMd5"), "{}", r.message());
    p = create_params(&[&md5("t")], cb);
    p["ScanInfo"]["ScanTypes"] = json!(["VULSCAN", "FOO"]);
    assert_eq!(
        c.err("CreateScanInstances", &p).await,
        "InvalidParameterValue"
    );
    p["ScanInfo"]["ScanTypes"] = json!([]);
    assert_eq!(
        c.err("CreateScanInstances", &p).await,
        "InvalidParameterValue"
    );
    p = create_params(&[&md5("t")], "ftp://x/");
    assert_eq!(
        c.err("CreateScanInstances", &p).await,
        "InvalidParameterValue"
    );
    p = create_params(&[&md5("t")], cb);
    p.as_object_mut().unwrap().remove("ScanInfo");
    assert_eq!(c.err("CreateScanInstances", &p).await, "MissingParameter");
    p = create_params(&[&md5("t")], cb);
    p["AppInfos"][0].as_object_mut().unwrap().remove("AppUrl");
    assert_eq!(c.err("CreateScanInstances", &p).await, "MissingParameter");
    p = create_params(&[&md5("t")], cb);
    p["AppInfos"][0]["AppSize"] = json!("big");
    assert_eq!(
        c.err("CreateScanInstances", &p).await,
        "InvalidParameterValue"
    );
    // Numeric strings are accepted, as the documentation's own example sends them.
    p["AppInfos"][0]["AppSize"] = json!("1024");
    c.ok("CreateScanInstances", &p).await;
    // Strings are bounded (they are stored per scan): the field is named.
    for (field, path) in [
        ("AppName", "AppInfos.0.AppName"),
        ("AppUrl", "AppInfos.0.AppUrl"),
    ] {
        let mut p = create_params(&[&md5("long")], cb);
        p["AppInfos"][0][field] = json!(format!("https://example.com/{}", "a".repeat(5000)));
        let r = c.call("CreateScanInstances", &p).await;
        assert_eq!(r.code().as_deref(), Some("InvalidParameterValue"));
        assert!(r.message().contains(path), "{}", r.message());
    }
    let long_cb = format!("http://127.0.0.1:9/{}", "c".repeat(5000));
    let r = c
        .call(
            "CreateScanInstances",
            &create_params(&[&md5("long")], &long_cb),
        )
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidParameterValue"));
    assert!(
        r.message().contains("ScanInfo.CallbackUrl"),
        "{}",
        r.message()
    );
    // Repeated scan types are accepted (and count once).
    let mut p = create_params(&[&md5("dup-types")], cb);
    p["ScanInfo"]["ScanTypes"] = json!(vec!["VULSCAN"; 1000]);
    c.ok("CreateScanInstances", &p).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_instances_filters_paging_and_ordering() {
    let (emu, c, clock) = setup().await;
    let mut items = Vec::new();
    for i in 0..5 {
        let mut p = create_params(&[&md5(&format!("page{i}"))], "http://example.com/cb");
        p["AppInfos"][0]["AppName"] = json!(if i % 2 == 0 { "Even" } else { "Odd" });
        p["AppInfos"][0]["AppPkgName"] = json!(format!("com.example.p{i}"));
        items.push(
            c.ok("CreateScanInstances", &p).await["ItemId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        clock.advance(Duration::from_secs(1));
    }
    let all = c.ok("DescribeScanInstances", &json!({})).await;
    assert_eq!(all["TotalCount"], 5);
    // Default order: TaskTime descending.
    let order: Vec<&str> = all["ScanSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ItemId"].as_str().unwrap())
        .collect();
    let mut newest_first = items.clone();
    newest_first.reverse();
    assert_eq!(order, newest_first);
    let asc = c
        .ok(
            "DescribeScanInstances",
            &json!({"OrderField": "TaskTime", "OrderDirection": "asc", "Offset": 1, "Limit": 2}),
        )
        .await;
    assert_eq!(asc["TotalCount"], 5);
    let page: Vec<&str> = asc["ScanSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ItemId"].as_str().unwrap())
        .collect();
    assert_eq!(page, vec![items[1].as_str(), items[2].as_str()]);
    let even = c
        .ok(
            "DescribeScanInstances",
            &json!({"Filters": [{"Name": "AppName", "Value": "Even"}]}),
        )
        .await;
    assert_eq!(even["TotalCount"], 3);
    let pkg = c
        .ok(
            "DescribeScanInstances",
            &json!({"Filters": [{"Name": "AppPkgName", "Value": "com.example.p3"}]}),
        )
        .await;
    assert_eq!(pkg["TotalCount"], 1);
    assert_eq!(pkg["ScanSet"][0]["ItemId"], items[3].as_str());
    let by_ids = c
        .ok(
            "DescribeScanInstances",
            &json!({"ItemIds": [items[0], items[4]]}),
        )
        .await;
    assert_eq!(by_ids["TotalCount"], 2);
    // Many (repeated, unknown) ItemIds are matched as a set.
    let mut many: Vec<String> = (0..20_000).map(|i| format!("unknown-{i}")).collect();
    many.push(items[2].clone());
    many.push(items[2].clone());
    let by_many = c
        .ok("DescribeScanInstances", &json!({"ItemIds": many}))
        .await;
    assert_eq!(by_many["TotalCount"], 1);
    // Filters are ANDed: both names together; two values for one name match nothing; a
    // repeated identical filter changes nothing.
    let both = c
        .ok(
            "DescribeScanInstances",
            &json!({"Filters": [
                {"Name": "AppName", "Value": "Odd"},
                {"Name": "AppPkgName", "Value": "com.example.p3"},
                {"Name": "AppName", "Value": "Odd"},
            ]}),
        )
        .await;
    assert_eq!(both["TotalCount"], 1);
    assert_eq!(both["ScanSet"][0]["ItemId"], items[3].as_str());
    let contradictory = c
        .ok(
            "DescribeScanInstances",
            &json!({"Filters": [
                {"Name": "AppName", "Value": "Odd"},
                {"Name": "AppName", "Value": "Even"},
            ]}),
        )
        .await;
    assert_eq!(contradictory["TotalCount"], 0);

    let codes = [
        (
            json!({"ItemIds": [items[0]], "Filters": [{"Name": "AppName", "Value": "x"}]}),
            "InvalidParameterValue.InvalidCoexistItemIdsFilters",
        ),
        (json!({"Limit": 101}), "InvalidParameterValue.InvalidLimit"),
        (
            json!({"Limit": "many"}),
            "InvalidParameterValue.InvalidLimit",
        ),
        (
            json!({"Offset": "x"}),
            "InvalidParameterValue.InvalidOffset",
        ),
        (
            json!({"OrderField": "AppName"}),
            "InvalidParameterValue.InvalidOrderField",
        ),
        (
            json!({"OrderDirection": "up"}),
            "InvalidParameterValue.InvalidOrderDirection",
        ),
        (
            json!({"Filters": [{"Name": "Color", "Value": "x"}]}),
            "InvalidParameterValue.InvalidFilter",
        ),
        (
            json!({"ItemIds": []}),
            "InvalidParameterValue.InvalidItemIds",
        ),
    ];
    for (p, code) in codes {
        assert_eq!(c.err("DescribeScanInstances", &p).await, code, "{p}");
    }
    c.ok("DescribeScanInstances", &json!({"Limit": 100})).await;
    assert_eq!(
        c.err("DescribeScanResults", &json!({})).await,
        "MissingParameter.MissingItemId"
    );
    assert_eq!(
        c.err("DeleteScanInstances", &json!({})).await,
        "MissingParameter"
    );
    emu.shutdown().await;
}
