//! The emulated scan workflow: CreateScanInstances, DescribeScanInstances,
//! DescribeScanResults, DeleteScanInstances.

use ms_model::{ErrorCode, ViolationKind};
use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::api::{ApiError, Output, get_str, get_str_array, get_u64, is_md5, show};
use crate::core::Core;
use crate::findings::{self, SCAN_TYPE_NAMES, ScanTypes, SubmittedApp};
use crate::state::{Scan, ScanStatus, State, Task, list_key};

/// The actions the emulator implements.
pub(crate) const SCAN_ACTIONS: &[&str] = &[
    "CreateScanInstances",
    "DeleteScanInstances",
    "DescribeScanInstances",
    "DescribeScanResults",
];

/// Most apps per CreateScanInstances / AppSids per DeleteScanInstances.
const MAX_APPS: usize = 20;
/// Largest DescribeScanInstances Limit.
const MAX_LIMIT: u64 = 100;
/// Longest string accepted in an AppInfo member or `ScanInfo.CallbackUrl`, in bytes. The
/// documentation gives no limit; the service stores these per scan, and so does the emulator,
/// so without a bound a client could make it hold 10 MB per app.
pub(crate) const MAX_STRING_BYTES: usize = 4096;

fn check_len(field: &str, value: &str) -> Result<(), ApiError> {
    if value.len() > MAX_STRING_BYTES {
        return Err(ApiError::invalid_value(
            field,
            format!(
                "at most {MAX_STRING_BYTES} bytes, got {} bytes",
                value.len()
            ),
        ));
    }
    Ok(())
}

/// Runs one scan-workflow action for the account `owner`.
pub(crate) fn dispatch(
    core: &Core,
    action: &str,
    params: &Value,
    owner: &str,
) -> Result<Output, ApiError> {
    if !SCAN_ACTIONS.contains(&action) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "The action {action} is not emulated: ms-emulator implements only the scan workflow ({}).",
                SCAN_ACTIONS.join(", ")
            ),
        ));
    }
    if !params.is_object() {
        return Err(ApiError::invalid_param(
            "The request parameters must be a JSON object.",
        ));
    }
    match action {
        "CreateScanInstances" => create(core, params, owner).map(Output::Map),
        "DescribeScanInstances" => describe_instances(core, params, owner).map(Output::Map),
        "DescribeScanResults" => describe_results(core, params, owner).map(Output::Raw),
        "DeleteScanInstances" => delete(core, params, owner).map(Output::Map),
        other => Err(ApiError::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "The action `{other}` is not emulated by ms-emulator (only the scan workflow is)."
            ),
        )),
    }
}

/// Checks the parameters against the ms-model request type (types, required members, unknown
/// members), after the action-specific checks gave their documented codes.
fn model_check(action: &str, params: &Value) -> Result<(), ApiError> {
    match ms_model::validate_json(action, params) {
        Ok(()) => Ok(()),
        Err(errs) => {
            let Some(v) = errs.0.first() else {
                return Err(ApiError::invalid_param("Invalid request parameters."));
            };
            let path = v.path.replace('[', ".").replace(']', "");
            match v.kind {
                ViolationKind::Unknown => Err(ApiError::new(
                    ErrorCode::UnknownParameter,
                    format!("The parameter `{path}` is not recognized: {}", v.message),
                )),
                ViolationKind::Missing => Err(ApiError::missing(&path)),
                _ => Err(ApiError::invalid_value(&path, &v.message)),
            }
        }
    }
}

/// The string member `name` of `v`: missing (or null) is `MissingParameter`, another type
/// `InvalidParameterValue`, both naming `path`.
fn required_str<'a>(v: &'a Value, name: &str, path: &str) -> Result<&'a str, ApiError> {
    match get_str(v, name) {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(ApiError::missing(path)),
        Err(()) => Err(ApiError::invalid_value(path, "expected a string")),
    }
}

