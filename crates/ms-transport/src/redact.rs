//! Redaction of secret members in reply (and request) bodies before they reach a log or an
//! error.
//!
//! Some replies carry credentials: `CreateCosSecKeyInstance` returns a temporary COS key and
//! session token (`CosKey`, `CosToken`, `CosTocken`), and other Tencent Cloud products reached
//! through the generic core return STS credentials (`TmpSecretKey`, `Token`). The client puts
//! body snippets into trace events and into [`Error`](crate::Error)s (`HttpStatus`, `Decode`),
//! so every such snippet goes through [`redact_secrets`] first.
//!
//! The secret members are the ones `ms-model` tags `{secret: true}` ([`FieldSchema`] with
//! [`Constraint::Secret`], found through every action's response schema), plus the usual
//! Tencent Cloud credential member names ([`GENERIC_SECRET_MEMBERS`]). The redaction works on
//! the raw bytes, not on parsed JSON, so it also covers the replies that matter most here:
//! truncated and malformed ones. A string value that is cut off is redacted up to the end.

use std::borrow::Cow;
use std::sync::OnceLock;

use ms_model::schema::{Constraint, FieldSchema, Kind, StructSchema};

/// What replaces a secret value.
pub const REDACTED: &str = "<redacted>";

/// Credential member names redacted whatever the action: STS and CAM replies
/// (`Credentials.TmpSecretKey`, `Credentials.Token`), the common spellings, and the OIDC
/// token of an `AssumeRoleWithWebIdentity` request (`WebIdentityToken`).
pub const GENERIC_SECRET_MEMBERS: &[&str] = &[
    "SecretKey",
    "TmpSecretKey",
    "Token",
    "SessionToken",
    "WebIdentityToken",
];

fn collect(schema: &'static StructSchema, out: &mut Vec<&'static str>, depth: usize) {
    if depth > 16 {
        return;
    }
    for f in schema.fields {
        if is_secret(f) && !out.contains(&f.name) {
            out.push(f.name);
        }
        if let Kind::Struct(inner) = f.kind {
            collect(inner, out, depth + 1);
        }
    }
}

fn is_secret(f: &FieldSchema) -> bool {
    f.has(|c| matches!(c, Constraint::Secret))
}

/// Every member name whose value is redacted: the `{secret: true}` members of every ms
/// response (and the structures inside), then [`GENERIC_SECRET_MEMBERS`].
pub fn secret_member_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Vec::new();
        for action in ms_model::ACTIONS {
            collect(action.response, &mut names, 0);
        }
        for name in GENERIC_SECRET_MEMBERS {
            if !names.contains(name) {
                names.push(name);
            }
        }
        names
    })
}

/// The byte ranges of the values of secret members in `body` (a JSON text, possibly truncated
/// or malformed): `"Name" : "value"` (the range is the string's content; an unterminated
/// string runs to the end) or `"Name" : scalar` (up to the next `,`, `}`, `]` or whitespace).
fn secret_ranges(body: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'"' {
            i += 1;
            continue;
        }
        // A quoted name: find its end.
        let start = i + 1;
        let Some(len) = body[start..].iter().position(|&b| b == b'"') else {
            break;
        };
        let name = &body[start..start + len];
        let after = start + len + 1;
        let secret = secret_member_names().iter().any(|n| n.as_bytes() == name);
        if !secret {
            i = after;
            continue;
        }
        let mut j = after;
        while j < body.len() && body[j].is_ascii_whitespace() {
            j += 1;
        }
        if body.get(j) != Some(&b':') {
            i = after;
            continue;
        }
        j += 1;
        while j < body.len() && body[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= body.len() {
            break;
        }
        if body[j] == b'"' {
            let from = j + 1;
            let mut k = from;
            while k < body.len() && body[k] != b'"' {
                k += if body[k] == b'\\' { 2 } else { 1 };
            }
            let to = k.min(body.len());
            if to > from {
                ranges.push((from, to));
            }
            i = to + 1;
        } else if matches!(body[j], b'{' | b'[') || body[j..].starts_with(b"null") {
            // Structured or absent: nothing to hide at this level.
            i = j;
        } else {
            let from = j;
            let mut k = from;
            while k < body.len() && !matches!(body[k], b',' | b'}' | b']') {
                if body[k].is_ascii_whitespace() {
                    break;
                }
                k += 1;
            }
            ranges.push((from, k));
            i = k;
        }
    }
    ranges
}

