use std::sync::atomic::AtomicU64;
use std::time::SystemTime;

use super::*;
use crate::credentials::Credentials;
use crate::secret::SecretString;
use crate::source::{BoxFuture, Source};

/// Serves a new credential set per fetch, for `FETCHES` counting.
struct Counting(AtomicU64);

impl Source for Counting {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Ok(Credentials::new(
                format!("ASIATESTKEY{n:09}"),
                SecretString::new(format!("secret-{n}")),
                Some(SecretString::new(format!("token-{n}"))),
                SystemTime::now() + Duration::from_secs(3600),
                Duration::from_secs(3600),
            ))
        })
    }

    fn describe(&self) -> String {
        "counting test source".into()
    }
}

/// A configuration that never leaves loopback (NTP off).
fn config(label: &str) -> Config {
    let mut inputs = Inputs::empty();
    inputs.set("imds.endpoint", "http://127.0.0.1:9", "test");
    inputs.set("ntp.servers", "off", "test");
    inputs.set("refresh.ahead", label, "test");
    Config::resolve(&inputs).expect("test config")
}

fn start(config: Config) -> Result<Engine> {
    Engine::builder(config)
        .source(Arc::new(Counting(AtomicU64::new(0))))
        .start()
}

#[test]
fn equal_settings_share_one_engine() {
    let a = open_with(config("11m"), start).unwrap();
    let b = open_with(config("11m"), start).unwrap();
    let c = open_with(config("12m"), start).unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(a.shared.id, b.shared.id);
    assert_ne!(a.shared.id, c.shared.id);
    let shared = a.shared.clone();
    close(a.id);
    close(b.id);
    close(c.id);
    let a_id = a.id;
    drop((a, b, c));
    assert_eq!(
        Arc::strong_count(&shared),
        1,
        "closing the last handle releases the engine"
    );
    assert!(get(a_id).is_err());
}

#[test]
fn wait_reports_the_snapshot_then_times_out_then_sees_close() {
    let h = open_with(config("13m"), start).unwrap();
    let first = h.wait(Duration::from_secs(5));
    assert_ne!(
        first & flags::SNAPSHOT,
        0,
        "initial state is reported: {first}"
    );
    // The first fetch publishes a snapshot.
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.snapshot().0.is_none() {
        assert!(Instant::now() < deadline, "no snapshot within 5 s");
        h.wait(Duration::from_millis(100));
    }
    let (snapshot, skew) = h.snapshot();
    assert_eq!(skew, 0);
    assert!(snapshot
        .unwrap()
        .credentials
        .access_key_id()
        .starts_with("ASIATESTKEY"));
    // Drain, then nothing is pending.
    while h.wait(Duration::from_millis(50)) & (flags::SNAPSHOT | flags::SKEW) != 0 {}

    let waiter = {
        let h = h.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            loop {
                let bits = h.wait(Duration::from_secs(30));
                if bits & flags::CLOSED != 0 {
                    return started.elapsed();
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    close(h.id);
    let waited = waiter.join().unwrap();
    assert!(
        waited < Duration::from_secs(5),
        "close woke the waiter after {waited:?}"
    );
    assert!(matches!(
        h.credentials(Duration::from_secs(1)),
        Err(Error::Closed)
    ));
}

#[test]
fn invalidate_publishes_a_new_snapshot() {
    let h = open_with(config("14m"), start).unwrap();
    let s1 = h.credentials(Duration::from_secs(5)).unwrap();
    std::thread::sleep(crate::refresh::INVALIDATE_COOLDOWN + Duration::from_millis(100));
    assert!(h.invalidate());
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut saw_bit = false;
    loop {
        saw_bit |= h.wait(Duration::from_millis(200)) & flags::SNAPSHOT != 0;
        let newer = h.snapshot().0.is_some_and(|s| s.seq > s1.seq);
        if newer && saw_bit {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no new snapshot after invalidate"
        );
    }
    close(h.id);
}
