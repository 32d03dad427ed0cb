//! The parameter count limit, form decoding and the rebuilding of JSON parameters from
//! flattened names (`AppInfos.0.AppMd5=...`), as the emulator does for GET and legacy requests.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ms_emulator::fuzzing::rebuild_form;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = rebuild_form(text, 10_000) else {
        return;
    };
    assert!(value.is_object());
    // Flattening what was rebuilt gives a form that rebuilds to the same value.
    let pairs = tc3_sign::flatten_params(&value);
    let again = rebuild_form(&tc3_sign::form_urlencode(&pairs), 10_000)
        .expect("a flattened rebuilt value rebuilds");
    assert_eq!(again, value);
});
