//! The IMDS client: IMDSv2 token, v1 fallback rules, the credentials paths.
//!
//! # Token and fallback
//! `PUT /latest/api/token` (TTL 21600 s); the token is cached and renewed 120 s before it
//! ends; a `401` on a read renews it once. IMDSv1 is used only when
//! - the PUT says v2 is unsupported (403/404/405), or
//! - the PUT timed out and a plain GET answers 200: the container hop-limit symptom
//!   (the PUT's answer is dropped at the hop limit, the GET's is not), logged once with the fix.
//!
//! and never when `AWS_EC2_METADATA_V1_DISABLED=true`. Throttling (429/503) is never taken
//! for "v2 unsupported". A v1 decision is remembered for [`V2_REPROBE`] instead of paying
//! the PUT timeout on every refresh.
//!
//! # Paths
//! `/latest/meta-data/iam/security-credentials-extended/` first; after one 404 the client
//! sticks to the legacy `/latest/meta-data/iam/security-credentials/` for the role list and
//! the credentials. The role name is re-read on every fetch.

mod document;
pub(crate) mod http;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::clock::SkewClock;
use crate::config::Config;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use http::{Answer, Http};

/// Token lifetime asked for.
pub const TOKEN_TTL: Duration = Duration::from_secs(21_600);
/// Renew the token this long before it ends.
pub const TOKEN_RENEW_BEFORE: Duration = Duration::from_secs(120);
/// How long a decision to use IMDSv1 stands before v2 is tried again.
pub const V2_REPROBE: Duration = Duration::from_secs(30 * 60);

/// Stands for the instance id in the hop-limit fix when IMDS does not tell it.
pub const INSTANCE_ID_PLACEHOLDER: &str = "<id>";

/// The command that fixes the container hop-limit symptom, with `instance_id` filled in
/// (or [`INSTANCE_ID_PLACEHOLDER`]). [`Error::HopLimit`] and `freshcreds doctor` both say
/// exactly this, so a user sees one command wherever the symptom is reported.
pub fn hop_limit_fix(instance_id: Option<&str>) -> String {
    format!(
        "aws ec2 modify-instance-metadata-options --instance-id {} --http-put-response-hop-limit 2 --http-endpoint enabled",
        instance_id.unwrap_or(INSTANCE_ID_PLACEHOLDER)
    )
}

pub(crate) const TOKEN_PATH: &str = "/latest/api/token";
const EXTENDED_PREFIX: &str = "/latest/meta-data/iam/security-credentials-extended/";
pub(crate) const LEGACY_PREFIX: &str = "/latest/meta-data/iam/security-credentials/";

/// Which IMDS protocol the client is using.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ImdsVersion {
    /// Nothing fetched yet.
    Unknown = 0,
    /// IMDSv1 (no token).
    V1 = 1,
    /// IMDSv2 (session token).
    V2 = 2,
}

impl ImdsVersion {
    /// `unknown`, `v1` or `v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImdsVersion::Unknown => "unknown",
            ImdsVersion::V1 => "v1",
            ImdsVersion::V2 => "v2",
        }
    }
}

enum TokenState {
    Unknown,
    Token {
        value: SecretString,
        renew_at: Instant,
    },
    UseV1 {
        reprobe_at: Instant,
    },
}

/// Credentials as read from IMDS, with the role they belong to.
#[derive(Debug, Clone)]
pub struct ImdsCredentials {
    /// The instance profile's role name.
    pub role: String,
    /// The credentials.
    pub credentials: Credentials,
}

/// A client for one IMDS endpoint. Cheap to share behind an `Arc`.
pub struct ImdsClient {
    http: Http,
    clock: Arc<SkewClock>,
    v1_disabled: bool,
    disabled: bool,
    token: Mutex<TokenState>,
    legacy_paths: AtomicBool,
    hop_limit_reported: AtomicBool,
    version: AtomicU8,
}

impl std::fmt::Debug for ImdsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImdsClient")
            .field("endpoint", &self.http.base().as_str())
            .field("version", &self.version())
            .finish()
    }
}

impl ImdsClient {
    /// A client for the endpoint and settings in `config`, judging expiry with `clock`.
    pub fn new(config: &Config, clock: Arc<SkewClock>) -> Result<Self> {
        warn_if_unusual_endpoint(&config.imds_endpoint);
        Ok(Self {
            http: Http::new(
                config.imds_endpoint.clone(),
                config.imds_timeout,
                config.imds_attempts,
            )?,
            clock,
            v1_disabled: config.v1_disabled,
            disabled: config.imds_disabled,
            token: Mutex::new(TokenState::Unknown),
            legacy_paths: AtomicBool::new(false),
            hop_limit_reported: AtomicBool::new(false),
            version: AtomicU8::new(ImdsVersion::Unknown as u8),
        })
    }

