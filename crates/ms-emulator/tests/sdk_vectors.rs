//! The requests the official Python, Node.js, Go, Java and PHP SDKs send (captured from the SDKs
//! themselves: crates/tc3-sign/tests/data/vectors-sdks.json), replayed through the emulator's
//! gateway as received: every one is authenticated and answered by its action.

use base64::Engine as _;
use ms_emulator::fuzzing::Gateway;
use serde_json::Value;

const VECTORS: &str = include_str!("../../tc3-sign/tests/data/vectors-sdks.json");

#[test]
fn every_captured_official_sdk_request_is_accepted_and_a_wrong_key_is_not() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let key = doc["secret_key"].as_str().unwrap();
    let mut replayed = 0;
    for sdk in doc["sdks"].as_array().unwrap() {
        let name = sdk["sdk"].as_str().unwrap();
        for r in sdk["requests"].as_array().unwrap() {
            let headers: Vec<(&str, &str)> = r["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h[0].as_str().unwrap(), h[1].as_str().unwrap()))
                .collect();
            let header = |n: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(n))
                    .map(|(_, v)| *v)
            };
            let body = base64::engine::general_purpose::STANDARD
                .decode(r["body_base64"].as_str().unwrap())
                .unwrap();
            let (method, path, query) = (
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                r["query"].as_str().unwrap(),
            );
            // The SecretId and the time of the request, from its Authorization or its form.
            let (secret_id, ts) = match header("Authorization") {
                Some(auth) => {
                    let p = tc3_sign::parse_authorization(auth).unwrap();
                    (
                        p.secret_id.to_owned(),
                        header("X-TC-Timestamp").unwrap().parse::<u64>().unwrap(),
                    )
                }
                None => {
                    let form = if method == "GET" {
                        query.to_owned()
                    } else {
                        String::from_utf8(body.clone()).unwrap()
                    };
                    let pairs = tc3_sign::form_urldecode(&form).unwrap();
                    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).unwrap().1.clone();
                    (get("SecretId"), get("Timestamp").parse().unwrap())
                }
            };
            let what = format!("{name} {method} {}", header("Host").unwrap_or(""));
            let g = Gateway::new(&secret_id, key, ts * 1000);
            let reply = g.handle(method, path, query, &headers, &body);
            assert_eq!(
                reply.code,
                None,
                "{what}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            let other = Gateway::new(&secret_id, "anotherSecretKey", ts * 1000);
            let reply = other.handle(method, path, query, &headers, &body);
            assert_eq!(
                reply.code.as_deref(),
                Some("AuthFailure.SignatureFailure"),
                "{what}"
            );
            replayed += 1;
        }
    }
    assert_eq!(replayed, 70);
}
