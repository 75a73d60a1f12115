//! The IMDS fault proxy: AEMM behind a switch that can make it throttle, fail, stall,
//! vanish or drop token PUTs, on a schedule, while counting who asks for what.
//!
//! AEMM itself only ever answers correctly. Real IMDS does not always: it throttles
//! (`429` with `Retry-After`), answers `503` under load, is slow, is unreachable during
//! an outage, and, from a container one hop too far, never gets its token-PUT answer
//! back (the hop limit drops it) while plain GETs still work. The proxy forwards to AEMM
//! and injects those faults while a rule says so.
//!
//! # Rules
//!
//! A rule is a fault plus a time window, posted as JSON to `POST /__fault` on the admin
//! port (an array posts several at once, so a demo script can lay out a schedule):
//!
//! ```json
//! {"mode": "throttle", "retry_after": 1, "after_ms": 2000, "for_ms": 10000}
//! {"mode": "outage", "from": "2026-01-02T03:04:05Z", "until": 1767323345.5}
//! ```
//!
//! | `mode` | effect while active | options |
//! | --- | --- | --- |
//! | `pass` | forward to AEMM (masks older rules) | |
//! | `throttle` | `429 Too Many Requests`, `Retry-After: N` | `retry_after` (s, default 1) |
//! | `unavailable` | `503 Service Unavailable` | `retry_after` (s, optional) |
//! | `stall` | hold each request, then forward it | `delay_ms` (default: until the rule ends) |
//! | `outage` | `refuse`: the listening socket is closed, connects are refused; `blackhole`: requests are read and never answered | `style` (default `refuse`) |
//! | `drop_token_put` | `PUT /latest/api/token` is read and never answered; everything else is forwarded | |
//!
//! Timing, all optional: `from` or `after_ms` (default: now), `until` or `for_ms`
//! (default: until removed). Times are RFC 3339 strings or Unix seconds. `path_prefix`
//! limits a rule to matching paths (not for `outage` with `refuse`, which acts on the
//! listener). When several rules are active, the last one added wins. A held request is
//! released (its connection closed without an answer, or for `stall`, forwarded) when
//! its rule ends, after at most [`ProxyConfig::max_hold`], or when the proxy stops.
//!
//! # Admin API
//!
//! `POST /__fault`, `GET /__fault` (the rules and which are active), `DELETE /__fault`
//! (all), `DELETE /__fault/ID`; `GET /__stats` (requests by path, by `User-Agent`, by
//! method and by outcome), `DELETE /__stats` (reset); `GET /health`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::net::{self, Background, Body, NoAnswer, Upstream};
use crate::{log_line, Error};

/// The largest request body (IMDS requests have none).
const MAX_BODY: usize = 64 * 1024;
/// The largest number of distinct keys per stats table; the rest count as `(other)`.
const MAX_STAT_KEYS: usize = 256;
/// Longer paths and `User-Agent`s are cut to this many characters in the stats.
const MAX_STAT_KEY_LEN: usize = 256;
const COMPONENT: &str = "imds-fault-proxy";

/// How the proxy is set up. [`ProxyConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Where IMDS clients connect (loopback only; port 0 picks a free one). The port is
    /// kept across a `refuse` outage. By default, `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Where the admin API listens (loopback only). By default, `127.0.0.1:0`.
    pub admin_listen: SocketAddr,
    /// AEMM's URL, `http://127.0.0.1:PORT`.
    pub upstream: String,
    /// How long a forwarded request may take. By default, 10 s.
    pub upstream_timeout: Duration,
    /// The longest a request is ever held (stall, blackhole, dropped PUT) when its rule
    /// has no end. By default, 5 minutes.
    pub max_hold: Duration,
}

impl ProxyConfig {
    /// The defaults, in front of `upstream`.
    pub fn new(upstream: &str) -> ProxyConfig {
        ProxyConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream: upstream.to_owned(),
            upstream_timeout: Duration::from_secs(10),
            max_hold: Duration::from_secs(300),
        }
    }
}

// ===== faults and rules =====

/// How an outage looks to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutageStyle {
    /// The listening socket is closed: connecting fails with "connection refused" (IMDS
    /// endpoint disabled, or nothing listening).
    Refuse,
    /// Requests are read and never answered: the client's read times out (IMDS
    /// unreachable behind a network that drops packets).
    Blackhole,
}

