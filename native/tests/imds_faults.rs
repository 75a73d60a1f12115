//! IMDS faults AEMM cannot produce, against the in-test IMDS. Each failure asserts a clear
//! error and that the last good credentials are still served.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::fake_imds::{Creds, FakeImds, Reply, TokenReply};
use common::{engine, wait_event};
use freshcreds::{Engine, Event, ImdsVersion};

const HOUR: Duration = Duration::from_secs(3600);
const WAIT: Duration = Duration::from_secs(10);

/// An engine that already holds credentials #1 from `fake`.
fn primed(fake: &FakeImds) -> Engine {
    let engine = engine(&fake.url);
    let s = engine
        .credentials_blocking(WAIT)
        .expect("first credentials");
    assert_eq!(s.credentials.access_key_id(), "ASIAFAKE000000000001");
    engine
}

/// Invalidates and returns the failure message of the refresh that follows, checking that
/// the credentials held before are still served and health reports the error.
fn failing_refresh(engine: &Engine) -> String {
    let before = engine
        .snapshot()
        .expect("primed")
        .credentials
        .access_key_id()
        .to_owned();
    let mut events = engine.subscribe();
    assert!(engine.invalidate(), "invalidate must start a refresh");
    let Event::RefreshFailed {
        error,
        serving_until,
        ..
    } = wait_event(&mut events, WAIT, |e| {
        matches!(e, Event::RefreshFailed { .. })
    })
    else {
        unreachable!()
    };
    let served = engine.snapshot().expect("still a snapshot");
    assert_eq!(
        served.credentials.access_key_id(),
        before,
        "last good credentials kept"
    );
    assert_eq!(serving_until, Some(served.credentials.expiration()));
    // A caller still gets them at once: they have not expired.
    let t = Instant::now();
    assert_eq!(engine.credentials_blocking(WAIT).unwrap().seq, served.seq);
    assert!(t.elapsed() < Duration::from_millis(50));
    let health = engine.health();
    assert_eq!(health.last_error.as_deref(), Some(error.as_str()));
    assert!(health.failure_count >= 1);
    assert!(
        !error.contains("SECRETVALUE") && !error.contains("TOKENVALUE"),
        "{error}"
    );
    error
}

#[test]
fn fetches_over_imdsv2_with_the_extended_path_and_user_agent() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    let c = engine.snapshot().unwrap();
    assert_eq!(c.credentials.account_id(), Some("123456789012"));
    assert_eq!(engine.health().imds_version, ImdsVersion::V2);
    fake.with(|s| {
        assert_eq!(s.token_puts(), 1);
        assert_eq!(
            s.hits("GET /latest/meta-data/iam/security-credentials-extended/test-role"),
            1
        );
        assert_eq!(s.hits("GET /latest/meta-data/iam/security-credentials/"), 0);
        let expected = format!("freshcreds/{}", env!("CARGO_PKG_VERSION"));
        assert_eq!(
            s.user_agents.iter().collect::<Vec<_>>(),
            vec![&expected],
            "every request's User-Agent"
        );
    });
}

#[test]
fn after_one_404_on_the_extended_path_sticks_to_the_legacy_path() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    fake.with(|s| s.extended = false);
    let engine = primed(&fake);
    for n in 2..=3 {
        fake.with(|s| s.creds = Creds::numbered(n, HOUR));
        let mut events = engine.subscribe();
        engine.invalidate();
        wait_event(&mut events, WAIT, |e| matches!(e, Event::Refreshed { .. }));
    }
    fake.with(|s| {
        assert_eq!(
            s.hits("GET /latest/meta-data/iam/security-credentials-extended/"),
            1
        );
        assert_eq!(
            s.hits("GET /latest/meta-data/iam/security-credentials/test-role"),
            3
        );
        assert_eq!(s.token_puts(), 1, "the token is cached");
    });
}

