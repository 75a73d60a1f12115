//! `freshcreds doctor`: the checks an AWS support engineer walks through when an app or the
//! AWS CLI fails with `ExpiredToken`, each with a status, a one-line finding and a fix.
//!
//! **Not a stable API**: the `freshcreds` binary is its only user.
//!
//! # Checks
//! | id | group | what it looks at |
//! | --- | --- | --- |
//! | `clock.skew` | clock | SNTP offset (server − local) and whether an NTP client runs |
//! | `env.credentials` | env | `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` |
//! | `profile.static-session-token` | profile | `aws_session_token` pasted into a profile |
//! | `profile.role-chain` | profile | `role_arn` without a usable, acyclic source |
//! | `cli-cache.expired` | cli cache | expired entries in `~/.aws/cli/cache` (`--fix` removes them) |
//! | `imds.reachable`, `imds.token`, `imds.proxy`, `imds.role`, `imds.credentials` | imds | the instance profile, through the engine's IMDS client |
//! | `sts.identity` | sts | `GetCallerIdentity` with the credentials the SDK chain resolves |
//!
//! # Concurrency and the deadline
//! Each group runs as its own task on one current-thread runtime, all under one deadline.
//! A group records a *provisional* finding before each step that can block (what to say if
//! the deadline cuts it there) and a final one once decided, so a group cut off still
//! reports what it knew: off EC2, with nothing answering, the report says so within the
//! deadline instead of hanging. Groups that depend on another wait for it through channels:
//! expiry judgements wait for the clock probe (they use the corrected clock), and
//! `sts.identity` waits for the instance-profile credentials when those are what the chain
//! resolves to.

mod cli_cache;
mod clock;
mod env;
mod imds;
mod profile;
mod sts;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{oneshot, watch};

use crate::clock::{SkewClock, SystemClock, WallClock};
use crate::config::{Config, Inputs};
use crate::error::{Error, Result};

/// Every check, in report order.
pub const CHECK_IDS: [&str; 11] = [
    clock::ID,
    env::ID,
    profile::STATIC_TOKEN_ID,
    profile::ROLE_CHAIN_ID,
    cli_cache::ID,
    imds::REACHABLE_ID,
    imds::TOKEN_ID,
    imds::PROXY_ID,
    imds::ROLE_ID,
    imds::CREDENTIALS_ID,
    sts::ID,
];

/// The whole run's deadline unless `--deadline` says otherwise. Leaves a margin under the
/// 5 s promised for a host where nothing answers (process start, report, exit).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(4);

/// Environment variable naming the directory scanned for NTP client processes (default
/// `/proc`). For tests, which need a host with and without `chronyd` on demand.
pub const PROC_DIR_ENV: &str = "FRESHCREDS_DOCTOR_PROC";

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing wrong.
    Pass,
    /// Works, but is a risk or wastes time; exit status stays 0.
    Warn,
    /// A cause of failing or expiring credentials; exit status 1.
    Fail,
    /// Not applicable here, or could not be judged because something it needs failed.
    Skip,
}

impl Status {
    /// `pass`, `warn`, `fail` or `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Stable id, e.g. `imds.token`.
    pub id: &'static str,
    /// The verdict.
    pub status: Status,
    /// The finding, one line. Never a secret; access key ids only abbreviated.
    pub summary: String,
    /// What to do, for warnings and failures (may span lines, e.g. a config snippet).
    pub fix: Option<String>,
}

impl Check {
    pub(crate) fn new(id: &'static str, status: Status, summary: impl Into<String>) -> Self {
        Check {
            id,
            status,
            summary: summary.into(),
            fix: None,
        }
    }

    pub(crate) fn pass(id: &'static str, summary: impl Into<String>) -> Self {
        Check::new(id, Status::Pass, summary)
    }

    pub(crate) fn skip(id: &'static str, summary: impl Into<String>) -> Self {
        Check::new(id, Status::Skip, summary)
    }

    pub(crate) fn warn(
        id: &'static str,
        summary: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check::new(id, Status::Warn, summary).with_fix(fix)
    }

    pub(crate) fn fail(
        id: &'static str,
        summary: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check::new(id, Status::Fail, summary).with_fix(fix)
    }

