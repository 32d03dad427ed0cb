//! DescribeScanResults: the findings of a task's apps (all, or those of some MD5s).

use ms_model::ErrorCode;
use serde_json::{Value, json};

use crate::api::{ApiError, get_str, get_str_array, is_md5, show};
use crate::core::Core;
use crate::findings::{self, ScanTypes};
use crate::state::{Scan, ScanStatus, State};

/// A valid DescribeScanResults request.
#[derive(Debug)]
pub(super) struct ResultsQuery {
    item_id: String,
    /// Lower-case MD5s; `None` for every app of the task.
    md5s: Option<Vec<String>>,
}

pub(super) fn parse(params: &Value) -> Result<ResultsQuery, ApiError> {
    let item_id = match get_str(params, "ItemId") {
        Ok(Some(s)) if !s.is_empty() => s.to_owned(),
        Ok(_) => {
            return Err(ApiError::new(
                ErrorCode::MissingParameterMissingItemId,
                "ItemId is missing.",
            ));
        }
        Err(()) => return Err(ApiError::invalid_value("ItemId", "expected a string")),
    };
    let md5s = get_str_array(params, "AppMd5s")
        .map_err(|()| ApiError::invalid_value("AppMd5s", "expected an array of strings"))?;
    if let Some((i, m)) = md5s.iter().flatten().enumerate().find(|(_, m)| !is_md5(m)) {
        return Err(ApiError::invalid_value(
            &format!("AppMd5s.{i}"),
            format!("expected 32 hexadecimal digits, got {}", show(m)),
        ));
    }
    Ok(ResultsQuery {
        item_id,
        md5s: md5s.map(|l| l.into_iter().map(|m| m.to_ascii_lowercase()).collect()),
    })
}

/// The answer's members as JSON text (`"ScanSet":[...],"TotalCount":n`), the findings
/// embedded from their cached serialization.
pub(super) fn run(
    core: &Core,
    st: &State,
    q: &ResultsQuery,
    owner: &str,
) -> Result<String, ApiError> {
    let Some(task) = st.task(&q.item_id).filter(|t| t.owner == owner) else {
        return Err(ApiError::new(
            ErrorCode::ResourceNotFoundItemIdNotFound,
            format!("The task ItemId {} does not exist.", show(&q.item_id)),
        ));
    };
    let types = ScanTypes::from_names(&task.scan_types);
    let mut out = String::with_capacity(task.app_sids.len() * 4096 + 32);
    out.push_str("\"ScanSet\":[");
    let mut n = 0usize;
    for s in task
        .app_sids
        .iter()
        .filter_map(|sid| st.scan(sid))
        .filter(|s| q.md5s.as_ref().is_none_or(|l| l.contains(&s.app.app_md5)))
    {
        if n > 0 {
            out.push(',');
        }
        let f = if s.status == ScanStatus::Completed {
            core.findings_json(&s.app.app_md5, types)
        } else {
            core.empty_findings_json()
        };
        write_result(&mut out, s, &f);
        n += 1;
    }
    out.push_str("],\"TotalCount\":");
    out.push_str(&n.to_string());
    Ok(out)
}

