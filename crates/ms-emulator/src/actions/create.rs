//! CreateScanInstances: one task (`ItemId`) with one scan (`AppSid`) per accepted app.

use std::collections::HashSet;

use ms_model::ErrorCode;
use serde_json::{Map, Value, json};

use super::{MAX_APPS, check_len, parse_http_url, required_str};
use crate::api::{ApiError, get_str, get_str_array, get_u64, is_md5, show};
use crate::core::Core;
use crate::findings::{SCAN_TYPE_NAMES, SubmittedApp};
use crate::state::{Scan, ScanStatus, State, Task};

/// A valid CreateScanInstances request.
#[derive(Debug)]
pub(super) struct CreatePlan {
    apps: Vec<SubmittedApp>,
    /// Distinct scan types, in the order given.
    scan_types: Vec<String>,
    /// Empty: no notification.
    callback_url: String,
}

pub(super) fn parse(params: &Value) -> Result<CreatePlan, ApiError> {
    let apps = parse_app_infos(params)?;
    let scan_info = match params.get("ScanInfo") {
        None | Some(Value::Null) => return Err(ApiError::missing("ScanInfo")),
        Some(v @ Value::Object(_)) => v,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "`ScanInfo` must be a ScanInfo object.",
            ));
        }
    };
    let scan_types = parse_scan_types(scan_info)?;
    let callback_url = parse_callback_url(scan_info)?;
    Ok(CreatePlan {
        apps,
        scan_types,
        callback_url,
    })
}

fn parse_app_infos(params: &Value) -> Result<Vec<SubmittedApp>, ApiError> {
    let infos = match params.get("AppInfos") {
        None | Some(Value::Null) => {
            return Err(ApiError::new(
                ErrorCode::MissingParameterMissingAppInfo,
                "The AppInfos parameter (AppInfo structures) is missing.",
            ));
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "`AppInfos` must be an array of AppInfo.",
            ));
        }
    };
    if infos.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingParameterMissingAppInfo,
            "AppInfos is empty: at least one AppInfo is required.",
        ));
    }
    if infos.len() > MAX_APPS {
        return Err(ApiError::invalid_value(
            "AppInfos",
            format!("at most {MAX_APPS} apps per request, got {}", infos.len()),
        ));
    }
    infos
        .iter()
        .enumerate()
        .map(|(i, info)| parse_app_info(i, info))
        .collect()
}

fn parse_app_info(i: usize, info: &Value) -> Result<SubmittedApp, ApiError> {
    if !info.is_object() {
        return Err(ApiError::invalid_param(format!(
            "`AppInfos.{i}` must be an AppInfo object."
        )));
    }
    let field = |n: &str| format!("AppInfos.{i}.{n}");
    let md5 = required_str(info, "AppMd5", &field("AppMd5"))?;
    if !is_md5(md5) {
        return Err(ApiError::invalid_value(
            &field("AppMd5"),
            format!("expected 32 hexadecimal digits, got {}", show(md5)),
        ));
    }
    let url = required_str(info, "AppUrl", &field("AppUrl"))?;
    check_len(&field("AppUrl"), url)?;
    if parse_http_url(url).is_none() {
        return Err(ApiError::invalid_value(
            &field("AppUrl"),
            format!("expected an http(s) download URL, got {}", show(url)),
        ));
    }
    let size = get_u64(info, "AppSize")
        .map_err(|()| ApiError::invalid_value(&field("AppSize"), "expected an unsigned integer"))?;
    let opt = |n: &str| -> Result<Option<String>, ApiError> {
        match get_str(info, n) {
            Ok(Some(v)) => {
                check_len(&field(n), v)?;
                Ok(Some(v.to_owned()))
            }
            Ok(None) => Ok(None),
            Err(()) => Err(ApiError::invalid_value(&field(n), "expected a string")),
        }
    };
    Ok(SubmittedApp {
        app_md5: md5.to_ascii_lowercase(),
        app_url: url.to_owned(),
        app_size: size,
        file_name: opt("FileName")?,
        app_pkg_name: opt("AppPkgName")?,
        app_version: opt("AppVersion")?,
        app_icon_url: opt("AppIconUrl")?,
        app_name: opt("AppName")?,
    })
}