/// What the proxy does with a request while a rule is active.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Forward to AEMM.
    Pass,
    /// `429 Too Many Requests` with `Retry-After` in seconds, as IMDS throttles.
    Throttle {
        /// The `Retry-After` value.
        retry_after: u64,
    },
    /// `503 Service Unavailable`.
    Unavailable {
        /// A `Retry-After` value, if any.
        retry_after: Option<u64>,
    },
    /// Hold each request for `delay` (or until the rule ends), then forward it.
    Stall {
        /// How long; `None` means until the rule ends.
        delay: Option<Duration>,
    },
    /// IMDS is gone.
    Outage {
        /// Refused connections or unanswered requests.
        style: OutageStyle,
    },
    /// The container hop-limit symptom: token PUTs get no answer, GETs pass.
    DropTokenPut,
}

impl Fault {
    fn describe(&self) -> Value {
        match self {
            Fault::Pass => json!({"mode": "pass"}),
            Fault::Throttle { retry_after } => {
                json!({"mode": "throttle", "retry_after": retry_after})
            }
            Fault::Unavailable { retry_after } => {
                json!({"mode": "unavailable", "retry_after": retry_after})
            }
            Fault::Stall { delay } => {
                json!({"mode": "stall", "delay_ms": delay.map(|d| d.as_millis() as u64)})
            }
            Fault::Outage { style } => json!({
                "mode": "outage",
                "style": if *style == OutageStyle::Refuse { "refuse" } else { "blackhole" },
            }),
            Fault::DropTokenPut => json!({"mode": "drop_token_put"}),
        }
    }
}

/// A fault with its time window, as posted (wall-clock times).
#[derive(Debug, Clone)]
pub struct RuleSpec {
    /// What to do.
    pub fault: Fault,
    /// When it starts.
    pub from: SystemTime,
    /// When it ends; `None` means until removed.
    pub until: Option<SystemTime>,
    /// Only requests whose path starts with this.
    pub path_prefix: Option<String>,
}

fn u64_field(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("\"{key}\" must be a whole number >= 0")),
    }
}

fn time_field(obj: &Map<String, Value>, key: &str) -> Result<Option<SystemTime>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(SystemTime::from(t.with_timezone(&Utc))))
            .map_err(|e| format!("\"{key}\": '{s}' is not an RFC 3339 time: {e}")),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e11)
            .map(|s| Some(UNIX_EPOCH + Duration::from_secs_f64(s)))
            .ok_or_else(|| format!("\"{key}\" must be Unix seconds")),
        Some(_) => Err(format!(
            "\"{key}\" must be an RFC 3339 string or Unix seconds"
        )),
    }
}

