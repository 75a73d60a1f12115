//! `cli-cache.expired`: expired credentials in the AWS CLI's cache (`~/.aws/cli/cache`).
//!
//! The CLI caches assumed-role (and SSO role) credentials there as JSON with
//! `Credentials.Expiration`, and reuses an entry until *its* clock says it has expired. An
//! entry expired on the corrected clock but not yet on the local one is what a slow host
//! clock makes the CLI send: `ExpiredToken`. That fails the check. Entries expired on both
//! clocks are only stale (the CLI replaces them) and warn. `--fix` deletes exactly the
//! entries expired on the corrected clock: regular `*.json` files directly in the cache
//! directory, never a symlink, never anything it cannot parse.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde::Deserialize;

use super::{human, Check, Ctx};
use crate::secret::abbreviate_key_id;
use crate::time_fmt::{parse_rfc3339, rfc3339};

/// The check's id.
pub(crate) const ID: &str = "cli-cache.expired";

const CACHE_DIR: &str = ".aws/cli/cache";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    credentials: Option<EntryCredentials>,
}

/// Only the fields the report shows; the secret and token are skipped by serde unread.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EntryCredentials {
    access_key_id: Option<String>,
    expiration: Option<String>,
}

struct Expired {
    path: PathBuf,
    key: String,
    expiration: SystemTime,
    /// Still valid by the local clock: the CLI would send it.
    locally_valid: bool,
}

pub(crate) async fn run(ctx: Arc<Ctx>) {
    let Some(dir) = ctx.home_path(CACHE_DIR) else {
        ctx.sink
            .put(Check::skip(ID, "no home directory (HOME is not set)"));
        return;
    };
    ctx.clock_measured().await;
    let local_now = ctx.clock.local_now();
    let now = ctx.clock.corrected_now();
    ctx.sink.put(check(&dir, now, local_now, ctx.fix));
}

fn check(dir: &Path, now: SystemTime, local_now: SystemTime, fix: bool) -> Check {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Check::pass(
                ID,
                format!("no CLI cache ({} does not exist)", dir.display()),
            )
        }
        Err(e) => {
            return Check::warn(
                ID,
                format!("cannot read {}: {e}", dir.display()),
                format!("check the permissions of {}", dir.display()),
            )
        }
    };
    let mut total = 0;
    let mut unparsed = 0;
    let mut expired = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        // symlink_metadata: a symlink is neither judged nor ever deleted.
        let is_json_file = path.extension().is_some_and(|e| e == "json")
            && std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
        if !is_json_file {
            continue;
        }
        total += 1;
        let parsed = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).ok())
            .and_then(|e| e.credentials)
            .and_then(|c| Some((c.access_key_id, parse_expiration(c.expiration.as_deref()?)?)));
        let Some((key, expiration)) = parsed else {
            unparsed += 1;
            continue;
        };
        if expiration <= now {
            expired.push(Expired {
                path,
                key: key
                    .map(|k| abbreviate_key_id(&k))
                    .unwrap_or_else(|| "?".into()),
                expiration,
                locally_valid: expiration > local_now,
            });
        }
    }
    expired.sort_by_key(|e| e.expiration);
    let unparsed_note = if unparsed > 0 {
        format!(" ({unparsed} not credential entries, left alone)")
    } else {
        String::new()
    };
    if expired.is_empty() {
        return Check::pass(
            ID,
            format!(
                "{total} entries in {}, none expired{unparsed_note}",
                dir.display()
            ),
        );
    }
    let describe = |e: &Expired| {
        format!(
            "{} (key {}, expired {} ago at {})",
            e.path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            e.key,
            human(now.duration_since(e.expiration).unwrap_or_default()),
            rfc3339(e.expiration)
        )
    };
    if fix {
        let mut removed = Vec::new();
        let mut failed = Vec::new();
        for e in &expired {
            match std::fs::remove_file(&e.path) {
                Ok(()) => removed.push(describe(e)),
                Err(err) => failed.push(format!("{}: {err}", e.path.display())),
            }
        }
        if failed.is_empty() {
            return Check::pass(
                ID,
                format!(
                    "removed {} expired entries from {}: {}; {} left{unparsed_note}",
                    removed.len(),
                    dir.display(),
                    removed.join(", "),
                    total - removed.len()
                ),
            );
        }
        return Check::fail(
            ID,
            format!("could not remove {}", failed.join(", ")),
            format!("remove them by hand: rm {}", expired_paths(&expired)),
        );
    }
    let list: Vec<String> = expired.iter().map(describe).collect();
    let fix = format!(
        "freshcreds doctor --fix   # removes only the expired entries; or: rm {}",
        expired_paths(&expired)
    );
    let in_use = expired.iter().filter(|e| e.locally_valid).count();
    if in_use > 0 {
        Check::fail(
            ID,
            format!(
                "{} of {total} entries in {} expired, {in_use} of them still valid by the host clock, so the AWS CLI sends them and gets ExpiredToken: {}{unparsed_note}",
                expired.len(),
                dir.display(),
                list.join(", ")
            ),
            format!("{fix}; and fix the host clock (see clock.skew)"),
        )
    } else {
        Check::warn(
            ID,
            format!(
                "{} of {total} entries in {} expired: {}{unparsed_note}",
                expired.len(),
                dir.display(),
                list.join(", ")
            ),
            fix,
        )
    }
}

/// botocore writes cached datetimes with `strftime('%Y-%m-%dT%H:%M:%S%Z')`, which gives
/// `2026-11-23T13:00:00UTC`; other writers use RFC 3339 (`Z` or `+00:00`). Both are read.
fn parse_expiration(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    match text
        .strip_suffix("UTC")
        .or_else(|| text.strip_suffix("GMT"))
    {
        Some(base) => parse_rfc3339(&format!("{base}Z")),
        None => parse_rfc3339(text),
    }
}

fn expired_paths(expired: &[Expired]) -> String {
    expired
        .iter()
        .map(|e| format!("'{}'", e.path.display()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_botocore_and_rfc3339_expirations() {
        let want = parse_rfc3339("2026-11-23T13:00:00Z");
        assert!(want.is_some());
        assert_eq!(parse_expiration("2026-11-23T13:00:00UTC"), want);
        assert_eq!(parse_expiration("2026-11-23T13:00:00+00:00"), want);
        assert_eq!(parse_expiration("2026-11-23T14:00:00+01:00"), want);
        assert_eq!(parse_expiration("soon"), None);
    }
}
