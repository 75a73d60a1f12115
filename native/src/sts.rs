//! STS: the crate's one STS client construction, the assume-role source, and chain mode.
//!
//! - [`client`] builds an `aws-sdk-sts` client over `aws-smithy-http-client` with rustls and
//!   ring (no aws-lc in the crate), for the assume-role source and for `freshcreds doctor`.
//! - [`AssumeRole`] assumes a role on top of any [`Source`]: each refresh first takes fresh
//!   credentials from the source, then calls `AssumeRole` with them. A rotation of the
//!   instance profile underneath therefore never breaks the role session: the session
//!   already issued stays valid until its own expiry, and the next one is asked for with
//!   whatever the source holds then.
//! - [`chain`] is chain mode: the AWS SDKs' default chain through `aws-config`, with the
//!   engine's own IMDS client as its last step.
//!
//! Region: `sts.region` (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`), else
//! the instance's placement from IMDS, else `us-east-1`. Endpoint: `sts.endpoint`
//! (`AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`), else the SDK's regional endpoint
//! `https://sts.REGION.amazonaws.com`.

pub(crate) mod chain;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{
    BehaviorVersion, Credentials as SdkCredentials, IdentityCache, Region, SharedHttpClient,
};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_http_client::tls;
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::clock::SkewClock;
use crate::config::{Config, Origin, RoleOptions, SourceKind, StsOptions, ROLE_CHAINING_CAP};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::imds::{ImdsClient, ImdsVersion};
use crate::secret::SecretString;
use crate::source::{BoxFuture, InstanceProfile, Source};

/// The region used when none is configured and IMDS does not tell the instance's.
pub const FALLBACK_REGION: &str = "us-east-1";
/// How long a fallback to [`FALLBACK_REGION`] stands before IMDS is asked again.
const REGION_REPROBE: Duration = Duration::from_secs(30 * 60);
/// Connect timeout for STS.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The whole `AssumeRole` call, retries included.
const ASSUME_ROLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Source credentials this close to their expiry are not reused when the source fails.
const SOURCE_REUSE_MARGIN: Duration = Duration::from_secs(60);

/// The HTTP client for STS (and for `aws-config` in chain mode): hyper with rustls and
/// ring, as for IMDS, so that the crate carries no aws-lc.
///
/// Built per engine rather than once per process: its pooled connections belong to the
/// tokio runtime that opened them.
pub(crate) fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// What an STS client needs, besides the credentials to sign with.
#[derive(Clone)]
pub(crate) struct ClientSettings {
    /// The shared HTTP client.
    pub http: SharedHttpClient,
    /// The region (signing and the regional endpoint).
    pub region: String,
    /// An explicit endpoint URL, if any.
    pub endpoint: Option<String>,
    /// The whole operation, retries included.
    pub operation_timeout: Duration,
    /// Attempts per operation, the first included.
    pub attempts: u32,
}

/// The one STS client construction of the crate. Identity caching is off: the caller
/// hands over the credentials it wants used for exactly this client.
pub(crate) fn client(
    settings: &ClientSettings,
    credentials: SdkCredentials,
) -> aws_sdk_sts::Client {
    let retry = if settings.attempts <= 1 {
        RetryConfig::disabled()
    } else {
        RetryConfig::standard().with_max_attempts(settings.attempts)
    };
    let mut builder = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(settings.http.clone())
        .region(Region::new(settings.region.clone()))
        .credentials_provider(credentials)
        .identity_cache(IdentityCache::no_cache())
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT.min(settings.operation_timeout))
                .operation_timeout(settings.operation_timeout)
                .build(),
        );
    if let Some(url) = &settings.endpoint {
        builder = builder.endpoint_url(url.clone());
    }
    aws_sdk_sts::Client::from_conf(builder.build())
}

/// The endpoint the SDKs would use for STS given these variables: `AWS_ENDPOINT_URL_STS`,
/// then `AWS_ENDPOINT_URL`, neither when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`.
/// The engine reads the same variables through its settings (`sts.endpoint`).
pub(crate) fn endpoint_from_env<'a>(var: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    let ignore = var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if ignore {
        return None;
    }
    var("AWS_ENDPOINT_URL_STS")
        .or_else(|| var("AWS_ENDPOINT_URL"))
        .map(str::to_owned)
}

