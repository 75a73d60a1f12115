//! Engine figures by plain timing: snapshot read cost, time to first credentials, engine
//! threads, and the stripped cdylib's size. Run by `make bench-rust` (release build, after
//! `cargo build --release -p freshcreds --lib`, whose `libfreshcreds.so` it measures in
//! `$CARGO_TARGET_DIR/release`, default `target/release`; the release profile strips it).
//!
//! Writes `$BENCH_OUT/parts/rust.json` (default `target/bench/parts/rust.json`; a list of
//! `{name, subject, unit, value, threads, variant}` for `bench/report.py`) and prints a table.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use axum::routing::{get, put};
use axum::Router;
use freshcreds::internal::rfc3339;
use freshcreds::{Config, Engine};

/// A minimal IMDSv2 on 127.0.0.1 for the start-up figure.
fn start_imds(runtime: &tokio::runtime::Runtime) -> String {
    let now = SystemTime::now();
    let doc = format!(
        r#"{{"Code":"Success","LastUpdated":"{}","Type":"AWS-HMAC","AccessKeyId":"ASIABENCHBENCH000001","SecretAccessKey":"bench-secret","Token":"bench-token","Expiration":"{}"}}"#,
        rfc3339(now),
        rfc3339(now + Duration::from_secs(6 * 3600))
    );
    let app = Router::new()
        .route("/latest/api/token", put(|| async { "bench-imds-token" }))
        .route(
            "/latest/meta-data/iam/security-credentials/",
            get(|| async { "bench-role" }),
        )
        .route(
            "/latest/meta-data/iam/security-credentials/bench-role",
            get(move || async move { doc }),
        );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    runtime.spawn(async move { axum::serve(listener, app).await });
    url
}

fn engine_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|name| name.starts_with("freshcreds-engi"))
                .count()
        })
        .unwrap_or(0)
}

struct Figure {
    name: &'static str,
    unit: &'static str,
    value: f64,
    threads: u32,
    variant: &'static str,
}

/// The workspace root (where `cargo run` is started from by `make`).
fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the workspace root) or `target`.
fn target_dir() -> std::path::PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo().join(dir),
        None => repo().join("target"),
    }
}

fn main() {
    let imds_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let url = start_imds(&imds_runtime);
    let mut inputs = freshcreds::Inputs::empty();
    inputs.set("imds.endpoint", url.as_str(), "bench");
    inputs.set("ntp.servers", "127.0.0.1:9", "bench"); // exercises the clock task, answers nothing
    let config = Config::resolve(&inputs).expect("config");

    let started = Instant::now();
    let engine = Engine::start(config).expect("engine");
    engine
        .credentials_blocking(Duration::from_secs(10))
        .expect("first credentials");
    let first_ms = started.elapsed().as_secs_f64() * 1e3;
    std::thread::sleep(Duration::from_millis(200));
    let threads = engine_threads();

    // The hot path of the Rust API: one snapshot read (atomic load + Arc clone and drop).
    let iterations = 20_000_000u32;
    for _ in 0..1_000_000 {
        black_box(engine.snapshot());
    }
    let t = Instant::now();
    for _ in 0..iterations {
        black_box(engine.snapshot());
    }
    let read_ns = t.elapsed().as_nanos() as f64 / f64::from(iterations);

    // BENCH_CDYLIB: another build of the library to measure (`make bench-smoke` passes the
    // one `make test-java` already built for the jar, rather than a second LTO build).
    let cdylib = std::env::var_os("BENCH_CDYLIB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release/libfreshcreds.so"));
    let cdylib_bytes = match std::fs::metadata(&cdylib) {
        Ok(m) => m.len() as f64,
        Err(e) => {
            eprintln!(
                "bench_engine: {}: {e} (build it first: cargo build --release -p freshcreds --lib)",
                cdylib.display()
            );
            std::process::exit(1);
        }
    };

    let figures = [
        Figure {
            name: "snapshot-read-ns",
            unit: "ns/op",
            value: read_ns,
            threads: 1,
            variant: "Engine::snapshot() from Rust",
        },
        Figure {
            name: "first-credentials-ms",
            unit: "ms",
            value: first_ms,
            threads: 1,
            variant: "engine alone (Rust API, in-process loopback IMDS)",
        },
        Figure {
            name: "native-threads",
            unit: "threads",
            value: threads as f64,
            threads: 1,
            variant: "engine worker threads (Rust)",
        },
        Figure {
            name: "cdylib-bytes",
            unit: "bytes",
            value: cdylib_bytes,
            threads: 1,
            variant: "stripped release libfreshcreds.so",
        },
    ];
    println!("{:<24} {:>14} {:<8} target", "figure", "value", "unit");
    let targets = ["<= 50", "", "<= 2", ""];
    for (f, target) in figures.iter().zip(targets) {
        println!("{:<24} {:>14.1} {:<8} {target}", f.name, f.value, f.unit);
    }
    let json: Vec<serde_json::Value> = figures
        .iter()
        .map(|f| serde_json::json!({"name": f.name, "subject": "freshcreds", "unit": f.unit, "value": f.value, "threads": f.threads, "variant": f.variant}))
        .collect();
    let out = match std::env::var_os("BENCH_OUT") {
        Some(dir) => repo().join(dir),
        None => repo().join("target/bench"),
    }
    .join("parts");
    let written = std::fs::create_dir_all(&out).and_then(|()| {
        std::fs::write(
            out.join("rust.json"),
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        )
    });
    if let Err(e) = written {
        eprintln!(
            "bench_engine: writing {}: {e}",
            out.join("rust.json").display()
        );
        std::process::exit(1);
    }
    engine.close();
}