impl RuleSpec {
    /// Parses one rule (see the module doc), relative times counted from `now`.
    ///
    /// # Errors
    ///
    /// A message naming the field at fault: unknown mode or field, bad time, a window
    /// that ends before it starts or is already over.
    pub fn from_json(v: &Value, now: SystemTime) -> Result<RuleSpec, String> {
        let obj = v.as_object().ok_or("a rule is a JSON object")?;
        let mode = obj.get("mode").and_then(Value::as_str).ok_or(
            "\"mode\" is required: pass, throttle, unavailable, stall, outage or drop_token_put",
        )?;
        let (fault, options): (Fault, &[&str]) = match mode {
            "pass" => (Fault::Pass, &[]),
            "throttle" => (
                Fault::Throttle {
                    retry_after: u64_field(obj, "retry_after")?.unwrap_or(1),
                },
                &["retry_after"],
            ),
            "unavailable" => (
                Fault::Unavailable {
                    retry_after: u64_field(obj, "retry_after")?,
                },
                &["retry_after"],
            ),
            "stall" => (
                Fault::Stall {
                    delay: u64_field(obj, "delay_ms")?.map(Duration::from_millis),
                },
                &["delay_ms"],
            ),
            "outage" => {
                let style = match obj.get("style").and_then(Value::as_str) {
                    None | Some("refuse") => OutageStyle::Refuse,
                    Some("blackhole") => OutageStyle::Blackhole,
                    Some(other) => {
                        return Err(format!(
                            "\"style\": '{other}' is neither refuse nor blackhole"
                        ))
                    }
                };
                (Fault::Outage { style }, &["style"])
            }
            "drop_token_put" => (Fault::DropTokenPut, &[]),
            other => {
                return Err(format!(
                "unknown mode '{other}': pass, throttle, unavailable, stall, outage or drop_token_put"
            ))
            }
        };
        const COMMON: [&str; 6] = ["mode", "from", "until", "after_ms", "for_ms", "path_prefix"];
        if let Some(k) = obj
            .keys()
            .find(|k| !COMMON.contains(&k.as_str()) && !options.contains(&k.as_str()))
        {
            return Err(format!("unknown field \"{k}\" for mode {mode}"));
        }

        let from = match (time_field(obj, "from")?, u64_field(obj, "after_ms")?) {
            (Some(_), Some(_)) => return Err("give \"from\" or \"after_ms\", not both".into()),
            (Some(t), None) => t,
            (None, Some(ms)) => now + Duration::from_millis(ms),
            (None, None) => now,
        };
        let until = match (time_field(obj, "until")?, u64_field(obj, "for_ms")?) {
            (Some(_), Some(_)) => return Err("give \"until\" or \"for_ms\", not both".into()),
            (Some(t), None) => Some(t),
            (None, Some(ms)) => Some(from + Duration::from_millis(ms)),
            (None, None) => None,
        };
        if let Some(until) = until {
            if until <= from {
                return Err("the rule ends before it starts".into());
            }
            if until <= now {
                return Err("the rule is already over".into());
            }
        }
        let path_prefix = match obj.get("path_prefix") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if p.starts_with('/') => Some(p.clone()),
            Some(_) => return Err("\"path_prefix\" must be a string starting with '/'".into()),
        };
        if path_prefix.is_some()
            && fault
                == (Fault::Outage {
                    style: OutageStyle::Refuse,
                })
        {
            return Err(
                "an outage with style refuse closes the whole port: use style blackhole with path_prefix"
                    .into(),
            );
        }
        Ok(RuleSpec {
            fault,
            from,
            until,
            path_prefix,
        })
    }
}

#[derive(Debug, Clone)]
struct Rule {
    id: u64,
    spec: RuleSpec,
    start: Instant,
    end: Option<Instant>,
}

impl Rule {
    fn active(&self, now: Instant) -> bool {
        self.start <= now && self.end.is_none_or(|e| now < e)
    }

    fn matches(&self, path: &str) -> bool {
        self.spec
            .path_prefix
            .as_deref()
            .is_none_or(|p| path.starts_with(p))
    }

    fn describe(&self, now: Instant) -> Value {
        let mut v = self.spec.fault.describe();
        let rfc3339 = |t: SystemTime| DateTime::<Utc>::from(t).to_rfc3339();
        if let Value::Object(m) = &mut v {
            m.insert("id".into(), json!(self.id));
            m.insert("from".into(), json!(rfc3339(self.spec.from)));
            m.insert("until".into(), json!(self.spec.until.map(rfc3339)));
            m.insert("path_prefix".into(), json!(self.spec.path_prefix));
            m.insert("active".into(), json!(self.active(now)));
        }
        v
    }
}

/// A wall-clock time on the monotonic clock, as seen from the pair (`now_wall`, `now`).
fn to_instant(t: SystemTime, now_wall: SystemTime, now: Instant) -> Instant {
    match t.duration_since(now_wall) {
        Ok(ahead) => now + ahead,
        Err(behind) => now.checked_sub(behind.duration()).unwrap_or(now),
    }
}

#[derive(Default)]
struct FaultTable {
    rules: Vec<Rule>,
    next_id: u64,
}

struct FaultsInner {
    table: Mutex<FaultTable>,
    /// Bumped on every change, so the accept loop re-decides at once.
    changed: watch::Sender<u64>,
    /// The last `changed` value the accept loop has acted on, so that the admin API can
    /// answer only once a new outage is in effect (no connection slips in after the
    /// `POST` returned).
    applied: watch::Sender<u64>,
}

/// The proxy's rules. Cloning shares them. Windows are kept on the monotonic clock, so a
/// wall-clock step on the host does not move an outage already scheduled.
#[derive(Clone)]
pub struct Faults(Arc<FaultsInner>);

impl Default for Faults {
    fn default() -> Self {
        Faults(Arc::new(FaultsInner {
            table: Mutex::new(FaultTable::default()),
            changed: watch::channel(0).0,
            applied: watch::channel(0).0,
        }))
    }
}

