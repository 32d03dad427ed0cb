//! Callback delivery to loopback receivers, with bounded retries and backoff.
//!
//! When an app's scan finishes and its task has a `ScanInfo.CallbackUrl`, the emulator POSTs
//! `{"Response":{"ItemId","AppSid","AppMd5","ScanCode","TaskStatus","TaskTime"}}` (modelled on
//! the documented hardening callback) with `Content-Type: application/json`. The receiver must
//! answer a JSON body whose `Result` is `"ok"`; anything else (other body, HTTP error,
//! connection failure, timeout) is retried with exponential backoff up to
//! `CallbackConfig::max_attempts` attempts. Only `http` URLs whose host is a loopback address
//! (`127.0.0.0/8`, `::1`, `localhost`) are ever contacted; others are recorded as `Refused`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::actions::parse_http_url;
use crate::config::{CallbackConfig, CallbackTarget};
use crate::core::Core;
use crate::state::DeliveryStatus;

/// Largest receiver reply read.
const MAX_REPLY: usize = 64 * 1024;
/// Deliveries attempted at the same time.
const CONCURRENCY: usize = 16;

/// The socket address a callback URL may be delivered to, or why it may not.
pub(crate) fn loopback_target(url: &str) -> Result<(SocketAddr, String, String), String> {
    let Some((scheme, host, port, path)) = parse_http_url(url) else {
        return Err("not an http URL".to_owned());
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err("only http:// loopback callback URLs are delivered by the emulator".to_owned());
    }
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        match host.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => {
                return Err(format!(
                    "host {host:?} is not a loopback address; the emulator never contacts other hosts"
                ));
            }
        }
    };
    if !ip.is_loopback() {
        return Err(format!(
            "host {host} is not a loopback address; the emulator never contacts other hosts"
        ));
    }
    let host_header = if port == 80 {
        host.clone()
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((SocketAddr::new(ip, port), host_header, path))
}

/// Where this emulator may deliver callbacks: [`CallbackConfig::allow`] resolved against the
/// address it listens on.
///
/// [`CallbackConfig::allow`]: crate::CallbackConfig::allow
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallbackPolicy {
    /// Any loopback port but the emulator's own (listening on a loopback address, no list).
    AnyLoopbackPortExcept(u16),
    /// Only these targets (an allow-list was given, or the emulator listens on a
    /// non-loopback address without one: then the list is empty).
    Only(Vec<CallbackTarget>),
}

impl CallbackPolicy {
    /// The policy for `config` on an emulator bound to `local`.
    pub(crate) fn resolve(config: &CallbackConfig, local: SocketAddr) -> Self {
        match &config.allow {
            Some(list) => CallbackPolicy::Only(list.clone()),
            None if local.ip().is_loopback() => CallbackPolicy::AnyLoopbackPortExcept(local.port()),
            None => CallbackPolicy::Only(Vec::new()),
        }
    }

