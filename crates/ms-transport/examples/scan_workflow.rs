//! The whole scan workflow with typed calls, against the emulator started in this process
//! (no account, no network):
//!
//! ```sh
//! cargo run -p ms-transport --example scan_workflow
//! ```
//!
//! 1. `CreateScanInstances`: submit two apps (`client.send(&request)`);
//! 2. wait until both are scanned (`scan::wait_for_task`, polling `DescribeScanInstances`);
//! 3. `DescribeScanResults`: read the findings.
//!
//! Against Tencent Cloud, drop the emulator and build the client with
//! `Client::builder().region("ap-guangzhou").build()?` (credentials from the default chain).

use std::time::Duration;

use ms_emulator::{Emulator, EmulatorConfig};
use ms_transport::model::{
    AppInfo, CreateScanInstancesRequest, DescribeScanResultsRequest, ScanInfo, TaskStatus,
};
use ms_transport::scan::{WaitOptions, wait_for_task};
use ms_transport::{Client, Proxy, StaticProvider};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local emulator with the demo account and 1-second scans.
    let config = EmulatorConfig::demo().with_scan_duration(Duration::from_secs(1));
    let emulator = Emulator::start(config, ([127, 0, 0, 1], 0).into()).await?;
    let (secret_id, secret_key) = emulator.accounts()[0].clone();

    let client = Client::builder()
        .endpoint(emulator.base_url())
        .allow_http() // the emulator listens on plain HTTP on loopback
        .proxy(Proxy::None)
        .credentials(StaticProvider::from_parts(&secret_id, &secret_key, None)?)
        .build()?;

    // 1. Submit. An invalid request (bad MD5, too many apps) fails here, before any I/O.
    let submitted = client
        .send(&CreateScanInstancesRequest {
            app_infos: vec![
                app(
                    "com.example.notesplus",
                    "354eed3f67ebff2934bcac81a7206b57",
                    45_464_097,
                ),
                app(
                    "com.example.pocketledger",
                    "3af3885f366372570adec365f22fb542",
                    22_246_633,
                ),
            ],
            scan_info: ScanInfo {
                callback_url: String::new(),
                scan_types: vec!["VULSCAN".into(), "VIRUSSCAN".into(), "ADSCAN".into()],
            },
        })
        .await?;
    let item_id = submitted
        .item_id
        .ok_or("CreateScanInstances answered no ItemId")?;
    println!("submitted: ItemId {item_id}");

    // 2. Wait until every app of the task is in a final state.
    let options = WaitOptions {
        interval: Duration::from_millis(500),
        timeout: Duration::from_secs(60),
    };
    let apps = wait_for_task(&client, &item_id, &options, |p| {
        println!("  {}/{} apps scanned", p.finished, p.total);
    })
    .await?;
    let completed = apps
        .iter()
        .filter(|a| a.task_status == Some(TaskStatus::Completed.code()))
        .count();
    println!("finished: {completed} of {} apps completed", apps.len());

    // 3. Read the findings.
    let results = client
        .send(&DescribeScanResultsRequest {
            item_id: item_id.clone(),
            ..Default::default()
        })
        .await?;
    for scan in results.scan_set.unwrap_or_default() {
        let name = scan
            .app_detail_info
            .as_ref()
            .and_then(|d| d.app_pkg_name.clone())
            .unwrap_or_default();
        let vulnerabilities = scan
            .vul_info
            .as_ref()
            .and_then(|v| v.vul_list.as_ref())
            .map_or(0, Vec::len);
        let virus = scan
            .virus_info
            .as_ref()
            .and_then(|v| v.virus_name.clone())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "none".into());
        println!("  {name}: {vulnerabilities} vulnerabilities, virus: {virus}");
    }

    emulator.shutdown().await;
    Ok(())
}

fn app(package: &str, md5: &str, size: u64) -> AppInfo {
    AppInfo {
        app_url: format!("https://downloads.example.com/apks/{package}.apk"),
        app_md5: md5.into(),
        app_size: Some(size),
        app_pkg_name: Some(package.into()),
        ..Default::default()
    }
}
