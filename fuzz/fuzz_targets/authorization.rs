//! TC3 `Authorization` parsing and verification against arbitrary requests.
//!
//! Input (UTF-8): the `Authorization` value on the first line, then `Name: value` header
//! lines, a blank line and the body. The request is checked at 2026-01-01T00:00:00Z, the
//! date of the seeds' credential scope.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tc3_sign::{ReceivedTc3, Tc3Signer, parse_authorization, verify_tc3};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (auth, rest) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(p) = parse_authorization(auth) {
        assert_eq!(p.signature.len(), 64);
        assert!(p.signature.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!p.secret_id.is_empty() && !p.date.is_empty() && !p.service.is_empty());
        assert!(!p.signed_headers.is_empty());
    }
    let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let headers: Vec<(&str, &str)> = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    for method in ["POST", "GET"] {
        let req = ReceivedTc3 {
            method,
            path: "/",
            query: "Limit=1",
            headers: &headers,
            body: body.as_bytes(),
            timestamp: 1_767_225_600,
            authorization: auth,
        };
        let uncached = verify_tc3(&req, "fuzzSecretKey", "ms");
        let cached = Tc3Signer::new().verify(&req, "fuzzSecretKey", "ms");
        assert_eq!(uncached, cached, "the key cache changed a result");
        // Nothing here was signed with the key: finding a valid signature would be a forgery.
        assert!(uncached.is_err(), "an unsigned request verified");
    }
});