    /// The protocol in use.
    pub fn version(&self) -> ImdsVersion {
        match self.version.load(Ordering::Acquire) {
            1 => ImdsVersion::V1,
            2 => ImdsVersion::V2,
            _ => ImdsVersion::Unknown,
        }
    }

    /// True once a token PUT has timed out while a plain GET answered: the container
    /// hop-limit symptom (see [`hop_limit_fix`]). `freshcreds doctor` reads it to tell a
    /// v1 fallback caused by the hop limit from one caused by an endpoint without IMDSv2.
    pub fn hop_limit_detected(&self) -> bool {
        self.hop_limit_reported.load(Ordering::Acquire)
    }

    /// The base URL.
    pub fn endpoint(&self) -> &str {
        self.http.base().as_str()
    }

    /// Fetches the instance profile's current credentials.
    ///
    /// # Cancel safety
    /// Cancelling drops the request; the token cache stays consistent.
    pub async fn fetch_credentials(&self) -> Result<ImdsCredentials> {
        if self.disabled {
            return Err(Error::ImdsDisabled);
        }
        let (prefix, role) = self.role_name().await?;
        let path = format!("{prefix}{role}");
        let answer = self.get(&path).await?;
        if answer.status != StatusCode::OK {
            return Err(Error::ImdsStatus {
                path,
                status: answer.status.as_u16(),
            });
        }
        let credentials = document::parse(&answer.body, &role, self.clock.corrected_now())?;
        Ok(ImdsCredentials { role, credentials })
    }

    /// GETs any metadata path with the current token (or v1), renewing the token once on 401.
    pub async fn get(&self, path: &str) -> Result<Answer> {
        let token = self.token().await?;
        let answer = self
            .http
            .send(Method::GET, path, token.as_ref(), &self.clock)
            .await?;
        if answer.status == StatusCode::UNAUTHORIZED && token.is_some() {
            tracing::debug!(path, "IMDS answered 401: renewing the token once");
            self.drop_token().await;
            let token = self.token().await?;
            return self
                .http
                .send(Method::GET, path, token.as_ref(), &self.clock)
                .await;
        }
        Ok(answer)
    }

    async fn role_name(&self) -> Result<(&'static str, String)> {
        if !self.legacy_paths.load(Ordering::Acquire) {
            let answer = self.get(EXTENDED_PREFIX).await?;
            if answer.status == StatusCode::NOT_FOUND {
                tracing::debug!(
                    "IMDS has no extended credentials path; using the legacy path from now on"
                );
                self.legacy_paths.store(true, Ordering::Release);
            } else {
                return Ok((EXTENDED_PREFIX, first_role(answer, EXTENDED_PREFIX)?));
            }
        }
        let answer = self.get(LEGACY_PREFIX).await?;
        Ok((LEGACY_PREFIX, first_role(answer, LEGACY_PREFIX)?))
    }

    async fn drop_token(&self) {
        let mut state = self.token.lock().await;
        if matches!(*state, TokenState::Token { .. }) {
            *state = TokenState::Unknown;
        }
    }

    /// The token to send, or `None` for IMDSv1. Holding the lock makes token fetches
    /// single-flight.
    async fn token(&self) -> Result<Option<SecretString>> {
        let mut state = self.token.lock().await;
        let now = Instant::now();
        match &*state {
            TokenState::Token { value, renew_at } if now < *renew_at => {
                return Ok(Some(value.clone()))
            }
            TokenState::UseV1 { reprobe_at } if now < *reprobe_at => return Ok(None),
            _ => {}
        }
        match self.fetch_token().await {
            Ok(Some(value)) => {
                self.version.store(ImdsVersion::V2 as u8, Ordering::Release);
                *state = TokenState::Token {
                    value: value.clone(),
                    renew_at: now + TOKEN_TTL - TOKEN_RENEW_BEFORE,
                };
                Ok(Some(value))
            }
            Ok(None) => {
                self.version.store(ImdsVersion::V1 as u8, Ordering::Release);
                *state = TokenState::UseV1 {
                    reprobe_at: now + V2_REPROBE,
                };
                Ok(None)
            }
            Err(e) => {
                *state = TokenState::Unknown;
                Err(e)
            }
        }
    }

