//! The real `ms` binary finds its credentials through the default chain: tccli's files
//! (static keys, and a `role-arn` profile assumed through the STS endpoint of tccli's
//! configure file, whose region and `ms.endpoint` it also uses) against the real emulator
//! and a loopback STS fake — and never logs them.

mod common;
#[path = "../../ms-transport/tests/fakes/mod.rs"]
mod fakes;

use std::path::Path;

use common::{Ms, TestEmulator};
use fakes::{FakeSts, LONG_ID, LONG_KEY};
use ms_emulator::EmulatorConfig;
use ms_transport::FakeClock;
use ms_transport::clock::Clock;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn tccli_profile_keys_are_used_when_nothing_else_is_configured() {
    let emu = TestEmulator::start();
    let ms = || Ms::new().env("MS_ENDPOINT", &emu.url);
    // tccli's credential file of a profile holding the emulator's keys.
    let ci_keys = format!(
        r#"{{"secretId":"{}","secretKey":"{}"}}"#,
        emu.secret_id, emu.secret_key
    );

    let run = ms();
    write(&run.home().join(".tccli/ci.credential"), &ci_keys);
    run.env("TCCLI_PROFILE", "ci")
        .run_line("-o json scan list")
        .ok();

    // `--profile ci` names tccli's profile too.
    let run = ms();
    write(&run.home().join(".tccli/ci.credential"), &ci_keys);
    run.run_line("--profile ci -o json scan list").ok();

    // ... also when the profile file (e.g. written by `ms configure`) has only [default].
    let run = ms();
    write(
        &run.home().join(".tencentcloud/credentials"),
        "[default]\nsecret_id = AKIDotheraccount\nsecret_key = other-key\n",
    );
    write(&run.home().join(".tccli/ci.credential"), &ci_keys);
    run.run_line("--profile ci -o json scan list").ok();
    // A profile found nowhere is a usage error naming it.
    let out = ms().run_line("--profile cj scan list").expect_code(2);
    out.assert_stderr("\"cj\" not found");

    // Wrong keys in the file: the service refuses them (the file was read, not skipped).
    let run = ms();
    write(
        &run.home().join(".tccli/default.credential"),
        r#"{"secretId":"AKIDnotanaccount","secretKey":"wrong-key-DO-NOT-LOG"}"#,
    );
    let out = run.run_line("scan list").expect_code(1);
    out.assert_stderr("AuthFailure");
    assert!(
        !out.stderr.contains("wrong-key-DO-NOT-LOG"),
        "{}",
        out.stderr
    );

    // A malformed file stops the chain with an error naming it.
    let run = ms();
    write(&run.home().join(".tccli/default.credential"), "{secretId");
    let out = run.run_line("scan list").expect_code(2);
    assert!(
        out.stderr.contains("default.credential") && out.stderr.contains("not JSON"),
        "{}",
        out.stderr
    );
}

#[test]
fn tccli_role_arn_profile_is_assumed_through_the_configured_sts_endpoint() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let clock = FakeClock::new(ms_transport::SystemClock::new().unix_seconds());
    let sts = rt.block_on(FakeSts::start(clock));
    // The emulator knows the temporary credentials STS hands out first.
    let mut config = EmulatorConfig::demo();
    config.accounts = vec![("AKIDsts1".to_owned(), fakes::sts_key(1))];
    let emu = TestEmulator::with_config(config);

    // No MS_ENDPOINT: the endpoint comes from tccli's configure file (`ms.endpoint`).
    let run = Ms::new();
    let dir = run.home().join(".tccli");
    write(
        &dir.join("default.credential"),
        &format!(
            r#"{{"secretId":"{LONG_ID}","secretKey":"{LONG_KEY}","role-arn":"qcs::cam::uin/100000000001:roleName/ci","role-session-name":"ms-e2e"}}"#
        ),
    );
    write(
        &dir.join("default.configure"),
        &format!(
            r#"{{"_sys_param":{{"region":"ap-guangzhou","output":"json"}},"ms":{{"endpoint":"{}","version":"2018-04-08"}},"sts":{{"endpoint":"{}"}}}}"#,
            emu.url,
            sts.endpoint()
        ),
    );
    let out = run.run_line("-vv -o json scan list").ok();

    let calls = sts.calls();
    assert_eq!(calls.len(), 1, "one AssumeRole for the whole run");
    let params = sts.params(0);
    assert_eq!(params["RoleSessionName"], "ms-e2e");
    assert_eq!(params["RoleArn"], "qcs::cam::uin/100000000001:roleName/ci");
    out.assert_stderr("credentials source chosen");
    for secret in [LONG_KEY.to_owned(), fakes::sts_key(1), fakes::sts_token(1)] {
        assert!(
            !out.stderr.contains(&secret),
            "{secret} in:\n{}",
            out.stderr
        );
    }
    drop(emu);
    drop(sts);
    rt.shutdown_background();
}