    /// The socket address, `Host` header and path a callback URL may be delivered to, or why
    /// it may not.
    pub(crate) fn target(&self, url: &str) -> Result<(SocketAddr, String, String), String> {
        let target = loopback_target(url)?;
        let addr = target.0;
        match self {
            CallbackPolicy::AnyLoopbackPortExcept(own) if addr.port() == *own => Err(format!(
                "port {own} is the emulator's own port; callbacks go to a separate receiver"
            )),
            CallbackPolicy::AnyLoopbackPortExcept(_) => Ok(target),
            CallbackPolicy::Only(list) if list.iter().any(|t| t.allows(addr)) => Ok(target),
            CallbackPolicy::Only(list) if list.is_empty() => Err(format!(
                "{addr} is not allowed: no callback target is allowed (an emulator on a \
                 non-loopback address delivers only to ports given with --callback-allow)"
            )),
            CallbackPolicy::Only(list) => Err(format!(
                "{addr} is not in the callback allow-list (--callback-allow {})",
                list.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// Runs the delivery worker until shutdown, then waits (up to an attempt's timeout) for the
/// attempts under way, so that their outcome is recorded before the state file is closed.
pub(crate) async fn run(
    core: Arc<Core>,
    mut rx: mpsc::UnboundedReceiver<u64>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    loop {
        let id = tokio::select! {
            _ = shutdown.changed() => break,
            id = rx.recv() => match id {
                Some(id) => id,
                None => break,
            },
        };
        let permit = tokio::select! {
            _ = shutdown.changed() => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let core = core.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            deliver(&core, id, stop).await;
            drop(permit);
        });
    }
    let wait = core.config.callbacks.attempt_timeout + Duration::from_secs(1);
    let all = u32::try_from(CONCURRENCY).unwrap_or(u32::MAX);
    if tokio::time::timeout(wait, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("callback attempts still under way at shutdown");
    }
}

/// What one attempt changes in its delivery; `true` when the delivery is over.
fn record_attempt(
    d: &mut crate::state::CallbackDelivery,
    outcome: &Result<(), String>,
    now_ms: u64,
    max_attempts: u32,
) -> bool {
    d.attempts += 1;
    match outcome {
        Ok(()) => {
            d.status = DeliveryStatus::Delivered;
            d.delivered_ms = Some(now_ms);
            d.last_error = None;
            true
        }
        Err(e) => {
            d.last_error = Some(e.clone());
            if d.attempts >= max_attempts {
                d.status = DeliveryStatus::Failed;
            }
            d.attempts >= max_attempts
        }
    }
}

async fn deliver(core: &Core, id: u64, mut stop: watch::Receiver<bool>) {
    let cfg = core.config.callbacks.clone();
    let max_attempts = cfg.max_attempts.max(1);
    let mut backoff = cfg.initial_backoff;
    loop {
        if *stop.borrow() {
            // Left pending: resumed after a restart with the same state file.
            return;
        }
        let (url, body, attempts) = {
            let st = core.lock_state();
            match st.delivery(id) {
                Some(d) if d.status == DeliveryStatus::Pending => {
                    (d.url.clone(), d.body.clone(), d.attempts)
                }
                _ => return,
            }
        };
        if attempts >= max_attempts {
            finish(core, id, DeliveryStatus::Failed, None);
            return;
        }
        let outcome = match core.callback_policy.target(&url) {
            Ok((addr, host, path)) => {
                tokio::time::timeout(cfg.attempt_timeout, attempt(addr, &host, &path, body))
                    .await
                    .unwrap_or_else(|_| Err("timed out".to_owned()))
            }
            Err(e) => {
                finish(core, id, DeliveryStatus::Refused, Some(e));
                return;
            }
        };
        let now = core.now_ms();
        let done = core
            .update_delivery(id, |d| record_attempt(d, &outcome, now, max_attempts))
            .unwrap_or(true);
        // The receiver's token, if the URL carries one, stays out of the log.
        let shown = ms_model::redact_url(&url);
        match (&outcome, done) {
            (Ok(()), _) => tracing::info!(delivery = id, url = %shown, "callback delivered"),
            (Err(e), true) => {
                tracing::warn!(delivery = id, url = %shown, error = %e, "callback failed; giving up");
            }
            (Err(e), false) => {
                tracing::debug!(delivery = id, url = %shown, error = %e, "callback attempt failed; retrying");
            }
        }
        if done {
            return;
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        let cap = cfg.max_backoff.max(cfg.initial_backoff);
        backoff = backoff.checked_mul(2).unwrap_or(cap).min(cap);
    }
}

fn finish(core: &Core, id: u64, status: DeliveryStatus, err: Option<String>) {
    core.update_delivery(id, |d| {
        d.status = status;
        if err.is_some() {
            d.last_error = err;
        }
    });
}

/// One POST; `Ok` only if the receiver answered `{"Result":"ok", ...}`.
async fn attempt(addr: SocketAddr, host: &str, path: &str, body: String) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let conn_task = tokio::spawn(conn);
    let req = http::Request::post(path)
        .header(http::header::HOST, host)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "ms-emulator-callback")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    let result = async {
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let status = resp.status();
        let bytes = Limited::new(resp.into_body(), MAX_REPLY)
            .collect()
            .await
            .map_err(|e| format!("reading reply: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("receiver answered HTTP {}", status.as_u16()));
        }
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| "receiver reply is not JSON".to_owned())?;
        match v.get("Result").and_then(|r| r.as_str()) {
            Some("ok") => Ok(()),
            Some(other) => Err(format!(
                "receiver answered Result {:?}{}",
                other,
                v.get("Reason")
                    .and_then(|r| r.as_str())
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )),
            None => Err("receiver reply has no Result".to_owned()),
        }
    }
    .await;
    conn_task.abort();
    result
}

/// Default poll interval of the scan ticker for a scan duration.
pub(crate) fn tick_interval(scan: Duration) -> Duration {
    (scan / 4).clamp(Duration::from_millis(5), Duration::from_millis(250))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_targets() {
        assert!(loopback_target("http://127.0.0.1:9/cb").is_ok());
        assert!(loopback_target("http://127.5.6.7:9/cb").is_ok());
        assert!(loopback_target("http://localhost:9/cb").is_ok());
        assert!(loopback_target("http://[::1]:9/cb").is_ok());
        assert!(loopback_target("http://example.com/cb").is_err());
        assert!(loopback_target("http://10.0.0.1/cb").is_err());
        assert!(loopback_target("http://localhost.example.com/cb").is_err());
        assert!(loopback_target("https://127.0.0.1/cb").is_err());
        assert!(loopback_target("http://0.0.0.0:9/").is_err());
    }

    #[test]
    fn the_policy_follows_the_listen_address_and_the_allow_list() {
        let local: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let public: SocketAddr = "0.0.0.0:4000".parse().unwrap();
        let default = CallbackConfig::default();
        let p = CallbackPolicy::resolve(&default, local);
        assert!(p.target("http://127.0.0.1:9/cb").is_ok());
        assert!(
            p.target("http://localhost:4000/")
                .unwrap_err()
                .contains("own port")
        );
        let p = CallbackPolicy::resolve(&default, public);
        let e = p.target("http://127.0.0.1:9/cb").unwrap_err();
        assert!(e.contains("--callback-allow"), "{e}");
        let listed = default.with_allow(vec!["9".parse().unwrap(), "[::1]:10".parse().unwrap()]);
        for at in [local, public] {
            let p = CallbackPolicy::resolve(&listed, at);
            assert!(p.target("http://127.0.0.1:9/cb").is_ok());
            assert!(p.target("http://127.0.0.2:9/cb").is_ok());
            assert!(p.target("http://[::1]:10/cb").is_ok());
            let e = p.target("http://127.0.0.1:10/cb").unwrap_err();
            assert!(e.contains("allow-list") && e.contains("[::1]:10"), "{e}");
            assert!(p.target("http://127.0.0.1:6379/").is_err());
            assert!(p.target("http://10.0.0.1:9/").is_err());
        }
    }

    #[test]
    fn allow_list_entries_parse_and_must_be_loopback() {
        let t: CallbackTarget = "localhost:80".parse().unwrap();
        assert_eq!(t.to_string(), "127.0.0.1:80");
        assert_eq!("8080".parse::<CallbackTarget>().unwrap().ip, None);
        for bad in [
            "10.0.0.1:80",
            "example.com:80",
            "localhost",
            "127.0.0.1",
            "99999",
            "",
        ] {
            assert!(bad.parse::<CallbackTarget>().is_err(), "{bad}");
        }
    }
}
