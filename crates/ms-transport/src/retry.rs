//! Retry policy: how failures are classified ([`RetryClass`]), and the one decision taken
//! after a failed attempt ([`RetryStrategy::decide`]: retry after a backoff, or stop).
//!
//! Modelled on the smithy-rs standard retry strategy: exponential backoff with *full jitter*
//! (`sleep = random(0, min(max_backoff, initial * 2^(attempt-1)))`), a cap on attempts, and a
//! token-bucket retry quota shared by every clone of the client, so a failing service is not
//! hammered: each retry takes tokens from the bucket, successes put tokens back.
//!
//! Safety comes first: an action that is not idempotent (its flag comes from `ms-model`) is
//! retried only when the request provably was not processed — see [`RetryClass`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ms_model::Idempotency;

use crate::error::Error;

/// How a failed attempt may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// The service refused the request because of its quota (`RequestLimitExceeded*`): it was
    /// not processed, so every action may be retried.
    Throttling,
    /// The request never left the client, or the service rejected it before processing
    /// (connection refused, connect timeout, a stale pooled connection that failed before the
    /// request was written). Safe for every action.
    NotSent,
    /// A transient failure after which the request may have been processed
    /// (`InternalError.ServerError`, HTTP 5xx, connection reset or truncated reply, timeout
    /// while waiting for the reply, malformed reply). Retried only for idempotent actions.
    Transient,
    /// Not retryable (client errors, validation, authentication, ...).
    Never,
}

impl RetryClass {
    /// Whether this class may be retried for an action with the given idempotency.
    pub fn allows(self, idempotency: Idempotency) -> bool {
        match self {
            RetryClass::Throttling | RetryClass::NotSent => true,
            RetryClass::Transient => idempotency.is_idempotent(),
            RetryClass::Never => false,
        }
    }
}

/// Retry class of a service error code.
pub fn classify_code(code: &str) -> RetryClass {
    if code.starts_with("RequestLimitExceeded") {
        RetryClass::Throttling
    } else if code == "InternalError"
        || code.starts_with("InternalError.")
        || code == "ServiceUnavailable"
    {
        RetryClass::Transient
    } else {
        RetryClass::Never
    }
}

/// Retry class of a non-200 HTTP status.
pub fn classify_status(status: u16) -> RetryClass {
    match status {
        429 => RetryClass::Throttling,
        500..=599 => RetryClass::Transient,
        _ => RetryClass::Never,
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Sleep `backoff`, then attempt again; the retry took `cost` tokens from the budget.
    RetryAfter {
        /// The full-jitter sleep before the next attempt.
        backoff: Duration,
        /// Tokens taken from the retry budget (given back when the call succeeds).
        cost: u32,
    },
    /// Give up and report the error.
    Stop(StopReason),
}

/// Why a failed call is not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The failure's class does not allow a retry for this action (see [`RetryClass::allows`]).
    NotRetryable,
    /// The configured number of attempts was made.
    AttemptsExhausted,
    /// The retry budget shared by the client's clones is empty.
    BudgetExhausted,
}

/// The standard retry strategy: the [`RetryConfig`] and the [`RetryBudget`] every clone of a
/// client shares, and the one decision taken after each failed attempt.
#[derive(Debug, Clone)]
pub struct RetryStrategy {
    config: RetryConfig,
    budget: RetryBudget,
}

impl RetryStrategy {
    /// A strategy with a full budget of `config.budget_capacity` tokens.
    pub fn new(config: RetryConfig) -> Self {
        let budget = RetryBudget::new(config.budget_capacity);
        Self { config, budget }
    }

    /// The settings.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// The shared retry budget.
    pub fn budget(&self) -> &RetryBudget {
        &self.budget
    }

    /// Whether to retry after attempt number `attempt` (1-based) of an action with the given
    /// idempotency failed with `error`, and after which backoff. In order: the error's
    /// [`RetryClass`] must allow a retry for this action (a non-idempotent action is retried
    /// only when the request provably was not processed), attempts must remain, and the
    /// retry budget must cover the retry (a timeout costs more). Taking the tokens is part
    /// of the decision: a `RetryAfter` has already paid.
    pub fn decide(&self, error: &Error, attempt: u32, idempotency: Idempotency) -> RetryDecision {
        self.decide_with_jitter(error, attempt, idempotency, rand::random::<f64>())
    }

    /// [`decide`](Self::decide) with the jitter given (`unit` in `[0, 1]` scales the backoff
    /// ceiling), for deterministic tests.
    pub fn decide_with_jitter(
        &self,
        error: &Error,
        attempt: u32,
        idempotency: Idempotency,
        unit: f64,
    ) -> RetryDecision {
        let class = error.retry_class();
        if !class.allows(idempotency) {
            return RetryDecision::Stop(StopReason::NotRetryable);
        }
        if attempt >= self.config.max_attempts.max(1) {
            return RetryDecision::Stop(StopReason::AttemptsExhausted);
        }
        let cost = if error.is_timeout() {
            self.config.timeout_retry_cost
        } else {
            self.config.retry_cost
        };
        if !self.budget.try_acquire(cost) {
            return RetryDecision::Stop(StopReason::BudgetExhausted);
        }
        RetryDecision::RetryAfter {
            backoff: self.config.backoff(attempt, class, unit),
            cost,
        }
    }

