//! DescribeScanInstances: the account's scans, paged, in `TaskTime` order, by `ItemIds` or
//! filtered by app name / package name.

use std::collections::HashSet;

use ms_model::ErrorCode;
use serde_json::{Map, Value, json};

use crate::api::{ApiError, get_str, get_str_array, get_u64, show};
use crate::findings::{self, AppDetails, ScanTypes};
use crate::state::{ListKey, Scan, ScanStatus, State, Task, list_key};

/// Largest `Limit`.
const MAX_LIMIT: u64 = 100;
/// `Limit` when none (or 0) is given.
const DEFAULT_LIMIT: usize = 20;

/// A valid DescribeScanInstances request.
#[derive(Debug)]
pub(super) struct ListQuery {
    offset: usize,
    limit: usize,
    ascending: bool,
    /// Only these tasks' scans (a set: rows are matched against it under the state lock).
    item_ids: Option<HashSet<String>>,
    filter: NameFilter,
}

/// The `Filters`: one required value per name (`AppName`, `AppPkgName`), ANDed. Kept this
/// small on purpose: rows are filtered under the state lock, which must not cost
/// O(rows × filters).
#[derive(Debug, Default)]
struct NameFilter {
    app_name: Option<String>,
    app_pkg_name: Option<String>,
    /// Two different values for one name: nothing matches.
    contradictory: bool,
}

impl NameFilter {
    fn is_set(&self) -> bool {
        self.app_name.is_some() || self.app_pkg_name.is_some()
    }

    fn matches(&self, d: &AppDetails) -> bool {
        self.app_name.as_ref().is_none_or(|v| &d.app_name == v)
            && self
                .app_pkg_name
                .as_ref()
                .is_none_or(|v| &d.app_pkg_name == v)
    }
}

pub(super) fn parse(params: &Value) -> Result<ListQuery, ApiError> {
    let has = |name: &str| !matches!(params.get(name), None | Some(Value::Null));
    if has("Filters") && has("ItemIds") {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidCoexistItemIdsFilters,
            "ItemIds and Filters cannot be specified together.",
        ));
    }
    let (offset, limit) = parse_paging(params)?;
    parse_order_field(params)?;
    Ok(ListQuery {
        offset,
        limit,
        ascending: parse_direction(params)?,
        item_ids: parse_item_ids(params)?,
        filter: parse_filters(params)?,
    })
}

fn parse_paging(params: &Value) -> Result<(usize, usize), ApiError> {
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
    let offset = usize::try_from(offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = match limit {
        None | Some(0) => DEFAULT_LIMIT,
        Some(l) => usize::try_from(l).unwrap_or(DEFAULT_LIMIT),
    };
    Ok((offset, limit))
}

fn parse_order_field(params: &Value) -> Result<(), ApiError> {
    match get_str(params, "OrderField") {
        Ok(None) | Ok(Some("TaskTime")) => Ok(()),
        Ok(Some(other)) => Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidOrderField,
            format!("OrderField must be `TaskTime`, got {}.", show(other)),
        )),
        Err(()) => Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidOrderField,
            "OrderField must be a string.",
        )),
    }
}

/// `true` for ascending (`desc` is the default).
fn parse_direction(params: &Value) -> Result<bool, ApiError> {
    match get_str(params, "OrderDirection") {
        Ok(None) | Ok(Some("desc")) => Ok(false),
        Ok(Some("asc")) => Ok(true),
        Ok(Some(other)) => Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidOrderDirection,
            format!(
                "OrderDirection must be `asc` or `desc`, got {}.",
                show(other)
            ),
        )),
        Err(()) => Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidOrderDirection,
            "OrderDirection must be a string.",
        )),
    }
}

fn parse_item_ids(params: &Value) -> Result<Option<HashSet<String>>, ApiError> {
    let ids = get_str_array(params, "ItemIds").map_err(|()| {
        ApiError::new(
            ErrorCode::InvalidParameterValueInvalidItemIds,
            "ItemIds must be an array of strings.",
        )
    })?;
    if let Some(ids) = &ids
        && (ids.is_empty() || ids.iter().any(|s| s.trim().is_empty()))
    {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidItemIds,
            "ItemIds must hold at least one non-empty task ID.",
        ));
    }
    Ok(ids.map(|ids| ids.into_iter().collect()))
}

