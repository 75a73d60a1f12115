//! Chain mode: the AWS SDKs' default credentials chain, refreshed by the engine.
//!
//! Steps, in the SDKs' order: environment variables, the profile (static keys,
//! `role_arn` with `source_profile` or `credential_source`, SSO, `credential_process`), web
//! identity, container credentials, and IMDS last. The first four are `aws-config`'s
//! providers; IMDS is the engine's own client (its backoff, token and hop-limit rules), also
//! behind `credential_source = Ec2InstanceMetadata`. As in the SDKs, a step with nothing
//! configured passes to the next one, and a step that fails stops the chain.
//!
//! The providers are rebuilt on every fetch: `aws-config` caches a parsed profile per
//! provider, and a refresh should see an edited `~/.aws/config`. Nothing here caches
//! credentials: the refresher decides when to fetch.
//!
//! Static credentials cannot be refreshed. Long-term keys do not expire; a static session
//! token does: it is reported (warning) with its expiry when known (`AWS_CREDENTIAL_EXPIRATION`)
//! and, once past it, refused with an error instead of being served. Credentials with no
//! known expiry are published as valid for [`STATIC_RECHECK`] and read again then.
//!
//! Recursion: a profile whose `credential_process` runs `freshcreds credentials` in chain
//! mode would run this chain again, without end. [`recursion_in_profiles`] finds that in the
//! profile files before the chain runs; [`guard_process_recursion`] catches what the files
//! do not show (a wrapper script) in the CLI.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials};
use aws_credential_types::Credentials as SdkCredentials;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Region, SharedHttpClient};
use ini::{Ini, ParseOption};

use super::{http_client, RegionResolver};
use crate::clock::SkewClock;
use crate::config::Config;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::imds::{ImdsClient, ImdsVersion};
use crate::secret::SecretString;
use crate::source::{BoxFuture, Source};
use crate::time_fmt::{parse_rfc3339, rfc3339};

/// Credentials without a known expiry are read again after this long.
pub const STATIC_RECHECK: Duration = Duration::from_secs(3600);
/// A static session token this close to its expiry is warned about once more.
const EXPIRY_WARNING: Duration = Duration::from_secs(5 * 60);
/// Set by `freshcreds` in its own environment while it runs chain mode, so that a
/// `freshcreds` started from it (through a `credential_process`) can tell it would recurse.
pub const CHAIN_PARENT_VAR: &str = "FRESHCREDS_CHAIN_PARENT";
/// Profiles followed through `source_profile` when looking for recursion.
const MAX_PROFILE_HOPS: usize = 16;

/// The default chain as an engine source.
pub struct Chain {
    imds: Arc<ImdsClient>,
    imds_disabled: bool,
    region: Arc<RegionResolver>,
    clock: Arc<SkewClock>,
    http: SharedHttpClient,
    /// The profile (`aws.profile`, `AWS_PROFILE`), passed on explicitly because `aws-config`
    /// does not see Java system properties.
    profile: Option<String>,
    /// Which step answered last, for `describe()`.
    last_step: Mutex<Option<String>>,
    /// The static credentials last warned about, so one set is warned about once (plus
    /// once more near its expiry) rather than on every read.
    warned: Mutex<Option<(String, bool)>>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("imds", &self.imds.endpoint())
            .field("last_step", &self.last_step())
            .finish()
    }
}

/// Where the chain found credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Env,
    Profile,
    WebIdentity,
    Container,
}

impl Chain {
    pub(crate) fn new(
        config: &Config,
        imds: Arc<ImdsClient>,
        region: Arc<RegionResolver>,
        clock: Arc<SkewClock>,
    ) -> Self {
        Self {
            imds,
            imds_disabled: config.imds_disabled,
            region,
            clock,
            http: http_client(),
            profile: config.sts.profile.clone(),
            last_step: Mutex::new(None),
            warned: Mutex::new(None),
        }
    }