    /// A call succeeded after its retries took `spent` tokens: they go back to the budget
    /// (one token when there was no retry, so a healthy service refills it).
    pub fn on_success(&self, spent: u32) {
        self.budget.refund(if spent > 0 { spent } else { 1 });
    }
}

/// Retry settings.
#[derive(Debug, Clone)]
pub struct RetryConfig {
    /// Total attempts including the first (1 = never retry). Default 3.
    pub max_attempts: u32,
    /// Backoff ceiling of the first retry. Default 100 ms.
    pub initial_backoff: Duration,
    /// Backoff ceiling of the first retry after a throttling reply. Default 500 ms.
    pub throttle_initial_backoff: Duration,
    /// Upper bound of any backoff. Default 20 s.
    pub max_backoff: Duration,
    /// Size of the retry budget in tokens (0 disables the budget). Default 500.
    pub budget_capacity: u32,
    /// Tokens a retry costs. Default 5.
    pub retry_cost: u32,
    /// Tokens a retry after a timeout costs. Default 10.
    pub timeout_retry_cost: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            throttle_initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            budget_capacity: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
        }
    }
}

impl RetryConfig {
    /// Never retry.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the attempt cap (at least 1).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the initial and maximal backoff.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.throttle_initial_backoff = self.throttle_initial_backoff.max(initial);
        self.max_backoff = max;
        self
    }

    /// Sets the initial backoff after throttling replies.
    pub fn with_throttle_backoff(mut self, initial: Duration) -> Self {
        self.throttle_initial_backoff = initial;
        self
    }

    /// Sets the retry budget capacity (0 disables the budget).
    pub fn with_budget(mut self, capacity: u32) -> Self {
        self.budget_capacity = capacity;
        self
    }

    /// The backoff ceiling before retry number `retry` (1-based) for this class: the full-jitter
    /// sleep is drawn uniformly from `[0, ceiling]`.
    pub fn backoff_ceiling(&self, retry: u32, class: RetryClass) -> Duration {
        let base = if class == RetryClass::Throttling {
            self.throttle_initial_backoff
        } else {
            self.initial_backoff
        };
        let exp = retry.saturating_sub(1).min(31);
        let factor = 1u32 << exp;
        base.saturating_mul(factor).min(self.max_backoff)
    }

    /// Full-jitter backoff: `ceiling * unit` where `unit` is uniform in `[0, 1]`. Never
    /// panics, whatever the configured durations (`Duration::mul_f64` would overflow near
    /// `Duration::MAX`); the result never exceeds the ceiling.
    pub fn backoff(&self, retry: u32, class: RetryClass, unit: f64) -> Duration {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let ceiling = self.backoff_ceiling(retry, class);
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * unit)
            .map_or(ceiling, |d| d.min(ceiling))
    }
}

/// Token-bucket retry quota shared by every clone of a client.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    inner: Arc<BudgetInner>,
}

#[derive(Debug)]
struct BudgetInner {
    capacity: u32,
    tokens: AtomicU32,
}

impl RetryBudget {
    /// A full bucket of `capacity` tokens; 0 means unlimited.
    pub fn new(capacity: u32) -> Self {
        Self {
            inner: Arc::new(BudgetInner {
                capacity,
                tokens: AtomicU32::new(capacity),
            }),
        }
    }

    /// Tokens currently available.
    pub fn available(&self) -> u32 {
        self.inner.tokens.load(Ordering::Acquire)
    }

    /// Takes `cost` tokens for a retry; false (nothing taken) when the bucket is too low.
    pub fn try_acquire(&self, cost: u32) -> bool {
        if self.inner.capacity == 0 {
            return true;
        }
        self.inner
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .is_ok()
    }

    /// Returns `amount` tokens after a success (never above capacity).
    pub fn refund(&self, amount: u32) {
        if self.inner.capacity == 0 {
            return;
        }
        let cap = self.inner.capacity;
        let _ = self
            .inner
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(amount).min(cap))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ms_model::Idempotency::{Idempotent, NotIdempotent};

    #[test]
    fn classes_respect_idempotency() {
        assert!(RetryClass::Throttling.allows(NotIdempotent));
        assert!(RetryClass::NotSent.allows(NotIdempotent));
        assert!(!RetryClass::Transient.allows(NotIdempotent));
        assert!(RetryClass::Transient.allows(Idempotent));
        assert!(!RetryClass::Never.allows(Idempotent));
    }

