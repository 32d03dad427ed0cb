//! [`Client`]: the entry points (`send`, `send_json`, `send_operation`) and the state every
//! clone shares. The builder is in [`crate::builder`], request building in
//! [`crate::request`], the call loop in `call.rs`, reply decoding in [`crate::decode`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ms_model::{Action, Idempotency};

use crate::builder::{ClientBuilder, DEFAULT_SERVICE};
use crate::clock::Clock;
use crate::connect::HttpClient;
use crate::credentials::ProvideCredentials;
use crate::decode::{RawResponse, decode_raw, decode_value};
use crate::endpoint::Endpoint;
use crate::error::{ConfigSetting, Error};
use crate::ratelimit::Limiter;
use crate::request::{Params, RequestSettings};
use crate::retry::{RetryBudget, RetryStrategy};
use crate::skew::SkewStore;

/// One call of the generic core: which service, version and action, and whether the action
/// may be repeated safely (decides which failures are retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation<'a> {
    /// Service name signed into the credential scope (`ms`).
    pub service: &'a str,
    /// API version (`2018-04-08`).
    pub version: &'a str,
    /// Action name (`CreateScanInstances`).
    pub action: &'a str,
    /// Whether the action may be repeated safely.
    pub idempotency: Idempotency,
}

/// The client. Cloning is cheap; clones share the connection pool, the rate limiter, the
/// retry budget and the learned clock offsets.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

