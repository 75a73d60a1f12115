//! Test-rig servers for freshcreds: stand-ins for the parts of AWS that the third-party
//! stand-ins (moto, AEMM) do not enforce or cannot fake.
//!
//! - [`gate`]: the SigV4 gate in front of moto. It checks every request's signature with
//!   `scratchstack-aws-signature` against the keys the rig registered, answers
//!   `ExpiredToken` once a token is past the expiry the rig gave it and the AWS skew error
//!   beyond a 5-minute window, in the wire format of the caller's protocol, and forwards
//!   the original bytes to moto otherwise (moto checks the signature again).
//! - [`fault`]: the IMDS fault proxy in front of AEMM: throttling, 503s, stalls, outages
//!   and dropped token PUTs, switched at run time, with request counts.
//!
//! Both listen on loopback only and keep their admin API on a second loopback port, so
//! that an outage of the proxied port never takes the switch away. Neither is shipped:
//! the crate lives under `tests/` and is not part of the `freshcreds` crate.
//!
//! # Examples
//!
//! ```no_run
//! # fn main() -> Result<(), sigv4_gate::Error> {
//! let gate = sigv4_gate::gate::Gate::spawn(sigv4_gate::gate::GateConfig::new("http://127.0.0.1:5000"))?;
//! println!("point the SDK at {}", gate.url());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod fault;
pub mod gate;
mod net;
mod wire;

pub use error::Error;
pub use net::Background;

/// `ASIA…WXYZ`: the first and last four characters of an access key id, the way freshcreds
/// logs them (an id is not a secret, but a whole one is no use in a log either).
pub fn abbreviate_key_id(key_id: &str) -> String {
    let chars: Vec<char> = key_id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// One log line on stderr (the rig scripts send it to the instance's log file), stamped
/// with UTC wall time. Callers never pass secrets or session tokens.
pub(crate) fn log_line(component: &str, msg: std::fmt::Arguments<'_>) {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    eprintln!("{now} {component}: {msg}");
}
