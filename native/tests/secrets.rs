//! Secrets never reach a log line or `Debug`, even at trace level. Its own test binary,
//! because it captures every log line of the process.

mod common;

use std::process::Command;
use std::time::Duration;

use common::fake_imds::{Creds, FakeImds, Reply};
use common::{engine, wait_event, LogCapture};
use freshcreds::Event;

const HOUR: Duration = Duration::from_secs(3600);

fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{what} contains a secret ({s}):\n{text}");
    }
}

#[test]
fn no_secret_in_trace_logs_or_debug_output() {
    let log = LogCapture::global();
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = engine(&fake.url);
    let mut events = engine.subscribe();
    let first = engine.credentials_blocking(Duration::from_secs(5)).unwrap();
    // A rotation, then failures whose bodies carry secrets.
    fake.with(|s| s.creds = Creds::numbered(2, HOUR));
    engine.invalidate();
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
    fake.with(|s| {
        s.creds_reply = Reply::Body(
            br#"{"SecretAccessKey":"fake-secret-key-number-2-SECRETVALUE","Token":1}"#.to_vec(),
        )
    });
    engine.invalidate();
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::RefreshFailed { .. })
    });
    fake.with(|s| s.creds.code = "Failure".into());
    fake.with(|s| s.creds_reply = Reply::Normal);
    engine.invalidate();
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::RefreshFailed { .. })
    });

    let current = engine.snapshot().unwrap();
    let secrets = [
        first.credentials.secret_access_key().expose().to_owned(),
        first
            .credentials
            .session_token()
            .unwrap()
            .expose()
            .to_owned(),
        current.credentials.secret_access_key().expose().to_owned(),
        current
            .credentials
            .session_token()
            .unwrap()
            .expose()
            .to_owned(),
        "SECRETVALUE".to_owned(),
        "TOKENVALUE".to_owned(),
    ];
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let text = log.text();
    assert!(text.contains("TRACE"), "trace level was captured");
    assert!(text.contains("credentials refreshed"), "the engine logged");
    assert_clean("the trace log", &text, &secrets);
    // The IMDS session token is no AWS secret, but it grants metadata access: not logged either.
    assert_clean("the trace log", &text, &["token-1"]);

    let debug = format!(
        "{:?} {:?} {:?} {:?} {:?} {:?}",
        current,
        current.credentials,
        engine.health(),
        engine,
        current.credentials.secret_access_key(),
        current.credentials.session_token()
    );
    assert!(debug.contains("ASIA…0002"), "{debug}");
    assert_clean("Debug output", &debug, &secrets);
    let display = format!(
        "{} {}",
        current.credentials.secret_access_key(),
        current.credentials.session_token().unwrap()
    );
    assert_clean("Display output", &display, &secrets);
}

#[test]
fn the_cli_at_trace_level_logs_no_secret() {
    let fake = FakeImds::start(Creds::numbered(7, HOUR));
    let out = Command::new(env!("CARGO_BIN_EXE_freshcreds"))
        .args([
            "--imds-endpoint",
            &fake.url,
            "--ntp-server",
            "off",
            "credentials",
        ])
        .env("FRESHCREDS_LOG", "trace")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TRACE"),
        "trace logging reached stderr: {stderr}"
    );
    assert_clean("stderr", &stderr, &["SECRETVALUE", "TOKENVALUE", "token-1"]);
    // stdout is the credential_process answer and does carry them, by design.
    assert!(String::from_utf8_lossy(&out.stdout).contains("SECRETVALUE"));
}

/// The STS sources at trace level (the AWS SDK's own trace events included): assume-role on
/// the default chain's environment credentials, against moto with authentication on.
#[test]
fn assume_role_and_chain_mode_at_trace_level_log_no_secret() {
    let moto = common::rig("moto.sh", &["start"], &[]);
    let url = moto["MOTO_URL"].clone();
    let port = url.rsplit(':').next().unwrap().to_owned();
    let role =
        common::rig("moto.sh", &["create-role", &port, "app-role", "all"], &[])["ROLE_ARN"].clone();
    let source = common::rig("moto.sh", &["assume-role", &port, "3600", "traced"], &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_freshcreds"))
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .env("FRESHCREDS_LOG", "trace")
        .env("FRESHCREDS_NTP_SERVERS", "off")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_STS", &url)
        .env("AWS_ACCESS_KEY_ID", &source["AWS_ACCESS_KEY_ID"])
        .env("AWS_SECRET_ACCESS_KEY", &source["AWS_SECRET_ACCESS_KEY"])
        .env("AWS_SESSION_TOKEN", &source["AWS_SESSION_TOKEN"])
        .args(["credentials", "--source", "chain", "--role-arn", &role])
        .output()
        .unwrap();
    let _ = Command::new(common::repo_root().join("tests/rig/moto.sh"))
        .args(["stop", &port])
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("STS.AssumeRole"),
        "the SDK's trace events were on: {stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let role_secret = json["SecretAccessKey"].as_str().unwrap();
    let role_token = json["SessionToken"].as_str().unwrap();
    assert_clean(
        "stderr",
        &stderr,
        &[
            role_secret,
            role_token,
            &source["AWS_SECRET_ACCESS_KEY"],
            &source["AWS_SESSION_TOKEN"],
        ],
    );
}
