//! Credential providers against local fakes of the CVM metadata service and STS, over real
//! HTTP on loopback: discovery, caching, refresh ahead of expiry, one refresh for many
//! concurrent callers, malformed replies, timeouts — and no secret in any error, `Debug`
//! output or log line.

mod fakes;
#[path = "support/log_buffer.rs"]
mod log_buffer;

use std::sync::Arc;
use std::time::Duration;

use fakes::{FakeMetadata, FakeSts, LONG_ID, LONG_KEY, Mode};
use log_buffer::LogBuffer;
use ms_transport::clock::Clock;
use ms_transport::{
    AssumeRoleProvider, Client, CredentialSource, CvmRoleProvider, DefaultChain, FakeClock,
    ProvideCredentials, Proxy, RetryConfig, StaticProvider, SystemClock, WebIdentityProvider,
};
use tracing_subscriber::fmt::format::FmtSpan;

fn now_clock() -> FakeClock {
    FakeClock::new(SystemClock::new().unix_seconds())
}

fn cvm(meta: &FakeMetadata) -> CvmRoleProvider {
    CvmRoleProvider::builder()
        .endpoint(meta.endpoint())
        .clock(Arc::new(meta.clock.clone()))
        .build()
        .expect("provider")
}

/// Loads `p` from `callers` tasks at once (`load`, through [`ProvideCredentials`]) and
/// asserts that each got the SecretId `expected`.
async fn load_concurrently<P>(p: &P, callers: usize, expected: &str)
where
    P: ProvideCredentials + Clone + 'static,
{
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move {
                p.provide_credentials()
                    .await
                    .map(|c| c.secret_id().to_owned())
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("join").expect("creds"), expected);
    }
}

/// An STS client for loopback: no proxy from the environment, quick retries.
fn loopback_client() -> ms_transport::ClientBuilder {
    Client::builder().proxy(Proxy::None).retry(RetryConfig {
        max_attempts: 2,
        ..RetryConfig::default()
    })
}

fn long_term() -> StaticProvider {
    StaticProvider::from_parts(LONG_ID, LONG_KEY, None).expect("creds")
}

const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/ci-scanner";

fn assume_role(sts: &FakeSts) -> ms_transport::credentials::AssumeRoleBuilder {
    AssumeRoleProvider::builder(ROLE_ARN)
        .source(long_term())
        .endpoint(sts.endpoint())
        .client(loopback_client())
        .clock(Arc::new(sts.clock.clone()))
}

/// Every secret the fakes hand out (and the long-term key).
fn secrets(upto: u32) -> Vec<String> {
    let mut v = vec![LONG_KEY.to_owned()];
    for n in 1..=upto {
        v.extend([
            fakes::metadata_key(n),
            fakes::metadata_token(n),
            fakes::sts_key(n),
            fakes::sts_token(n),
        ]);
    }
    v
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains("DO-NOT-LOG"), "a secret leaked in: {text}");
    for s in secrets(8) {
        assert!(!text.contains(&s), "secret {s:?} leaked in: {text}");
    }
}

#[tokio::test]
async fn cvm_role_is_discovered_cached_and_refreshed_before_expiry() {
    let meta = FakeMetadata::start(Some("ci-role"), 7200, now_clock()).await;
    let p = cvm(&meta);
    assert_eq!(
        p.discover().await.expect("discover").as_deref(),
        Some("ci-role")
    );
    let c = p.load().await.expect("first");
    assert_eq!(c.secret_id(), "AKIDcvm1");
    assert_eq!(c.secret_key(), fakes::metadata_key(1));
    assert_eq!(c.token(), Some(fakes::metadata_token(1).as_str()));
    assert_eq!(meta.hits(), (1, 1), "one discovery, one fetch");

    meta.clock.advance(Duration::from_secs(7200 - 301));
    assert_eq!(p.load().await.expect("cached").secret_id(), "AKIDcvm1");
    assert_eq!(meta.hits(), (1, 1), "still fresh: no request");

    meta.clock.advance(Duration::from_secs(1));
    assert_eq!(p.load().await.expect("refreshed").secret_id(), "AKIDcvm2");
    assert_eq!(
        meta.hits(),
        (1, 2),
        "refreshed 300 s ahead, role not asked again"
    );
    let cached = p.cache().cached().expect("cached");
    assert_eq!(cached.expires_at(), meta.clock.unix_seconds() + 7200);
}