impl Faults {
    fn with_table<T>(&self, f: impl FnOnce(&mut FaultTable) -> T) -> T {
        let mut table = self.0.table.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        table.rules.retain(|r| r.end.is_none_or(|e| e > now));
        f(&mut table)
    }

    /// Tells the accept loop; returns the new version.
    fn notify(&self) -> u64 {
        self.0.changed.send_modify(|v| *v += 1);
        *self.0.changed.borrow()
    }

    /// Waits (at most `limit`) until the accept loop has acted on `version`.
    async fn applied(&self, version: u64, limit: Duration) {
        let mut applied = self.0.applied.subscribe();
        let _ = tokio::time::timeout(limit, async {
            let _ = applied.wait_for(|v| *v >= version).await;
        })
        .await;
    }

    /// Adds a rule; returns its id.
    pub fn add(&self, spec: RuleSpec) -> u64 {
        let (now_wall, now) = (SystemTime::now(), Instant::now());
        let id = self.with_table(|t| {
            t.next_id += 1;
            let rule = Rule {
                id: t.next_id,
                start: to_instant(spec.from, now_wall, now),
                end: spec.until.map(|u| to_instant(u, now_wall, now)),
                spec,
            };
            log_line(
                COMPONENT,
                format_args!("rule added: {}", rule.describe(now)),
            );
            t.rules.push(rule);
            t.next_id
        });
        self.notify();
        id
    }

    /// Removes one rule; false if there is none with that id (or it is over).
    pub fn remove(&self, id: u64) -> bool {
        let removed = self.with_table(|t| {
            let before = t.rules.len();
            t.rules.retain(|r| r.id != id);
            t.rules.len() != before
        });
        self.notify();
        removed
    }

    /// Removes every rule: from now on everything is forwarded. Returns the change's
    /// version.
    pub fn clear(&self) -> u64 {
        self.with_table(|t| t.rules.clear());
        self.notify()
    }

    /// The rules not yet over, as JSON, in the order they were added.
    pub fn list(&self) -> Vec<Value> {
        let now = Instant::now();
        self.with_table(|t| t.rules.iter().map(|r| r.describe(now)).collect())
    }

    /// The fault for a request on `path` at `now`, and when its rule ends.
    fn decide(&self, now: Instant, path: &str) -> (Fault, Option<Instant>) {
        self.with_table(|t| {
            t.rules
                .iter()
                .rev()
                .find(|r| r.active(now) && r.matches(path))
                .map(|r| (r.spec.fault.clone(), r.end))
                .unwrap_or((Fault::Pass, None))
        })
    }

    /// Whether the listening socket must be closed at `now`: the latest active rule that
    /// applies to every path is a `refuse` outage.
    fn listener_refused(&self, now: Instant) -> bool {
        self.with_table(|t| {
            t.rules
                .iter()
                .rev()
                .find(|r| r.active(now) && r.spec.path_prefix.is_none())
                .is_some_and(|r| {
                    r.spec.fault
                        == Fault::Outage {
                            style: OutageStyle::Refuse,
                        }
                })
        })
    }

    /// The next moment after `now` at which a rule starts or ends.
    fn next_boundary(&self, now: Instant) -> Option<Instant> {
        self.with_table(|t| {
            t.rules
                .iter()
                .flat_map(|r| [Some(r.start), r.end])
                .flatten()
                .filter(|i| *i > now)
                .min()
        })
    }
}

// ===== stats =====

/// Request counts, as `GET /__stats` shows them.
#[derive(Debug, Clone, Serialize)]
struct ProxyStats {
    /// When counting started (start-up or the last reset).
    since: DateTime<Utc>,
    /// Every request read (requests on refused connections are never read).
    total: u64,
    /// By path (without the query).
    by_path: BTreeMap<String, u64>,
    /// By `User-Agent` (`-` when absent).
    by_user_agent: BTreeMap<String, u64>,
    /// By method.
    by_method: BTreeMap<String, u64>,
    /// By what the proxy decided when the request arrived: `forwarded`, `throttled`,
    /// `unavailable`, `stalled` (held, then forwarded), `refused` (a kept-alive
    /// connection closed during a `refuse` outage), `blackholed`, `dropped_token_put`.
    by_outcome: BTreeMap<String, u64>,
    /// Forwards that got no answer from AEMM (answered `502`).
    upstream_errors: u64,
}

