//! # ms-transport
//!
//! The production client for Tencent Cloud's Mobile Security API (`ms`, version
//! `2018-04-08`). One typed call, [`Client::send`], serves every action: the request type
//! (from `ms-model`, re-exported as [`model`]) names its action, version and idempotency,
//! and the call returns that action's typed response.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ms_transport::Error> {
//! use ms_transport::Client;
//! use ms_transport::model::DescribeScanResultsRequest;
//!
//! // Credentials from the default chain: environment, profile file, tccli, CVM role, TKE OIDC.
//! let client = Client::builder().region("ap-guangzhou").build()?;
//! let results = client
//!     .send(&DescribeScanResultsRequest {
//!         item_id: "ITEM-ID-FROM-CreateScanInstances".into(),
//!         ..Default::default()
//!     })
//!     .await?;
//! for app in results.scan_set.unwrap_or_default() {
//!     println!("{:?} {:?}", app.task_status, app.app_detail_info);
//! }
//! # Ok(()) }
//! ```
//!
//! Why `client.send(&request)` and not one method per action (`client.describe_scan_results`):
//! the request value already says which action it is ([`ms_model::Action`]), so one generic
//! method cannot be called with the wrong action, nothing in this crate is generated or
//! changes when an action is added to the model, and the per-action documentation lives
//! once, on the request type. Untyped calls by name go through [`Client::send_json`] (with an
//! explicit [`Idempotency`]); any other Tencent Cloud API 3.0 service through
//! [`Client::send_operation`].
//!
//! Runnable examples (against an emulator started in the example's process, no account
//! needed): `cargo run -p ms-transport --example scan_workflow` (submit, wait, results) and
//! `--example custom_credentials` (your own credential source, cached and refreshed, and the
//! default chain).
//!
//! # Cargo features
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `redis` | off | [`ratelimit::redis`]: one rate-limit schedule in Redis, shared by every process and machine of an account (adds `redis`, `sha2`, `hex`) |
//!
//! Without features the crate builds hyper + rustls with *ring* (no aws-lc-rs, no cmake),
//! the bundled webpki roots and the operating system's roots (used when asked).
//!
//! What it does, in order, for every call:
//! 1. validates the request (nothing is sent when it is invalid);
//! 2. asks the [`ProvideCredentials`] source for credentials;
//! 3. waits for its slot in the client-side [rate limiter](ratelimit) keyed by
//!    (action, region, SecretId) — 20 requests/s by default, 1500/s for
//!    `DescribeUrlDetectionResult`;
//! 4. signs with TC3-HMAC-SHA256 (cached signing keys) using the local time corrected by the
//!    [clock offset](skew) learned for the endpoint, and sends the headers the official SDK
//!    sends (`Content-Type: application/json`, `Host`, `X-TC-Action`, `X-TC-RequestClient`,
//!    `X-TC-Timestamp`, `X-TC-Version`, `X-TC-Region`, `X-TC-Token`, `X-TC-Language`,
//!    `Authorization`) over a pooled HTTP/1.1 keep-alive connection (hyper + rustls/ring);
//! 5. decodes the reply, recognising the error envelope whatever the `Content-Type`;
//! 6. on failure, [retries](retry) with exponential backoff and full jitter within a retry
//!    budget — but a non-idempotent action only when the request provably was not processed.
//!
//! Workflow helpers: [`batch::run_batch`] (batch submission with exact accounting, a
//! [`batch::Journal`] and reconciliation of lost replies), [`scan::wait_for_task`] and
//! [`paginate()`].
//!
//! Secrets never appear in `Debug`, `Display`, errors or logs: `Authorization` and
//! `X-TC-Token` are redacted in every trace event, and the secret members of replies (the
//! temporary COS credentials of `CreateCosSecKeyInstance`) in every body snippet that goes
//! into a trace event or an error ([`redact`]).
#![warn(missing_docs)]

pub mod batch;
pub mod builder;
mod call;
pub mod client;
pub mod clock;
pub mod connect;
pub mod credentials;
pub mod decode;
pub mod endpoint;
pub mod error;
pub mod paginate;
pub mod proxy;
pub mod ratelimit;
pub mod redact;
pub mod request;
pub mod retry;
pub mod scan;
pub mod skew;

pub use builder::ClientBuilder;
pub use client::{Client, Operation};
pub use clock::{Clock, FakeClock, SystemClock, TokioClock};
pub use credentials::{
    AssumeRoleProvider, CachedProvider, CredentialSource, CredentialsFuture, CvmRoleProvider,
    DefaultChain, EnvironmentProvider, ProfileProvider, ProvideCredentials, RefreshPolicy,
    StaticProvider, TccliProvider, TemporaryCredentials, WebIdentityProvider,
};
pub use endpoint::Endpoint;
pub use error::{ConfigSetting, Error, ErrorKind};
/// The generated request and response types (the `ms-model` crate).
pub use ms_model as model;
pub use ms_model::Idempotency;
pub use paginate::{Page, Paginated, paginate, paginate_pages};
pub use proxy::Proxy;
pub use ratelimit::{AcquireFuture, Limiter, LimiterKey, RateLimit, RateLimitConfig, RateLimiter};
pub use request::{Language, SignMethod};
pub use retry::{RetryBudget, RetryClass, RetryConfig, RetryDecision, RetryStrategy, StopReason};
pub use skew::SkewStore;
pub use tc3_sign::Credentials;

// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
