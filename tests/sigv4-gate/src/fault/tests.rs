use super::*;

fn spec(v: Value) -> Result<RuleSpec, String> {
    RuleSpec::from_json(&v, SystemTime::now())
}

#[test]
fn rules_parse_with_defaults_and_name_the_bad_field() {
    let r = spec(json!({"mode": "throttle"})).unwrap();
    assert_eq!(r.fault, Fault::Throttle { retry_after: 1 });
    assert!(r.until.is_none() && r.path_prefix.is_none());
    let r = spec(json!({"mode": "outage"})).unwrap();
    assert_eq!(
        r.fault,
        Fault::Outage {
            style: OutageStyle::Refuse
        }
    );
    let r = spec(json!({"mode": "stall", "delay_ms": 250, "for_ms": 1000})).unwrap();
    assert_eq!(
        r.fault,
        Fault::Stall {
            delay: Some(Duration::from_millis(250))
        }
    );
    assert_eq!(
        r.until.unwrap().duration_since(r.from).unwrap(),
        Duration::from_millis(1000)
    );
    let r =
        spec(json!({"mode": "pass", "from": "2999-01-01T00:00:00Z", "until": 32503680001.0_f64}))
            .unwrap();
    assert!(r.from > SystemTime::now());

    for (bad, words) in [
        (json!({"retry_after": 1}), "\"mode\" is required"),
        (json!({"mode": "slow"}), "unknown mode 'slow'"),
        (
            json!({"mode": "throttle", "retry": 1}),
            "unknown field \"retry\"",
        ),
        (
            json!({"mode": "throttle", "retry_after": -1}),
            "\"retry_after\" must be",
        ),
        (
            json!({"mode": "outage", "style": "quiet"}),
            "neither refuse nor blackhole",
        ),
        (
            json!({"mode": "pass", "from": "yesterday"}),
            "not an RFC 3339 time",
        ),
        (
            json!({"mode": "pass", "after_ms": 1, "from": 1}),
            "not both",
        ),
        (
            json!({"mode": "pass", "until": "2000-01-01T00:00:00Z"}),
            "before it starts",
        ),
        (
            json!({"mode": "pass", "from": 1, "until": 2}),
            "already over",
        ),
        (
            json!({"mode": "pass", "path_prefix": "latest"}),
            "starting with '/'",
        ),
        (
            json!({"mode": "outage", "path_prefix": "/latest"}),
            "closes the whole port",
        ),
    ] {
        let err = spec(bad.clone()).unwrap_err();
        assert!(err.contains(words), "{bad}: {err}");
    }
}

#[test]
fn the_latest_active_matching_rule_wins() {
    let faults = Faults::default();
    let now = Instant::now();
    assert_eq!(faults.decide(now, "/x").0, Fault::Pass);
    faults.add(spec(json!({"mode": "throttle", "retry_after": 3})).unwrap());
    faults.add(spec(json!({"mode": "unavailable", "path_prefix": "/latest/meta-data/"})).unwrap());
    let now = Instant::now();
    assert_eq!(
        faults.decide(now, "/latest/api/token").0,
        Fault::Throttle { retry_after: 3 }
    );
    assert_eq!(
        faults.decide(now, "/latest/meta-data/iam/").0,
        Fault::Unavailable { retry_after: None }
    );
    let pass = faults.add(spec(json!({"mode": "pass"})).unwrap());
    assert_eq!(
        faults.decide(Instant::now(), "/latest/meta-data/iam/").0,
        Fault::Pass
    );
    assert!(faults.remove(pass));
    assert!(!faults.remove(pass));
    assert_eq!(faults.list().len(), 2);
    faults.clear();
    assert!(faults.list().is_empty());
}

#[test]
fn windows_open_and_close_on_the_monotonic_clock() {
    let faults = Faults::default();
    faults.add(spec(json!({"mode": "outage", "after_ms": 60_000, "for_ms": 1000})).unwrap());
    let now = Instant::now();
    assert!(!faults.listener_refused(now));
    let start = faults.next_boundary(now).unwrap();
    assert!(start > now + Duration::from_secs(59) && start <= now + Duration::from_secs(60));
    assert!(faults.listener_refused(start));
    assert_eq!(
        faults.next_boundary(start).unwrap(),
        start + Duration::from_secs(1)
    );
    assert!(!faults.listener_refused(start + Duration::from_secs(1)));
    // A path-limited blackhole never closes the port.
    faults.clear();
    faults.add(
        spec(json!({"mode": "outage", "style": "blackhole", "path_prefix": "/latest/api/"}))
            .unwrap(),
    );
    assert!(!faults.listener_refused(Instant::now()));
}

#[test]
fn stats_tables_are_bounded() {
    let mut stats = ProxyStats::new();
    for i in 0..(MAX_STAT_KEYS + 10) {
        stats.count("GET", &format!("/p{i}"), "ua", "forwarded");
    }
    assert_eq!(stats.total as usize, MAX_STAT_KEYS + 10);
    assert_eq!(stats.by_path.len(), MAX_STAT_KEYS + 1);
    assert_eq!(stats.by_path["(other)"], 10);
    assert_eq!(stats.by_user_agent["ua"] as usize, MAX_STAT_KEYS + 10);
}
