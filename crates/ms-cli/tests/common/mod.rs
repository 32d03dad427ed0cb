//! Shared test helpers: an emulator running in the test process, `ms emulator serve` in
//! a child process, a runner for the built `ms` binary, manifests and batches of apps.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ms_emulator::{Emulator, EmulatorConfig};

/// An emulator served from the test process on 127.0.0.1:0 (plain HTTP).
pub struct TestEmulator {
    rt: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
    pub url: String,
    pub secret_id: String,
    pub secret_key: String,
}

impl TestEmulator {
    /// The demo configuration with short scans.
    pub fn start() -> Self {
        Self::with_config(EmulatorConfig::demo().with_scan_duration(Duration::from_millis(300)))
    }

    /// A given configuration.
    pub fn with_config(config: EmulatorConfig) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = rt
            .block_on(Emulator::start(config, "127.0.0.1:0".parse().unwrap()))
            .expect("emulator starts");
        let (secret_id, secret_key) = emulator.accounts()[0].clone();
        TestEmulator {
            url: emulator.base_url().to_owned(),
            emulator: Some(emulator),
            rt,
            secret_id,
            secret_key,
        }
    }

    /// Callback deliveries the emulator recorded.
    pub fn deliveries(&self) -> Vec<ms_emulator::CallbackDelivery> {
        self.emulator.as_ref().unwrap().deliveries()
    }

    /// `ms scan submit --manifest MANIFEST` then `extra`, against this emulator.
    pub fn submit(&self, manifest: &Path, extra: &[&str]) -> Run {
        self.ms().run(submit_args(manifest, extra))
    }

    /// `ms` with this emulator's endpoint and credentials in the environment.
    pub fn ms(&self) -> Ms {
        Ms::new()
            .env("MS_ENDPOINT", &self.url)
            .env("TENCENTCLOUD_SECRET_ID", &self.secret_id)
            .env("TENCENTCLOUD_SECRET_KEY", &self.secret_key)
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        if let Some(e) = self.emulator.take() {
            self.rt.block_on(e.shutdown());
        }
    }
}

/// How long one run of `ms` may take before the test kills it and fails (a bound so a
/// hang fails the test instead of blocking the run; not a performance assertion).
pub const RUN_LIMIT: Duration = Duration::from_secs(300);

/// A command line for the `ms` binary with a clean environment.
pub struct Ms {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    limit: Duration,
    _home: tempfile::TempDir,
}

/// What a run produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout parsed as JSON Lines, one value a line.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Exit code 0.
    pub fn ok(self) -> Self {
        self.expect_code(0)
    }

    /// Panics with stdout unless stdout contains `text`.
    #[track_caller]
    pub fn assert_stdout(&self, text: &str) -> &Self {
        assert!(self.stdout.contains(text), "{}", self.stdout);
        self
    }

    /// Panics with stderr unless stderr contains `text`.
    #[track_caller]
    pub fn assert_stderr(&self, text: &str) -> &Self {
        assert!(self.stderr.contains(text), "{}", self.stderr);
        self
    }
}

impl Ms {
    /// The binary with HOME in a fresh temporary directory, no credentials and no
    /// `XDG_STATE_HOME` (so default journals stay in that HOME).
    pub fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ms"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("TENCENTCLOUD_")
                || k.starts_with("TCCLI_")
                || k.starts_with("TKE_")
                || k.starts_with("MS_")
                // The default journals go under HOME, never the user's state directory.
                || k == "XDG_STATE_HOME"
                || k.ends_with("_PROXY")
                || k.ends_with("_proxy")
            {
                cmd.env_remove(&k);
            }
        }
        cmd.env("HOME", home.path())
            .env("NO_COLOR", "1")
            .current_dir(workspace_root());
        Ms {
            cmd,
            stdin: None,
            limit: RUN_LIMIT,
            _home: home,
        }
    }

    /// The temporary HOME.
    pub fn home(&self) -> &Path {
        self._home.path()
    }

    /// Sets an environment variable.
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }

    /// Feeds standard input.
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    /// Changes the bound on the run's duration (default [`RUN_LIMIT`]).
    pub fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Runs with these arguments; kills the process and fails the test if it is still
    /// running after the limit.
    pub fn run<I, S>(self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.spawn(args).finish()
    }

    /// Starts with these arguments, its output read in the background; see
    /// [`Running::finish`]. The process is killed if the [`Running`] is dropped first.
    pub fn spawn<I, S>(mut self, args: I) -> Running
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        use std::io::Read;
        self.cmd.args(args);
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = self.cmd.spawn().expect("ms starts");
        if let Some(data) = self.stdin.take() {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = stdin.write_all(&data);
            });
        }
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                buf
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        // Only the arguments: the environment holds the test credentials.
        let args = self.cmd.get_args().map(|a| a.to_owned()).collect();
        Running {
            child,
            stdout: Some(stdout),
            stderr: Some(stderr),
            started: Instant::now(),
            limit: self.limit,
            args,
            _home: self._home,
        }
    }

    /// [`Ms::run`] with the arguments of `line`, split at whitespace (no quoting: for
    /// literal argument lists).
    pub fn run_line(self, line: &str) -> Run {
        self.run(line.split_whitespace())
    }

    /// Runs `bash -c script` instead of `ms` (the script runs `ms` itself, by path), with
    /// this command's environment, directory, stdin and limit.
    pub fn bash(self, script: &str) -> Run {
        self.bash_with(script, std::iter::empty::<&str>())
    }

    /// [`Ms::bash`] with positional parameters: `bash -c script bash ARGS...`.
    pub fn bash_with<I, S>(mut self, script: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(script).arg("bash").args(args);
        for (k, v) in self.cmd.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if let Some(dir) = self.cmd.get_current_dir() {
            cmd.current_dir(dir);
        }
        self.cmd = cmd;
        self.run(std::iter::empty::<&str>())
    }

    /// The underlying command (for custom stdio handling).
    pub fn command(self) -> (Command, tempfile::TempDir) {
        (self.cmd, self._home)
    }
}

