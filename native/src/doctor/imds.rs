//! The instance profile through the engine's own IMDS client: `imds.reachable`,
//! `imds.token`, `imds.proxy`, `imds.role`, `imds.credentials`.
//!
//! One sequence, since each step needs the one before: a GET of the instance id (which
//! fetches the IMDSv2 token, or diagnoses why there is none), then — once the clock probe
//! has measured the skew — the engine's credentials fetch, judged on the corrected clock.
//! The client is the engine's, built from the user's settings with the per-attempt timeout
//! capped at 1 s and at most 2 attempts, so a host where nothing answers is diagnosed
//! within the deadline: the settings govern the engine's patience, not whether IMDS works.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde::Deserialize;
use tokio::sync::oneshot;

use super::{human, signed_secs, Check, Ctx};
use crate::config::Config;
use crate::credentials::Credentials;
use crate::error::Error;
use crate::imds::{hop_limit_fix, ImdsClient, ImdsVersion, LEGACY_PREFIX, TOKEN_PATH};
use crate::secret::abbreviate_key_id;
use crate::time_fmt::{parse_rfc3339, rfc3339};

/// Id: does anything answer at the IMDS endpoint.
pub(crate) const REACHABLE_ID: &str = "imds.reachable";
/// Id: the IMDSv2 session token, and the hop-limit symptom.
pub(crate) const TOKEN_ID: &str = "imds.token";
/// Id: proxy variables that would route IMDS requests through a proxy.
pub(crate) const PROXY_ID: &str = "imds.proxy";
/// Id: the instance profile's role.
pub(crate) const ROLE_ID: &str = "imds.role";
/// Id: the credentials IMDS serves.
pub(crate) const CREDENTIALS_ID: &str = "imds.credentials";

/// Fewer minutes left than this on credentials from IMDS means it is not rotating them:
/// IMDS offers new credentials at least 5 minutes before the old ones expire.
const ROTATION_MARGIN: Duration = Duration::from_secs(5 * 60);
const DOCTOR_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
const DOCTOR_ATTEMPTS: u32 = 2;

/// What `sts.identity` needs from here when the chain ends at the instance profile.
pub(crate) struct Handoff {
    /// The instance profile's credentials.
    pub(crate) credentials: Credentials,
    /// The instance's region, from IMDS placement.
    pub(crate) region: Option<String>,
}

/// The credentials document's fields shown in the report (never the secret or token,
/// which serde skips without keeping).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DocFields {
    code: Option<String>,
    last_updated: Option<String>,
    expiration: Option<String>,
}

pub(crate) async fn run(ctx: Arc<Ctx>, handoff: oneshot::Sender<Option<Handoff>>) {
    ctx.sink.put(proxy_check(&ctx));
    let result = instance_profile(&ctx).await;
    let _ = handoff.send(result);
}