    fn last_step(&self) -> Option<String> {
        self.last_step
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn profile_name(&self) -> String {
        self.profile.clone().unwrap_or_else(|| "default".to_owned())
    }

    async fn run(&self) -> Result<Credentials> {
        let env = ProcessEnv;
        let profile = self.profile_name();
        if let Some(detail) = recursion_in_profiles(&env, &profile) {
            return Err(Error::ChainRecursion { detail });
        }
        // Environment credentials need no region: a chain that ends there never waits for
        // IMDS to tell one.
        let env_step = EnvironmentVariableCredentialsProvider::new();
        let mut skipped = Vec::new();
        match env_step.provide_credentials().await {
            Ok(c) => return self.accept(Step::Env, "env", c),
            Err(e @ CredentialsError::CredentialsNotLoaded(_)) => {
                skipped.push(format!("env: {}", describe_not_loaded(Step::Env, &e)));
            }
            Err(e) => {
                return Err(Error::ChainStep {
                    step: "env".into(),
                    detail: step_failure(Step::Env, &profile, &e),
                })
            }
        }
        let region = self.region.get().await;
        let pc = ProviderConfig::without_region()
            .with_region(Some(Region::new(region)))
            .with_http_client(self.http.clone())
            .with_timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(super::CONNECT_TIMEOUT)
                    .operation_timeout(Duration::from_secs(20))
                    .build(),
            );
        let imds_step = ImdsStep {
            imds: self.imds.clone(),
            disabled: self.imds_disabled,
        };
        let mut profile_provider = ProfileFileCredentialsProvider::builder()
            .configure(&pc)
            // `credential_source = Ec2InstanceMetadata` uses the engine's IMDS client too.
            .with_custom_provider("Ec2InstanceMetadata", imds_step.clone());
        if let Some(p) = &self.profile {
            profile_provider = profile_provider.profile_name(p);
        }
        let steps: [(Step, String, Box<dyn ProvideCredentials>); 3] = [
            (
                Step::Profile,
                format!("profile {profile}"),
                Box::new(profile_provider.build()),
            ),
            (
                Step::WebIdentity,
                "web identity".into(),
                Box::new(
                    WebIdentityTokenCredentialsProvider::builder()
                        .configure(&pc)
                        .build(),
                ),
            ),
            (
                Step::Container,
                "container".into(),
                Box::new(
                    aws_config::ecs::EcsCredentialsProvider::builder()
                        .configure(&pc)
                        .build(),
                ),
            ),
        ];
        for (step, name, provider) in &steps {
            match provider.provide_credentials().await {
                Ok(c) => return self.accept(*step, name, c),
                Err(e @ CredentialsError::CredentialsNotLoaded(_)) => {
                    skipped.push(format!("{name}: {}", describe_not_loaded(*step, &e)));
                }
                Err(e) => {
                    return Err(Error::ChainStep {
                        step: name.clone(),
                        detail: step_failure(*step, &profile, &e),
                    })
                }
            }
        }
        // IMDS last, through the engine's client so that its own errors (hop limit, no
        // role attached) keep their meaning and their fix.
        if self.imds_disabled {
            skipped.push("IMDS: disabled by AWS_EC2_METADATA_DISABLED".into());
            return Err(Error::ChainEmpty {
                detail: skipped.join("; "),
            });
        }
        match self.imds.fetch_credentials().await {
            Ok(fetched) => {
                self.set_last_step(format!("IMDS (role {})", fetched.role));
                Ok(fetched.credentials)
            }
            Err(e @ (Error::ImdsUnreachable { .. } | Error::ImdsDisabled)) => {
                skipped.push(format!("IMDS: {e}"));
                Err(Error::ChainEmpty {
                    detail: skipped.join("; "),
                })
            }
            Err(e) => Err(e),
        }
    }

    fn set_last_step(&self, step: String) {
        *self.last_step.lock().unwrap_or_else(|p| p.into_inner()) = Some(step);
    }

    /// Turns a chain answer into engine credentials; static ones get an expiry (known, or
    /// [`STATIC_RECHECK`] from now) and are reported.
    fn accept(&self, step: Step, name: &str, c: SdkCredentials) -> Result<Credentials> {
        self.set_last_step(name.to_owned());
        let now = self.clock.corrected_now();
        let key = crate::secret::abbreviate_key_id(c.access_key_id());
        let token = c.session_token().map(|t| SecretString::new(t.to_owned()));
        let account = c.account_id().map(|a| a.as_str().to_owned());
        let (expiration, lifetime) = match c.expiry() {
            // Published, they would only make the refresher ask again at once, forever.
            Some(exp) if exp <= now => {
                return Err(Error::ChainStep {
                    step: name.to_owned(),
                    detail: format!(
                        "it answered with credentials (key {key}) that expired at {} (on the skew-corrected clock)",
                        rfc3339(exp)
                    ),
                })
            }
            Some(exp) => (exp, exp.duration_since(now).unwrap_or(Duration::ZERO)),
            None => {
                let origin = static_origin(step, name);
                let known = if step == Step::Env {
                    std::env::var("AWS_CREDENTIAL_EXPIRATION")
                        .ok()
                        .and_then(|v| parse_rfc3339(&v))
                } else {
                    None
                };
                match (&token, known) {
                    (Some(_), Some(exp)) => {
                        if exp <= now {
                            return Err(Error::StaticTokenExpired {
                                origin,
                                key,
                                expired_at: rfc3339(exp),
                            });
                        }
                        let left = exp.duration_since(now).unwrap_or(Duration::ZERO);
                        self.warn_static(&key, left <= EXPIRY_WARNING, || {
                            format!(
                                "static session token from {origin} (key {key}) cannot be refreshed: it expires at {} (in {}); after that freshcreds refuses it. Use a source that refreshes (the instance profile, a role profile, SSO)",
                                rfc3339(exp),
                                humantime::format_duration(Duration::from_secs(left.as_secs()))
                            )
                        });
                        (exp, left)
                    }
                    (Some(_), None) => {
                        self.warn_static(&key, false, || {
                            format!(
                                "static session token from {origin} (key {key}) cannot be refreshed and its expiry is unknown (set AWS_CREDENTIAL_EXPIRATION to have freshcreds stop serving it on time): once it ends, requests fail with ExpiredToken. Use a source that refreshes (the instance profile, a role profile, SSO)"
                            )
                        });
                        (now + STATIC_RECHECK, STATIC_RECHECK)
                    }
                    (None, _) => {
                        let first = self.mark_seen(&key);
                        if first {
                            tracing::info!(key = %key, "long-term access key from {origin}: it does not expire, so there is nothing to refresh; freshcreds reads the chain again every {}", humantime::format_duration(STATIC_RECHECK));
                        }
                        (now + STATIC_RECHECK, STATIC_RECHECK)
                    }
                }
            }
        };
        tracing::debug!(step = name, key = %key, expiration = %rfc3339(expiration), "default chain answered");
        Ok(Credentials::new(
            c.access_key_id().to_owned(),
            SecretString::new(c.secret_access_key().to_owned()),
            token,
            expiration,
            lifetime,
        )
        .with_account_id(account))
    }