/// An `ms` process started by [`Ms::spawn`]; killed when dropped (also when the test
/// panics).
pub struct Running {
    child: Child,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    started: Instant,
    limit: Duration,
    args: Vec<std::ffi::OsString>,
    _home: tempfile::TempDir,
}

impl Running {
    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the end; kills the process and fails the test if it is still running
    /// once the limit has passed since it started.
    pub fn finish(mut self) -> Run {
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Some(status);
            }
            if self.started.elapsed() > self.limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = self.stdout.take().unwrap().join().unwrap_or_default();
        let stderr = self.stderr.take().unwrap().join().unwrap_or_default();
        let Some(status) = status else {
            panic!(
                "ms {:?} still running after {:?}; killed. stderr:\n{}",
                self.args,
                self.limit,
                String::from_utf8_lossy(&stderr)
            );
        };
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workspace root (where examples/ lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Arguments that wait for the scans and print JSON: `--wait --poll-interval 0.2 -o json`.
pub const WAIT_JSON: [&str; 5] = ["--wait", "--poll-interval", "0.2", "-o", "json"];

/// `scan submit --manifest MANIFEST` then `extra`.
pub fn submit_args<'a>(manifest: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["scan", "submit", "--manifest", manifest.to_str().unwrap()];
    args.extend_from_slice(extra);
    args
}

/// A fake MD5 derived from a number.
pub fn md5_of(i: u64) -> String {
    format!("{:016x}{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i)
}

/// Writes `dir/apps.json`: a JSON manifest of `n` apps (MD5s `md5_of(1..=n)`, names
/// `App 0`..., sizes from 1000), and returns its path.
pub fn manifest(dir: &Path, n: u64) -> PathBuf {
    let apps: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "url": format!("https://cdn.example.com/app{i}.apk"),
                "md5": md5_of(i + 1),
                "size": 1000 + i,
                "name": format!("App {i}"),
                "package": format!("com.example.app{i}"),
                "version": "1.0",
            })
        })
        .collect();
    let path = dir.join("apps.json");
    std::fs::write(&path, serde_json::to_string_pretty(&apps).unwrap()).unwrap();
    path
}

/// The account `ms emulator serve` of [`Serve`] accepts (and [`Ms::offline`] uses).
pub const SERVE_ID: &str = "AKIDjournalTestJournalTest000000";
/// The SecretKey of [`SERVE_ID`].
pub const SERVE_KEY: &str = "journalTestSecretKeyNotASecret00";

impl Ms {
    /// `ms` with test credentials and an endpoint where nothing listens (127.0.0.1:9), for
    /// runs that must fail before sending anything.
    pub fn offline() -> Self {
        Ms::unreachable()
            .env("TENCENTCLOUD_SECRET_ID", SERVE_ID)
            .env("TENCENTCLOUD_SECRET_KEY", SERVE_KEY)
    }

    /// `ms` with an endpoint where nothing listens (127.0.0.1:9) and no credentials.
    pub fn unreachable() -> Self {
        Ms::new().env("MS_ENDPOINT", "http://127.0.0.1:9")
    }
}

/// `ms emulator serve` in a child process on a free loopback port, with the account
/// [`SERVE_ID`]; killed when dropped (also when the test panics).
pub struct Serve {
    child: Child,
    pub url: String,
}

impl Serve {
    /// Starts it with `args` (scans take an hour unless `args` has `--scan-seconds`) and
    /// reads its URL from its first line.
    pub fn start(args: &[&str]) -> Self {
        let serve = Serve::spawn(
            Command::new(env!("CARGO_BIN_EXE_ms"))
                .args(["emulator", "serve", "--listen", "127.0.0.1:0"])
                .args(["--account", &format!("{SERVE_ID}:{SERVE_KEY}")])
                .args(if args.contains(&"--scan-seconds") {
                    &[][..]
                } else {
                    &["--scan-seconds", "3600"][..]
                })
                .args(args)
                .stderr(Stdio::null()),
        );
        assert!(serve.url.starts_with("http://127.0.0.1:"), "{}", serve.url);
        serve
    }

