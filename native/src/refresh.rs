//! The refresher: one task per engine that keeps the published snapshot fresh.
//!
//! # States
//! - **waiting**: credentials are published; the task sleeps until the refresh-ahead point
//!   (recomputed from the expiration and the corrected clock on every wake-up, so a new skew
//!   measurement or a wall-clock jump moves it) or until woken;
//! - **refreshing**: one fetch is running (`Control::in_flight`); nobody else fetches;
//! - **backing off**: the last fetch failed or returned the same expiration; the task waits
//!   a jittered delay. The last good credentials stay published throughout.
//!
//! # Who wakes it
//! `invalidate()` (an SDK saw `ExpiredToken`), a caller that found no valid credentials, a
//! skew change. All requests arriving while a fetch runs are served by that fetch.
//!
//! # Supervision
//! The task runs under [`supervise`]: a panic is logged, counted as a failure and the task
//! restarted, never a silent end of refreshing.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use tokio::sync::{broadcast, watch, Notify};
use tokio::time::Instant;

use crate::clock::SkewClock;
use crate::credentials::{Credentials, Snapshot};
use crate::engine::Event;
use crate::error::Error;
use crate::schedule;
use crate::source::Source;

/// An `invalidate()` within this time after a refresh that an invalidation started is
/// absorbed by it: a burst of failed requests makes one refresh, not one each. Other
/// refreshes (start-up, schedule) do not absorb invalidations: an `ExpiredToken` right after
/// them still deserves its one refresh.
pub const INVALIDATE_COOLDOWN: Duration = Duration::from_secs(2);
/// The longest single sleep: the schedule is recomputed at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// A repeated identical failure is logged at warn level at most this often.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Who may start a fetch. Guarded by `Shared::control` (a std mutex held only briefly,
/// never across an await).
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// A refresh was asked for (invalidate, demand) and not yet started.
    refresh_requested: bool,
    /// The pending request came from `invalidate()`.
    requested_by_invalidate: bool,
    /// A fetch is running.
    in_flight: bool,
    /// The running fetch was started by `invalidate()`.
    in_flight_by_invalidate: bool,
    /// When the last fetch started by `invalidate()` ended.
    last_invalidation_refresh: Option<Instant>,
}

/// Counters and times for [`crate::Health`]. Guarded by `Shared::stats`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    pub refresh_count: u64,
    pub failure_count: u64,
    pub last_error: Option<String>,
    pub last_refresh: Option<SystemTime>,
    pub next_refresh: Option<SystemTime>,
    last_warned: Option<(std::time::Instant, String)>,
}

/// State shared by the engine handle and the refresher task.
pub(crate) struct Shared {
    pub snapshot: ArcSwapOption<Snapshot>,
    pub clock: Arc<SkewClock>,
    pub source: Arc<dyn Source>,
    pub refresh_ahead: Option<Duration>,
    pub invalidate_cooldown: Duration,
    pub wake: Notify,
    pub control: Mutex<Control>,
    pub stats: Mutex<Stats>,
    /// Bumped after every fetch, successful or not: callers waiting for credentials watch it.
    pub generation: watch::Sender<u64>,
    pub events: broadcast::Sender<Event>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave them inconsistent (plain field
    // writes), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    /// True when `snapshot` has not expired on the corrected clock.
    pub(crate) fn is_valid(&self, snapshot: &Snapshot) -> bool {
        snapshot.credentials.expiration() > self.clock.corrected_now()
    }

    /// A caller found no valid credentials: ask for a fetch unless one is running or
    /// valid credentials were published meanwhile.
    pub(crate) fn demand(&self) {
        let mut control = lock(&self.control);
        if control.in_flight || control.refresh_requested {
            return;
        }
        // Checked under the lock: a fetch publishes before it clears `in_flight`.
        if self
            .snapshot
            .load()
            .as_ref()
            .is_some_and(|s| self.is_valid(s))
        {
            return;
        }
        control.refresh_requested = true;
        drop(control);
        self.wake.notify_one();
    }

    /// An SDK saw an expired or invalid token: one shared refresh.
    pub(crate) fn invalidate(&self) -> bool {
        let mut control = lock(&self.control);
        if control.in_flight || control.refresh_requested {
            return false;
        }
        if control
            .last_invalidation_refresh
            .is_some_and(|t| t.elapsed() < self.invalidate_cooldown)
        {
            return false;
        }
        control.refresh_requested = true;
        control.requested_by_invalidate = true;
        drop(control);
        tracing::info!("credentials invalidated: refreshing now");
        self.wake.notify_one();
        true
    }

    /// Starts a fetch if one is due or requested; returns false if not due.
    fn begin(&self, due: bool) -> bool {
        let mut control = lock(&self.control);
        if !(due || control.refresh_requested) {
            return false;
        }
        control.in_flight_by_invalidate =
            control.refresh_requested && control.requested_by_invalidate;
        control.refresh_requested = false;
        control.requested_by_invalidate = false;
        control.in_flight = true;
        true
    }

    fn end(&self) {
        let mut control = lock(&self.control);
        control.in_flight = false;
        if control.in_flight_by_invalidate {
            control.in_flight_by_invalidate = false;
            control.last_invalidation_refresh = Some(Instant::now());
        }
    }
}

/// What the refresher plans next.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Refresh at the refresh-ahead point of the published credentials.
    AheadOfExpiry,
    /// Retry at this instant (after a failure or a same-expiration answer).
    RetryAt(Instant),
}

