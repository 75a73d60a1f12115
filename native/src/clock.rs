//! Clock skew: how far this host's wall clock is from true time, and the corrected clock.
//!
//! # Sign convention
//! **Skew = server time − local time.** A host whose clock is 10 minutes slow has a skew of
//! +600 s, and the corrected time is `local + skew`. (The AWS SDKs' time offsets use the
//! opposite sign; the Java side converts.)
//!
//! # Sources
//! 1. SNTP to the configured servers (Amazon Time Sync, `169.254.169.123`, by default),
//!    through `rsntp`: at start, every [`PROBE_INTERVAL`], when the wall clock jumps, and when
//!    asked (an SDK saw a skew error).
//! 2. The `Date` header of IMDS answers: whole seconds only, so it is used only while no
//!    SNTP measurement exists, and only when it disagrees by more than its resolution.
//!
//! A jump of the wall clock against the monotonic clock (someone ran `date -s`, or NTP
//! stepped) shifts the skew by the opposite amount at once, so the corrected time stays
//! continuous, and triggers a new SNTP probe.

use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use crate::error::Error;

/// Skew at which a warning is logged.
pub const WARN_SKEW: Duration = Duration::from_secs(1);
/// Skew at which an error is logged: SigV4 rejects requests beyond 5 minutes.
pub const ERROR_SKEW: Duration = Duration::from_secs(240);
/// How often SNTP is probed when nothing else asks.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// How often the wall clock is compared with the monotonic clock.
pub const JUMP_CHECK_INTERVAL: Duration = Duration::from_secs(2);
/// A wall-clock move beyond this, against the monotonic clock, is a jump.
pub const JUMP_THRESHOLD: Duration = Duration::from_millis(500);
/// SNTP reply timeout per server.
pub const SNTP_TIMEOUT: Duration = Duration::from_secs(2);

/// The host's wall clock; replaceable so tests can run a host whose clock is wrong.
pub trait WallClock: Send + Sync + 'static {
    /// The current local wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The real system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A wall clock off from the system clock by a fixed amount (for tests: `-600_000` is a host
/// 10 minutes slow). The offset can be changed to simulate a jump.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_ms: AtomicI64,
}

impl OffsetClock {
    /// A clock `offset_ms` milliseconds ahead of the system clock (negative: behind).
    pub fn new(offset_ms: i64) -> Self {
        Self {
            offset_ms: AtomicI64::new(offset_ms),
        }
    }

    /// Moves the clock to a new offset (a jump).
    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::SeqCst);
    }
}

impl WallClock for OffsetClock {
    fn now(&self) -> SystemTime {
        shift(SystemTime::now(), self.offset_ms.load(Ordering::SeqCst))
    }
}

/// Where the current skew figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SkewSource {
    /// Not measured yet: skew taken as zero.
    None = 0,
    /// An SNTP measurement.
    Ntp = 1,
    /// An HTTP `Date` header (1 s resolution).
    DateHeader = 2,
}

impl SkewSource {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => SkewSource::Ntp,
            2 => SkewSource::DateHeader,
            _ => SkewSource::None,
        }
    }

    /// Lower-case name for health output.
    pub fn as_str(self) -> &'static str {
        match self {
            SkewSource::None => "none",
            SkewSource::Ntp => "ntp",
            SkewSource::DateHeader => "date-header",
        }
    }
}

/// Called with (skew in ms, source) when the skew moves.
type ChangeListener = Box<dyn Fn(i64, SkewSource) + Send + Sync>;

/// The corrected clock, shared by the IMDS client, the refresher and the Java side.
pub struct SkewClock {
    wall: Arc<dyn WallClock>,
    /// Server − local, in milliseconds. Written by the clock task and by `Date` observations.
    skew_ms: AtomicI64,
    /// A [`SkewSource`] as `u8`.
    source: AtomicU8,
    /// Wall − monotonic at the last jump check, in ms since an arbitrary origin.
    jump_baseline: Mutex<(Instant, SystemTime)>,
    /// Woken when the skew changes, so the refresher reschedules.
    pub(crate) changed: Notify,
    /// Woken when someone asks for a new SNTP measurement.
    pub(crate) measure_requested: Notify,
    /// Listeners for skew changes (the engine forwards them as events).
    on_change: Mutex<Option<ChangeListener>>,
}