/// A service error's code and message, also when the SDK's parser found none: the
/// EC2-style `<ErrorResponse><Errors><Error>…` that moto (and some STS-compatible proxies)
/// send, where STS itself sends `<ErrorResponse><Error>…`.
pub(crate) fn service_error_code<E: ProvideErrorMetadata>(
    err: &E,
    body: &[u8],
) -> Option<(String, String)> {
    match err.code() {
        Some(code) => Some((code.to_owned(), err.message().unwrap_or("").to_owned())),
        None => wrapped_error(body),
    }
}

/// Code and message of an EC2-style wrapped error document (see [`service_error_code`]).
pub(crate) fn wrapped_error(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&format!("</{name}>"))?;
        Some(text[start..end].trim().to_owned())
    };
    let code = element("Code").filter(|c| !c.is_empty())?;
    Some((code, element("Message").unwrap_or_default()))
}

/// The SDK's error says "dispatch failure"; the innermost cause says what happened
/// ("Connection refused", a DNS failure, a timeout).
pub(crate) fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let t = inner.to_string();
        if !t.is_empty() {
            text = t;
        }
        source = inner.source();
    }
    text
}

/// The engine's source for `config`: the instance profile or the default chain (setting
/// `source`), or `custom` when given, with the role of `role.arn` assumed on top.
///
/// # Errors
/// [`Error::RoleChainingCap`] when the role would be assumed with instance-profile
/// credentials for longer than one hour; IMDS client construction errors.
pub(crate) fn source_for(
    config: &Config,
    clock: Arc<SkewClock>,
    custom: Option<Arc<dyn Source>>,
) -> Result<Arc<dyn Source>> {
    if config.role_arn.is_none() {
        if let Some(s) = custom {
            return Ok(s);
        }
    }
    let imds = Arc::new(ImdsClient::new(config, clock.clone())?);
    let region = Arc::new(RegionResolver::new(config, imds.clone()));
    let (base, base_is_role): (Arc<dyn Source>, bool) = match (custom, config.source) {
        (Some(s), _) => (s, false),
        (None, SourceKind::InstanceProfile) => (Arc::new(InstanceProfile::new(imds.clone())), true),
        (None, SourceKind::Chain) => (
            Arc::new(chain::Chain::new(
                config,
                imds.clone(),
                region.clone(),
                clock.clone(),
            )),
            false,
        ),
    };
    let Some(role_arn) = config.role_arn.clone() else {
        return Ok(base);
    };
    let role = AssumeRole::new(
        base,
        RoleSpec {
            role_arn,
            options: config.role.clone(),
            duration_origin: origin_of(config, "role.duration"),
        },
        &config.sts,
        region,
        clock,
    );
    if base_is_role {
        // The instance profile always holds role credentials: refuse now, not at the first
        // refresh, and never send STS a request it must refuse.
        role.check_chaining_cap(true)?;
    }
    Ok(Arc::new(role))
}

fn origin_of(config: &Config, name: &str) -> String {
    config
        .resolved
        .iter()
        .find(|r| r.name == name)
        .map(|r| r.origin.to_string())
        .unwrap_or_else(|| Origin::Default.to_string())
}

/// Resolves the region once: the configured one, else the instance's placement from IMDS
/// (remembered), else [`FALLBACK_REGION`] (asked again after [`REGION_REPROBE`]).
pub(crate) struct RegionResolver {
    configured: Option<String>,
    imds: Option<Arc<ImdsClient>>,
    /// The region found, and until when a fallback stands (`None`: found for good).
    cached: tokio::sync::Mutex<Option<(String, Option<Instant>)>>,
}

