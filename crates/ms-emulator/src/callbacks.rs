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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::sync::{Semaphore, mpsc};

use crate::actions::parse_http_url;
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

/// Runs the delivery worker until the channel closes.
pub(crate) async fn run(
    core: Arc<Core>,
    mut rx: mpsc::UnboundedReceiver<u64>,
    stopping: Arc<AtomicBool>,
) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    while let Some(id) = rx.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let core = core.clone();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            deliver(&core, id, &stopping).await;
            drop(permit);
        });
    }
}

async fn deliver(core: &Core, id: u64, stopping: &AtomicBool) {
    let cfg = core.config.callbacks.clone();
    let max_attempts = cfg.max_attempts.max(1);
    let mut backoff = cfg.initial_backoff;
    loop {
        if stopping.load(Ordering::SeqCst) {
            // Left pending: resumed after a restart with the same state file.
            return;
        }
        let (url, body, attempts) = {
            let st = core.lock_state();
            match st.delivery_index(id).map(|i| &st.deliveries[i]) {
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
        let outcome = match loopback_target(&url) {
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
        let done = {
            let mut st = core.lock_state();
            let Some(i) = st.delivery_index(id) else {
                return;
            };
            let d = &mut st.deliveries[i];
            d.attempts += 1;
            match &outcome {
                Ok(()) => {
                    d.status = DeliveryStatus::Delivered;
                    d.delivered_ms = Some(now);
                    d.last_error = None;
                    true
                }
                Err(e) => {
                    d.last_error = Some(e.clone());
                    if d.attempts >= max_attempts {
                        d.status = DeliveryStatus::Failed;
                        true
                    } else {
                        false
                    }
                }
            }
        };
        core.mark_dirty();
        let shown = url.split(['?', '#']).next().unwrap_or("");
        match (&outcome, done) {
            (Ok(()), _) => tracing::info!(delivery = id, url = shown, "callback delivered"),
            (Err(e), true) => {
                tracing::warn!(delivery = id, url = shown, error = %e, "callback failed; giving up");
            }
            (Err(e), false) => {
                tracing::debug!(delivery = id, url = shown, error = %e, "callback attempt failed; retrying");
            }
        }
        if done {
            return;
        }
        tokio::time::sleep(backoff).await;
        let cap = cfg.max_backoff.max(cfg.initial_backoff);
        backoff = backoff.checked_mul(2).unwrap_or(cap).min(cap);
    }
}

fn finish(core: &Core, id: u64, status: DeliveryStatus, err: Option<String>) {
    {
        let mut st = core.lock_state();
        if let Some(i) = st.delivery_index(id) {
            let d = &mut st.deliveries[i];
            d.status = status;
            if err.is_some() {
                d.last_error = err;
            }
        }
    }
    core.mark_dirty();
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
}
