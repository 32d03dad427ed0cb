//! `application/x-www-form-urlencoded` as Python's `urllib.parse.urlencode` writes it.

use crate::Error;

/// Encodes pairs as Python's `urllib.parse.urlencode(pairs)` does (`quote_plus`):
/// `A-Z a-z 0-9 _ . - ~` are kept, space becomes `+`, every other byte of the UTF-8 text
/// becomes `%XX` (upper-case hex). Order is kept; pairs are joined with `&`.
///
/// ```
/// let pairs = vec![("AppName".to_owned(), "微信 a+b&c=d".to_owned()), ("Flag".to_owned(), "False".to_owned())];
/// assert_eq!(tc3_sign::form_urlencode(&pairs), "AppName=%E5%BE%AE%E4%BF%A1+a%2Bb%26c%3Dd&Flag=False");
/// ```
pub fn form_urlencode(pairs: &[(String, String)]) -> String {
    let mut out = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        quote_plus_into(k, &mut out);
        out.push('=');
        quote_plus_into(v, &mut out);
    }
    out
}

/// Appends Python's `quote_plus(s, safe='')` of `s` to `out`.
pub(crate) fn quote_plus_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
    }
}

/// Decodes a form-encoded string (`k=v&k2=v2`, as in a query or a form body) into pairs,
/// in order.
///
/// `+` is a space and `%XX` a byte (either hex case). Empty segments (`a=1&&b=2`) are
/// skipped; a segment without `=` is a name with an empty value; blank values are kept.
///
/// # Errors
/// [`Error::InvalidForm`] for a `%` not followed by two hex digits, or when the decoded
/// bytes are not UTF-8.
pub fn form_urldecode(query: &str) -> Result<Vec<(String, String)>, Error> {
    let mut pairs = Vec::new();
    for (index, segment) in query.split('&').enumerate() {
        if segment.is_empty() {
            continue;
        }
        let (k, v) = segment.split_once('=').unwrap_or((segment, ""));
        pairs.push((unquote_plus(k, index)?, unquote_plus(v, index)?));
    }
    Ok(pairs)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn unquote_plus(s: &str, pair: usize) -> Result<String, Error> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_val);
                let lo = bytes.get(i + 2).copied().and_then(hex_val);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(Error::InvalidForm {
                        pair,
                        reason: "'%' must be followed by two hex digits",
                    });
                };
                out.push(hi << 4 | lo);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::InvalidForm {
        pair,
        reason: "decoded bytes are not UTF-8",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn matches_python_quote_plus() {
        // Python: urlencode([("a b", "*'/~_.-"), ("e", ""), ("x", "😀")])
        let pairs = vec![p("a b", "*'/~_.-"), p("e", ""), p("x", "😀")];
        assert_eq!(
            form_urlencode(&pairs),
            "a+b=%2A%27%2F~_.-&e=&x=%F0%9F%98%80"
        );
        assert_eq!(form_urlencode(&[]), "");
    }

    #[test]
    fn decode_round_trips_and_reports_errors() {
        let pairs = vec![p("a b", "*'/~_.-+&="), p("e", ""), p("x", "😀")];
        assert_eq!(form_urldecode(&form_urlencode(&pairs)).unwrap(), pairs);
        assert_eq!(form_urldecode("").unwrap(), vec![]);
        assert_eq!(
            form_urldecode("a&&b=%2f%2F").unwrap(),
            vec![p("a", ""), p("b", "//")]
        );
        assert_eq!(
            form_urldecode("a=1&b=%zz").unwrap_err(),
            Error::InvalidForm {
                pair: 1,
                reason: "'%' must be followed by two hex digits"
            }
        );
        assert!(form_urldecode("a=%").is_err());
        assert!(form_urldecode("a=%ff").is_err());
    }
}