impl RegionResolver {
    pub(crate) fn new(config: &Config, imds: Arc<ImdsClient>) -> Self {
        Self {
            configured: config.sts.region.clone(),
            imds: (!config.imds_disabled).then_some(imds),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The region to use now.
    ///
    /// # Cancel safety
    /// Cancel-safe: an interrupted IMDS lookup is simply tried again next time.
    pub(crate) async fn get(&self) -> String {
        if let Some(r) = &self.configured {
            return r.clone();
        }
        let mut cached = self.cached.lock().await;
        if let Some((region, until)) = &*cached {
            if until.is_none_or(|t| Instant::now() < t) {
                return region.clone();
            }
        }
        let found = match &self.imds {
            Some(imds) => match imds.get("/latest/meta-data/placement/region").await {
                Ok(a) if a.status == StatusCode::OK && !a.body.trim().is_empty() => {
                    Some(a.body.trim().to_owned())
                }
                Ok(a) => {
                    tracing::debug!(status = a.status.as_u16(), "IMDS did not tell the region");
                    None
                }
                Err(e) => {
                    tracing::debug!("IMDS did not tell the region: {e}");
                    None
                }
            },
            None => None,
        };
        match found {
            Some(region) => {
                tracing::debug!(%region, "STS region from the instance's placement");
                *cached = Some((region.clone(), None));
                region
            }
            None => {
                if cached.is_none() {
                    tracing::warn!(
                        "no region configured and IMDS did not tell the instance's: using STS in {FALLBACK_REGION}; set AWS_REGION to use your region's STS endpoint"
                    );
                }
                *cached = Some((
                    FALLBACK_REGION.to_owned(),
                    Some(Instant::now() + REGION_REPROBE),
                ));
                FALLBACK_REGION.to_owned()
            }
        }
    }
}

/// The role to assume and how.
#[derive(Debug, Clone)]
pub(crate) struct RoleSpec {
    /// The role ARN.
    pub role_arn: String,
    /// Session name, duration, external id, session policy.
    pub options: RoleOptions,
    /// Where `role.duration` came from, for the role-chaining message.
    pub duration_origin: String,
}

/// Assumes a role on top of another source, refreshed like any source.
///
/// Lifetime of each set is the requested duration (it scales the refresh-ahead window:
/// 15-minute sessions are refreshed 5 minutes ahead, 1-hour ones 15 minutes ahead).
pub struct AssumeRole {
    inner: Arc<dyn Source>,
    spec: RoleSpec,
    session_name: String,
    endpoint: Option<String>,
    region: Arc<RegionResolver>,
    clock: Arc<SkewClock>,
    http: SharedHttpClient,
    /// The last source credentials used: reused while still valid when the source fails,
    /// so that an IMDS outage does not also cost the role session.
    last_source: Mutex<Option<Credentials>>,
}

impl std::fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.spec.role_arn)
            .field("session_name", &self.session_name)
            .field("source", &self.inner.describe())
            .finish()
    }
}

impl AssumeRole {
    pub(crate) fn new(
        inner: Arc<dyn Source>,
        spec: RoleSpec,
        sts: &StsOptions,
        region: Arc<RegionResolver>,
        clock: Arc<SkewClock>,
    ) -> Self {
        // One name per engine: CloudTrail then shows one session name per process.
        let session_name = spec.options.session_name.clone().unwrap_or_else(|| {
            let secs = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            format!("freshcreds-{secs}")
        });
        Self {
            inner,
            spec,
            session_name,
            endpoint: sts.endpoint.clone(),
            region,
            clock,
            http: http_client(),
            last_source: Mutex::new(None),
        }
    }

    /// Role chaining (assuming a role with role credentials) is capped at one hour by AWS.
    fn check_chaining_cap(&self, source_holds_role_credentials: bool) -> Result<()> {
        if source_holds_role_credentials && self.spec.options.duration > ROLE_CHAINING_CAP {
            return Err(Error::RoleChainingCap {
                role_arn: self.spec.role_arn.clone(),
                duration: humantime::format_duration(self.spec.options.duration).to_string(),
                duration_origin: self.spec.duration_origin.clone(),
                source_desc: self.inner.describe(),
            });
        }
        Ok(())
    }

    fn remember_source(&self, c: Option<Credentials>) {
        *self.last_source.lock().unwrap_or_else(|p| p.into_inner()) = c;
    }

    /// Fresh source credentials, or the last ones while still valid if the source fails.
    async fn source_credentials(&self) -> Result<Credentials> {
        match self.inner.fetch().await {
            Ok(c) => {
                self.remember_source(Some(c.clone()));
                Ok(c)
            }
            Err(e) => {
                let last = self
                    .last_source
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let now = self.clock.corrected_now();
                match last {
                    Some(c) if c.time_left(now) > SOURCE_REUSE_MARGIN => {
                        tracing::warn!(
                            key = %c.key_id_abbrev(),
                            "the role's source failed ({e}); assuming the role with its last credentials, still valid until {}",
                            crate::time_fmt::rfc3339(c.expiration())
                        );
                        Ok(c)
                    }
                    _ => Err(e),
                }
            }
        }
    }

