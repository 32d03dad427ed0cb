//! Form decoding (`k=v&...`: GET queries and legacy v1 bodies) and the legacy signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tc3_sign::{form_urldecode, form_urlencode, v1_string_to_sign, verify_v1};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pairs) = form_urldecode(text) else {
        return;
    };
    // What is decoded re-encodes to a form that decodes to the same pairs.
    let again = form_urldecode(&form_urlencode(&pairs)).expect("a re-encoded form decodes");
    assert_eq!(again, pairs);
    let sts = v1_string_to_sign("POST", "127.0.0.1:8443", "/", &pairs);
    assert!(sts.starts_with("POST127.0.0.1:8443/?"));
    // Not signed with the key: it never verifies.
    assert!(verify_v1("POST", "127.0.0.1:8443", "/", &pairs, "fuzzSecretKey").is_err());
});