/// One `ScanSet` entry of DescribeScanResults (an `AppScanSet`), appended as JSON text: the
/// per-scan members serialized here, the findings (deterministic per MD5 and scan types)
/// embedded from their cached serialization.
fn write_result(out: &mut String, s: &Scan, f: &findings::FindingsJson) {
    let d = findings::app_details(&s.app);
    let (code, desc, reference) = s.status.status_info();
    let details = json!({
        "AppName": d.app_name,
        "AppPkgName": d.app_pkg_name,
        "AppVersion": d.app_version,
        "AppSize": d.app_size,
        "AppMd5": d.app_md5,
        "AppIconUrl": d.app_icon_url,
        "FileName": d.file_name,
    });
    let text = |v: &str| Value::String(v.to_owned()).to_string();
    // Members in the order the documented structure lists them (and earlier versions sent).
    out.push_str("{\"TaskStatus\":");
    out.push_str(&s.status.code().to_string());
    out.push_str(",\"AppDetailInfo\":");
    out.push_str(&details.to_string());
    out.push_str(",\"VirusInfo\":");
    out.push_str(&f.virus_info);
    out.push_str(",\"VulInfo\":");
    out.push_str(&f.vul_info);
    out.push_str(",\"AdInfo\":");
    out.push_str(&f.ad_info);
    out.push_str(",\"TaskTime\":");
    out.push_str(&(s.submitted_ms / 1000).to_string());
    out.push_str(",\"StatusCode\":");
    out.push_str(&code.to_string());
    out.push_str(",\"StatusDesc\":");
    out.push_str(&text(desc));
    out.push_str(",\"StatusRef\":");
    out.push_str(&text(reference));
    out.push_str(",\"PermissionInfo\":");
    out.push_str(&f.permission_info);
    out.push_str(",\"SensitiveInfo\":");
    out.push_str(&f.sensitive_info);
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Output;
    use crate::findings::{SCAN_TYPE_NAMES, SubmittedApp};

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn findings_never_panic(s in ".{0,40}") {
            let names: Vec<String> = SCAN_TYPE_NAMES.iter().map(|s| s.to_string()).collect();
            let _ = findings::findings(&s, ScanTypes::from_names(&names));
            let _ = findings::app_details(&SubmittedApp { app_md5: s, ..Default::default() });
        }
    }

    /// The hand-assembled DescribeScanResults entry is byte for byte what serializing the
    /// whole `AppScanSet` object gives, for finished, failed and processing scans.
    #[test]
    fn assembled_results_equal_the_serialized_structure() {
        let names: Vec<String> = SCAN_TYPE_NAMES.iter().map(|s| s.to_string()).collect();
        for (md5, status) in [
            ("dd5b29a800246d7089febf228286d901", ScanStatus::Completed),
            ("bad0a800246d7089febf228286d90100", ScanStatus::Error),
            ("0123456789abcdef0123456789abcdef", ScanStatus::Processing),
        ] {
            for types in [
                ScanTypes::from_names(&names),
                ScanTypes::from_names(&names[..2]),
            ] {
                let scan = Scan {
                    app_sid: "sid".into(),
                    item_id: "item".into(),
                    owner: "id".into(),
                    seq: 1,
                    app: SubmittedApp {
                        app_md5: md5.into(),
                        app_url: "https://example.com/a.apk".into(),
                        app_name: Some("Name \"quoted\" \u{e9}".into()),
                        ..Default::default()
                    },
                    submitted_ms: 1_767_225_600_123,
                    status,
                    finished_ms: None,
                };
                let f = if status == ScanStatus::Completed {
                    findings::findings(md5, types)
                } else {
                    findings::empty_findings()
                };
                let d = findings::app_details(&scan.app);
                let (code, desc, reference) = status.status_info();
                let expected = json!({
                    "TaskStatus": status.code(),
                    "AppDetailInfo": {
                        "AppName": d.app_name,
                        "AppPkgName": d.app_pkg_name,
                        "AppVersion": d.app_version,
                        "AppSize": d.app_size,
                        "AppMd5": d.app_md5,
                        "AppIconUrl": d.app_icon_url,
                        "FileName": d.file_name,
                    },
                    "VirusInfo": f.virus_info,
                    "VulInfo": f.vul_info,
                    "AdInfo": f.ad_info,
                    "TaskTime": scan.submitted_ms / 1000,
                    "StatusCode": code,
                    "StatusDesc": desc,
                    "StatusRef": reference,
                    "PermissionInfo": f.permission_info,
                    "SensitiveInfo": f.sensitive_info,
                });
                let mut got = String::new();
                write_result(&mut got, &scan, &findings::FindingsJson::from(&f));
                assert_eq!(got, expected.to_string());
            }
        }
        let body = crate::api::success_body(Output::Raw("\"TotalCount\":0".into()), "r\"id");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({"Response": {"TotalCount": 0, "RequestId": "r\"id"}})
        );
    }
}
