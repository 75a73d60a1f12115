//! The one error type of the crate.

use std::net::SocketAddr;

/// What can go wrong setting up or running the gate or the fault proxy.
///
/// Request-level failures never show up here: they become HTTP answers (an AWS error
/// document from the gate, a status from the proxy).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A listen address or an upstream is not on loopback. The rig talks to nothing else,
    /// so this is refused rather than warned about.
    #[error("{what} {addr} is not a loopback address")]
    NotLoopback {
        /// Which setting (`listen address`, `upstream`).
        what: &'static str,
        /// The offending address.
        addr: String,
    },
    /// The upstream URL is not `http://HOST:PORT` with a loopback host.
    #[error("bad upstream url '{url}': {reason}")]
    BadUpstream {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A listening socket could not be opened (most often: the port is taken).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The upstream could not be reached or did not answer in time.
    #[error("upstream {addr}: {reason}")]
    Upstream {
        /// The upstream's address.
        addr: SocketAddr,
        /// What failed (connect, timeout, protocol error).
        reason: String,
    },
    /// Any other I/O failure (starting a runtime, accepting a connection).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
