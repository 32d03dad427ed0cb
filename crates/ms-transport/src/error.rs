//! The client's error type.
//!
//! One opaque [`Error`] with an [`ErrorKind`], the service's error code, message and
//! RequestId when there is one, the HTTP status and a body snippet when relevant, and the
//! retry classification. `Display` shows code, message and RequestId; no secret (SecretKey,
//! session token, `Authorization` value, the temporary credentials of a reply) is ever stored
//! in an error: body snippets go through [`crate::redact`].

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use ms_model::{ErrorCode, ValidationErrors};

use crate::retry::{RetryClass, classify_code, classify_status};

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service answered with an error envelope (`Response.Error`).
    Api,
    /// The reply had an HTTP status other than 200.
    HttpStatus,
    /// The request did not complete within the configured timeout.
    Timeout,
    /// The connection could not be established (DNS, refused, proxy CONNECT failed).
    Connect,
    /// The TLS handshake failed (unknown certificate authority, bad name, ...).
    Tls,
    /// The connection failed while the request or the reply was in flight (reset, truncated).
    Transport,
    /// The reply could not be decoded (not JSON, no `Response`, wrong types).
    Decode,
    /// The request failed client-side validation; nothing was sent.
    Validation,
    /// No usable credentials.
    Credentials,
    /// The request could not be signed or serialized.
    Signing,
    /// The client is misconfigured (bad endpoint, unreadable certificate, ...).
    Config,
    /// The shared rate limiter (Redis) gave no slot: unreachable or too slow, with the `fail`
    /// policy. The request was not sent.
    RateLimiter,
}

impl ErrorKind {
    /// A short stable name (`"Api"`, `"Timeout"`, ...), also used as the client-side code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Api => "Api",
            ErrorKind::HttpStatus => "HttpStatus",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Connect => "Connect",
            ErrorKind::Tls => "Tls",
            ErrorKind::Transport => "Transport",
            ErrorKind::Decode => "Decode",
            ErrorKind::Validation => "Validation",
            ErrorKind::Credentials => "Credentials",
            ErrorKind::Signing => "Signing",
            ErrorKind::Config => "Config",
            ErrorKind::RateLimiter => "RateLimiter",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the client. Cheap to move (boxed).
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    action: Option<String>,
    code: Option<ErrorCode>,
    message: String,
    request_id: Option<String>,
    status: Option<u16>,
    snippet: Option<String>,
    retry: RetryClass,
    attempts: u32,
    validation: Option<ValidationErrors>,
    source: Option<BoxError>,
    /// `ErrorKind::Config`: the setting at fault, and where its detail starts in `message`.
    setting: Option<(ConfigSetting, usize)>,
}

/// Which setting a configuration error ([`ErrorKind::Config`]) is about, so callers can name
/// the option their user set without reading the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigSetting {
    /// The endpoint ([`ClientBuilder::endpoint`](crate::ClientBuilder::endpoint)).
    Endpoint,
    /// The region (`X-TC-Region`).
    Region,
    /// The service name of the credential scope.
    Service,
    /// The API version.
    Version,
    /// A proxy: the environment variable it came from (`HTTPS_PROXY`, `all_proxy`, ...), or
    /// `None` for the builder's explicit [`Proxy::Url`](crate::Proxy::Url).
    Proxy(Option<&'static str>),
    /// The PEM added by the `n`-th (0-based) call of
    /// [`ClientBuilder::add_root_pem`](crate::ClientBuilder::add_root_pem).
    RootCertificate(usize),
    /// The TLS configuration as a whole (no trusted root, protocol versions).
    Tls,
    /// The action name of a call.
    Action,
    /// The parameters of a call.
    Params,
}

/// Maximum characters of a body kept in an error.
pub const SNIPPET_LEN: usize = 256;

