//! The `freshcreds` binary: `credentials` (credential_process JSON) and `watch`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::fake_imds::{Creds, FakeImds};
use common::Aemm;
use freshcreds::internal::{parse_rfc3339, rfc3339};

fn freshcreds() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_freshcreds"));
    // A clean environment: no AWS settings of the machine running the tests.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir());
    cmd
}

#[test]
fn credentials_prints_credential_process_json() {
    let aemm = Aemm::start();
    let out = freshcreds()
        .args(["credentials"])
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &aemm.url)
        .env("FRESHCREDS_NTP_SERVERS", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["Version"], 1);
    assert!(json["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(!json["SecretAccessKey"].as_str().unwrap().is_empty());
    assert!(!json["SessionToken"].as_str().unwrap().is_empty());
    let expiration =
        parse_rfc3339(json["Expiration"].as_str().unwrap()).expect("RFC 3339 Expiration");
    assert!(expiration > SystemTime::now());
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr at the default level: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn imds_is_never_reached_through_a_proxy() {
    let fake = FakeImds::start(Creds::numbered(3, Duration::from_secs(3600)));
    let out = freshcreds()
        .args([
            "--imds-endpoint",
            &fake.url,
            "--ntp-server",
            "off",
            "credentials",
        ])
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a dead proxy must not matter: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ASIAFAKE000000000003"));
}

#[test]
fn credentials_fails_clearly_with_nothing_at_the_endpoint() {
    let t = Instant::now();
    let out = freshcreds()
        .args([
            "--imds-endpoint",
            "http://127.0.0.1:9",
            "--ntp-server",
            "off",
            "credentials",
            "--wait",
            "3s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no partial JSON on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unreachable") && err.contains("127.0.0.1:9"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(6));
}

#[test]
fn a_bad_setting_is_a_usage_error_naming_it() {
    let out = freshcreds()
        .args(["credentials"])
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv7")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("IPv7") && err.contains("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
        "{err}"
    );
}

/// `credential_process = freshcreds credentials` in ~/.aws/config, read by a real AWS SDK:
/// botocore, from the rig's Python environment (moto's venv).
#[test]
fn works_as_credential_process_for_an_aws_sdk() {
    let aemm = Aemm::start();
    common::rig("moto.sh", &["install"], &[]);
    let python = common::rig_dir().join("moto/venv/bin/python");
    let home = tempdir("cp-home");
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile fresh]\ncredential_process = {} --imds-endpoint {} --ntp-server off credentials\n",
            env!("CARGO_BIN_EXE_freshcreds"),
            aemm.url
        ),
    )
    .unwrap();
    let script = "import botocore.session\n\
                  s = botocore.session.Session(profile='fresh')\n\
                  c = s.get_credentials().get_frozen_credentials()\n\
                  print(c.access_key, len(c.secret_key), len(c.token))\n";
    let out = Command::new(python)
        .args(["-c", script])
        .env_clear()
        .env("HOME", &home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert!(fields[0].starts_with("ASIA"), "{line}");
    assert!(
        fields[1].parse::<usize>().unwrap() > 0 && fields[2].parse::<usize>().unwrap() > 0,
        "{line}"
    );
    std::fs::remove_dir_all(home).unwrap();
}

#[test]
fn watch_prints_refreshes_and_failures_until_interrupted() {
    let mut creds = Creds::numbered(1, Duration::from_secs(6));
    creds.last_updated = SystemTime::now() - Duration::from_secs(6);
    let fake = FakeImds::start(creds);
    let mut child = freshcreds()
        .args([
            "--imds-endpoint",
            &fake.url,
            "--ntp-server",
            "off",
            "--imds-timeout",
            "0.3",
            "watch",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let mut next = |want: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                lines.push(line.clone());
                if line.contains(want) {
                    return line;
                }
            }
        }
        panic!("no line with {want:?}; got {lines:#?}");
    };
    let first = next("refreshed seq=1");
    assert!(
        first.contains("key=ASIA…0001") && first.contains("next_refresh="),
        "{first}"
    );
    // The same set again while IMDS has not rotated, then the rotation (a short set, so
    // the next refresh comes soon).
    next("unchanged");
    let mut rotated = Creds::numbered(2, Duration::from_secs(6));
    rotated.last_updated = SystemTime::now() - Duration::from_secs(6);
    let rotated_expiry = rfc3339(rotated.expiration);
    fake.with(|s| s.creds = rotated);
    let second = next("refreshed seq=2");
    assert!(
        second.contains(&format!("expires={rotated_expiry}")),
        "{second}"
    );
    // A failure shows the cause, the retry and what is still served.
    fake.with(|s| s.role = None);
    // A refresh already past the role list fails on the credentials path first (404); the
    // next one reads the empty role list.
    let failure = next("no IAM role is attached");
    assert!(
        failure.contains("no IAM role is attached") && failure.contains("retry_in="),
        "{failure}"
    );
    assert!(
        failure.contains(&format!("serving_until={rotated_expiry}")),
        "{failure}"
    );
    // Interrupted: exits cleanly.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let code = loop {
        if let Some(code) = child.try_wait().unwrap() {
            break code;
        }
        assert!(Instant::now() < deadline, "watch did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(code.success(), "{code:?}");
    assert!(lines
        .iter()
        .all(|l| !l.contains("SECRETVALUE") && !l.contains("TOKENVALUE")));
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("freshcreds-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
