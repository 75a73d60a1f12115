//! `freshcreds doctor`, run as the real binary against real peers on 127.0.0.1: AEMM
//! (IMDSv2 required), the in-test IMDS for what AEMM cannot do (a token PUT that never
//! answers, no role, a failed `Code`), chrony with and without a faked offset, moto with
//! authentication on for STS, an in-test STS that answers `ExpiredToken` (moto never
//! does), and a temporary HOME with crafted `~/.aws` files and CLI cache entries.
//! Every check is driven both ways: its pass and its failure (or warning).

mod common;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use common::fake_imds::{Creds, FakeImds, TokenReply};
use common::{rig, Aemm, Chrony};
use freshcreds::internal::rfc3339;
use serde_json::Value;

const HOUR: Duration = Duration::from_secs(3600);

// ===== the binary and its report =====

/// A temporary HOME (with an empty fake `/proc`, so that NTP client detection does not
/// depend on what else runs on the machine); removed on drop.
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new(name: &str) -> Home {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "freshcreds-doctor-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("proc")).unwrap();
        Home { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A process named `comm` in the fake `/proc`.
    fn process(&self, pid: u32, comm: &str) {
        self.write(&format!("proc/{pid}/comm"), &format!("{comm}\n"));
    }

    /// A CLI cache entry as botocore writes it (`…UTC` timestamps).
    fn cache_entry(&self, name: &str, key: &str, expiration: SystemTime) -> PathBuf {
        let exp = rfc3339(expiration).replace('Z', "UTC");
        self.write(
            &format!(".aws/cli/cache/{name}.json"),
            &format!(
                r#"{{"Credentials": {{"AccessKeyId": "{key}", "SecretAccessKey": "cache-secret-{name}", "SessionToken": "cache-token-{name}", "Expiration": "{exp}"}}, "AssumedRoleUser": {{"Arn": "arn:aws:sts::123456789012:assumed-role/r/s"}}, "ProviderType": "assume-role"}}"#
            ),
        )
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    checks: HashMap<String, (String, String, String)>,
}

impl Run {
    /// (status, summary, fix) of check `id`.
    fn check(&self, id: &str) -> (&str, &str, &str) {
        let (s, m, f) = self
            .checks
            .get(id)
            .unwrap_or_else(|| panic!("no check {id} in:\n{}", self.stdout));
        (s, m, f)
    }

    /// Asserts the status of `id` and returns its summary and fix.
    fn expect(&self, id: &str, status: &str) -> (&str, &str) {
        let (s, m, f) = self.check(id);
        assert_eq!(
            s, status,
            "{id}: expected {status}, got {s}: {m}\nfix: {f}\nstderr: {}",
            self.stderr
        );
        (m, f)
    }

    fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `freshcreds doctor --json` in a clean environment: HOME = `home`, NTP off and IMDS
/// at a closed port unless the arguments say otherwise, plus `env`.
fn doctor(home: &Home, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_freshcreds"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home.dir)
        .env("FRESHCREDS_DOCTOR_PROC", home.path("proc"))
        // Never the real IMDS, NTP or STS addresses: tests talk to 127.0.0.1 only.
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", closed_url())
        .env("FRESHCREDS_NTP_SERVERS", "off")
        .env("AWS_ENDPOINT_URL", closed_url());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.arg("doctor").arg("--json").args(args);
    let started = Instant::now();
    let out = cmd.output().expect("run freshcreds");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr: {stderr}"));
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    let checks = json["checks"]
        .as_array()
        .expect("checks array")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                (
                    c["status"].as_str().unwrap().to_owned(),
                    c["summary"].as_str().unwrap().to_owned(),
                    c["fix"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr,
        elapsed,
        checks,
    }
}

/// A loopback URL where nothing listens (connection refused at once).
fn closed_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

// ===== shared peers: started once per test binary, stopped when it exits (RIG_OWNER_PID) =====

fn aemm() -> &'static Aemm {
    static AEMM: OnceLock<Aemm> = OnceLock::new();
    AEMM.get_or_init(Aemm::start)
}

fn chrony(offset: Option<&'static str>) -> &'static Chrony {
    static PLAIN: OnceLock<Chrony> = OnceLock::new();
    static SHIFTED: OnceLock<Chrony> = OnceLock::new();
    let cell = if offset.is_some() { &SHIFTED } else { &PLAIN };
    cell.get_or_init(|| Chrony::start(common::free_udp_port(), offset))
}

/// moto server with authentication on (`tests/rig/moto.sh`).
struct Moto {
    url: String,
    port: String,
    key_id: String,
    secret: String,
}

impl Moto {
    fn get() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(|| {
            let m = common::MotoServer::start();
            Moto {
                url: m.url,
                port: m.port,
                key_id: m.admin_key,
                secret: m.admin_secret,
            }
        })
    }

    /// Temporary credentials for `rig-role`: (key id, secret, token, expiration).
    fn assume_role(&self) -> (String, String, String, String) {
        let v = rig(
            "moto.sh",
            &["assume-role", &self.port, "3600", "doctor"],
            &[],
        );
        (
            v["AWS_ACCESS_KEY_ID"].clone(),
            v["AWS_SECRET_ACCESS_KEY"].clone(),
            v["AWS_SESSION_TOKEN"].clone(),
            v["AWS_CREDENTIAL_EXPIRATION"].clone(),
        )
    }
}

/// An in-test STS whose every answer is `403 ExpiredToken`, as AWS sends it for a token past
/// its expiry (moto never checks expiry). Stops when dropped.
struct ExpiredSts {
    url: String,
    /// Owns the server task: dropping it stops the server.
    _runtime: tokio::runtime::Runtime,
    hits: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl ExpiredSts {
    fn start() -> ExpiredSts {
        use axum::http::{Response, StatusCode};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().fallback(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Response::builder()
                    .status(StatusCode::FORBIDDEN)
                    .header("content-type", "text/xml")
                    .body(axum::body::Body::from(
                        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                         <Error><Type>Sender</Type><Code>ExpiredToken</Code>\
                         <Message>The security token included in the request is expired</Message></Error>\
                         <RequestId>0c1a3e4b-0000-4000-8000-000000000000</RequestId></ErrorResponse>",
                    ))
                    .unwrap()
            }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ExpiredSts {
            url: format!("http://{addr}"),
            _runtime: runtime,
            hits,
        }
    }
}

/// A TCP listener that accepts connections and never answers, and a UDP socket that never
/// replies: a host where IMDS and NTP are black holes, on loopback.
struct BlackHoles {
    tcp: TcpListener,
    udp: UdpSocket,
}

impl BlackHoles {
    fn new() -> BlackHoles {
        BlackHoles {
            tcp: TcpListener::bind("127.0.0.1:0").unwrap(),
            udp: UdpSocket::bind("127.0.0.1:0").unwrap(),
        }
    }
    fn imds_url(&self) -> String {
        format!("http://{}", self.tcp.local_addr().unwrap())
    }
    fn ntp(&self) -> String {
        self.udp.local_addr().unwrap().to_string()
    }
}

// ===== clock.skew =====

#[test]
fn clock_skew_passes_against_chrony_and_names_the_running_ntp_client() {
    let home = Home::new("clock-pass");
    home.process(4242, "chronyd");
    let ntp = chrony(None);
    let run = doctor(&home, &["--ntp-server", &ntp.server], &[]);
    let (summary, _) = run.expect("clock.skew", "pass");
    assert!(summary.contains(&ntp.server), "{summary}");
    assert!(summary.contains("chronyd (pid 4242)"), "{summary}");
}

#[test]
fn clock_skew_warns_when_ntp_does_not_answer_and_skips_when_off() {
    let home = Home::new("clock-quiet");
    let holes = BlackHoles::new();
    let run = doctor(&home, &["--ntp-server", &holes.ntp()], &[]);
    let (summary, fix) = run.expect("clock.skew", "warn");
    assert!(summary.contains("no NTP answer"), "{summary}");
    assert!(summary.contains("no NTP client is running"), "{summary}");
    assert!(fix.contains("--ntp-server"), "{fix}");
    let run = doctor(&home, &[], &[]);
    run.expect("clock.skew", "skip");
}

/// A host 10 minutes slow: the clock check fails, and expiry is judged on the corrected
/// clock, so credentials IMDS offers with 5 minutes left on the host clock are already
/// expired, and so is a CLI cache entry the AWS CLI still believes valid.
#[test]
fn a_ten_minute_slow_host_fails_clock_imds_credentials_and_cli_cache() {
    let home = Home::new("slow-host");
    let ntp = chrony(Some("+600s"));
    let fake = FakeImds::start(Creds::numbered(7, Duration::from_secs(300)));
    let now = SystemTime::now();
    let in_use = home.cache_entry(
        "in-use",
        "ASIAINUSEEXAMPLE0001",
        now + Duration::from_secs(300),
    );
    let stale = home.cache_entry("stale", "ASIASTALEEXAMPLE0002", now - HOUR);
    let valid = home.cache_entry("valid", "ASIAVALIDEXAMPLE0003", now + 2 * HOUR);
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url.as_str())];
    let args = ["--ntp-server", ntp.server.as_str(), "--imds-timeout", "0.5"];
    let run = doctor(&home, &args, &env);
    assert_eq!(run.code, 1);
    // The report says it all: the engine's own skew error stays off stderr.
    assert!(run.stderr.is_empty(), "{}", run.stderr);

    let (summary, fix) = run.expect("clock.skew", "fail");
    assert!(summary.contains("+600.0"), "{summary}");
    assert!(summary.contains("host is slow"), "{summary}");
    assert!(
        fix.contains("install chrony"),
        "no NTP client runs here: {fix}"
    );
    assert!(fix.contains("169.254.169.123"), "{fix}");

    let (summary, fix) = run.expect("imds.credentials", "fail");
    assert!(summary.contains("expired"), "{summary}");
    assert!(summary.contains("still thinks they are valid"), "{summary}");
    assert!(summary.contains("skew +600.0"), "{summary}");
    assert!(fix.contains("clock.skew"), "{fix}");
    run.expect("imds.role", "pass");

    let (summary, fix) = run.expect("cli-cache.expired", "fail");
    assert!(
        summary.contains("ASIA…0001") && summary.contains("ASIA…0002"),
        "{summary}"
    );
    assert!(!summary.contains("ASIA…0003"), "{summary}");
    assert!(summary.contains("ExpiredToken"), "{summary}");
    assert!(fix.contains("freshcreds doctor --fix"), "{fix}");

    // --fix removes the entries expired on the corrected clock, and only those.
    let run = doctor(&home, &[&args[..], &["--fix"]].concat(), &env);
    let (summary, _) = run.expect("cli-cache.expired", "pass");
    assert!(summary.contains("removed 2 expired entries"), "{summary}");
    assert!(!in_use.exists() && !stale.exists());
    assert!(valid.exists(), "an unexpired entry must never be removed");
}

// ===== env.credentials =====

#[test]
fn env_credentials_pass_warn_and_fail_without_printing_secrets() {
    let home = Home::new("env");
    let run = doctor(&home, &[], &[]);
    run.expect("env.credentials", "pass");

    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let long_term = [
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", secret),
    ];
    let run = doctor(&home, &[], &long_term);
    let (summary, fix) = run.expect("env.credentials", "warn");
    assert!(summary.contains("AKIA…MPLE"), "{summary}");
    assert!(summary.contains("shadow the instance profile"), "{summary}");
    assert!(
        fix.starts_with("unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY "),
        "{fix}"
    );
    assert!(!run.all_output().contains(secret));
    assert!(!run.all_output().contains("AKIAIOSFODNN7EXAMPLE"));

    let token = "FQoGZXIvYXdzEXAMPLE-session-token-never-printed";
    let run = doctor(
        &home,
        &[],
        &[&long_term[..], &[("AWS_SESSION_TOKEN", token)]].concat(),
    );
    assert_eq!(run.code, 1);
    let (summary, fix) = run.expect("env.credentials", "fail");
    assert!(
        summary.contains("AWS_SESSION_TOKEN") && summary.contains("never refresh"),
        "{summary}"
    );
    assert!(
        fix.starts_with("unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN "),
        "{fix}"
    );
    let all = run.all_output();
    assert!(!all.contains(secret) && !all.contains(token), "{all}");
}

// ===== profile.static-session-token and profile.role-chain =====

#[test]
fn static_session_tokens_fail_in_the_profile_in_use_and_warn_elsewhere() {
    let home = Home::new("static-token");
    home.write(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s3cr3t\n",
    );
    let run = doctor(&home, &[], &[]);
    let (summary, _) = run.expect("profile.static-session-token", "pass");
    assert!(summary.contains(".aws/credentials"), "{summary}");

    // Custom file locations (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE) are honoured.
    let creds = home.write(
        "elsewhere/creds",
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s3cr3t\n\
         [pasted]\naws_access_key_id = ASIAEXAMPLEEXAMPLE01\naws_secret_access_key = s3cr3t\naws_session_token = t0k3n-never-printed\n",
    );
    let config = home.write(
        "elsewhere/config",
        "[profile other]\nregion = eu-west-1\naws_session_token = t0k3n-in-config\n",
    );
    let files = [
        ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
    ];
    let run = doctor(&home, &[], &files);
    let (summary, fix) = run.expect("profile.static-session-token", "warn");
    assert!(
        summary.contains("pasted (") && summary.contains("other ("),
        "{summary}"
    );
    assert!(
        fix.contains("role_arn = arn:aws:iam::") && fix.contains("source_profile = "),
        "{fix}"
    );
    assert!(
        !run.all_output().contains("t0k3n"),
        "tokens are never printed"
    );

    let run = doctor(
        &home,
        &[],
        &[&files[..], &[("AWS_PROFILE", "pasted")]].concat(),
    );
    assert_eq!(run.code, 1);
    let (summary, fix) = run.expect("profile.static-session-token", "fail");
    assert!(summary.contains("profile in use (pasted)"), "{summary}");
    assert!(fix.contains("[profile pasted]"), "{fix}");
}

#[test]
fn role_chains_pass_when_sourced_and_fail_or_warn_when_missing_or_circular() {
    let home = Home::new("role-chain");
    home.write(
        ".aws/credentials",
        "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s3cr3t\n",
    );
    home.write(
        ".aws/config",
        "[default]\nregion = us-east-1\n\
         [profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n\
         [profile onec2]\nrole_arn = arn:aws:iam::123456789012:role/app\ncredential_source = Ec2InstanceMetadata\n",
    );
    let run = doctor(&home, &[], &[]);
    let (summary, _) = run.expect("profile.role-chain", "pass");
    assert!(
        summary.contains("app") && summary.contains("onec2"),
        "{summary}"
    );

    home.write(
        ".aws/config",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n\
         [profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n\
         [profile orphan]\nrole_arn = arn:aws:iam::123456789012:role/o\n",
    );
    let run = doctor(&home, &[], &[]);
    let (summary, _) = run.expect("profile.role-chain", "warn");
    assert!(
        summary.contains("circular source_profile: a -> b -> a"),
        "{summary}"
    );
    assert!(
        summary.contains("orphan has role_arn but neither"),
        "{summary}"
    );

    let run = doctor(&home, &[], &[("AWS_PROFILE", "b")]);
    assert_eq!(run.code, 1);
    let (summary, fix) = run.expect("profile.role-chain", "fail");
    assert!(summary.contains("circular"), "{summary}");
    assert!(
        fix.contains("credential_source = Ec2InstanceMetadata"),
        "{fix}"
    );
}

// ===== cli-cache.expired (the slow-host test covers the failure and --fix with skew) =====

#[test]
fn cli_cache_warns_on_stale_entries_and_fix_removes_only_those() {
    let home = Home::new("cli-cache");
    let run = doctor(&home, &[], &[]);
    run.expect("cli-cache.expired", "pass");

    let now = SystemTime::now();
    let valid = home.cache_entry("valid", "ASIAVALIDEXAMPLE0003", now + HOUR);
    let run = doctor(&home, &[], &[]);
    let (summary, _) = run.expect("cli-cache.expired", "pass");
    assert!(
        summary.contains("1 entries") && summary.contains("none expired"),
        "{summary}"
    );

    let stale = home.cache_entry("stale", "ASIASTALEEXAMPLE0002", now - 2 * HOUR);
    // Not credential entries, and a symlink to an expired one: never judged, never removed.
    let other = home.write(".aws/cli/cache/other.json", r#"{"something": "else"}"#);
    let link = home.path(".aws/cli/cache/link.json");
    std::os::unix::fs::symlink(&stale, &link).unwrap();
    let run = doctor(&home, &[], &[]);
    let (summary, fix) = run.expect("cli-cache.expired", "warn");
    assert!(
        summary.contains("stale.json") && summary.contains("ASIA…0002"),
        "{summary}"
    );
    assert!(summary.contains("expired 2h"), "{summary}");
    assert!(!summary.contains("valid.json"), "{summary}");
    assert!(fix.contains("--fix"), "{fix}");
    assert!(
        !run.all_output().contains("cache-secret"),
        "secrets are never printed"
    );

    let run = doctor(&home, &["--fix"], &[]);
    let (summary, _) = run.expect("cli-cache.expired", "pass");
    assert!(summary.contains("removed 1 expired entries"), "{summary}");
    assert!(!stale.exists(), "the expired entry is removed");
    assert!(valid.exists() && other.exists(), "nothing else is");
    assert!(std::fs::symlink_metadata(&link).is_ok(), "nor a symlink");
}

// ===== imds.* =====

#[test]
fn imds_checks_pass_against_aemm() {
    let home = Home::new("aemm");
    let aemm = aemm();
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", aemm.url.as_str())];
    let run = doctor(&home, &[], &env);
    let (summary, _) = run.expect("imds.reachable", "pass");
    assert!(
        summary.contains(&aemm.url) && summary.contains("instance i-"),
        "{summary}"
    );
    run.expect("imds.token", "pass");
    run.expect("imds.proxy", "pass");
    let (summary, _) = run.expect("imds.role", "pass");
    assert!(summary.ends_with(&aemm.role), "{summary}");
    let (summary, _) = run.expect("imds.credentials", "pass");
    for part in [
        "Code Success",
        "LastUpdated 20",
        "Expiration 20",
        "left",
        "ASIA…",
    ] {
        assert!(summary.contains(part), "{part} missing: {summary}");
    }
}

#[test]
fn off_ec2_with_nothing_answering_finishes_within_five_seconds() {
    let home = Home::new("off-ec2");
    let holes = BlackHoles::new();
    let url = holes.imds_url();
    let run = doctor(
        &home,
        &["--ntp-server", &holes.ntp()],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &url)],
    );
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    assert_eq!(run.code, 1);
    let (summary, fix) = run.expect("imds.reachable", "fail");
    assert!(
        summary.contains("not on EC2, or IMDS is turned off"),
        "{summary}"
    );
    assert!(fix.contains("--http-endpoint enabled"), "{fix}");
    for id in [
        "imds.token",
        "imds.role",
        "imds.credentials",
        "sts.identity",
    ] {
        run.expect(id, "skip");
    }
    run.expect("clock.skew", "warn");

    // Connection refused is reported the same way, at once.
    let run = doctor(&home, &[], &[]);
    assert!(
        run.elapsed < Duration::from_secs(2),
        "took {:?}",
        run.elapsed
    );
    let (summary, _) = run.expect("imds.reachable", "fail");
    assert!(summary.contains("not on EC2"), "{summary}");
}

#[test]
fn imds_turned_off_is_a_warning_and_skips_the_rest() {
    let home = Home::new("imds-off");
    let run = doctor(&home, &[], &[("AWS_EC2_METADATA_DISABLED", "true")]);
    let (summary, fix) = run.expect("imds.reachable", "warn");
    assert!(summary.contains("AWS_EC2_METADATA_DISABLED"), "{summary}");
    assert!(fix.contains("unset AWS_EC2_METADATA_DISABLED"), "{fix}");
    for id in ["imds.token", "imds.role", "imds.credentials"] {
        run.expect(id, "skip");
    }
}

const HOP_FIX_NO_ID: &str =
    "aws ec2 modify-instance-metadata-options --instance-id <id> --http-put-response-hop-limit 2 --http-endpoint enabled";

#[test]
fn hop_limit_with_imdsv2_required_fails_with_the_exact_fix() {
    let home = Home::new("hop-v2");
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    fake.with(|s| s.token_reply = TokenReply::Hang);
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url.as_str())];
    let run = doctor(&home, &["--imds-timeout", "0.3"], &env);
    assert_eq!(run.code, 1);
    let (summary, _) = run.expect("imds.reachable", "pass");
    assert!(summary.contains("HTTP 401"), "{summary}");
    let (summary, fix) = run.expect("imds.token", "fail");
    assert!(summary.contains("hop-limit"), "{summary}");
    assert_eq!(fix, HOP_FIX_NO_ID);
    run.expect("imds.role", "skip");
    run.expect("imds.credentials", "skip");
}

