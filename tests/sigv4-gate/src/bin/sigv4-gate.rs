//! `sigv4-gate`: the SigV4 gate in front of moto (see the `sigv4_gate::gate` docs).
//!
//! Binds both ports, prints `GATE_URL=…` and `GATE_ADMIN=…` (and writes them to
//! `--ready-file`, if given, once listening), then serves until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use sigv4_gate::gate::{Gate, GateConfig};

/// A SigV4 gate in front of moto: ExpiredToken past each registered token's expiry, the
/// AWS skew error beyond the window, everything else forwarded byte for byte.
#[derive(Parser, Debug)]
#[command(name = "sigv4-gate", version)]
struct Args {
    /// moto's URL (loopback only), e.g. http://127.0.0.1:5000
    #[arg(long)]
    upstream: String,
    /// Where AWS requests are accepted (loopback only; port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where the admin API listens (loopback only; port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    admin_listen: SocketAddr,
    /// Largest accepted clock skew, in seconds (AWS: 300).
    #[arg(long, default_value_t = 300)]
    skew_window_secs: u64,
    /// Time limit of a forwarded request, in seconds.
    #[arg(long, default_value_t = 60)]
    upstream_timeout_secs: u64,
    /// Written (atomically) with the KEY=value lines once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = GateConfig::new(&args.upstream);
    config.listen = args.listen;
    config.admin_listen = args.admin_listen;
    config.skew_window = Duration::from_secs(args.skew_window_secs);
    config.upstream_timeout = Duration::from_secs(args.upstream_timeout_secs);
    let gate = match Gate::bind(config).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("sigv4-gate: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines = format!("GATE_URL={}\nGATE_ADMIN={}\n", gate.url(), gate.admin_url());
    if let Some(path) = &args.ready_file {
        if let Err(e) = write_atomically(path, &lines) {
            eprintln!("sigv4-gate: error: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    print!("{lines}");
    gate.serve(terminated()).await;
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
