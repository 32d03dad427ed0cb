//! The call loop of [`Client`]: one call is attempts (credentials, rate-limit slot, signed
//! request, exchange, decoded reply) separated by the retry strategy's decisions, as
//! smithy-rs's orchestrator splits a call into `try_op` / `try_attempt`.
//!
//! What may be retried is decided in one place, [`RetryStrategy::decide`]. The one other
//! way round the loop is the clock correction: an `AuthFailure.SignatureExpire` reply teaches
//! the endpoint's clock offset (from its `Date` header) and the request is signed again,
//! once, without counting as a retry.
//!
//! [`RetryStrategy::decide`]: crate::retry::RetryStrategy::decide

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;
use tracing::{Instrument, Span, debug, field, info_span, trace, warn};

use crate::client::{Client, Operation};
use crate::connect::{map_body_error, map_send_error};
use crate::decode::{Decoder, read_reply};
use crate::error::Error;
use crate::ratelimit::LimiterKey;
use crate::request::{Params, Redacted};
use crate::retry::{RetryDecision, StopReason};
use crate::skew::is_signature_expired;

/// A failed attempt: the error, and the reply's `Date` header when there was a reply.
struct AttemptFailure {
    error: Error,
    date: Option<String>,
}

impl From<Error> for AttemptFailure {
    fn from(error: Error) -> Self {
        Self { error, date: None }
    }
}

/// What the loop knows between attempts.
#[derive(Default)]
struct CallState {
    /// Attempts made, the clock-corrected one included.
    attempts: u32,
    /// Whether the one clock-corrected attempt was made.
    clock_corrected: bool,
    /// Time spent waiting for rate-limit slots.
    limiter_wait: Duration,
    /// Retry-budget tokens taken by this call's retries.
    spent: u32,
}

impl CallState {
    /// Attempts that count against the retry strategy's cap (not the clock-corrected one).
    fn counted_attempts(&self) -> u32 {
        self.attempts - u32::from(self.clock_corrected)
    }
}