/// What every clone of a [`Client`] shares.
pub(crate) struct ClientInner {
    pub(crate) http: HttpClient,
    pub(crate) request: RequestSettings,
    pub(crate) credentials: Arc<dyn ProvideCredentials>,
    pub(crate) limiter: Arc<dyn Limiter>,
    pub(crate) retry: RetryStrategy,
    pub(crate) skew: SkewStore,
    pub(crate) skew_correction: bool,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) request_timeout: Duration,
    pub(crate) service: String,
    pub(crate) version: String,
    pub(crate) max_response_bytes: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("endpoint", &i.request.endpoint.base_url())
            .field("region", &i.request.region)
            .field("sign_method", &i.request.sign_method)
            .field("http", &i.http)
            .field("credentials", &i.credentials)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// The endpoint in use.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.request.endpoint
    }

    /// The region sent as `X-TC-Region`.
    pub fn region(&self) -> Option<&str> {
        self.inner.request.region.as_deref()
    }

    /// The rate limiter every clone shares (in-process by default; Redis-shared with
    /// [`ClientBuilder::shared_rate_limit`](crate::ClientBuilder)).
    pub fn rate_limiter(&self) -> &dyn Limiter {
        &*self.inner.limiter
    }

    /// The shared skew store.
    pub fn skew_store(&self) -> &SkewStore {
        &self.inner.skew
    }

    /// The shared retry budget.
    pub fn retry_budget(&self) -> &RetryBudget {
        self.inner.retry.budget()
    }

    /// Sends a typed request: validates it (nothing is sent when invalid), signs, sends,
    /// retries safely, and decodes the typed response.
    pub async fn send<A: Action>(&self, request: &A) -> Result<A::Response, Error> {
        // One serialization serves validation and the wire encoding (validate_value gives
        // exactly the violations of validate(), without serializing again).
        let value = serde_json::to_value(request)
            .map_err(|e| Error::signing(format!("serialize: {e}")).with_action(A::NAME))?;
        A::validate_value(&value).map_err(|e| Error::validation(e).with_action(A::NAME))?;
        let params = Params::new(self.inner.request.sign_method, &value)
            .map_err(|e| e.with_action(A::NAME))?;
        let op = Operation {
            service: A::SERVICE,
            version: A::VERSION,
            action: A::NAME,
            idempotency: A::IDEMPOTENCY,
        };
        self.execute::<A::Response>(op, params, ms_model::decode_response::<A::Response>)
            .await
    }

    /// Sends an action by name with JSON parameters (the CLI's `ms call`), using the
    /// configured service and version. When the action is known to `ms-model` and the
    /// service is `ms`, the parameters are validated first, and the action is treated as
    /// idempotent only if both the caller and the model say so (a wrong
    /// [`Idempotency::Idempotent`] for `CreateScanInstances` cannot cause a duplicate
    /// submission). Returns the inner `Response` object.
    ///
    /// ```no_run
    /// # async fn demo(client: ms_transport::Client) -> Result<(), ms_transport::Error> {
    /// use ms_model::Idempotency;
    /// let reply = client
    ///     .send_json("DescribeShieldInstances", Idempotency::Idempotent, &serde_json::json!({"Limit": 10}))
    ///     .await?;
    /// println!("{}", reply["TotalCount"]);
    /// # Ok(()) }
    /// ```
    pub async fn send_json(
        &self,
        action: &str,
        idempotency: Idempotency,
        params: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let op = self.checked_operation(action, idempotency, params)?;
        self.send_operation(op, params).await
    }

    /// [`send_json`](Self::send_json) without decoding the answer: the same validation,
    /// signing, retries and error envelope handling (a service error is an [`Error`] as
    /// always), but a successful `Response` object comes back as its members' unparsed JSON
    /// text ([`RawResponse`]), for callers that copy large answers to an output without
    /// building a tree.
    pub async fn send_json_raw(
        &self,
        action: &str,
        idempotency: Idempotency,
        params: &serde_json::Value,
    ) -> Result<RawResponse, Error> {
        let op = self.checked_operation(action, idempotency, params)?;
        check_operation(&op, params)?;
        let params = Params::new(self.inner.request.sign_method, params)?;
        self.execute::<RawResponse>(op, params, decode_raw).await
    }

    /// The operation of [`send_json`](Self::send_json): the parameters validated against
    /// the model when the action is an `ms` one, idempotent only if the model agrees.
    fn checked_operation<'a>(
        &'a self,
        action: &'a str,
        idempotency: Idempotency,
        params: &serde_json::Value,
    ) -> Result<Operation<'a>, Error> {
        let mut idempotency = idempotency;
        if self.inner.service == DEFAULT_SERVICE
            && let Some(info) = ms_model::action_info(action)
        {
            ms_model::validate_json(action, params)
                .map_err(|e| Error::validation(e).with_action(action))?;
            idempotency = idempotency.and(info.idempotency());
        }
        Ok(Operation {
            service: &self.inner.service,
            version: &self.inner.version,
            action,
            idempotency,
        })
    }

    /// The generic core: sends any action of any Tencent Cloud API 3.0 service (no
    /// validation). Returns the inner `Response` object.
    pub async fn send_operation(
        &self,
        op: Operation<'_>,
        params: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        check_operation(&op, params)?;
        let params = Params::new(self.inner.request.sign_method, params)?;
        self.execute::<serde_json::Value>(op, params, decode_value)
            .await
    }
}