    /// Logs `message` at warn level once per key, and once more when `near_expiry`.
    fn warn_static(&self, key: &str, near_expiry: bool, message: impl FnOnce() -> String) {
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        let due = match &*warned {
            Some((k, near)) if k == key => near_expiry && !near,
            _ => true,
        };
        if due {
            tracing::warn!("{}", message());
            *warned = Some((key.to_owned(), near_expiry));
        } else {
            tracing::debug!(key, "static session token read again");
        }
    }

    fn mark_seen(&self, key: &str) -> bool {
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        if warned.as_ref().is_some_and(|(k, _)| k == key) {
            return false;
        }
        *warned = Some((key.to_owned(), false));
        true
    }
}

impl Source for Chain {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.run())
    }

    fn describe(&self) -> String {
        let mut d = format!(
            "default chain (env, profile, web identity, container, IMDS {})",
            self.imds.endpoint().trim_end_matches('/')
        );
        if let Some(step) = self.last_step() {
            d.push_str(&format!(", from {step}"));
        }
        d
    }

    fn imds_version(&self) -> ImdsVersion {
        self.imds.version()
    }
}

fn static_origin(step: Step, name: &str) -> String {
    match step {
        Step::Env => "env AWS_SESSION_TOKEN".into(),
        _ => name.to_owned(),
    }
}

/// What a step that had nothing said, in the user's terms (`aws-config`'s own texts name
/// providers, not settings).
fn describe_not_loaded(step: Step, e: &CredentialsError) -> String {
    match step {
        Step::Env => "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set".into(),
        Step::WebIdentity => "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set".into(),
        Step::Container => "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI not set".into(),
        Step::Profile => {
            let detail = super::cause(e);
            if detail.contains("not enabled") {
                "no credentials configured (AWS_CONFIG_FILE / ~/.aws/config, AWS_SHARED_CREDENTIALS_FILE / ~/.aws/credentials)".into()
            } else {
                detail
            }
        }
    }
}

/// A failed step's message, trimmed, with the fix for an SSO login that ran out.
fn step_failure(step: Step, profile: &str, e: &CredentialsError) -> String {
    let detail = super::cause(e).trim().to_owned();
    if step == Step::Profile && detail.contains("SSO token") {
        return format!("{detail} (sign in again: aws sso login --profile {profile})");
    }
    detail
}

/// `credential_source = Ec2InstanceMetadata` in a profile, served by the engine's IMDS client.
#[derive(Clone)]
struct ImdsStep {
    imds: Arc<ImdsClient>,
    disabled: bool,
}

impl std::fmt::Debug for ImdsStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImdsStep")
            .field("endpoint", &self.imds.endpoint())
            .finish()
    }
}

impl ProvideCredentials for ImdsStep {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            if self.disabled {
                return Err(CredentialsError::not_loaded(
                    "IMDS is disabled by AWS_EC2_METADATA_DISABLED",
                ));
            }
            match self.imds.fetch_credentials().await {
                Ok(f) => Ok(super::sdk_credentials(&f.credentials)),
                Err(e @ Error::ImdsUnreachable { .. }) => Err(CredentialsError::not_loaded(e)),
                Err(e) => Err(CredentialsError::provider_error(e)),
            }
        })
    }
}

/// The process environment, read where the chain reads it.
struct ProcessEnv;

