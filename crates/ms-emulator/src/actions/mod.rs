//! The emulated scan workflow: CreateScanInstances, DescribeScanInstances,
//! DescribeScanResults, DeleteScanInstances.
//!
//! Each action is two steps: `parse` works out what to do from the parameters alone (every
//! documented error code for a bad request comes from there, before the state is touched),
//! then `run` does it on the locked state and builds the answer. [`dispatch`] runs the pair
//! inside [`Core::transact`], which also finishes due scans and hands the changes to the
//! store.

mod create;
mod delete;
mod list;
mod results;

use ms_model::{ErrorCode, ViolationKind};
use serde_json::Value;

use crate::api::{ApiError, Output, get_str};
use crate::core::Core;
use crate::state::State;
use crate::store::Commit;

/// The actions the emulator implements.
pub(crate) const SCAN_ACTIONS: &[&str] = &[
    "CreateScanInstances",
    "DeleteScanInstances",
    "DescribeScanInstances",
    "DescribeScanResults",
];

/// Most apps per CreateScanInstances / AppSids per DeleteScanInstances.
const MAX_APPS: usize = 20;
/// Longest string accepted in an AppInfo member or `ScanInfo.CallbackUrl`, in bytes. The
/// documentation gives no limit; the service stores these per scan, and so does the emulator,
/// so without a bound a client could make it hold 10 MB per app.
pub(crate) const MAX_STRING_BYTES: usize = 4096;

/// One action's request, worked out from its parameters.
#[derive(Debug)]
enum Plan {
    Create(create::CreatePlan),
    List(list::ListQuery),
    Results(results::ResultsQuery),
    Delete(delete::DeletePlan),
}

impl Plan {
    /// Checks the parameters of `action` (one of [`SCAN_ACTIONS`] or not) into a plan.
    fn parse(action: &str, params: &Value) -> Result<Plan, ApiError> {
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
        let plan = match action {
            "CreateScanInstances" => Plan::Create(create::parse(params)?),
            "DescribeScanInstances" => Plan::List(list::parse(params)?),
            "DescribeScanResults" => Plan::Results(results::parse(params)?),
            _ => Plan::Delete(delete::parse(params)?),
        };
        // Types, required and unknown members, after the documented codes above.
        model_check(action, params)?;
        Ok(plan)
    }

    /// Carries the plan out for the account `owner` at `now_ms`.
    fn run(
        self,
        core: &Core,
        st: &mut State,
        owner: &str,
        now_ms: u64,
    ) -> Result<Output, ApiError> {
        match self {
            Plan::Create(p) => create::run(core, st, p, owner, now_ms).map(Output::Map),
            Plan::List(q) => Ok(Output::Map(list::run(st, &q, owner))),
            Plan::Results(q) => results::run(core, st, &q, owner).map(Output::Raw),
            Plan::Delete(p) => delete::run(st, &p, owner).map(Output::Map),
        }
    }
}

/// Runs one action for the account `owner`: the answer, and the commit of what it changed
/// (to wait for before answering).
pub(crate) fn dispatch(
    core: &Core,
    action: &str,
    params: &Value,
    owner: &str,
) -> (Result<Output, ApiError>, Commit) {
    let plan = match Plan::parse(action, params) {
        Ok(p) => p,
        Err(e) => return (Err(e), Commit::done()),
    };
    let now = core.now_ms();
    core.transact(now, |st| plan.run(core, st, owner, now))
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

/// A string no longer than [`MAX_STRING_BYTES`].
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
