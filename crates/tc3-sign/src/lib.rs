//! Pure request signing for Tencent Cloud API 3.0, byte-identical to the official
//! Python SDK (`tencentcloud-sdk-python-common` 3.1.195).
//!
//! No I/O, no clock, no environment and no HTTP types: the caller passes the request's
//! parts exactly as they will be sent, the credentials and the Unix timestamp; the result
//! says what to add to the request ([`Tc3Signature::signing_headers`]: each header with a
//! `sensitive` flag, as aws-sigv4's signing instructions), and the caller applies it.
//!
//! * **TC3-HMAC-SHA256** ([`Tc3Signer`], [`sign_tc3`]): JSON `POST`, `GET` (the query is
//!   signed exactly as sent), multipart and octet-stream bodies (the caller passes body
//!   bytes and content type), `UNSIGNED-PAYLOAD`, session tokens (`X-TC-Token`), any
//!   service. Exactly the given body bytes are hashed, so serde_json's raw UTF-8 and
//!   Python's `\uXXXX` escapes both work. [`Tc3Signer`] caches the derived signing key per
//!   (secret key, UTC date, service).
//! * **Legacy v1** (`HmacSHA1` / `HmacSHA256`): [`flatten_params`], [`v1_string_to_sign`],
//!   [`sign_v1`], with the SDK's quirks (`_` is signed as `.`; raw values in the string to
//!   sign), and a Python-compatible [`form_urlencode`] / [`form_urldecode`].
//! * **Server side** (for an emulator): [`parse_authorization`], [`verify_tc3`] and
//!   [`verify_v1`] recompute and compare in constant time and say why a request failed
//!   ([`VerifyError`]).
//!
//! Secrets never appear in `Debug`/`Display` output or in errors. Nothing panics on any
//! input. The crate is checked against every vector in `tests/data/` (produced by the
//! official SDK, with every intermediate), including the published documentation examples.
//!
//! # Example
//!
//! ```
//! use tc3_sign::{Credentials, Payload, ReceivedTc3, Tc3Request, Tc3Signer, verify_tc3};
//!
//! let creds = Credentials::new("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")?;
//! let body = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
//! let req = Tc3Request {
//!     method: "POST",
//!     host: "cvm.tencentcloudapi.com",
//!     path: "/",
//!     query: "",
//!     content_type: "application/json; charset=utf-8",
//!     payload: Payload::Bytes(body),
//! };
//! let signer = Tc3Signer::new(); // keep one and reuse it: it caches derived keys
//! let sig = signer.sign(&req, &creds, "cvm", 1_551_113_065)?;
//!
//! // The published documentation example.
//! assert_eq!(sig.signature(), "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
//! assert_eq!(sig.credential_scope(), "2019-02-25/cvm/tc3_request");
//! // The signing instructions: add these headers to the request; keep sensitive ones out
//! // of logs (`http::HeaderValue::set_sensitive`).
//! let headers: Vec<_> = sig.signing_headers().collect();
//! assert_eq!((headers[0].name(), headers[0].value()), ("X-TC-Timestamp", "1551113065"));
//! assert_eq!((headers[1].name(), headers[1].sensitive()), ("Authorization", true));
//!
//! // A server holding the same key accepts it.
//! let received = [("Content-Type", req.content_type), ("Host", req.host)];
//! verify_tc3(
//!     &ReceivedTc3 {
//!         method: "POST",
//!         path: "/",
//!         query: "",
//!         headers: &received,
//!         body,
//!         timestamp: 1_551_113_065,
//!         authorization: sig.authorization(),
//!     },
//!     creds.secret_key(),
//!     "cvm",
//! )?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Cargo features
//!
//! None: the crate always builds the same.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod credentials;
mod crypto;
mod date;
mod error;
mod form;
mod tc3;
mod v1;
mod verify;

pub use credentials::Credentials;
pub use date::utc_date;
pub use error::{Error, VerifyError};
pub use form::{form_urldecode, form_urlencode};
pub use tc3::{
    ALGORITHM, DerivedKeys, Payload, SIGNED_HEADERS, SigningHeader, Tc3Request, Tc3Signature,
    Tc3Signer, UNSIGNED_PAYLOAD, derive_keys, sign_tc3,
};
pub use v1::{V1Method, flatten_params, sign_v1, v1_string_to_sign, verify_v1};
pub use verify::{ParsedAuthorization, ReceivedTc3, parse_authorization, verify_tc3};

// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