/// A printable prefix of a body: secret members redacted ([`redact_secrets`]), the user info
/// and parameter values of URLs masked ([`ms_model::redact_url`]: a pre-signed download URL's
/// signature or token), lossy UTF-8, control characters escaped, at most [`SNIPPET_LEN`]
/// characters.
///
/// [`redact_secrets`]: crate::redact::redact_secrets
pub fn body_snippet(body: &[u8]) -> String {
    let prefix = &body[..body.len().min(SNIPPET_LEN * 4)];
    let redacted = crate::redact::redact_secrets(prefix);
    let text = String::from_utf8_lossy(&redacted);
    let text = ms_model::redact_url(&text);
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i >= SNIPPET_LEN {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>, retry: RetryClass) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                action: None,
                code: None,
                // An error never carries a URL's password or a pre-signed URL's signature, whoever
                // wrote the message (the service's `Message` may quote a download URL).
                message: ms_model::redact_url(&message.into()).into_owned(),
                request_id: None,
                status: None,
                snippet: None,
                retry,
                attempts: 1,
                validation: None,
                source: None,
                setting: None,
            }),
        }
    }

    /// An error envelope returned by the service.
    pub fn api(code: ErrorCode, message: impl Into<String>, request_id: Option<String>) -> Self {
        let retry = classify_code(code.as_str());
        let mut e = Self::new(ErrorKind::Api, message, retry);
        e.inner.code = Some(code);
        e.inner.request_id = request_id;
        e
    }

    /// A reply with a non-200 status.
    pub fn http_status(status: u16, body: &[u8]) -> Self {
        let mut e = Self::new(
            ErrorKind::HttpStatus,
            format!("HTTP status {status}"),
            classify_status(status),
        );
        e.inner.status = Some(status);
        e.inner.snippet = Some(body_snippet(body));
        e
    }

    /// The whole attempt exceeded `after`. The request may have been processed.
    pub fn timeout(after: Duration) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!("no complete reply within {after:?}"),
            RetryClass::Transient,
        )
    }

    /// A waiter gave up: the task did not reach a final state in time (not retryable; the
    /// calls themselves succeeded).
    pub fn wait_timeout(item_id: &str, after: Duration) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!("task {item_id} not finished within {after:?}"),
            RetryClass::Never,
        )
    }

    /// The connection could not be established; the request was not sent.
    pub fn connect(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::Connect, "connection failed", RetryClass::NotSent).with_source(source)
    }

    /// The TLS handshake failed (not retried: a certificate problem does not go away).
    pub fn tls(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::Tls, "TLS handshake failed", RetryClass::Never).with_source(source)
    }

    /// The connection failed during the exchange: the request may have been delivered.
    pub fn transport(source: impl Into<BoxError>) -> Self {
        Self::new(
            ErrorKind::Transport,
            "connection failed during the exchange",
            RetryClass::Transient,
        )
        .with_source(source)
    }

    /// The connection failed provably before the request was written (safe to retry for
    /// every action).
    pub fn transport_unsent(source: impl Into<BoxError>) -> Self {
        Self::new(
            ErrorKind::Transport,
            "connection failed before the request was sent",
            RetryClass::NotSent,
        )
        .with_source(source)
    }

    /// The body could not be decoded. The request may have been processed. The values of
    /// secret members of `body` are redacted from the snippet and from `message` (a decoder's
    /// message may quote the offending value).
    pub fn decode(message: impl Into<String>, body: &[u8]) -> Self {
        let message = crate::redact::scrub(&message.into(), &crate::redact::secret_values(body));
        let mut e = Self::new(ErrorKind::Decode, message, RetryClass::Transient);
        e.inner.snippet = Some(body_snippet(body));
        e
    }

    /// The reply exceeded the configured size cap (not retried: it would not shrink). The
    /// request was delivered and may have been processed ([`Error::is_outcome_unknown`]).
    pub fn response_too_large(limit: usize) -> Self {
        Self::new(
            ErrorKind::Decode,
            format!("reply larger than {limit} bytes"),
            RetryClass::Never,
        )
    }

    /// Client-side validation failed; nothing was sent.
    pub fn validation(errors: ValidationErrors) -> Self {
        let mut e = Self::new(ErrorKind::Validation, errors.to_string(), RetryClass::Never);
        e.inner.validation = Some(errors);
        e
    }

    /// No usable credentials: none configured, or a source that is misconfigured or refuses
    /// (a malformed file, a role STS will not let you assume). Not retried.
    pub fn credentials(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Credentials, message, RetryClass::Never)
    }

    /// The credentials' source did not answer, or failed in a way that may pass (STS or the
    /// CVM metadata service unreachable, timing out, answering 5xx or throttling). The request
    /// that needed them was not sent, so it may be tried again for every action
    /// ([`RetryClass::NotSent`]); [`is_safe_to_retry`](Self::is_safe_to_retry) tells it from
    /// [`credentials`](Self::credentials).
    pub fn credentials_unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Credentials, message, RetryClass::NotSent)
    }

    /// A credentials error that keeps the retry class of `self` (credentials of a source
    /// that failed transiently stay [`credentials_unavailable`](Self::credentials_unavailable)),
    /// with another message.
    pub(crate) fn credentials_like(&self, message: impl Into<String>) -> Self {
        if self.inner.retry != RetryClass::Never {
            Self::credentials_unavailable(message)
        } else {
            Self::credentials(message)
        }
    }

    /// Signing or serialization failed.
    pub fn signing(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Signing, message, RetryClass::Never)
    }

    /// Misconfiguration.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message, RetryClass::Never)
    }

    /// Misconfiguration of `setting`: the message is `"{label}: {detail}"`, where the label
    /// names the setting as the user wrote it (`endpoint "ftp://x"`, `HTTPS_PROXY`).
    pub fn config_of(
        setting: ConfigSetting,
        label: impl fmt::Display,
        detail: impl fmt::Display,
    ) -> Self {
        // Masked before the label's length is taken: the message keeps that length.
        let label = ms_model::redact_url(&label.to_string()).into_owned();
        let detail = ms_model::redact_url(&detail.to_string()).into_owned();
        let mut e = Self::config(format!("{label}: {detail}"));
        e.inner.setting = Some((setting, label.len() + 2));
        e
    }

    /// The setting a configuration error is about, when it names one.
    pub fn config_setting(&self) -> Option<ConfigSetting> {
        self.inner.setting.map(|(s, _)| s)
    }

    /// What is wrong with the [setting](Self::config_setting), without the label that
    /// names it (`invalid PEM: ...`); the whole message for other errors.
    pub fn config_detail(&self) -> &str {
        match self.inner.setting {
            Some((_, start)) => self.inner.message.get(start..).unwrap_or(""),
            None => &self.inner.message,
        }
    }

    /// The shared rate limiter gave no slot (not retried; nothing was sent). The message
    /// must not contain secrets (a Redis URL is given redacted).
    pub fn rate_limiter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::RateLimiter, message, RetryClass::Never)
    }

    /// Attaches the cause and appends its chain to the message, so `message()` alone
    /// explains the failure (`connection failed: client error (Connect): tcp connect error:
    /// Connection refused`).
    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        let source = source.into();
        let mut chain = String::new();
        let mut next: Option<&(dyn StdError + 'static)> = Some(&*source);
        while let Some(s) = next {
            let text = s.to_string();
            if !text.is_empty() && !chain.ends_with(&text) {
                chain.push_str(": ");
                chain.push_str(&text);
            }
            next = s.source();
        }
        self.inner.message.push_str(&ms_model::redact_url(&chain));
        self.inner.source = Some(source);
        self
    }

    /// Records the action that failed, unless one is already recorded (the first wins).
    pub fn with_action(mut self, action: &str) -> Self {
        if self.inner.action.is_none() {
            self.inner.action = Some(action.to_owned());
        }
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Self {
        if self.inner.request_id.is_none() {
            self.inner.request_id = request_id;
        }
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }

    /// The broad category.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The service error code (`ErrorKind::Api` only).
    pub fn code(&self) -> Option<&ErrorCode> {
        self.inner.code.as_ref()
    }

    /// The service error code as a string, or the client-side kind name
    /// (`"Timeout"`, `"HttpStatus"`, ...) when the service sent none.
    pub fn code_str(&self) -> &str {
        match &self.inner.code {
            Some(c) => c.as_str(),
            None => self.inner.kind.as_str(),
        }
    }

    /// The human-readable message (the service's `Message` for API errors).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The RequestId of the reply, when the service sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The action that failed.
    pub fn action(&self) -> Option<&str> {
        self.inner.action.as_deref()
    }

    /// The HTTP status (`ErrorKind::HttpStatus` only).
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// A prefix of the offending body (`HttpStatus` and `Decode`).
    pub fn body_snippet(&self) -> Option<&str> {
        self.inner.snippet.as_deref()
    }

    /// The validation violations (`ErrorKind::Validation` only).
    pub fn validation_errors(&self) -> Option<&ValidationErrors> {
        self.inner.validation.as_ref()
    }

    /// How many attempts were made before giving up.
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The retry classification of this failure.
    pub fn retry_class(&self) -> RetryClass {
        self.inner.retry
    }

    /// Whether retrying an *idempotent* request could succeed (throttling, transient server
    /// errors, connection failures, timeouts).
    pub fn is_retryable(&self) -> bool {
        self.inner.retry != RetryClass::Never
    }

    /// Whether retrying is safe even for a non-idempotent action: the request provably was
    /// not processed (not sent, or rejected by throttling).
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(
            self.inner.retry,
            RetryClass::NotSent | RetryClass::Throttling
        )
    }

    /// Whether the request may or may not have been processed by the service (timeouts,
    /// connection lost after sending, 5xx, `InternalError*`, an unreadable or oversized
    /// reply). For a non-idempotent action the outcome is unknown: check before resubmitting.
    ///
    /// Every [`ErrorKind::Decode`] error counts, even the non-retryable oversized reply: a
    /// reply arrived, so the service may well have acted on the request.
    pub fn is_outcome_unknown(&self) -> bool {
        self.inner.retry == RetryClass::Transient || self.inner.kind == ErrorKind::Decode
    }

    /// Whether this is a throttling reply (`RequestLimitExceeded*` or HTTP 429).
    pub fn is_throttling(&self) -> bool {
        self.inner.retry == RetryClass::Throttling
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// Whether the connection could not be established.
    pub fn is_connect(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Connect | ErrorKind::Tls)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        if let Some(action) = &i.action {
            write!(f, "{action}: ")?;
        }
        match (&i.code, i.kind) {
            (Some(code), _) => write!(f, "{}: {}", code.as_str(), i.message)?,
            (None, ErrorKind::HttpStatus) => write!(f, "{}", i.message)?,
            (None, kind) => write!(f, "{kind} error: {}", i.message)?,
        }
        if let Some(snippet) = &i.snippet {
            write!(f, "; body: {snippet}")?;
        }
        if let Some(id) = &i.request_id {
            write!(f, " (RequestId: {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Error")
            .field("kind", &i.kind)
            .field("action", &i.action)
            .field("code", &i.code.as_ref().map(|c| c.as_str()))
            .field("message", &i.message)
            .field("request_id", &i.request_id)
            .field("status", &i.status)
            .field("snippet", &i.snippet)
            .field("retry", &i.retry)
            .field("attempts", &i.attempts)
            .field("source", &i.source)
            .finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.inner.source {
            Some(s) => Some(&**s as &(dyn StdError + 'static)),
            None => self
                .inner
                .validation
                .as_ref()
                .map(|v| v as &(dyn StdError + 'static)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_display_has_code_message_request_id() {
        let e = Error::api(
            ErrorCode::parse("RequestLimitExceeded"),
            "too many",
            Some("req-1".into()),
        )
        .with_action("CreateScanInstances");
        let s = e.to_string();
        assert_eq!(
            s,
            "CreateScanInstances: RequestLimitExceeded: too many (RequestId: req-1)"
        );
        assert!(e.is_throttling() && e.is_retryable() && e.is_safe_to_retry());
        assert_eq!(e.request_id(), Some("req-1"));
        assert_eq!(e.code_str(), "RequestLimitExceeded");
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify_code("RequestLimitExceeded.UinLimitExceeded"),
            RetryClass::Throttling
        );
        assert_eq!(
            classify_code("InternalError.ServerError"),
            RetryClass::Transient
        );
        assert_eq!(classify_code("InvalidParameter"), RetryClass::Never);
        assert_eq!(classify_code("LimitExceeded"), RetryClass::Never);
        assert_eq!(classify_status(503), RetryClass::Transient);
        assert_eq!(classify_status(429), RetryClass::Throttling);
        assert_eq!(classify_status(404), RetryClass::Never);
        assert!(Error::timeout(Duration::from_secs(1)).is_outcome_unknown());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by peer");
        let e = Error::connect(io);
        assert_eq!(e.message(), "connection failed: refused by peer");
        assert_eq!(
            e.to_string(),
            "Connect error: connection failed: refused by peer"
        );
        assert!(Error::connect("refused").is_safe_to_retry());
        assert!(!Error::tls("bad cert").is_retryable());
        assert!(Error::transport_unsent("reset").is_safe_to_retry());
        assert!(Error::transport("reset").is_outcome_unknown());
        let big = Error::response_too_large(10);
        assert!(!big.is_retryable() && !big.is_safe_to_retry());
        assert!(big.is_outcome_unknown(), "a reply came: maybe processed");
        assert!(!Error::credentials("none").is_outcome_unknown());
        assert!(!Error::http_status(404, b"").is_outcome_unknown());
    }

    #[test]
    fn snippets_are_bounded_and_escaped() {
        let body = vec![b'a'; 10_000];
        let s = body_snippet(&body);
        assert_eq!(s.chars().count(), SNIPPET_LEN + 1);
        assert_eq!(body_snippet(b"a\nb\x00"), "a\\nb\\u{0}");
        let e = Error::http_status(502, b"<html>bad gateway</html>");
        assert_eq!(
            e.to_string(),
            "HTTP status 502; body: <html>bad gateway</html>"
        );
        assert_eq!(e.status(), Some(502));
        assert_eq!(e.code_str(), "HttpStatus");
    }
}
