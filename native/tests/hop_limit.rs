//! The container hop-limit symptom: the token PUT never answers while a plain GET does.
//! Its own test binary, because it counts lines in the process-wide log capture.

mod common;

use std::time::Duration;

use common::fake_imds::{Creds, FakeImds, TokenReply};
use common::{engine, wait_event, LogCapture};
use freshcreds::{Event, ImdsVersion};

const HOUR: Duration = Duration::from_secs(3600);

fn diagnoses(log: &str, url: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("container hop-limit symptom") && l.contains(url))
        .count()
}

#[test]
fn v1_allowed_falls_back_with_exactly_one_diagnosis_and_remembers_it() {
    let log = LogCapture::global();
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    fake.with(|s| {
        s.token_reply = TokenReply::Hang;
        s.require_token = false;
    });
    let engine = engine(&fake.url);
    let first = engine
        .credentials_blocking(Duration::from_secs(15))
        .expect("v1 fallback");
    assert_eq!(first.credentials.access_key_id(), "ASIAFAKE000000000001");
    assert_eq!(engine.health().imds_version, ImdsVersion::V1);
    let puts = fake.with(|s| s.token_puts());
    assert_eq!(
        puts, 2,
        "one PUT per configured attempt, then the diagnosis"
    );

    // Later refreshes reuse the decision: no PUT timeout paid again, no second diagnosis.
    for n in 2..=3 {
        fake.with(|s| s.creds = Creds::numbered(n, HOUR));
        let mut events = engine.subscribe();
        engine.invalidate();
        wait_event(&mut events, Duration::from_secs(10), |e| {
            matches!(e, Event::Refreshed { .. })
        });
    }
    assert_eq!(fake.with(|s| s.token_puts()), puts);
    let text = log.text();
    assert_eq!(diagnoses(&text, &fake.url), 1, "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("container hop-limit symptom") && l.contains(&fake.url))
        .unwrap();
    assert!(
        line.contains("--instance-id i-0123456789abcdef0 --http-put-response-hop-limit 2 --http-endpoint enabled"),
        "the fix names the instance: {line}"
    );
}

#[test]
fn v2_required_gives_the_diagnosis_and_a_clear_failure_without_v1() {
    let log = LogCapture::global();
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    fake.with(|s| s.token_reply = TokenReply::Hang); // the GET answers 401: IMDSv2 required
    let engine = engine(&fake.url);
    let mut events = engine.subscribe();
    let err = engine
        .credentials_blocking(Duration::from_secs(15))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hop limit") && err.contains("--http-put-response-hop-limit 2"),
        "{err}"
    );
    assert!(err.contains("HTTP 401"), "{err}");
    assert_eq!(
        fake.with(|s| s.tokenless_creds_reads),
        0,
        "no v1 credentials read"
    );
    // Retried later, still one diagnosis in the log.
    wait_event(&mut events, Duration::from_secs(30), |e| {
        matches!(e, Event::RefreshFailed { .. })
    });
    wait_event(&mut events, Duration::from_secs(30), |e| {
        matches!(e, Event::RefreshFailed { .. })
    });
    assert_eq!(diagnoses(&log.text(), &fake.url), 1);
    assert!(engine.snapshot().is_none());
}