async fn instance_profile(ctx: &Ctx) -> Option<Handoff> {
    let endpoint = ctx
        .config
        .imds_endpoint
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    if ctx.config.imds_disabled {
        let origin = ctx
            .config
            .resolved
            .iter()
            .find(|r| r.name == "imds.disabled")
            .map(|r| r.origin.to_string())
            .unwrap_or_default();
        ctx.sink.put(Check::warn(
            REACHABLE_ID,
            format!("IMDS use is turned off ({origin} = true): neither freshcreds nor the AWS SDKs will use the instance profile"),
            "unset AWS_EC2_METADATA_DISABLED (or set it to false) to use the instance profile",
        ));
        for id in [TOKEN_ID, ROLE_ID, CREDENTIALS_ID] {
            ctx.sink.put(Check::skip(id, "IMDS use is turned off"));
        }
        return None;
    }
    ctx.sink.provisional(unreachable(
        &endpoint,
        &format!(
            "no answer within the {:.1} s deadline",
            ctx.deadline.as_secs_f64()
        ),
    ));
    for id in [TOKEN_ID, ROLE_ID, CREDENTIALS_ID] {
        ctx.sink.provisional(Check::skip(id, "IMDS did not answer"));
    }

    let mut config: Config = ctx.config.clone();
    config.imds_timeout = config.imds_timeout.min(DOCTOR_ATTEMPT_TIMEOUT);
    config.imds_attempts = config.imds_attempts.min(DOCTOR_ATTEMPTS);
    let client = match ImdsClient::new(&config, ctx.clock.clone()) {
        Ok(c) => c,
        Err(e) => {
            ctx.sink.put(Check::fail(
                REACHABLE_ID,
                format!("cannot create the IMDS client: {e}"),
                "report this as a freshcreds bug",
            ));
            return None;
        }
    };

    // Token (or its diagnosis) and reachability in one request.
    let instance_id = match client.get("/latest/meta-data/instance-id").await {
        Ok(answer) => {
            let id = (answer.status == StatusCode::OK)
                .then(|| answer.body.trim().to_owned())
                .filter(|id| id.starts_with("i-") && id.len() < 64);
            ctx.sink.put(Check::pass(
                REACHABLE_ID,
                format!(
                    "IMDS answers at {endpoint}{}",
                    id.as_deref()
                        .map(|i| format!(" (instance {i})"))
                        .unwrap_or_default()
                ),
            ));
            ctx.sink.put(token_check(&client, id.as_deref()));
            id
        }
        Err(e) => {
            let why = report_token_error(ctx, &client, &endpoint, e);
            for id in [ROLE_ID, CREDENTIALS_ID] {
                ctx.sink.put(Check::skip(id, why));
            }
            return None;
        }
    };
    let region = match client.get("/latest/meta-data/placement/region").await {
        Ok(a) if a.status == StatusCode::OK && !a.body.trim().is_empty() => {
            Some(a.body.trim().to_owned())
        }
        _ => None,
    };

    ctx.sink.provisional(Check::fail(
        ROLE_ID,
        format!(
            "IMDS did not list the role within the {:.1} s deadline",
            ctx.deadline.as_secs_f64()
        ),
        "run again; if it persists, IMDS is overloaded or throttling this instance",
    ));
    // Expiry is judged on the corrected clock: wait for the NTP measurement first.
    ctx.clock_measured().await;
    match client.fetch_credentials().await {
        Ok(fetched) => {
            ctx.sink.put(Check::pass(
                ROLE_ID,
                format!("instance profile role: {}", fetched.role),
            ));
            let doc = document_fields(&client, &fetched.role).await;
            ctx.sink
                .put(credentials_check(ctx, &fetched.credentials, doc.as_ref()));
            Some(Handoff {
                credentials: fetched.credentials,
                region,
            })
        }
        Err(Error::NoRoleAttached { path, status }) => {
            ctx.sink.put(Check::fail(
                ROLE_ID,
                format!("no IAM role is attached to this instance (IMDS {path} answered {status})"),
                format!(
                    "attach an instance profile: aws ec2 associate-iam-instance-profile --instance-id {} --iam-instance-profile Name=<instance-profile-name>",
                    instance_id.as_deref().unwrap_or("<id>")
                ),
            ));
            ctx.sink
                .put(Check::skip(CREDENTIALS_ID, "no role, so no credentials"));
            None
        }
        Err(Error::CodeNotSuccess {
            role,
            code,
            message,
        }) => {
            ctx.sink.put(Check::pass(
                ROLE_ID,
                format!("instance profile role: {role}"),
            ));
            ctx.sink.put(Check::fail(
                CREDENTIALS_ID,
                format!("IMDS could not get credentials for role {role}: Code {code}: {message}"),
                format!("check that role {role}'s trust policy lets ec2.amazonaws.com call sts:AssumeRole and that the instance profile holds that role (aws iam get-instance-profile)"),
            ));
            None
        }
        Err(Error::AlreadyExpired { role, ago }) => {
            ctx.sink.put(Check::pass(
                ROLE_ID,
                format!("instance profile role: {role}"),
            ));
            let doc = document_fields(&client, &role).await;
            ctx.sink.put(expired_check(ctx, &role, ago, doc.as_ref()));
            None
        }
        Err(Error::ImdsStatus { path, status }) if path.ends_with('/') => {
            ctx.sink.put(Check::fail(
                ROLE_ID,
                format!("IMDS answered HTTP {status} to the role list {path}"),
                "run again with FRESHCREDS_LOG=debug; a proxy or firewall in front of IMDS may be refusing the path",
            ));
            ctx.sink
                .put(Check::skip(CREDENTIALS_ID, "the role could not be read"));
            None
        }
        Err(e @ (Error::ImdsUnreachable { .. } | Error::ImdsThrottled { .. })) => {
            ctx.sink.put(Check::fail(
                ROLE_ID,
                format!("IMDS stopped answering while listing the role: {e}"),
                "run again; if it persists, IMDS is overloaded or throttling this instance",
            ));
            ctx.sink
                .put(Check::skip(CREDENTIALS_ID, "the role could not be read"));
            None
        }
        Err(e) => {
            ctx.sink.put(Check::pass(
                ROLE_ID,
                "a role is attached (IMDS listed one)".to_string(),
            ));
            ctx.sink.put(Check::fail(
                CREDENTIALS_ID,
                format!("IMDS credentials unusable: {e}"),
                "run again; if it persists, IMDS serves a broken document: stop and start the instance",
            ));
            None
        }
    }
}