    /// Starts `cmd` (an `ms emulator serve` command line of the caller's, its stderr as the
    /// caller set it) with stdout piped, and reads its URL from its first line (empty when
    /// it printed none: it did not start).
    pub fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("ms emulator serve starts");
        let mut url = String::new();
        let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut url);
        Serve {
            child,
            url: url.trim().to_owned(),
        }
    }

    /// Kills it with SIGKILL (failing the test if that cannot be done) and reaps it.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
        self.child.wait().unwrap();
    }

    /// Its stderr, when the command piped it (once).
    pub fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// `ms` with this emulator's endpoint and account in the environment.
    pub fn ms(&self) -> Ms {
        Ms::new()
            .env("MS_ENDPOINT", &self.url)
            .env("TENCENTCLOUD_SECRET_ID", SERVE_ID)
            .env("TENCENTCLOUD_SECRET_KEY", SERVE_KEY)
    }

    /// A command line for `ms` with this emulator, HOME in `home` (kept across runs).
    pub fn command(&self, home: &Path) -> Command {
        let (mut cmd, _) = Ms::new().command();
        cmd.env("HOME", home)
            .env("MS_ENDPOINT", &self.url)
            .env("TENCENTCLOUD_SECRET_ID", SERVE_ID)
            .env("TENCENTCLOUD_SECRET_KEY", SERVE_KEY);
        cmd
    }

    /// How many times the emulator holds each MD5, from its own listing (retried: the
    /// listing may meet injected faults too).
    pub fn held(&self) -> HashMap<String, usize> {
        for _ in 0..20 {
            let out = self.ms().run(["scan", "list", "--all", "-o", "json"]);
            if out.code != 0 {
                continue;
            }
            let mut held = HashMap::new();
            for row in out.json()["ScanSet"].as_array().unwrap() {
                *held
                    .entry(row["AppMd5"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            return held;
        }
        panic!("the emulator's listing kept failing");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `dir/name`: a JSON manifest of apps `from..from+n` (MD5 `md5_of(i)`, name
/// `App i`, size `1000 + i`, no package), and returns its path.
pub fn manifest_of(dir: &Path, name: &str, from: u64, n: u64) -> PathBuf {
    let apps: Vec<serde_json::Value> = (from..from + n)
        .map(|i| {
            serde_json::json!({
                "url": format!("https://cdn.example.com/app{i}.apk"),
                "md5": md5_of(i),
                "size": 1000 + i,
                "name": format!("App {i}"),
            })
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(&apps).unwrap()).unwrap();
    path
}

/// Panics unless `held` (from [`Serve::held`]) holds apps `from..from+n` once each and no
/// MD5 twice.
pub fn assert_each_once(held: &HashMap<String, usize>, from: u64, n: u64) {
    let twice: Vec<_> = held.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "held more than once: {twice:?}");
    for i in from..from + n {
        assert_eq!(held.get(&md5_of(i)), Some(&1), "app {i} held once");
    }
}

/// A temporary directory with `apps.json` (apps `from..from+n`, [`manifest_of`]) and the
/// path of a run journal `run.db` (not created).
pub struct Batch {
    pub dir: tempfile::TempDir,
    pub manifest: PathBuf,
    pub journal: PathBuf,
}

impl Batch {
    /// Apps `from..from+n`.
    pub fn new(from: u64, n: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest_of(dir.path(), "apps.json", from, n);
        let journal = dir.path().join("run.db");
        Batch {
            dir,
            manifest,
            journal,
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The journal's path as text.
    pub fn j(&self) -> &str {
        self.journal.to_str().unwrap()
    }

    /// A new directory `home` in it (a HOME kept across runs).
    pub fn home(&self) -> PathBuf {
        let home = self.path().join("home");
        std::fs::create_dir(&home).unwrap();
        home
    }

    /// `scan submit --manifest apps.json --journal run.db`, then `extra`.
    pub fn submit<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        self.submit_after(&[], extra)
    }

    /// [`Batch::submit`] after the global options `global`.
    pub fn submit_after<'a>(&'a self, global: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = global.to_vec();
        args.extend([
            "scan",
            "submit",
            "--manifest",
            self.manifest.to_str().unwrap(),
            "--journal",
            self.j(),
        ]);
        args.extend_from_slice(extra);
        args
    }
}

/// A child process started by [`spawn`]; killed (SIGKILL) and reaped when dropped, also
/// when the test panics. Used as the [`Child`] it holds.
pub struct Spawned(Option<Child>);

/// Starts `cmd`; see [`Spawned`].
pub fn spawn(cmd: &mut Command) -> Spawned {
    Spawned(Some(cmd.spawn().expect("the command starts")))
}

impl std::ops::Deref for Spawned {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("not yet finished")
    }
}

impl std::ops::DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("not yet finished")
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for a child, killing it (and failing the test) after two minutes: a hang fails
/// instead of blocking the run.
pub fn finish(mut child: Spawned) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("ms still running after two minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.0.take().unwrap().wait_with_output().unwrap()
}

/// Sends signal `name` (`INT`, `TERM`, ...) to a child with kill(1).
pub fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}
