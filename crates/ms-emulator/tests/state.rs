//! The `--state` file: an SQLite database that every acknowledged change is in, owned by one
//! emulator, owner-only, migrated from the JSON of earlier versions, and a write failure
//! that is never acknowledged.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use ms_emulator::{CallbackConfig, DeliveryStatus, Emulator, ManualClock};
use serde_json::{Value, json};

const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn state_survives_a_restart_in_an_owner_only_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let clock = Arc::new(ManualClock::new(T0_MS));
    let emu = start(config(&clock).with_state_file(&path)).await;
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        // The WAL, while running, is owner-only too.
        let wal = dir.path().join("state.db-wal");
        assert!(wal.exists(), "{:?}", names_in(dir.path()));
        assert_eq!(mode(&wal), 0o600);
    }
    let c = Client::new(&emu, &clock);
    let item = c
        .ok(
            "CreateScanInstances",
            &create_params(&[&md5("persist"), &md5("persist2")], "http://192.0.2.1/cb"),
        )
        .await["ItemId"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(Duration::from_secs(1));
    let before = c.ok("DescribeScanResults", &json!({"ItemId": item})).await;
    emu.close().await.unwrap();
    assert!(std::fs::read(&path).unwrap().starts_with(SQLITE_HEADER));
    // Nothing else left next to it (no temporary file, the WAL checkpointed and removed).
    assert_eq!(names_in(dir.path()), ["state.db"]);

    let emu = start(config(&clock).with_state_file(&path)).await;
    let c = Client::new(&emu, &clock);
    let after = c.ok("DescribeScanResults", &json!({"ItemId": item})).await;
    assert_eq!(before["ScanSet"], after["ScanSet"]);
    assert_eq!(emu.quota(ID), Some(998));
    assert_eq!(emu.deliveries().len(), 2);
    let listed = c
        .ok("DescribeScanInstances", &json!({"ItemIds": [item]}))
        .await;
    let sid = listed["ScanSet"][0]["AppSid"].as_str().unwrap().to_owned();
    c.ok("DeleteScanInstances", &json!({"AppSids": [sid]}))
        .await;
    emu.close().await.unwrap();

    let emu = start(config(&clock).with_state_file(&path)).await;
    let c = Client::new(&emu, &clock);
    let listed = c.ok("DescribeScanInstances", &json!({})).await;
    assert_eq!(listed["TotalCount"], 1);
    assert_eq!(
        listed["ScanSet"][0]["TaskStatus"], 1,
        "finished scans stay finished"
    );
    emu.close().await.unwrap();
}