fn unreachable(endpoint: &str, detail: &str) -> Check {
    Check::fail(
        REACHABLE_ID,
        format!("no answer from IMDS at {endpoint} ({detail}): not on EC2, or IMDS is turned off"),
        "on EC2, turn IMDS on: aws ec2 modify-instance-metadata-options --instance-id <id> --http-endpoint enabled; \
         off EC2 there is no instance profile: give the app credentials another way, and set AWS_EC2_METADATA_DISABLED=true so SDKs stop probing IMDS",
    )
}

fn token_check(client: &ImdsClient, instance_id: Option<&str>) -> Check {
    match (client.version(), client.hop_limit_detected()) {
        (ImdsVersion::V2, _) => Check::pass(TOKEN_ID, "IMDSv2 session token obtained"),
        (_, true) => Check::warn(
            TOKEN_ID,
            "the IMDSv2 token PUT timed out while a plain GET answered: the container hop-limit symptom (the PUT's answer is dropped one hop short); working through IMDSv1 meanwhile, paying the PUT timeout, and failing outright wherever IMDSv1 is off",
            hop_limit_fix(instance_id),
        ),
        _ => Check::warn(
            TOKEN_ID,
            "the IMDSv2 token request was refused (HTTP 403/404/405): this endpoint does not offer IMDSv2, so IMDSv1 is used",
            "every EC2 instance offers IMDSv2: if a proxy or mock stands in front of IMDS, let PUT /latest/api/token through",
        ),
    }
}

/// Records `imds.reachable` and `imds.token` for a failed first request; returns why the
/// later IMDS checks are skipped.
fn report_token_error(ctx: &Ctx, client: &ImdsClient, endpoint: &str, e: Error) -> &'static str {
    const NO_SESSION: &str = "no usable IMDS session (see imds.token)";
    match e {
        Error::ImdsUnreachable { detail, .. } => {
            ctx.sink.put(unreachable(endpoint, &detail));
            ctx.sink.put(Check::skip(TOKEN_ID, "IMDS did not answer"));
            "IMDS did not answer (see imds.reachable)"
        }
        Error::HopLimit {
            get_status,
            instance_id,
        } => {
            ctx.sink.put(Check::pass(
                REACHABLE_ID,
                format!("IMDS answers at {endpoint} (a plain GET got HTTP {get_status})"),
            ));
            let id = instance_id
                .starts_with("i-")
                .then_some(instance_id.as_str());
            ctx.sink.put(Check::fail(
                TOKEN_ID,
                format!("the IMDSv2 token PUT timed out while a plain GET answered HTTP {get_status}: the container hop-limit symptom (the PUT's answer is dropped one hop short), and IMDSv1 is not an option, so no credentials"),
                hop_limit_fix(id),
            ));
            NO_SESSION
        }
        Error::TokenUnavailable { why, detail } => {
            ctx.sink.put(Check::pass(
                REACHABLE_ID,
                format!("IMDS answers at {endpoint}"),
            ));
            let fix = if client.hop_limit_detected() {
                hop_limit_fix(instance_id_in(&detail))
            } else {
                "IMDSv1 is turned off here: make the token request work (PUT /latest/api/token must reach IMDS), or unset AWS_EC2_METADATA_V1_DISABLED".into()
            };
            ctx.sink.put(Check::fail(
                TOKEN_ID,
                format!("no IMDSv2 token and IMDSv1 is {why}: {detail}"),
                fix,
            ));
            NO_SESSION
        }
        Error::ImdsStatus { path, status } if path == TOKEN_PATH => {
            ctx.sink.put(Check::pass(
                REACHABLE_ID,
                format!("IMDS answers at {endpoint}"),
            ));
            ctx.sink.put(Check::fail(
                TOKEN_ID,
                format!("the IMDSv2 token PUT answered HTTP {status}"),
                "a proxy or firewall between this process and IMDS may be rewriting the PUT; IMDS itself answers 200",
            ));
            NO_SESSION
        }
        Error::ImdsThrottled { status, .. } => {
            ctx.sink.put(Check::pass(
                REACHABLE_ID,
                format!("IMDS answers at {endpoint}, but throttles (HTTP {status})"),
            ));
            ctx.sink.put(Check::fail(
                TOKEN_ID,
                format!("IMDS throttled every token attempt (HTTP {status})"),
                "something on this instance calls IMDS too often: cache credentials (freshcreds does) and find the caller",
            ));
            NO_SESSION
        }
        other => {
            ctx.sink.put(Check::fail(
                REACHABLE_ID,
                format!("IMDS at {endpoint}: {other}"),
                "run again with FRESHCREDS_LOG=debug for details",
            ));
            ctx.sink
                .put(Check::skip(TOKEN_ID, "IMDS did not answer usably"));
            "IMDS did not answer usably (see imds.reachable)"
        }
    }
}

