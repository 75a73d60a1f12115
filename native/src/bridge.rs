//! The engine as the JNI boundary sees it, in safe Rust: handles, shared engines, and the
//! wait the Java updater thread blocks in. `jni.rs` only converts arguments and results.
//!
//! # Handles and engines
//! Java holds a handle id per `FreshCredentials` object; an id is never a pointer, so a
//! stale or forged id finds nothing ([`Error::Closed`]) instead of freed memory. Handles
//! whose settings resolve to the same effective configuration share one [`Engine`]; the
//! engine stops when its last handle closes.
//!
//! # The wait
//! [`wait`] blocks the calling (Java) thread until something is pending for its handle, or
//! the timeout passes. Pending things are bits ([`flags`]): a new snapshot, a skew change
//! (both set by a small forwarder task per handle that listens to the engine's events),
//! log records (the process-wide [`LOGS`] queue) and the handle's close. Every producer
//! bumps one process-wide [`Signal`] after making its change visible, and a waiter reads
//! the signal's generation *before* looking at its sources, so no wake-up is lost.
//!
//! No thread of the engine ever calls into the JVM: only Java threads run this code.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::config::{Config, Inputs};
use crate::credentials::Snapshot;
use crate::engine::{Engine, Event, Health};
use crate::error::{Error, Result};
use crate::log_queue::{self, LogQueue};

/// What [`wait`] reports, as bits; the Java side has the same constants.
pub mod flags {
    /// A new credentials snapshot was published.
    pub const SNAPSHOT: u32 = 1;
    /// Log records are waiting in [`super::LOGS`].
    pub const LOGS: u32 = 2;
    /// The measured clock skew changed.
    pub const SKEW: u32 = 4;
    /// The handle was closed: the updater thread should stop.
    pub const CLOSED: u32 = 8;
}

/// The process-wide queue of log records for Java.
pub static LOGS: LogQueue = LogQueue::new(log_queue::level::WARN, wake_all);

static SIGNAL: Signal = Signal::new();

fn wake_all() {
    SIGNAL.bump();
}