#[test]
fn throttling_429_honours_retry_after() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| {
        s.creds = Creds::numbered(2, HOUR);
        s.script.push_back(Reply::Status(429, Some(1)));
    });
    let mut events = engine.subscribe();
    let t = Instant::now();
    engine.invalidate();
    wait_event(&mut events, WAIT, |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 must be waited: {:?}",
        t.elapsed()
    );
    assert_eq!(
        fake.with(|s| s.hits("GET /latest/meta-data/iam/security-credentials-extended/test-role")),
        3
    );
}

#[test]
fn a_503_storm_keeps_the_last_good_credentials_and_backs_off() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| s.creds_reply = Reply::Status(503, None));
    let error = failing_refresh(&engine);
    assert!(
        error.contains("throttled") && error.contains("503"),
        "{error}"
    );
    // The refresher retries on its own with backoff, not in a tight loop.
    let before = fake.with(|s| s.creds_reads());
    std::thread::sleep(Duration::from_secs(3));
    let during = fake.with(|s| s.creds_reads()) - before;
    assert!(during <= 8, "{during} reads in 3 s is hammering");
    // And recovers once IMDS does.
    fake.with(|s| {
        s.creds_reply = Reply::Normal;
        s.creds = Creds::numbered(2, HOUR);
    });
    let mut events = engine.subscribe();
    wait_event(&mut events, Duration::from_secs(20), |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
    assert_eq!(engine.health().last_error, None);
}

#[test]
fn a_stall_past_the_timeout_is_retried_then_reported() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    // One stall, then a good answer: the retry within the same fetch succeeds.
    fake.with(|s| {
        s.creds = Creds::numbered(2, HOUR);
        s.script.push_back(Reply::Stall);
    });
    let mut events = engine.subscribe();
    engine.invalidate();
    wait_event(&mut events, WAIT, |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
    // Stalls on every attempt: a clear timeout error.
    fake.with(|s| s.creds_reply = Reply::Stall);
    let t = Instant::now();
    let error = failing_refresh(&engine);
    assert!(error.contains("timed out"), "{error}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "bounded by timeout × attempts: {:?}",
        t.elapsed()
    );
}

#[test]
fn a_401_renews_the_token_once() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| {
        s.tokens.clear(); // IMDS forgot every token (e.g. it restarted)
        s.creds = Creds::numbered(2, HOUR);
    });
    let mut events = engine.subscribe();
    engine.invalidate();
    wait_event(&mut events, WAIT, |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
    assert_eq!(fake.with(|s| s.token_puts()), 2);
}

#[test]
fn token_unsupported_falls_back_to_v1_unless_disabled() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    fake.with(|s| {
        s.token_reply = TokenReply::Status(403);
        s.require_token = false;
    });
    let engine = primed(&fake);
    assert_eq!(engine.health().imds_version, ImdsVersion::V1);
    assert!(fake.with(|s| s.tokenless_creds_reads) >= 1);

    let mut inputs = freshcreds::Inputs::empty();
    inputs.set("imds.endpoint", fake.url.as_str(), "test");
    inputs
        .env
        .insert("AWS_EC2_METADATA_V1_DISABLED".into(), "true".into());
    let strict = Engine::start(freshcreds::Config::resolve(&inputs).unwrap()).unwrap();
    let err = strict.credentials_blocking(WAIT).unwrap_err().to_string();
    assert!(
        err.contains("AWS_EC2_METADATA_V1_DISABLED") && err.contains("403"),
        "{err}"
    );
}

#[test]
fn token_throttling_is_never_taken_for_v2_unsupported() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    fake.with(|s| {
        s.token_reply = TokenReply::Status(429);
        s.require_token = false;
    });
    let engine = engine(&fake.url);
    let err = engine
        .credentials_blocking(Duration::from_secs(5))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("throttled") && err.contains("/latest/api/token"),
        "{err}"
    );
    assert_eq!(
        fake.with(|s| s.tokenless_creds_reads),
        0,
        "no v1 read after throttling"
    );
}