    async fn assume(&self) -> Result<Credentials> {
        let source = self.source_credentials().await?;
        // A source with a session token holds temporary credentials; from a chain they are
        // role credentials in practice (SSO, web identity, a role profile, the instance).
        self.check_chaining_cap(source.session_token().is_some())?;
        let region = self.region.get().await;
        let settings = ClientSettings {
            http: self.http.clone(),
            region: region.clone(),
            endpoint: self.endpoint.clone(),
            operation_timeout: ASSUME_ROLE_TIMEOUT,
            // One attempt: the refresher owns retries and their backoff, and keeps serving
            // the current session meanwhile.
            attempts: 1,
        };
        let client = client(&settings, sdk_credentials(&source));
        let o = &self.spec.options;
        let duration_secs = i32::try_from(o.duration.as_secs()).unwrap_or(i32::MAX);
        let sent = client
            .assume_role()
            .role_arn(&self.spec.role_arn)
            .role_session_name(&self.session_name)
            .duration_seconds(duration_secs)
            .set_external_id(o.external_id.clone())
            .set_policy(o.session_policy.clone())
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => return Err(self.map_error(e, &source, &client, &settings).await),
        };
        let Some(c) = out.credentials else {
            return Err(Error::Sts {
                code: "MissingCredentials".into(),
                role_arn: self.spec.role_arn.clone(),
                message: "the AssumeRole answer holds no credentials".into(),
                fix: "check that AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL name an STS endpoint"
                    .into(),
                retryable: true,
            });
        };
        let expiration = SystemTime::try_from(c.expiration).map_err(|_| Error::Sts {
            code: "BadExpiration".into(),
            role_arn: self.spec.role_arn.clone(),
            message: "the AssumeRole answer has an expiration out of range".into(),
            fix: "check that AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL name an STS endpoint".into(),
            retryable: true,
        })?;
        let account = self.spec.role_arn.split(':').nth(4).map(str::to_owned);
        let credentials = Credentials::new(
            c.access_key_id,
            SecretString::new(c.secret_access_key),
            Some(SecretString::new(c.session_token)),
            expiration,
            o.duration,
        )
        .with_account_id(account);
        tracing::info!(
            role = %self.spec.role_arn,
            session = %self.session_name,
            key = %credentials.key_id_abbrev(),
            source_key = %source.key_id_abbrev(),
            source = %self.inner.describe(),
            %region,
            "role assumed"
        );
        Ok(credentials)
    }

    async fn map_error(
        &self,
        e: SdkError<AssumeRoleError, HttpResponse>,
        source: &Credentials,
        client: &aws_sdk_sts::Client,
        settings: &ClientSettings,
    ) -> Error {
        let at = settings
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("sts.{} (regional)", settings.region));
        let parsed = match &e {
            SdkError::ServiceError(se) => {
                let body = se.raw().body().bytes().unwrap_or_default();
                match service_error_code(se.err(), body) {
                    Some(parsed) => Some(parsed),
                    None => {
                        return Error::StsUnreachable {
                            endpoint: at,
                            role_arn: self.spec.role_arn.clone(),
                            detail: "the answer holds no AWS error code (is this an STS endpoint?)"
                                .into(),
                        }
                    }
                }
            }
            _ => None,
        };
        let Some((code, message)) = parsed else {
            return Error::StsUnreachable {
                endpoint: at,
                role_arn: self.spec.role_arn.clone(),
                detail: cause(&e),
            };
        };
        self.classify(&code, &message, source, client, &settings.region)
            .await
    }

    async fn classify(
        &self,
        code: &str,
        message: &str,
        source: &Credentials,
        client: &aws_sdk_sts::Client,
        region: &str,
    ) -> Error {
        let role_arn = self.spec.role_arn.clone();
        let message = message.to_owned();
        match code {
            "AccessDenied" | "AccessDeniedException" => {
                let caller = caller_of(&message, source, client, &self.inner.describe()).await;
                let external_id_hint = if self.spec.options.external_id.is_some() {
                    " with the external id given (role.external_id)".to_owned()
                } else {
                    " (if it has an sts:ExternalId condition, set role.external_id)".to_owned()
                };
                Error::AssumeRoleDenied {
                    role_arn,
                    caller,
                    message,
                    external_id_hint,
                }
            }
            "ExpiredToken" | "ExpiredTokenException" => {
                // Never reuse those source credentials; the next attempt fetches new ones.
                self.remember_source(None);
                self.clock.request_measurement();
                Error::SourceExpired {
                    key: source.key_id_abbrev(),
                    source_desc: self.inner.describe(),
                    message,
                    fix: "freshcreds fetches fresh source credentials and tries again (a static session token cannot be refreshed: replace it); if this repeats, check the host clock with freshcreds doctor".into(),
                }
            }
            c if is_throttling(c) => Error::StsThrottled {
                role_arn,
                code: c.to_owned(),
                message,
            },
            "RegionDisabledException" => Error::StsRegionDisabled {
                region: region.to_owned(),
                message,
            },
            "MalformedPolicyDocument"
            | "MalformedPolicyDocumentException"
            | "PackedPolicyTooLarge"
            | "PackedPolicyTooLargeException" => Error::Sts {
                code: code.to_owned(),
                role_arn,
                message,
                fix: "fix the session policy (role.session_policy, FRESHCREDS_ROLE_SESSION_POLICY)".into(),
                retryable: false,
            },
            "ValidationError" => Error::Sts {
                code: code.to_owned(),
                role_arn,
                message,
                fix: "check role.duration against the role's maximum session duration (aws iam get-role), and role.session_name and role.external_id".into(),
                retryable: false,
            },
            "RequestExpired" | "RequestTimeTooSkewed" | "SignatureDoesNotMatch"
                if code != "SignatureDoesNotMatch" || message.contains("expired") =>
            {
                self.clock.request_measurement();
                Error::Sts {
                    code: code.to_owned(),
                    role_arn,
                    message,
                    fix: "the host clock is off: freshcreds measures it again; see freshcreds doctor".into(),
                    retryable: true,
                }
            }
            "InvalidClientTokenId" | "SignatureDoesNotMatch" => {
                self.remember_source(None);
                Error::Sts {
                    code: code.to_owned(),
                    role_arn,
                    message,
                    fix: format!(
                        "STS does not accept the source credentials (key {} from {}): check that the region and AWS_ENDPOINT_URL_STS belong to the source's partition",
                        source.key_id_abbrev(),
                        self.inner.describe()
                    ),
                    retryable: true,
                }
            }
            _ => Error::Sts {
                code: code.to_owned(),
                role_arn,
                message,
                fix: "freshcreds retries with backoff; see the error code in the AWS STS documentation".into(),
                retryable: true,
            },
        }
    }
}