/// The instance id inside a hop-limit diagnosis text, if it names one.
fn instance_id_in(text: &str) -> Option<&str> {
    let rest = text.split("--instance-id ").nth(1)?;
    let id = rest.split_whitespace().next()?;
    id.starts_with("i-").then_some(id)
}

async fn document_fields(client: &ImdsClient, role: &str) -> Option<DocFields> {
    let answer = client.get(&format!("{LEGACY_PREFIX}{role}")).await.ok()?;
    if answer.status != StatusCode::OK {
        return None;
    }
    serde_json::from_str(&answer.body).ok()
}

fn doc_line(doc: Option<&DocFields>, expiration: SystemTime) -> String {
    let code = doc
        .and_then(|d| d.code.clone())
        .unwrap_or_else(|| "Success".into());
    let last = doc
        .and_then(|d| d.last_updated.clone())
        .unwrap_or_else(|| "?".into());
    let exp = doc
        .and_then(|d| d.expiration.clone())
        .unwrap_or_else(|| rfc3339(expiration));
    format!("Code {code}, LastUpdated {last}, Expiration {exp}")
}

fn clock_note(ctx: &Ctx) -> String {
    format!(
        "corrected clock: skew {} from {}",
        signed_secs(ctx.clock.skew_ms()),
        ctx.clock.source().as_str()
    )
}

fn credentials_check(ctx: &Ctx, creds: &Credentials, doc: Option<&DocFields>) -> Check {
    let now = ctx.clock.corrected_now();
    let left = creds.time_left(now);
    let summary = format!(
        "key {}: {}; {} left ({})",
        abbreviate_key_id(creds.access_key_id()),
        doc_line(doc, creds.expiration()),
        human(left),
        clock_note(ctx)
    );
    if left < ROTATION_MARGIN {
        return Check::warn(
            CREDENTIALS_ID,
            format!("{summary}: IMDS should have offered new credentials by now"),
            "IMDS rotates credentials at least 5 minutes before expiry: if this persists, stop and start the instance",
        );
    }
    Check::pass(CREDENTIALS_ID, summary)
}

fn expired_check(ctx: &Ctx, role: &str, ago: Duration, doc: Option<&DocFields>) -> Check {
    let expiration = doc
        .and_then(|d| d.expiration.as_deref())
        .and_then(parse_rfc3339);
    let locally_valid = expiration.is_some_and(|e| e > ctx.clock.local_now());
    let summary = format!(
        "credentials for role {role} expired {} ago on the corrected clock: {} ({})",
        human(ago),
        doc_line(doc, expiration.unwrap_or(SystemTime::UNIX_EPOCH)),
        clock_note(ctx)
    );
    if locally_valid {
        Check::fail(
            CREDENTIALS_ID,
            format!("{summary}; the host clock still thinks they are valid, so SDKs send them and get ExpiredToken"),
            "fix the host clock (see clock.skew): IMDS hands out new credentials once they are near expiry by true time",
        )
    } else {
        Check::fail(
            CREDENTIALS_ID,
            summary,
            "IMDS keeps serving expired credentials: stop and start the instance, or re-associate its instance profile",
        )
    }
}

