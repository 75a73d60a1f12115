//! `sts.identity`: whose credentials the AWS CLI and SDKs resolve here, as
//! `aws sts get-caller-identity` shows it, and `ExpiredToken` reported as such.
//!
//! Credentials are resolved in the SDKs' default-chain order, as far as the doctor can do
//! it without running other providers: environment variables, then the profile in use
//! when it holds static keys, then the instance profile (from the `imds` group, the engine's
//! own client). A chain that stops at web identity, container credentials, or a profile
//! that assumes a role, runs a process or uses SSO is named and skipped: the doctor does
//! not imitate those providers.
//!
//! The endpoint honours `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL` (both ignored when
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`); the region is `AWS_REGION`,
//! `AWS_DEFAULT_REGION`, the profile's `region`, the instance's region, else `us-east-1`.

use std::sync::Arc;

use aws_sdk_sts::config::Credentials as SdkCredentials;
use aws_sdk_sts::error::SdkError;
use tokio::sync::oneshot;

use super::imds::Handoff;
use super::profile::SharedFiles;
use super::{Check, Ctx};
use crate::secret::{abbreviate_key_id, SecretString};

/// The check's id.
pub(crate) const ID: &str = "sts.identity";

/// Where the resolved credentials came from.
enum From {
    Env,
    Profile(String),
    InstanceProfile,
}

impl From {
    fn describe(&self) -> String {
        match self {
            From::Env => "the environment (AWS_ACCESS_KEY_ID)".into(),
            From::Profile(p) => format!("profile {p}"),
            From::InstanceProfile => "the instance profile (IMDS)".into(),
        }
    }
}

struct Resolved {
    key_id: String,
    secret: SecretString,
    token: Option<SecretString>,
    from: From,
    region: Option<String>,
}

pub(crate) async fn run(ctx: Arc<Ctx>, imds: oneshot::Receiver<Option<Handoff>>) {
    ctx.sink.provisional(Check::skip(
        ID,
        "no credentials resolved before the deadline (waiting for the instance profile)",
    ));
    let resolved = match resolve(&ctx, imds).await {
        Ok(r) => r,
        Err(skip) => {
            ctx.sink.put(skip);
            return;
        }
    };
    let check = identify(&ctx, resolved).await;
    ctx.sink.put(check);
}

async fn resolve(ctx: &Ctx, imds: oneshot::Receiver<Option<Handoff>>) -> Result<Resolved, Check> {
    let files = SharedFiles::load(ctx);
    let profile_region = files
        .active_profile()
        .and_then(|p| p.get("region"))
        .map(str::to_owned);
    let env_region = ctx
        .var("AWS_REGION")
        .or_else(|| ctx.var("AWS_DEFAULT_REGION"))
        .map(str::to_owned);
    let region = env_region.or(profile_region);

    if let (Some(key), Some(secret)) = (
        ctx.var("AWS_ACCESS_KEY_ID"),
        ctx.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(Resolved {
            key_id: key.to_owned(),
            secret: SecretString::new(secret.to_owned()),
            token: ctx
                .var("AWS_SESSION_TOKEN")
                .or_else(|| ctx.var("AWS_SECURITY_TOKEN"))
                .map(|t| SecretString::new(t.to_owned())),
            from: From::Env,
            region,
        });
    }
    if ctx.var("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() && ctx.var("AWS_ROLE_ARN").is_some() {
        return Err(not_imitated(
            "web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)",
            None,
        ));
    }
    if let Some(profile) = files.active_profile() {
        let (key, secret) = (
            profile.get("aws_access_key_id"),
            profile.get("aws_secret_access_key"),
        );
        if let (Some(key), Some(secret)) = (key, secret) {
            return Ok(Resolved {
                key_id: key.to_owned(),
                secret: SecretString::new(secret.to_owned()),
                token: profile
                    .get("aws_session_token")
                    .or_else(|| profile.get("aws_security_token"))
                    .map(|t| SecretString::new(t.to_owned())),
                from: From::Profile(files.active.clone()),
                region,
            });
        }
        if let Some(provider) = profile.provider() {
            return Err(not_imitated(
                &format!("profile {} ({provider})", files.active),
                Some(&files.active),
            ));
        }
    }
    if ctx.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || ctx.var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        return Err(not_imitated(
            "container credentials (AWS_CONTAINER_CREDENTIALS_*)",
            None,
        ));
    }
    match imds.await {
        Ok(Some(handoff)) => {
            let c = handoff.credentials;
            Ok(Resolved {
                key_id: c.access_key_id().to_owned(),
                secret: c.secret_access_key().clone(),
                token: c.session_token().cloned(),
                from: From::InstanceProfile,
                region: region.or(handoff.region),
            })
        }
        _ => Err(Check::skip(
            ID,
            "no credentials to check: none in the environment or the profile in use, and none from the instance profile (see imds.*)",
        )),
    }
}

fn not_imitated(what: &str, profile: Option<&str>) -> Check {
    let flag = profile
        .map(|p| format!(" --profile {p}"))
        .unwrap_or_default();
    Check::skip(
        ID,
        format!("the SDK chain resolves credentials from {what}, which freshcreds doctor does not run; check it with: aws sts get-caller-identity{flag}"),
    )
}

fn endpoint(ctx: &Ctx) -> Option<String> {
    crate::sts::endpoint_from_env(|name| ctx.var(name))
}

async fn identify(ctx: &Ctx, r: Resolved) -> Check {
    let endpoint = endpoint(ctx);
    let region = r
        .region
        .clone()
        .unwrap_or_else(|| crate::sts::FALLBACK_REGION.into());
    let at = endpoint
        .as_deref()
        .map(|e| format!("STS at {e}"))
        .unwrap_or_else(|| format!("STS in {region}"));
    let key = abbreviate_key_id(&r.key_id);
    let from = r.from.describe();
    ctx.sink.provisional(Check::fail(
        ID,
        format!(
            "{at} did not answer within the {:.1} s deadline (key {key} from {from})",
            ctx.deadline.as_secs_f64()
        ),
        "check the route to STS (proxy, firewall; on a private subnet, an STS VPC endpoint named by AWS_ENDPOINT_URL_STS)",
    ));
    let credentials = SdkCredentials::new(
        r.key_id.clone(),
        r.secret.expose().to_owned(),
        r.token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "freshcreds-doctor",
    );
    let settings = crate::sts::ClientSettings {
        http: crate::sts::http_client(),
        region,
        endpoint,
        operation_timeout: ctx.deadline,
        attempts: 2,
    };
    let client = crate::sts::client(&settings, credentials);
    match client.get_caller_identity().send().await {
        Ok(out) => Check::pass(
            ID,
            format!(
                "{} (account {}, user id {}), key {key} from {from}, per {at}",
                out.arn().unwrap_or("?"),
                out.account().unwrap_or("?"),
                out.user_id().unwrap_or("?"),
            ),
        ),
        Err(SdkError::ServiceError(e)) => {
            let body = e.raw().body().bytes().unwrap_or_default();
            let parsed = crate::sts::service_error_code(e.err(), body);
            match parsed {
                Some((code, message)) => service_error(&code, &message, &key, &r.from, &at),
                // An answer that is not an AWS error document: say what it was.
                None => Check::fail(
                    ID,
                    format!(
                        "{at} answered HTTP {} without an AWS error code (key {key} from {from}): {}",
                        e.raw().status().as_u16(),
                        crate::sts::cause(e.err())
                    ),
                    "check that AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL name an STS endpoint",
                ),
            }
        }
        Err(e) => Check::fail(
            ID,
            format!(
                "{at} could not be reached (key {key} from {from}): {}",
                crate::sts::cause(&e)
            ),
            "check the route to STS (proxy, firewall; on a private subnet, an STS VPC endpoint named by AWS_ENDPOINT_URL_STS)",
        ),
    }
}

fn service_error(code: &str, message: &str, key: &str, from: &From, at: &str) -> Check {
    let whose = format!("key {key} from {}", from.describe());
    match code {
        "ExpiredToken" | "ExpiredTokenException" => {
            let fix = match from {
                From::Env => "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN, so that the instance profile (which refreshes) is used".to_owned(),
                From::Profile(p) => format!("profile {p} holds a session token that has ended and never refreshes: make it a role profile (role_arn + source_profile; see profile.static-session-token)"),
                From::InstanceProfile => "IMDS served these as valid, so the host clock is the suspect: see clock.skew; freshcreds judges expiry on the NTP-corrected clock".to_owned(),
            };
            Check::fail(
                ID,
                format!("ExpiredToken: {at} says the credentials ({whose}) have expired: {message}"),
                fix,
            )
        }
        "InvalidClientTokenId" => Check::fail(
            ID,
            format!("InvalidClientTokenId: {at} does not know {whose}: {message}"),
            match from {
                From::InstanceProfile => "the key from IMDS is not valid at this STS endpoint: check AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL and the region".to_owned(),
                _ => format!("the key was deleted or deactivated, or belongs to another partition: replace the credentials from {}", from.describe()),
            },
        ),
        "RequestExpired" | "RequestTimeTooSkewed" => Check::fail(
            ID,
            format!("{code}: {at} rejected the request's time ({whose}): {message}"),
            "the host clock is off: see clock.skew",
        ),
        "SignatureDoesNotMatch" if message.contains("expired") => Check::fail(
            ID,
            format!("{code}: {at} says the signature expired ({whose}): {message}"),
            "the host clock is off: see clock.skew",
        ),
        "SignatureDoesNotMatch" => Check::fail(
            ID,
            format!("SignatureDoesNotMatch: the secret access key does not belong to {whose} ({at}): {message}"),
            format!("replace the secret key in {}", from.describe()),
        ),
        _ => Check::fail(
            ID,
            format!("{code}: {at} refused GetCallerIdentity for {whose}: {message}"),
            "see the error code in the AWS STS documentation",
        ),
    }
}