    #[test]
    fn the_decision_weighs_class_idempotency_attempts_and_budget() {
        let s = RetryStrategy::new(RetryConfig::default().with_budget(20));
        let throttled = Error::api(
            ms_model::ErrorCode::parse("RequestLimitExceeded"),
            "slow down",
            None,
        );
        let server = Error::http_status(503, b"");
        let timeout = Error::timeout(Duration::from_secs(1));
        let refused = Error::connect("refused");
        let denied = Error::http_status(403, b"");
        // Class and idempotency.
        assert_eq!(
            s.decide_with_jitter(&server, 1, NotIdempotent, 0.5),
            RetryDecision::Stop(StopReason::NotRetryable),
            "a 5xx may have been processed: not retried for a write"
        );
        assert_eq!(
            s.decide_with_jitter(&denied, 1, Idempotent, 0.5),
            RetryDecision::Stop(StopReason::NotRetryable)
        );
        assert_eq!(
            s.decide_with_jitter(&throttled, 1, NotIdempotent, 1.0),
            RetryDecision::RetryAfter {
                backoff: Duration::from_millis(500),
                cost: 5
            },
            "throttled requests were not processed: retried for a write, with the throttling backoff"
        );
        assert_eq!(
            s.decide_with_jitter(&refused, 2, NotIdempotent, 0.5),
            RetryDecision::RetryAfter {
                backoff: Duration::from_millis(100),
                cost: 5
            }
        );
        // Attempts.
        assert_eq!(
            s.decide_with_jitter(&server, 3, Idempotent, 0.5),
            RetryDecision::Stop(StopReason::AttemptsExhausted)
        );
        // Budget: 20 - 5 - 5 = 10 left; a timeout costs 10, then nothing is left.
        assert_eq!(
            s.decide_with_jitter(&timeout, 1, Idempotent, 0.0),
            RetryDecision::RetryAfter {
                backoff: Duration::ZERO,
                cost: 10
            }
        );
        assert_eq!(
            s.decide_with_jitter(&server, 1, Idempotent, 0.0),
            RetryDecision::Stop(StopReason::BudgetExhausted)
        );
        s.on_success(10);
        assert_eq!(s.budget().available(), 10);
        s.on_success(0);
        assert_eq!(
            s.budget().available(),
            11,
            "a success without retry refills one token"
        );
    }

    #[test]
    fn backoff_is_exponential_capped_and_jittered() {
        let c = RetryConfig::default();
        assert_eq!(
            c.backoff_ceiling(1, RetryClass::Transient),
            Duration::from_millis(100)
        );
        assert_eq!(
            c.backoff_ceiling(2, RetryClass::Transient),
            Duration::from_millis(200)
        );
        assert_eq!(
            c.backoff_ceiling(4, RetryClass::Transient),
            Duration::from_millis(800)
        );
        assert_eq!(
            c.backoff_ceiling(1, RetryClass::Throttling),
            Duration::from_millis(500)
        );
        assert_eq!(
            c.backoff_ceiling(40, RetryClass::Transient),
            Duration::from_secs(20)
        );
        assert_eq!(c.backoff(3, RetryClass::Transient, 0.0), Duration::ZERO);
        assert_eq!(
            c.backoff(3, RetryClass::Transient, 0.5),
            Duration::from_millis(200)
        );
        assert_eq!(
            c.backoff(3, RetryClass::Transient, 7.0),
            Duration::from_millis(400)
        );
        assert_eq!(
            c.backoff(3, RetryClass::Transient, f64::NAN),
            Duration::from_millis(400)
        );
    }

    #[test]
    fn huge_configured_backoffs_do_not_overflow() {
        let c = RetryConfig::default().with_backoff(Duration::MAX, Duration::MAX);
        for class in [RetryClass::Transient, RetryClass::Throttling] {
            for retry in [0, 1, 2, 40, u32::MAX] {
                for unit in [0.0, 0.5, 1.0] {
                    assert!(c.backoff(retry, class, unit) <= Duration::MAX);
                }
            }
        }
        assert_eq!(
            c.backoff(1, RetryClass::Transient, 1.0),
            Duration::MAX,
            "rounding up past the ceiling is clamped"
        );
        assert_eq!(c.backoff(1, RetryClass::Transient, 0.0), Duration::ZERO);
    }

    #[test]
    fn budget_drains_and_refills() {
        let b = RetryBudget::new(12);
        assert!(b.try_acquire(5));
        assert!(b.try_acquire(5));
        assert!(!b.try_acquire(5), "only 2 tokens left");
        assert_eq!(b.available(), 2);
        b.refund(100);
        assert_eq!(b.available(), 12, "never above capacity");
        let shared = b.clone();
        assert!(shared.try_acquire(10));
        assert_eq!(b.available(), 2, "clones share the bucket");
    }

    #[test]
    fn zero_capacity_budget_is_unlimited() {
        let b = RetryBudget::new(0);
        for _ in 0..1000 {
            assert!(b.try_acquire(10));
        }
    }

    #[test]
    fn config_helpers() {
        assert_eq!(RetryConfig::disabled().max_attempts, 1);
        assert_eq!(RetryConfig::default().with_max_attempts(0).max_attempts, 1);
        let c = RetryConfig::default().with_backoff(Duration::from_secs(1), Duration::from_secs(2));
        assert_eq!(
            c.backoff_ceiling(5, RetryClass::NotSent),
            Duration::from_secs(2)
        );
    }
}