/// `imds.proxy`: proxy variables that would send the SDKs' IMDS requests to a proxy.
fn proxy_check(ctx: &Ctx) -> Check {
    const PROXY_VARS: [&str; 6] = [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ];
    let set: Vec<&str> = PROXY_VARS
        .into_iter()
        .filter(|v| ctx.var(v).is_some())
        .collect();
    let host = match ctx.config.imds_endpoint.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(h) => h.to_string(),
        None => "169.254.169.254".into(),
    };
    if set.is_empty() {
        return Check::pass(PROXY_ID, "no HTTP proxy in the environment");
    }
    let no_proxy = ctx.var("NO_PROXY").or_else(|| ctx.var("no_proxy"));
    if no_proxy.is_some_and(|list| bypasses(list, &host)) {
        return Check::pass(
            PROXY_ID,
            format!("{} set, and NO_PROXY covers {host}", set.join(", ")),
        );
    }
    let mut hosts = vec![host.clone()];
    for default in ["169.254.169.254", "fd00:ec2::254"] {
        if !hosts.iter().any(|h| h == default) {
            hosts.push(default.to_owned());
        }
    }
    let existing = no_proxy.map(|l| format!(",{l}")).unwrap_or_default();
    Check::warn(
        PROXY_ID,
        format!(
            "{} set without {host} in NO_PROXY: the AWS CLI and other SDKs that honour these variables send IMDS requests (and so the credentials) to the proxy, which cannot reach the instance's link-local IMDS (freshcreds itself never proxies IMDS)",
            set.join(", ")
        ),
        format!(
            "export NO_PROXY={}{existing} (and no_proxy, for tools that read the lower-case name)",
            hosts.join(",")
        ),
    )
}

/// Whether a `NO_PROXY` list exempts `host`: `*`, the host itself (with or without a
/// port), a domain suffix, or a CIDR block holding the address.
fn bypasses(list: &str, host: &str) -> bool {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            let entry = entry.to_ascii_lowercase();
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return in_cidr(&host, net, bits);
            }
            let bare = entry.trim_matches(['[', ']']);
            // `169.254.169.254:80` names the host with a port; IPv6 addresses hold colons themselves.
            let without_port = match bare.rsplit_once(':') {
                Some((h, port)) if !h.contains(':') && port.parse::<u16>().is_ok() => h,
                _ => bare,
            };
            let suffix = without_port.trim_start_matches('.');
            host == without_port || host.ends_with(&format!(".{suffix}"))
        })
}

fn in_cidr(host: &str, net: &str, bits: &str) -> bool {
    let (Ok(ip), Ok(net), Ok(bits)) = (
        host.parse::<std::net::IpAddr>(),
        net.trim_matches(['[', ']']).parse::<std::net::IpAddr>(),
        bits.parse::<u32>(),
    ) else {
        return false;
    };
    match (ip, net) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_matching() {
        assert!(bypasses("localhost, 169.254.169.254", "169.254.169.254"));
        assert!(bypasses("*", "169.254.169.254"));
        assert!(bypasses("169.254.0.0/16", "169.254.169.254"));
        assert!(bypasses("169.254.169.254:80", "169.254.169.254"));
        assert!(bypasses("[fd00:ec2::254]", "[fd00:ec2::254]"));
        assert!(bypasses("fd00:ec2::/32", "fd00:ec2::254"));
        assert!(bypasses(".internal", "metadata.internal"));
        assert!(!bypasses("169.254.169.25", "169.254.169.254"));
        assert!(!bypasses("10.0.0.0/8,example.com", "169.254.169.254"));
    }

    #[test]
    fn finds_the_instance_id_in_a_diagnosis() {
        let text = Error::HopLimit {
            get_status: 200,
            instance_id: "i-0abc".into(),
        }
        .to_string();
        assert_eq!(instance_id_in(&text), Some("i-0abc"));
        assert_eq!(instance_id_in("--instance-id <id> x"), None);
    }
}
