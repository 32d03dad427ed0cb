//! The string formats of the API tables (`{format: md5}`, `{format: url}`, ...), defined once:
//! validation, the emulator and the CLI all check MD5s and download or callback URLs with these
//! functions, so a value one part accepts is never refused by another.

/// Whether `s` is an MD5 as the API writes it: exactly 32 hexadecimal digits (either case).
pub fn is_md5(s: &str) -> bool {
    is_hex_digits(s, 32)
}

/// Whether `s` is a SHA-1 as the API writes it: exactly 40 hexadecimal digits (either case).
pub fn is_sha1(s: &str) -> bool {
    is_hex_digits(s, 40)
}

fn is_hex_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `s` for a message or a log, with the secrets of every URL in it masked: the user info
/// (`user:password@` after `://`, up to the last `@` before any `?` or `#`) becomes `***`
/// (user info already masked, `***` or `user:***`, is kept), and
/// the value of every query (and fragment) parameter becomes `***` (a parameter without `=`
/// as a whole), so that a password written into a URL (a download or callback URL, an
/// endpoint, `redis://:PASSWORD@host`) or the signature or token of a pre-signed download URL
/// (`?sign=...`, `?X-Amz-Signature=...`, `?q-signature=...&x-cos-security-token=...`) never
/// reaches an error, a log or a record. The scheme, host, path and parameter names stay.
///
/// `s` may be one URL, a command-line argument (`--flag=URL`) or any text holding URLs (a
/// JSON body, a message): each URL runs from its `://` to the next whitespace, control
/// character, quote (`"`, `'`, `` ` ``) or `<`/`>`. Text without `://` is returned unchanged
/// (borrowed); masking is idempotent.
///
/// ```
/// assert_eq!(ms_model::redact_url("https://bob:hunter2@cdn.example.com/a.apk"),
///            "https://***@cdn.example.com/a.apk");
/// assert_eq!(ms_model::redact_url("--shared-rate-limit=redis://:pw@r:6379/0"),
///            "--shared-rate-limit=redis://***@r:6379/0");
/// assert_eq!(ms_model::redact_url("https://cdn.example.com/a.apk"), "https://cdn.example.com/a.apk");
/// assert_eq!(ms_model::redact_url("https://cdn.example.com/a.apk?sign=abc&t=1#x"),
///            "https://cdn.example.com/a.apk?sign=***&t=***#***");
/// assert_eq!(ms_model::redact_url(r#"{"AppUrl":"https://h/a.apk?token=s3cr3t","AppMd5":"x"}"#),
///            r#"{"AppUrl":"https://h/a.apk?token=***","AppMd5":"x"}"#);
/// ```
pub fn redact_url(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("://") {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let len = after
            .find(|c: char| {
                c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '`' | '<' | '>')
            })
            .unwrap_or(after.len());
        let (url, tail) = after.split_at(len);
        // A URL inside this one (`?u=https://...`) is masked with it.
        redact_one(url, &mut out);
        rest = tail;
    }
    out.push_str(rest);
    if out == s {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(out)
    }
}

/// Appends `url` (what follows a `://`) to `out` with its user info and parameter values
/// masked.
fn redact_one(url: &str, out: &mut String) {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let (before, params) = url.split_at(end);
    match before.rfind('@') {
        // Already masked (`***@`, or `user:***@` as other maskers write it): kept.
        Some(at) if before[..at] != *"***" && !before[..at].ends_with(":***") => {
            out.push_str("***");
            out.push_str(&before[at..]);
        }
        _ => out.push_str(before),
    }
    // `params` is empty or starts with `?` or `#`; `?`, `#` and `&` separate parameters.
    let mut segment = String::new();
    for c in params.chars().chain(std::iter::once('&')) {
        if !matches!(c, '?' | '#' | '&') {
            segment.push(c);
            continue;
        }
        match segment.split_once('=') {
            Some((name, value)) if !value.is_empty() => {
                out.push_str(name);
                out.push_str("=***");
            }
            Some(_) => out.push_str(&segment),
            None if segment.is_empty() => {}
            None => out.push_str("***"),
        }
        segment.clear();
        out.push(c);
    }
    // The `&` chained on above ends the last parameter; it is not part of the URL.
    out.pop();
}

/// Whether `s` is an `http://` or `https://` URL as `{format: url}` members take it (see
/// [`HttpUrl::parse`]).
pub fn is_http_url(s: &str) -> bool {
    HttpUrl::parse(s).is_some()
}

/// An `http://` or `https://` URL as the API's URL members (`AppUrl`, `CallbackUrl`, ...) take
/// it: the scheme in any case, a host (a name, an IPv4 address or a bracketed IPv6 address)
/// with an optional port, no user info (`user@`), and no whitespace or control character
/// anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl<'a> {
    /// `http` or `https`, as written (compare ignoring ASCII case).
    pub scheme: &'a str,
    /// The host, without the brackets of an IPv6 address.
    pub host: &'a str,
    /// The port given, or 80 / 443 for the scheme.
    pub port: u16,
    /// Path and query, starting with `/` (`/` when the URL has none; the fragment dropped).
    pub path: String,
}

