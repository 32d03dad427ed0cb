//! DeleteScanInstances: removes the account's scans by AppSid (a task goes with its last scan).

use serde_json::{Map, Value, json};

use super::MAX_APPS;
use crate::api::{ApiError, get_str_array, show};
use crate::state::State;

/// A valid DeleteScanInstances request.
#[derive(Debug)]
pub(super) struct DeletePlan {
    app_sids: Vec<String>,
}

pub(super) fn parse(params: &Value) -> Result<DeletePlan, ApiError> {
    let app_sids = match get_str_array(params, "AppSids") {
        Ok(Some(s)) if !s.is_empty() => s,
        Ok(_) => return Err(ApiError::missing("AppSids")),
        Err(()) => {
            return Err(ApiError::invalid_value(
                "AppSids",
                "expected an array of strings",
            ));
        }
    };
    if app_sids.len() > MAX_APPS {
        return Err(ApiError::invalid_value(
            "AppSids",
            format!(
                "at most {MAX_APPS} AppSids per request, got {}",
                app_sids.len()
            ),
        ));
    }
    Ok(DeletePlan { app_sids })
}

/// Deletes all the scans, or none if one of them is not the account's.
pub(super) fn run(
    st: &mut State,
    p: &DeletePlan,
    owner: &str,
) -> Result<Map<String, Value>, ApiError> {
    if let Some((i, sid)) = p
        .app_sids
        .iter()
        .enumerate()
        .find(|(_, sid)| st.scan(sid).is_none_or(|s| s.owner != owner))
    {
        return Err(ApiError::invalid_value(
            &format!("AppSids.{i}"),
            format!("no scan with AppSid {}", show(sid)),
        ));
    }
    for sid in &p.app_sids {
        st.delete_scan(sid);
    }
    let mut out = Map::new();
    out.insert("Progress".into(), json!(1));
    Ok(out)
}
