//! A real `redis-server` for tests: started on a free loopback port with no persistence
//! (`--save '' --appendonly no`), stopped when dropped.
//!
//! When the binary is missing, [`RedisServer::start`] panics if the environment variable `CI`
//! is set (CI must install the Debian package `redis-server`, see `.ci/run`) and otherwise
//! prints a skip message and returns `None`. `REDIS_SERVER` overrides the binary's path.
//!
//! Shared by ms-transport's unit tests and ms-cli's integration tests (`#[path]` include).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server owned by the test.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    args: Vec<String>,
    tls: bool,
}

fn binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

fn available() -> bool {
    Command::new(binary())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl RedisServer {
    /// Starts a server, or returns `None` (after printing why) when redis-server is not
    /// installed and `CI` is not set.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// Starts a server that speaks only TLS on its port (`rediss://`), with this certificate
    /// chain and key (PEM files); clients are not asked for certificates.
    pub fn start_tls(cert: &str, key: &str, ca: &str) -> Option<Self> {
        Self::start_inner(
            &[
                "--tls-cert-file",
                cert,
                "--tls-key-file",
                key,
                "--tls-ca-cert-file",
                ca,
                "--tls-auth-clients",
                "no",
            ],
            true,
        )
    }

    /// Starts a server with extra arguments (e.g. `--requirepass`).
    pub fn start_with(extra: &[&str]) -> Option<Self> {
        Self::start_inner(extra, false)
    }

    fn start_inner(extra: &[&str], tls: bool) -> Option<Self> {
        if !available() {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "redis-server is not installed (CI is set: .ci/run must install the Debian package redis-server)"
                );
            }
            eprintln!(
                "SKIPPED: redis-server is not installed; install the Debian package redis-server (or set REDIS_SERVER) to run this test"
            );
            return None;
        }
        let args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        for _ in 0..5 {
            let mut server = Self {
                child: None,
                port: free_port(),
                args: args.clone(),
                tls,
            };
            if server.spawn() {
                return Some(server);
            }
        }
        panic!("redis-server did not start on a free port (5 tries)");
    }

    fn spawn(&mut self) -> bool {
        let port = self.port.to_string();
        let ports = if self.tls {
            ["--port", "0", "--tls-port", &port]
        } else {
            ["--port", &port, "--tls-port", "0"]
        };
        let child = Command::new(binary())
            .args(ports)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--dir", &std::env::temp_dir().to_string_lossy()])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else { return false };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false; // exited: the port was taken
            }
            if self.ping() {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Whether the server answers (any reply, also an authentication error); with TLS,
    /// whether it accepts connections.
    fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        if self.tls {
            return true;
        }
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 64];
        matches!(s.read(&mut buf), Ok(n) if n > 0)
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT` (`rediss://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL: an outage, not a shutdown) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)).
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.spawn() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis-server did not restart on port {}", self.port);
    }

    /// Runs a command with `redis-cli` and returns its output (raw, one reply per line).
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--raw"])
            .args(args)
            .output()
            .expect("redis-cli runs (it comes with redis-server)");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