#[test]
fn hop_limit_with_imdsv1_answering_warns_with_the_instance_id_filled_in() {
    let home = Home::new("hop-v1");
    let fake = FakeImds::start(Creds::numbered(2, HOUR));
    fake.with(|s| {
        s.token_reply = TokenReply::Hang;
        s.require_token = false;
    });
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url.as_str())];
    let run = doctor(&home, &["--imds-timeout", "0.3"], &env);
    let (summary, fix) = run.expect("imds.token", "warn");
    assert!(
        summary.contains("hop-limit") && summary.contains("IMDSv1"),
        "{summary}"
    );
    assert_eq!(
        fix,
        "aws ec2 modify-instance-metadata-options --instance-id i-0123456789abcdef0 --http-put-response-hop-limit 2 --http-endpoint enabled"
    );
    run.expect("imds.role", "pass");
    let (summary, _) = run.expect("imds.credentials", "pass");
    assert!(summary.contains("ASIA…0002"), "{summary}");
}

#[test]
fn imds_proxy_passes_when_no_proxy_covers_the_endpoint_and_warns_otherwise() {
    let home = Home::new("proxy");
    let proxy = [("HTTPS_PROXY", "http://127.0.0.1:9")];
    let run = doctor(&home, &[], &[]);
    run.expect("imds.proxy", "pass");
    // The endpoint in use is 127.0.0.1 here; NO_PROXY must cover it.
    let run = doctor(
        &home,
        &[],
        &[&proxy[..], &[("NO_PROXY", "localhost,127.0.0.0/8")]].concat(),
    );
    run.expect("imds.proxy", "pass");
    let run = doctor(
        &home,
        &[],
        &[&proxy[..], &[("no_proxy", "example.com")]].concat(),
    );
    let (summary, fix) = run.expect("imds.proxy", "warn");
    assert!(
        summary.contains("HTTPS_PROXY") && summary.contains("127.0.0.1"),
        "{summary}"
    );
    assert!(
        fix.starts_with("export NO_PROXY=127.0.0.1,169.254.169.254,"),
        "{fix}"
    );
    assert!(
        fix.contains(",example.com"),
        "keeps the existing list: {fix}"
    );
}

