//! Credentials from your own source (a secrets vault, an internal token service), cached and
//! refreshed ahead of expiry by `CachedProvider`, with one refresh shared by every concurrent
//! call — and the default chain, which says where it found credentials:
//!
//! ```sh
//! cargo run -p ms-transport --example custom_credentials
//! ```
//!
//! Runs against the emulator started in this process (no account, no network).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ms_emulator::{Emulator, EmulatorConfig};
use ms_transport::credentials::{FetchCredentials, FetchFuture};
use ms_transport::model::DescribeScanInstancesRequest;
use ms_transport::{
    CachedProvider, Client, Clock, Credentials, DefaultChain, Proxy, SystemClock,
    TemporaryCredentials,
};

/// Stands for a vault: hands out credentials valid for one hour, counting the requests.
#[derive(Debug)]
struct Vault {
    secret_id: String,
    secret_key: String,
    requests: AtomicU32,
}

impl FetchCredentials for Vault {
    fn name(&self) -> &'static str {
        "vault"
    }

    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            self.requests.fetch_add(1, Ordering::SeqCst);
            // A real fetcher would call the vault here; errors must not quote secrets.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let credentials =
                Credentials::new(self.secret_id.as_str(), self.secret_key.as_str())
                    .map_err(|e| ms_transport::Error::credentials(format!("vault: {e}")))?;
            let expires_at = SystemClock::new().unix_seconds() + 3600;
            Ok(TemporaryCredentials::new(credentials, expires_at))
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(EmulatorConfig::demo(), ([127, 0, 0, 1], 0).into()).await?;
    let (secret_id, secret_key) = emulator.accounts()[0].clone();

    let vault = CachedProvider::new(Vault {
        secret_id,
        secret_key,
        requests: AtomicU32::new(0),
    });
    let client = Client::builder()
        .endpoint(emulator.base_url())
        .allow_http()
        .proxy(Proxy::None)
        .credentials(vault.clone())
        .build()?;

    // Ten calls at once: one vault request, the other nine wait for it.
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .send(&DescribeScanInstancesRequest::default())
                    .await
                    .map(|r| r.total_count.unwrap_or(0))
            })
        })
        .collect();
    for call in calls {
        call.await??;
    }
    let cached = vault.cached().ok_or("nothing cached")?;
    println!(
        "10 calls, {} vault request(s); credentials {} valid until {} (refreshed 300 s before)",
        vault.fetcher().requests.load(Ordering::SeqCst),
        cached.credentials().secret_id(),
        cached.expires_at(),
    );

    // The default chain: environment, profile file, tccli, CVM role, TKE OIDC (in that order).
    // Here it looks only at this example's variables, and skips the metadata service.
    let chain = DefaultChain::with_lookup(|name| match name {
        "TENCENTCLOUD_SECRET_ID" => Some("AKIDEXAMPLE".to_owned()),
        "TENCENTCLOUD_SECRET_KEY" => Some("example-key".to_owned()),
        _ => None,
    })
    .without_cvm_role();
    println!("default chain: credentials from {}", chain.resolve().await?);
    println!("Debug never shows a secret: {:?}", Arc::new(chain));

    emulator.shutdown().await;
    Ok(())
}
