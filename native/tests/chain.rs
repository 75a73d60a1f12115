//! Chain mode (`--source chain`), run as the real `freshcreds` binary in a temporary HOME
//! against real peers on 127.0.0.1: moto server with authentication on (STS for profile
//! roles, and the issuer of every credential used here) and AEMM as IMDS.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use common::{rig, Aemm};
use freshcreds::internal::{parse_rfc3339, rfc3339};
use serde_json::Value;

/// A temporary HOME, removed on drop.
struct Home(PathBuf);

impl Home {
    fn new(name: &str) -> Home {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "freshcreds-chain-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".aws")).unwrap();
        Home(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// moto with authentication on, its admin key and `app-role` (trusts anyone, allows all).
struct Moto {
    url: String,
    port: String,
    admin_key: String,
    admin_secret: String,
    app_role: String,
}

impl Moto {
    fn get() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(|| {
            let m = common::MotoServer::start();
            let app_role = m.create_role("app-role", "all");
            Moto {
                url: m.url,
                port: m.port,
                admin_key: m.admin_key,
                admin_secret: m.admin_secret,
                app_role,
            }
        })
    }

    /// Temporary `rig-role` credentials: (key, secret, token, expiration).
    fn session(&self, name: &str) -> [String; 4] {
        let v = rig("moto.sh", &["assume-role", &self.port, "3600", name], &[]);
        [
            v["AWS_ACCESS_KEY_ID"].clone(),
            v["AWS_SECRET_ACCESS_KEY"].clone(),
            v["AWS_SESSION_TOKEN"].clone(),
            v["AWS_CREDENTIAL_EXPIRATION"].clone(),
        ]
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_freshcreds")
}

/// `freshcreds` in a clean environment: this HOME, no AWS settings of the machine, NTP
/// off, IMDS at `imds` (a closed port when `None`).
fn freshcreds(home: &Home, imds: Option<&str>) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home.0)
        .env("FRESHCREDS_NTP_SERVERS", "off")
        .env("AWS_METADATA_SERVICE_TIMEOUT", "0.5")
        .env("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1")
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            imds.unwrap_or("http://127.0.0.1:9"),
        );
    cmd
}

