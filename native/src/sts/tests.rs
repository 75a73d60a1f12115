use super::chain::{recursion_in_profiles, runs_chain_mode};
use super::*;
use std::collections::HashMap;

#[test]
fn reads_the_ec2_style_error_wrapping() {
    let body = br#"<?xml version="1.0"?><ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></Errors></ErrorResponse>"#;
    assert_eq!(
        wrapped_error(body),
        Some((
            "InvalidClientTokenId".into(),
            "The security token included in the request is invalid.".into()
        ))
    );
    assert_eq!(wrapped_error(b"<html>502</html>"), None);
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn throttling_codes_are_those_the_sdks_retry() {
    for code in [
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
    ] {
        assert!(is_throttling(code), "{code}");
    }
    for code in [
        "AccessDenied",
        "ExpiredToken",
        "RegionDisabledException",
        "",
    ] {
        assert!(!is_throttling(code), "{code}");
    }
}

#[test]
fn endpoint_variables_in_sdk_order() {
    let e = env(&[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:2"),
    ]);
    let var = |k: &str| e.get(k).map(String::as_str);
    assert_eq!(
        endpoint_from_env(var).as_deref(),
        Some("http://127.0.0.1:2")
    );
    let e = env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:1")]);
    let var = |k: &str| e.get(k).map(String::as_str);
    assert_eq!(
        endpoint_from_env(var).as_deref(),
        Some("http://127.0.0.1:1")
    );
    let e = env(&[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
    ]);
    let var = |k: &str| e.get(k).map(String::as_str);
    assert_eq!(endpoint_from_env(var), None);
}

#[test]
fn a_freshcreds_credential_process_recurses_only_in_chain_mode() {
    let none = env(&[]);
    let chain_env = env(&[("FRESHCREDS_SOURCE", "chain")]);
    assert!(runs_chain_mode(
        "freshcreds credentials --source chain",
        &none
    ));
    assert!(runs_chain_mode(
        "/usr/local/bin/freshcreds credentials --source=chain",
        &none
    ));
    assert!(runs_chain_mode(
        "\"/opt/fc/freshcreds\" credentials",
        &chain_env
    ));
    assert!(!runs_chain_mode("freshcreds credentials", &none));
    assert!(!runs_chain_mode(
        "freshcreds credentials --source imds",
        &chain_env
    ));
    assert!(!runs_chain_mode("freshcreds watch --source chain", &none));
    assert!(!runs_chain_mode("aws-vault exec prod --json", &chain_env));
    assert!(!runs_chain_mode("", &chain_env));
}

#[test]
fn recursion_is_found_through_source_profiles_and_the_credentials_file() {
    let dir = std::env::temp_dir().join(format!("freshcreds-recursion-{}", std::process::id()));
    std::fs::create_dir_all(dir.join(".aws")).unwrap();
    std::fs::write(
        dir.join(".aws/config"),
        "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n\n\
         [profile loop]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = loop\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(".aws/credentials"),
        "[base]\ncredential_process = freshcreds credentials --source chain\n",
    )
    .unwrap();
    let home = dir.to_string_lossy().into_owned();
    let e = env(&[("HOME", &home)]);
    let found = recursion_in_profiles(&e, "app").expect("found through source_profile");
    assert!(found.contains("profile base"), "{found}");
    assert!(found.contains("chain mode reads profile app"), "{found}");
    assert_eq!(
        recursion_in_profiles(&e, "loop"),
        None,
        "a source_profile loop ends"
    );
    assert_eq!(recursion_in_profiles(&e, "absent"), None);
    // Environment credentials win before the profile step: no recursion then.
    let e = env(&[
        ("HOME", &home),
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
    ]);
    assert_eq!(recursion_in_profiles(&e, "app"), None);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn resolve(pairs: &[(&str, &str)]) -> Result<Config> {
    let mut inputs = crate::config::Inputs::empty();
    for (k, v) in pairs {
        inputs.env.insert((*k).into(), (*v).into());
    }
    Config::resolve(&inputs)
}

fn value_of(c: &Config, name: &str) -> (String, String) {
    let r = c.resolved.iter().find(|r| r.name == name).unwrap();
    (r.value.clone(), r.origin.to_string())
}

#[test]
fn role_settings_are_validated_with_their_origin() {
    let c = resolve(&[]).unwrap();
    assert_eq!(c.role.duration, Duration::from_secs(3600));
    assert_eq!(c.role.session_name, None);
    assert_eq!(c.sts.region, None);
    assert_eq!(c.sts.endpoint, None);
    let c = resolve(&[
        ("FRESHCREDS_ROLE_SESSION_NAME", "app@prod"),
        ("FRESHCREDS_ROLE_DURATION", "900"),
        ("FRESHCREDS_EXTERNAL_ID", "ext:42/x"),
        ("FRESHCREDS_SOURCE", "imds"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/"),
    ])
    .unwrap();
    assert_eq!(c.role.session_name.as_deref(), Some("app@prod"));
    assert_eq!(c.role.duration, Duration::from_secs(900));
    assert_eq!(c.role.external_id.as_deref(), Some("ext:42/x"));
    assert_eq!(c.source, crate::config::SourceKind::InstanceProfile);
    assert_eq!(c.sts.region.as_deref(), Some("eu-west-1"));
    assert_eq!(c.sts.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
    assert_eq!(
        value_of(&c, "role.duration"),
        ("15m".into(), "env FRESHCREDS_ROLE_DURATION".into())
    );
    assert_eq!(
        value_of(&c, "sts.region"),
        ("eu-west-1".into(), "env AWS_DEFAULT_REGION".into())
    );
    let c = resolve(&[
        ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000"),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
    ])
    .unwrap();
    assert_eq!(c.sts.endpoint, None);
    assert!(value_of(&c, "sts.endpoint").0.contains("ignored"));

    for (var, value, why) in [
        ("FRESHCREDS_ROLE_DURATION", "10m", "15m to 12h"),
        ("FRESHCREDS_ROLE_DURATION", "13h", "15m to 12h"),
        ("FRESHCREDS_ROLE_SESSION_NAME", "has space", "2 to 64"),
        ("FRESHCREDS_ROLE_SESSION_NAME", "x", "2 to 64"),
        ("FRESHCREDS_EXTERNAL_ID", "a b", "2 to 1224"),
        (
            "FRESHCREDS_ROLE_SESSION_POLICY",
            "{not json",
            "not valid JSON",
        ),
        (
            "FRESHCREDS_ROLE_SESSION_POLICY",
            "[1]",
            "IAM policy document",
        ),
        ("AWS_REGION", "EU West", "region code"),
        ("AWS_ENDPOINT_URL_STS", "ftp://x", "http or https"),
        ("FRESHCREDS_SOURCE", "ecs", "imds"),
    ] {
        let e = resolve(&[(var, value)]).expect_err(value).to_string();
        assert!(e.contains(var) && e.contains(why), "{e}");
    }
}

#[test]
fn errors_are_classified_for_the_refresher() {
    let denied = Error::AssumeRoleDenied {
        role_arn: "arn:aws:iam::123456789012:role/app".into(),
        caller: "arn:aws:sts::123456789012:assumed-role/ec2/i-1 (key ASIA…0001 from x)".into(),
        message: "not authorized".into(),
        external_id_hint: String::new(),
    };
    assert!(denied.is_unrecoverable());
    let throttled = Error::StsThrottled {
        role_arn: "r".into(),
        code: "Throttling".into(),
        message: "Rate exceeded".into(),
    };
    assert!(!throttled.is_unrecoverable());
    assert!(throttled
        .to_string()
        .contains("keeping the current session"));
    let disabled = Error::StsRegionDisabled {
        region: "ap-east-1".into(),
        message: "m".into(),
    };
    assert!(disabled.is_unrecoverable());
    let expired = Error::SourceExpired {
        key: "ASIA…0001".into(),
        source_desc: "instance profile".into(),
        message: "m".into(),
        fix: "f".into(),
    };
    assert!(!expired.is_unrecoverable());
}

#[test]
fn system_properties_name_themselves_and_beat_env() {
    let mut inputs = crate::config::Inputs::empty();
    inputs
        .env
        .insert("FRESHCREDS_ROLE_DURATION".into(), "2h".into());
    for (k, v) in [
        ("freshcreds.roleArn", "arn:aws:iam::123456789012:role/app"),
        ("freshcreds.roleSessionName", "jvm-app"),
        ("freshcreds.roleDuration", "30m"),
        ("freshcreds.externalId", "ext-1"),
        ("freshcreds.source", "chain"),
    ] {
        inputs.props.insert(k.into(), v.into());
    }
    let c = Config::resolve(&inputs).unwrap();
    assert_eq!(
        c.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/app")
    );
    assert_eq!(c.role.duration, Duration::from_secs(1800));
    assert_eq!(c.source, crate::config::SourceKind::Chain);
    for (name, value, prop) in [
        ("role.session_name", "jvm-app", "freshcreds.roleSessionName"),
        ("role.duration", "30m", "freshcreds.roleDuration"),
        ("role.external_id", "ext-1", "freshcreds.externalId"),
        ("source", "chain", "freshcreds.source"),
    ] {
        assert_eq!(
            value_of(&c, name),
            (value.to_owned(), format!("system property {prop}"))
        );
    }
}
