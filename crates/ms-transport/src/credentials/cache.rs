//! Caching of temporary credentials: refresh ahead of expiry, one refresh at a time.
//!
//! [`CachedProvider`] wraps anything that can [`FetchCredentials`] (the CVM metadata service,
//! STS `AssumeRole`, `AssumeRoleWithWebIdentity`, a tccli OAuth file) and turns it into a
//! [`ProvideCredentials`]:
//!
//! - credentials are reused until [`RefreshPolicy::refresh_before`] (default 300 s, the
//!   margin the official Go, Python and Java SDKs use for CVM roles) before they expire —
//!   for short-lived credentials the margin is at most half their lifetime, so a 10-minute
//!   session is not refreshed on every call;
//! - **single flight**: however many tasks ask at once, one fetch runs; the others wait for
//!   it and share its outcome (its credentials, or its error);
//! - a failed refresh while the cached credentials are still usable (more than
//!   [`RefreshPolicy::min_remaining`] left) is logged and the cached credentials are served;
//!   the next refresh is tried after [`RefreshPolicy::retry_after`], so an unreachable
//!   metadata service is not hammered by every call;
//! - a fetch cancelled half-way (the caller's future dropped) leaves no trace: the next
//!   caller fetches.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tc3_sign::Credentials;
use tracing::{debug, warn};

use super::{CredentialsFuture, ProvideCredentials};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;

/// Credentials with the Unix time (seconds) at which they stop working.
#[derive(Clone)]
pub struct TemporaryCredentials {
    credentials: Credentials,
    expires_at: u64,
}

impl TemporaryCredentials {
    /// Credentials valid until `expires_at` (Unix seconds).
    pub fn new(credentials: Credentials, expires_at: u64) -> Self {
        Self {
            credentials,
            expires_at,
        }
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// When they expire (Unix seconds).
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }
}

impl fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("secret_id", &self.credentials.secret_id())
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The future returned by [`FetchCredentials::fetch`].
pub type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<TemporaryCredentials, Error>> + Send + 'a>>;

/// A source of temporary credentials: one call, one fetch (no caching — that is
/// [`CachedProvider`]'s job).
pub trait FetchCredentials: Send + Sync + fmt::Debug {
    /// A short name for logs and errors (`"CVM role"`, `"STS AssumeRole"`).
    fn name(&self) -> &'static str;
    /// Fetches fresh credentials.
    fn fetch(&self) -> FetchFuture<'_>;
}

/// When [`CachedProvider`] refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh when less than this is left (capped at half the credentials' lifetime).
    /// Default 300 s.
    pub refresh_before: Duration,
    /// Cached credentials with less than this left are not served when a refresh fails.
    /// Default 15 s.
    pub min_remaining: Duration,
    /// After a failed refresh served cached credentials, wait this long before trying
    /// again. Default 10 s.
    pub retry_after: Duration,
}

/// Default [`RefreshPolicy::refresh_before`]: 300 s, as the official SDKs' CVM role
/// credentials (and Tencent Cloud's 300 s signature window).
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(300);

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refresh_before: DEFAULT_REFRESH_BEFORE,
            min_remaining: Duration::from_secs(15),
            retry_after: Duration::from_secs(10),
        }
    }
}

#[derive(Default)]
struct State {
    current: Option<Cached>,
    /// Fetches completed (successful or not).
    completed: u64,
    /// The last failed fetch: its number in `completed`, its message, and whether its
    /// source may answer later (shared with the waiters as
    /// [`Error::credentials_unavailable`]).
    last_failure: Option<(u64, String, bool)>,
    /// No refresh before this Unix time while cached credentials are served after a failure.
    retry_not_before: u64,
}

#[derive(Clone)]
struct Cached {
    value: TemporaryCredentials,
    fetched_at: u64,
}

impl Cached {
    /// Whether the credentials need no refresh at `now`.
    fn fresh(&self, now: u64, policy: &RefreshPolicy) -> bool {
        let lifetime = self.value.expires_at.saturating_sub(self.fetched_at);
        let margin = policy.refresh_before.as_secs().min(lifetime / 2);
        self.value.expires_at.saturating_sub(now) > margin
    }

    /// Whether the credentials can still sign a request at `now`.
    fn usable(&self, now: u64, policy: &RefreshPolicy) -> bool {
        self.value.expires_at.saturating_sub(now) > policy.min_remaining.as_secs()
    }
}

/// Temporary credentials fetched on demand, cached, refreshed ahead of expiry by one task
/// while the others wait (see the [module docs](self)).
///
/// Clones share the cache.
pub struct CachedProvider<F> {
    inner: Arc<Inner<F>>,
}

struct Inner<F> {
    fetcher: F,
    policy: RefreshPolicy,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    refresh: tokio::sync::Mutex<()>,
}

