//! freshcreds: AWS credentials for Java applications on EC2 that never expire in use.
//!
//! The engine fetches instance-profile credentials from IMDS (IMDSv2 first, retries with
//! full-jitter backoff), refreshes them well ahead of expiry in the background on a clock
//! corrected against NTP, and keeps serving the last good credentials when IMDS fails.
//! The same engine backs the JNI library (`jni` module), the `-javaagent`, and the
//! `freshcreds` command-line tool.
//!
//! ```no_run
//! use std::time::Duration;
//! use freshcreds::{Config, Engine};
//!
//! let engine = Engine::start(Config::from_env()?)?;
//! let snapshot = engine.credentials_blocking(Duration::from_secs(5))?;
//! assert!(!snapshot.credentials.access_key_id().is_empty());
//! # Ok::<(), freshcreds::Error>(())
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod backoff;
mod bridge;
mod clock;
mod config;
mod credentials;
pub mod doctor;
mod engine;
mod error;
mod imds;
#[allow(unsafe_code)]
mod jni;
mod log_queue;
mod profile;
mod refresh;
mod schedule;
mod secret;
mod source;
mod sts;
mod time_fmt;

pub use clock::{
    OffsetClock, SkewClock, SkewSource, SystemClock, WallClock, ERROR_SKEW, WARN_SKEW,
};
pub use config::{
    Config, Inputs, Origin, Resolved, RoleOptions, SourceKind, StsOptions, AMAZON_TIME_SYNC,
    IPV4_ENDPOINT, IPV6_ENDPOINT, MAX_ROLE_DURATION, MIN_ROLE_DURATION, ROLE_CHAINING_CAP,
};
pub use credentials::{Credentials, Snapshot};
pub use engine::{Engine, EngineBuilder, Event, Health};
pub use error::{Error, Result};
pub use imds::{ImdsClient, ImdsCredentials, ImdsVersion};
pub use secret::{abbreviate_key_id, SecretString};
pub use source::{BoxFuture, InstanceProfile, Source};

/// Pieces the CLI and tests use that are not a stable API.
pub mod internal {
    pub use crate::clock::{millis_between, probe_ntp, shift};
    pub use crate::imds::{hop_limit_fix, INSTANCE_ID_PLACEHOLDER};
    pub use crate::schedule::{same_expiry_retry, wait_before_refresh, window};
    pub use crate::sts::chain::{guard_process_recursion, CHAIN_PARENT_VAR};
    pub use crate::time_fmt::{parse_http_date, parse_rfc3339, rfc3339};
}
