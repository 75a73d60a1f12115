use super::*;

fn inputs(env: &[(&str, &str)], props: &[(&str, &str)]) -> Inputs {
    let mut i = Inputs::empty();
    for (k, v) in env {
        i.env.insert((*k).into(), (*v).into());
    }
    for (k, v) in props {
        i.props.insert((*k).into(), (*v).into());
    }
    i
}

fn origin_of(c: &Config, name: &str) -> Origin {
    c.resolved
        .iter()
        .find(|r| r.name == name)
        .unwrap()
        .origin
        .clone()
}

#[test]
fn defaults() {
    let c = Config::resolve(&Inputs::empty()).unwrap();
    assert_eq!(c.imds_endpoint.as_str(), "http://169.254.169.254/");
    assert!(!c.imds_disabled && !c.v1_disabled);
    assert_eq!(c.imds_timeout, Duration::from_secs(1));
    assert_eq!(c.imds_attempts, 3);
    assert_eq!(c.refresh_ahead, None);
    assert_eq!(c.ntp_servers, vec!["169.254.169.123".to_owned()]);
    assert_eq!(c.log_level, "warn");
    assert_eq!(origin_of(&c, "imds.endpoint"), Origin::Default);
}

#[test]
fn system_property_beats_env_and_override_beats_both() {
    let mut i = inputs(
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")],
        &[("aws.ec2MetadataServiceEndpoint", "http://127.0.0.1:2")],
    );
    let c = Config::resolve(&i).unwrap();
    assert_eq!(c.imds_endpoint.port(), Some(2));
    assert_eq!(
        origin_of(&c, "imds.endpoint"),
        Origin::SystemProperty("aws.ec2MetadataServiceEndpoint".into())
    );
    i.set("imds.endpoint", "http://127.0.0.1:3", "--imds-endpoint");
    let c = Config::resolve(&i).unwrap();
    assert_eq!(c.imds_endpoint.port(), Some(3));
    assert_eq!(
        origin_of(&c, "imds.endpoint"),
        Origin::Override("--imds-endpoint".into())
    );
}

#[test]
fn v1_sdk_property_sets_the_endpoint() {
    let c = Config::resolve(&inputs(
        &[],
        &[(
            "com.amazonaws.sdk.ec2MetadataServiceEndpointOverride",
            "http://127.0.0.1:9",
        )],
    ))
    .unwrap();
    assert_eq!(c.imds_endpoint.port(), Some(9));
}

#[test]
fn mode_is_case_insensitive_and_explicit_endpoint_ignores_a_bad_mode() {
    let c = Config::resolve(&inputs(
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPV6")],
        &[],
    ))
    .unwrap();
    assert_eq!(c.imds_endpoint.as_str(), "http://[fd00:ec2::254]/");
    let c = Config::resolve(&inputs(
        &[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "bogus"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:5"),
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(c.imds_endpoint.port(), Some(5));
}

#[test]
fn bad_values_name_setting_value_and_origin() {
    let err = Config::resolve(&inputs(
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5")],
        &[],
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("imds.endpoint_mode")
            && err.contains("IPv5")
            && err.contains("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
        "{err}"
    );

    let err = Config::resolve(&inputs(
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ftp://x")],
        &[],
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("ftp://x") && err.contains("http or https"),
        "{err}"
    );

    for (k, v) in [
        ("AWS_METADATA_SERVICE_TIMEOUT", "soon"),
        ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "0"),
        ("AWS_EC2_METADATA_V1_DISABLED", "yes"),
        ("FRESHCREDS_REFRESH_AHEAD", "later"),
    ] {
        let err = Config::resolve(&inputs(&[(k, v)], &[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(k) && err.contains(v), "{err}");
    }
}

#[test]
fn numbers_durations_and_lists() {
    let c = Config::resolve(&inputs(
        &[
            ("AWS_METADATA_SERVICE_TIMEOUT", "2.5"),
            ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "5"),
            ("FRESHCREDS_REFRESH_AHEAD", "90s"),
            ("FRESHCREDS_NTP_SERVERS", "127.0.0.1:11123, 10.0.0.1"),
            ("AWS_EC2_METADATA_DISABLED", "TRUE"),
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(c.imds_timeout, Duration::from_millis(2500));
    assert_eq!(c.imds_attempts, 5);
    assert_eq!(c.refresh_ahead, Some(Duration::from_secs(90)));
    assert_eq!(c.ntp_servers, vec!["127.0.0.1:11123", "10.0.0.1"]);
    assert!(c.imds_disabled);
    let off = Config::resolve(&inputs(&[("FRESHCREDS_NTP_SERVERS", "off")], &[])).unwrap();
    assert!(off.ntp_servers.is_empty());
}

#[test]
fn profile_settings_apply_below_env() {
    let dir = std::env::temp_dir().join(format!("freshcreds-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config");
    std::fs::write(
        &file,
        "[profile ops]\nec2_metadata_service_endpoint = http://127.0.0.1:7\nmetadata_service_num_attempts = 4\n",
    )
    .unwrap();
    let mut i = inputs(
        &[
            ("AWS_CONFIG_FILE", file.to_str().unwrap()),
            ("AWS_PROFILE", "ops"),
        ],
        &[],
    );
    let c = Config::resolve(&i).unwrap();
    assert_eq!(c.imds_endpoint.port(), Some(7));
    assert_eq!(c.imds_attempts, 4);
    assert!(
        matches!(origin_of(&c, "imds.attempts"), Origin::Profile { ref profile, .. } if profile == "ops")
    );
    i.env
        .insert("AWS_METADATA_SERVICE_NUM_ATTEMPTS".into(), "2".into());
    assert_eq!(Config::resolve(&i).unwrap().imds_attempts, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn role_arn_and_source_with_origins() {
    let c = Config::resolve(&Inputs::empty()).unwrap();
    assert_eq!(c.role_arn, None);
    assert_eq!(c.source, SourceKind::InstanceProfile);
    assert_eq!(origin_of(&c, "role.arn"), Origin::Default);
    let c = Config::resolve(&inputs(
        &[
            ("FRESHCREDS_ROLE_ARN", "arn:aws:iam::123456789012:role/app"),
            ("FRESHCREDS_SOURCE", "Chain"),
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(
        c.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/app")
    );
    assert_eq!(c.source, SourceKind::Chain);
    assert_eq!(
        origin_of(&c, "source"),
        Origin::Env("FRESHCREDS_SOURCE".into())
    );
}

#[test]
fn bad_role_arn_and_source_name_the_value() {
    for (var, value) in [
        ("FRESHCREDS_ROLE_ARN", "arn:aws:iam::123:role/app"),
        ("FRESHCREDS_ROLE_ARN", "arn:aws:iam::123456789012:user/bob"),
        ("FRESHCREDS_SOURCE", "ecs"),
    ] {
        let err = Config::resolve(&inputs(&[(var, value)], &[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(value) && err.contains(var), "{err}");
    }
}