impl<F> Clone for CachedProvider<F> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<F: FetchCredentials> fmt::Debug for CachedProvider<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("CachedProvider")
            .field("source", &self.inner.fetcher)
            .field(
                "expires_at",
                &state.current.as_ref().map(|c| c.value.expires_at),
            )
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl<F: FetchCredentials> CachedProvider<F> {
    /// Caches what `fetcher` fetches, with the default policy and the system clock.
    pub fn new(fetcher: F) -> Self {
        Self::with_policy(
            fetcher,
            RefreshPolicy::default(),
            Arc::new(SystemClock::new()),
        )
    }

    /// Caches with this policy, reading the time from `clock`.
    pub fn with_policy(fetcher: F, policy: RefreshPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                fetcher,
                policy,
                clock,
                state: Mutex::new(State::default()),
                refresh: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The source.
    pub fn fetcher(&self) -> &F {
        &self.inner.fetcher
    }

    /// The cached credentials and their expiry, if any (no fetch).
    pub fn cached(&self) -> Option<TemporaryCredentials> {
        self.inner.lock().current.as_ref().map(|c| c.value.clone())
    }

    /// Drops the cached credentials: the next call fetches.
    pub fn invalidate(&self) {
        self.inner.lock().current = None;
    }

    /// The credentials: cached ones while fresh, else one refresh shared by every caller.
    pub async fn load(&self) -> Result<Credentials, Error> {
        let inner = &*self.inner;
        let policy = &inner.policy;
        let seen = {
            let state = inner.lock();
            let now = inner.clock.unix_seconds();
            if let Some(c) = &state.current
                && c.fresh(now, policy)
            {
                return Ok(c.value.credentials.clone());
            }
            state.completed
        };
        let _refreshing = inner.refresh.lock().await;
        let now = inner.clock.unix_seconds();
        let stale = {
            let state = inner.lock();
            let current = state.current.clone();
            if let Some(c) = &current
                && c.fresh(now, policy)
            {
                return Ok(c.value.credentials.clone());
            }
            if state.completed > seen {
                // A fetch finished while this caller waited: share its outcome.
                if let Some(c) = &current
                    && c.usable(now, policy)
                {
                    return Ok(c.value.credentials.clone());
                }
                if let Some((n, message, transient)) = &state.last_failure
                    && *n > seen
                {
                    return Err(if *transient {
                        Error::credentials_unavailable(message.clone())
                    } else {
                        Error::credentials(message.clone())
                    });
                }
            }
            match current {
                Some(c) if c.usable(now, policy) && now < state.retry_not_before => {
                    return Ok(c.value.credentials.clone());
                }
                Some(c) if c.usable(now, policy) => Some(c),
                _ => None,
            }
        };
        let name = inner.fetcher.name();
        let fetched = inner.fetcher.fetch().await.and_then(|t| {
            if t.expires_at <= now {
                Err(Error::credentials(format!(
                    "{name}: the credentials received expired at {} (now {now})",
                    t.expires_at
                )))
            } else {
                Ok(t)
            }
        });
        let now = inner.clock.unix_seconds();
        let mut state = inner.lock();
        state.completed += 1;
        match fetched {
            Ok(value) => {
                debug!(
                    source = name,
                    secret_id = value.credentials.secret_id(),
                    expires_at = value.expires_at,
                    "temporary credentials refreshed"
                );
                let creds = value.credentials.clone();
                state.current = Some(Cached {
                    value,
                    fetched_at: now,
                });
                state.last_failure = None;
                state.retry_not_before = 0;
                Ok(creds)
            }
            Err(error) => {
                let transient = error.retry_class() != crate::RetryClass::Never;
                state.last_failure = Some((state.completed, error.message().to_owned(), transient));
                match stale {
                    Some(c) => {
                        warn!(
                            source = name,
                            error = %error,
                            expires_at = c.value.expires_at,
                            "refreshing credentials failed; using the cached ones until they expire"
                        );
                        state.retry_not_before = now.saturating_add(policy.retry_after.as_secs());
                        Ok(c.value.credentials)
                    }
                    None => Err(error),
                }
            }
        }
    }
}

impl<F> Inner<F> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every statement; a panic elsewhere cannot leave it
        // half-written, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<F: FetchCredentials + 'static> ProvideCredentials for CachedProvider<F> {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    struct Scripted {
        calls: AtomicU32,
        lifetime: u64,
        fail_from: u32,
        clock: FakeClock,
        /// Failures say the source may answer later.
        transient: bool,
    }

    impl FetchCredentials for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn fetch(&self) -> FetchFuture<'_> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::task::yield_now().await;
                if n >= self.fail_from {
                    let message = format!("scripted: failure {n}");
                    return Err(if self.transient {
                        Error::credentials_unavailable(message)
                    } else {
                        Error::credentials(message)
                    });
                }
                let creds = Credentials::new(format!("AKIDtmp{n}"), "k").expect("creds");
                Ok(TemporaryCredentials::new(
                    creds,
                    self.clock.unix_seconds() + self.lifetime,
                ))
            })
        }
    }

    fn provider(lifetime: u64, fail_from: u32) -> (CachedProvider<Scripted>, FakeClock) {
        scripted(lifetime, fail_from, false)
    }

    fn scripted(
        lifetime: u64,
        fail_from: u32,
        transient: bool,
    ) -> (CachedProvider<Scripted>, FakeClock) {
        let clock = FakeClock::new(1_700_000_000);
        let p = CachedProvider::with_policy(
            Scripted {
                calls: AtomicU32::new(0),
                lifetime,
                fail_from,
                clock: clock.clone(),
                transient,
            },
            RefreshPolicy::default(),
            Arc::new(clock.clone()),
        );
        (p, clock)
    }

    #[tokio::test]
    async fn refreshes_ahead_of_expiry_with_the_margin_capped_at_half_the_lifetime() {
        let (p, clock) = provider(7200, u32::MAX);
        assert_eq!(p.load().await.expect("first").secret_id(), "AKIDtmp1");
        clock.advance(Duration::from_secs(7200 - 301));
        assert_eq!(p.load().await.expect("cached").secret_id(), "AKIDtmp1");
        clock.advance(Duration::from_secs(1));
        assert_eq!(p.load().await.expect("refreshed").secret_id(), "AKIDtmp2");

        // 400 s of lifetime: refreshed 200 s before expiry, not at once.
        let (p, clock) = provider(400, u32::MAX);
        p.load().await.expect("first");
        clock.advance(Duration::from_secs(199));
        assert_eq!(p.load().await.expect("cached").secret_id(), "AKIDtmp1");
        clock.advance(Duration::from_secs(1));
        assert_eq!(p.load().await.expect("refreshed").secret_id(), "AKIDtmp2");
    }

    #[tokio::test]
    async fn a_failed_refresh_serves_usable_credentials_then_retries_later() {
        let (p, clock) = provider(1000, 2);
        p.load().await.expect("first");
        clock.advance(Duration::from_secs(900));
        // The refresh fails: the cached credentials (100 s left) are served.
        assert_eq!(p.load().await.expect("stale").secret_id(), "AKIDtmp1");
        assert_eq!(p.fetcher().calls.load(Ordering::SeqCst), 2);
        // Within retry_after: no new fetch.
        assert_eq!(p.load().await.expect("stale").secret_id(), "AKIDtmp1");
        assert_eq!(p.fetcher().calls.load(Ordering::SeqCst), 2);
        clock.advance(Duration::from_secs(10));
        p.load().await.expect("stale again");
        assert_eq!(p.fetcher().calls.load(Ordering::SeqCst), 3);
        // Too close to expiry: the failure is reported.
        clock.advance(Duration::from_secs(80));
        let e = p.load().await.expect_err("expired");
        assert_eq!(e.kind(), crate::ErrorKind::Credentials);
        assert!(e.message().contains("failure 4"), "{e}");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch_and_its_failure() {
        let (p, _clock) = provider(7200, u32::MAX);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.load().await.map(|c| c.secret_id().to_owned()) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("join").expect("creds"), "AKIDtmp1");
        }
        assert_eq!(p.fetcher().calls.load(Ordering::SeqCst), 1);

        let (p, _clock) = provider(7200, 1);
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.load().await.map(|_| ()) })
            })
            .collect();
        let mut failures = 0;
        for t in tasks {
            failures += usize::from(t.await.expect("join").is_err());
        }
        assert_eq!(failures, 16);
        assert_eq!(
            p.fetcher().calls.load(Ordering::SeqCst),
            1,
            "the waiters shared the failure instead of fetching one after the other"
        );
    }

    #[tokio::test]
    async fn waiters_share_whether_the_failure_may_pass() {
        for transient in [false, true] {
            let (p, _clock) = scripted(7200, 1, transient);
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let p = p.clone();
                    tokio::spawn(async move { p.load().await.map(|_| ()) })
                })
                .collect();
            for t in tasks {
                let e = t.await.expect("join").expect_err("failed");
                assert_eq!(e.kind(), crate::ErrorKind::Credentials);
                assert_eq!(e.is_safe_to_retry(), transient, "{e:?}");
            }
            assert_eq!(p.fetcher().calls.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test]
    async fn already_expired_credentials_are_an_error() {
        let (p, _clock) = provider(0, u32::MAX);
        let e = p.load().await.expect_err("expired");
        assert!(e.message().contains("expired"), "{e}");
    }
}