fn parse_scan_types(scan_info: &Value) -> Result<Vec<String>, ApiError> {
    let mut types = match get_str_array(scan_info, "ScanTypes") {
        Ok(Some(t)) => t,
        Ok(None) => return Err(ApiError::missing("ScanInfo.ScanTypes")),
        Err(()) => {
            return Err(ApiError::invalid_value(
                "ScanInfo.ScanTypes",
                "expected an array of strings",
            ));
        }
    };
    if types.is_empty() {
        return Err(ApiError::invalid_value(
            "ScanInfo.ScanTypes",
            format!(
                "at least one scan type is required ({})",
                SCAN_TYPE_NAMES.join(", ")
            ),
        ));
    }
    if let Some((i, t)) = types
        .iter()
        .enumerate()
        .find(|(_, t)| !SCAN_TYPE_NAMES.contains(&t.as_str()))
    {
        return Err(ApiError::invalid_value(
            &format!("ScanInfo.ScanTypes.{i}"),
            format!(
                "unknown scan type {}, expected one of {}",
                show(t),
                SCAN_TYPE_NAMES.join(", ")
            ),
        ));
    }
    // Stored once per task: duplicates are kept out (at most the six names).
    let mut seen = HashSet::new();
    types.retain(|t| seen.insert(t.clone()));
    Ok(types)
}

fn parse_callback_url(scan_info: &Value) -> Result<String, ApiError> {
    let callback = required_str(scan_info, "CallbackUrl", "ScanInfo.CallbackUrl")?;
    check_len("ScanInfo.CallbackUrl", callback)?;
    // An empty CallbackUrl means no notification (docs/api): no delivery is ever created.
    if !callback.is_empty() && parse_http_url(callback).is_none() {
        return Err(ApiError::invalid_value(
            "ScanInfo.CallbackUrl",
            format!("expected an http(s) URL, got {}", show(callback)),
        ));
    }
    Ok(callback.to_owned())
}

/// Accepts as many apps as the account's quota allows (at least one, or `LimitExceeded`).
pub(super) fn run(
    core: &Core,
    st: &mut State,
    plan: CreatePlan,
    owner: &str,
    now_ms: u64,
) -> Result<Map<String, Value>, ApiError> {
    let quota = st.account(owner, core.config.initial_quota, now_ms);
    if quota.remaining == 0 {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            "The scan quota (LimitCount) of this account is used up.",
        ));
    }
    let accepted = plan
        .apps
        .len()
        .min(usize::try_from(quota.remaining).unwrap_or(usize::MAX));
    let item_id = uuid::Uuid::new_v4().simple().to_string();
    let mut md5s = Vec::with_capacity(accepted);
    let scans: Vec<Scan> = plan
        .apps
        .into_iter()
        .take(accepted)
        .map(|app| {
            md5s.push(Value::String(app.app_md5.clone()));
            Scan {
                app_sid: uuid::Uuid::new_v4().simple().to_string(),
                item_id: item_id.clone(),
                owner: owner.to_owned(),
                seq: st.next_seq(),
                app,
                submitted_ms: now_ms,
                status: ScanStatus::Processing,
                finished_ms: None,
            }
        })
        .collect();
    let task = Task {
        item_id: item_id.clone(),
        owner: owner.to_owned(),
        created_ms: now_ms,
        scan_types: plan.scan_types,
        callback_url: plan.callback_url,
        app_sids: scans.iter().map(|s| s.app_sid.clone()).collect(),
    };
    st.insert_task(task, scans);
    let left = st.charge(owner, accepted as u64);
    // With a zero scan duration the scans are due at once: the answer says so.
    core.advance_locked(st, now_ms);
    let mut out = Map::new();
    out.insert("ItemId".into(), json!(item_id));
    out.insert("Progress".into(), json!(task_progress(st, &item_id)));
    out.insert("AppMd5s".into(), Value::Array(md5s));
    out.insert("LimitCount".into(), json!(left.remaining));
    out.insert("LimitTime".into(), json!(left.limit_time));
    Ok(out)
}

/// Task-level status: 2 while any app is processing, else 1 if all completed, else 3 if any
/// failed, else 4.
fn task_progress(st: &State, item_id: &str) -> u64 {
    let Some(task) = st.task(item_id) else {
        return 1;
    };
    let statuses: Vec<ScanStatus> = task
        .app_sids
        .iter()
        .filter_map(|s| st.scan(s))
        .map(|s| s.status)
        .collect();
    if statuses.contains(&ScanStatus::Processing) {
        2
    } else if statuses.iter().all(|s| *s == ScanStatus::Completed) {
        1
    } else if statuses.contains(&ScanStatus::Error) {
        3
    } else {
        4
    }
}