impl std::fmt::Debug for SkewClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkewClock")
            .field("skew_ms", &self.skew_ms())
            .field("source", &self.source())
            .finish()
    }
}

impl SkewClock {
    /// A corrected clock over `wall`, with no measurement yet.
    pub fn new(wall: Arc<dyn WallClock>) -> Self {
        let baseline = (Instant::now(), wall.now());
        Self {
            wall,
            skew_ms: AtomicI64::new(0),
            source: AtomicU8::new(SkewSource::None as u8),
            jump_baseline: Mutex::new(baseline),
            changed: Notify::new(),
            measure_requested: Notify::new(),
            on_change: Mutex::new(None),
        }
    }

    pub(crate) fn set_on_change(&self, f: ChangeListener) {
        if let Ok(mut slot) = self.on_change.lock() {
            *slot = Some(f);
        }
    }

    /// The local (uncorrected) wall-clock time.
    pub fn local_now(&self) -> SystemTime {
        self.wall.now()
    }

    /// Local time plus the measured skew: our best estimate of true time.
    pub fn corrected_now(&self) -> SystemTime {
        shift(self.wall.now(), self.skew_ms())
    }

    /// Server − local in milliseconds (0 until measured).
    pub fn skew_ms(&self) -> i64 {
        self.skew_ms.load(Ordering::Acquire)
    }

    /// Where the skew figure came from.
    pub fn source(&self) -> SkewSource {
        SkewSource::from_u8(self.source.load(Ordering::Acquire))
    }

    /// Asks the clock task for a new SNTP measurement (e.g. after an SDK skew error).
    pub fn request_measurement(&self) {
        self.measure_requested.notify_one();
    }

    /// Records an SNTP result. `offset_vs_system` is rsntp's offset, measured against the
    /// real system clock; it is re-based on our wall clock (which may be injected).
    pub fn record_ntp(&self, offset_vs_system: Duration, negative: bool) {
        let sys_minus_wall = millis_between(SystemTime::now(), self.wall.now());
        let offset = offset_vs_system.as_millis() as i64;
        let skew = if negative { -offset } else { offset } + sys_minus_wall;
        self.set(skew, SkewSource::Ntp);
    }

    /// Uses an HTTP `Date` header as a coarse skew estimate, while no SNTP figure exists.
    /// `sent` and `received` are local times around the request.
    pub fn observe_date_header(&self, date: SystemTime, sent: SystemTime, received: SystemTime) {
        if self.source() == SkewSource::Ntp {
            return;
        }
        // The header truncates to whole seconds: its true value lies in [date, date + 1 s).
        let server_mid = shift(date, 500);
        let local_mid = shift(sent, millis_between(received, sent) / 2);
        let estimate = millis_between(server_mid, local_mid);
        // Within the header's resolution (plus the round trip) it says nothing.
        let resolution = 1_000 + millis_between(received, sent).abs();
        if estimate.abs() <= resolution {
            if self.source() == SkewSource::DateHeader {
                self.set(0, SkewSource::DateHeader);
            }
            return;
        }
        self.set(estimate, SkewSource::DateHeader);
    }

    fn set(&self, skew_ms: i64, source: SkewSource) {
        let old = self.skew_ms.swap(skew_ms, Ordering::AcqRel);
        let old_source = self.source();
        self.source.store(source as u8, Ordering::Release);
        let moved = (old - skew_ms).abs() >= 100 || old_source != source;
        if moved {
            log_skew(skew_ms, source);
            self.changed.notify_waiters();
            if let Ok(slot) = self.on_change.lock() {
                if let Some(f) = slot.as_ref() {
                    f(skew_ms, source);
                }
            }
        }
    }

    /// Compares the wall clock with the monotonic clock; on a jump, shifts the skew by the
    /// opposite amount and returns true.
    pub(crate) fn check_jump(&self) -> bool {
        let Ok(mut baseline) = self.jump_baseline.lock() else {
            return false;
        };
        let (mono0, wall0) = *baseline;
        let mono_now = Instant::now();
        let wall_now = self.wall.now();
        let expected = shift(wall0, mono_now.duration_since(mono0).as_millis() as i64);
        let jump = millis_between(wall_now, expected);
        *baseline = (mono_now, wall_now);
        drop(baseline);
        if jump.unsigned_abs() as u128 > JUMP_THRESHOLD.as_millis() {
            tracing::warn!(jump_ms = jump, "the wall clock jumped; re-measuring skew");
            let source = self.source();
            self.set(self.skew_ms() - jump, source);
            return true;
        }
        false
    }
}

