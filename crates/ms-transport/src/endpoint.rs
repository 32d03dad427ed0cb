//! [`Endpoint`]: where requests go, parsed once.

use crate::error::{ConfigSetting, Error};

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    https: bool,
    authority: String,
    base: String,
}

impl Endpoint {
    /// Parses `host`, `host:port`, `https://host[:port][/]` or `http://host[:port][/]`.
    /// The host is lower-cased (the official SDKs disagree on case; lower case is safe).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        // As shown in errors: a password written into the endpoint is never echoed.
        let shown = match s.rfind('@') {
            Some(at) if !s.contains("://") => format!("***{}", &s[at..]),
            _ => ms_model::redact_url(s).into_owned(),
        };
        let (https, rest) = if let Some(r) = s.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (false, r)
        } else if s.contains("://") {
            return Err(Error::config_of(
                ConfigSetting::Endpoint,
                format_args!("endpoint {shown:?}"),
                "only https:// and http:// are supported",
            ));
        } else {
            (true, s)
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(Error::config_of(
                ConfigSetting::Endpoint,
                format_args!("endpoint {shown:?}"),
                "expected a host, host:port or base URL without path",
            ));
        }
        let scheme = if https { "https" } else { "http" };
        let base = format!("{scheme}://{authority}/");
        base.parse::<http::Uri>().map_err(|e| {
            Error::config_of(
                ConfigSetting::Endpoint,
                format_args!("endpoint {shown:?}"),
                e,
            )
        })?;
        Ok(Self {
            https,
            authority,
            base,
        })
    }

    /// The `Host` header value (`host` or `host:port`).
    pub fn host(&self) -> &str {
        &self.authority
    }

    /// Whether TLS is used.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `scheme://authority/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("MS.TencentCloudAPI.com").expect("host");
        assert_eq!(e.host(), "ms.tencentcloudapi.com");
        assert_eq!(e.base_url(), "https://ms.tencentcloudapi.com/");
        let e = Endpoint::parse("http://127.0.0.1:8080/").expect("url");
        assert!(!e.is_https());
        assert_eq!(e.host(), "127.0.0.1:8080");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("https://host/path").is_err());
        assert!(Endpoint::parse("").is_err());
    }
}