#[tokio::test]
async fn unusable_state_files_are_refused_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0_MS));
    let start_on = |p: std::path::PathBuf| {
        Emulator::start(
            config(&clock).with_state_file(p),
            "127.0.0.1:0".parse().unwrap(),
        )
    };
    let err = start_on(dir.path().join("no/such/dir/state.db"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("state.db") && err.contains("cannot create"),
        "{err}"
    );

    let other = dir.path().join("notes.txt");
    std::fs::write(&other, b"shopping list\n").unwrap();
    let err = start_on(other.clone()).await.unwrap_err().to_string();
    assert!(
        err.contains("notes.txt") && err.contains("not an ms-emulator state file"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&other).unwrap(),
        b"shopping list\n",
        "left alone"
    );

    // Another program's SQLite database.
    let foreign = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let err = start_on(foreign).await.unwrap_err().to_string();
    assert!(err.contains("another program"), "{err}");

    // A JSON file that is not a state file.
    let bad_json = dir.path().join("bad.json");
    std::fs::write(&bad_json, br#"{"version": 1, "seq": "x"}"#).unwrap();
    let err = start_on(bad_json.clone()).await.unwrap_err().to_string();
    assert!(
        err.contains("bad.json") && err.contains("JSON state file"),
        "{err}"
    );
    assert!(
        std::fs::read(&bad_json).unwrap().starts_with(b"{"),
        "not replaced"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_state_file_readable_by_others_is_narrowed_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let clock = Arc::new(ManualClock::new(T0_MS));
    start(config(&clock).with_state_file(&path))
        .await
        .close()
        .await
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let emu = start(config(&clock).with_state_file(&path)).await;
    assert_eq!(mode(&path), 0o600);
    emu.close().await.unwrap();
}

/// A JSON state file of the previous version (the format it wrote, field by field) is
/// converted in place; the JSON is kept as a backup, and the data is all there.
#[tokio::test]
async fn a_json_state_file_of_the_previous_version_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let (m1, m2) = (md5("old1"), md5("old2"));
    let old = json!({
        "version": 1,
        "seq": 4,
        "accounts": {ID: {"remaining": 998, "limit_time": 1_798_761_600u64}},
        "tasks": {"item1": {
            "item_id": "item1", "owner": ID, "created_ms": T0_MS,
            "scan_types": ["VULSCAN", "VIRUSSCAN"], "callback_url": "http://192.0.2.1/cb",
            "app_sids": ["sid1", "sid2"]
        }},
        "scans": {
            "sid1": {"app_sid": "sid1", "item_id": "item1", "owner": ID, "seq": 1,
                     "app": {"app_md5": m1, "app_url": "https://example.com/1.apk", "app_size": 42,
                             "file_name": null, "app_pkg_name": "com.example.one", "app_version": null,
                             "app_icon_url": null, "app_name": "One"},
                     "submitted_ms": T0_MS, "status": "Completed", "finished_ms": T0_MS + 1000},
            "sid2": {"app_sid": "sid2", "item_id": "item1", "owner": ID, "seq": 2,
                     "app": {"app_md5": m2, "app_url": "https://example.com/2.apk", "app_size": null,
                             "file_name": null, "app_pkg_name": null, "app_version": null,
                             "app_icon_url": null, "app_name": null},
                     "submitted_ms": T0_MS, "status": "Processing", "finished_ms": null}
        },
        "deliveries": [{"id": 3, "item_id": "item1", "app_sid": "sid1", "app_md5": m1,
                        "url": "http://192.0.2.1/cb", "body": "{}", "status": "Refused", "attempts": 0,
                        "last_error": "not loopback", "created_ms": T0_MS + 1000, "delivered_ms": null}]
    });
    let bytes = serde_json::to_vec_pretty(&old).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let clock = Arc::new(ManualClock::new(T0_MS + 500));
    let emu = start(config(&clock).with_state_file(&path)).await;
    assert!(std::fs::read(&path).unwrap().starts_with(SQLITE_HEADER));
    let backup = dir.path().join("state.json.json-v1.bak");
    assert_eq!(std::fs::read(&backup).unwrap(), bytes);
    assert_eq!(emu.quota(ID), Some(998));
    assert_eq!(emu.deliveries().len(), 1);
    assert_eq!(emu.deliveries()[0].status, DeliveryStatus::Refused);
    let c = Client::new(&emu, &clock);
    let listed = c
        .ok("DescribeScanInstances", &json!({"OrderDirection": "asc"}))
        .await;
    assert_eq!(listed["TotalCount"], 2);
    let rows = listed["ScanSet"].as_array().unwrap();
    assert_eq!(rows[0]["AppSid"], "sid1");
    assert_eq!(rows[0]["AppName"], "One");
    assert_eq!(rows[0]["AppSize"], 42);
    assert_eq!(rows[0]["TaskStatus"], 1);
    assert_eq!(rows[1]["TaskStatus"], 2);
    // New work continues the old sequence.
    c.ok("CreateScanInstances", &create_params(&[&md5("new")], ""))
        .await;
    assert_eq!(emu.quota(ID), Some(997));
    emu.close().await.unwrap();
    // Started again: already a database, nothing migrated twice.
    let emu = start(config(&clock).with_state_file(&path)).await;
    let c = Client::new(&emu, &clock);
    assert_eq!(
        c.ok("DescribeScanInstances", &json!({})).await["TotalCount"],
        3
    );
    emu.close().await.unwrap();
    let mut names = names_in(dir.path());
    names.retain(|n| !n.starts_with("state.json"));
    assert!(names.is_empty(), "no temporary file left: {names:?}");
}

fn spawn_emulator(state: &Path, wrapper: Option<&str>) -> (Running, SocketAddr) {
    let bin = env!("CARGO_BIN_EXE_ms-emulator");
    let args = [
        "--account".to_owned(),
        format!("{ID}:{KEY}"),
        "--rate-limit".to_owned(),
        "0".to_owned(),
        "--state".to_owned(),
        state.display().to_string(),
    ];
    let mut cmd = match wrapper {
        Some(script) => {
            let mut c = Command::new("bash");
            c.arg("-c").arg(script).arg(bin).args(&args);
            c
        }
        None => {
            let mut c = Command::new(bin);
            c.args(&args);
            c
        }
    };
    let (running, mut lines) = Running::spawn(&mut cmd);
    let url = lines.next().expect("a URL line").unwrap();
    let addr = url.trim_start_matches("http://").parse().unwrap();
    (running, addr)
}

fn client_at(addr: SocketAddr) -> Client {
    Client {
        addr,
        host: addr.to_string(),
        id: ID.into(),
        key: KEY.into(),
        clock: Arc::new(ManualClock::starting_now()),
        tls: None,
        region: String::new(),
    }
}

#[test]
fn two_emulators_cannot_share_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let (mut first, _) = spawn_emulator(&state, None);
    let out = Command::new(env!("CARGO_BIN_EXE_ms-emulator"))
        .args(["--account", &format!("{ID}:{KEY}"), "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "the second one never served");
    assert!(
        stderr.contains("state.db") && stderr.contains("in use by another process"),
        "{stderr}"
    );
    first.kill();
    // Once the first is gone (even killed), the file can be used again.
    let (mut again, _) = spawn_emulator(&state, None);
    again.kill();
}

/// A write that fails (here: the file size limit of the process, as a full disk would) is
/// never acknowledged: the request gets `InternalError`, the emulator exits 1 naming the file,
/// and every task acknowledged before is in the file when it is started again.
#[test]
fn a_failed_write_is_never_acknowledged_and_stops_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    // 600 KiB: room for the schema and a few dozen tasks, not for 400.
    let limited = r#"trap '' XFSZ; ulimit -f 600; exec "$0" "$@""#;
    let (child, addr) = spawn_emulator(&state, Some(limited));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (acked, refused) = rt.block_on(async {
        let c = client_at(addr);
        let mut acked = Vec::new();
        let mut refused = None;
        for i in 0..400 {
            let md5s: Vec<String> = (0..20).map(|j| md5(&format!("full-{i}-{j}"))).collect();
            let refs: Vec<&str> = md5s.iter().map(String::as_str).collect();
            let req = c.tc3_post_request(
                "CreateScanInstances",
                &create_params(&refs, "").to_string(),
                c.now(),
            );
            match c.send(req).await {
                Ok(r) if r.code().is_none() => {
                    acked.push(r.inner()["ItemId"].as_str().unwrap().to_owned());
                }
                Ok(r) => {
                    refused = Some((r.code().unwrap(), r.message()));
                    break;
                }
                Err(e) => panic!("request {i} not answered: {e}"),
            }
        }
        (acked, refused)
    });
    let (code, message) = refused.expect("a write failed before 400 tasks");
    assert_eq!(code, "InternalError", "{message}");
    assert!(!acked.is_empty());
    let out = child.wait_with_output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("state.db") && stderr.contains("cannot write"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (mut child, addr) = spawn_emulator(&state, None);
    rt.block_on(async {
        let c = client_at(addr);
        for item in &acked {
            let r = c.ok("DescribeScanResults", &json!({"ItemId": item})).await;
            assert_eq!(r["TotalCount"], 20, "{item}");
        }
        let listed = c.ok("DescribeScanInstances", &json!({})).await;
        assert_eq!(
            listed["TotalCount"],
            20 * acked.len(),
            "nothing unacknowledged stored"
        );
    });
    child.kill();
}

/// A callback attempt under way when shutdown starts is recorded before the file is closed:
/// after a restart the delivery is `Delivered`, not pending again.
#[tokio::test]
async fn a_delivery_finishing_during_shutdown_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    let (arrived_tx, arrived_rx) = tokio::sync::oneshot::channel::<()>();
    let arrived = Arc::new(Mutex::new(Some(arrived_tx)));
    let rx_task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let arrived = arrived.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let arrived = arrived.clone();
                    async move {
                        req.into_body().collect().await.unwrap();
                        if let Some(tx) = arrived.lock().unwrap().take() {
                            let _ = tx.send(());
                        }
                        // Answer only after the emulator has begun to shut down.
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                            Bytes::from_static(br#"{"Result":"ok"}"#),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let clock = Arc::new(ManualClock::new(T0_MS));
    let cfg = || {
        config(&clock)
            .with_state_file(&path)
            .with_callbacks(CallbackConfig::new(3, Duration::from_millis(20)))
    };
    let emu = start(cfg()).await;
    let c = Client::new(&emu, &clock);
    c.ok("CreateScanInstances", &create_params(&[&md5("late")], &url))
        .await;
    clock.advance(Duration::from_secs(1));
    c.ok("DescribeScanInstances", &json!({})).await;
    arrived_rx.await.unwrap();
    emu.close().await.unwrap();
    rx_task.abort();

    let emu = start(cfg()).await;
    let ds = emu.deliveries();
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].status, DeliveryStatus::Delivered, "{ds:?}");
    assert_eq!(ds[0].attempts, 1);
    emu.close().await.unwrap();
}

#[test]
fn the_state_written_by_one_request_is_in_the_file_before_its_reply() {
    // The reply is the acknowledgement: kill -9 right after it, and the task is there.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut items = Vec::new();
    for round in 0..3 {
        let (mut child, addr) = spawn_emulator(&state, None);
        let item = rt.block_on(async {
            let c = client_at(addr);
            let v = c
                .ok(
                    "CreateScanInstances",
                    &create_params(&[&md5(&format!("kill-{round}"))], ""),
                )
                .await;
            v["ItemId"].as_str().unwrap().to_owned()
        });
        child.kill(); // SIGKILL
        items.push(item);
    }
    let (mut child, addr) = spawn_emulator(&state, None);
    rt.block_on(async {
        let c = client_at(addr);
        for item in &items {
            let r = c.ok("DescribeScanResults", &json!({"ItemId": item})).await;
            assert_eq!(r["TotalCount"], 1, "{item}");
        }
        let listed: Value = c.ok("DescribeScanInstances", &json!({})).await;
        assert_eq!(listed["TotalCount"], 3);
    });
    child.kill();
}

/// Runs the binary with `--state path`; its exit code and stderr, or a failure when it has
/// not exited within 20 s (it is killed then, so a regression cannot hang the suite).
fn refused_at_start(path: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ms-emulator"))
        .args(["--account", "AKIDrefused:key", "--state"])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("--state {} hung at start", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `--state` path that is not a state file is refused at start, naming the file, and left
/// as it was: a FIFO is not opened (the open would block forever, deaf to SIGTERM), and a
/// file of other contents keeps its mode (it was narrowed to 0600 before being refused).
#[cfg(unix)]
#[test]
fn a_path_that_is_not_a_state_file_is_refused_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("state.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (code, stderr) = refused_at_start(&fifo);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("state.fifo") && stderr.contains("not a regular file"),
        "{stderr}"
    );

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "someone's notes\n").unwrap();
    std::fs::set_permissions(&notes, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, stderr) = refused_at_start(&notes);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("notes.txt") && stderr.contains("not an ms-emulator state file"),
        "{stderr}"
    );
    assert_eq!(mode(&notes), 0o644, "a refused file keeps its mode");
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "someone's notes\n"
    );

    let (code, stderr) = refused_at_start(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("a directory"), "{stderr}");
}

/// A JSON state file being migrated by one emulator (its lock held) is not migrated again by a
/// second one started meanwhile: that one is refused and the file left alone (two migrations
/// would rename two databases over the path, and the first emulator's acknowledged writes would
/// go to a deleted file). Once the lock is gone the migration runs.
#[test]
fn a_json_state_file_is_migrated_by_one_emulator_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let old =
        json!({"version": 1, "seq": 0, "accounts": {}, "tasks": {}, "scans": {}, "deliveries": []});
    let bytes = serde_json::to_vec(&old).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let held = std::fs::File::open(&path).unwrap();
    held.try_lock().unwrap();
    let (code, stderr) = refused_at_start(&path);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("state.json") && stderr.contains("in use by another process"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it was");
    assert_eq!(names_in(dir.path()), ["state.json"]);
    drop(held);
    let (mut emu, _) = spawn_emulator(&path, None);
    assert!(std::fs::read(&path).unwrap().starts_with(SQLITE_HEADER));
    emu.kill();
}
