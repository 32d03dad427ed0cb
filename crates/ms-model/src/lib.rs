//! Typed model of the Tencent Cloud Mobile Security API (`ms`, version `2018-04-08`).
//!
//! Everything API-specific is generated from the API tables under `docs/api/ms/2018-04-08/` by
//! `cargo xtask codegen` (into `src/generated/`, never edited by hand):
//!
//! - one request type and one response type per action (`CreateScanInstancesRequest`,
//!   `CreateScanInstancesResponse`, ...), one type per data structure (`AppInfo`, `ScanInfo`,
//!   `AppScanSet`, ...), with the exact wire names (including the API's own misspellings such as
//!   `CreatTime` and `CosTocken`);
//! - the [`Action`] trait implementations (name, version, service, idempotency, response type);
//! - the schemas that drive [`Validate`], [`validate_json`] and [`check_response_json`];
//! - [`ErrorCode`], [`ACTIONS`] and the table [`examples`].
//!
//! The hand-written core provides the envelopes ([`ResponseEnvelope`], [`decode_response`],
//! [`ServiceError`]) and the validation engine. This crate does no I/O.
//!
//! ```
//! use ms_model::{Action, AppInfo, CreateScanInstancesRequest, ScanInfo, Validate};
//!
//! let req = CreateScanInstancesRequest {
//!     app_infos: vec![AppInfo {
//!         app_url: "https://example.com/app.apk".into(),
//!         app_md5: "xyz".into(),
//!         ..Default::default()
//!     }],
//!     scan_info: ScanInfo {
//!         callback_url: "https://example.com/cb".into(),
//!         scan_types: vec!["VULSCAN".into()],
//!     },
//! };
//! assert_eq!(CreateScanInstancesRequest::NAME, "CreateScanInstances");
//! let errors = req.validate().unwrap_err();
//! assert_eq!(errors.to_string(), r#"AppInfos[0].AppMd5: expected 32 hex digits, got "xyz""#);
//! ```

#![warn(missing_docs)]

mod envelope;
mod error_code;
pub mod examples;
mod generated;
pub mod schema;
mod validate;
mod wire;

pub use envelope::{
    DecodeError, ErrorBody, ErrorResponse, ResponseEnvelope, ServiceError, decode_response,
};
pub use generated::actions::*;
pub use generated::errors::ErrorCode;
pub use generated::registry::ACTIONS;
pub use generated::structures::*;
pub use schema::HasSchema;
pub use validate::{
    COMMON_PARAMS, Validate, ValidationErrors, Violation, check_response_json, validate_json,
};

/// An API action: implemented by each generated `*Request` type.
pub trait Action:
    serde::Serialize + Validate + std::fmt::Debug + Clone + Send + Sync + 'static
{
    /// The action name (`CreateScanInstances`), sent as `X-TC-Action` / `Action`.
    const NAME: &'static str;
    /// The API version (`2018-04-08`), sent as `X-TC-Version` / `Version`.
    const VERSION: &'static str;
    /// The service name (`ms`), used in the host name and the signature scope.
    const SERVICE: &'static str;
    /// Safe to retry: `Describe*` actions yes, `Create*`/`Delete*`/`Update*`/... no (from the tables).
    const IDEMPOTENT: bool;
    /// The inner object of a successful reply (has `request_id: Option<String>`).
    type Response: serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug
        + Clone
        + Send
        + Sync
        + 'static;
}

/// Metadata of one action, from its page.
#[derive(Debug, Clone, Copy)]
pub struct ActionInfo {
    /// The action name.
    pub name: &'static str,
    /// Safe to retry (read-only).
    pub idempotent: bool,
    /// One-line summary.
    pub summary: &'static str,
    /// Part of the (retired) app-scan workflow.
    pub scan_workflow: bool,
    /// The business error codes the page documents.
    pub errors: &'static [&'static str],
    /// The page says only whitelisted accounts may call it.
    pub whitelist_only: bool,
    /// `current` (in today's SDKs) or `removed` (retired scan actions).
    pub availability: &'static str,
    /// `online` or `deprecated`.
    pub status: &'static str,
    /// Whether the common `Region` parameter is required (`None`: not verified).
    pub region_required: Option<bool>,
    /// The request schema.
    pub request: &'static schema::StructSchema,
    /// The response schema.
    pub response: &'static schema::StructSchema,
}

/// The metadata of an action by name.
pub fn action_info(name: &str) -> Option<&'static ActionInfo> {
    ACTIONS
        .binary_search_by(|a| a.name.cmp(name))
        .ok()
        .map(|i| &ACTIONS[i])
}