#[test]
fn no_role_attached_fails_imds_role_with_the_associate_fix() {
    let home = Home::new("no-role");
    let fake = FakeImds::start(Creds::numbered(3, HOUR));
    fake.with(|s| s.role = None);
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url.as_str())];
    let run = doctor(&home, &[], &env);
    assert_eq!(run.code, 1);
    run.expect("imds.token", "pass");
    let (summary, fix) = run.expect("imds.role", "fail");
    assert!(summary.contains("no IAM role is attached"), "{summary}");
    assert!(
        fix.contains("associate-iam-instance-profile --instance-id i-0123456789abcdef0"),
        "{fix}"
    );
    run.expect("imds.credentials", "skip");
    run.expect("sts.identity", "skip");
}

#[test]
fn imds_code_other_than_success_fails_imds_credentials() {
    let home = Home::new("code");
    let mut creds = Creds::numbered(4, HOUR);
    creds.code = "AssumeRoleUnauthorizedAccess".into();
    let fake = FakeImds::start(creds);
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url.as_str())];
    let run = doctor(&home, &[], &env);
    run.expect("imds.role", "pass");
    let (summary, fix) = run.expect("imds.credentials", "fail");
    assert!(
        summary.contains("Code AssumeRoleUnauthorizedAccess"),
        "{summary}"
    );
    assert!(fix.contains("trust policy"), "{fix}");
}