/// A generation counter with a condition variable: producers bump it, waiters sleep until
/// it moves past the value they saw.
struct Signal {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Signal {
    const fn new() -> Self {
        Self {
            generation: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, u64> {
        // A counter cannot be left inconsistent by a panic.
        self.generation.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> u64 {
        *self.lock()
    }

    fn bump(&self) {
        *self.lock() += 1;
        self.changed.notify_all();
    }

    /// Sleeps until the generation differs from `seen` (true) or `deadline` passes (false).
    fn wait_past(&self, seen: u64, deadline: Instant) -> bool {
        let mut generation = self.lock();
        while *generation == seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            generation = self
                .changed
                .wait_timeout(generation, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        true
    }
}

/// An engine shared by the handles whose settings resolve alike.
#[derive(Debug)]
pub struct SharedEngine {
    /// Process-unique engine number (health, tests: "these handles share an engine").
    pub id: u64,
    /// The engine.
    pub engine: Engine,
}

/// One Java `FreshCredentials` object's view of an engine.
#[derive(Debug)]
pub struct Handle {
    /// The id Java holds.
    pub id: i64,
    /// The engine behind it.
    pub shared: Arc<SharedEngine>,
    /// [`flags`] not yet reported by [`wait`]; shared with the forwarder task.
    pending: Arc<AtomicU32>,
    closed: AtomicBool,
    forwarder: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct Registry {
    handles: HashMap<i64, Arc<Handle>>,
    engines: HashMap<String, Weak<SharedEngine>>,
    next_handle: i64,
    next_engine: u64,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);

fn registry() -> MutexGuard<'static, Registry> {
    // Map inserts and removals only: a panic cannot leave the maps half-updated.
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Settings from Java: system properties and the builder's explicit settings.
#[derive(Debug, Default, Clone)]
pub struct OpenRequest {
    /// Java system properties (`freshcreds.*`, `aws.*`, `com.amazonaws.sdk.*`).
    pub props: HashMap<String, String>,
    /// Explicit settings by name (e.g. `imds.endpoint`), from `FreshCredentials.builder()`.
    pub overrides: Vec<(String, String)>,
}

/// Resolves the settings (process environment, `~/.aws/config`, then `request`) and returns
/// a new handle on the engine for that configuration, starting the engine if none runs.
///
/// # Errors
/// [`Error::Config`] for a bad setting; an engine start failure.
pub fn open(request: OpenRequest) -> Result<Arc<Handle>> {
    let mut inputs = Inputs::from_process();
    inputs.props = request.props;
    for (name, value) in request.overrides {
        inputs.set(&name, value, "FreshCredentials.builder()");
    }
    let config = Config::resolve(&inputs)?;
    open_with(config, Engine::start)
}

/// [`open`] with a resolved configuration and an engine factory (tests inject sources).
pub fn open_with(
    config: Config,
    start: impl FnOnce(Config) -> Result<Engine>,
) -> Result<Arc<Handle>> {
    let key = config_key(&config);
    let mut reg = registry();
    reg.engines.retain(|_, e| e.strong_count() > 0);
    let shared = match reg.engines.get(&key).and_then(Weak::upgrade) {
        Some(shared) => shared,
        None => {
            reg.next_engine += 1;
            let shared = Arc::new(SharedEngine {
                id: reg.next_engine,
                engine: start(config)?,
            });
            reg.engines.insert(key, Arc::downgrade(&shared));
            shared
        }
    };
    reg.next_handle += 1;
    let id = reg.next_handle;
    // Report the current state at once: the engine may be shared and already have credentials.
    let pending = Arc::new(AtomicU32::new(flags::SNAPSHOT | flags::SKEW));
    let forwarder = spawn_forwarder(&shared.engine, pending.clone());
    let handle = Arc::new(Handle {
        id,
        shared,
        pending,
        closed: AtomicBool::new(false),
        forwarder: Mutex::new(Some(forwarder)),
    });
    reg.handles.insert(id, handle.clone());
    Ok(handle)
}

/// Two configurations share an engine when every effective setting has the same value.
fn config_key(config: &Config) -> String {
    config
        .resolved
        .iter()
        .map(|r| format!("{}={}\n", r.name, r.value))
        .collect()
}

/// Turns the engine's events into pending bits for one handle.
fn spawn_forwarder(engine: &Engine, pending: Arc<AtomicU32>) -> JoinHandle<()> {
    let mut events = engine.subscribe();
    engine.handle().spawn(async move {
        loop {
            let bits = match events.recv().await {
                Ok(Event::Refreshed { .. }) => flags::SNAPSHOT,
                Ok(Event::SkewChanged { .. }) => flags::SKEW,
                Ok(_) => continue,
                // Missed events: re-read everything.
                Err(RecvError::Lagged(_)) => flags::SNAPSHOT | flags::SKEW,
                Err(RecvError::Closed) => return,
            };
            pending.fetch_or(bits, Ordering::AcqRel);
            SIGNAL.bump();
        }
    })
}

/// The handle with this id.
///
/// # Errors
/// [`Error::Closed`] when it was closed or never existed.
pub fn get(id: i64) -> Result<Arc<Handle>> {
    registry().handles.get(&id).cloned().ok_or(Error::Closed)
}

/// Closes a handle: its waiter returns [`flags::CLOSED`], and the engine stops when no
/// other handle uses it. Idempotent.
pub fn close(id: i64) {
    let handle = registry().handles.remove(&id);
    if let Some(handle) = handle {
        handle.closed.store(true, Ordering::Release);
        if let Some(task) = handle
            .forwarder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
        SIGNAL.bump();
    }
}

/// The number of engines running in this process (for tests and health).
pub fn engine_count() -> usize {
    let mut reg = registry();
    reg.engines.retain(|_, e| e.strong_count() > 0);
    reg.engines.len()
}

impl Handle {
    /// Blocks until something is pending for this handle or `timeout` passes; returns the
    /// [`flags`] (0 on timeout) and clears those it reports, except [`flags::LOGS`], which
    /// stays set while records wait.
    pub fn wait(&self, timeout: Duration) -> u32 {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = SIGNAL.current();
            let mut bits = self.pending.swap(0, Ordering::AcqRel);
            if LOGS.has_records() {
                bits |= flags::LOGS;
            }
            if self.closed.load(Ordering::Acquire) {
                bits |= flags::CLOSED;
            }
            if bits != 0 {
                return bits;
            }
            if !SIGNAL.wait_past(seen, deadline) {
                return 0;
            }
        }
    }

    /// The latest published snapshot, valid or not, and the current skew (server − local, ms).
    pub fn snapshot(&self) -> (Option<Arc<Snapshot>>, i64) {
        let engine = &self.shared.engine;
        (engine.snapshot(), engine.clock().skew_ms())
    }

    /// Valid credentials, waiting up to `wait` for the engine's single running fetch.
    ///
    /// # Errors
    /// [`Error::Timeout`] with the last refresh error; [`Error::Closed`].
    pub fn credentials(&self, wait: Duration) -> Result<Arc<Snapshot>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        self.shared.engine.credentials_blocking(wait)
    }

    /// See [`Engine::invalidate`].
    pub fn invalidate(&self) -> bool {
        self.shared.engine.invalidate()
    }

    /// See [`Engine::request_clock_measurement`].
    pub fn request_clock_measurement(&self) {
        self.shared.engine.request_clock_measurement();
    }

    /// See [`Engine::health`].
    pub fn health(&self) -> Health {
        self.shared.engine.health()
    }
}

#[cfg(test)]
mod tests;
