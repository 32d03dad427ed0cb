//! Error types: [`Error`] for signing and encoding, [`VerifyError`] for the server side.

/// Longest echo of untrusted input kept in a [`VerifyError`] (longer values are cut).
const ECHO_LIMIT: usize = 64;

/// An error from building a signature or from decoding a form.
///
/// Every variant names the offending field. No variant ever contains a secret key, a
/// token or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required field is empty (after trimming, for credentials).
    #[error("{field} must not be empty")]
    EmptyField {
        /// The field, e.g. `"secret_key"` or `"service"`.
        field: &'static str,
    },
    /// A field contains something that cannot be signed or sent unambiguously.
    #[error("{field} is invalid: {reason}")]
    InvalidField {
        /// The field, e.g. `"host"` or `"method"`.
        field: &'static str,
        /// What is wrong with it (never the value itself).
        reason: &'static str,
    },
    /// A form-encoded string (`k=v&k2=v2`) could not be decoded.
    #[error("invalid form encoding in pair {pair}: {reason}")]
    InvalidForm {
        /// 0-based index of the `&`-separated pair that failed.
        pair: usize,
        /// What is wrong with it (never the value itself).
        reason: &'static str,
    },
}

/// Why a received request's signature was rejected (server side).
///
/// Values echoed from the request (algorithm, scope date, service, header names) are cut
/// to a short length; the `Authorization` value, signatures, keys and tokens never appear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The `Authorization` header does not have the TC3 shape
    /// (`<alg> Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=..., Signature=<hex>`).
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(String),
    /// The algorithm (TC3) or `SignatureMethod` (v1) is not supported.
    #[error("unsupported signature algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The date in the credential scope is not the UTC date of the request's timestamp.
    #[error("credential scope date {scope:?} does not match the timestamp's UTC date {expected:?}")]
    ScopeDateMismatch {
        /// Date found in the credential scope.
        scope: String,
        /// UTC date of `X-TC-Timestamp`.
        expected: String,
    },
    /// The service in the credential scope is not the expected one.
    #[error("credential scope service {got:?} is not {expected:?}")]
    WrongService {
        /// Service found in the credential scope.
        got: String,
        /// Service the verifier expects.
        expected: String,
    },
    /// A header listed in `SignedHeaders` is not present in the request.
    #[error("signed header {0:?} is missing from the request")]
    MissingSignedHeader(String),
    /// The recomputed signature differs from the one sent.
    #[error("signature mismatch")]
    SignatureMismatch,
    /// A v1 request lacks a required parameter (e.g. `Signature`).
    #[error("missing parameter {0:?}")]
    MissingParameter(String),
}

/// Copies untrusted input for an error message, cut to [`ECHO_LIMIT`] characters.
pub(crate) fn echo(s: &str) -> String {
    match s.char_indices().nth(ECHO_LIMIT) {
        Some((idx, _)) => format!("{}...", &s[..idx]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_cuts_long_values_on_char_boundaries() {
        assert_eq!(echo("abc"), "abc");
        let long = "é".repeat(100);
        let cut = echo(&long);
        assert_eq!(cut.chars().count(), ECHO_LIMIT + 3);
        assert!(cut.ends_with("..."));
    }
}