// ===== sts.identity =====

#[test]
fn sts_identity_of_env_credentials_through_moto() {
    let home = Home::new("sts-env");
    let moto = Moto::get();
    let env = [
        ("AWS_ACCESS_KEY_ID", moto.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", moto.secret.as_str()),
        // AWS_ENDPOINT_URL_STS wins over AWS_ENDPOINT_URL (a closed port in `doctor`).
        ("AWS_ENDPOINT_URL_STS", moto.url.as_str()),
    ];
    let run = doctor(&home, &[], &env);
    let (summary, _) = run.expect("sts.identity", "pass");
    assert!(
        summary.starts_with("arn:aws:iam::123456789012:user/rig-admin"),
        "{summary}"
    );
    assert!(summary.contains("from the environment"), "{summary}");
    assert!(
        summary.contains(&freshcreds::abbreviate_key_id(&moto.key_id)),
        "{summary}"
    );
    let all = run.all_output();
    assert!(
        !all.contains(&moto.secret) && !all.contains(&moto.key_id),
        "{all}"
    );

    // A key moto never issued: authentication is on, so it is refused.
    let run = doctor(
        &home,
        &[],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ],
    );
    let (summary, _) = run.expect("sts.identity", "fail");
    assert!(summary.starts_with("InvalidClientTokenId"), "{summary}");
}