    pub(crate) fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// What to run the checks on.
#[derive(Debug, Clone)]
pub struct Options {
    /// The resolved settings (flags already applied): IMDS endpoint, NTP servers, ….
    pub config: Config,
    /// The environment and home directory the checks inspect (`~/.aws`, `AWS_*`, proxies).
    pub inputs: Inputs,
    /// Everything finishes within this.
    pub deadline: Duration,
    /// Remove expired CLI cache entries (and nothing else).
    pub fix: bool,
}

impl Options {
    /// Checks of this process's environment with `config`, default deadline, no `--fix`.
    pub fn new(config: Config, inputs: Inputs) -> Self {
        Options {
            config,
            inputs,
            deadline: DEFAULT_DEADLINE,
            fix: false,
        }
    }
}

/// All checks, in [`CHECK_IDS`] order.
#[derive(Debug, Clone)]
pub struct Report {
    /// One entry per id.
    pub checks: Vec<Check>,
    /// Wall time the checks took.
    pub elapsed: Duration,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    checks: Vec<JsonCheck<'a>>,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonCheck<'a> {
    id: &'a str,
    status: Status,
    summary: &'a str,
    /// Empty when there is nothing to do.
    fix: &'a str,
}

impl Report {
    /// 1 if any check failed, else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.checks.iter().any(|c| c.status == Status::Fail))
    }

    /// The check with `id`, if it ran.
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// `{"checks":[{"id","status","summary","fix"}],"version"}`; `fix` is `""` when there
    /// is nothing to do.
    pub fn to_json(&self) -> String {
        let report = JsonReport {
            checks: self
                .checks
                .iter()
                .map(|c| JsonCheck {
                    id: c.id,
                    status: c.status,
                    summary: &c.summary,
                    fix: c.fix.as_deref().unwrap_or(""),
                })
                .collect(),
            version: env!("CARGO_PKG_VERSION"),
        };
        // Serializing plain strings and enums cannot fail; the fallback keeps stdout JSON.
        serde_json::to_string_pretty(&report)
            .unwrap_or_else(|e| format!(r#"{{"checks":[],"error":"{e}"}}"#))
    }

    /// One line per check, marked, with the fix under each warning and failure, then a
    /// count. The count line is worded so that CI log scanners do not take it for a test
    /// runner's closing line.
    pub fn render(&self) -> String {
        let width = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        let mut out = format!(
            "freshcreds doctor {} ({} checks in {:.1} s)\n",
            env!("CARGO_PKG_VERSION"),
            self.checks.len(),
            self.elapsed.as_secs_f64()
        );
        for c in &self.checks {
            let mark = match c.status {
                Status::Pass => "[pass]",
                Status::Warn => "[WARN]",
                Status::Fail => "[FAIL]",
                Status::Skip => "[skip]",
            };
            out.push_str(&format!("{mark} {:<width$}  {}\n", c.id, c.summary));
            if let (Some(fix), Status::Warn | Status::Fail) = (&c.fix, c.status) {
                let mut lines = fix.lines();
                if let Some(first) = lines.next() {
                    out.push_str(&format!("       fix: {first}\n"));
                }
                for line in lines {
                    out.push_str(&format!("            {line}\n"));
                }
            }
        }
        let count = |s: Status| self.checks.iter().filter(|c| c.status == s).count();
        out.push_str(&format!(
            "verdict: {} — fail {}, warn {}, pass {}, skip {}\n",
            if count(Status::Fail) > 0 {
                "problems found"
            } else {
                "no failures"
            },
            count(Status::Fail),
            count(Status::Warn),
            count(Status::Pass),
            count(Status::Skip)
        ));
        out
    }
}

/// Runs every check concurrently and returns the report within `options.deadline` (plus a
/// few milliseconds of bookkeeping).
///
/// # Errors
/// Only when the async runtime cannot be created; every check's own trouble is a finding.
pub fn run(options: Options) -> Result<Report> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Unreachable(format!("cannot start the doctor's runtime: {e}")))?;
    let report = runtime.block_on(run_async(options));
    // Tasks cut off by the deadline may still hold sockets in connect; do not wait for them.
    runtime.shutdown_background();
    Ok(report)
}

/// Findings so far: the final ones, and what to say for a check cut off where it is.
#[derive(Default)]
pub(crate) struct Sink {
    fin: Mutex<HashMap<&'static str, Check>>,
    provisional: Mutex<HashMap<&'static str, Check>>,
}

impl Sink {
    /// Records the final finding for `check.id`.
    pub(crate) fn put(&self, check: Check) {
        let mut fin = self.fin.lock().unwrap_or_else(|e| e.into_inner());
        fin.insert(check.id, check);
    }

