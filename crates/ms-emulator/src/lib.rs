//! A faithful local emulator of Tencent Cloud's Mobile Security (`ms`, API `2018-04-08`)
//! scan workflow, as strict as the real API 3.0 gateway.
//!
//! Tencent retired the scan actions in 2023; this emulator is where the scan workflow runs
//! now (the CLI's first command, our own tests, the official Python and Node.js SDK interop
//! runs).
//!
//! # Protocol
//! * **TC3-HMAC-SHA256** as `POST` with `Content-Type: application/json` (any `;`
//!   parameters allowed) or `GET` (query signed exactly as received), verified with
//!   [`tc3_sign`]; common parameters from `X-TC-Action`, `X-TC-Version`, `X-TC-Timestamp`,
//!   `X-TC-Region`.
//! * **Legacy v1** (`HmacSHA1`, `HmacSHA256`) as a form-encoded POST body or GET query.
//! * Every official SDK's way of signing is accepted (`docs/sdk-signing.md`): the credential
//!   scope's service `ms` or taken from the endpoint (`127` for `127.0.0.1:PORT`, as the
//!   Node.js, Java, PHP and .NET SDKs do), the `host` signed with or without its port (Node.js),
//!   the legacy string to sign with the names as each SDK writes and sorts them.
//! * Every reply: HTTP 200, `Content-Type: application/json` (exactly, as the Python SDK
//!   requires for error detection), a `Date` header from the emulator's clock and a fresh
//!   UUID v4 `RequestId`. Errors use the official envelope
//!   `{"Response":{"Error":{"Code","Message"},"RequestId"}}`.
//!
//! Error codes (gateway level):
//!
//! | condition | code |
//! |---|---|
//! | method other than GET/POST; POST content type other than JSON (TC3) or form (v1) | `UnsupportedProtocol` |
//! | GET query over 32 KB; body over the limit (10 MB); more than 10,000 form parameters (query or v1 body, `Limits::max_parameters`) | `RequestSizeLimitExceeded` |
//! | v1 POST body over 1 MB | `AuthFailure.SignatureFailure` (as the gateway) |
//! | no `X-TC-Action` / `Action`, `Version`, timestamp, `Nonce`, `SecretId`, `Signature` | `MissingParameter` |
//! | action not an ms action | `InvalidAction` |
//! | version other than `2018-04-08` | `NoSuchVersion` (what the gateway answers for an unknown version, not `InvalidParameterValue`) |
//! | timestamp more than 300 s from the server clock | `AuthFailure.SignatureExpire` |
//! | JSON POST without `Authorization`; malformed `Authorization`, wrong algorithm, unsigned `content-type`/`host` | `AuthFailure.InvalidAuthorization` |
//! | unknown SecretId | `AuthFailure.SecretIdNotFound` |
//! | signature, scope date or service mismatch | `AuthFailure.SignatureFailure` |
//! | a protocol header (`X-TC-*`, `Content-Type`, `Host`) that is not visible ASCII | `InvalidParameterValue` naming it (`AuthFailure.InvalidAuthorization` for `Authorization`) |
//! | body not a JSON object, malformed query, conflicting flattened names | `InvalidParameter` |
//! | a region that is not one of the documented regions (`X-TC-Region` / `Region`) | `InvalidParameterValue` (the gateway's wording), checked before the rate limit |
//! | no region for an action whose page marks it required | `MissingParameter` |
//! | more than the rate limit per (action, region, SecretId) | `RequestLimitExceeded` |
//! | an ms action other than the four scan actions | `UnsupportedOperation` ("not emulated") |
//!
//! Action-level codes follow the action documentation: `MissingParameter.MissingAppInfo`,
//! `MissingParameter.MissingItemId`, `ResourceNotFound.ItemIdNotFound`, `LimitExceeded`,
//! `InvalidParameterValue` and its `InvalidFilter`, `InvalidItemIds`, `InvalidLimit`,
//! `InvalidOffset`, `InvalidOrderField`, `InvalidOrderDirection`,
//! `InvalidCoexistItemIdsFilters` variants; type errors found by
//! [`ms_model::validate_json`] map to `MissingParameter`, `UnknownParameter` or
//! `InvalidParameterValue`.
//!
//! Not emulated: session tokens (`X-TC-Token` / `Token` are accepted and ignored; the
//! configured accounts are long-term keys), multipart and octet-stream bodies, `Nonce`
//! replay detection, per-region deployments (every documented region serves the same state;
//! the region only keys the rate limit, as the service documents).
//!
//! # Scan workflow
//! `CreateScanInstances` creates a task (`ItemId`) with one scan (`AppSid`) per app,
//! decrementing the account's quota (`LimitCount`; `LimitExceeded` at zero; when fewer scans
//! remain than apps submitted, only the first ones are accepted and listed in `AppMd5s`).
//! Each scan is `TaskStatus` 2 (processing) for the configured scan duration, then 1
//! (completed) — or 3 (error, `ScanCode` 1000) for MD5s beginning with `bad0`, 4 (timeout,
//! `ScanCode` 99) for MD5s beginning with `bad1`. Findings are deterministic from the MD5
//! and limited to the requested scan types. Finished scans trigger callbacks (see
//! [`CallbackDelivery`]) to loopback `http` URLs only: the host must be `localhost` or a
//! literal loopback IP (`127.0.0.0/8`, `[::1]`); nothing is ever resolved, so names, short or
//! hexadecimal IPv4 forms and v4-mapped IPv6 addresses are refused, and URLs with userinfo are
//! rejected at submission (`InvalidParameterValue`). Which loopback ports: those of
//! [`CallbackConfig::allow`] (`--callback-allow`) if given; otherwise any port but the
//! emulator's own when it listens on a loopback address, and none when it listens on another
//! address (so a reachable emulator cannot be used to POST to local services). The published
//! demo account is refused on a non-loopback listen address unless
//! [`EmulatorConfig::allow_public_demo`] (`--allow-public-demo`) is set.
//!
//! `DescribeScanInstances` ANDs its `Filters` (`AppName`, `AppPkgName`, exact match; two
//! different values for one name match nothing) and matches `ItemIds` as a set.
//!
//! # Running, faults, limits
//! The `ms-emulator` binary (and `ms emulator serve`, via [`serve::ServeArgs`]) prints its
//! base URL as the first stdout line; `--tls --cert-out FILE` writes the CA to trust,
//! `--state FILE` keeps tasks, scans, quotas and deliveries in an SQLite database (WAL):
//! every change a request makes is committed before the request is answered (acknowledged =
//! durable; `--state-sync full` by default, `normal` to survive process crashes only), only
//! what changed is written, the file is owner-only and locked by one emulator, a JSON state
//! file of earlier versions is migrated in place, and a failed write is answered
//! `InternalError` and stops the emulator with the error (see [`Emulator::failure`],
//! [`Emulator::close`]). Fault injection ([`FaultConfig`], also `--fault-*` flags, changeable at run time
//! with [`Emulator::set_faults`]): added latency, a share of HTTP 502/503 replies, dropped
//! connections, truncated bodies, malformed JSON bodies, a share of throttled requests or a
//! burst of the next N, and a clock offset (seen in `Date`, the signature window and scan
//! progress). Resource limits ([`Limits`]): simultaneous connections (extra ones are closed at
//! once), body and GET sizes, header and TLS handshake timeout, idle connection timeout,
//! header count, HTTP/2 streams per connection, and request-body bytes held at once (a body is
//! read only after every check its headers allow, within that budget). Stored data is bounded too: scans by each
//! account's quota, every `AppInfo` string and `CallbackUrl` by 4096 bytes, the delivery list
//! by 10 000 entries (oldest finished ones dropped), callback attempts by 16 at a time. Accounts
//! are checked at start (no duplicate SecretIds, SecretIds usable in an `Authorization`
//! header) and a state file is checked for consistency before it is used. Everything time-dependent reads the injectable
//! [`Clock`], so tests use a [`ManualClock`] instead of sleeping.
//!
//! # Example
//! ```no_run
//! # async fn demo() -> Result<(), ms_emulator::Error> {
//! use ms_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::demo().with_tls(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("{} trusts {:?}", emu.base_url(), emu.ca_pem().is_some());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Cargo features
//!
//! None: the crate always builds the same (the HTTP server, TLS and certificate generation
//! are what it is). A client that does not want them leaves the crate out, as `ms-cli`
//! does without its `emulator` feature.
#![warn(missing_docs)]

mod actions;
mod api;
mod body;
mod callbacks;
pub mod clock;
mod config;
mod core;
mod findings;
#[doc(hidden)]
pub mod fuzzing;
mod params;
mod protocol;
mod ratelimit;
mod regions;
mod request;
pub mod serve;
mod server;
mod state;
mod store;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    CallbackConfig, CallbackTarget, DEMO_SECRET_ID, DEMO_SECRET_KEY, EmulatorConfig, FaultConfig,
    Limits, RateLimits, StateSync,
};
pub use server::Emulator;
pub use state::{CallbackDelivery, DeliveryStatus};

/// Errors starting or running the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS certificate or configuration could not be made.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The state file could not be read.
    #[error("state file {}: {message}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Another I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
