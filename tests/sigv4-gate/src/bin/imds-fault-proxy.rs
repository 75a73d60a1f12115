//! `imds-fault-proxy`: AEMM behind a fault switch (see the `sigv4_gate::fault` docs).
//!
//! Binds both ports, prints `IMDS_PROXY_URL=…` and `IMDS_PROXY_ADMIN=…` (and writes them
//! to `--ready-file`, if given, once listening), then serves until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use sigv4_gate::fault::{FaultProxy, ProxyConfig};

/// A proxy in front of AEMM that throttles, fails, stalls, vanishes or drops token PUTs
/// on command, and counts requests by path and User-Agent.
#[derive(Parser, Debug)]
#[command(name = "imds-fault-proxy", version)]
struct Args {
    /// AEMM's URL (loopback only), e.g. http://127.0.0.1:1338
    #[arg(long)]
    upstream: String,
    /// Where IMDS clients connect (loopback only; port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where the admin API listens (loopback only; port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    admin_listen: SocketAddr,
    /// The longest a request is held when its rule has no end, in seconds.
    #[arg(long, default_value_t = 300)]
    max_hold_secs: u64,
    /// Written (atomically) with the KEY=value lines once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = ProxyConfig::new(&args.upstream);
    config.listen = args.listen;
    config.admin_listen = args.admin_listen;
    config.max_hold = Duration::from_secs(args.max_hold_secs);
    let proxy = match FaultProxy::bind(config).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("imds-fault-proxy: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines = format!(
        "IMDS_PROXY_URL={}\nIMDS_PROXY_ADMIN={}\n",
        proxy.url(),
        proxy.admin_url()
    );
    if let Some(path) = &args.ready_file {
        if let Err(e) = write_atomically(path, &lines) {
            eprintln!("imds-fault-proxy: error: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    print!("{lines}");
    proxy.serve(terminated()).await;
    ExitCode::SUCCESS
}

/// Completes on SIGTERM or SIGINT (or never, if the handlers cannot be installed: the
/// rig then stops the process with SIGKILL after its grace period).
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// Temp file plus rename, so a reader polling for the file never sees half of it.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