#[test]
fn sts_identity_of_a_profile_with_static_keys() {
    let home = Home::new("sts-profile");
    let moto = Moto::get();
    home.write(
        ".aws/credentials",
        &format!(
            "[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            moto.key_id, moto.secret
        ),
    );
    home.write(".aws/config", "[profile ci]\nregion = eu-west-1\n");
    let run = doctor(
        &home,
        &[],
        &[
            ("AWS_PROFILE", "ci"),
            ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ],
    );
    let (summary, _) = run.expect("sts.identity", "pass");
    assert!(
        summary.contains("user/rig-admin") && summary.contains("from profile ci"),
        "{summary}"
    );
    assert!(!run.all_output().contains(&moto.secret));

    // A role profile is named, not imitated.
    home.write(
        ".aws/config",
        "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/x\ncredential_source = Ec2InstanceMetadata\n",
    );
    home.write(".aws/credentials", "");
    let run = doctor(&home, &[], &[("AWS_PROFILE", "ci")]);
    let (summary, _) = run.expect("sts.identity", "skip");
    assert!(
        summary.contains("aws sts get-caller-identity --profile ci"),
        "{summary}"
    );
}

#[test]
fn sts_identity_of_the_instance_profile_and_its_failure() {
    let home = Home::new("sts-imds");
    let moto = Moto::get();
    // AEMM serving temporary credentials moto issued: the chain ends at the instance profile.
    let aemm = Aemm::start();
    let (key, secret, token, expiration) = moto.assume_role();
    aemm.rotate(
        &key,
        &secret,
        &token,
        &expiration,
        &rfc3339(SystemTime::now()),
    );
    let env = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", aemm.url.as_str()),
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
    ];
    let run = doctor(&home, &[], &env);
    let (summary, _) = run.expect("sts.identity", "pass");
    assert!(
        summary.starts_with("arn:aws:sts::123456789012:assumed-role/rig-role/doctor"),
        "{summary}"
    );
    // A healthy host: nothing fails, so the exit status is 0 (warnings would not change it).
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run
        .checks
        .values()
        .all(|(s, _, _)| s == "pass" || s == "skip"));
    assert!(summary.contains("from the instance profile"), "{summary}");
    let all = run.all_output();
    assert!(!all.contains(&secret) && !all.contains(&token) && !all.contains(&key));

    // The shared AEMM serves random credentials moto never issued.
    let env = [
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            self::aemm().url.as_str(),
        ),
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
    ];
    let run = doctor(&home, &[], &env);
    // sts.identity is the only failure, and it alone makes the exit status 1.
    assert_eq!(run.code, 1);
    let (summary, _) = run.expect("sts.identity", "fail");
    assert!(summary.starts_with("InvalidClientTokenId"), "{summary}");
    let failed: Vec<&String> = run
        .checks
        .iter()
        .filter(|(_, (s, _, _))| s == "fail")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(failed, ["sts.identity"]);
}