    /// Records what to report for `check.id` if the deadline comes before a final finding.
    pub(crate) fn provisional(&self, check: Check) {
        let mut p = self.provisional.lock().unwrap_or_else(|e| e.into_inner());
        p.insert(check.id, check);
    }

    fn take(&self, deadline: Duration) -> Vec<Check> {
        let fin = self.fin.lock().unwrap_or_else(|e| e.into_inner());
        let provisional = self.provisional.lock().unwrap_or_else(|e| e.into_inner());
        CHECK_IDS
            .iter()
            .map(|id| {
                fin.get(id).or_else(|| provisional.get(id)).cloned().unwrap_or_else(|| {
                    Check::fail(
                        id,
                        format!(
                            "did not finish within the {:.1} s deadline",
                            deadline.as_secs_f64()
                        ),
                        "run again with a longer --deadline, or with FRESHCREDS_LOG=debug to see where it waits",
                    )
                })
            })
            .collect()
    }
}

/// What every check group shares.
pub(crate) struct Ctx {
    pub(crate) config: Config,
    pub(crate) env: HashMap<String, String>,
    pub(crate) home: Option<PathBuf>,
    pub(crate) fix: bool,
    /// The whole run's deadline, for findings that say what did not answer within it.
    pub(crate) deadline: Duration,
    /// The corrected clock: the clock group records the NTP skew in it, the IMDS client
    /// records `Date` headers, and expiry judgements read it.
    pub(crate) clock: Arc<SkewClock>,
    /// Becomes true when the clock group has its answer (or gave up).
    clock_done: watch::Receiver<bool>,
    pub(crate) sink: Sink,
}

impl Ctx {
    /// A non-empty environment variable.
    pub(crate) fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Waits until the clock probe has finished, so that the corrected clock holds the
    /// measured skew. The deadline bounds this like everything else.
    pub(crate) async fn clock_measured(&self) {
        let mut rx = self.clock_done.clone();
        // An error means the clock task ended without saying so: nothing more to wait for.
        let _ = rx.wait_for(|done| *done).await;
    }

    /// A path relative to the home directory, if there is one.
    pub(crate) fn home_path(&self, rel: &str) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(rel))
    }

    /// A path from an environment variable (with `~/` expanded), else `default` under home.
    pub(crate) fn file_from_env(&self, var: &str, default: &str) -> Option<PathBuf> {
        match self.var(var) {
            Some(p) => match (p.strip_prefix("~/"), &self.home) {
                (Some(rest), Some(home)) => Some(home.join(rest)),
                _ => Some(PathBuf::from(p)),
            },
            None => self.home_path(default),
        }
    }
}

async fn run_async(options: Options) -> Report {
    let started = tokio::time::Instant::now();
    let deadline = started + options.deadline;
    let (clock_tx, clock_rx) = watch::channel(false);
    let wall: Arc<dyn WallClock> = Arc::new(SystemClock);
    let ctx = Arc::new(Ctx {
        config: options.config,
        env: options.inputs.env,
        home: options.inputs.home,
        fix: options.fix,
        deadline: options.deadline,
        clock: Arc::new(SkewClock::new(wall)),
        clock_done: clock_rx,
        sink: Sink::default(),
    });
    let (imds_tx, imds_rx) = oneshot::channel();
    let mut tasks = vec![
        tokio::spawn(clock::run(ctx.clone(), clock_tx)),
        tokio::spawn(env::run(ctx.clone())),
        tokio::spawn(profile::run(ctx.clone())),
        tokio::spawn(cli_cache::run(ctx.clone())),
        tokio::spawn(imds::run(ctx.clone(), imds_tx)),
        tokio::spawn(sts::run(ctx.clone(), imds_rx)),
    ];
    for task in tasks.iter_mut() {
        // A panicking check is reported as unfinished by `take`, not propagated.
        let _ = tokio::time::timeout_at(deadline, task).await;
    }
    for task in &tasks {
        task.abort();
    }
    Report {
        checks: ctx.sink.take(options.deadline),
        elapsed: started.elapsed(),
    }
}

/// `d` rounded to whole seconds and written like `1h 2m 3s` (`0s` below one second).
pub(crate) fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// Signed seconds with millisecond precision, e.g. `+600.000 s`.
pub(crate) fn signed_secs(ms: i64) -> String {
    format!("{:+.3} s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests;
