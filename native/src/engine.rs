//! The engine handle: starts the refresher and the clock task, publishes snapshots.
//!
//! ```no_run
//! use std::time::Duration;
//! use freshcreds::{Config, Engine};
//!
//! let engine = Engine::start(Config::from_env()?)?;
//! // Waits (bounded) only when nothing valid was published yet.
//! let snapshot = engine.credentials_blocking(Duration::from_secs(5))?;
//! println!("{:?}", snapshot.credentials); // secrets redacted
//! // The hot path: a lock-free load of the latest snapshot.
//! let _latest = engine.snapshot();
//! # Ok::<(), freshcreds::Error>(())
//! ```

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;

use crate::clock::{self, SkewClock, SkewSource, SystemClock, WallClock};
use crate::config::Config;
use crate::credentials::Snapshot;
use crate::error::{Error, Result};
use crate::imds::ImdsVersion;
use crate::refresh::{self, Control, Shared, Stats};
use crate::source::Source;

/// Something the engine did, for `freshcreds watch` and the Java updater thread.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// New credentials were published.
    Refreshed {
        /// Their sequence number.
        seq: u64,
        /// The access key id, abbreviated.
        key_id: String,
        /// When they expire.
        expiration: SystemTime,
        /// When the next refresh is planned (corrected clock).
        next_refresh: SystemTime,
    },
    /// The source returned the credentials already published (not rotated yet).
    Unchanged {
        /// Their expiration.
        expiration: SystemTime,
        /// When the refresher asks again.
        retry_in: Duration,
    },
    /// A refresh failed; the last good credentials are still served.
    RefreshFailed {
        /// The error message (no secrets).
        error: String,
        /// When the refresher tries again.
        retry_in: Duration,
        /// Expiration of the credentials still served, if any.
        serving_until: Option<SystemTime>,
    },
    /// The measured clock skew changed.
    SkewChanged {
        /// Server − local, in milliseconds.
        skew_ms: i64,
        /// Where the figure came from.
        source: SkewSource,
    },
}

/// A point-in-time view of the engine's state. Holds no secret.
#[derive(Debug, Clone)]
pub struct Health {
    /// Expiration of the published credentials.
    pub expiration: Option<SystemTime>,
    /// Access key id of the published credentials, abbreviated.
    pub key_id: Option<String>,
    /// When credentials were last refreshed successfully.
    pub last_refresh: Option<SystemTime>,
    /// When the next refresh is planned.
    pub next_refresh: Option<SystemTime>,
    /// Successful refreshes that published new credentials.
    pub refresh_count: u64,
    /// Failed refreshes.
    pub failure_count: u64,
    /// The last failure's message, cleared by the next success.
    pub last_error: Option<String>,
    /// Clock skew, server − local, in milliseconds.
    pub skew_ms: i64,
    /// Where the skew figure came from.
    pub skew_source: SkewSource,
    /// The IMDS protocol in use.
    pub imds_version: ImdsVersion,
    /// The credential source.
    pub source: String,
}

/// The shared tokio runtime: one worker thread, at most one blocking thread (DNS), so the
/// engine costs at most two threads however many engines a process has.
fn runtime() -> Result<&'static Runtime> {
    static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .max_blocking_threads(1)
                .thread_name("freshcreds-engine")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Unreachable(format!("cannot start the engine runtime: {e}")))
}

/// Options for starting an engine beyond [`Config`]; mostly for tests and embedding.
pub struct EngineBuilder {
    config: Config,
    wall_clock: Arc<dyn WallClock>,
    source: Option<Arc<dyn Source>>,
    invalidate_cooldown: Duration,
}

impl EngineBuilder {
    /// How long after a refresh started by `invalidate()` further calls are absorbed by it (by
    /// default [`refresh::INVALIDATE_COOLDOWN`], 2 s). Mainly for tests.
    pub fn invalidate_cooldown(mut self, cooldown: Duration) -> Self {
        self.invalidate_cooldown = cooldown;
        self
    }

    /// Uses `clock` as the host's wall clock (by default, the system clock).
    pub fn wall_clock(mut self, clock: Arc<dyn WallClock>) -> Self {
        self.wall_clock = clock;
        self
    }

    /// Uses `source` instead of the instance profile.
    pub fn source(mut self, source: Arc<dyn Source>) -> Self {
        self.source = Some(source);
        self
    }

    /// Starts the engine on the shared runtime. Returns at once: no network I/O happens here.
    pub fn start(self) -> Result<Engine> {
        let handle = runtime()?.handle().clone();
        let clock = Arc::new(SkewClock::new(self.wall_clock));
        // The instance profile or the default chain (setting `source`), or the injected
        // source, with `role.arn` assumed on top when set.
        let source = crate::sts::source_for(&self.config, clock.clone(), self.source)?;
        let (events, _) = broadcast::channel(256);
        let (generation, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            snapshot: ArcSwapOption::empty(),
            clock: clock.clone(),
            source,
            refresh_ahead: self.config.refresh_ahead,
            invalidate_cooldown: self.invalidate_cooldown,
            wake: Notify::new(),
            control: Mutex::new(Control::default()),
            stats: Mutex::new(Stats::default()),
            generation,
            events: events.clone(),
        });
        clock.set_on_change(Box::new(move |skew_ms, source| {
            let _ = events.send(Event::SkewChanged { skew_ms, source });
        }));
        let _guard = handle.enter();
        let tasks = vec![
            handle.spawn(refresh::supervise(shared.clone())),
            handle.spawn(clock::run(clock, self.config.ntp_servers.clone())),
        ];
        Ok(Engine {
            shared,
            tasks: Mutex::new(tasks),
            handle,
            config: self.config,
        })
    }
}

