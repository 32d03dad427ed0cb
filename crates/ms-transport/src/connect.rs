//! The connection stack: hyper-util's pooled client over hyper-rustls (ring), direct or
//! through an HTTP CONNECT proxy (hyper-util's [`Tunnel`] connector), its TLS trust, and
//! how its failures map to [`Error`]s (sent or provably not sent).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::{Client as LegacyClient, ResponseFuture};
use hyper_util::client::proxy::matcher::Intercept;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;

use crate::error::{ConfigSetting, Error};

/// TLS trust settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsSettings {
    pub webpki_roots: bool,
    pub native_roots: bool,
    pub extra_pem: Vec<Vec<u8>>,
}

pub(crate) fn tls_config(s: &TlsSettings) -> Result<rustls::ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    if s.webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if s.native_roots {
        let loaded = rustls_native_certs::load_native_certs();
        for cert in loaded.certs {
            // Unparseable system certificates are skipped, like every TLS client does.
            let _ = roots.add(cert);
        }
    }
    for (i, pem) in s.extra_pem.iter().enumerate() {
        let mut n = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let bad = |detail: String| {
                Error::config_of(
                    ConfigSetting::RootCertificate(i),
                    format_args!("root certificate #{i}"),
                    detail,
                )
            };
            let cert = cert.map_err(|e| bad(format!("invalid PEM: {e}")))?;
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
            n += 1;
        }
        if n == 0 {
            return Err(Error::config_of(
                ConfigSetting::RootCertificate(i),
                format_args!("root certificate #{i}"),
                "no CERTIFICATE block in PEM",
            ));
        }
    }
    if roots.is_empty() {
        return Err(Error::config_of(
            ConfigSetting::Tls,
            "TLS",
            "no trusted root certificates configured",
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config_of(ConfigSetting::Tls, "TLS", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}

/// Connection settings.
#[derive(Debug, Clone)]
pub(crate) struct ConnSettings {
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    pub allow_http: bool,
}

/// The pooled client, direct or through a CONNECT tunnel.
#[derive(Clone)]
pub(crate) enum HttpClient {
    Direct(LegacyClient<HttpsConnector<HttpConnector>, Full<Bytes>>),
    Tunnel(LegacyClient<HttpsConnector<Tunnel<HttpConnector>>, Full<Bytes>>),
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpClient::Direct(_) => f.write_str("HttpClient::Direct"),
            HttpClient::Tunnel(_) => f.write_str("HttpClient::Tunnel"),
        }
    }
}

impl HttpClient {
    pub(crate) fn build(
        tls: rustls::ClientConfig,
        conn: &ConnSettings,
        proxy: Option<Intercept>,
    ) -> Result<Self, Error> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(conn.connect_timeout));
        http.set_nodelay(true);
        let mut builder = LegacyClient::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(conn.pool_idle_timeout)
            .pool_max_idle_per_host(conn.pool_max_idle_per_host);
        let https = HttpsConnectorBuilder::new().with_tls_config(tls);
        let https = if conn.allow_http {
            https.https_or_http()
        } else {
            https.https_only()
        };
        let https = https.enable_http1();
        Ok(match proxy {
            None => HttpClient::Direct(builder.build(https.wrap_connector(http))),
            Some(intercept) => {
                let mut tunnel = Tunnel::new(intercept.uri().clone(), http);
                if let Some(auth) = intercept.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                HttpClient::Tunnel(builder.build(https.wrap_connector(tunnel)))
            }
        })
    }

    pub(crate) fn request(&self, req: http::Request<Full<Bytes>>) -> ResponseFuture {
        match self {
            HttpClient::Direct(c) => c.request(req),
            HttpClient::Tunnel(c) => c.request(req),
        }
    }
}

fn chain_has<T: StdError + 'static>(err: &(dyn StdError + 'static)) -> bool {
    chain_any(err, |e| e.is::<T>())
}

/// Whether `err` or any error of its source chain (looking inside `io::Error`s) satisfies `pred`.
fn chain_any(
    err: &(dyn StdError + 'static),
    pred: impl Fn(&(dyn StdError + 'static)) -> bool + Copy,
) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if pred(e) {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && chain_any(inner, pred)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Maps an error of the pooled client to ours, deciding whether the request was sent.
pub(crate) fn map_send_error(e: hyper_util::client::legacy::Error) -> Error {
    if e.is_connect() {
        if chain_has::<rustls::Error>(&e) {
            return Error::tls(e);
        }
        return Error::connect(e);
    }
    // A request the connection handed back unsent (a stale pooled connection closed by the
    // server before the request was written, a connection not ready) carries hyper's
    // "canceled" error; hyper creates that error for nothing else. Read as a type, never
    // from hyper-util's Debug text.
    if chain_any(&e, |c| {
        c.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_canceled)
    }) {
        Error::transport_unsent(e)
    } else {
        Error::transport(e)
    }
}

/// Maps an error while reading the reply body (the request was delivered).
pub(crate) fn map_body_error(e: Box<dyn StdError + Send + Sync>, limit: usize) -> Error {
    if e.is::<http_body_util::LengthLimitError>() {
        return Error::response_too_large(limit);
    }
    Error::transport(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_config_rejects_garbage_pem_and_accepts_webpki() {
        let bad = TlsSettings {
            webpki_roots: false,
            native_roots: false,
            extra_pem: vec![b"not a pem".to_vec()],
        };
        assert!(tls_config(&bad).is_err());
        let none = TlsSettings::default();
        assert!(tls_config(&none).is_err());
        let ok = TlsSettings {
            webpki_roots: true,
            ..TlsSettings::default()
        };
        assert!(tls_config(&ok).is_ok());
    }
}
