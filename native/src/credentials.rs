//! Credential values and the snapshot the engine publishes.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::secret::{abbreviate_key_id, SecretString};

/// One set of temporary AWS credentials.
///
/// `Debug` shows the access key id abbreviated and never the secret key or token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    expiration: SystemTime,
    lifetime: Duration,
    account_id: Option<String>,
}

impl Credentials {
    /// Builds a credential set. `lifetime` is fixed per set: `Expiration − LastUpdated` for
    /// IMDS, the requested duration for STS; it scales the refresh-ahead window.
    pub fn new(
        access_key_id: String,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
        expiration: SystemTime,
        lifetime: Duration,
    ) -> Self {
        Self {
            access_key_id,
            secret_access_key,
            session_token,
            expiration,
            lifetime,
            account_id: None,
        }
    }

    /// Adds the account id (the extended IMDS path reports it).
    pub fn with_account_id(mut self, account_id: Option<String>) -> Self {
        self.account_id = account_id;
        self
    }

    /// The access key id (not a secret, but log it abbreviated: see [`Self::key_id_abbrev`]).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The access key id shortened for logs.
    pub fn key_id_abbrev(&self) -> String {
        abbreviate_key_id(&self.access_key_id)
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &SecretString {
        &self.secret_access_key
    }

    /// The session token, for temporary credentials.
    pub fn session_token(&self) -> Option<&SecretString> {
        self.session_token.as_ref()
    }

    /// When the credentials expire (server time).
    pub fn expiration(&self) -> SystemTime {
        self.expiration
    }

    /// The lifetime the issuer gave this set.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// The AWS account id, when the source reported it.
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// Time left before expiry as seen at `now` (a corrected clock reading); zero once past.
    pub fn time_left(&self, now: SystemTime) -> Duration {
        self.expiration
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.key_id_abbrev())
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("expiration", &crate::time_fmt::rfc3339(self.expiration))
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// What the engine publishes after each successful refresh: the credentials and a sequence
/// number that grows by one per new set, so a reader can tell "new" from "same".
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Grows by one per published credential set, starting at 1.
    pub seq: u64,
    /// The credentials.
    pub credentials: Credentials,
    /// When they were fetched (corrected clock).
    pub fetched_at: SystemTime,
}