fn log_skew(skew_ms: i64, source: SkewSource) {
    let abs = Duration::from_millis(skew_ms.unsigned_abs());
    let secs = skew_ms as f64 / 1000.0;
    if abs >= ERROR_SKEW {
        tracing::error!(skew_s = secs, source = source.as_str(), "host clock is off by {secs:+.3} s (server − local): AWS rejects signatures beyond 5 minutes; freshcreds corrects its own expiry checks, but fix the host's time sync (chrony with Amazon Time Sync, 169.254.169.123)");
    } else if abs >= WARN_SKEW {
        tracing::warn!(
            skew_s = secs,
            source = source.as_str(),
            "host clock is off by {secs:+.3} s (server − local); freshcreds corrects for it"
        );
    } else {
        tracing::debug!(
            skew_s = secs,
            source = source.as_str(),
            "clock skew measured"
        );
    }
}

/// Probes the servers in order and returns the first answer's skew (server − local of our
/// wall clock) in milliseconds.
pub async fn probe_ntp(servers: &[String], clock: &SkewClock) -> Result<i64, Error> {
    let mut last = Error::Ntp {
        server: "(none configured)".into(),
        detail: "no NTP server".into(),
    };
    for server in servers {
        let bind: std::net::SocketAddr = if server.contains('[') || server.matches(':').count() > 1
        {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        };
        let client = rsntp::AsyncSntpClient::with_config(
            rsntp::Config::default()
                .bind_address(bind)
                .timeout(SNTP_TIMEOUT),
        );
        match client.synchronize(server.as_str()).await {
            Ok(result) => {
                let offset = result.clock_offset();
                let negative = offset.signum() < 0;
                let abs = offset.abs_as_std_duration().unwrap_or_default();
                clock.record_ntp(abs, negative);
                tracing::debug!(server = %server, skew_ms = clock.skew_ms(), "NTP probe answered");
                return Ok(clock.skew_ms());
            }
            Err(e) => {
                tracing::debug!(server = %server, error = %e, "NTP probe failed");
                last = Error::Ntp {
                    server: server.clone(),
                    detail: e.to_string(),
                };
            }
        }
    }
    Err(last)
}

/// The clock task: probes at start, periodically, on request and after a jump.
pub(crate) async fn run(clock: Arc<SkewClock>, servers: Vec<String>) {
    if servers.is_empty() {
        loop {
            tokio::time::sleep(JUMP_CHECK_INTERVAL).await;
            clock.check_jump();
        }
    }
    let mut next_probe = tokio::time::Instant::now();
    let mut failures: u32 = 0;
    loop {
        if tokio::time::Instant::now() >= next_probe {
            match probe_ntp(&servers, &clock).await {
                Ok(_) => {
                    failures = 0;
                    next_probe = tokio::time::Instant::now() + PROBE_INTERVAL;
                }
                Err(e) => {
                    failures += 1;
                    if failures == 1 {
                        tracing::info!(error = %e, "cannot measure clock skew by NTP; using IMDS Date headers instead");
                    }
                    let retry =
                        crate::backoff::Backoff::new(Duration::from_secs(5), PROBE_INTERVAL);
                    next_probe = tokio::time::Instant::now() + retry.ceiling(failures);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(JUMP_CHECK_INTERVAL) => {
                if clock.check_jump() {
                    next_probe = tokio::time::Instant::now();
                }
            }
            _ = clock.measure_requested.notified() => {
                next_probe = tokio::time::Instant::now();
            }
        }
    }
}

/// `t` moved by `ms` milliseconds (negative: earlier).
pub fn shift(t: SystemTime, ms: i64) -> SystemTime {
    if ms >= 0 {
        t + Duration::from_millis(ms as u64)
    } else {
        t - Duration::from_millis(ms.unsigned_abs())
    }
}

/// `a − b` in milliseconds, signed.
pub fn millis_between(a: SystemTime, b: SystemTime) -> i64 {
    let ms = |t: SystemTime| match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    };
    ms(a) - ms(b)
}

#[cfg(test)]
mod tests;
