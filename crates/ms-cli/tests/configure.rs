//! `ms configure` writes a 0600 profile that the credential chain then uses.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{Ms, TestEmulator};

#[test]
fn configure_writes_a_private_profile_used_by_later_commands() {
    let emu = TestEmulator::start();
    let home_dir = tempfile::tempdir().unwrap();
    let home = home_dir.path().to_owned();
    let input = format!("{}\n{}\n", emu.secret_id, emu.secret_key);
    let out = Ms::new()
        .env("HOME", &home)
        .stdin(input)
        .run_line("--profile emu configure -o json")
        .ok();
    let path = home.join(".tencentcloud/credentials");
    assert_eq!(out.json()["Path"], path.to_str().unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[emu]"));
    assert!(text.contains(&emu.secret_id));

    // A second profile keeps the first.
    Ms::new()
        .env("HOME", &home)
        .run_line("configure --secret-id AKIDother --secret-key otherkey")
        .ok();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[emu]") && text.contains("[default]"));

    // The profile is used when the environment has no credentials.
    let out = Ms::new()
        .env("HOME", &home)
        .env("MS_ENDPOINT", &emu.url)
        .run_line("--profile emu scan list -o json")
        .ok();
    assert_eq!(out.json()["TotalCount"], 0);
    // The default profile has a SecretId the emulator does not know.
    let out = Ms::new()
        .env("HOME", &home)
        .env("MS_ENDPOINT", &emu.url)
        .run_line("scan list")
        .expect_code(1);
    out.assert_stderr("AuthFailure");
}

#[test]
fn configure_honours_tencentcloud_credentials_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sub/creds");
    Ms::new()
        .env("TENCENTCLOUD_CREDENTIALS_FILE", &file)
        .run_line("configure --secret-id AKIDx --secret-key k")
        .ok();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
