//! Settings of the assume-role source and of the STS client: session name, duration,
//! external id, session policy, region and endpoint.
//!
//! Each is validated here, when settings are resolved, because a bad value would otherwise
//! surface only later as an STS `ValidationError` or `AccessDenied` in the background.

use std::time::Duration;

use reqwest::Url;

use super::{bad, Origin, Resolved, Spec};
use crate::error::Result;

/// The shortest session STS grants.
pub const MIN_ROLE_DURATION: Duration = Duration::from_secs(15 * 60);
/// The longest session STS grants (a role's `MaxSessionDuration` can be at most 12 h).
pub const MAX_ROLE_DURATION: Duration = Duration::from_secs(12 * 3600);
/// The cap AWS puts on role chaining: assuming a role with role credentials.
pub const ROLE_CHAINING_CAP: Duration = Duration::from_secs(3600);

pub(super) const SESSION_NAME: Spec = Spec {
    name: "role.session_name",
    props: &["freshcreds.roleSessionName"],
    env: &["FRESHCREDS_ROLE_SESSION_NAME"],
    profile_key: None,
    default: "auto",
};
pub(super) const DURATION: Spec = Spec {
    name: "role.duration",
    props: &["freshcreds.roleDuration"],
    env: &["FRESHCREDS_ROLE_DURATION"],
    profile_key: None,
    default: "1h",
};
pub(super) const EXTERNAL_ID: Spec = Spec {
    name: "role.external_id",
    props: &["freshcreds.externalId"],
    env: &["FRESHCREDS_EXTERNAL_ID"],
    profile_key: None,
    default: "",
};
pub(super) const SESSION_POLICY: Spec = Spec {
    name: "role.session_policy",
    props: &["freshcreds.roleSessionPolicy"],
    env: &["FRESHCREDS_ROLE_SESSION_POLICY"],
    profile_key: None,
    default: "",
};
pub(super) const REGION: Spec = Spec {
    name: "sts.region",
    props: &["aws.region"],
    env: &["AWS_REGION", "AWS_DEFAULT_REGION"],
    profile_key: Some("region"),
    default: "",
};
// The service-specific variable wins over the global one, as in the SDKs.
pub(super) const ENDPOINT: Spec = Spec {
    name: "sts.endpoint",
    props: &["freshcreds.stsEndpoint", "aws.endpointUrlSts"],
    env: &["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"],
    profile_key: Some("endpoint_url"),
    default: "",
};
// Read, not listed: it selects the profile for every profile-based setting too.
pub(super) const PROFILE: Spec = Spec {
    name: "profile",
    props: &["aws.profile"],
    env: &["AWS_PROFILE"],
    profile_key: None,
    default: "",
};
pub(super) const IGNORE_ENDPOINTS: Spec = Spec {
    name: "sts.ignore_configured_endpoint_urls",
    props: &["aws.ignoreConfiguredEndpointUrls"],
    env: &["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"],
    profile_key: Some("ignore_configured_endpoint_urls"),
    default: "false",
};

/// How the role is assumed (settings `role.*`). Used only when `role.arn` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleOptions {
    /// `RoleSessionName`; `None` picks `freshcreds-<unix seconds>` when the engine starts.
    pub session_name: Option<String>,
    /// `DurationSeconds`: 15 min to 12 h, at most 1 h when the source holds role
    /// credentials (role chaining).
    pub duration: Duration,
    /// `ExternalId`, when the role's trust policy asks for one.
    pub external_id: Option<String>,
    /// An inline session policy (JSON) that narrows the role's permissions.
    pub session_policy: Option<String>,
}

/// Where STS is reached (settings `sts.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsOptions {
    /// The region; `None` asks IMDS for the instance's placement (else `us-east-1`).
    pub region: Option<String>,
    /// An explicit endpoint (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`); `None` uses the
    /// regional endpoint `https://sts.REGION.amazonaws.com`.
    pub endpoint: Option<String>,
    /// The profile chain mode reads (`aws.profile`, `AWS_PROFILE`); `None` is `default`.
    pub profile: Option<String>,
}

pub(super) fn resolve_role(
    lookup: &dyn Fn(&Spec) -> (String, Origin),
    resolved: &mut Vec<Resolved>,
) -> Result<RoleOptions> {
    let (v, o) = lookup(&SESSION_NAME);
    let session_name = parse_session_name(&v, &o)?;
    resolved.push(Resolved {
        name: SESSION_NAME.name,
        value: session_name
            .clone()
            .unwrap_or_else(|| "auto (freshcreds-<unix seconds>)".into()),
        origin: o,
    });

    let (v, o) = lookup(&DURATION);
    let duration = parse_duration(&v, &o)?;
    resolved.push(Resolved {
        name: DURATION.name,
        value: humantime::format_duration(duration).to_string(),
        origin: o,
    });

    let (v, o) = lookup(&EXTERNAL_ID);
    let external_id = parse_external_id(&v, &o)?;
    resolved.push(Resolved {
        name: EXTERNAL_ID.name,
        value: external_id.clone().unwrap_or_else(|| "none".into()),
        origin: o,
    });

    let (v, o) = lookup(&SESSION_POLICY);
    let session_policy = parse_session_policy(&v, &o)?;
    resolved.push(Resolved {
        name: SESSION_POLICY.name,
        value: session_policy.clone().unwrap_or_else(|| "none".into()),
        origin: o,
    });

    Ok(RoleOptions {
        session_name,
        duration,
        external_id,
        session_policy,
    })
}