/// (scheme, host, port, path) of an http(s) URL, or `None`: the API's URL rule,
/// [`ms_model::HttpUrl`].
pub(crate) fn parse_http_url(url: &str) -> Option<(&str, String, u16, String)> {
    let u = ms_model::HttpUrl::parse(url)?;
    Some((u.scheme, u.host.to_owned(), u.port, u.path))
}

fn create(core: &Core, params: &Value, owner: &str) -> Result<Map<String, Value>, ApiError> {
    const ACTION: &str = "CreateScanInstances";
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
    let mut apps = Vec::with_capacity(infos.len());
    for (i, info) in infos.iter().enumerate() {
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
        let size = get_u64(info, "AppSize").map_err(|()| {
            ApiError::invalid_value(&field("AppSize"), "expected an unsigned integer")
        })?;
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
        apps.push(SubmittedApp {
            app_md5: md5.to_ascii_lowercase(),
            app_url: url.to_owned(),
            app_size: size,
            file_name: opt("FileName")?,
            app_pkg_name: opt("AppPkgName")?,
            app_version: opt("AppVersion")?,
            app_icon_url: opt("AppIconUrl")?,
            app_name: opt("AppName")?,
        });
    }
    let scan_info = match params.get("ScanInfo") {
        None | Some(Value::Null) => return Err(ApiError::missing("ScanInfo")),
        Some(v @ Value::Object(_)) => v,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "`ScanInfo` must be a ScanInfo object.",
            ));
        }
    };
    let types = match get_str_array(scan_info, "ScanTypes") {
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
    for (i, t) in types.iter().enumerate() {
        if !SCAN_TYPE_NAMES.contains(&t.as_str()) {
            return Err(ApiError::invalid_value(
                &format!("ScanInfo.ScanTypes.{i}"),
                format!(
                    "unknown scan type {}, expected one of {}",
                    show(t),
                    SCAN_TYPE_NAMES.join(", ")
                ),
            ));
        }
    }
    // Stored once per task: duplicates are kept out (at most the six names).
    let mut types = types;
    let mut seen = HashSet::new();
    types.retain(|t| seen.insert(t.clone()));
    let callback = required_str(scan_info, "CallbackUrl", "ScanInfo.CallbackUrl")?.to_owned();
    check_len("ScanInfo.CallbackUrl", &callback)?;
    // An empty CallbackUrl means no notification (docs/api): no delivery is ever created.
    if !callback.is_empty() && parse_http_url(&callback).is_none() {
        return Err(ApiError::invalid_value(
            "ScanInfo.CallbackUrl",
            format!("expected an http(s) URL, got {}", show(&callback)),
        ));
    }
    model_check(ACTION, params)?;

    let now = core.now_ms();
    let item_id = uuid::Uuid::new_v4().simple().to_string();
    let (out, new_deliveries) = {
        let mut st = core.lock_state();
        let pending = core.advance_locked(&mut st, now);
        let quota = st.account(owner, core.config.initial_quota, now).clone();
        if quota.remaining == 0 {
            drop(st);
            core.after_mutation(pending);
            return Err(ApiError::new(
                ErrorCode::LimitExceeded,
                "The scan quota (LimitCount) of this account is used up.",
            ));
        }
        let accepted = apps
            .len()
            .min(usize::try_from(quota.remaining).unwrap_or(usize::MAX));
        let mut sids = Vec::with_capacity(accepted);
        let mut md5s = Vec::with_capacity(accepted);
        for app in apps.into_iter().take(accepted) {
            let sid = uuid::Uuid::new_v4().simple().to_string();
            let seq = st.next_seq();
            md5s.push(Value::String(app.app_md5.clone()));
            st.insert_scan(Scan {
                app_sid: sid.clone(),
                item_id: item_id.clone(),
                owner: owner.to_owned(),
                seq,
                app,
                submitted_ms: now,
                status: ScanStatus::Processing,
                finished_ms: None,
            });
            sids.push(sid);
        }
        st.tasks.insert(
            item_id.clone(),
            Task {
                item_id: item_id.clone(),
                owner: owner.to_owned(),
                created_ms: now,
                scan_types: types,
                callback_url: callback,
                app_sids: sids,
            },
        );
        let acct = st.account(owner, core.config.initial_quota, now);
        acct.remaining -= accepted as u64;
        let (remaining, limit_time) = (acct.remaining, acct.limit_time);
        let mut pending = pending;
        pending.extend(core.advance_locked(&mut st, now));
        let progress = task_progress(&st, &item_id);
        let mut out = Map::new();
        out.insert("ItemId".into(), json!(item_id));
        out.insert("Progress".into(), json!(progress));
        out.insert("AppMd5s".into(), Value::Array(md5s));
        out.insert("LimitCount".into(), json!(remaining));
        out.insert("LimitTime".into(), json!(limit_time));
        (out, pending)
    };
    core.mark_dirty();
    core.after_mutation(new_deliveries);
    Ok(out)
}