impl<'a> HttpUrl<'a> {
    /// Parses `s`; `None` when it is not an http(s) URL of the API's kind.
    pub fn parse(s: &'a str) -> Option<Self> {
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let (scheme, rest) = s.split_once("://")?;
        let default_port = if scheme.eq_ignore_ascii_case("http") {
            80
        } else if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            return None;
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (host, port) = split_authority(authority)?;
        let port = match port {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        let path = path.split('#').next().unwrap_or("");
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        Some(HttpUrl {
            scheme,
            host,
            port,
            path,
        })
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("https")
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` (no user info) into the host and the port text.
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_sha1_are_hex_of_the_exact_length() {
        assert!(is_md5("0123456789abcdefABCDEF0123456789"));
        assert!(!is_md5("0123456789abcdef0123456789abcde"));
        assert!(!is_md5("0123456789abcdef0123456789abcdeg"));
        assert!(!is_md5("é123456789abcdef0123456789abcde"));
        assert!(is_sha1(&"a".repeat(40)));
        assert!(!is_sha1(&"a".repeat(32)));
    }

    #[test]
    fn urls_in_text_lose_their_passwords_and_parameter_values() {
        let cases = [
            (
                "https://bkt.cos.ap-guangzhou.myqcloud.com/a.apk?q-sign-algorithm=sha1&q-signature=S&x-cos-security-token=T",
                "https://bkt.cos.ap-guangzhou.myqcloud.com/a.apk?q-sign-algorithm=***&q-signature=***&x-cos-security-token=***",
            ),
            (
                "https://u:p@h/a?X-Amz-Signature=abc#frag",
                "https://***@h/a?X-Amz-Signature=***#***",
            ),
            // A bare parameter, an empty value, a trailing `?` or `&`, a nested URL.
            ("http://h/a?tok3n&e=&", "http://h/a?***&e=&"),
            ("http://h/a.apk? next", "http://h/a.apk? next"),
            (
                "http://h/r?u=https://x/y?sign=s",
                "http://h/r?u=***?sign=***",
            ),
            // Several URLs in a JSON body or a message; text around them is kept.
            (
                r#"{"AppUrl":"https://a/x.apk?sign=1","CallbackUrl":"http://b/cb?k=2","AppMd5":"m"}"#,
                r#"{"AppUrl":"https://a/x.apk?sign=***","CallbackUrl":"http://b/cb?k=***","AppMd5":"m"}"#,
            ),
            (
                "cannot fetch <https://a/x?s=1> or 'http://b/?t=2', giving up",
                "cannot fetch <https://a/x?s=***> or 'http://b/?t=***', giving up",
            ),
            ("https://a/x?s=1\nnext=2", "https://a/x?s=***\nnext=2"),
            // A body cut off inside a value.
            (
                r#"{"AppUrl":"https://a/x?sig"#,
                r#"{"AppUrl":"https://a/x?***"#,
            ),
            ("no url here? k=v", "no url here? k=v"),
            ("://?a=b", "://?a=***"),
        ];
        for (input, want) in cases {
            let got = redact_url(input);
            assert_eq!(got, want, "{input}");
            assert_eq!(redact_url(&got), got, "idempotent: {input}");
        }
        for clean in [
            "https://h/a.apk",
            "plain text",
            "https://h/a?e=",
            "redis://:***@h:6379/0",
            "redis://u:***@h",
        ] {
            assert!(matches!(redact_url(clean), std::borrow::Cow::Borrowed(_)));
        }
    }

    #[test]
    fn urls_parse_into_their_parts() {
        let u = HttpUrl::parse("http://127.0.0.1:8080/cb?x=1#frag").expect("url");
        assert_eq!(
            (u.scheme, u.host, u.port, u.path.as_str()),
            ("http", "127.0.0.1", 8080, "/cb?x=1")
        );
        let u = HttpUrl::parse("HTTPS://[::1]").expect("v6");
        assert_eq!((u.host, u.port, u.path.as_str()), ("::1", 443, "/"));
        assert!(u.is_https());
        let u = HttpUrl::parse("http://example.com?q").expect("query only");
        assert_eq!((u.port, u.path.as_str()), (80, "/?q"));
        for bad in [
            "ftp://x/",
            "http://user@x/",
            "http://:80/",
            "http://x:99999/",
            "http://x:/",
            "http://[::1/",
            "http://[::1]x/",
            "https://",
            "not a url",
            "http://a b/",
            "http://a/b c",
            "http://a/\n",
            "example.com/a.apk",
        ] {
            assert_eq!(HttpUrl::parse(bad), None, "{bad}");
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
