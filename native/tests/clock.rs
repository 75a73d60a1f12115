//! Clock skew against chrony on loopback, and refresh timing on a host whose clock is wrong.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::fake_imds::{Creds, FakeImds};
use common::{config, wait_event, Chrony};
use freshcreds::internal::probe_ntp;
use freshcreds::{Engine, Event, OffsetClock, SkewClock, SkewSource, SystemClock};

#[test]
fn measures_a_known_offset_within_50_ms() {
    let chrony = Chrony::start(common::free_udp_port(), Some("+600s"));
    let clock = SkewClock::new(Arc::new(SystemClock));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let skew = runtime
        .block_on(probe_ntp(std::slice::from_ref(&chrony.server), &clock))
        .expect("NTP answer");
    assert!(
        (skew - 600_000).abs() <= 50,
        "measured {skew} ms, expected 600000 ± 50"
    );
    assert_eq!(clock.source(), SkewSource::Ntp);
}

#[test]
fn an_unanswered_server_is_skipped_for_the_next() {
    let chrony = Chrony::start(common::free_udp_port(), None);
    let clock = SkewClock::new(Arc::new(SystemClock));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let servers = ["127.0.0.1:9".to_owned(), chrony.server.clone()];
    let skew = runtime
        .block_on(probe_ntp(&servers, &clock))
        .expect("second server answers");
    assert!(skew.abs() <= 50, "{skew}");
}

#[test]
fn a_host_ten_minutes_slow_still_refreshes_before_the_true_expiry() {
    // chrony tells true time; the engine's wall clock is 10 minutes slow.
    let chrony = Chrony::start(common::free_udp_port(), None);
    // 16 s credentials with 8 s left (true time): due for refresh now on the true clock,
    // but 608 s away from expiry on the slow clock.
    let mut creds = Creds::numbered(1, Duration::from_secs(8));
    creds.last_updated = SystemTime::now() - Duration::from_secs(8);
    let true_expiry = creds.expiration;
    let fake = FakeImds::start(creds);
    let engine = Engine::builder(config(&fake.url, Some(&chrony.server)))
        .wall_clock(Arc::new(OffsetClock::new(-600_000)))
        .start()
        .unwrap();
    let mut events = engine.subscribe();
    let first = engine.credentials_blocking(Duration::from_secs(5)).unwrap();
    assert_eq!(first.seq, 1);
    assert!(common::wait_until(Duration::from_secs(5), || engine
        .health()
        .skew_source
        == SkewSource::Ntp));
    let skew = engine.health().skew_ms;
    assert!((skew - 600_000).abs() <= 50, "skew {skew} ms");

    // IMDS publishes the next set; the refresher must take it before the true expiry.
    fake.with(|s| s.creds = Creds::numbered(2, Duration::from_secs(3600)));
    wait_event(&mut events, Duration::from_secs(8), |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
    assert!(
        SystemTime::now() < true_expiry,
        "refreshed after the true expiry"
    );
    let next = engine.health().next_refresh.expect("next refresh planned");
    // Planned on the corrected clock: about 45 min from true now, not 10 minutes off.
    let ahead = next.duration_since(SystemTime::now()).unwrap();
    assert!(
        ahead > Duration::from_secs(2600) && ahead < Duration::from_secs(2710),
        "{ahead:?}"
    );
}

#[test]
fn imds_date_headers_correct_the_clock_when_ntp_is_unreachable() {
    let fake = FakeImds::start(Creds::numbered(1, Duration::from_secs(3600)));
    let engine = Engine::builder(config(&fake.url, Some("127.0.0.1:9")))
        .wall_clock(Arc::new(OffsetClock::new(-600_000)))
        .start()
        .unwrap();
    engine.credentials_blocking(Duration::from_secs(5)).unwrap();
    let health = engine.health();
    assert_eq!(health.skew_source, SkewSource::DateHeader);
    assert!(
        (health.skew_ms - 600_000).abs() <= 1_500,
        "coarse skew {} ms",
        health.skew_ms
    );
}