/// A running engine: a refresher and a clock task for one configuration.
///
/// Refresh semantics: credentials are refreshed a lead time before their expiration (scaled
/// with their lifetime, judged on the skew-corrected clock). Callers meanwhile get the
/// current credentials and never wait. On failure the last good credentials keep being
/// served; the error is logged, counted and visible in [`Engine::health`]. Only a caller
/// that finds no valid credentials at all waits, bounded, for the single running fetch.
pub struct Engine {
    shared: Arc<Shared>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    handle: Handle,
    config: Config,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("source", &self.shared.source.describe())
            .finish()
    }
}

impl Engine {
    /// An engine for `config` with the defaults: system clock, instance profile.
    pub fn builder(config: Config) -> EngineBuilder {
        EngineBuilder {
            config,
            wall_clock: Arc::new(SystemClock),
            source: None,
            invalidate_cooldown: refresh::INVALIDATE_COOLDOWN,
        }
    }

    /// Starts an engine for `config` with the defaults.
    pub fn start(config: Config) -> Result<Engine> {
        Engine::builder(config).start()
    }

    /// The settings this engine runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The latest published snapshot, valid or not: a lock-free load, no I/O.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.shared.snapshot.load_full()
    }

    /// The latest snapshot if it has not expired on the corrected clock; otherwise waits up
    /// to `wait` for the refresher's single running fetch.
    ///
    /// # Errors
    /// [`Error::Timeout`] with the last refresh error when nothing valid arrives in time.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future only stops waiting.
    pub async fn credentials(&self, wait: Duration) -> Result<Arc<Snapshot>> {
        let mut generation = self.shared.generation.subscribe();
        if let Some(s) = self.valid_snapshot() {
            return Ok(s);
        }
        let started = generation.borrow_and_update().to_owned();
        self.shared.demand();
        let outcome = tokio::time::timeout(wait, async {
            loop {
                if generation.changed().await.is_err() {
                    return Err(Error::Closed);
                }
                if let Some(s) = self.valid_snapshot() {
                    return Ok(s);
                }
                if *generation.borrow_and_update() > started {
                    return Err(self.last_error_or_timeout(wait));
                }
            }
        })
        .await;
        outcome.unwrap_or_else(|_| Err(self.last_error_or_timeout(wait)))
    }

    /// [`Engine::credentials`] for threads outside the runtime (JNI, the CLI).
    ///
    /// # Panics
    /// Panics if called from inside a tokio runtime; use the async form there.
    pub fn credentials_blocking(&self, wait: Duration) -> Result<Arc<Snapshot>> {
        if let Some(s) = self.valid_snapshot() {
            return Ok(s);
        }
        self.handle.block_on(self.credentials(wait))
    }

    fn valid_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot().filter(|s| self.shared.is_valid(s))
    }

    fn last_error_or_timeout(&self, waited: Duration) -> Error {
        let last_error = self
            .shared
            .stats()
            .last_error
            .unwrap_or_else(|| "none yet".into());
        Error::Timeout { waited, last_error }
    }

    /// Tells the engine the SDK saw `ExpiredToken`, `ExpiredTokenException` or
    /// `InvalidToken`: triggers exactly one shared refresh (calls within a moment of a
    /// refresh that an invalidation started, or during any refresh, are absorbed by it). Returns whether this call
    /// started a refresh.
    pub fn invalidate(&self) -> bool {
        self.shared.invalidate()
    }

    /// Asks for a new clock measurement (an SDK saw `RequestTimeTooSkewed` and the like).
    pub fn request_clock_measurement(&self) {
        self.shared.clock.request_measurement();
    }

    /// The corrected clock.
    pub fn clock(&self) -> &SkewClock {
        &self.shared.clock
    }

    /// Events from now on. A slow receiver loses the oldest events (`Lagged`), never blocks
    /// the engine.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// A point-in-time view of the engine's state.
    pub fn health(&self) -> Health {
        let stats = self.shared.stats();
        let snapshot = self.snapshot();
        Health {
            expiration: snapshot.as_ref().map(|s| s.credentials.expiration()),
            key_id: snapshot.as_ref().map(|s| s.credentials.key_id_abbrev()),
            last_refresh: stats.last_refresh,
            next_refresh: stats.next_refresh,
            refresh_count: stats.refresh_count,
            failure_count: stats.failure_count,
            last_error: stats.last_error,
            skew_ms: self.shared.clock.skew_ms(),
            skew_source: self.shared.clock.source(),
            imds_version: self.shared.source.imds_version(),
            source: self.shared.source.describe(),
        }
    }

    /// The runtime handle the engine runs on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Stops the refresher and the clock task. Idempotent; the last snapshot stays readable.
    pub fn close(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for task in tasks {
            task.abort();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.close();
    }
}
