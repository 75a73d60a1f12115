//! Settings: where each comes from, in the order the AWS SDKs for Java use.
//!
//! Precedence, highest first: an explicit override (CLI flag or Java builder call), a
//! `freshcreds.*` Java system property, the AWS SDK system property, the environment
//! variable, the selected profile in the AWS config file, the default. Java system
//! properties reach the engine as a plain key/value map (see [`Inputs::props`]).
//!
//! ```
//! use freshcreds::{Config, Inputs};
//! let mut inputs = Inputs::empty();
//! inputs.env.insert("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE".into(), "ipv6".into());
//! let config = Config::resolve(&inputs).unwrap();
//! assert_eq!(config.imds_endpoint.as_str(), "http://[fd00:ec2::254]/");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::error::{Error, Result};
use crate::profile::Profile;

mod role;
pub use role::{RoleOptions, StsOptions, MAX_ROLE_DURATION, MIN_ROLE_DURATION, ROLE_CHAINING_CAP};

/// The default IMDS endpoint in IPv4 mode.
pub const IPV4_ENDPOINT: &str = "http://169.254.169.254";
/// The default IMDS endpoint in IPv6 mode.
pub const IPV6_ENDPOINT: &str = "http://[fd00:ec2::254]";
/// Amazon Time Sync, reachable from every EC2 instance.
pub const AMAZON_TIME_SYNC: &str = "169.254.169.123";

/// Raw inputs to settings resolution: process environment, Java system properties,
/// explicit overrides, and the home directory used to find `~/.aws/config`.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Environment variables.
    pub env: HashMap<String, String>,
    /// Java system properties (`freshcreds.*`, `aws.*`, `com.amazonaws.sdk.*`).
    pub props: HashMap<String, String>,
    /// Explicit overrides by setting name (e.g. `imds.endpoint`), with a label saying who
    /// set them (e.g. `--imds-endpoint`, `builder`).
    pub overrides: HashMap<String, (String, String)>,
    /// The home directory, for `~/.aws/config`; `None` reads no profile unless
    /// `AWS_CONFIG_FILE` is set.
    pub home: Option<PathBuf>,
}

impl Inputs {
    /// No environment, no properties, no home: every setting at its default.
    pub fn empty() -> Self {
        Self::default()
    }

    /// This process's environment and `$HOME`.
    pub fn from_process() -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        let home = env.get("HOME").map(PathBuf::from);
        Self {
            env,
            home,
            ..Self::default()
        }
    }

    /// Sets an explicit override of setting `name`, labelled by who set it.
    pub fn set(&mut self, name: &str, value: impl Into<String>, label: impl Into<String>) {
        self.overrides
            .insert(name.to_owned(), (value.into(), label.into()));
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An explicit override: a CLI flag or a builder call (the label says which).
    Override(String),
    /// A Java system property.
    SystemProperty(String),
    /// An environment variable.
    Env(String),
    /// A key in a profile of the AWS config file.
    Profile {
        /// The config file.
        file: PathBuf,
        /// The profile name.
        profile: String,
        /// The key.
        key: String,
    },
    /// The built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Override(label) => write!(f, "{label}"),
            Origin::SystemProperty(p) => write!(f, "system property {p}"),
            Origin::Env(v) => write!(f, "env {v}"),
            Origin::Profile { file, profile, key } => {
                write!(f, "profile {profile} ({}) {key}", file.display())
            }
            Origin::Default => f.write_str("default"),
        }
    }
}

/// One setting's effective value and origin, as `freshcreds config` lists them.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The setting name, e.g. `imds.endpoint`.
    pub name: &'static str,
    /// The effective value as text.
    pub value: String,
    /// Where it came from.
    pub origin: Origin,
}

/// Where one setting may be given, highest precedence first after the override.
struct Spec {
    name: &'static str,
    props: &'static [&'static str],
    env: &'static [&'static str],
    profile_key: Option<&'static str>,
    default: &'static str,
}