#[test]
fn repeated_same_expiry_answers_back_off_until_rotation() {
    // 60 s credentials with 30 s left: inside the refresh-ahead window from the start.
    let mut creds = Creds::numbered(1, Duration::from_secs(30));
    creds.last_updated = SystemTime::now() - Duration::from_secs(30);
    let fake = FakeImds::start(creds);
    let engine = primed(&fake);
    let mut events = engine.subscribe();
    wait_event(&mut events, WAIT, |e| matches!(e, Event::Unchanged { .. }));
    std::thread::sleep(Duration::from_secs(4));
    let reads = fake.with(|s| s.creds_reads());
    assert!(
        (2..=7).contains(&reads),
        "{reads} reads in ~4 s: neither idle nor hammering"
    );
    assert_eq!(
        engine.snapshot().unwrap().seq,
        1,
        "the same set is not republished"
    );
    fake.with(|s| s.creds = Creds::numbered(2, Duration::from_secs(60)));
    wait_event(&mut events, Duration::from_secs(15), |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
}

#[test]
fn credentials_already_expired_are_refused() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| {
        let mut c = Creds::numbered(2, HOUR);
        c.expiration = SystemTime::now() - Duration::from_secs(60);
        c.last_updated = SystemTime::now() - HOUR;
        s.creds = c;
    });
    let error = failing_refresh(&engine);
    assert!(
        error.contains("expired") && error.contains("keeping the last good"),
        "{error}"
    );
}

#[test]
fn a_code_other_than_success_is_reported_with_its_code() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| s.creds.code = "AssumeRoleUnauthorizedAccess".into());
    let error = failing_refresh(&engine);
    assert!(error.contains("AssumeRoleUnauthorizedAccess"), "{error}");
}

#[test]
fn no_role_attached_is_reported_with_the_fix() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| s.role = None);
    let error = failing_refresh(&engine);
    assert!(
        error.contains("no IAM role is attached")
            && error.contains("associate-iam-instance-profile"),
        "{error}"
    );
}

#[test]
fn invalid_json_is_reported_without_quoting_the_body() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| {
        s.creds_reply = Reply::Body(
            br#"{"AccessKeyId":"AKIA","SecretAccessKey":"leakme-SECRETVALUE","#.to_vec(),
        )
    });
    let error = failing_refresh(&engine);
    assert!(
        error.contains("malformed") && error.contains("JSON"),
        "{error}"
    );
}

#[test]
fn a_10_mib_body_is_refused() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| s.creds_reply = Reply::Body(vec![b'x'; 10 * 1024 * 1024]));
    let error = failing_refresh(&engine);
    assert!(error.contains("larger than 65536 bytes"), "{error}");
}

#[test]
fn a_non_utf8_body_is_refused() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = primed(&fake);
    fake.with(|s| s.creds_reply = Reply::Body(vec![0xff, 0xfe, b'{', 0xc3, 0x28]));
    let error = failing_refresh(&engine);
    assert!(error.contains("not UTF-8"), "{error}");
}

#[test]
fn an_unusable_endpoint_is_a_clear_error_at_once() {
    // Nothing listens on this port: connection refused, reported as unreachable.
    let engine = engine("http://127.0.0.1:9");
    let t = Instant::now();
    let err = engine.credentials_blocking(WAIT).unwrap_err().to_string();
    assert!(
        err.contains("unreachable") && err.contains("127.0.0.1:9"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    // The same over https: a clear transport error, no panic from the TLS set-up.
    let err = engine_https_refused();
    assert!(
        err.contains("unreachable") && err.contains("https://127.0.0.1:9"),
        "{err}"
    );
}

fn engine_https_refused() -> String {
    let engine = engine("https://127.0.0.1:9");
    engine.credentials_blocking(WAIT).unwrap_err().to_string()
}