/// Task-level status: 2 while any app is processing, else 1 if all completed, else 3 if any
/// failed, else 4.
fn task_progress(st: &State, item_id: &str) -> u64 {
    let Some(task) = st.tasks.get(item_id) else {
        return 1;
    };
    let statuses: Vec<ScanStatus> = task
        .app_sids
        .iter()
        .filter_map(|s| st.scans.get(s))
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

/// (ScanCode / StatusCode, StatusDesc, StatusRef) of a scan.
fn status_info(status: ScanStatus) -> (u64, &'static str, &'static str) {
    match status {
        ScanStatus::Processing | ScanStatus::Completed => (0, "", ""),
        ScanStatus::Error => (
            1000,
            "App download failed",
            "Check that AppUrl can be downloaded without authentication, then submit the app again",
        ),
        ScanStatus::Timeout => (99, "Scan timed out", "Submit the app again later"),
    }
}

fn scan_summary(task: Option<&Task>, scan: &Scan) -> (u64, u64) {
    if scan.status != ScanStatus::Completed {
        return (0, 0);
    }
    let types = task
        .map(|t| ScanTypes::from_names(&t.scan_types))
        .unwrap_or_default();
    findings::summary(&scan.app.app_md5, types)
}

fn describe_instances(
    core: &Core,
    params: &Value,
    owner: &str,
) -> Result<Map<String, Value>, ApiError> {
    const ACTION: &str = "DescribeScanInstances";
    let has_filters = !matches!(params.get("Filters"), None | Some(Value::Null));
    let has_items = !matches!(params.get("ItemIds"), None | Some(Value::Null));
    if has_filters && has_items {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidCoexistItemIdsFilters,
            "ItemIds and Filters cannot be specified together.",
        ));
    }
    let offset = get_u64(params, "Offset").map_err(|()| {
        ApiError::new(
            ErrorCode::InvalidParameterValueInvalidOffset,
            "Offset must be a non-negative integer.",
        )
    })?;
    let limit = get_u64(params, "Limit").map_err(|()| {
        ApiError::new(
            ErrorCode::InvalidParameterValueInvalidLimit,
            "Limit must be a non-negative integer.",
        )
    })?;
    if let Some(l) = limit
        && l > MAX_LIMIT
    {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidLimit,
            format!("Limit must be at most {MAX_LIMIT}, got {l}."),
        ));
    }
    let offset = offset.unwrap_or(0);
    let limit = match limit {
        None | Some(0) => 20,
        Some(l) => l,
    };
    match get_str(params, "OrderField") {
        Ok(None) | Ok(Some("TaskTime")) => {}
        Ok(Some(other)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueInvalidOrderField,
                format!("OrderField must be `TaskTime`, got {}.", show(other)),
            ));
        }
        Err(()) => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueInvalidOrderField,
                "OrderField must be a string.",
            ));
        }
    }
    let ascending = match get_str(params, "OrderDirection") {
        Ok(None) | Ok(Some("desc")) => false,
        Ok(Some("asc")) => true,
        Ok(Some(other)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueInvalidOrderDirection,
                format!(
                    "OrderDirection must be `asc` or `desc`, got {}.",
                    show(other)
                ),
            ));
        }
        Err(()) => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueInvalidOrderDirection,
                "OrderDirection must be a string.",
            ));
        }
    };
    let item_ids = get_str_array(params, "ItemIds").map_err(|()| {
        ApiError::new(
            ErrorCode::InvalidParameterValueInvalidItemIds,
            "ItemIds must be an array of strings.",
        )
    })?;
    if let Some(ids) = &item_ids
        && (ids.is_empty() || ids.iter().any(|s| s.trim().is_empty()))
    {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidItemIds,
            "ItemIds must hold at least one non-empty task ID.",
        ));
    }
    // A set: the rows are matched against it under the state lock.
    let item_ids: Option<HashSet<String>> = item_ids.map(|ids| ids.into_iter().collect());
    // One required value per filter name (AppName, AppPkgName); the filters are ANDed, so two
    // different values for one name match nothing. Kept this small on purpose: the rows are
    // filtered under the state lock, which must not cost O(rows x filters).
    let mut app_name: Option<String> = None;
    let mut app_pkg_name: Option<String> = None;
    let mut contradictory = false;
    if let Some(fs) = params.get("Filters").filter(|v| !v.is_null()) {
        let Some(arr) = fs.as_array() else {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueInvalidFilter,
                "Filters must be an array of Filter.",
            ));
        };
        for (i, f) in arr.iter().enumerate() {
            let name = get_str(f, "Name").ok().flatten();
            let value = get_str(f, "Value").ok().flatten();
            match (name, value) {
                (Some(n @ ("AppName" | "AppPkgName")), Some(v)) => {
                    let slot = if n == "AppName" {
                        &mut app_name
                    } else {
                        &mut app_pkg_name
                    };
                    match slot {
                        Some(prev) if prev != v => contradictory = true,
                        Some(_) => {}
                        None => *slot = Some(v.to_owned()),
                    }
                }
                (Some(n @ ("AppName" | "AppPkgName")), None) => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterValueInvalidFilter,
                        format!("Filters.{i}.Value is required for the filter `{n}`."),
                    ));
                }
                (Some(n), _) => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterValueInvalidFilter,
                        format!(
                            "Filters.{i}.Name must be `AppName` or `AppPkgName`, got {}.",
                            show(n)
                        ),
                    ));
                }
                (None, _) => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterValueInvalidFilter,
                        format!("Filters.{i}.Name is required."),
                    ));
                }
            }
        }
    }
    model_check(ACTION, params)?;

    let now = core.now_ms();
    let (out, pending) = {
        let mut st = core.lock_state();
        let pending = core.advance_locked(&mut st, now);
        let off = usize::try_from(offset).unwrap_or(usize::MAX);
        let lim = usize::try_from(limit).unwrap_or(usize::MAX);
        let matches = |d: &findings::AppDetails| {
            app_name.as_ref().is_none_or(|v| &d.app_name == v)
                && app_pkg_name.as_ref().is_none_or(|v| &d.app_pkg_name == v)
        };
        let filtered = app_name.is_some() || app_pkg_name.is_some();
        // Every path visits only the rows it returns, except a filtered listing, which has
        // to test each of the account's rows (never other accounts' rows).
        let (total, rows): (usize, Vec<(&Scan, findings::AppDetails)>) = if contradictory {
            (0, Vec::new())
        } else if let Some(ids) = &item_ids {
            let mut rows: Vec<(&Scan, findings::AppDetails)> = ids
                .iter()
                .filter_map(|id| st.tasks.get(id))
                .filter(|t| t.owner == owner)
                .flat_map(|t| t.app_sids.iter())
                .filter_map(|sid| st.scans.get(sid))
                .map(|s| (s, findings::app_details(&s.app)))
                .filter(|(_, d)| matches(d))
                .collect();
            rows.sort_by_key(|(s, _)| list_key(s));
            if !ascending {
                rows.reverse();
            }
            let total = rows.len();
            (total, rows.into_iter().skip(off).take(lim).collect())
        } else if let Some(list) = st.owner_scans(owner) {
            let scan = |(_, sid): &(crate::state::ListKey, String)| st.scans.get(sid);
            if filtered {
                let ordered: Box<dyn Iterator<Item = _>> = if ascending {
                    Box::new(list.iter())
                } else {
                    Box::new(list.iter().rev())
                };
                let mut total = 0;
                let mut rows = Vec::new();
                for s in ordered.filter_map(scan) {
                    let d = findings::app_details(&s.app);
                    if matches(&d) {
                        if total >= off && rows.len() < lim {
                            rows.push((s, d));
                        }
                        total += 1;
                    }
                }
                (total, rows)
            } else {
                let total = list.len();
                let (start, end) = if ascending {
                    (off, off.saturating_add(lim))
                } else {
                    (
                        total.saturating_sub(off.saturating_add(lim)),
                        total.saturating_sub(off),
                    )
                };
                let mut rows: Vec<(&Scan, findings::AppDetails)> = list
                    .range(start, end)
                    .into_iter()
                    .filter_map(scan)
                    .map(|s| (s, findings::app_details(&s.app)))
                    .collect();
                if !ascending {
                    rows.reverse();
                }
                (total, rows)
            }
        } else {
            (0, Vec::new())
        };
        let set: Vec<Value> = rows
            .iter()
            .map(|(s, d)| {
                let (safe_type, vul_count) = scan_summary(st.tasks.get(&s.item_id), s);
                let (code, _, _) = status_info(s.status);
                json!({
                    "ItemId": s.item_id,
                    "AppName": d.app_name,
                    "AppPkgName": d.app_pkg_name,
                    "AppVersion": d.app_version,
                    "AppMd5": d.app_md5,
                    "AppSize": d.app_size,
                    "ScanCode": code,
                    "TaskStatus": s.status.code(),
                    "TaskTime": s.submitted_ms / 1000,
                    "AppIconUrl": d.app_icon_url,
                    "AppSid": s.app_sid,
                    "SafeType": safe_type,
                    "VulCount": vul_count,
                })
            })
            .collect();
        let mut out = Map::new();
        out.insert("TotalCount".into(), json!(total));
        out.insert("ScanSet".into(), Value::Array(set));
        (out, pending)
    };
    core.after_mutation(pending);
    Ok(out)
}