const ENDPOINT: Spec = Spec {
    name: "imds.endpoint",
    props: &[
        "freshcreds.imdsEndpoint",
        "aws.ec2MetadataServiceEndpoint",
        "com.amazonaws.sdk.ec2MetadataServiceEndpointOverride",
    ],
    env: &["AWS_EC2_METADATA_SERVICE_ENDPOINT"],
    profile_key: Some("ec2_metadata_service_endpoint"),
    default: "",
};
const ENDPOINT_MODE: Spec = Spec {
    name: "imds.endpoint_mode",
    props: &[
        "freshcreds.imdsEndpointMode",
        "aws.ec2MetadataServiceEndpointMode",
    ],
    env: &["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"],
    profile_key: Some("ec2_metadata_service_endpoint_mode"),
    default: "IPv4",
};
const DISABLED: Spec = Spec {
    name: "imds.disabled",
    props: &["aws.disableEc2Metadata"],
    env: &["AWS_EC2_METADATA_DISABLED"],
    profile_key: None,
    default: "false",
};
const V1_DISABLED: Spec = Spec {
    name: "imds.v1_disabled",
    props: &["freshcreds.v1Disabled", "aws.disableEc2MetadataV1"],
    env: &["AWS_EC2_METADATA_V1_DISABLED"],
    profile_key: Some("ec2_metadata_v1_disabled"),
    default: "false",
};
const TIMEOUT: Spec = Spec {
    name: "imds.timeout",
    props: &["freshcreds.imdsTimeout", "aws.ec2MetadataServiceTimeout"],
    env: &["AWS_METADATA_SERVICE_TIMEOUT"],
    profile_key: Some("metadata_service_timeout"),
    default: "1",
};
const ATTEMPTS: Spec = Spec {
    name: "imds.attempts",
    props: &["freshcreds.imdsAttempts"],
    env: &["AWS_METADATA_SERVICE_NUM_ATTEMPTS"],
    profile_key: Some("metadata_service_num_attempts"),
    default: "3",
};
const REFRESH_AHEAD: Spec = Spec {
    name: "refresh.ahead",
    props: &["freshcreds.refreshAhead"],
    env: &["FRESHCREDS_REFRESH_AHEAD"],
    profile_key: None,
    default: "auto",
};
const NTP_SERVERS: Spec = Spec {
    name: "ntp.servers",
    props: &["freshcreds.ntpServers"],
    env: &["FRESHCREDS_NTP_SERVERS"],
    profile_key: None,
    default: AMAZON_TIME_SYNC,
};
const ROLE_ARN: Spec = Spec {
    name: "role.arn",
    props: &["freshcreds.roleArn"],
    env: &["FRESHCREDS_ROLE_ARN"],
    profile_key: None,
    default: "",
};
const SOURCE: Spec = Spec {
    name: "source",
    props: &["freshcreds.source"],
    env: &["FRESHCREDS_SOURCE"],
    profile_key: None,
    default: "instance-profile",
};
const LOG_LEVEL: Spec = Spec {
    name: "log.level",
    props: &["freshcreds.log"],
    env: &["FRESHCREDS_LOG"],
    profile_key: None,
    default: "warn",
};

/// Where the engine's base credentials come from (setting `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// The instance profile, read from IMDS (`instance-profile`, the default).
    InstanceProfile,
    /// The AWS SDKs' default chain: env, profile, web identity, container, IMDS (`chain`).
    Chain,
}

impl SourceKind {
    /// The setting's value: `instance-profile` or `chain`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::InstanceProfile => "instance-profile",
            SourceKind::Chain => "chain",
        }
    }
}

/// The engine's effective settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// IMDS base URL (`http://169.254.169.254/` by default).
    pub imds_endpoint: Url,
    /// IMDS use turned off (`AWS_EC2_METADATA_DISABLED`).
    pub imds_disabled: bool,
    /// IMDSv1 fallback turned off (`AWS_EC2_METADATA_V1_DISABLED`).
    pub v1_disabled: bool,
    /// Per-attempt timeout for one IMDS request (connect and read).
    pub imds_timeout: Duration,
    /// Attempts per IMDS request, including the first.
    pub imds_attempts: u32,
    /// Fixed refresh-ahead window; `None` scales it with the credentials' lifetime.
    pub refresh_ahead: Option<Duration>,
    /// SNTP servers, `host` or `host:port`; empty turns NTP off.
    pub ntp_servers: Vec<String>,
    /// A role to assume on top of the source (`FRESHCREDS_ROLE_ARN`); `None` uses the
    /// source's own credentials.
    pub role_arn: Option<String>,
    /// How `role_arn` is assumed: session name, duration, external id, session policy.
    pub role: RoleOptions,
    /// Where the base credentials come from (`FRESHCREDS_SOURCE`).
    pub source: SourceKind,
    /// Where STS is reached: region and endpoint.
    pub sts: StsOptions,
    /// Log filter for `tracing` (`warn`, `info`, `debug`, `trace`, or a filter directive).
    pub log_level: String,
    /// Every setting with its value and origin.
    pub resolved: Vec<Resolved>,
}

impl Config {
    /// Resolves settings from this process's environment and `~/.aws/config`.
    pub fn from_env() -> Result<Config> {
        Config::resolve(&Inputs::from_process())
    }

