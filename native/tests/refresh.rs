//! The refresher: single flight under load, invalidation, supervision.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::fake_imds::{Creds, FakeImds, Reply};
use common::{config, engine, wait_event};
use freshcreds::{BoxFuture, Credentials, Engine, Event, SecretString, Source};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_thousand_callers_on_a_cold_start_make_one_fetch() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    // A slow IMDS, so that every caller arrives while the one fetch is running.
    fake.with(|s| {
        s.script
            .push_back(Reply::Delayed(Duration::from_millis(300)))
    });
    let engine = Arc::new(engine(&fake.url));
    let callers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    callers.block_on(async {
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let engine = engine.clone();
                tokio::spawn(async move {
                    engine
                        .credentials(Duration::from_secs(10))
                        .await
                        .map(|s| s.seq)
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().expect("credentials"), 1);
        }
    });
    fake.with(|s| {
        assert_eq!(s.creds_reads(), 1, "exactly one credentials fetch");
        assert_eq!(s.token_puts(), 1, "exactly one token fetch");
    });
}

#[test]
fn concurrent_invalidations_trigger_exactly_one_refresh() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = Arc::new(
        Engine::builder(config(&fake.url, None)).start().unwrap(), // default 2 s cooldown
    );
    engine.credentials_blocking(Duration::from_secs(5)).unwrap();
    std::thread::sleep(Duration::from_millis(2100)); // past the cooldown of the first fetch
    fake.with(|s| {
        s.creds = Creds::numbered(2, HOUR);
        s.script
            .push_back(Reply::Delayed(Duration::from_millis(200)));
    });
    let mut events = engine.subscribe();
    let started: u32 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..100)
            .map(|_| scope.spawn(|| engine.invalidate() as u32))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(started, 1);
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
    // Requests that failed with the old token and invalidate just after: absorbed.
    assert!(!engine.invalidate());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fake.with(|s| s.creds_reads()), 2);
}

#[test]
fn an_expired_token_right_after_start_still_gets_its_refresh() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = Engine::builder(config(&fake.url, None)).start().unwrap(); // default 2 s cooldown
    engine.credentials_blocking(Duration::from_secs(5)).unwrap();
    fake.with(|s| s.creds = Creds::numbered(2, HOUR));
    let mut events = engine.subscribe();
    // The start-up fetch just ended: it must not absorb the first invalidation.
    assert!(engine.invalidate());
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Refreshed { seq: 2, .. })
    });
    assert_eq!(fake.with(|s| s.creds_reads()), 2);
}

/// A source that panics on its first fetch.
struct PanicsOnce(AtomicU32);

impl Source for PanicsOnce {
    fn fetch(&self) -> BoxFuture<'_, freshcreds::Result<Credentials>> {
        Box::pin(async move {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("injected panic in a credential source");
            }
            Ok(Credentials::new(
                "ASIAPANICPANIC000001".into(),
                SecretString::new("secret".into()),
                Some(SecretString::new("token".into())),
                SystemTime::now() + HOUR,
                HOUR,
            ))
        })
    }

    fn describe(&self) -> String {
        "panics once".into()
    }
}

#[test]
fn a_panic_in_the_refresher_restarts_it() {
    let engine = Engine::builder(config("http://127.0.0.1:9", None))
        .source(Arc::new(PanicsOnce(AtomicU32::new(0))))
        .start()
        .unwrap();
    let mut events = engine.subscribe();
    let err = engine
        .credentials_blocking(Duration::from_secs(5))
        .unwrap_err()
        .to_string();
    assert!(err.contains("panicked"), "{err}");
    // The supervisor restarts the task, which fetches again on its own.
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Refreshed { seq: 1, .. })
    });
    assert_eq!(engine.health().failure_count, 1);
    assert_eq!(engine.health().last_error, None);
}

#[test]
fn close_stops_refreshing_but_keeps_the_snapshot() {
    let fake = FakeImds::start(Creds::numbered(1, HOUR));
    let engine = engine(&fake.url);
    engine.credentials_blocking(Duration::from_secs(5)).unwrap();
    engine.close();
    engine.close();
    std::thread::sleep(Duration::from_millis(100));
    let reads = fake.with(|s| s.creds_reads());
    engine.invalidate();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        fake.with(|s| s.creds_reads()),
        reads,
        "no fetch after close"
    );
    assert_eq!(engine.snapshot().unwrap().seq, 1);
}