fn parse_filters(params: &Value) -> Result<NameFilter, ApiError> {
    let mut filter = NameFilter::default();
    let Some(fs) = params.get("Filters").filter(|v| !v.is_null()) else {
        return Ok(filter);
    };
    let Some(arr) = fs.as_array() else {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidFilter,
            "Filters must be an array of Filter.",
        ));
    };
    for (i, f) in arr.iter().enumerate() {
        let name = get_str(f, "Name").ok().flatten();
        let value = get_str(f, "Value").ok().flatten();
        let invalid =
            |why: String| ApiError::new(ErrorCode::InvalidParameterValueInvalidFilter, why);
        let slot = match name {
            Some("AppName") => &mut filter.app_name,
            Some("AppPkgName") => &mut filter.app_pkg_name,
            Some(n) => {
                return Err(invalid(format!(
                    "Filters.{i}.Name must be `AppName` or `AppPkgName`, got {}.",
                    show(n)
                )));
            }
            None => return Err(invalid(format!("Filters.{i}.Name is required."))),
        };
        let Some(v) = value else {
            return Err(invalid(format!(
                "Filters.{i}.Value is required for the filter `{}`.",
                name.unwrap_or_default()
            )));
        };
        match slot {
            Some(prev) if prev != v => filter.contradictory = true,
            Some(_) => {}
            None => *slot = Some(v.to_owned()),
        }
    }
    Ok(filter)
}

/// A listed row: the scan and its (completed) app details.
type Row<'s> = (&'s Scan, AppDetails);

/// The page and the total.
pub(super) fn run(st: &State, q: &ListQuery, owner: &str) -> Map<String, Value> {
    let (total, rows) = select(st, q, owner);
    let set: Vec<Value> = rows
        .iter()
        .map(|(s, d)| render_row(st.task(&s.item_id), s, d))
        .collect();
    let mut out = Map::new();
    out.insert("TotalCount".into(), json!(total));
    out.insert("ScanSet".into(), Value::Array(set));
    out
}

/// (total, page): every path visits only the rows it returns, except a filtered listing,
/// which tests each of the account's rows (never other accounts' rows).
fn select<'s>(st: &'s State, q: &ListQuery, owner: &str) -> (usize, Vec<Row<'s>>) {
    if q.filter.contradictory {
        return (0, Vec::new());
    }
    if let Some(ids) = &q.item_ids {
        return by_item_ids(st, q, ids, owner);
    }
    let Some(list) = st.owner_scans(owner) else {
        return (0, Vec::new());
    };
    let scan = |(_, sid): &(ListKey, String)| st.scan(sid);
    if q.filter.is_set() {
        let ordered: Box<dyn Iterator<Item = _>> = if q.ascending {
            Box::new(list.iter())
        } else {
            Box::new(list.iter().rev())
        };
        let mut total = 0;
        let mut rows = Vec::new();
        for s in ordered.filter_map(scan) {
            let d = findings::app_details(&s.app);
            if q.filter.matches(&d) {
                if total >= q.offset && rows.len() < q.limit {
                    rows.push((s, d));
                }
                total += 1;
            }
        }
        return (total, rows);
    }
    let total = list.len();
    let (start, end) = if q.ascending {
        (q.offset, q.offset.saturating_add(q.limit))
    } else {
        let end = total.saturating_sub(q.offset);
        (end.saturating_sub(q.limit), end)
    };
    let mut rows: Vec<Row<'s>> = list
        .range(start, end)
        .into_iter()
        .filter_map(scan)
        .map(|s| (s, findings::app_details(&s.app)))
        .collect();
    if !q.ascending {
        rows.reverse();
    }
    (total, rows)
}

/// The named tasks' rows (the account's own), sorted and paged.
fn by_item_ids<'s>(
    st: &'s State,
    q: &ListQuery,
    ids: &HashSet<String>,
    owner: &str,
) -> (usize, Vec<Row<'s>>) {
    let mut rows: Vec<Row<'s>> = ids
        .iter()
        .filter_map(|id| st.task(id))
        .filter(|t| t.owner == owner)
        .flat_map(|t| t.app_sids.iter())
        .filter_map(|sid| st.scan(sid))
        .map(|s| (s, findings::app_details(&s.app)))
        .filter(|(_, d)| q.filter.matches(d))
        .collect();
    rows.sort_by_key(|(s, _)| list_key(s));
    if !q.ascending {
        rows.reverse();
    }
    let total = rows.len();
    (
        total,
        rows.into_iter().skip(q.offset).take(q.limit).collect(),
    )
}

/// One `ScanSet` entry (an `AppScanSet`).
fn render_row(task: Option<&Task>, s: &Scan, d: &AppDetails) -> Value {
    let (safe_type, vul_count) = summary(task, s);
    let (code, _, _) = s.status.status_info();
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
}

/// (SafeType, VulCount) of a scan: zeros until it completed.
fn summary(task: Option<&Task>, scan: &Scan) -> (u64, u64) {
    if scan.status != ScanStatus::Completed {
        return (0, 0);
    }
    let types = task
        .map(|t| ScanTypes::from_names(&t.scan_types))
        .unwrap_or_default();
    findings::summary(&scan.app.app_md5, types)
}
