//! `freshcreds config`: every effective setting, its value and where it came from, for
//! every way a setting can be given on the command line's side (flag, environment variable,
//! profile in the AWS config file, default), and the SDKs' endpoint rules.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// The settings `config` lists, in order.
const NAMES: [&str; 17] = [
    "imds.endpoint",
    "imds.endpoint_mode",
    "imds.disabled",
    "imds.v1_disabled",
    "imds.timeout",
    "imds.attempts",
    "refresh.ahead",
    "ntp.servers",
    "role.arn",
    "role.session_name",
    "role.duration",
    "role.external_id",
    "role.session_policy",
    "source",
    "sts.region",
    "sts.endpoint",
    "log.level",
];

/// A temporary HOME, removed on drop.
struct Home(PathBuf);

impl Home {
    fn new(name: &str) -> Home {
        let dir =
            std::env::temp_dir().join(format!("freshcreds-config-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
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

fn run(home: &Home, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_freshcreds"));
    cmd.env_clear().env("HOME", &home.0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("run freshcreds")
}

/// `config --json` as name → (value, source).
fn settings(home: &Home, flags: &[&str], env: &[(&str, &str)]) -> Vec<(String, String, String)> {
    let args: Vec<&str> = flags.iter().copied().chain(["config", "--json"]).collect();
    let out = run(home, &args, env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json.as_object().unwrap().len(), 1, "only `settings`");
    json["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s.as_object().unwrap().len(), 3, "name, value, source: {s}");
            (
                s["name"].as_str().unwrap().to_owned(),
                s["value"].as_str().unwrap().to_owned(),
                s["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn get(all: &[(String, String, String)], name: &str) -> (String, String) {
    let (_, v, s) = all
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {all:?}"));
    (v.clone(), s.clone())
}

fn pair(v: &str, s: &str) -> (String, String) {
    (v.to_owned(), s.to_owned())
}

#[test]
fn defaults_every_setting_in_order() {
    let home = Home::new("defaults");
    let all = settings(&home, &[], &[]);
    let names: Vec<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, NAMES);
    assert_eq!(
        get(&all, "imds.endpoint"),
        pair("http://169.254.169.254", "default")
    );
    assert_eq!(get(&all, "imds.endpoint_mode"), pair("IPv4", "default"));
    assert_eq!(get(&all, "imds.disabled"), pair("false", "default"));
    assert_eq!(get(&all, "imds.v1_disabled"), pair("false", "default"));
    assert_eq!(get(&all, "imds.timeout"), pair("1s", "default"));
    assert_eq!(get(&all, "imds.attempts"), pair("3", "default"));
    assert_eq!(get(&all, "refresh.ahead"), pair("auto", "default"));
    assert_eq!(get(&all, "ntp.servers"), pair("169.254.169.123", "default"));
    assert_eq!(get(&all, "role.arn"), pair("none", "default"));
    assert_eq!(get(&all, "source"), pair("instance-profile", "default"));
    assert_eq!(get(&all, "log.level"), pair("warn", "default"));
}

#[test]
fn environment_variables_name_themselves() {
    let home = Home::new("env");
    let all = settings(
        &home,
        &[],
        &[
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "http://127.0.0.1:1338/",
            ),
            ("AWS_EC2_METADATA_DISABLED", "TRUE"),
            ("AWS_EC2_METADATA_V1_DISABLED", "true"),
            ("AWS_METADATA_SERVICE_TIMEOUT", "2.5"),
            ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "5"),
            ("FRESHCREDS_REFRESH_AHEAD", "15m"),
            ("FRESHCREDS_NTP_SERVERS", "127.0.0.1:11123, time.example"),
            ("FRESHCREDS_ROLE_ARN", "arn:aws:iam::123456789012:role/app"),
            ("FRESHCREDS_SOURCE", "chain"),
            ("FRESHCREDS_LOG", "debug"),
        ],
    );
    let env = |v: &str| format!("env {v}");
    assert_eq!(
        get(&all, "imds.endpoint"),
        pair(
            "http://127.0.0.1:1338",
            &env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        )
    );
    assert_eq!(
        get(&all, "imds.disabled"),
        pair("true", &env("AWS_EC2_METADATA_DISABLED"))
    );
    assert_eq!(
        get(&all, "imds.v1_disabled"),
        pair("true", &env("AWS_EC2_METADATA_V1_DISABLED"))
    );
    assert_eq!(
        get(&all, "imds.timeout"),
        pair("2.5s", &env("AWS_METADATA_SERVICE_TIMEOUT"))
    );
    assert_eq!(
        get(&all, "imds.attempts"),
        pair("5", &env("AWS_METADATA_SERVICE_NUM_ATTEMPTS"))
    );
    assert_eq!(
        get(&all, "refresh.ahead"),
        pair("15m", &env("FRESHCREDS_REFRESH_AHEAD"))
    );
    assert_eq!(
        get(&all, "ntp.servers"),
        pair(
            "127.0.0.1:11123,time.example",
            &env("FRESHCREDS_NTP_SERVERS")
        )
    );
    assert_eq!(
        get(&all, "role.arn"),
        pair(
            "arn:aws:iam::123456789012:role/app",
            &env("FRESHCREDS_ROLE_ARN")
        )
    );
    assert_eq!(
        get(&all, "source"),
        pair("chain", &env("FRESHCREDS_SOURCE"))
    );
    assert_eq!(
        get(&all, "log.level"),
        pair("debug", &env("FRESHCREDS_LOG"))
    );
}

#[test]
fn profile_settings_name_the_file_and_profile() {
    let home = Home::new("profile");
    let default_file = home.write(
        ".aws/config",
        "[default]\nec2_metadata_service_endpoint_mode = ipv6\nmetadata_service_timeout = 3\n\
         [profile prod]\nec2_metadata_service_endpoint = http://127.0.0.1:1340\nmetadata_service_num_attempts = 7\nec2_metadata_v1_disabled = true\n",
    );
    // ~/.aws/config, profile default.
    let all = settings(&home, &[], &[]);
    let from = |p: &str, f: &PathBuf, k: &str| format!("profile {p} ({}) {k}", f.display());
    assert_eq!(
        get(&all, "imds.endpoint_mode"),
        pair(
            "IPv6",
            &from(
                "default",
                &default_file,
                "ec2_metadata_service_endpoint_mode"
            )
        )
    );
    assert_eq!(
        get(&all, "imds.endpoint"),
        pair("http://[fd00:ec2::254]", "default")
    );
    assert_eq!(
        get(&all, "imds.timeout"),
        pair(
            "3s",
            &from("default", &default_file, "metadata_service_timeout")
        )
    );

    // AWS_PROFILE picks another profile.
    let all = settings(&home, &[], &[("AWS_PROFILE", "prod")]);
    assert_eq!(
        get(&all, "imds.endpoint"),
        pair(
            "http://127.0.0.1:1340",
            &from("prod", &default_file, "ec2_metadata_service_endpoint")
        )
    );
    assert_eq!(
        get(&all, "imds.attempts"),
        pair(
            "7",
            &from("prod", &default_file, "metadata_service_num_attempts")
        )
    );
    assert_eq!(
        get(&all, "imds.v1_disabled"),
        pair(
            "true",
            &from("prod", &default_file, "ec2_metadata_v1_disabled")
        )
    );

    // AWS_CONFIG_FILE points elsewhere; the file in HOME is then not read.
    let other = home.write(
        "elsewhere/cfg",
        "[profile x]\nmetadata_service_timeout = 4\n",
    );
    let all = settings(
        &home,
        &[],
        &[
            ("AWS_CONFIG_FILE", other.to_str().unwrap()),
            ("AWS_PROFILE", "x"),
        ],
    );
    assert_eq!(
        get(&all, "imds.timeout"),
        pair("4s", &from("x", &other, "metadata_service_timeout"))
    );
    assert_eq!(get(&all, "imds.endpoint_mode"), pair("IPv4", "default"));

    // The environment wins over the profile.
    let all = settings(&home, &[], &[("AWS_METADATA_SERVICE_TIMEOUT", "0.5")]);
    assert_eq!(
        get(&all, "imds.timeout"),
        pair("0.5s", "env AWS_METADATA_SERVICE_TIMEOUT")
    );
}

#[test]
fn flags_win_over_environment_and_profile() {
    let home = Home::new("flags");
    home.write(
        ".aws/config",
        "[default]\nec2_metadata_service_endpoint = http://127.0.0.1:1341\n",
    );
    let env = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1342"),
        ("AWS_METADATA_SERVICE_TIMEOUT", "2"),
        ("FRESHCREDS_NTP_SERVERS", "127.0.0.1:1"),
    ];
    let all = settings(
        &home,
        &[
            "--imds-endpoint",
            "http://127.0.0.1:1343",
            "--imds-timeout",
            "0.25",
            "--imds-attempts",
            "1",
            "--refresh-ahead",
            "90s",
            "--ntp-server",
            "off",
        ],
        &env,
    );
    assert_eq!(
        get(&all, "imds.endpoint"),
        pair("http://127.0.0.1:1343", "--imds-endpoint")
    );
    assert_eq!(get(&all, "imds.timeout"), pair("0.25s", "--imds-timeout"));
    assert_eq!(get(&all, "imds.attempts"), pair("1", "--imds-attempts"));
    assert_eq!(get(&all, "refresh.ahead"), pair("90s", "--refresh-ahead"));
    assert_eq!(get(&all, "ntp.servers"), pair("off", "--ntp-server"));

    // Without the flag, env beats the profile.
    let all = settings(&home, &[], &env);
    assert_eq!(
        get(&all, "imds.endpoint"),
        pair(
            "http://127.0.0.1:1342",
            "env AWS_EC2_METADATA_SERVICE_ENDPOINT"
        )
    );
}

#[test]
fn endpoint_mode_rules_follow_the_sdks() {
    let home = Home::new("mode");
    // Case-insensitive, from the flag.
    let all = settings(&home, &["--imds-endpoint-mode", "IPV6"], &[]);
    assert_eq!(
        get(&all, "imds.endpoint"),
        pair("http://[fd00:ec2::254]", "default")
    );
    assert_eq!(
        get(&all, "imds.endpoint_mode"),
        pair("IPv6", "--imds-endpoint-mode")
    );
    // An explicit endpoint (even from env) wins over a mode (even from a flag).
    let all = settings(
        &home,
        &["--imds-endpoint-mode", "ipv6"],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1344")],
    );
    assert_eq!(
        get(&all, "imds.endpoint"),
        pair(
            "http://127.0.0.1:1344",
            "env AWS_EC2_METADATA_SERVICE_ENDPOINT"
        )
    );
    let (mode, source) = get(&all, "imds.endpoint_mode");
    assert!(mode.contains("ignored"), "{mode}");
    assert_eq!(source, "--imds-endpoint-mode");
}

/// Flags, environment, the bad value as quoted in the message, and the source it names.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str, &'a str);

#[test]
fn invalid_values_exit_2_and_name_the_value_and_its_source() {
    let home = Home::new("invalid");
    let cases: [Case; 5] = [
        (
            &["--imds-endpoint-mode", "IPv5"],
            &[],
            "\"IPv5\"",
            "--imds-endpoint-mode",
        ),
        (
            &[],
            &[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "dual")],
            "\"dual\"",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        ),
        (
            &["--imds-endpoint", "not a url"],
            &[],
            "\"not a url\"",
            "--imds-endpoint",
        ),
        (
            &[],
            &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ftp://169.254.169.254")],
            "\"ftp://169.254.169.254\"",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        ),
        (
            &[],
            &[("FRESHCREDS_ROLE_ARN", "role/app")],
            "\"role/app\"",
            "FRESHCREDS_ROLE_ARN",
        ),
    ];
    for (flags, env, value, source) in cases {
        let args: Vec<&str> = flags.iter().copied().chain(["config"]).collect();
        let out = run(&home, &args, env);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(value) && err.contains(source), "{err}");
        assert!(out.stdout.is_empty());
    }
    // A profile's bad mode names the file and profile.
    let file = home.write(
        ".aws/config",
        "[default]\nec2_metadata_service_endpoint_mode = IPv7\n",
    );
    let out = run(&home, &["config"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"IPv7\"") && err.contains(&file.display().to_string()),
        "{err}"
    );
}

#[test]
fn readable_table_lists_name_value_and_source() {
    let home = Home::new("table");
    let out = run(&home, &["config"], &[("FRESHCREDS_LOG", "info")]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), NAMES.len() + 1, "{text}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "VALUE", "SOURCE"]);
    let endpoint: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        endpoint,
        ["imds.endpoint", "http://169.254.169.254", "default"]
    );
    let log: Vec<&str> = lines.last().unwrap().split_whitespace().collect();
    assert_eq!(log, ["log.level", "info", "env", "FRESHCREDS_LOG"]);
}