    async fn fetch_token(&self) -> Result<Option<SecretString>> {
        match self
            .http
            .send(Method::PUT, TOKEN_PATH, None, &self.clock)
            .await
        {
            Ok(answer) if answer.status.is_success() => {
                let token = answer.body.trim();
                if token.is_empty() {
                    return Err(Error::ImdsStatus {
                        path: TOKEN_PATH.into(),
                        status: answer.status.as_u16(),
                    });
                }
                Ok(Some(SecretString::new(token.to_owned())))
            }
            Ok(answer) if matches!(answer.status.as_u16(), 403..=405) => {
                if self.v1_disabled {
                    return Err(Error::TokenUnavailable {
                        why: "disabled by AWS_EC2_METADATA_V1_DISABLED",
                        detail: format!(
                            "the token request answered HTTP {}",
                            answer.status.as_u16()
                        ),
                    });
                }
                tracing::info!(
                    status = answer.status.as_u16(),
                    "IMDSv2 is not supported here; using IMDSv1"
                );
                Ok(None)
            }
            Ok(answer) => Err(Error::ImdsStatus {
                path: TOKEN_PATH.into(),
                status: answer.status.as_u16(),
            }),
            Err(Error::ImdsUnreachable { detail, .. }) if detail.starts_with("timed out") => {
                self.diagnose_token_timeout(detail).await
            }
            Err(e) => Err(e),
        }
    }

    /// The token PUT timed out. If a plain GET gets any HTTP answer, the PUT's answer was
    /// dropped at the hop limit (a container one hop further than the limit allows).
    async fn diagnose_token_timeout(&self, put_detail: String) -> Result<Option<SecretString>> {
        let probe = self
            .http
            .probe_once(Method::GET, "/latest/meta-data/", &self.clock)
            .await;
        let answer = match probe {
            Ok(answer) => answer,
            Err(_) => {
                return Err(Error::ImdsUnreachable {
                    endpoint: self.endpoint().trim_end_matches('/').to_owned(),
                    detail: put_detail,
                })
            }
        };
        let usable_v1 = answer.status == StatusCode::OK && !self.v1_disabled;
        let instance_id = if answer.status == StatusCode::OK {
            self.instance_id_v1()
                .await
                .unwrap_or_else(|| INSTANCE_ID_PLACEHOLDER.into())
        } else {
            INSTANCE_ID_PLACEHOLDER.into()
        };
        let diagnosis = Error::HopLimit {
            get_status: answer.status.as_u16(),
            instance_id,
        };
        if !self.hop_limit_reported.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                endpoint = %self.endpoint(),
                "container hop-limit symptom: {diagnosis}{}",
                if usable_v1 {
                    "; using IMDSv1 meanwhile"
                } else {
                    ""
                }
            );
        }
        if usable_v1 {
            return Ok(None);
        }
        if answer.status == StatusCode::OK {
            return Err(Error::TokenUnavailable {
                why: "disabled by AWS_EC2_METADATA_V1_DISABLED",
                detail: diagnosis.to_string(),
            });
        }
        Err(diagnosis)
    }

    async fn instance_id_v1(&self) -> Option<String> {
        let answer = self
            .http
            .probe_once(Method::GET, "/latest/meta-data/instance-id", &self.clock)
            .await
            .ok()?;
        let id = answer.body.trim();
        (answer.status == StatusCode::OK && id.starts_with("i-") && id.len() < 64)
            .then(|| id.to_owned())
    }
}

fn first_role(answer: Answer, path: &str) -> Result<String> {
    match answer.status {
        StatusCode::OK => answer
            .body
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned)
            .ok_or(Error::NoRoleAttached {
                path: path.to_owned(),
                status: 200,
            }),
        StatusCode::NOT_FOUND => Err(Error::NoRoleAttached {
            path: path.to_owned(),
            status: 404,
        }),
        status => Err(Error::ImdsStatus {
            path: path.to_owned(),
            status: status.as_u16(),
        }),
    }
}

/// Credentials are fetched from the endpoint: one outside link-local, loopback and the
/// IMDS IPv6 address deserves a warning.
fn warn_if_unusual_endpoint(url: &reqwest::Url) {
    let expected = match url.host() {
        Some(url::Host::Ipv4(ip)) => is_expected_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_expected_ip(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !expected {
        tracing::warn!(endpoint = %url, "the IMDS endpoint is not link-local or loopback: credentials will be fetched from it");
    }
}

fn is_expected_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_endpoints() {
        assert!(is_expected_ip("169.254.169.254".parse().unwrap()));
        assert!(is_expected_ip("127.0.0.1".parse().unwrap()));
        assert!(is_expected_ip("fd00:ec2::254".parse().unwrap()));
        assert!(is_expected_ip("fe80::1".parse().unwrap()));
        assert!(!is_expected_ip("10.0.0.1".parse().unwrap()));
        assert!(!is_expected_ip("fd00:ec2::255".parse().unwrap()));
    }

    #[test]
    fn hop_limit_error_and_doctor_name_the_same_command() {
        let e = Error::HopLimit {
            get_status: 401,
            instance_id: "i-0123456789abcdef0".into(),
        };
        assert!(e
            .to_string()
            .ends_with(&hop_limit_fix(Some("i-0123456789abcdef0"))));
        assert_eq!(
            hop_limit_fix(None),
            "aws ec2 modify-instance-metadata-options --instance-id <id> --http-put-response-hop-limit 2 --http-endpoint enabled"
        );
    }
}