impl ProxyStats {
    fn new() -> ProxyStats {
        ProxyStats {
            since: Utc::now(),
            total: 0,
            by_path: BTreeMap::new(),
            by_user_agent: BTreeMap::new(),
            by_method: BTreeMap::new(),
            by_outcome: BTreeMap::new(),
            upstream_errors: 0,
        }
    }

    fn bump(table: &mut BTreeMap<String, u64>, key: &str) {
        let key: String = key.chars().take(MAX_STAT_KEY_LEN).collect();
        let key = if table.len() < MAX_STAT_KEYS || table.contains_key(&key) {
            key
        } else {
            "(other)".to_owned()
        };
        *table.entry(key).or_default() += 1;
    }

    fn count(&mut self, method: &str, path: &str, user_agent: &str, outcome: &str) {
        self.total += 1;
        Self::bump(&mut self.by_path, path);
        Self::bump(&mut self.by_user_agent, user_agent);
        Self::bump(&mut self.by_method, method);
        Self::bump(&mut self.by_outcome, outcome);
    }
}

// ===== the proxy =====

struct ProxyState {
    faults: Faults,
    upstream: Upstream,
    upstream_timeout: Duration,
    max_hold: Duration,
    stats: Mutex<ProxyStats>,
}

impl ProxyState {
    fn count(&self, parts: &http::request::Parts, user_agent: &str, outcome: &str) {
        self.stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .count(parts.method.as_str(), parts.uri.path(), user_agent, outcome);
    }
}

/// A bound proxy: both ports are open, nothing is served until [`FaultProxy::serve`].
pub struct FaultProxy {
    listener: TcpListener,
    addr: SocketAddr,
    admin: TcpListener,
    url: String,
    admin_url: String,
    state: Arc<ProxyState>,
}

/// A proxy serving in the background ([`FaultProxy::spawn`]); dropping it stops it.
pub struct RunningProxy {
    url: String,
    admin_url: String,
    faults: Faults,
    _server: Background,
}

impl RunningProxy {
    /// The IMDS endpoint: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The admin API: `http://127.0.0.1:PORT`.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The proxy's rules (the same ones the admin API changes).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
}

impl FaultProxy {
    /// Opens both listening sockets.
    ///
    /// # Errors
    ///
    /// A non-loopback address or upstream, a bad upstream URL, or a port in use.
    pub async fn bind(config: ProxyConfig) -> Result<FaultProxy, Error> {
        let upstream = Upstream::parse(&config.upstream)?;
        let listener = net::bind("listen address", config.listen).await?;
        let admin = net::bind("admin listen address", config.admin_listen).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let admin_url = format!("http://{}", admin.local_addr()?);
        Ok(FaultProxy {
            listener,
            addr,
            admin,
            url,
            admin_url,
            state: Arc::new(ProxyState {
                faults: Faults::default(),
                upstream,
                upstream_timeout: config.upstream_timeout,
                max_hold: config.max_hold,
                stats: Mutex::new(ProxyStats::new()),
            }),
        })
    }

    /// The IMDS endpoint: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The admin API: `http://127.0.0.1:PORT`.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The proxy's rules (the same ones the admin API changes).
    pub fn faults(&self) -> Faults {
        self.state.faults.clone()
    }

    /// Serves both ports until `shutdown` completes; held requests are released then.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the listeners; connections already open finish on
    /// their own tasks, bounded by the hold limit.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) {
        let FaultProxy {
            listener,
            addr,
            admin,
            state,
            url,
            ..
        } = self;
        log_line(
            COMPONENT,
            format_args!("serving {url} in front of {}", state.upstream.addr()),
        );
        let (stop_tx, stop_rx) = watch::channel(false);
        let admin_state = state.clone();
        let admin_task = tokio::spawn(net::accept_loop(
            admin,
            move || {
                let state = admin_state.clone();
                service_fn(move |req| handle_admin(state.clone(), req))
            },
            net::stopped(stop_rx.clone()),
            "imds-fault-proxy admin",
        ));
        imds_accept_loop(state, listener, addr, shutdown, stop_rx).await;
        let _ = stop_tx.send(true);
        let _ = admin_task.await;
    }

    /// Binds and serves on a runtime of its own, until the returned value is dropped.
    ///
    /// # Errors
    ///
    /// As [`FaultProxy::bind`], or a runtime that cannot start.
    pub fn spawn(config: ProxyConfig) -> Result<RunningProxy, Error> {
        let runtime = Background::runtime()?;
        let proxy = runtime.block_on(FaultProxy::bind(config))?;
        let (url, admin_url, faults) = (proxy.url.clone(), proxy.admin_url.clone(), proxy.faults());
        let server = Background::run(runtime, move |stop| proxy.serve(net::stopped(stop)));
        Ok(RunningProxy {
            url,
            admin_url,
            faults,
            _server: server,
        })
    }
}