/// An action name is alphanumeric and the parameters are an object.
fn check_operation(op: &Operation<'_>, params: &serde_json::Value) -> Result<(), Error> {
    if op.action.is_empty() || !op.action.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::config_of(
            ConfigSetting::Action,
            format_args!("action {:?}", op.action),
            "expected an alphanumeric name",
        ));
    }
    if !params.is_object() {
        return Err(
            Error::config_of(ConfigSetting::Params, "params", "expected a JSON object")
                .with_action(op.action),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::Proxy;
    use crate::ratelimit::LimiterKey;

    #[test]
    fn builds_outside_a_runtime_with_the_defaults() {
        let c = Client::builder()
            .proxy(Proxy::None)
            .credentials(crate::StaticProvider::from_parts("AKIDx", "k", None).expect("creds"))
            .build()
            .expect("client");
        assert_eq!(c.endpoint().base_url(), "https://ms.tencentcloudapi.com/");
        assert!(c.region().is_none());
        let d = format!("{c:?}");
        assert!(
            d.contains("ms.tencentcloudapi.com") && !d.contains("\"k\""),
            "{d}"
        );
    }

    #[test]
    fn configuration_errors_name_their_setting_as_data() {
        let base = || {
            Client::builder()
                .proxy(Proxy::None)
                .credentials(crate::StaticProvider::from_parts("AKIDx", "k", None).expect("creds"))
        };
        let setting = |b: ClientBuilder| {
            let e = b.build().expect_err("unusable");
            assert_eq!(e.kind(), crate::ErrorKind::Config);
            (e.config_setting(), e.config_detail().to_owned())
        };
        assert_eq!(
            setting(base().region("ap-\nguangzhou")),
            (
                Some(ConfigSetting::Region),
                "not usable in a header (control characters or surrounding spaces)".to_owned()
            )
        );
        assert_eq!(
            setting(base().endpoint("ftp://x")),
            (
                Some(ConfigSetting::Endpoint),
                "only https:// and http:// are supported".to_owned()
            )
        );
        assert_eq!(
            setting(base().service("ms", "")).0,
            Some(ConfigSetting::Version)
        );
        assert_eq!(
            setting(base().add_root_pem(b"junk")),
            (
                Some(ConfigSetting::RootCertificate(0)),
                "no CERTIFICATE block in PEM".to_owned()
            )
        );
        let env = Proxy::FromLookup(Arc::new(|name: &str| {
            (name == "https_proxy").then(|| "socks5://127.0.0.1:1080".to_owned())
        }));
        let (which, detail) = setting(base().proxy(env));
        assert_eq!(which, Some(ConfigSetting::Proxy(Some("https_proxy"))));
        assert!(detail.starts_with("unsupported proxy scheme"), "{detail}");
        let (which, _) = setting(base().proxy(Proxy::Url("socks5://u:pw@x:1".into())));
        assert_eq!(which, Some(ConfigSetting::Proxy(None)));
        // Errors without a setting give the whole message as their detail.
        let plain = Error::config("something else");
        assert_eq!(
            (plain.config_setting(), plain.config_detail()),
            (None, "something else")
        );
    }

    #[test]
    fn unusable_region_service_or_version_is_a_config_error_naming_it() {
        let base = || {
            Client::builder()
                .proxy(Proxy::None)
                .credentials(crate::StaticProvider::from_parts("AKIDx", "k", None).expect("creds"))
        };
        let e = base().region("ap-\nguangzhou").build().expect_err("region");
        assert!(e.message().starts_with("region "), "{e}");
        let e = base()
            .service("ms", "2018-04-08\r")
            .build()
            .expect_err("version");
        assert!(e.message().starts_with("version "), "{e}");
        let e = base()
            .service("", "2018-04-08")
            .build()
            .expect_err("service");
        assert!(e.message().contains("service"), "{e}");
        assert!(
            base().region(" ap-guangzhou ").build().is_ok(),
            "region is trimmed"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn clones_share_one_rate_limiter_quota() {
        let clock = crate::FakeClock::new(1_700_000_000);
        let c = Client::builder()
            .proxy(Proxy::None)
            .clock(Arc::new(clock))
            .credentials(crate::StaticProvider::from_parts("AKIDx", "k", None).expect("creds"))
            .build()
            .expect("client");
        let clone = c.clone();
        let key = LimiterKey::new("CreateScanInstances", "", "AKIDx");
        // The fake clock stands still: each slot is measured from the same instant.
        assert_eq!(
            c.rate_limiter().acquire(&key).await.ok(),
            Some(Duration::ZERO)
        );
        assert_eq!(
            clone.rate_limiter().acquire(&key).await.ok(),
            Some(Duration::from_millis(50)),
            "the clone waits for the slot after the original's"
        );
        assert_eq!(
            c.rate_limiter().acquire(&key).await.ok(),
            Some(Duration::from_millis(100))
        );
    }
}