pub(super) fn resolve_sts(
    lookup: &dyn Fn(&Spec) -> (String, Origin),
    resolved: &mut Vec<Resolved>,
) -> Result<StsOptions> {
    let (v, o) = lookup(&REGION);
    let region = parse_region(&v, &o)?;
    resolved.push(Resolved {
        name: REGION.name,
        value: region
            .clone()
            .unwrap_or_else(|| "auto (the instance's region from IMDS, else us-east-1)".into()),
        origin: o,
    });

    let (ignore, ignore_origin) = lookup(&IGNORE_ENDPOINTS);
    let ignore = super::parse_bool(&IGNORE_ENDPOINTS, &ignore, &ignore_origin)?;
    let (v, o) = lookup(&ENDPOINT);
    let (endpoint, value, origin) = if ignore && o != Origin::Default {
        (None, format!("{} (ignored: {ignore_origin})", v.trim()), o)
    } else {
        let endpoint = parse_endpoint(&v, &o)?;
        let value = endpoint.clone().unwrap_or_else(|| "regional".into());
        (endpoint, value, o)
    };
    resolved.push(Resolved {
        name: ENDPOINT.name,
        value,
        origin,
    });
    let (profile, _) = lookup(&PROFILE);
    let profile = Some(profile.trim().to_owned()).filter(|p| !p.is_empty());
    Ok(StsOptions {
        region,
        endpoint,
        profile,
    })
}

/// `auto` (or empty) lets the engine pick one. STS accepts 2 to 64 characters of
/// `[A-Za-z0-9_+=,.@-]`.
fn parse_session_name(value: &str, origin: &Origin) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    let ok = (2..=64).contains(&v.len()) && v.bytes().all(|b| is_word(b) || b"+=,.@-".contains(&b));
    if !ok {
        return Err(bad(
            &SESSION_NAME,
            value,
            origin,
            "expected 2 to 64 characters of letters, digits and _+=,.@- (e.g. app-prod)",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// A duration such as `1h`, `45m` or `900s`, or plain seconds (`3600`, as the AWS CLI's
/// `duration_seconds`), from 15 minutes to 12 hours.
fn parse_duration(value: &str, origin: &Origin) -> Result<Duration> {
    let v = value.trim();
    let parsed = match v.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(v).ok(),
    };
    match parsed {
        Some(d) if (MIN_ROLE_DURATION..=MAX_ROLE_DURATION).contains(&d) => Ok(d),
        _ => Err(bad(
            &DURATION,
            value,
            origin,
            "expected a duration from 15m to 12h, e.g. 1h, 45m or 3600 (seconds)",
        )),
    }
}

/// STS accepts 2 to 1224 characters of `[A-Za-z0-9_+=,.@:/-]`.
fn parse_external_id(value: &str, origin: &Origin) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let ok =
        (2..=1224).contains(&v.len()) && v.bytes().all(|b| is_word(b) || b"+=,.@:/-".contains(&b));
    if !ok {
        return Err(bad(
            &EXTERNAL_ID,
            value,
            origin,
            "expected 2 to 1224 characters of letters, digits and _+=,.@:/-",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// A JSON object of at most 2048 characters (the STS limit for an inline session policy).
fn parse_session_policy(value: &str, origin: &Origin) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<serde_json::Value>(v) {
        Ok(serde_json::Value::Object(_)) if v.chars().count() <= 2048 => Ok(Some(v.to_owned())),
        Ok(serde_json::Value::Object(_)) => Err(bad(
            &SESSION_POLICY,
            value,
            origin,
            "longer than the 2048 characters STS accepts for a session policy",
        )),
        Ok(_) => Err(bad(
            &SESSION_POLICY,
            value,
            origin,
            "expected an IAM policy document, a JSON object such as {\"Version\":\"2012-10-17\",\"Statement\":[...]}",
        )),
        Err(e) => Err(bad(
            &SESSION_POLICY,
            value,
            origin,
            &format!("not valid JSON ({e})"),
        )),
    }
}

fn parse_region(value: &str, origin: &Origin) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let ok = v.len() <= 32
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(bad(
            &REGION,
            value,
            origin,
            "expected a region code such as eu-west-1",
        ));
    }
    Ok(Some(v.to_owned()))
}

fn parse_endpoint(value: &str, origin: &Origin) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let url = Url::parse(v).map_err(|e| {
        bad(
            &ENDPOINT,
            value,
            origin,
            &format!("not a URL ({e}); expected e.g. https://sts.eu-west-1.amazonaws.com"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad(
            &ENDPOINT,
            value,
            origin,
            "expected an http or https URL with a host",
        ));
    }
    Ok(Some(v.trim_end_matches('/').to_owned()))
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}
