//! # ms-transport
//!
//! The production client for Tencent Cloud's Mobile Security API (`ms`, version
//! `2018-04-08`), generic over `ms-model`'s [`Action`](ms_model::Action) trait:
//!
//! ```no_run
//! # async fn demo() -> Result<(), ms_transport::Error> {
//! use ms_transport::{Client, EnvironmentProvider};
//! let client = Client::builder()
//!     .region("ap-guangzhou")
//!     .credentials(EnvironmentProvider::new())
//!     .build()?;
//! let reply = client
//!     .send_json("DescribeUserBaseInfoInstance", true, &serde_json::json!({}))
//!     .await?;
//! println!("{reply}");
//! # Ok(()) }
//! ```
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
//! Workflow helpers: [`scan::wait_for_task`], [`scan::submit_batch`] and [`paginate()`].
//!
//! Secrets never appear in `Debug`, `Display`, errors or logs: `Authorization` and
//! `X-TC-Token` are redacted in every trace event, and the secret members of replies (the
//! temporary COS credentials of `CreateCosSecKeyInstance`) in every body snippet that goes
//! into a trace event or an error ([`redact`]).
#![warn(missing_docs)]

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
    StaticProvider, TccliProvider, TemporaryCredentials,
};
pub use endpoint::Endpoint;
pub use error::{Error, ErrorKind};
pub use paginate::{Page, Paginated, paginate, paginate_pages};
pub use proxy::Proxy;
pub use ratelimit::{LimiterKey, RateLimit, RateLimitConfig, RateLimiter};
pub use request::{Language, SignMethod};
pub use retry::{RetryBudget, RetryClass, RetryConfig, RetryDecision, RetryStrategy, StopReason};
pub use skew::SkewStore;
pub use tc3_sign::Credentials;