/// Per-task scheduling memory, lost (harmlessly) on restart.
struct Refresher {
    shared: Arc<Shared>,
    plan: Plan,
    /// Jitter for the published set, chosen once per set.
    jitter: Duration,
    same_streak: u32,
    failure_streak: u32,
}

/// Runs the refresher, restarting it after a panic.
pub(crate) async fn supervise(shared: Arc<Shared>) {
    loop {
        // Aborting the supervisor (engine close) must abort the task it supervises too.
        let mut task = AbortOnDrop(tokio::spawn(run(shared.clone())));
        match (&mut task.0).await {
            Ok(()) => return,
            Err(e) if e.is_panic() => {
                let message = "the refresher task panicked; restarting it (please report this)";
                tracing::error!("{message}");
                {
                    let mut stats = lock(&shared.stats);
                    stats.failure_count += 1;
                    stats.last_error = Some(message.to_owned());
                }
                shared.end();
                shared.generation.send_modify(|g| *g += 1);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(_) => return,
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run(shared: Arc<Shared>) {
    let mut r = Refresher {
        plan: if shared.snapshot.load().is_some() {
            Plan::AheadOfExpiry
        } else {
            Plan::RetryAt(Instant::now())
        },
        shared,
        jitter: Duration::ZERO,
        same_streak: 0,
        failure_streak: 0,
    };
    loop {
        let next = r.next_at();
        r.record_next(next);
        if r.shared.begin(Instant::now() >= next) {
            r.refresh_once().await;
            continue;
        }
        let sleep_until = next.min(Instant::now() + MAX_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep_until(sleep_until) => {}
            _ = r.shared.wake.notified() => {}
            _ = r.shared.clock.changed.notified() => {}
        }
    }
}

impl Refresher {
    fn next_at(&self) -> Instant {
        match self.plan {
            Plan::RetryAt(at) => at,
            Plan::AheadOfExpiry => {
                let Some(snapshot) = self.shared.snapshot.load_full() else {
                    return Instant::now();
                };
                let c = &snapshot.credentials;
                let left = c.time_left(self.shared.clock.corrected_now());
                let window = schedule::window(c.lifetime(), self.shared.refresh_ahead);
                Instant::now() + schedule::wait_before_refresh(left, window, self.jitter)
            }
        }
    }

    fn record_next(&self, next: Instant) {
        let in_ = next.saturating_duration_since(Instant::now());
        let at = self.shared.clock.corrected_now() + in_;
        lock(&self.shared.stats).next_refresh = Some(at);
    }

    async fn refresh_once(&mut self) {
        let result = self.shared.source.fetch().await;
        let current = self.shared.snapshot.load_full();
        match result {
            Ok(fresh) => {
                let same = current.as_ref().is_some_and(|s| {
                    s.credentials.expiration() == fresh.expiration()
                        && s.credentials.access_key_id() == fresh.access_key_id()
                });
                if same {
                    self.on_same(fresh);
                } else {
                    self.on_new(fresh, current.map_or(0, |s| s.seq));
                }
            }
            Err(e) => self.on_failure(e, current.as_deref()),
        }
        self.shared.end();
        self.shared.generation.send_modify(|g| *g += 1);
    }

    fn on_new(&mut self, fresh: Credentials, last_seq: u64) {
        let now = self.shared.clock.corrected_now();
        let expiration = fresh.expiration();
        let window = schedule::window(fresh.lifetime(), self.shared.refresh_ahead);
        self.jitter = schedule::jitter(window);
        let next_refresh = expiration - (window + self.jitter).min(fresh.time_left(now));
        let key_id = fresh.key_id_abbrev();
        let seq = last_seq + 1;
        self.shared.snapshot.store(Some(Arc::new(Snapshot {
            seq,
            credentials: fresh,
            fetched_at: now,
        })));
        self.plan = Plan::AheadOfExpiry;
        self.same_streak = 0;
        self.failure_streak = 0;
        {
            let mut stats = lock(&self.shared.stats);
            stats.refresh_count += 1;
            stats.last_refresh = Some(now);
            stats.last_error = None;
            stats.last_warned = None;
        }
        tracing::info!(
            key = %key_id,
            expiration = %crate::time_fmt::rfc3339(expiration),
            next_refresh = %crate::time_fmt::rfc3339(next_refresh),
            "credentials refreshed"
        );
        let _ = self.shared.events.send(Event::Refreshed {
            seq,
            key_id,
            expiration,
            next_refresh,
        });
    }

    fn on_same(&mut self, fresh: Credentials) {
        let left = fresh.time_left(self.shared.clock.corrected_now());
        let delay = schedule::same_expiry_retry(fresh.lifetime(), left, self.same_streak);
        self.same_streak = self.same_streak.saturating_add(1);
        self.plan = Plan::RetryAt(Instant::now() + delay);
        tracing::debug!(
            ?delay,
            "the source returned the same expiration; retrying later"
        );
        let _ = self.shared.events.send(Event::Unchanged {
            expiration: fresh.expiration(),
            retry_in: delay,
        });
    }

    fn on_failure(&mut self, error: Error, current: Option<&Snapshot>) {
        let delay = schedule::failure_retry(self.failure_streak, error.is_unrecoverable());
        self.failure_streak = self.failure_streak.saturating_add(1);
        // Still-valid credentials: no point retrying later than their refresh point anyway.
        self.plan = Plan::RetryAt(Instant::now() + delay);
        let message = error.to_string();
        let serving = current.map(|s| s.credentials.expiration());
        let warn_now = {
            let mut stats = lock(&self.shared.stats);
            stats.failure_count += 1;
            stats.last_error = Some(message.clone());
            let repeat = stats
                .last_warned
                .as_ref()
                .is_some_and(|(at, m)| *m == message && at.elapsed() < WARN_EVERY);
            if !repeat {
                stats.last_warned = Some((std::time::Instant::now(), message.clone()));
            }
            !repeat
        };
        let until = serving
            .map(crate::time_fmt::rfc3339)
            .unwrap_or_else(|| "none yet".into());
        if warn_now && error.is_unrecoverable() {
            tracing::error!(retry_in = ?delay, serving_until = %until, "credentials refresh failed: {message}");
        } else if warn_now {
            tracing::warn!(retry_in = ?delay, serving_until = %until, "credentials refresh failed: {message}; keeping the last good credentials");
        } else {
            tracing::debug!(retry_in = ?delay, "credentials refresh failed again: {message}");
        }
        let _ = self.shared.events.send(Event::RefreshFailed {
            error: message,
            retry_in: delay,
            serving_until: serving,
        });
    }
}