impl Source for AssumeRole {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.assume())
    }

    fn describe(&self) -> String {
        format!(
            "assume-role {} (session {}) on {}",
            self.spec.role_arn,
            self.session_name,
            self.inner.describe()
        )
    }

    fn imds_version(&self) -> ImdsVersion {
        self.inner.imds_version()
    }
}

/// Codes the SDKs treat as throttling.
fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "PriorRequestNotComplete"
            | "SlowDown"
    )
}

/// Converts engine credentials to the SDK's type to sign one call with them.
pub(crate) fn sdk_credentials(c: &Credentials) -> SdkCredentials {
    SdkCredentials::new(
        c.access_key_id().to_owned(),
        c.secret_access_key().expose().to_owned(),
        c.session_token().map(|t| t.expose().to_owned()),
        Some(c.expiration()),
        "freshcreds",
    )
}

/// Who was denied: the ARN from STS's message ("User: ARN is not authorized…"), else from
/// `GetCallerIdentity` (always allowed once a signature checks out), with the key and source.
async fn caller_of(
    message: &str,
    source: &Credentials,
    client: &aws_sdk_sts::Client,
    source_desc: &str,
) -> String {
    let key = format!("key {} from {source_desc}", source.key_id_abbrev());
    let from_message = message
        .split_once("User: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .filter(|arn| arn.starts_with("arn:"))
        .map(str::to_owned);
    let arn = match from_message {
        Some(arn) => Some(arn),
        None => client
            .get_caller_identity()
            .send()
            .await
            .ok()
            .and_then(|out| out.arn),
    };
    match arn {
        Some(arn) => format!("{arn} ({key})"),
        None => key,
    }
}

#[cfg(test)]
mod tests;