/// Environment lookups, so that recursion detection can be tested without touching the
/// process environment.
pub(crate) trait EnvLookup {
    /// The variable's value, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

impl EnvLookup for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl EnvLookup for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// Refuses to run chain mode in a `freshcreds` started (directly or through a script) by
/// a `credential_process` of a `freshcreds` that runs chain mode, and marks this process
/// for its own children. Call it once, before any thread or child process is started.
///
/// # Errors
/// [`Error::ChainRecursion`] naming the parent process.
pub fn guard_process_recursion() -> Result<()> {
    if let Ok(parent) = std::env::var(CHAIN_PARENT_VAR) {
        return Err(Error::ChainRecursion {
            detail: format!(
                "this freshcreds runs chain mode and was started by another freshcreds running chain mode (pid {parent}, through a profile's credential_process), which would start it again"
            ),
        });
    }
    // Still single-threaded here (see above), so changing the environment is sound.
    std::env::set_var(CHAIN_PARENT_VAR, std::process::id().to_string());
    Ok(())
}

/// A profile on the chain's way (the selected one and its `source_profile`s) whose
/// `credential_process` runs `freshcreds credentials` in chain mode, described; `None`
/// when there is none, or when environment credentials win before the profile step.
pub(crate) fn recursion_in_profiles(env: &dyn EnvLookup, profile: &str) -> Option<String> {
    if env.var("AWS_ACCESS_KEY_ID").is_some() && env.var("AWS_SECRET_ACCESS_KEY").is_some() {
        return None;
    }
    let home = env.var("HOME").map(PathBuf::from);
    let config = env
        .var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/config")));
    let credentials = env
        .var("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/credentials")));
    let config = config.as_deref().and_then(load_ini);
    let credentials = credentials.as_deref().and_then(load_ini);
    let mut name = profile.to_owned();
    let mut seen = Vec::new();
    for _ in 0..MAX_PROFILE_HOPS {
        if seen.contains(&name) {
            return None;
        }
        let keys = profile_keys(config.as_ref(), credentials.as_ref(), &name);
        if let Some(command) = keys.get("credential_process") {
            if runs_chain_mode(command, env) {
                return Some(format!(
                    "profile {name} has credential_process = {command}, a freshcreds in chain mode, and chain mode reads profile {profile}"
                ));
            }
        }
        seen.push(name.clone());
        match (keys.get("role_arn"), keys.get("source_profile")) {
            (Some(_), Some(next)) => name = next.clone(),
            _ => return None,
        }
    }
    None
}

fn load_ini(path: &Path) -> Option<Ini> {
    let opts = ParseOption {
        enabled_quote: false,
        enabled_escape: false,
        ..ParseOption::default()
    };
    Ini::load_from_file_opt(path, opts).ok()
}

/// The keys of profile `name`: the credentials file's `[name]` over the config file's
/// `[profile name]` (or `[default]`), as the SDKs merge them.
fn profile_keys(
    config: Option<&Ini>,
    credentials: Option<&Ini>,
    name: &str,
) -> HashMap<String, String> {
    let mut keys = HashMap::new();
    let mut take = |ini: Option<&Ini>, wanted: &dyn Fn(&str) -> bool| {
        let Some(ini) = ini else { return };
        for (section, props) in ini.iter() {
            if section.is_some_and(|s| wanted(s.trim())) {
                for (k, v) in props.iter() {
                    keys.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
        }
    };
    let prefixed = format!("profile {name}");
    take(config, &|s| {
        s == prefixed || (name == "default" && s == "default")
    });
    take(credentials, &|s| s == name);
    keys
}

/// True when `command` runs `freshcreds credentials` and that process would run chain mode:
/// `--source chain` on its command line, or no `--source` and `FRESHCREDS_SOURCE=chain` in
/// the environment it inherits.
pub(crate) fn runs_chain_mode(command: &str, env: &dyn EnvLookup) -> bool {
    let words: Vec<&str> = command
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .collect();
    let Some(program) = words.first() else {
        return false;
    };
    let is_freshcreds = Path::new(program)
        .file_name()
        .is_some_and(|n| n == "freshcreds")
        || std::env::current_exe()
            .ok()
            .is_some_and(|exe| Path::new(program) == exe);
    if !is_freshcreds || !words.contains(&"credentials") {
        return false;
    }
    let mut source = None;
    for (i, w) in words.iter().enumerate() {
        if let Some(v) = w.strip_prefix("--source=") {
            source = Some(v.to_owned());
        } else if *w == "--source" {
            source = words.get(i + 1).map(|v| (*v).to_owned());
        }
    }
    let source = source.or_else(|| env.var("FRESHCREDS_SOURCE"));
    source.is_some_and(|s| s.trim().eq_ignore_ascii_case("chain"))
}