impl Client {
    /// Runs one call in its `ms.call` span.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        op: Operation<'_>,
        params: Params,
        decode: Decoder<T>,
    ) -> Result<T, Error> {
        let span = info_span!(
            "ms.call",
            action = op.action,
            service = op.service,
            idempotent = op.idempotency.is_idempotent(),
            attempts = field::Empty,
            request_id = field::Empty,
            latency_ms = field::Empty,
            limiter_wait_ms = field::Empty,
            outcome = field::Empty,
        );
        self.call_loop(op, params, decode).instrument(span).await
    }

    /// Attempts until success, or until the retry strategy says stop.
    async fn call_loop<T: DeserializeOwned>(
        &self,
        op: Operation<'_>,
        params: Params,
        decode: Decoder<T>,
    ) -> Result<T, Error> {
        let started = Instant::now();
        let mut state = CallState::default();
        let span = Span::current();
        loop {
            state.attempts = state.attempts.saturating_add(1);
            let attempt_span = tracing::debug_span!(
                "ms.attempt",
                attempt = state.attempts,
                limiter_wait_ms = field::Empty,
                status = field::Empty
            );
            let result = self
                .attempt::<T>(op, &params, &mut state.limiter_wait, decode)
                .instrument(attempt_span)
                .await;
            span.record("attempts", state.attempts);
            span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
            span.record("limiter_wait_ms", state.limiter_wait.as_secs_f64() * 1000.0);
            let failure = match result {
                Ok((value, request_id)) => {
                    if let Some(id) = &request_id {
                        span.record("request_id", id.as_str());
                    }
                    span.record("outcome", "ok");
                    self.inner.retry.on_success(state.spent);
                    debug!("call succeeded");
                    return Ok(value);
                }
                Err(failure) => failure,
            };
            let error = failure
                .error
                .with_action(op.action)
                .with_attempts(state.attempts);
            if let Some(id) = error.request_id() {
                span.record("request_id", id);
            }
            if !state.clock_corrected && self.correct_clock(&error, failure.date.as_deref()) {
                state.clock_corrected = true;
                continue;
            }
            let class = error.retry_class();
            match self
                .inner
                .retry
                .decide(&error, state.counted_attempts(), op.idempotency)
            {
                RetryDecision::RetryAfter { backoff, cost } => {
                    state.spent = state.spent.saturating_add(cost);
                    debug!(error = %error, retry_class = ?class, backoff_ms = backoff.as_secs_f64() * 1000.0, "retrying");
                    if !backoff.is_zero() {
                        tokio::time::sleep(backoff).await;
                    }
                }
                RetryDecision::Stop(StopReason::BudgetExhausted) => {
                    span.record("outcome", "retry-budget-exhausted");
                    warn!(error = %error, "retry budget exhausted; not retrying");
                    return Err(error);
                }
                RetryDecision::Stop(_) => {
                    span.record("outcome", error.code_str());
                    debug!(error = %error, retry_class = ?class, "call failed");
                    return Err(error);
                }
            }
        }
    }

    /// Learns the endpoint's clock offset from an `AuthFailure.SignatureExpire` reply's
    /// `Date` header. True when the request should be signed again with the corrected time.
    fn correct_clock(&self, error: &Error, date: Option<&str>) -> bool {
        let inner = &self.inner;
        if !inner.skew_correction || !error.code().is_some_and(is_signature_expired) {
            return false;
        }
        let Some(date) = date else { return false };
        let learned = inner.skew.learn_from_date(
            inner.request.endpoint.host(),
            date,
            inner.clock.unix_seconds(),
        );
        if let Some(offset) = learned {
            warn!(
                offset_seconds = offset,
                "clock skew detected; retrying with the server's time"
            );
        }
        learned.is_some()
    }

    /// One attempt: credentials, the rate-limit slot, the signed request, the exchange
    /// within the request timeout, and the decoded reply.
    async fn attempt<T: DeserializeOwned>(
        &self,
        op: Operation<'_>,
        params: &Params,
        waited: &mut Duration,
        decode: Decoder<T>,
    ) -> Result<(T, Option<String>), AttemptFailure> {
        let inner = &self.inner;
        let creds = if inner.request.sign_method.signs() {
            Some(inner.credentials.provide_credentials().await?)
        } else {
            None
        };
        let key = LimiterKey::new(
            op.action,
            inner.request.region.as_deref().unwrap_or(""),
            creds.as_ref().map_or("", |c| c.secret_id()),
        );
        let wait = inner.limiter.acquire(&key).await?;
        *waited += wait;
        Span::current().record("limiter_wait_ms", wait.as_secs_f64() * 1000.0);
        let timestamp = inner
            .skew
            .corrected(inner.request.endpoint.host(), inner.clock.unix_seconds());
        let request = inner.request.build(op, params, creds.as_ref(), timestamp)?;
        if tracing::enabled!(tracing::Level::TRACE) {
            // A GET carries the parameters in the query (a download URL among them): values
            // masked, as in the bodies.
            let uri = request.uri().to_string();
            trace!(method = %request.method(), uri = %ms_model::redact_url(&uri), headers = %Redacted(request.headers()), "sending request");
        }
        if let (Some(body), true) = (params.json_body(), tracing::enabled!(tracing::Level::TRACE)) {
            trace!(body = %crate::error::body_snippet(body), "request body");
        }
        let sent_at = Instant::now();
        let (parts, body) = self.exchange(request).await?;
        let status = parts.status.as_u16();
        Span::current().record("status", status);
        trace!(status, latency_ms = sent_at.elapsed().as_secs_f64() * 1000.0, body = %crate::error::body_snippet(&body), "received reply");
        // The `Date` header is copied only for a failure (the clock correction reads it).
        read_reply(status, &body, decode).map_err(|error| AttemptFailure {
            error,
            date: parts
                .headers
                .get(http::header::DATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        })
    }

    /// Sends `request` and reads the whole reply (at most `max_response_bytes`) within the
    /// request timeout.
    async fn exchange(
        &self,
        request: http::Request<http_body_util::Full<Bytes>>,
    ) -> Result<(http::response::Parts, Bytes), Error> {
        let inner = &self.inner;
        let max = inner.max_response_bytes;
        let exchange = async {
            let response = inner.http.request(request).await.map_err(map_send_error)?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, max)
                .collect()
                .await
                .map_err(|e| map_body_error(e, max))?
                .to_bytes();
            Ok::<_, Error>((parts, bytes))
        };
        match tokio::time::timeout(inner.request_timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(Error::timeout(inner.request_timeout)),
        }
    }
}