    /// Resolves every setting from `inputs`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting, the bad value and where it came from.
    pub fn resolve(inputs: &Inputs) -> Result<Config> {
        let profile = load_profile(inputs);
        let lookup = |spec: &Spec| lookup(spec, inputs, &profile);

        let mut resolved = Vec::new();
        let (imds_endpoint, endpoint_origin, mode) = resolve_endpoint(&lookup)?;
        resolved.push(Resolved {
            name: ENDPOINT.name,
            value: imds_endpoint.as_str().trim_end_matches('/').to_owned(),
            origin: endpoint_origin,
        });
        resolved.push(mode);

        let (v, o) = lookup(&DISABLED);
        let imds_disabled = parse_bool(&DISABLED, &v, &o)?;
        resolved.push(Resolved {
            name: DISABLED.name,
            value: imds_disabled.to_string(),
            origin: o,
        });

        let (v, o) = lookup(&V1_DISABLED);
        let v1_disabled = parse_bool(&V1_DISABLED, &v, &o)?;
        resolved.push(Resolved {
            name: V1_DISABLED.name,
            value: v1_disabled.to_string(),
            origin: o,
        });

        let (v, o) = lookup(&TIMEOUT);
        let imds_timeout = parse_seconds(&TIMEOUT, &v, &o)?;
        resolved.push(Resolved {
            name: TIMEOUT.name,
            value: format!("{}s", imds_timeout.as_secs_f64()),
            origin: o,
        });

        let (v, o) = lookup(&ATTEMPTS);
        let imds_attempts = match v.trim().parse::<u32>() {
            Ok(n) if (1..=20).contains(&n) => n,
            _ => {
                return Err(bad(
                    &ATTEMPTS,
                    &v,
                    &o,
                    "expected a whole number from 1 to 20",
                ))
            }
        };
        resolved.push(Resolved {
            name: ATTEMPTS.name,
            value: imds_attempts.to_string(),
            origin: o,
        });

        let (v, o) = lookup(&REFRESH_AHEAD);
        let refresh_ahead = parse_refresh_ahead(&v, &o)?;
        resolved.push(Resolved {
            name: REFRESH_AHEAD.name,
            value: v.trim().to_owned(),
            origin: o,
        });

        let (v, o) = lookup(&NTP_SERVERS);
        let ntp_servers = parse_ntp_servers(&v);
        resolved.push(Resolved {
            name: NTP_SERVERS.name,
            value: if ntp_servers.is_empty() {
                "off".into()
            } else {
                ntp_servers.join(",")
            },
            origin: o,
        });

        let (v, o) = lookup(&ROLE_ARN);
        let role_arn = parse_role_arn(&v, &o)?;
        resolved.push(Resolved {
            name: ROLE_ARN.name,
            value: role_arn.clone().unwrap_or_else(|| "none".into()),
            origin: o,
        });
        let role = role::resolve_role(&lookup, &mut resolved)?;

        let (v, o) = lookup(&SOURCE);
        let source = match v.trim().to_ascii_lowercase().as_str() {
            // `imds` is the short name the CLI's `--source imds|chain` uses.
            "instance-profile" | "imds" => SourceKind::InstanceProfile,
            "chain" => SourceKind::Chain,
            _ => {
                return Err(bad(
                    &SOURCE,
                    &v,
                    &o,
                    "expected imds (also spelled instance-profile) or chain",
                ))
            }
        };
        resolved.push(Resolved {
            name: SOURCE.name,
            value: source.as_str().to_owned(),
            origin: o,
        });
        let sts = role::resolve_sts(&lookup, &mut resolved)?;

        let (log_level, o) = lookup(&LOG_LEVEL);
        resolved.push(Resolved {
            name: LOG_LEVEL.name,
            value: log_level.clone(),
            origin: o,
        });

        Ok(Config {
            imds_endpoint,
            imds_disabled,
            v1_disabled,
            imds_timeout,
            imds_attempts,
            refresh_ahead,
            ntp_servers,
            role_arn,
            role,
            source,
            sts,
            log_level,
            resolved,
        })
    }

    /// A configuration for tests and embedding: endpoint given, everything else default,
    /// nothing read from the environment.
    pub fn for_endpoint(endpoint: &str) -> Result<Config> {
        let mut inputs = Inputs::empty();
        inputs.set(ENDPOINT.name, endpoint, "for_endpoint");
        Config::resolve(&inputs)
    }
}

