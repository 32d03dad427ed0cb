//! Signs a raw request for another Tencent Cloud service — CVM `DescribeInstances` — and
//! prints it as a `curl` command: the signer knows nothing of `ms`, HTTP crates or clocks.
//!
//! ```sh
//! cargo run -p tc3-sign --example sign_raw_request
//! TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... cargo run -p tc3-sign --example sign_raw_request
//! ```
//!
//! With real credentials in the environment the printed command works as is (within the
//! 5 minutes the signature is valid); otherwise the documentation's example keys are used.
//! The SecretKey is never printed.

use std::time::{SystemTime, UNIX_EPOCH};

use tc3_sign::{Credentials, Payload, ReceivedTc3, Tc3Request, Tc3Signer, verify_tc3};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let credentials = match (
        var("TENCENTCLOUD_SECRET_ID"),
        var("TENCENTCLOUD_SECRET_KEY"),
    ) {
        (Some(id), Some(key)) => Credentials::new(id, key)?,
        // The example keys of Tencent Cloud's signature documentation.
        _ => Credentials::new(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        )?,
    };
    let credentials = match var("TENCENTCLOUD_SESSION_TOKEN") {
        Some(token) => credentials.with_token(token),
        None => credentials,
    };

    // The request, exactly as it will be sent.
    let host = "cvm.tencentcloudapi.com";
    let body = br#"{"Limit":1,"Filters":[{"Name":"instance-state","Values":["RUNNING"]}]}"#;
    let request = Tc3Request {
        method: "POST",
        host,
        path: "/",
        query: "",
        content_type: "application/json",
        payload: Payload::Bytes(body),
    };
    // The signer never reads a clock: the time is an input.
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let signer = Tc3Signer::new(); // keep one per process: it caches derived keys
    let signature = signer.sign(&request, &credentials, "cvm", now)?;

    println!("# canonical request:\n{}\n", signature.canonical_request());
    println!("# string to sign:\n{}\n", signature.string_to_sign());

    // The headers every API 3.0 call carries, then the ones the signature adds
    // (X-TC-Timestamp, X-TC-Token with temporary credentials, Authorization).
    let mut headers = vec![
        ("Content-Type", request.content_type.to_owned()),
        ("Host", host.to_owned()),
        ("X-TC-Action", "DescribeInstances".to_owned()),
        ("X-TC-Version", "2017-03-12".to_owned()),
        ("X-TC-Region", "ap-guangzhou".to_owned()),
    ];
    headers.extend(signature.headers());
    println!("# the request:");
    print!("curl -sS https://{host}/");
    for (name, value) in &headers {
        print!(" \\\n  -H '{name}: {value}'");
    }
    println!(" \\\n  -d '{}'", String::from_utf8_lossy(body));

    // What a server holding the key does (tc3-sign's server side, used by the ms emulator).
    let received: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    verify_tc3(
        &ReceivedTc3 {
            method: "POST",
            path: "/",
            query: "",
            headers: &received,
            body,
            timestamp: now,
            authorization: signature.authorization(),
        },
        credentials.secret_key(),
        "cvm",
    )?;
    println!("\n# verified with the same key, as the service would");
    Ok(())
}