/// The IMDS port's accept loop. Unlike [`net::accept_loop`] it closes the listening
/// socket while a `refuse` outage is active and opens it again (same port) afterwards,
/// waking at each rule boundary and on each rule change to decide.
async fn imds_accept_loop(
    state: Arc<ProxyState>,
    listener: TcpListener,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()>,
    stop: watch::Receiver<bool>,
) {
    let mut listener = Some(listener);
    let mut changed = state.faults.0.changed.subscribe();
    tokio::pin!(shutdown);
    loop {
        let version = *changed.borrow_and_update();
        let now = Instant::now();
        if state.faults.listener_refused(now) {
            if listener.take().is_some() {
                log_line(COMPONENT, format_args!("outage: {addr} closed"));
            }
        } else if listener.is_none() {
            // The old socket is gone, and mio sets SO_REUSEADDR, so only another process
            // taking the port in between can make this fail: retry until it is free.
            match TcpListener::bind(addr).await {
                Ok(l) => {
                    log_line(COMPONENT, format_args!("outage over: {addr} open"));
                    listener = Some(l);
                }
                Err(e) => {
                    log_line(COMPONENT, format_args!("re-opening {addr}: {e}"));
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                    }
                }
            }
        }
        state.faults.0.applied.send_replace(version);
        let wake = state
            .faults
            .next_boundary(now)
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        let accept = async {
            match &listener {
                Some(l) => l.accept().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut shutdown => break,
            _ = changed.changed() => {}
            _ = tokio::time::sleep_until(wake) => {}
            accepted = accept => match accepted {
                Ok((stream, _)) => {
                    let conn_state = state.clone();
                    let conn_stop = stop.clone();
                    let svc = service_fn(move |req| {
                        handle_imds(conn_state.clone(), conn_stop.clone(), req)
                    });
                    tokio::spawn(net::serve_connection(stream, svc, stop.clone()));
                }
                Err(e) => {
                    log_line(COMPONENT, format_args!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Waits until `until` or until the proxy stops; true if it stopped.
async fn hold(until: Instant, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep_until(tokio::time::Instant::from_std(until)) => false,
        _ = net::stopped_ref(stop) => true,
    }
}

/// The error that makes hyper close a connection without answering.
fn no_answer(why: &str) -> NoAnswer {
    why.to_owned().into()
}

async fn handle_imds(
    state: Arc<ProxyState>,
    mut stop: watch::Receiver<bool>,
    req: Request<Incoming>,
) -> Result<Response<Body>, NoAnswer> {
    let (parts, body) = req.into_parts();
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let body = match net::read_body(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return Ok(net::text(StatusCode::PAYLOAD_TOO_LARGE, &e)),
    };
    let now = Instant::now();
    let (fault, end) = state.faults.decide(now, parts.uri.path());
    // Held requests never outlive their rule, nor the hold limit.
    let cap = now + state.max_hold;
    let hold_end = end.map_or(cap, |e| e.min(cap));
    let is_token_put = parts.method == Method::PUT && parts.uri.path() == "/latest/api/token";

    match fault {
        Fault::Throttle { retry_after } => {
            state.count(&parts, &user_agent, "throttled");
            let mut resp = net::text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests\n");
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(resp)
        }
        Fault::Unavailable { retry_after } => {
            state.count(&parts, &user_agent, "unavailable");
            let mut resp = net::text(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n");
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            Ok(resp)
        }
        Fault::Outage {
            style: OutageStyle::Refuse,
        } => {
            // A kept-alive connection that outlived the listener: close it unanswered.
            state.count(&parts, &user_agent, "refused");
            Err(no_answer("outage (refuse)"))
        }
        Fault::Outage {
            style: OutageStyle::Blackhole,
        } => {
            state.count(&parts, &user_agent, "blackholed");
            hold(hold_end, &mut stop).await;
            Err(no_answer("outage (blackhole)"))
        }
        Fault::DropTokenPut if is_token_put => {
            state.count(&parts, &user_agent, "dropped_token_put");
            hold(hold_end, &mut stop).await;
            Err(no_answer("token PUT dropped"))
        }
        Fault::Stall { delay } => {
            state.count(&parts, &user_agent, "stalled");
            let until = delay.map_or(hold_end, |d| now + d.min(state.max_hold));
            if hold(until, &mut stop).await {
                return Err(no_answer("stopping"));
            }
            forward(&state, &parts, body).await
        }
        Fault::Pass | Fault::DropTokenPut => {
            state.count(&parts, &user_agent, "forwarded");
            forward(&state, &parts, body).await
        }
    }
}

async fn forward(
    state: &ProxyState,
    parts: &http::request::Parts,
    body: Bytes,
) -> Result<Response<Body>, NoAnswer> {
    // AEMM's own `Date` is kept: the proxy stands in for nothing, IMDS is AEMM.
    match state
        .upstream
        .forward(parts, body, state.upstream_timeout, MAX_BODY)
        .await
    {
        Ok(resp) => Ok(resp),
        Err(e) => {
            state
                .stats
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .upstream_errors += 1;
            log_line(
                COMPONENT,
                format_args!("{} {}: {e}", parts.method, parts.uri.path()),
            );
            Ok(net::text(
                StatusCode::BAD_GATEWAY,
                &format!("imds-fault-proxy: {e}\n"),
            ))
        }
    }
}

async fn handle_admin(
    state: Arc<ProxyState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match net::read_body(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return net::always(net::text(StatusCode::PAYLOAD_TOO_LARGE, &e)),
    };
    let path = parts.uri.path();
    let resp = match (&parts.method, path) {
        (&Method::GET, "/health") => net::text(StatusCode::OK, "ok\n"),
        (&Method::POST, "/__fault") => {
            let resp = post_faults(&state.faults, &body);
            let version = *state.faults.0.changed.borrow();
            state.faults.applied(version, Duration::from_secs(1)).await;
            resp
        }
        (&Method::GET, "/__fault") => net::json(
            StatusCode::OK,
            &json!({"now": Utc::now().to_rfc3339(), "rules": state.faults.list()}),
        ),
        (&Method::DELETE, "/__fault") => {
            let version = state.faults.clear();
            state.faults.applied(version, Duration::from_secs(1)).await;
            log_line(COMPONENT, format_args!("rules cleared"));
            net::text(StatusCode::OK, "")
        }
        (&Method::DELETE, p) if p.starts_with("/__fault/") => {
            match p["/__fault/".len()..].parse::<u64>() {
                Ok(id) if state.faults.remove(id) => net::text(StatusCode::OK, ""),
                _ => net::text(StatusCode::NOT_FOUND, "no such rule\n"),
            }
        }
        (&Method::GET, "/__stats") => {
            let stats = state
                .stats
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            net::json(StatusCode::OK, &json!(stats))
        }
        (&Method::DELETE, "/__stats") => {
            *state.stats.lock().unwrap_or_else(PoisonError::into_inner) = ProxyStats::new();
            net::text(StatusCode::OK, "")
        }
        _ => net::text(
            StatusCode::NOT_FOUND,
            "imds-fault-proxy admin: GET /health, POST|GET|DELETE /__fault, DELETE /__fault/ID, GET|DELETE /__stats\n",
        ),
    };
    net::always(resp)
}

/// `POST /__fault`: one rule or an array; all are checked before any is added.
fn post_faults(faults: &Faults, body: &[u8]) -> Response<Body> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return net::text(StatusCode::BAD_REQUEST, &format!("bad JSON: {e}\n")),
    };
    let items = match value {
        Value::Array(items) => items,
        one => vec![one],
    };
    let now = SystemTime::now();
    let specs: Result<Vec<RuleSpec>, String> = items
        .iter()
        .enumerate()
        .map(|(i, v)| RuleSpec::from_json(v, now).map_err(|e| format!("rule {i}: {e}")))
        .collect();
    match specs {
        Err(e) => net::text(StatusCode::BAD_REQUEST, &format!("{e}\n")),
        Ok(specs) => {
            let ids: Vec<u64> = specs.into_iter().map(|s| faults.add(s)).collect();
            net::json(StatusCode::OK, &json!({"ids": ids}))
        }
    }
}

#[cfg(test)]
mod tests;
