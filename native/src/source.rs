//! Credential sources the refresher can draw from.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::credentials::Credentials;
use crate::error::Result;
use crate::imds::{ImdsClient, ImdsVersion};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that can fetch a fresh credential set. The refresher calls [`Source::fetch`]
/// one at a time (single flight), so implementations need no locking of their own.
pub trait Source: Send + Sync + 'static {
    /// Fetches the current credentials.
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>>;

    /// A short description for logs and health, e.g. `instance profile (IMDS …)`.
    fn describe(&self) -> String;

    /// The IMDS protocol in use, for sources that talk to IMDS.
    fn imds_version(&self) -> ImdsVersion {
        ImdsVersion::Unknown
    }
}

/// The instance profile, read from IMDS.
#[derive(Debug)]
pub struct InstanceProfile {
    client: Arc<ImdsClient>,
}

impl InstanceProfile {
    /// The instance profile behind `client`.
    pub fn new(client: Arc<ImdsClient>) -> Self {
        Self { client }
    }
}

impl Source for InstanceProfile {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let fetched = self.client.fetch_credentials().await?;
            tracing::debug!(role = %fetched.role, key = %fetched.credentials.key_id_abbrev(), "instance profile credentials read");
            Ok(fetched.credentials)
        })
    }

    fn describe(&self) -> String {
        format!(
            "instance profile (IMDS {})",
            self.client.endpoint().trim_end_matches('/')
        )
    }

    fn imds_version(&self) -> ImdsVersion {
        self.client.version()
    }
}