fn load_profile(inputs: &Inputs) -> Option<Profile> {
    let file = inputs
        .env
        .get("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| inputs.home.as_ref().map(|h| h.join(".aws").join("config")))?;
    let name = inputs
        .props
        .get("aws.profile")
        .or_else(|| inputs.env.get("AWS_PROFILE"))
        .cloned()
        .unwrap_or_else(|| "default".to_owned());
    Some(Profile::load(&file, &name))
}

fn lookup(spec: &Spec, inputs: &Inputs, profile: &Option<Profile>) -> (String, Origin) {
    if let Some((value, label)) = inputs.overrides.get(spec.name) {
        return (value.clone(), Origin::Override(label.clone()));
    }
    for p in spec.props {
        if let Some(v) = inputs.props.get(*p).filter(|v| !v.trim().is_empty()) {
            return (v.clone(), Origin::SystemProperty((*p).to_owned()));
        }
    }
    for e in spec.env {
        if let Some(v) = inputs.env.get(*e).filter(|v| !v.trim().is_empty()) {
            return (v.clone(), Origin::Env((*e).to_owned()));
        }
    }
    if let (Some(key), Some(profile)) = (spec.profile_key, profile) {
        if let Some(v) = profile.get(key).filter(|v| !v.is_empty()) {
            return (
                v.to_owned(),
                Origin::Profile {
                    file: profile.file.clone(),
                    profile: profile.name.clone(),
                    key: key.to_owned(),
                },
            );
        }
    }
    (spec.default.to_owned(), Origin::Default)
}

/// An explicit endpoint wins over any mode, as in the SDKs: the mode is then not even
/// validated. Otherwise the mode (case-insensitive `IPv4`/`IPv6`) picks the default URL.
fn resolve_endpoint(lookup: &dyn Fn(&Spec) -> (String, Origin)) -> Result<(Url, Origin, Resolved)> {
    let (mode_value, mode_origin) = lookup(&ENDPOINT_MODE);
    let (endpoint, origin) = lookup(&ENDPOINT);
    if origin != Origin::Default {
        let url = parse_endpoint(&endpoint, &origin)?;
        let mode = Resolved {
            name: ENDPOINT_MODE.name,
            value: format!("{mode_value} (ignored: explicit endpoint)"),
            origin: mode_origin,
        };
        return Ok((url, origin, mode));
    }
    let base = match mode_value.trim().to_ascii_lowercase().as_str() {
        "ipv4" => IPV4_ENDPOINT,
        "ipv6" => IPV6_ENDPOINT,
        _ => {
            return Err(bad(
                &ENDPOINT_MODE,
                &mode_value,
                &mode_origin,
                "expected IPv4 or IPv6 (case-insensitive)",
            ))
        }
    };
    let url = Url::parse(base).map_err(|e| Error::Unreachable(format!("default endpoint: {e}")))?;
    let mode = Resolved {
        name: ENDPOINT_MODE.name,
        value: if base == IPV4_ENDPOINT {
            "IPv4"
        } else {
            "IPv6"
        }
        .to_owned(),
        origin: mode_origin.clone(),
    };
    Ok((url, Origin::Default, mode))
}

fn parse_endpoint(value: &str, origin: &Origin) -> Result<Url> {
    let url = Url::parse(value.trim()).map_err(|e| {
        bad(
            &ENDPOINT,
            value,
            origin,
            &format!("not a URL ({e}); expected e.g. http://169.254.169.254"),
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad(
            &ENDPOINT,
            value,
            origin,
            "the scheme must be http or https",
        ));
    }
    if url.host().is_none() {
        return Err(bad(&ENDPOINT, value, origin, "the URL has no host"));
    }
    Ok(url)
}

fn parse_bool(spec: &Spec, value: &str, origin: &Origin) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(spec, value, origin, "expected true or false")),
    }
}

fn parse_seconds(spec: &Spec, value: &str, origin: &Origin) -> Result<Duration> {
    match value.trim().parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(bad(
            spec,
            value,
            origin,
            "expected a number of seconds greater than 0, e.g. 1 or 2.5",
        )),
    }
}

fn parse_refresh_ahead(value: &str, origin: &Origin) -> Result<Option<Duration>> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    humantime::parse_duration(v)
        .ok()
        .filter(|d| !d.is_zero())
        .map(Some)
        .ok_or_else(|| {
            bad(
                &REFRESH_AHEAD,
                value,
                origin,
                "expected auto or a duration such as 15m or 90s",
            )
        })
}

/// Empty means no role. Otherwise an IAM role ARN in any partition
/// (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`): a typo here would only surface later as an
/// `AccessDenied` from STS, so it is rejected up front.
fn parse_role_arn(value: &str, origin: &Origin) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|r| !r.is_empty());
    if !valid {
        return Err(bad(
            &ROLE_ARN,
            value,
            origin,
            "expected an IAM role ARN such as arn:aws:iam::123456789012:role/app",
        ));
    }
    Ok(Some(v.to_owned()))
}

fn parse_ntp_servers(value: &str) -> Vec<String> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("off") || v.eq_ignore_ascii_case("none") {
        return Vec::new();
    }
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn bad(spec: &Spec, value: &str, origin: &Origin, reason: &str) -> Error {
    Error::Config {
        setting: spec.name,
        value: value.to_owned(),
        source_name: origin.to_string(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests;