#[test]
fn sts_expired_token_is_reported_as_such() {
    let home = Home::new("sts-expired");
    let sts = ExpiredSts::start();
    let env = [
        ("AWS_ACCESS_KEY_ID", "ASIAEXPIREDEXAMPLE01"),
        ("AWS_SECRET_ACCESS_KEY", "expired-secret-never-printed"),
        ("AWS_SESSION_TOKEN", "expired-token-never-printed"),
        ("AWS_ENDPOINT_URL_STS", sts.url.as_str()),
    ];
    let run = doctor(&home, &[], &env);
    assert_eq!(run.code, 1);
    let (summary, fix) = run.expect("sts.identity", "fail");
    assert!(summary.starts_with("ExpiredToken"), "{summary}");
    assert!(
        summary.contains("The security token included in the request is expired"),
        "{summary}"
    );
    assert!(summary.contains("ASIA…LE01"), "{summary}");
    assert!(
        fix.starts_with("unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN"),
        "{fix}"
    );
    assert_eq!(
        sts.hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "ExpiredToken is not retried"
    );
    assert!(!run.all_output().contains("never-printed"));
}

// ===== output and exit status =====

#[test]
fn readable_report_marks_each_check_and_puts_the_fix_under_failures() {
    let home = Home::new("text");
    let out = Command::new(env!("CARGO_BIN_EXE_freshcreds"))
        .env_clear()
        .env("HOME", &home.dir)
        .env("FRESHCREDS_DOCTOR_PROC", home.path("proc"))
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", closed_url())
        .env("AWS_SESSION_TOKEN", "tok-never-printed")
        .args(["--ntp-server", "off", "doctor"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("freshcreds doctor "), "{text}");
    for id in [
        "clock.skew",
        "env.credentials",
        "profile.static-session-token",
        "profile.role-chain",
        "cli-cache.expired",
        "imds.reachable",
        "imds.token",
        "imds.proxy",
        "imds.role",
        "imds.credentials",
        "sts.identity",
    ] {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.split_whitespace().nth(1) == Some(id))
                .count(),
            1,
            "one line for {id}:\n{text}"
        );
    }
    let fail = lines
        .iter()
        .position(|l| l.starts_with("[FAIL] env.credentials"))
        .expect("env.credentials fails");
    assert!(
        lines[fail + 1]
            .trim_start()
            .starts_with("fix: unset AWS_SESSION_TOKEN"),
        "{text}"
    );
    let pass = lines
        .iter()
        .position(|l| l.starts_with("[pass] profile.role-chain"))
        .expect("profile.role-chain passes");
    assert!(
        !lines[pass + 1].contains("fix:"),
        "no fix under a pass:\n{text}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("verdict: problems found — fail "),
        "{text}"
    );
    assert!(!text.contains("tok-never-printed"));
}

#[test]
fn usage_errors_exit_2() {
    let home = Home::new("usage");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_freshcreds"));
        cmd.env_clear().env("HOME", &home.dir).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&["doctor", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["doctor", "--deadline", "0s"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(
        &["doctor"],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"IPv5\"") && err.contains("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
        "{err}"
    );
}