/// `body` with the value of every secret member replaced by [`REDACTED`]; borrowed unchanged
/// when there is nothing to hide.
pub fn redact_secrets(body: &[u8]) -> Cow<'_, [u8]> {
    let ranges = secret_ranges(body);
    if ranges.is_empty() {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    let mut last = 0;
    for (from, to) in ranges {
        out.extend_from_slice(&body[last..from]);
        out.extend_from_slice(REDACTED.as_bytes());
        last = to;
    }
    out.extend_from_slice(&body[last..]);
    Cow::Owned(out)
}

/// The secret values found in `body` (as text, at least 4 bytes long), so that a message
/// derived from the body (a decoder's "invalid type: string ..." quoting a value) can be
/// scrubbed with [`scrub`].
pub(crate) fn secret_values(body: &[u8]) -> Vec<String> {
    secret_ranges(body)
        .into_iter()
        .filter(|(from, to)| to - from >= 4)
        .map(|(from, to)| String::from_utf8_lossy(&body[from..to]).into_owned())
        .collect()
}

/// `text` with every occurrence of one of `values` replaced by [`REDACTED`].
pub(crate) fn scrub(text: &str, values: &[String]) -> String {
    let mut out = text.to_owned();
    for v in values {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(s: &str) -> String {
        String::from_utf8(redact_secrets(s.as_bytes()).into_owned()).expect("utf8")
    }

    #[test]
    fn the_model_tags_the_cos_credentials() {
        let names = secret_member_names();
        for n in ["CosKey", "CosToken", "CosTocken", "TmpSecretKey", "Token"] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
        assert!(!names.contains(&"CosId"), "an identifier is not a secret");
        assert!(!names.contains(&"RequestId"));
    }

    #[test]
    fn string_values_of_secret_members_are_replaced() {
        assert_eq!(
            red(
                r#"{"Response":{"CosId":"AKID1","CosKey":"k3y","CosToken" :  "t\"ok","RequestId":"r"}}"#
            ),
            r#"{"Response":{"CosId":"AKID1","CosKey":"<redacted>","CosToken" :  "<redacted>","RequestId":"r"}}"#
        );
        assert_eq!(
            red(r#"{"Credentials":{"TmpSecretId":"AKID","TmpSecretKey":"sk","Token":"tk"}}"#),
            r#"{"Credentials":{"TmpSecretId":"AKID","TmpSecretKey":"<redacted>","Token":"<redacted>"}}"#
        );
    }

    #[test]
    fn truncated_and_odd_values_are_covered() {
        // Cut off inside the value: redacted to the end.
        assert_eq!(red(r#"{"CosKey":"abcdef"#), r#"{"CosKey":"<redacted>"#);
        // A wrongly typed scalar.
        assert_eq!(
            red(r#"{"CosKey":12345,"CosTocken":true}"#),
            r#"{"CosKey":<redacted>,"CosTocken":<redacted>}"#
        );
        // Nothing after the colon, empty strings, null: nothing to hide.
        assert_eq!(red(r#"{"CosKey":"#), r#"{"CosKey":"#);
        assert_eq!(
            red(r#"{"CosKey":"","Token":null}"#),
            r#"{"CosKey":"","Token":null}"#
        );
        // A member name used as a value is not a member.
        assert_eq!(
            red(r#"{"Name":"CosKey","X":"y"}"#),
            r#"{"Name":"CosKey","X":"y"}"#
        );
        assert!(matches!(
            redact_secrets(b"<html>bad gateway</html>"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn messages_are_scrubbed_of_the_values() {
        let body = br#"{"Response":{"CosKey":"the-secret-key","Bad":1}}"#;
        let values = secret_values(body);
        assert_eq!(values, ["the-secret-key"]);
        assert_eq!(
            scrub("invalid type: string \"the-secret-key\"", &values),
            "invalid type: string \"<redacted>\""
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Never panics on any bytes, and a secret value embedded anywhere is gone.
            #[test]
            fn never_panics_and_hides_embedded_values(
                prefix in proptest::collection::vec(any::<u8>(), 0..64),
                secret in "s3cr[A-Za-z0-9+/=]{8,40}",
                cut in 0usize..80,
            ) {
                let _ = redact_secrets(&prefix);
                let mut body = br#"{"Response":{"CosKey":""#.to_vec();
                body.extend_from_slice(secret.as_bytes());
                body.extend_from_slice(br#"","RequestId":"r"}}"#);
                let full = redact_secrets(&body);
                prop_assert!(!full.windows(secret.len()).any(|w| w == secret.as_bytes()));
                let cut = body.len().saturating_sub(cut);
                let part = redact_secrets(&body[..cut]);
                prop_assert!(!part.windows(secret.len()).any(|w| w == secret.as_bytes()));
            }
        }
    }
}
