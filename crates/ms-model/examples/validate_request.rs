//! Validates requests before anything is sent, and reads the violations: each one names the
//! offending field by its wire path (`AppInfos[1].AppMd5`), so a batch tool can point at the
//! exact app of a manifest.
//!
//! ```sh
//! cargo run -p ms-model --example validate_request
//! ```

use ms_model::{
    Action, AppInfo, CreateScanInstancesRequest, DescribeScanResultsResponse, ScanInfo, Validate,
    decode_response, validate_json,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A typed request with three mistakes.
    let request = CreateScanInstancesRequest {
        app_infos: vec![
            AppInfo {
                app_url: "https://downloads.example.com/notes.apk".into(),
                app_md5: "354eed3f67ebff2934bcac81a7206b57".into(),
                ..Default::default()
            },
            AppInfo {
                app_url: "ftp://downloads.example.com/ledger.apk".into(),
                app_md5: "not-an-md5".into(),
                ..Default::default()
            },
        ],
        scan_info: ScanInfo {
            callback_url: String::new(),
            scan_types: vec!["VULSCAN".into(), "MALWARE".into()],
        },
    };
    println!(
        "{} (version {}, {:?})",
        CreateScanInstancesRequest::NAME,
        CreateScanInstancesRequest::VERSION,
        CreateScanInstancesRequest::IDEMPOTENCY,
    );
    match request.validate() {
        Ok(()) => println!("valid"),
        Err(errors) => {
            println!("{} violations:", errors.violations().len());
            for v in errors.violations() {
                println!("  {}: {}", v.path, v.message);
            }
            // Look one up by path.
            if let Some(v) = errors.at("AppInfos[1].AppMd5") {
                println!("the second app's MD5: {}", v.message);
            }
        }
    }

    // The same checks on untyped JSON (what `ms call` does), by action name.
    let params = serde_json::json!({"ItemId": "", "AppMd5s": ["x"]});
    if let Err(errors) = validate_json("DescribeScanResults", &params) {
        println!("DescribeScanResults {params}:");
        for v in errors.violations() {
            println!("  {}: {}", v.path, v.message);
        }
    }

    // Replies decode into the typed response, or the service's error.
    let reply = br#"{"Response":{"Error":{"Code":"ResourceNotFound","Message":"no such task"},"RequestId":"7b2c"}}"#;
    match decode_response::<DescribeScanResultsResponse>(reply)? {
        Ok(results) => println!("{} results", results.total_count.unwrap_or(0)),
        Err(e) => println!(
            "service error {} ({}), RequestId {}",
            e.code.as_str(),
            e.message,
            e.request_id.as_deref().unwrap_or("-")
        ),
    }
    Ok(())
}
