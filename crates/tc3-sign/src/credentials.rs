//! [`Credentials`]: SecretId, SecretKey and optional session token.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::Error;

/// A SecretId / SecretKey pair with an optional session token (temporary credentials).
///
/// `Debug` and `Display` show the SecretId only; the key and the token are always
/// redacted. Cloning is cheap (the secrets are shared behind an `Arc`).
///
/// ```
/// # use tc3_sign::Credentials;
/// let creds = Credentials::new("AKIDEXAMPLE", "secret-key")?.with_token("session-token");
/// assert_eq!(creds.secret_id(), "AKIDEXAMPLE");
/// let shown = format!("{creds:?} {creds}");
/// assert!(!shown.contains("secret-key") && !shown.contains("session-token"));
/// # Ok::<(), tc3_sign::Error>(())
/// ```
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    secret_id: String,
    secret_key: String,
    token: Option<String>,
    /// SHA-256 of a domain prefix and the key: identifies the key in the signing-key
    /// cache without keeping a second copy of it there.
    fingerprint: [u8; 32],
}

impl Credentials {
    /// Builds credentials from a SecretId and a SecretKey.
    ///
    /// Leading and trailing whitespace is trimmed from both.
    ///
    /// # Errors
    /// [`Error::EmptyField`] if either is empty after trimming; [`Error::InvalidField`]
    /// if the SecretId contains whitespace, a control character or `,` (it could not be
    /// carried in an `Authorization` header unambiguously), or the key contains a control
    /// character.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Result<Self, Error> {
        let secret_id = trim_owned(secret_id.into());
        let secret_key = trim_owned(secret_key.into());
        if secret_id.is_empty() {
            return Err(Error::EmptyField { field: "secret_id" });
        }
        if secret_key.is_empty() {
            return Err(Error::EmptyField {
                field: "secret_key",
            });
        }
        if secret_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        {
            return Err(Error::InvalidField {
                field: "secret_id",
                reason: "must not contain whitespace, control characters or ','",
            });
        }
        if secret_key.chars().any(char::is_control) {
            return Err(Error::InvalidField {
                field: "secret_key",
                reason: "must not contain control characters",
            });
        }
        let fingerprint = key_fingerprint(&secret_key);
        Ok(Self {
            inner: Arc::new(Inner {
                secret_id,
                secret_key,
                token: None,
                fingerprint,
            }),
        })
    }

    /// Adds a session token (sent as `X-TC-Token`, never signed). Whitespace is trimmed;
    /// an empty token means "no token", as in the official SDK.
    #[must_use]
    pub fn with_token(self, token: impl Into<String>) -> Self {
        let token = trim_owned(token.into());
        let inner = Inner {
            secret_id: self.inner.secret_id.clone(),
            secret_key: self.inner.secret_key.clone(),
            token: (!token.is_empty()).then_some(token),
            fingerprint: self.inner.fingerprint,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The SecretId (public; it appears in the `Authorization` header).
    pub fn secret_id(&self) -> &str {
        &self.inner.secret_id
    }

    /// The SecretKey. **Never log or display it.**
    pub fn secret_key(&self) -> &str {
        &self.inner.secret_key
    }

    /// The session token, if any. **Never log or display it.**
    pub fn token(&self) -> Option<&str> {
        self.inner.token.as_deref()
    }

    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.inner.fingerprint
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.inner.secret_id)
            .field("secret_key", &"<redacted>")
            .field("token", &self.inner.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (secret key redacted", self.inner.secret_id)?;
        if self.inner.token.is_some() {
            f.write_str(", session token redacted")?;
        }
        f.write_str(")")
    }
}

/// Fingerprint of a secret key for the signing-key cache (one-way, domain-separated).
pub(crate) fn key_fingerprint(secret_key: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tc3-sign key-cache fingerprint\0");
    h.update(secret_key.as_bytes());
    h.finalize().into()
}

fn trim_owned(s: String) -> String {
    let t = s.trim();
    if t.len() == s.len() { s } else { t.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_rejects_empty() {
        let c = Credentials::new("  id \n", "\tkey ").unwrap();
        assert_eq!(c.secret_id(), "id");
        assert_eq!(c.secret_key(), "key");
        assert_eq!(
            Credentials::new(" ", "k").unwrap_err(),
            Error::EmptyField { field: "secret_id" }
        );
        assert_eq!(
            Credentials::new("id", "").unwrap_err(),
            Error::EmptyField {
                field: "secret_key"
            }
        );
        assert!(matches!(
            Credentials::new("a,b", "k"),
            Err(Error::InvalidField {
                field: "secret_id",
                ..
            })
        ));
        assert!(matches!(
            Credentials::new("a b", "k"),
            Err(Error::InvalidField {
                field: "secret_id",
                ..
            })
        ));
        assert!(matches!(
            Credentials::new("ab", "k\r\nx"),
            Err(Error::InvalidField {
                field: "secret_key",
                ..
            })
        ));
        // Inner spaces in keys are fine (the v1 vectors use one).
        assert!(Credentials::new("ab", "k mid-space").is_ok());
    }

    #[test]
    fn token_handling() {
        let c = Credentials::new("id", "key").unwrap();
        assert_eq!(c.token(), None);
        let c = c.with_token(" tok ");
        assert_eq!(c.token(), Some("tok"));
        assert_eq!(c.clone().with_token("").token(), None);
    }

    #[test]
    fn debug_and_display_never_show_secrets() {
        let key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
        let token = "very-secret-session-token";
        let c = Credentials::new("AKIDEXAMPLE", key)
            .unwrap()
            .with_token(token);
        for shown in [format!("{c:?}"), format!("{c:#?}"), format!("{c}")] {
            assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
            assert!(!shown.contains(key), "{shown}");
            assert!(!shown.contains(token), "{shown}");
            assert!(!shown.contains("Gu5t9x"), "{shown}");
        }
    }
}