fn credentials(cmd: &mut Command, extra: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = cmd
        .args(["credentials", "--wait", "10s"])
        .args(extra)
        .output()
        .unwrap();
    (out, started.elapsed())
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("credential_process JSON")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// moto's view of these credentials (GetCallerIdentity through botocore in moto's venv).
fn caller(moto: &Moto, j: &Value) -> String {
    let python = common::rig_dir().join("moto/venv/bin/python");
    let out = Command::new(python)
        .env_clear()
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", j["AccessKeyId"].as_str().unwrap())
        .env("AWS_SECRET_ACCESS_KEY", j["SecretAccessKey"].as_str().unwrap())
        .env("AWS_SESSION_TOKEN", j["SessionToken"].as_str().unwrap_or(""))
        .args([
            "-c",
            "import sys, botocore.session; s = botocore.session.Session(); \
             print(s.create_client('sts', region_name='us-east-1', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])",
            &moto.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn expires_in(j: &Value) -> Duration {
    parse_rfc3339(j["Expiration"].as_str().unwrap())
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap_or_default()
}

#[test]
fn env_credentials_with_a_static_session_token_are_reported_unrefreshable() {
    let moto = Moto::get();
    let home = Home::new("env");
    let [key, secret, token, expiration] = moto.session("env-chain");
    let env = |cmd: &mut Command| {
        cmd.env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .env("AWS_SESSION_TOKEN", &token);
    };

    // Known expiry: served until then, with a warning that names it.
    let mut cmd = freshcreds(&home, None);
    env(&mut cmd);
    cmd.env("AWS_CREDENTIAL_EXPIRATION", &expiration);
    let (out, took) = credentials(&mut cmd, &["--source", "chain"]);
    let j = json(&out);
    assert_eq!(j["AccessKeyId"], key.as_str());
    assert_eq!(j["Expiration"], expiration.as_str());
    assert!(
        took < Duration::from_secs(3),
        "no IMDS wait for env credentials: {took:?}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("static session token from env AWS_SESSION_TOKEN"),
        "{err}"
    );
    assert!(err.contains("cannot be refreshed"), "{err}");
    assert!(err.contains(&format!("expires at {expiration}")), "{err}");
    assert!(!err.contains(&secret) && !err.contains(&token));
    assert_eq!(
        caller(moto, &j),
        "arn:aws:sts::123456789012:assumed-role/rig-role/env-chain"
    );

    // Past its expiry: refused, never served, and said so.
    let past = rfc3339(SystemTime::now() - Duration::from_secs(60));
    let mut cmd = freshcreds(&home, None);
    env(&mut cmd);
    cmd.env("AWS_CREDENTIAL_EXPIRATION", &past);
    let (out, _) = credentials(&mut cmd, &["--source", "chain"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing served");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("expired at {past} and cannot be refreshed")),
        "{err}"
    );

    // Unknown expiry: served, with a warning that says so.
    let mut cmd = freshcreds(&home, None);
    env(&mut cmd);
    let (out, _) = credentials(&mut cmd, &["--source", "chain"]);
    let j = json(&out);
    let left = expires_in(&j);
    assert!(
        left > Duration::from_secs(3500) && left <= Duration::from_secs(3600),
        "{left:?}"
    );
    assert!(
        stderr(&out).contains("its expiry is unknown"),
        "{}",
        stderr(&out)
    );

    // Long-term keys: nothing to warn about.
    let mut cmd = freshcreds(&home, None);
    cmd.env("AWS_ACCESS_KEY_ID", &moto.admin_key)
        .env("AWS_SECRET_ACCESS_KEY", &moto.admin_secret);
    let (out, _) = credentials(&mut cmd, &["--source", "chain"]);
    let j = json(&out);
    assert_eq!(j["AccessKeyId"], moto.admin_key.as_str());
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn a_source_profile_role_in_a_temporary_home() {
    let moto = Moto::get();
    let home = Home::new("source-profile");
    home.write(
        ".aws/config",
        &format!(
            "[profile dev]\nrole_arn = {}\nsource_profile = base\nrole_session_name = dev-session\n\n[profile base]\nregion = us-east-1\n",
            moto.app_role
        ),
    );
    home.write(
        ".aws/credentials",
        &format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            moto.admin_key, moto.admin_secret
        ),
    );
    let mut cmd = freshcreds(&home, None);
    cmd.env("AWS_PROFILE", "dev")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_STS", &moto.url);
    let (out, _) = credentials(&mut cmd, &["--source", "chain"]);
    let j = json(&out);
    assert!(j["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let left = expires_in(&j);
    assert!(
        left > Duration::from_secs(3000),
        "a refreshable 1 h session: {left:?}"
    );
    assert!(
        out.stderr.is_empty(),
        "nothing to warn about: {}",
        stderr(&out)
    );
    assert_eq!(
        caller(moto, &j),
        "arn:aws:sts::123456789012:assumed-role/app-role/dev-session"
    );

    // And a role on top of the chain (FRESHCREDS_ROLE_ARN), signed with the profile's.
    let mut cmd = freshcreds(&home, None);
    cmd.env("AWS_PROFILE", "dev")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_STS", &moto.url)
        .env("FRESHCREDS_SOURCE", "chain")
        .env("FRESHCREDS_ROLE_ARN", &moto.app_role)
        .env("FRESHCREDS_ROLE_SESSION_NAME", "on-top");
    let (out, _) = credentials(&mut cmd, &[]);
    let j = json(&out);
    assert_eq!(
        caller(moto, &j),
        "arn:aws:sts::123456789012:assumed-role/app-role/on-top"
    );
}

#[test]
fn credential_source_ec2_instance_metadata_uses_the_engines_imds_client() {
    let moto = Moto::get();
    let [key, secret, token, expiration] = moto.session("instance");
    let aemm = Aemm::start();
    aemm.rotate(
        &key,
        &secret,
        &token,
        &expiration,
        &rfc3339(SystemTime::now()),
    );
    let home = Home::new("credential-source");
    home.write(
        ".aws/config",
        &format!(
            "[default]\nrole_arn = {}\ncredential_source = Ec2InstanceMetadata\nrole_session_name = from-imds\n",
            moto.app_role
        ),
    );
    let mut cmd = freshcreds(&home, Some(&aemm.url));
    cmd.env("AWS_ENDPOINT_URL_STS", &moto.url);
    let (out, _) = credentials(&mut cmd, &["--source", "chain"]);
    let j = json(&out);
    assert_eq!(
        caller(moto, &j),
        "arn:aws:sts::123456789012:assumed-role/app-role/from-imds"
    );
}

#[test]
fn imds_comes_last_and_an_empty_chain_says_what_each_step_found() {
    let moto = Moto::get();
    let aemm = Aemm::start();
    let home = Home::new("imds-last");
    // Nothing in env or profile: the chain ends at IMDS (AEMM's own random credentials).
    let (out, _) = credentials(
        &mut freshcreds(&home, Some(&aemm.url)),
        &["--source", "chain"],
    );
    let j = json(&out);
    let served = aemm_key(&aemm);
    assert_eq!(j["AccessKeyId"], served.as_str());

    // Role on top of IMDS through the chain: role chaining, capped at 1 h when it is seen.
    let [key, secret, token, expiration] = moto.session("chain-imds");
    aemm.rotate(
        &key,
        &secret,
        &token,
        &expiration,
        &rfc3339(SystemTime::now()),
    );
    let mut cmd = freshcreds(&home, Some(&aemm.url));
    cmd.env("AWS_ENDPOINT_URL_STS", &moto.url);
    let (out, _) = credentials(
        &mut cmd,
        &[
            "--source",
            "chain",
            "--role-arn",
            &moto.app_role,
            "--duration",
            "2h",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("role chaining"), "{}", stderr(&out));
    let mut cmd = freshcreds(&home, Some(&aemm.url));
    cmd.env("AWS_ENDPOINT_URL_STS", &moto.url);
    let (out, _) = credentials(
        &mut cmd,
        &[
            "--source",
            "chain",
            "--role-arn",
            &moto.app_role,
            "--role-session-name",
            "via-chain",
        ],
    );
    let j = json(&out);
    assert_eq!(
        caller(moto, &j),
        "arn:aws:sts::123456789012:assumed-role/app-role/via-chain"
    );

    // Nothing anywhere.
    let (out, took) = credentials(&mut freshcreds(&home, None), &["--source", "chain"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let err = stderr(&out);
    for step in [
        "no credentials in the default chain",
        "env:",
        "profile default:",
        "web identity:",
        "container:",
        "IMDS:",
    ] {
        assert!(err.contains(step), "{step} in {err}");
    }
}

/// The key AEMM serves now (read with the engine in imds mode).
fn aemm_key(aemm: &Aemm) -> String {
    let home = Home::new("aemm-key");
    let (out, _) = credentials(&mut freshcreds(&home, Some(&aemm.url)), &[]);
    json(&out)["AccessKeyId"].as_str().unwrap().to_owned()
}

#[test]
fn a_credential_process_of_freshcreds_in_chain_mode_is_refused_not_recursed() {
    let home = Home::new("recursion");
    // Explicitly in chain mode.
    home.write(
        ".aws/config",
        &format!(
            "[default]\ncredential_process = {} credentials --source chain\n",
            bin()
        ),
    );
    let (out, took) = credentials(&mut freshcreds(&home, None), &["--source", "chain"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(5), "{took:?}");
    let err = stderr(&out);
    assert!(
        err.contains("chain mode would recurse into itself"),
        "{err}"
    );
    assert!(
        err.contains("profile default has credential_process"),
        "{err}"
    );
    assert!(err.contains("--source imds"), "says the fix: {err}");

    // Chain mode inherited through FRESHCREDS_SOURCE.
    home.write(
        ".aws/config",
        &format!("[default]\ncredential_process = {} credentials\n", bin()),
    );
    let mut cmd = freshcreds(&home, None);
    cmd.env("FRESHCREDS_SOURCE", "chain");
    let (out, _) = credentials(&mut cmd, &[]);
    assert!(stderr(&out).contains("would recurse"), "{}", stderr(&out));

    // Hidden behind a wrapper script: the child refuses, the parent reports the failure.
    let wrapper = home.write(
        "bin/creds-wrapper",
        &format!("#!/bin/sh\nexec {} credentials --source chain\n", bin()),
    );
    make_executable(&wrapper);
    home.write(
        ".aws/config",
        &format!("[default]\ncredential_process = {}\n", wrapper.display()),
    );
    let (out, took) = credentials(&mut freshcreds(&home, None), &["--source", "chain"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let err = stderr(&out);
    assert!(err.contains("profile default step failed"), "{err}");

    // In imds mode the same profile is fine: the process reads IMDS, not the chain.
    let aemm = Aemm::start();
    home.write(
        ".aws/config",
        &format!(
            "[default]\ncredential_process = {} credentials --source imds\n",
            bin()
        ),
    );
    let (out, _) = credentials(
        &mut freshcreds(&home, Some(&aemm.url)),
        &["--source", "chain"],
    );
    let j = json(&out);
    assert_eq!(j["AccessKeyId"], aemm_key(&aemm).as_str());
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_refreshable_step_that_answers_expired_credentials_is_an_error_not_a_loop() {
    let home = Home::new("expired-process");
    let script = home.write(
        "bin/old-creds",
        "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"ASIAOLDOLDOLDOLD0001\",\"SecretAccessKey\":\"old-secret\",\"SessionToken\":\"old-token\",\"Expiration\":\"2020-01-01T00:00:00Z\"}'\n",
    );
    make_executable(&script);
    home.write(
        ".aws/config",
        &format!("[default]\ncredential_process = {}\n", script.display()),
    );
    let mut cmd = freshcreds(&home, None);
    cmd.env("AWS_REGION", "us-east-1");
    let (out, took) = credentials(&mut cmd, &["--source", "chain"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(5), "{took:?}");
    let err = stderr(&out);
    assert!(
        err.contains("profile default step failed")
            && err.contains("expired at 2020-01-01T00:00:00Z"),
        "{err}"
    );
    assert!(
        !err.contains("old-secret") && !err.contains("old-token"),
        "{err}"
    );
}
