//! Clock-skew correction.
//!
//! Tencent Cloud rejects a request whose `X-TC-Timestamp` is more than 5 minutes away from the
//! server's clock with `AuthFailure.SignatureExpire`. When that happens the client reads the
//! server's `Date` header, stores `server - local` (seconds) for that endpoint in a
//! [`SkewStore`], and retries once with the corrected time; later requests to the endpoint use
//! the stored offset from the start.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::UNIX_EPOCH;

use ms_model::ErrorCode;

/// Whether a service error code reports an expired signature (`AuthFailure.SignatureExpire`:
/// the local clock is off).
pub fn is_signature_expired(code: &ErrorCode) -> bool {
    *code == ErrorCode::AuthFailureSignatureExpire
}

/// Per-endpoint clock offsets, shared by every clone (and by clients given the same store).
#[derive(Debug, Clone, Default)]
pub struct SkewStore {
    inner: Arc<RwLock<HashMap<String, i64>>>,
}

impl SkewStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The learned offset (server minus local, seconds) for `endpoint`, 0 when unknown.
    pub fn offset(&self, endpoint: &str) -> i64 {
        self.inner
            .read()
            .map(|m| m.get(endpoint).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Records an offset for `endpoint`.
    pub fn set_offset(&self, endpoint: &str, offset: i64) {
        let mut map = match self.inner.write() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.insert(endpoint.to_owned(), offset);
    }

    /// Learns the offset from an HTTP `Date` header value given the local Unix time at which
    /// the reply was received. Returns the new offset, or `None` if the header does not parse.
    pub fn learn_from_date(
        &self,
        endpoint: &str,
        date_header: &str,
        local_now: u64,
    ) -> Option<i64> {
        let offset = offset_from_date(date_header, local_now)?;
        self.set_offset(endpoint, offset);
        Some(offset)
    }

    /// Applies the stored offset of `endpoint` to a local Unix time.
    pub fn corrected(&self, endpoint: &str, local_now: u64) -> u64 {
        apply_offset(local_now, self.offset(endpoint))
    }
}

/// `server - local` in seconds, from an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn offset_from_date(date_header: &str, local_now: u64) -> Option<i64> {
    let server = httpdate::parse_http_date(date_header.trim()).ok()?;
    let server = server.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let server = i64::try_from(server).ok()?;
    let local = i64::try_from(local_now).ok()?;
    Some(server - local)
}

/// `local + offset`, saturating at 0 and `u64::MAX`.
pub fn apply_offset(local: u64, offset: i64) -> u64 {
    if offset >= 0 {
        local.saturating_add(offset.unsigned_abs())
    } else {
        local.saturating_sub(offset.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_offset_from_date_header() {
        // 1994-11-06T08:49:37Z = 784111777
        let store = SkewStore::new();
        let off = store.learn_from_date(
            "ms.tencentcloudapi.com",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            784_111_777 - 600,
        );
        assert_eq!(off, Some(600));
        assert_eq!(store.offset("ms.tencentcloudapi.com"), 600);
        assert_eq!(store.offset("other"), 0);
        assert_eq!(store.corrected("ms.tencentcloudapi.com", 1000), 1600);
    }

    #[test]
    fn negative_offsets_and_garbage() {
        assert_eq!(
            offset_from_date("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777 + 30),
            Some(-30)
        );
        assert_eq!(offset_from_date("yesterday", 0), None);
        assert_eq!(apply_offset(10, -30), 0);
        assert_eq!(apply_offset(u64::MAX, 5), u64::MAX);
    }

    #[test]
    fn clones_share_offsets() {
        let a = SkewStore::new();
        let b = a.clone();
        a.set_offset("h", -7);
        assert_eq!(b.offset("h"), -7);
    }
}
