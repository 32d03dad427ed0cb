//! Proxy settings: [`Proxy`] and how the proxy for an endpoint is resolved (explicit URL or
//! the environment's `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`, as curl reads them).

use std::fmt;
use std::sync::Arc;

use hyper_util::client::proxy::matcher::{Intercept, Matcher};

use crate::credentials::EnvLookup;
use crate::error::{ConfigSetting, Error};

/// Where proxy settings come from.
///
/// A proxy is always used through an HTTP `CONNECT` tunnel (hyper-util's `Tunnel`), for
/// `https://` and `http://` endpoints alike; `user:password@` in the proxy URL is sent as
/// `Proxy-Authorization: Basic`. `NO_PROXY` follows curl's rules: comma-separated domains
/// (matching subdomains, a leading dot is optional), IP addresses and CIDR ranges, `*`.
#[derive(Clone, Default)]
pub enum Proxy {
    /// `HTTPS_PROXY`/`https_proxy` (`HTTP_PROXY` for an `http://` endpoint, ignored in a CGI
    /// program; `ALL_PROXY` as a fallback) and `NO_PROXY`/`no_proxy`, read when the client is
    /// built. The default. A set but unusable value is a build error naming the variable.
    #[default]
    FromEnv,
    /// Environment-style settings read through a lookup function (tests, embedding).
    FromLookup(EnvLookup),
    /// Never use a proxy.
    None,
    /// Always use this proxy (`http://[user:pass@]host:port`), except for hosts matched by the
    /// builder's `no_proxy` list. Anything else (`https://` or SOCKS proxies, an unparseable
    /// URL) is a build error naming `proxy`.
    Url(String),
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proxy::FromEnv => f.write_str("FromEnv"),
            Proxy::FromLookup(_) => f.write_str("FromLookup(..)"),
            Proxy::None => f.write_str("None"),
            // The URL may carry user:password; never print it.
            Proxy::Url(_) => f.write_str("Url(<redacted>)"),
        }
    }
}

/// Whether `url` is a usable proxy URL: `http://[user:pass@]host[:port]` (a missing scheme
/// means `http://`, as curl does). `https://` and SOCKS proxies are not supported: the client
/// speaks plain HTTP `CONNECT` to the proxy.
///
/// `var` is the environment variable the URL came from (`None`: the builder's `proxy`).
fn check_proxy_url(url: &str, var: Option<&'static str>) -> Result<(), Error> {
    let probe = http::Uri::from_static("https://probe.invalid/");
    let intercept = Matcher::builder().all(url).build().intercept(&probe);
    let bad = |detail: String| {
        Error::config_of(ConfigSetting::Proxy(var), var.unwrap_or("proxy"), detail)
    };
    match intercept {
        None => Err(bad(
            "not a valid proxy URL (expected http://host:port)".to_owned()
        )),
        Some(i) if i.uri().scheme_str() != Some("http") => Err(bad(format!(
            "unsupported proxy scheme {:?} (only http:// proxies, used with CONNECT)",
            i.uri().scheme_str().unwrap_or("")
        ))),
        Some(_) => Ok(()),
    }
}

