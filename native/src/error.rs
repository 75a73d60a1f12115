//! The engine's one error type.
//!
//! Every message says what happened and, where the user can act, what to do. None carries a
//! secret: IMDS bodies are never quoted, only their shape.

use std::time::Duration;

/// Everything that can go wrong while fetching, refreshing or configuring credentials.
#[non_exhaustive]
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A setting has a value that cannot be used.
    #[error("invalid setting {setting} = {value:?} (from {source_name}): {reason}")]
    Config {
        /// The setting's name, e.g. `imds.endpoint`.
        setting: &'static str,
        /// The offending value as given.
        value: String,
        /// Where the value came from (env var name, system property, profile, flag).
        source_name: String,
        /// Why it is rejected and what is accepted.
        reason: String,
    },

    /// IMDS use is turned off by `AWS_EC2_METADATA_DISABLED`.
    #[error("the instance metadata service is disabled by AWS_EC2_METADATA_DISABLED=true; unset it to use the instance profile")]
    ImdsDisabled,

    /// Nothing answered at the IMDS endpoint (connection refused, unreachable, or every attempt timed out).
    #[error("instance metadata service unreachable at {endpoint}: {detail} (not on EC2, or IMDS turned off with --http-endpoint disabled)")]
    ImdsUnreachable {
        /// The base URL tried.
        endpoint: String,
        /// The transport error.
        detail: String,
    },

    /// IMDS kept throttling (429/503) through every attempt.
    #[error("instance metadata service throttled {path} (HTTP {status}) on all {attempts} attempts; freshcreds keeps retrying with backoff")]
    ImdsThrottled {
        /// The request path.
        path: String,
        /// The last status, 429 or 503.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
    },

    /// IMDS answered with an HTTP status that is neither success nor retryable.
    #[error("instance metadata service answered HTTP {status} for {path}")]
    ImdsStatus {
        /// The request path.
        path: String,
        /// The HTTP status.
        status: u16,
    },

    /// No IAM role is attached to the instance (the role list answered 404 or was empty).
    #[error("no IAM role is attached to this instance (IMDS {path} answered {status}); attach an instance profile: aws ec2 associate-iam-instance-profile --instance-id <id> --iam-instance-profile Name=<profile>")]
    NoRoleAttached {
        /// The path that answered.
        path: String,
        /// The HTTP status, or 200 for an empty list.
        status: u16,
    },

    /// The IMDSv2 token could not be had and IMDSv1 is not an option.
    #[error("IMDSv2 token request failed and IMDSv1 is {why}: {detail}")]
    TokenUnavailable {
        /// Why v1 cannot be used ("disabled by AWS_EC2_METADATA_V1_DISABLED", "refused by the instance").
        why: &'static str,
        /// What happened to the token request.
        detail: String,
    },

    /// The container hop-limit symptom: the token PUT got no answer but a plain GET did.
    #[error("IMDSv2 token PUT timed out but a plain GET answered HTTP {get_status}: the response hop limit is too low for this container; fix: aws ec2 modify-instance-metadata-options --instance-id {instance_id} --http-put-response-hop-limit 2 --http-endpoint enabled")]
    HopLimit {
        /// What the plain GET answered.
        get_status: u16,
        /// The instance id, or `<id>` when IMDS does not tell it.
        instance_id: String,
    },

    /// An IMDS response body exceeded the cap.
    #[error("instance metadata response for {path} is larger than {limit} bytes; refusing it")]
    BodyTooLarge {
        /// The request path.
        path: String,
        /// The cap in bytes.
        limit: usize,
    },

    /// An IMDS response body is not UTF-8.
    #[error("instance metadata response for {path} is not UTF-8 text")]
    NotUtf8 {
        /// The request path.
        path: String,
    },

    /// The credentials document could not be parsed.
    #[error("instance metadata credentials for role {role:?} are malformed: {detail}")]
    Malformed {
        /// The role whose document was read.
        role: String,
        /// What is wrong (never the document itself).
        detail: String,
    },

    /// IMDS reported a `Code` other than `Success`.
    #[error("instance metadata credentials for role {role:?} reported Code={code:?}: {message}")]
    CodeNotSuccess {
        /// The role.
        role: String,
        /// The `Code` field.
        code: String,
        /// The `Message` field, if any.
        message: String,
    },

    /// The credentials offered had already expired on the corrected clock.
    #[error("credentials offered for role {role:?} expired {ago:?} ago (on the skew-corrected clock); keeping the last good credentials")]
    AlreadyExpired {
        /// The role.
        role: String,
        /// How long ago they expired.
        ago: Duration,
    },

    /// No credentials arrived before the caller's deadline.
    #[error("no credentials within {waited:?}; last error: {last_error}")]
    Timeout {
        /// How long the caller waited.
        waited: Duration,
        /// The refresher's last error, or "none yet".
        last_error: String,
    },

    /// An SNTP measurement failed.
    #[error("NTP query to {server} failed: {detail}")]
    Ntp {
        /// The server.
        server: String,
        /// What happened.
        detail: String,
    },

    /// The requested role session is longer than the one hour AWS allows when the source
    /// holds role credentials (role chaining). Refused before any STS call.
    #[error("role.duration {duration} (from {duration_origin}) is longer than the 1h AWS allows for role chaining: {source_desc} holds role credentials, so assuming {role_arn} with them is role chaining and STS would refuse it; ask for 1h or less (FRESHCREDS_ROLE_DURATION=1h, --duration 1h)")]
    RoleChainingCap {
        /// The role to assume.
        role_arn: String,
        /// The duration asked for, e.g. `2h`.
        duration: String,
        /// Where the duration came from.
        duration_origin: String,
        /// The source, e.g. `the instance profile`.
        source_desc: String,
    },

    /// STS refused `AssumeRole` for this caller (`AccessDenied`).
    #[error("AccessDenied: {caller} may not assume {role_arn}: {message}; the role's trust policy must name that caller (Principal) and allow sts:AssumeRole{external_id_hint}, and the caller's own policies must allow sts:AssumeRole on {role_arn}")]
    AssumeRoleDenied {
        /// The role.
        role_arn: String,
        /// Who asked: the caller's ARN when known, else the key and its source.
        caller: String,
        /// STS's message.
        message: String,
        /// A hint about the external id, or empty.
        external_id_hint: String,
    },

    /// STS refused the source credentials as expired (`ExpiredToken`).
    #[error("ExpiredToken: STS says the source credentials (key {key} from {source_desc}) have expired: {message}; {fix}")]
    SourceExpired {
        /// The source credentials' key id, abbreviated.
        key: String,
        /// The source.
        source_desc: String,
        /// STS's message.
        message: String,
        /// What happens next or what to do.
        fix: String,
    },

    /// STS throttled `AssumeRole`; the current role session stays in use.
    #[error("STS throttled AssumeRole of {role_arn} ({code}: {message}); keeping the current session and retrying with backoff")]
    StsThrottled {
        /// The role.
        role_arn: String,
        /// `Throttling`, `ThrottlingException`, `RequestLimitExceeded`...
        code: String,
        /// STS's message.
        message: String,
    },

    /// STS is not activated in this region for the account (`RegionDisabledException`).
    #[error("RegionDisabledException: STS is not activated in region {region} for this account: {message}; activate it (IAM console, Account settings, Security Token Service regions) or point freshcreds at an active region with AWS_REGION or AWS_ENDPOINT_URL_STS")]
    StsRegionDisabled {
        /// The region used.
        region: String,
        /// STS's message.
        message: String,
    },

    /// STS answered `AssumeRole` with another error.
    #[error("{code}: STS refused AssumeRole of {role_arn}: {message}; {fix}")]
    Sts {
        /// The error code.
        code: String,
        /// The role.
        role_arn: String,
        /// STS's message.
        message: String,
        /// What to do.
        fix: String,
        /// Whether retrying soon can help.
        retryable: bool,
    },

    /// STS could not be reached, or answered without an AWS error code.
    #[error("STS at {endpoint} could not be reached for AssumeRole of {role_arn}: {detail} (check the route to STS: proxy, firewall, or an STS VPC endpoint named by AWS_ENDPOINT_URL_STS)")]
    StsUnreachable {
        /// The endpoint or region used.
        endpoint: String,
        /// The role.
        role_arn: String,
        /// What happened.
        detail: String,
    },

    /// No step of the default chain had credentials.
    #[error("no credentials in the default chain (env, profile, web identity, container, IMDS): {detail}")]
    ChainEmpty {
        /// What each step said.
        detail: String,
    },

    /// A step of the default chain failed (as in the SDKs, the chain stops there).
    #[error("the default chain's {step} step failed: {detail}")]
    ChainStep {
        /// The step, e.g. `profile dev`.
        step: String,
        /// What failed (the provider's message, never a secret).
        detail: String,
    },

    /// A static session token (not refreshable) has passed its expiry.
    #[error("the static session token from {origin} (key {key}) expired at {expired_at} and cannot be refreshed: replace it, or use a source that refreshes (the instance profile, a role profile with source_profile or credential_source, SSO)")]
    StaticTokenExpired {
        /// Where it was read, e.g. `env AWS_SESSION_TOKEN`.
        origin: String,
        /// The key id, abbreviated.
        key: String,
        /// Its expiry, RFC 3339.
        expired_at: String,
    },

    /// Chain mode would run `freshcreds credentials` again through a profile's
    /// `credential_process`, which would run chain mode again, without end.
    #[error("chain mode would recurse into itself: {detail}; run that credential_process in imds mode (credential_process = freshcreds credentials --source imds), or do not use chain mode with this profile")]
    ChainRecursion {
        /// Which profile and command, or which parent process.
        detail: String,
    },

    /// The engine was closed.
    #[error("the freshcreds engine is closed")]
    Closed,

    /// A bug in freshcreds; please report it.
    #[error("internal error in freshcreds (please report it): {0}")]
    Unreachable(String),
}

impl Error {
    /// Errors that will not go away by retrying soon: reported at once, retried slowly.
    pub fn is_unrecoverable(&self) -> bool {
        matches!(
            self,
            Error::NoRoleAttached { .. }
                | Error::ImdsDisabled
                | Error::Config { .. }
                | Error::HopLimit { .. }
                | Error::TokenUnavailable { .. }
                | Error::CodeNotSuccess { .. }
                | Error::RoleChainingCap { .. }
                | Error::AssumeRoleDenied { .. }
                | Error::StsRegionDisabled { .. }
                | Error::Sts {
                    retryable: false,
                    ..
                }
                | Error::StaticTokenExpired { .. }
                | Error::ChainRecursion { .. }
        )
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
