//! RFC 3339 and HTTP-date conversions between text and `SystemTime`.

use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats a time as RFC 3339 in UTC with whole seconds, as AWS writes `Expiration`.
pub fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 timestamp such as `2026-11-23T20:00:00Z`.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| SystemTime::from(t.with_timezone(&Utc)))
}

/// Parses an HTTP `Date` header (IMF-fixdate and the obsolete forms).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn round_trips_rfc3339() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        assert_eq!(rfc3339(t), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_rfc3339("tomorrow"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
