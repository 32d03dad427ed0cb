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
//! - [`ErrorCode`], the code lists ([`TaskStatus`], [`SafeType`]), [`ACTIONS`] and the table [`examples`].
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
//!
//! # Cargo features
//!
//! None: the crate always builds the same.
#![warn(missing_docs)]

mod envelope;
mod error_code;
pub mod examples;
mod formats;
mod generated;
pub mod schema;
mod validate;
mod wire;

pub use envelope::{
    DecodeError, ErrorBody, ErrorResponse, ResponseEnvelope, ServiceError, decode_response,
};
pub use formats::{HttpUrl, is_http_url, is_md5, is_sha1, redact_url};
pub use generated::actions::*;
pub use generated::codes::*;
pub use generated::errors::ErrorCode;
pub use generated::registry::{ACTIONS, visit_action};
pub use generated::structures::*;
pub use schema::HasSchema;
pub use validate::{
    COMMON_PARAMS, Validate, ValidationErrors, Violation, ViolationKind, check_response_json,
    validate_json,
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
    /// [`Action::IDEMPOTENT`] as an [`Idempotency`].
    const IDEMPOTENCY: Idempotency = if Self::IDEMPOTENT {
        Idempotency::Idempotent
    } else {
        Idempotency::NotIdempotent
    };
    /// The inner object of a successful reply (has `request_id: Option<String>`).
    type Response: serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug
        + Clone
        + Send
        + Sync
        + 'static;

    /// Validates `value`, the JSON serialization of a request of this action
    /// (`serde_json::to_value(&request)`): the same checks and violations as
    /// [`Validate::validate`], for callers that serialize once and reuse the value.
    ///
    /// # Errors
    /// The violations, as from [`Validate::validate`]; an unknown [`Action::NAME`] is a
    /// violation at `Action`.
    fn validate_value(value: &serde_json::Value) -> Result<(), ValidationErrors>
    where
        Self: Sized,
    {
        match action_info(Self::NAME) {
            Some(info) => validate::check_request_value(info.request, value),
            None => Err(ValidationErrors(vec![Violation::unknown(
                "Action",
                format!("unknown action `{}`", Self::NAME),
            )])),
        }
    }
}

/// Whether an action may be repeated safely; decides which failures a client retries.
///
/// A typed flag, so calls read `send_json("DescribeScanResults", Idempotency::Idempotent, ..)`
/// rather than `send_json(.., true, ..)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Repeating the call has no further effect (reads): any transient failure may be retried.
    Idempotent,
    /// Repeating the call could act twice (submissions, deletions): retried only when the
    /// request provably was not processed.
    NotIdempotent,
}

impl Idempotency {
    /// Whether repeating is safe.
    pub const fn is_idempotent(self) -> bool {
        matches!(self, Idempotency::Idempotent)
    }

    /// Idempotent only when both say so (the caller's claim and the model's).
    #[must_use]
    pub const fn and(self, other: Idempotency) -> Idempotency {
        if self.is_idempotent() && other.is_idempotent() {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        }
    }
}

impl From<bool> for Idempotency {
    fn from(idempotent: bool) -> Self {
        if idempotent {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        }
    }
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

impl ActionInfo {
    /// [`ActionInfo::idempotent`] as an [`Idempotency`].
    pub fn idempotency(&self) -> Idempotency {
        Idempotency::from(self.idempotent)
    }
}

/// The metadata of an action by name.
pub fn action_info(name: &str) -> Option<&'static ActionInfo> {
    ACTIONS
        .binary_search_by(|a| a.name.cmp(name))
        .ok()
        .map(|i| &ACTIONS[i])
}

/// Generic code run for one action chosen by name at run time (see [`visit_action`]).
///
/// ```
/// use ms_model::{Action, ActionVisitor, visit_action};
///
/// struct Idempotent;
/// impl ActionVisitor for Idempotent {
///     type Output = bool;
///     fn visit<A: Action + serde::de::DeserializeOwned>(self) -> bool {
///         A::IDEMPOTENT
///     }
/// }
/// assert_eq!(visit_action("DescribeScanResults", Idempotent), Some(true));
/// assert_eq!(visit_action("NoSuchAction", Idempotent), None);
/// ```
pub trait ActionVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the request type of the chosen action.
    fn visit<A: Action + serde::de::DeserializeOwned>(self) -> Self::Output;
}

struct DecodeRequest<'a>(&'a serde_json::Value);

impl ActionVisitor for DecodeRequest<'_> {
    type Output = Result<(), serde_json::Error>;
    fn visit<A: Action + serde::de::DeserializeOwned>(self) -> Self::Output {
        <A as serde::Deserialize>::deserialize(self.0).map(drop)
    }
}

struct DecodeResponse<'a>(&'a serde_json::Value);

impl ActionVisitor for DecodeResponse<'_> {
    type Output = Result<(), serde_json::Error>;
    fn visit<A: Action + serde::de::DeserializeOwned>(self) -> Self::Output {
        <A::Response as serde::Deserialize>::deserialize(self.0).map(drop)
    }
}

/// Decodes `value` as the typed request of `action`; `None` for an unknown action.
pub(crate) fn decode_request(
    action: &str,
    value: &serde_json::Value,
) -> Option<Result<(), serde_json::Error>> {
    visit_action(action, DecodeRequest(value))
}

/// Decodes `value` as the typed response of `action`; `None` for an unknown action.
pub(crate) fn decode_response_of(
    action: &str,
    value: &serde_json::Value,
) -> Option<Result<(), serde_json::Error>> {
    visit_action(action, DecodeResponse(value))
}

// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
