//! Against amazon-ec2-metadata-mock (AEMM), IMDSv2 required, started by the rig script.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{config, wait_event, Aemm};
use freshcreds::internal::rfc3339;
use freshcreds::{Engine, Event, ImdsClient, ImdsVersion, SkewClock, SystemClock};

#[test]
fn discovers_the_role_and_fetches_over_imdsv2() {
    let aemm = Aemm::start();
    let clock = Arc::new(SkewClock::new(Arc::new(SystemClock)));
    let client = ImdsClient::new(&config(&aemm.url, None), clock).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fetched = runtime
        .block_on(client.fetch_credentials())
        .expect("credentials from AEMM");
    assert_eq!(fetched.role, aemm.role);
    assert!(fetched.credentials.access_key_id().starts_with("ASIA"));
    assert!(fetched.credentials.expiration() > SystemTime::now() + Duration::from_secs(3000));
    assert_eq!(client.version(), ImdsVersion::V2);
}

#[test]
fn picks_up_a_rotation_before_the_old_credentials_expire() {
    let aemm = Aemm::start();
    let now = SystemTime::now();
    // 20 s credentials, 12 s left: the refresh-ahead window is 10 s (+ up to 1 s jitter).
    let old_expiry = now + Duration::from_secs(12);
    aemm.rotate(
        "ASIAOLDOLDOLDOLD0001",
        "old-secret",
        "old-token",
        &rfc3339(old_expiry),
        &rfc3339(now - Duration::from_secs(8)),
    );
    let engine = Engine::start(config(&aemm.url, None)).unwrap();
    let mut events = engine.subscribe();
    let first = engine
        .credentials_blocking(Duration::from_secs(10))
        .unwrap();
    assert_eq!(first.credentials.access_key_id(), "ASIAOLDOLDOLDOLD0001");

    // IMDS publishes the next set well before the old one expires.
    let new_expiry = now + Duration::from_secs(3600);
    aemm.rotate(
        "ASIANEWNEWNEWNEW0002",
        "new-secret",
        "new-token",
        &rfc3339(new_expiry),
        &rfc3339(now),
    );
    let Event::Refreshed { seq, key_id, .. } =
        wait_event(&mut events, Duration::from_secs(12), |e| {
            matches!(e, Event::Refreshed { seq: 2, .. })
        })
    else {
        unreachable!()
    };
    let picked_up_at = SystemTime::now();
    assert_eq!(seq, 2);
    assert_eq!(key_id, "ASIA…0002");
    assert!(
        picked_up_at < old_expiry,
        "rotation picked up {:?} after expiry",
        picked_up_at.duration_since(old_expiry)
    );
    let current = engine.snapshot().unwrap();
    assert_eq!(current.credentials.access_key_id(), "ASIANEWNEWNEWNEW0002");
    assert_eq!(
        current.credentials.expiration(),
        SystemTime::UNIX_EPOCH
            + Duration::from_secs(
                new_expiry
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
            )
    );
}
