//! A bounded queue of log records, filled by a `tracing` layer and drained by the Java
//! updater thread, which hands them to `java.util.logging`.
//!
//! # Why a queue
//! Native threads (the engine's runtime) never attach to the JVM, so they cannot call a Java
//! logger. The layer formats each event into a [`Record`] and pushes it here; the Java thread
//! `freshcreds-updater` waits in native code, drains the queue and logs each record with
//! logger `dev.freshcreds`.
//!
//! # Bounds
//! At most [`CAPACITY`] records wait. When the queue is full the newest record is dropped
//! and counted ([`LogQueue::take_dropped`]); Java logs how many were lost. Pushing never
//! blocks on the consumer.
//!
//! # Level
//! The layer passes only events at or above [`LogQueue::level`], which Java sets from the
//! effective level of its logger (`FINEST` → trace … `SEVERE` → error). Events of other
//! crates pass only at warn level and above.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Records waiting for Java at most.
pub const CAPACITY: usize = 1024;

/// Levels as small integers, shared with the Java side: 0 = off.
pub mod level {
    /// Nothing is recorded.
    pub const OFF: u8 = 0;
    /// `ERROR` (Java `SEVERE`).
    pub const ERROR: u8 = 1;
    /// `WARN` (Java `WARNING`).
    pub const WARN: u8 = 2;
    /// `INFO` (Java `INFO`).
    pub const INFO: u8 = 3;
    /// `DEBUG` (Java `FINE`).
    pub const DEBUG: u8 = 4;
    /// `TRACE` (Java `FINER`, `FINEST`).
    pub const TRACE: u8 = 5;
}

/// One formatted log event. Holds no secret: the engine never logs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// One of the [`level`] constants.
    pub level: u8,
    /// The event's target, e.g. `freshcreds::refresh`.
    pub target: String,
    /// The message followed by the event's fields as `key=value`.
    pub message: String,
}

/// The queue; one per process, see [`global`].
#[derive(Debug)]
pub struct LogQueue {
    records: Mutex<VecDeque<Record>>,
    /// Records dropped because the queue was full, since the last `take_dropped`.
    dropped: AtomicU64,
    /// Maximum level recorded, a [`level`] constant.
    level: AtomicU8,
    /// Called after each push (wakes the waiting updater threads).
    on_push: fn(),
}

fn lock(m: &Mutex<VecDeque<Record>>) -> MutexGuard<'_, VecDeque<Record>> {
    // Plain pushes and pops cannot leave the deque inconsistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LogQueue {
    /// An empty queue recording up to `max_level`, calling `on_push` after each push.
    pub const fn new(max_level: u8, on_push: fn()) -> Self {
        Self {
            records: Mutex::new(VecDeque::new()),
            dropped: AtomicU64::new(0),
            level: AtomicU8::new(max_level),
            on_push,
        }
    }

    /// The maximum level recorded.
    pub fn level(&self) -> u8 {
        self.level.load(Ordering::Relaxed)
    }

    /// Sets the maximum level recorded ([`level::OFF`] to [`level::TRACE`]).
    pub fn set_level(&self, max_level: u8) {
        self.level
            .store(max_level.min(level::TRACE), Ordering::Relaxed);
    }

    /// True when `metadata` would be recorded at the current level.
    pub fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let l = level_of(metadata.level());
        let ours = metadata.target().starts_with("freshcreds");
        l <= self.level() && (ours || l <= level::WARN)
    }

    /// Adds a record, or counts it as dropped when the queue is full.
    pub fn push(&self, record: Record) {
        {
            let mut records = lock(&self.records);
            if records.len() >= CAPACITY {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            records.push_back(record);
        }
        (self.on_push)();
    }

    /// Removes up to `max` records, oldest first.
    pub fn drain(&self, max: usize) -> Vec<Record> {
        let mut records = lock(&self.records);
        let n = max.min(records.len());
        records.drain(..n).collect()
    }

    /// True when records are waiting.
    pub fn has_records(&self) -> bool {
        !lock(&self.records).is_empty()
    }

    /// Records dropped since the last call.
    pub fn take_dropped(&self) -> u64 {
        self.dropped.swap(0, Ordering::Relaxed)
    }
}

fn level_of(l: &Level) -> u8 {
    match *l {
        Level::ERROR => level::ERROR,
        Level::WARN => level::WARN,
        Level::INFO => level::INFO,
        Level::DEBUG => level::DEBUG,
        _ => level::TRACE,
    }
}

/// The `tracing` layer that feeds a [`LogQueue`].
#[derive(Debug, Clone, Copy)]
pub struct QueueLayer {
    queue: &'static LogQueue,
}

impl QueueLayer {
    /// A layer pushing into `queue`.
    pub fn new(queue: &'static LogQueue) -> Self {
        Self { queue }
    }
}

impl<S: Subscriber> Layer<S> for QueueLayer {
    fn register_callsite(
        &self,
        _metadata: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        // The level changes at run time: ask again for every event.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.queue.enabled(metadata)
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if !self.queue.enabled(metadata) {
            return;
        }
        let mut visitor = MessageVisitor::default();
        event.record(&mut visitor);
        let mut message = visitor.message;
        if !visitor.fields.is_empty() {
            if !message.is_empty() {
                message.push(' ');
            }
            message.push_str(&visitor.fields);
        }
        self.queue.push(Record {
            level: level_of(metadata.level()),
            target: metadata.target().to_owned(),
            message,
        });
    }
}

#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.sep();
            let _ = write!(self.fields, "{}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.sep();
            let _ = write!(self.fields, "{}={:?}", field.name(), value);
        }
    }
}

impl MessageVisitor {
    fn sep(&mut self) {
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    fn nothing() {}

    #[test]
    fn records_fields_and_respects_the_level() {
        static QUEUE: LogQueue = LogQueue::new(level::INFO, nothing);
        let subscriber = tracing_subscriber::registry().with(QueueLayer::new(&QUEUE));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "freshcreds::refresh", key = %"ASIA…MPLE", "credentials refreshed");
            tracing::debug!(target: "freshcreds::refresh", "not recorded at info");
            tracing::info!(target: "hyper::client", "other crates: warn and above only");
            tracing::warn!(target: "hyper::client", "recorded");
        });
        let records = QUEUE.drain(10);
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(records[0].level, level::INFO);
        assert_eq!(records[0].target, "freshcreds::refresh");
        assert_eq!(records[0].message, "credentials refreshed key=ASIA…MPLE");
        assert_eq!(records[1].message, "recorded");

        QUEUE.set_level(level::TRACE);
        let subscriber = tracing_subscriber::registry().with(QueueLayer::new(&QUEUE));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "freshcreds::imds", "now recorded");
        });
        assert_eq!(QUEUE.drain(10).len(), 1);
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        static QUEUE: LogQueue = LogQueue::new(level::TRACE, nothing);
        for i in 0..CAPACITY + 5 {
            QUEUE.push(Record {
                level: level::INFO,
                target: "freshcreds".into(),
                message: i.to_string(),
            });
        }
        assert_eq!(QUEUE.take_dropped(), 5);
        assert_eq!(QUEUE.take_dropped(), 0);
        let first = QUEUE.drain(3);
        assert_eq!(first[0].message, "0");
        assert_eq!(QUEUE.drain(usize::MAX).len(), CAPACITY - 3);
        assert!(!QUEUE.has_records());
    }
}