/// Resolves the proxy (if any) to use for `endpoint` (a URI such as `https://host:port/`).
///
/// A proxy URL that is set but unusable (unparseable, `https://`, SOCKS) is a configuration
/// error naming where it came from (`proxy`, `HTTPS_PROXY`, ...), never silently ignored —
/// ignoring it would send the traffic direct, bypassing a proxy the user asked for.
pub(crate) fn resolve_proxy(
    proxy: &Proxy,
    no_proxy: Option<&str>,
    endpoint: &http::Uri,
) -> Result<Option<Intercept>, Error> {
    let get = |lookup: &dyn Fn(&str) -> Option<String>, names: &[&'static str]| {
        names.iter().find_map(|n| {
            lookup(n)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (*n, v.trim().to_owned()))
        })
    };
    let matcher = match proxy {
        Proxy::None => return Ok(None),
        Proxy::Url(url) => {
            check_proxy_url(url, None)?;
            Matcher::builder()
                .all(url.as_str())
                .no(no_proxy.unwrap_or(""))
                .build()
        }
        Proxy::FromEnv | Proxy::FromLookup(_) => {
            let process: EnvLookup = Arc::new(|n: &str| std::env::var(n).ok());
            let lookup = match proxy {
                Proxy::FromLookup(l) => Arc::clone(l),
                _ => process,
            };
            let no = match no_proxy {
                Some(n) => n.to_owned(),
                None => get(&*lookup, &["NO_PROXY", "no_proxy"])
                    .map(|(_, v)| v)
                    .unwrap_or_default(),
            };
            let all = get(&*lookup, &["ALL_PROXY", "all_proxy"]);
            // In a CGI program `HTTP_PROXY` can be set by a client's `Proxy:` request header
            // ("httpoxy"): ignore it there, as curl and hyper-util do.
            let cgi = lookup("REQUEST_METHOD").is_some();
            let http = if cgi {
                None
            } else {
                get(&*lookup, &["HTTP_PROXY", "http_proxy"])
            };
            let https = get(&*lookup, &["HTTPS_PROXY", "https_proxy"]);
            // The variable that applies to this endpoint must be usable, unless NO_PROXY
            // exempts the endpoint anyway.
            let applies = if endpoint.scheme_str() == Some("http") {
                http.as_ref().or(all.as_ref())
            } else {
                https.as_ref().or(all.as_ref())
            };
            if let Some((name, url)) = applies {
                let bypassed = Matcher::builder()
                    .all("http://probe.invalid:1")
                    .no(no.as_str())
                    .build()
                    .intercept(endpoint)
                    .is_none();
                if !bypassed {
                    check_proxy_url(url, Some(name))?;
                }
            }
            let value = |v: Option<(&str, String)>| v.map(|(_, v)| v).unwrap_or_default();
            Matcher::builder()
                .all(value(all))
                .http(value(http))
                .https(value(https))
                .no(no)
                .build()
        }
    };
    Ok(matcher.intercept(endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> Proxy {
        Proxy::FromLookup(Arc::new(move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }))
    }

    #[test]
    fn env_proxy_and_no_proxy_suffix_rules() {
        let ep: http::Uri = "https://ms.tencentcloudapi.com/".parse().expect("uri");
        let p = lookup(&[("HTTPS_PROXY", "http://proxy.local:3128")]);
        let i = resolve_proxy(&p, None, &ep)
            .expect("valid")
            .expect("proxied");
        assert_eq!(i.uri().to_string(), "http://proxy.local:3128/");
        // Unlike the Python SDK's substring test, a domain suffix entry works.
        let p = lookup(&[
            ("HTTPS_PROXY", "http://proxy.local:3128"),
            ("NO_PROXY", ".tencentcloudapi.com"),
        ]);
        assert!(resolve_proxy(&p, None, &ep).expect("valid").is_none());
        let p = lookup(&[
            ("https_proxy", "http://proxy.local:3128"),
            ("no_proxy", "example.com"),
        ]);
        assert!(resolve_proxy(&p, None, &ep).expect("valid").is_some());
        // An explicit no_proxy list overrides the environment's.
        let p = lookup(&[("HTTPS_PROXY", "http://proxy.local:3128")]);
        assert!(
            resolve_proxy(&p, Some("ms.tencentcloudapi.com"), &ep)
                .expect("valid")
                .is_none()
        );
        assert!(
            resolve_proxy(&lookup(&[]), None, &ep)
                .expect("valid")
                .is_none()
        );
    }

    #[test]
    fn explicit_proxy_with_credentials_is_redacted_in_debug() {
        let ep: http::Uri = "https://ms.tencentcloudapi.com/".parse().expect("uri");
        let p = Proxy::Url("http://user:pa55@proxy.local:8080".into());
        let i = resolve_proxy(&p, None, &ep)
            .expect("valid")
            .expect("proxied");
        assert!(i.basic_auth().is_some());
        assert!(!format!("{p:?}").contains("pa55"));
        assert!(
            resolve_proxy(&Proxy::None, None, &ep)
                .expect("valid")
                .is_none()
        );
        let ip: http::Uri = "https://127.0.0.1:8443/".parse().expect("uri");
        assert!(
            resolve_proxy(&p, Some("127.0.0.1"), &ip)
                .expect("valid")
                .is_none()
        );
    }

    #[test]
    fn unusable_proxy_settings_are_errors_naming_the_source() {
        let ep: http::Uri = "https://ms.tencentcloudapi.com/".parse().expect("uri");
        for bad in [
            "http://bad host:1",
            "socks5://127.0.0.1:1080",
            "https://proxy.local:3128",
        ] {
            let e = resolve_proxy(&Proxy::Url(bad.into()), None, &ep).expect_err(bad);
            assert_eq!(e.kind(), crate::ErrorKind::Config);
            assert!(e.message().starts_with("proxy: "), "{e}");
        }
        let e = resolve_proxy(&lookup(&[("HTTPS_PROXY", "socks5://x:1")]), None, &ep)
            .expect_err("socks");
        assert!(e.message().starts_with("HTTPS_PROXY: "), "{e}");
        let e = resolve_proxy(&lookup(&[("all_proxy", "http://bad host")]), None, &ep)
            .expect_err("garbage");
        assert!(e.message().starts_with("all_proxy: "), "{e}");
        // The password of a proxy URL never shows in the error.
        let e =
            resolve_proxy(&Proxy::Url("socks5://u:pa55@x:1".into()), None, &ep).expect_err("socks");
        assert!(!e.to_string().contains("pa55"), "{e}");
        // Irrelevant or exempted variables do not matter.
        let p = lookup(&[
            ("HTTP_PROXY", "socks5://x:1"),
            ("HTTPS_PROXY", "http://proxy.local:3128"),
        ]);
        assert!(resolve_proxy(&p, None, &ep).expect("https only").is_some());
        let p = lookup(&[("HTTPS_PROXY", "garbage host"), ("NO_PROXY", "*")]);
        assert!(resolve_proxy(&p, None, &ep).expect("exempt").is_none());
        // A missing scheme means http://, as in curl.
        let p = lookup(&[("HTTPS_PROXY", "proxy.local:3128")]);
        assert!(resolve_proxy(&p, None, &ep).expect("no scheme").is_some());
    }

    #[test]
    fn http_proxy_is_ignored_in_cgi_programs() {
        let ep: http::Uri = "http://127.0.0.1:8080/".parse().expect("uri");
        let p = lookup(&[("HTTP_PROXY", "http://attacker:1")]);
        assert!(resolve_proxy(&p, None, &ep).expect("valid").is_some());
        let p = lookup(&[
            ("HTTP_PROXY", "http://attacker:1"),
            ("REQUEST_METHOD", "GET"),
        ]);
        assert!(resolve_proxy(&p, None, &ep).expect("valid").is_none());
    }
}
