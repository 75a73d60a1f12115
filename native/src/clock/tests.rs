use super::*;

fn clock_with_offset(ms: i64) -> (Arc<OffsetClock>, SkewClock) {
    let wall = Arc::new(OffsetClock::new(ms));
    let clock = SkewClock::new(wall.clone());
    (wall, clock)
}

#[test]
fn ntp_offset_is_rebased_on_an_injected_wall_clock() {
    // Host 10 minutes slow; the NTP server agrees with the system clock (offset 0).
    let (_wall, clock) = clock_with_offset(-600_000);
    clock.record_ntp(Duration::ZERO, false);
    assert!(
        (clock.skew_ms() - 600_000).abs() < 50,
        "skew {}",
        clock.skew_ms()
    );
    let err = millis_between(clock.corrected_now(), SystemTime::now());
    assert!(err.abs() < 50, "corrected clock off by {err} ms");
    assert_eq!(clock.source(), SkewSource::Ntp);
}

#[test]
fn date_header_sets_a_coarse_skew_until_ntp_answers() {
    let (_wall, clock) = clock_with_offset(0);
    let now = SystemTime::now();
    clock.observe_date_header(now + Duration::from_secs(30), now, now);
    assert!(
        (clock.skew_ms() - 30_500).abs() < 100,
        "skew {}",
        clock.skew_ms()
    );
    assert_eq!(clock.source(), SkewSource::DateHeader);

    clock.record_ntp(Duration::from_millis(20), true);
    clock.observe_date_header(now + Duration::from_secs(90), now, now);
    assert!(
        (clock.skew_ms() + 20).abs() < 5,
        "NTP must win: {}",
        clock.skew_ms()
    );
}

#[test]
fn date_header_within_its_resolution_says_nothing() {
    let (_wall, clock) = clock_with_offset(0);
    let now = SystemTime::now();
    clock.observe_date_header(now, now, now + Duration::from_millis(10));
    assert_eq!(clock.skew_ms(), 0);
    assert_eq!(clock.source(), SkewSource::None);
}

#[test]
fn a_wall_clock_jump_keeps_corrected_time_continuous() {
    let (wall, clock) = clock_with_offset(0);
    clock.record_ntp(Duration::ZERO, false);
    assert!(!clock.check_jump());
    wall.set_offset_ms(-3_600_000);
    assert!(clock.check_jump(), "an hour's jump must be seen");
    let err = millis_between(clock.corrected_now(), SystemTime::now());
    assert!(err.abs() < 100, "corrected clock moved by {err} ms");
}

#[test]
fn shift_and_millis_between_are_inverse() {
    let t = SystemTime::now();
    assert_eq!(millis_between(shift(t, -1234), t), -1234);
    assert_eq!(millis_between(shift(t, 99), t), 99);
}
