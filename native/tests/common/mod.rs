//! Helpers shared by the integration tests: the in-test IMDS, the rig scripts (AEMM,
//! chrony), engine set-up, event waiting and log capture.

#![allow(dead_code)]

pub mod fake_imds;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use freshcreds::{Config, Engine, Event, Inputs};
use tokio::sync::broadcast;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// Where the rig scripts keep their state (`$FRESHCREDS_RIG_DIR`, else `target/rig`).
pub fn rig_dir() -> PathBuf {
    std::env::var_os("FRESHCREDS_RIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/rig"))
}

/// Settings for a test engine: this endpoint, short timeouts, NTP off unless given.
pub fn config(endpoint: &str, ntp: Option<&str>) -> Config {
    let mut inputs = Inputs::empty();
    inputs.set("imds.endpoint", endpoint, "test");
    inputs.set("imds.timeout", "0.4", "test");
    inputs.set("imds.attempts", "2", "test");
    inputs.set("ntp.servers", ntp.unwrap_or("off"), "test");
    Config::resolve(&inputs).expect("test config")
}

/// An engine on `endpoint` whose `invalidate()` is never absorbed by a cooldown.
pub fn engine(endpoint: &str) -> Engine {
    Engine::builder(config(endpoint, None))
        .invalidate_cooldown(Duration::ZERO)
        .start()
        .expect("engine")
}

/// Waits up to `within` for an event matching `pred`; panics with what was seen otherwise.
pub fn wait_event(
    rx: &mut broadcast::Receiver<Event>,
    within: Duration,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(e) if pred(&e) => return e,
            Ok(e) => seen.push(format!("{e:?}")),
            Err(broadcast::error::TryRecvError::Empty) => {
                if Instant::now() > deadline {
                    panic!("no matching event within {within:?}; saw: {seen:#?}");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("event channel: {e}"),
        }
    }
}

/// Waits up to `within` for `cond`.
pub fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// Runs a rig script and parses its `KEY=value` lines.
pub fn rig(script: &str, args: &[&str], env: &[(&str, &str)]) -> HashMap<String, String> {
    let mut cmd = Command::new(repo_root().join("tests/rig").join(script));
    cmd.args(args)
        .env("RIG_OWNER_PID", std::process::id().to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("run {script}: {e}"));
    assert!(
        out.status.success(),
        "{script} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A running AEMM (IMDSv2 required), stopped on drop.
pub struct Aemm {
    pub url: String,
    pub config: String,
    pub role: String,
}

impl Aemm {
    pub fn start() -> Aemm {
        let v = rig("aemm.sh", &["start"], &[]);
        Aemm {
            url: v["AEMM_URL"].clone(),
            config: v["AEMM_CONFIG"].clone(),
            role: v["AEMM_ROLE"].clone(),
        }
    }

    /// Serves new credentials from now on (waits until AEMM does).
    pub fn rotate(
        &self,
        key: &str,
        secret: &str,
        token: &str,
        expiration: &str,
        last_updated: &str,
    ) {
        rig(
            "aemm.sh",
            &[
                "rotate",
                &self.config,
                key,
                secret,
                token,
                expiration,
                last_updated,
            ],
            &[],
        );
    }
}

impl Drop for Aemm {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("tests/rig/aemm.sh"))
            .args(["stop", &self.config])
            .output();
    }
}

/// moto server with authentication on (`tests/rig/moto.sh start`): its URL, port and the
/// rig-admin key it bootstrapped. Stopped when the test process exits (RIG_OWNER_PID).
pub struct MotoServer {
    pub url: String,
    pub port: String,
    pub admin_key: String,
    pub admin_secret: String,
}

impl MotoServer {
    pub fn start() -> MotoServer {
        let v = rig("moto.sh", &["start"], &[]);
        let url = v["MOTO_URL"].clone();
        MotoServer {
            port: url
                .rsplit(':')
                .next()
                .expect("a port in MOTO_URL")
                .to_owned(),
            url,
            admin_key: v["MOTO_ACCESS_KEY_ID"].clone(),
            admin_secret: v["MOTO_SECRET_ACCESS_KEY"].clone(),
        }
    }

    /// Creates `name` (trusting any principal) with policy `all` or `none`; returns its ARN.
    pub fn create_role(&self, name: &str, policy: &str) -> String {
        rig("moto.sh", &["create-role", &self.port, name, policy], &[])["ROLE_ARN"].clone()
    }
}

/// A UDP port on 127.0.0.1 that was free a moment ago (for a chrony instance), so test
/// binaries running at the same time do not collide on fixed ports.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free UDP port")
        .port()
}

/// A chrony NTP server on a loopback port, optionally with a faked offset; stopped on drop.
pub struct Chrony {
    pub server: String,
    port: String,
}

impl Chrony {
    pub fn start(port: u16, offset: Option<&str>) -> Chrony {
        let port = port.to_string();
        let args: Vec<&str> = match offset {
            Some(o) => vec!["start", o],
            None => vec!["start"],
        };
        let v = rig("chrony.sh", &args, &[("NTP_PORT", &port)]);
        Chrony {
            server: v["NTP_SERVER"].clone(),
            port,
        }
    }
}

impl Drop for Chrony {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("tests/rig/chrony.sh"))
            .args(["stop", &self.port])
            .output();
    }
}

/// Every log line the process emits, captured at trace level. Install once per test binary.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// The process-wide capture (installs the global subscriber on first use).
    pub fn global() -> LogCapture {
        static CAPTURE: OnceLock<LogCapture> = OnceLock::new();
        CAPTURE
            .get_or_init(|| {
                let capture = LogCapture::default();
                let writer = capture.clone();
                tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::TRACE)
                    .with_ansi(false)
                    .with_writer(move || writer.clone())
                    .init();
                capture
            })
            .clone()
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
