//! `clock.skew`: the host clock against NTP, and whether an NTP client keeps it right.
//!
//! Skew is server time − local time (the engine's convention): +600 s means the host is
//! 10 minutes slow. AWS rejects signatures beyond 5 minutes, and an SDK judging expiry by a
//! slow clock uses credentials after they have ended, hence warn at 1 s and fail at 4 min
//! (the engine's [`WARN_SKEW`] and [`ERROR_SKEW`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{signed_secs, Check, Ctx, PROC_DIR_ENV};
use crate::clock::{probe_ntp, ERROR_SKEW, SNTP_TIMEOUT, WARN_SKEW};
use crate::config::AMAZON_TIME_SYNC;

/// The check's id.
pub(crate) const ID: &str = "clock.skew";

/// Process names (`/proc/PID/comm`, at most 15 characters) of NTP clients.
const NTP_CLIENTS: &[(&str, &str)] = &[
    ("chronyd", "chronyd"),
    ("ntpd", "ntpd"),
    ("openntpd", "openntpd"),
    ("systemd-timesyn", "systemd-timesyncd"),
    ("timesyncd", "timesyncd"),
];

pub(crate) async fn run(ctx: Arc<Ctx>, done: watch::Sender<bool>) {
    let clients = ntp_clients(&proc_dir(&ctx));
    let running = describe_clients(&clients);
    let servers = ctx.config.ntp_servers.clone();
    if servers.is_empty() {
        ctx.sink.put(Check::skip(
            ID,
            format!("NTP probe turned off (ntp.servers = off); {running}"),
        ));
        let _ = done.send(true);
        return;
    }
    ctx.sink.provisional(no_answer(&servers, &running, None));
    let mut last_error = None;
    for server in &servers {
        match probe_ntp(std::slice::from_ref(server), &ctx.clock).await {
            Ok(skew_ms) => {
                // Recorded before the clock is released to the checks that judge expiry.
                ctx.sink
                    .put(judge(skew_ms, server, &running, clients.is_empty()));
                let _ = done.send(true);
                return;
            }
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    ctx.sink
        .put(no_answer(&servers, &running, last_error.as_deref()));
    let _ = done.send(true);
}

fn judge(skew_ms: i64, server: &str, running: &str, none_running: bool) -> Check {
    let abs = Duration::from_millis(skew_ms.unsigned_abs());
    let direction = if skew_ms > 0 { "slow" } else { "fast" };
    let summary = format!(
        "host clock is {} off NTP {server} (server − local; the host is {direction}); {running}",
        signed_secs(skew_ms)
    );
    if abs < WARN_SKEW {
        return Check::pass(
            ID,
            format!(
                "host clock is within {} ms of NTP {server}; {running}",
                abs.as_millis()
            ),
        );
    }
    let fix = sync_fix(none_running);
    if abs >= ERROR_SKEW {
        Check::fail(
            ID,
            format!("{summary}: AWS rejects signatures beyond 5 minutes, and SDKs judge expiry by this clock"),
            fix,
        )
    } else {
        Check::warn(ID, summary, fix)
    }
}

fn no_answer(servers: &[String], running: &str, error: Option<&str>) -> Check {
    let on_ec2_hint = if servers.iter().any(|s| s == AMAZON_TIME_SYNC) {
        " (not on EC2, or UDP to Amazon Time Sync is blocked)"
    } else {
        ""
    };
    let detail = error.map(|e| format!(": {e}")).unwrap_or_default();
    Check::warn(
        ID,
        format!(
            "no NTP answer from {} within {} s{on_ec2_hint}, skew unknown{detail}; {running}",
            servers.join(", "),
            SNTP_TIMEOUT.as_secs()
        ),
        format!(
            "name a reachable NTP server: freshcreds doctor --ntp-server HOST[:PORT] (on EC2, Amazon Time Sync answers at {AMAZON_TIME_SYNC})"
        ),
    )
}

fn sync_fix(none_running: bool) -> String {
    let install = if none_running {
        "install chrony (Amazon Linux: sudo dnf install -y chrony; Debian/Ubuntu: sudo apt-get install -y chrony), then "
    } else {
        ""
    };
    format!(
        "{install}point it at Amazon Time Sync: add `server {AMAZON_TIME_SYNC} prefer iburst minpoll 4 maxpoll 4` to /etc/chrony.conf, run `sudo systemctl restart chronyd && sudo chronyc makestep`, and check with `chronyc tracking`"
    )
}

fn proc_dir(ctx: &Ctx) -> PathBuf {
    ctx.var(PROC_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/proc"))
}

/// NTP clients running, as (name, pid), found by each process's `comm`.
fn ntp_clients(proc: &Path) -> Vec<(&'static str, u32)> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) else {
            continue;
        };
        if let Some((_, name)) = NTP_CLIENTS.iter().find(|(c, _)| *c == comm.trim()) {
            found.push((*name, pid));
        }
    }
    found.sort();
    found
}

fn describe_clients(clients: &[(&str, u32)]) -> String {
    match clients {
        [] => "no NTP client is running (looked for chronyd, ntpd, openntpd, systemd-timesyncd; in a container, the host's keeps time)".into(),
        _ => {
            let list: Vec<String> = clients
                .iter()
                .map(|(name, pid)| format!("{name} (pid {pid})"))
                .collect();
            format!("NTP client running: {}", list.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_engine() {
        assert_eq!(
            judge(999, "s", "", false).status,
            super::super::Status::Pass
        );
        assert_eq!(
            judge(-1_000, "s", "", false).status,
            super::super::Status::Warn
        );
        let fail = judge(240_000, "s", "", true);
        assert_eq!(fail.status, super::super::Status::Fail);
        assert!(fail.summary.contains("+240.000 s"), "{}", fail.summary);
        assert!(fail.fix.unwrap().contains("install chrony"));
    }

    #[test]
    fn finds_ntp_clients_by_comm() {
        let dir = std::env::temp_dir().join(format!("fc-proc-{}", std::process::id()));
        for (pid, comm) in [("12", "chronyd\n"), ("13", "bash\n"), ("self", "x\n")] {
            std::fs::create_dir_all(dir.join(pid)).unwrap();
            std::fs::write(dir.join(pid).join("comm"), comm).unwrap();
        }
        assert_eq!(ntp_clients(&dir), vec![("chronyd", 12)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
