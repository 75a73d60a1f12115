//! Helpers shared by the integration tests: the rig scripts (moto, AEMM), botocore as
//! the AWS SDK under test, and a raw HTTP/1.1 client that can tell "refused" from "no
//! answer".

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// Where the rig scripts keep their state (`$FRESHCREDS_RIG_DIR`, else `target/rig`).
pub fn rig_dir() -> PathBuf {
    std::env::var_os("FRESHCREDS_RIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/rig"))
}

/// Runs a rig script (its instances stop when this test process exits) and parses its
/// `KEY=value` lines.
pub fn rig(script: &str, args: &[&str], env: &[(&str, &str)]) -> HashMap<String, String> {
    let mut cmd = Command::new(repo_root().join("tests/rig").join(script));
    cmd.args(args)
        .env("RIG_OWNER_PID", std::process::id().to_string())
        .env("SIGV4_GATE_BIN", env!("CARGO_BIN_EXE_sigv4-gate"))
        .env(
            "IMDS_FAULT_PROXY_BIN",
            env!("CARGO_BIN_EXE_imds-fault-proxy"),
        );
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

/// Temporary credentials moto issued (it accepts them with exactly this token).
#[derive(Clone, Debug)]
pub struct Creds {
    pub key: String,
    pub secret: String,
    pub token: String,
    pub expiration: String,
}

/// One moto server (authentication on) per test binary, from `tests/rig/moto.sh`; it
/// stops when the test process exits.
pub struct Moto {
    pub url: String,
    port: String,
}

impl Moto {
    pub fn get() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(|| {
            let v = rig("moto.sh", &["start"], &[]);
            let url = v["MOTO_URL"].clone();
            Moto {
                port: url.rsplit(':').next().unwrap().to_owned(),
                url,
            }
        })
    }

    /// A fresh `AssumeRole` session of `rig-role`.
    pub fn assume_role(&self, session: &str) -> Creds {
        let v = rig(
            "moto.sh",
            &["assume-role", &self.port, "3600", session],
            &[],
        );
        Creds {
            key: v["AWS_ACCESS_KEY_ID"].clone(),
            secret: v["AWS_SECRET_ACCESS_KEY"].clone(),
            token: v["AWS_SESSION_TOKEN"].clone(),
            expiration: v["AWS_CREDENTIAL_EXPIRATION"].clone(),
        }
    }
}

/// The rig's Python with botocore (moto's venv).
pub fn python() -> PathBuf {
    rig("moto.sh", &["install"], &[]);
    rig_dir().join("moto/venv/bin/python")
}

/// Runs `tests/botocore_client.py` with `plan` (see its doc) and returns one JSON object
/// per call. With `clock_offset` (libfaketime syntax, e.g. `-10m`), botocore signs with a
/// clock that far off.
pub fn botocore(plan: &Value, clock_offset: Option<&str>) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/botocore_client.py");
    let mut cmd = Command::new(python());
    cmd.arg(script)
        .arg(plan.to_string())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", rig_dir())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_PROXY", "*");
    if let Some(offset) = clock_offset {
        let lib = Command::new(repo_root().join("tests/rig/faketime-lib.sh"))
            .output()
            .expect("faketime-lib.sh");
        assert!(
            lib.status.success(),
            "{}",
            String::from_utf8_lossy(&lib.stderr)
        );
        cmd.env("LD_PRELOAD", String::from_utf8_lossy(&lib.stdout).trim())
            .env("FAKETIME", offset)
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    }
    let out = cmd.output().expect("run botocore");
    assert!(
        out.status.success(),
        "botocore_client.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A botocore plan for `creds` against `endpoint`.
pub fn plan(endpoint: &str, creds: &Creds, calls: Value) -> Value {
    serde_json::json!({
        "endpoint": endpoint,
        "key": creds.key,
        "secret": creds.secret,
        "token": creds.token,
        "calls": calls,
    })
}

/// Asserts that an HTTP `Date` value is the real time now, give or take 5 s.
pub fn assert_date_is_now(date: &str) {
    let t = httpdate::parse_http_date(date).unwrap_or_else(|e| panic!("Date '{date}': {e}"));
    let now = SystemTime::now();
    let off = now
        .duration_since(t)
        .unwrap_or_else(|e| e.duration())
        .as_secs();
    assert!(off <= 5, "Date '{date}' is {off} s off the real time");
}

/// An HTTP answer read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`). `url` is
/// `http://127.0.0.1:PORT`. The error is the I/O error as is, so a caller can tell a
/// refused connection (`ConnectionRefused`) from no answer (`WouldBlock`/`TimedOut`).
pub fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> std::io::Result<Answer> {
    let authority = url.trim_start_matches("http://");
    let addr = authority.to_socket_addrs()?.next().expect("an address");
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    if raw.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed without an answer",
        ));
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// `http` with a 5 s limit, which must succeed.
pub fn call(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    http(url, method, path, headers, body, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{method} {url}{path}: {e}"))
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