fn describe_results(core: &Core, params: &Value, owner: &str) -> Result<String, ApiError> {
    const ACTION: &str = "DescribeScanResults";
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
    if let Some(list) = &md5s {
        for (i, m) in list.iter().enumerate() {
            if !is_md5(m) {
                return Err(ApiError::invalid_value(
                    &format!("AppMd5s.{i}"),
                    format!("expected 32 hexadecimal digits, got {}", show(m)),
                ));
            }
        }
    }
    let md5s: Option<Vec<String>> =
        md5s.map(|l| l.into_iter().map(|m| m.to_ascii_lowercase()).collect());
    model_check(ACTION, params)?;

    let now = core.now_ms();
    let (result, pending) = {
        let mut st = core.lock_state();
        let pending = core.advance_locked(&mut st, now);
        let result = match st.tasks.get(&item_id).filter(|t| t.owner == owner) {
            None => Err(ApiError::new(
                ErrorCode::ResourceNotFoundItemIdNotFound,
                format!("The task ItemId {} does not exist.", show(&item_id)),
            )),
            Some(task) => {
                let types = ScanTypes::from_names(&task.scan_types);
                let mut out = String::with_capacity(task.app_sids.len() * 4096 + 32);
                out.push_str("\"ScanSet\":[");
                let mut n = 0usize;
                for s in task
                    .app_sids
                    .iter()
                    .filter_map(|sid| st.scans.get(sid))
                    .filter(|s| md5s.as_ref().is_none_or(|l| l.contains(&s.app.app_md5)))
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
        };
        (result, pending)
    };
    core.after_mutation(pending);
    result
}

/// One `ScanSet` entry of DescribeScanResults (an `AppScanSet`), appended as JSON text: the
/// per-scan members serialized here, the findings (deterministic per MD5 and scan types)
/// embedded from their cached serialization.
fn write_result(out: &mut String, s: &Scan, f: &findings::FindingsJson) {
    let d = findings::app_details(&s.app);
    let (code, desc, reference) = status_info(s.status);
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

fn delete(core: &Core, params: &Value, owner: &str) -> Result<Map<String, Value>, ApiError> {
    const ACTION: &str = "DeleteScanInstances";
    let sids = match get_str_array(params, "AppSids") {
        Ok(Some(s)) if !s.is_empty() => s,
        Ok(_) => return Err(ApiError::missing("AppSids")),
        Err(()) => {
            return Err(ApiError::invalid_value(
                "AppSids",
                "expected an array of strings",
            ));
        }
    };
    if sids.len() > MAX_APPS {
        return Err(ApiError::invalid_value(
            "AppSids",
            format!("at most {MAX_APPS} AppSids per request, got {}", sids.len()),
        ));
    }
    model_check(ACTION, params)?;
    let now = core.now_ms();
    let (result, pending) = {
        let mut st = core.lock_state();
        let pending = core.advance_locked(&mut st, now);
        let missing = sids
            .iter()
            .enumerate()
            .find(|(_, sid)| st.scans.get(*sid).is_none_or(|s| s.owner != owner));
        let result = if let Some((i, sid)) = missing {
            Err(ApiError::invalid_value(
                &format!("AppSids.{i}"),
                format!("no scan with AppSid {}", show(sid)),
            ))
        } else {
            for sid in &sids {
                if let Some(scan) = st.remove_scan(sid) {
                    let empty = match st.tasks.get_mut(&scan.item_id) {
                        Some(task) => {
                            task.app_sids.retain(|s| s != sid);
                            task.app_sids.is_empty()
                        }
                        None => false,
                    };
                    if empty {
                        st.tasks.remove(&scan.item_id);
                    }
                }
            }
            let mut out = Map::new();
            out.insert("Progress".into(), json!(1));
            Ok(out)
        };
        (result, pending)
    };
    core.after_mutation(pending);
    if result.is_ok() {
        core.mark_dirty();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn url_parsing_never_panics(s in "(https?://)?[a-zé\\[\\]:@/?#0-9.]{0,24}") {
            let _ = parse_http_url(&s);
            let _ = crate::callbacks::loopback_target(&s);
        }

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
                let (code, desc, reference) = status_info(status);
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

    #[test]
    fn url_parsing() {
        assert_eq!(
            parse_http_url("http://127.0.0.1:8080/cb?x=1"),
            Some(("http", "127.0.0.1".into(), 8080, "/cb?x=1".into()))
        );
        assert_eq!(
            parse_http_url("http://[::1]/"),
            Some(("http", "::1".into(), 80, "/".into()))
        );
        assert_eq!(
            parse_http_url("https://example.com"),
            Some(("https", "example.com".into(), 443, "/".into()))
        );
        assert_eq!(parse_http_url("ftp://x/"), None);
        assert_eq!(parse_http_url("http://user@x/"), None);
        assert_eq!(parse_http_url("http://:80/"), None);
        assert_eq!(parse_http_url("http://x:99999/"), None);
        assert_eq!(parse_http_url("not a url"), None);
    }
}