#[tokio::test]
async fn cvm_role_is_discovered_again_when_the_role_changes() {
    let meta = FakeMetadata::start(Some("old-role"), 600, now_clock()).await;
    let p = cvm(&meta);
    assert_eq!(p.load().await.expect("first").secret_id(), "AKIDcvm1");
    meta.set_role(Some("new-role"));
    meta.clock.advance(Duration::from_secs(600));
    let e = p.load().await.expect_err("old role unknown");
    assert!(
        e.message().contains("old-role") && e.message().contains("404"),
        "{e}"
    );
    let c = p.load().await.expect("rediscovered");
    assert_eq!(c.secret_id(), "AKIDcvm3");
    assert_eq!(meta.hits(), (2, 3));
    assert_eq!(
        p.discover().await.expect("role").as_deref(),
        Some("new-role")
    );

    // A fixed role name is never discovered.
    let fixed = CvmRoleProvider::builder()
        .endpoint(meta.endpoint())
        .role("new-role")
        .build()
        .expect("fixed");
    fixed.load().await.expect("fixed role");
    assert_eq!(meta.hits().0, 2);
}

#[tokio::test]
async fn cvm_role_absent_when_no_role_or_no_metadata_service() {
    let meta = FakeMetadata::start(None, 600, now_clock()).await;
    let p = cvm(&meta);
    assert_eq!(p.discover().await.expect("no role"), None);
    let e = p.load().await.expect_err("no role");
    assert!(e.message().contains("no role is bound"), "{e}");

    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let p = CvmRoleProvider::builder()
        .endpoint(format!("http://{addr}/latest/meta-data/"))
        .timeout(Duration::from_millis(500))
        .build()
        .expect("provider");
    assert_eq!(p.discover().await.expect("unreachable"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_callers_wait_on_one_metadata_request() {
    let meta = FakeMetadata::start(Some("ci-role"), 7200, now_clock()).await;
    meta.set_mode(Mode::Delay(Duration::from_millis(300)));
    let p = cvm(&meta);
    load_concurrently(&p, 50, "AKIDcvm1").await;
    assert_eq!(meta.hits(), (1, 1), "50 callers, one fetch");

    // Expiry reached: again one refresh for all.
    meta.clock.advance(Duration::from_secs(7200));
    load_concurrently(&p, 50, "AKIDcvm2").await;
    assert_eq!(meta.hits(), (1, 2));
}

#[tokio::test]
async fn malformed_metadata_replies_and_timeouts_are_clear_errors_without_secrets() {
    let meta = FakeMetadata::start(Some("ci-role"), 7200, now_clock()).await;
    let leak = fakes::metadata_key(1);
    let cases = [
        (
            Mode::Raw(200, "<html>oops</html>".into()),
            "not JSON",
            false,
        ),
        (
            Mode::Raw(
                200,
                format!(r#"{{"Code":"InternalError","TmpSecretKey":"{leak}"}}"#),
            ),
            "InternalError",
            false,
        ),
        (
            Mode::Raw(
                200,
                format!(
                    r#"{{"Code":"Success","TmpSecretId":"AKID","TmpSecretKey":"{leak}","ExpiredTime":1}}"#
                ),
            ),
            "Token",
            false,
        ),
        (
            Mode::Raw(
                200,
                format!(
                    r#"{{"Code":"Success","TmpSecretId":"AKID","TmpSecretKey":"{leak}","Token":"t","ExpiredTime":1000}}"#
                ),
            ),
            "expired",
            false,
        ),
        // A server error or no answer may pass: nothing was sent, try again.
        (Mode::Raw(500, format!("internal {leak}")), "HTTP 500", true),
        (Mode::Hang, "no reply within", true),
    ];
    for (mode, expected, may_pass) in cases {
        meta.set_mode(mode.clone());
        let p = CvmRoleProvider::builder()
            .endpoint(meta.endpoint())
            .timeout(Duration::from_millis(300))
            .clock(Arc::new(meta.clock.clone()))
            .build()
            .expect("provider");
        let e = p.load().await.expect_err("malformed");
        let shown = format!("{e} | {e:?} | {p:?}");
        assert!(shown.contains(expected), "{mode:?}: {shown}");
        assert_eq!(e.kind(), ms_transport::ErrorKind::Credentials);
        assert_eq!(e.is_safe_to_retry(), may_pass, "{mode:?}: {shown}");
        assert!(!e.is_outcome_unknown(), "{mode:?}: nothing was sent");
        assert_no_secret(&shown);
    }
}

#[tokio::test]
async fn assume_role_is_signed_for_sts_and_sends_every_parameter() {
    let sts = FakeSts::start(now_clock()).await;
    let policy = r#"{"version":"2.0","statement":[{"effect":"allow","action":["ms:DescribeScanResults"],"resource":["*"]}]}"#;
    let p = assume_role(&sts)
        .session_name("nightly-scan")
        .duration(Duration::from_secs(900))
        .policy(policy)
        .external_id("ext-id-42")
        .build()
        .expect("provider");
    let c = p.load().await.expect("assumed");
    assert_eq!(c.secret_id(), "AKIDsts1");
    assert_eq!(c.secret_key(), fakes::sts_key(1));
    assert_eq!(c.token(), Some(fakes::sts_token(1).as_str()));

    let calls = sts.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.header("x-tc-action"), Some("AssumeRole"));
    assert_eq!(call.header("x-tc-region"), Some("ap-guangzhou"));
    let auth = call.header("authorization").expect("signed");
    assert!(
        auth.starts_with("TC3-HMAC-SHA256 Credential=AKIDlongterm/")
            && auth.contains("/sts/tc3_request"),
        "{auth}"
    );
    let params = sts.params(0);
    assert_eq!(params["RoleArn"], ROLE_ARN);
    assert_eq!(params["RoleSessionName"], "nightly-scan");
    assert_eq!(params["DurationSeconds"], 900);
    assert_eq!(params["ExternalId"], "ext-id-42");
    let encoded = params["Policy"].as_str().expect("policy");
    assert!(!encoded.contains('{'), "URL-encoded: {encoded}");
    let decoded = tc3_sign::form_urldecode(&format!("p={encoded}")).expect("decode");
    assert_eq!(decoded[0].1, policy);

    // Defaults: a generated session name, 7200 s, no Policy or ExternalId.
    let p = assume_role(&sts).build().expect("defaults");
    p.load().await.expect("assumed");
    let params = sts.params(1);
    assert!(
        params["RoleSessionName"]
            .as_str()
            .is_some_and(|s| s.starts_with("ms-rust-sdk-")),
        "{params:?}"
    );
    assert_eq!(params["DurationSeconds"], 7200);
    assert!(!params.contains_key("Policy") && !params.contains_key("ExternalId"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_refreshes_once_for_many_callers_ahead_of_expiry() {
    let sts = FakeSts::start(now_clock()).await;
    sts.set_mode(Mode::Delay(Duration::from_millis(300)));
    let p = assume_role(&sts)
        .duration(Duration::from_secs(3600))
        .build()
        .expect("provider");
    let run = |expected: &'static str| load_concurrently(&p, 40, expected);
    run("AKIDsts1").await;
    assert_eq!(sts.calls().len(), 1, "40 callers, one AssumeRole");
    sts.clock.advance(Duration::from_secs(3600 - 301));
    run("AKIDsts1").await;
    assert_eq!(sts.calls().len(), 1);
    sts.clock.advance(Duration::from_secs(2));
    run("AKIDsts2").await;
    assert_eq!(
        sts.calls().len(),
        2,
        "refreshed once, 300 s ahead of expiry"
    );
}

#[tokio::test]
async fn sts_failures_are_reported_with_the_code_and_no_secret() {
    let sts = FakeSts::start(now_clock()).await;
    // Wrong long-term key: STS refuses the signature.
    let p = AssumeRoleProvider::builder(ROLE_ARN)
        .source(StaticProvider::from_parts(LONG_ID, "wrong-key-DO-NOT-LOG", None).expect("c"))
        .endpoint(sts.endpoint())
        .client(loopback_client())
        .build()
        .expect("provider");
    let e = p.load().await.expect_err("refused");
    let shown = format!("{e} | {e:?} | {p:?}");
    assert!(shown.contains("AuthFailure.SignatureFailure"), "{shown}");
    assert!(shown.contains(ROLE_ARN), "{shown}");
    assert!(!shown.contains("wrong-key-DO-NOT-LOG"), "{shown}");
    assert!(
        !e.is_safe_to_retry(),
        "a refused signature is an answer: {shown}"
    );

    let leak = fakes::sts_key(1);
    for (mode, expected, may_pass) in [
        (
            Mode::Raw(
                200,
                format!(
                    r#"{{"Response":{{"Credentials":{{"TmpSecretId":"AKIDx","TmpSecretKey":"{leak}"}},"ExpiredTime":4000000000,"RequestId":"r"}}}}"#
                ),
            ),
            "no Token",
            false,
        ),
        (
            Mode::Raw(
                200,
                format!(
                    r#"{{"Response":{{"Credentials":{{"TmpSecretId":"AKIDx","TmpSecretKey":"{leak}","Token":"{}"}},"RequestId":"r"}}}}"#,
                    fakes::sts_token(1)
                ),
            ),
            "ExpiredTime",
            false,
        ),
        (
            // Truncated in the middle of the key.
            Mode::Raw(
                200,
                format!(
                    r#"{{"Response":{{"Credentials":{{"TmpSecretId":"AKIDx","TmpSecretKey":"{leak}"#
                ),
            ),
            "Decode",
            true,
        ),
        // STS down or not answering: the credentials may come later (exit 3 in `ms`).
        (Mode::Raw(503, "busy".to_owned()), "503", true),
        (Mode::Hang, "Timeout", true),
    ] {
        sts.set_mode(mode.clone());
        let p = AssumeRoleProvider::builder(ROLE_ARN)
            .source(long_term())
            .endpoint(sts.endpoint())
            .client(
                loopback_client()
                    .request_timeout(Duration::from_millis(300))
                    .retry(RetryConfig {
                        max_attempts: 1,
                        ..RetryConfig::default()
                    }),
            )
            .build()
            .expect("provider");
        let e = p.load().await.expect_err("malformed");
        let shown = format!("{e} | {e:?}");
        assert!(shown.contains(expected), "{mode:?}: {shown}");
        assert_eq!(e.kind(), ms_transport::ErrorKind::Credentials);
        assert_eq!(e.is_safe_to_retry(), may_pass, "{mode:?}: {shown}");
        assert_no_secret(&shown);
    }
}

const OIDC_TOKEN_1: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-one.DO-NOT-LOG";
const OIDC_TOKEN_2: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-two.DO-NOT-LOG";

#[tokio::test]
async fn web_identity_is_unsigned_and_reads_the_token_file_at_every_refresh() {
    let sts = FakeSts::start(now_clock()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{OIDC_TOKEN_1}\n")).expect("write");
    let p = WebIdentityProvider::builder()
        .region("ap-shanghai")
        .provider_id("tke-oidc-provider")
        .role_arn(ROLE_ARN)
        .token_file(&token_file)
        .duration(Duration::from_secs(3600))
        .endpoint(sts.endpoint())
        .client(loopback_client())
        .clock(Arc::new(sts.clock.clone()))
        .build()
        .expect("provider");
    let c = p.load().await.expect("assumed");
    assert_eq!(c.secret_id(), "AKIDsts1");
    assert_eq!(c.token(), Some(fakes::sts_token(1).as_str()));
    let call = &sts.calls()[0];
    assert_eq!(
        call.header("x-tc-action"),
        Some("AssumeRoleWithWebIdentity")
    );
    assert_eq!(call.header("authorization"), Some("SKIP"));
    assert_eq!(call.header("x-tc-region"), Some("ap-shanghai"));
    assert_eq!(call.header("x-tc-token"), None);
    let params = sts.params(0);
    assert_eq!(params["ProviderId"], "tke-oidc-provider");
    assert_eq!(params["WebIdentityToken"], OIDC_TOKEN_1);
    assert_eq!(params["RoleArn"], ROLE_ARN);
    assert_eq!(params["DurationSeconds"], 3600);
    let first_session = params["RoleSessionName"].as_str().expect("name").to_owned();
    assert!(first_session.starts_with("ms-rust-sdk-"), "{first_session}");

    // The kubelet rotates the token; the refresh sends the new one.
    std::fs::write(&token_file, OIDC_TOKEN_2).expect("write");
    assert_eq!(p.load().await.expect("cached").secret_id(), "AKIDsts1");
    sts.clock.advance(Duration::from_secs(3600 - 299));
    assert_eq!(p.load().await.expect("refreshed").secret_id(), "AKIDsts2");
    assert_eq!(sts.params(1)["WebIdentityToken"], OIDC_TOKEN_2);

    // A missing token file is an error naming it, never quoting a token.
    std::fs::remove_file(&token_file).expect("rm");
    sts.clock.advance(Duration::from_secs(3600));
    let e = p.load().await.expect_err("no token file");
    let shown = format!("{e} | {e:?} | {p:?}");
    assert!(
        shown.contains("token file") && shown.contains("token"),
        "{shown}"
    );
    assert!(
        !shown.contains(OIDC_TOKEN_1) && !shown.contains(OIDC_TOKEN_2),
        "{shown}"
    );
}

#[tokio::test]
async fn default_chain_ends_with_the_tke_oidc_role() {
    let home = tempfile::tempdir().expect("tmp");
    let token_file = home.path().join("oidc-token");
    std::fs::write(&token_file, OIDC_TOKEN_1).expect("write");
    let sts = FakeSts::start(now_clock()).await;
    let no_role = FakeMetadata::start(None, 1, now_clock()).await;
    let vars = vec![
        ("HOME", home.path().to_string_lossy().into_owned()),
        ("TKE_REGION", "ap-guangzhou".to_owned()),
        ("TKE_PROVIDER_ID", "tke-oidc".to_owned()),
        (
            "TKE_WEB_IDENTITY_TOKEN_FILE",
            token_file.to_string_lossy().into_owned(),
        ),
        ("TKE_ROLE_ARN", ROLE_ARN.to_owned()),
    ];
    let chain = DefaultChain::with_lookup(env(vars.clone()))
        .system_profile_file(None)
        .cvm_role(cvm(&no_role))
        .sts_endpoint(sts.endpoint())
        .sts_client(loopback_client);
    assert_eq!(
        chain.resolve().await.expect("oidc"),
        CredentialSource::WebIdentity
    );
    assert_eq!(chain.load().await.expect("creds").secret_id(), "AKIDsts1");
    assert_eq!(no_role.hits(), (1, 0), "the CVM role was tried first");

    // Some TKE variables but not all: an error naming the missing ones.
    let partial: Vec<_> = vars
        .into_iter()
        .filter(|(k, _)| *k != "TKE_PROVIDER_ID")
        .collect();
    let e = DefaultChain::with_lookup(env(partial))
        .system_profile_file(None)
        .without_cvm_role()
        .load()
        .await
        .expect_err("partial");
    assert!(e.message().contains("TKE_PROVIDER_ID"), "{e}");
}

fn env(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> + Send + Sync {
    move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
}

#[tokio::test]
async fn default_chain_order_env_profile_tccli_cvm() {
    let home = tempfile::tempdir().expect("tmp");
    let h = home.path().to_string_lossy().into_owned();
    let meta = FakeMetadata::start(Some("ci-role"), 7200, now_clock()).await;
    let sts = FakeSts::start(now_clock()).await;
    let chain = |vars: Vec<(&'static str, String)>| {
        let mut vars = vars;
        vars.push(("HOME", h.clone()));
        DefaultChain::with_lookup(env(vars))
            .system_profile_file(None)
            .cvm_role(cvm(&meta))
            .sts_endpoint(sts.endpoint())
            .sts_client(loopback_client)
    };

    // Nothing but the metadata service: the CVM role.
    let c = chain(vec![]);
    assert_eq!(c.resolve().await.expect("cvm"), CredentialSource::CvmRole);
    assert_eq!(c.load().await.expect("cvm").secret_id(), "AKIDcvm1");

    // tccli's file comes before the CVM role.
    std::fs::create_dir_all(home.path().join(".tccli")).expect("mkdir");
    std::fs::write(
        home.path().join(".tccli/default.credential"),
        r#"{"secretId":"AKIDtccli","secretKey":"k"}"#,
    )
    .expect("write");
    let c = chain(vec![]);
    assert_eq!(c.resolve().await.expect("tccli"), CredentialSource::Tccli);
    assert_eq!(c.load().await.expect("tccli").secret_id(), "AKIDtccli");

    // The profile file before tccli.
    std::fs::create_dir_all(home.path().join(".tencentcloud")).expect("mkdir");
    std::fs::write(
        home.path().join(".tencentcloud/credentials"),
        "[default]\nsecret_id = AKIDprofile\nsecret_key = k\n",
    )
    .expect("write");
    let c = chain(vec![]);
    assert_eq!(
        c.resolve().await.expect("profile"),
        CredentialSource::ProfileFile
    );
    assert_eq!(c.load().await.expect("profile").secret_id(), "AKIDprofile");

    // The environment first.
    let vars = || {
        vec![
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv".to_owned()),
            ("TENCENTCLOUD_SECRET_KEY", "k".to_owned()),
        ]
    };
    let c = chain(vars());
    assert_eq!(
        c.resolve().await.expect("env"),
        CredentialSource::Environment
    );
    assert_eq!(c.load().await.expect("env").secret_id(), "AKIDenv");

    // With TENCENTCLOUD_ROLE_ARN, the role is assumed with the environment's credentials.
    let c = chain(vec![
        ("TENCENTCLOUD_SECRET_ID", LONG_ID.to_owned()),
        ("TENCENTCLOUD_SECRET_KEY", LONG_KEY.to_owned()),
        ("TENCENTCLOUD_ROLE_ARN", ROLE_ARN.to_owned()),
        ("TENCENTCLOUD_ROLE_SESSION_NAME", "from-env".to_owned()),
    ]);
    assert_eq!(
        c.resolve().await.expect("assume"),
        CredentialSource::EnvironmentAssumeRole
    );
    assert_eq!(c.load().await.expect("assume").secret_id(), "AKIDsts1");
    assert_eq!(sts.params(0)["RoleSessionName"], "from-env");
}

#[tokio::test]
async fn default_chain_stops_at_a_broken_source_and_lists_absent_ones() {
    let home = tempfile::tempdir().expect("tmp");
    let h = home.path().to_string_lossy().into_owned();
    let meta = FakeMetadata::start(Some("ci-role"), 7200, now_clock()).await;
    std::fs::create_dir_all(home.path().join(".tencentcloud")).expect("mkdir");
    let file = home.path().join(".tencentcloud/credentials");
    std::fs::write(&file, "[default]\nsecret_id = AKIDp\n").expect("write");
    let chain = DefaultChain::with_lookup(env(vec![("HOME", h.clone())]))
        .system_profile_file(None)
        .cvm_role(cvm(&meta));
    let e = chain.load().await.expect_err("broken profile");
    assert!(e.message().contains("secret_key"), "{e}");
    assert_eq!(meta.hits(), (0, 0), "the chain stopped before the CVM role");

    // A named profile that does not exist is an error too.
    std::fs::write(&file, "[default]\nsecret_id = AKIDp\nsecret_key = k\n").expect("write");
    let chain = DefaultChain::with_lookup(env(vec![("HOME", h.clone())]))
        .system_profile_file(None)
        .profile("nope")
        .without_cvm_role();
    let e = chain.load().await.expect_err("no such profile");
    assert!(e.message().contains("[nope]"), "{e}");

    // Nothing anywhere: every step says why.
    let empty = tempfile::tempdir().expect("tmp");
    let chain = DefaultChain::with_lookup(env(vec![(
        "HOME",
        empty.path().to_string_lossy().into_owned(),
    )]))
    .system_profile_file(None)
    .cvm_role(
        CvmRoleProvider::builder()
            .endpoint(FakeMetadata::start(None, 1, now_clock()).await.endpoint())
            .build()
            .expect("cvm"),
    );
    let e = chain.load().await.expect_err("nothing");
    let m = e.message();
    for part in [
        "TENCENTCLOUD_SECRET_ID",
        ".tencentcloud",
        ".tccli",
        "CVM role",
    ] {
        assert!(m.contains(part), "{part}: {m}");
    }
}

#[test]
fn trace_output_of_refreshes_and_failures_contains_no_secret() {
    let buffer = LogBuffer::default();
    buffer.trace(FmtSpan::NONE, async {
        let meta = FakeMetadata::start(Some("ci-role"), 1000, now_clock()).await;
        let p = cvm(&meta);
        p.load().await.expect("cvm");
        meta.clock.advance(Duration::from_secs(800));
        p.load().await.expect("refresh");
        meta.set_mode(Mode::Raw(500, "x".into()));
        meta.clock.advance(Duration::from_secs(900));
        // The refresh fails: the cached credentials are served and a warning logged.
        p.load().await.expect("stale but usable");

        let sts = FakeSts::start(now_clock()).await;
        let r = assume_role(&sts)
            .duration(Duration::from_secs(1000))
            .build()
            .expect("sts");
        r.load().await.expect("assumed");
        sts.clock.advance(Duration::from_secs(900));
        r.load().await.expect("refreshed");
        sts.set_mode(Mode::Raw(
            200,
            format!(
                r#"{{"Response":{{"Credentials":{{"TmpSecretKey":"{}"}},"RequestId":"r"}}}}"#,
                fakes::sts_key(3)
            ),
        ));
        sts.clock.advance(Duration::from_secs(1000));
        r.load().await.expect_err("malformed");
        tracing::info!(provider = ?r, cvm = ?p, "providers");

        // The OIDC token travels in the request body, which is traced.
        let sts = FakeSts::start(now_clock()).await;
        let oidc = WebIdentityProvider::builder()
            .region("ap-guangzhou")
            .provider_id("tke-oidc")
            .role_arn(ROLE_ARN)
            .token(OIDC_TOKEN_1)
            .endpoint(sts.endpoint())
            .client(loopback_client())
            .build()
            .expect("oidc");
        oidc.load().await.expect("oidc");
        tracing::info!(provider = ?oidc, "oidc");
    });
    let out = buffer.text();
    assert!(out.contains("temporary credentials refreshed"), "{out}");
    assert!(out.contains("refreshing credentials failed"), "{out}");
    assert!(out.contains("AssumeRole"), "the STS call is traced: {out}");
    assert!(
        out.contains("WebIdentityToken"),
        "the OIDC request body is traced (redacted): {out}"
    );
    assert_no_secret(&out);
}

#[tokio::test]
async fn a_named_profile_is_looked_for_in_the_profile_file_then_tccli_and_nowhere_else() {
    let home = tempfile::tempdir().expect("tmp");
    let h = home.path().to_string_lossy().into_owned();
    let meta = FakeMetadata::start(Some("ci-role"), 7200, now_clock()).await;
    std::fs::create_dir_all(home.path().join(".tencentcloud")).expect("mkdir");
    std::fs::write(
        home.path().join(".tencentcloud/credentials"),
        "[default]\nsecret_id = AKIDprofiledefault\nsecret_key = k\n",
    )
    .expect("write");
    std::fs::create_dir_all(home.path().join(".tccli")).expect("mkdir");
    std::fs::write(
        home.path().join(".tccli/ci.credential"),
        r#"{"secretId":"AKIDtccli-ci","secretKey":"k"}"#,
    )
    .expect("write");
    let chain = |profile: &str| {
        DefaultChain::with_lookup(env(vec![("HOME", h.clone())]))
            .system_profile_file(None)
            .cvm_role(cvm(&meta))
            .profile(profile)
    };

    // `ci` is not in the profile file (which has only [default]) but is tccli's.
    let c = chain("ci");
    assert_eq!(c.resolve().await.expect("tccli"), CredentialSource::Tccli);
    assert_eq!(c.load().await.expect("tccli").secret_id(), "AKIDtccli-ci");

    // A profile nobody has: an error naming where it was looked for; the instance's role is
    // not taken instead.
    let e = chain("typo").load().await.expect_err("no such profile");
    let m = e.message();
    assert!(m.contains("\"typo\"") && m.contains("[typo]"), "{m}");
    assert!(m.contains("typo.credential"), "{m}");
    assert_eq!(meta.hits(), (0, 0), "the CVM role was not tried");

    // Without a named profile the chain goes on as before.
    let c = chain("default");
    assert_eq!(
        c.load().await.expect("profile").secret_id(),
        "AKIDprofiledefault"
    );
}
