//! The IMDS fault proxy in front of a real AEMM (IMDSv2 required, `tests/rig/aemm.sh`):
//! pass-through, each fault mode, schedules, stats, and `tests/rig/imds-proxy.sh`.
//!
//! Every test starts its own proxy (stopped when dropped); the AEMM instance is shared
//! and only ever sees one request at a time from each test (its token store is not safe
//! under concurrent load).

mod common;

use std::io::ErrorKind;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use common::{call, http, rig, Answer};
use serde_json::{json, Value};
use sigv4_gate::fault::{FaultProxy, ProxyConfig, RunningProxy};

const UA: &str = "fault-proxy-test/1.0";
const TOKEN_PATH: &str = "/latest/api/token";
const TTL: (&str, &str) = ("x-aws-ec2-metadata-token-ttl-seconds", "60");
/// How long a test waits for an answer that must not come.
const SILENCE: Duration = Duration::from_millis(400);

struct Aemm {
    url: String,
    role: String,
    config: String,
}

fn aemm() -> &'static Aemm {
    static AEMM: OnceLock<Aemm> = OnceLock::new();
    AEMM.get_or_init(|| {
        let v = rig("aemm.sh", &["start"], &[]);
        Aemm {
            url: v["AEMM_URL"].clone(),
            role: v["AEMM_ROLE"].clone(),
            config: v["AEMM_CONFIG"].clone(),
        }
    })
}

fn proxy() -> RunningProxy {
    FaultProxy::spawn(ProxyConfig::new(&aemm().url)).expect("proxy")
}

fn fault(p: &RunningProxy, rule: Value) -> Answer {
    call(p.admin_url(), "POST", "/__fault", &[], &rule.to_string())
}

fn stats(p: &RunningProxy) -> Value {
    serde_json::from_str(&call(p.admin_url(), "GET", "/__stats", &[], "").body).unwrap()
}

fn put_token(url: &str, timeout: Duration) -> std::io::Result<Answer> {
    http(
        url,
        "PUT",
        TOKEN_PATH,
        &[TTL, ("user-agent", UA)],
        "",
        timeout,
    )
}

fn get(url: &str, path: &str, token: Option<&str>, timeout: Duration) -> std::io::Result<Answer> {
    let mut headers = vec![("user-agent", UA)];
    if let Some(t) = token {
        headers.push(("x-aws-ec2-metadata-token", t));
    }
    http(url, "GET", path, &headers, "", timeout)
}

fn token(url: &str) -> String {
    let a = put_token(url, Duration::from_secs(5)).expect("token PUT");
    assert_eq!(a.status, 200, "{a:?}");
    a.body
}

fn creds_path() -> String {
    format!("/latest/meta-data/iam/security-credentials/{}", aemm().role)
}

/// The request timed out or the connection was closed, with no HTTP answer.
fn assert_no_answer(r: std::io::Result<Answer>) {
    match r {
        Err(e) => assert!(
            matches!(
                e.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::UnexpectedEof
            ),
            "expected silence, got {e:?}"
        ),
        Ok(a) => panic!("expected no answer, got {a:?}"),
    }
}

#[test]
fn passes_imdsv2_through_to_aemm_and_counts_by_path_and_user_agent() {
    let p = proxy();
    let tok = token(p.url());
    let a = get(p.url(), &creds_path(), Some(&tok), Duration::from_secs(5)).unwrap();
    assert_eq!(a.status, 200, "{a:?}");
    let doc: Value = serde_json::from_str(&a.body).unwrap();
    // The same document AEMM serves directly: nothing rewritten.
    let direct_tok = token(&aemm().url);
    let direct = get(
        &aemm().url,
        &creds_path(),
        Some(&direct_tok),
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(doc, serde_json::from_str::<Value>(&direct.body).unwrap());
    assert!(a.headers.contains_key("date"), "{a:?}");
    // IMDSv2 is enforced by AEMM, through the proxy too.
    assert_eq!(
        get(p.url(), &creds_path(), None, Duration::from_secs(5))
            .unwrap()
            .status,
        401
    );

    let s = stats(&p);
    assert_eq!(s["total"], 3, "{s}");
    assert_eq!(s["by_path"][TOKEN_PATH], 1, "{s}");
    assert_eq!(s["by_path"][creds_path()], 2, "{s}");
    assert_eq!(s["by_user_agent"][UA], 3, "{s}");
    assert_eq!(s["by_method"], json!({"GET": 2, "PUT": 1}), "{s}");
    assert_eq!(s["by_outcome"], json!({"forwarded": 3}), "{s}");
    assert_eq!(
        call(p.admin_url(), "DELETE", "/__stats", &[], "").status,
        200
    );
    assert_eq!(stats(&p)["total"], 0);
}

#[test]
fn throttles_with_retry_after_then_passes_when_the_window_ends() {
    let p = proxy();
    let tok = token(p.url());
    let a = fault(
        &p,
        json!({"mode": "throttle", "retry_after": 2, "for_ms": 1500}),
    );
    assert_eq!(a.status, 200, "{a:?}");
    let started = Instant::now();
    let a = get(p.url(), &creds_path(), Some(&tok), Duration::from_secs(2)).unwrap();
    assert_eq!(a.status, 429, "{a:?}");
    assert_eq!(a.headers["retry-after"], "2");
    assert!(a.headers.contains_key("date"));
    std::thread::sleep(Duration::from_millis(1550).saturating_sub(started.elapsed()));
    let a = get(p.url(), &creds_path(), Some(&tok), Duration::from_secs(2)).unwrap();
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        stats(&p)["by_outcome"],
        json!({"forwarded": 2, "throttled": 1})
    );
}

#[test]
fn answers_503_only_on_the_paths_of_the_rule() {
    let p = proxy();
    let tok = token(p.url());
    fault(
        &p,
        json!({"mode": "unavailable", "path_prefix": "/latest/meta-data/iam/"}),
    );
    let a = get(p.url(), &creds_path(), Some(&tok), Duration::from_secs(2)).unwrap();
    assert_eq!(a.status, 503, "{a:?}");
    assert!(!a.headers.contains_key("retry-after"));
    // Other paths, and the token PUT, still pass.
    let a = get(
        p.url(),
        "/latest/meta-data/instance-id",
        Some(&tok),
        Duration::from_secs(2),
    )
    .unwrap();
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        put_token(p.url(), Duration::from_secs(2)).unwrap().status,
        200
    );
    // Clearing the rules ends it.
    assert_eq!(
        call(p.admin_url(), "DELETE", "/__fault", &[], "").status,
        200
    );
    let a = get(p.url(), &creds_path(), Some(&tok), Duration::from_secs(2)).unwrap();
    assert_eq!(a.status, 200, "{a:?}");
}

#[test]
fn stalls_then_forwards() {
    let p = proxy();
    let tok = token(p.url());
    fault(&p, json!({"mode": "stall", "delay_ms": 500}));
    let started = Instant::now();
    let a = get(p.url(), &creds_path(), Some(&tok), Duration::from_secs(3)).unwrap();
    let took = started.elapsed();
    assert_eq!(a.status, 200, "{a:?}");
    assert!(took >= Duration::from_millis(500), "{took:?}");
    // A client with a shorter timeout sees no answer at all.
    assert_no_answer(get(
        p.url(),
        &creds_path(),
        Some(&tok),
        Duration::from_millis(200),
    ));
    assert_eq!(stats(&p)["by_outcome"]["stalled"], 2);
}

#[test]
fn an_outage_refuses_connections_then_the_same_port_comes_back() {
    let p = proxy();
    let a = fault(&p, json!({"mode": "outage", "for_ms": 1500}));
    assert_eq!(a.status, 200, "{a:?}");
    let started = Instant::now();
    // The POST returns once the port is closed: no connection slips in.
    let err = put_token(p.url(), SILENCE).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
    // The admin API stays up during the outage.
    assert_eq!(call(p.admin_url(), "GET", "/health", &[], "").status, 200);
    std::thread::sleep(Duration::from_millis(1550).saturating_sub(started.elapsed()));
    assert!(
        common::wait_until(Duration::from_secs(2), || put_token(p.url(), SILENCE)
            .is_ok()),
        "the port did not come back"
    );
    assert_eq!(token(p.url()).len(), 44);
}

#[test]
fn a_blackhole_outage_reads_requests_and_never_answers() {
    let p = proxy();
    fault(
        &p,
        json!({"mode": "outage", "style": "blackhole", "for_ms": 3000}),
    );
    assert_no_answer(put_token(p.url(), SILENCE));
    assert_no_answer(get(p.url(), "/latest/meta-data/", None, SILENCE));
    assert_eq!(stats(&p)["by_outcome"], json!({"blackholed": 2}));
    call(p.admin_url(), "DELETE", "/__fault", &[], "");
    assert_eq!(token(p.url()).len(), 44);
}

#[test]
fn dropped_token_puts_look_like_the_container_hop_limit() {
    let p = proxy();
    fault(&p, json!({"mode": "drop_token_put", "for_ms": 3000}));
    // The PUT is never answered, while a plain GET gets an answer: 401, as IMDSv2 is
    // required. This is the symptom freshcreds diagnoses.
    assert_no_answer(put_token(p.url(), SILENCE));
    let a = get(p.url(), "/latest/meta-data/", None, Duration::from_secs(2)).unwrap();
    assert_eq!(a.status, 401, "{a:?}");
    let s = stats(&p);
    assert_eq!(
        s["by_outcome"],
        json!({"dropped_token_put": 1, "forwarded": 1}),
        "{s}"
    );
    call(p.admin_url(), "DELETE", "/__fault", &[], "");
    assert_eq!(token(p.url()).len(), 44);
}

#[test]
fn a_schedule_of_rules_plays_out_in_order() {
    let p = proxy();
    let tok = token(p.url());
    let t0 = Utc::now();
    let at = |ms: i64| {
        (t0 + chrono::Duration::milliseconds(ms)).to_rfc3339_opts(SecondsFormat::Millis, true)
    };
    // Absolute and relative times mixed, as a demo script would: throttle from +300 ms
    // to +900 ms, then 503 from +900 ms for 600 ms. Each check aims at the middle of a
    // window, so a request made late on a loaded machine still lands in it.
    let a = fault(
        &p,
        json!([
            {"mode": "throttle", "retry_after": 1, "from": at(300), "until": at(900)},
            {"mode": "unavailable", "retry_after": 3, "after_ms": 900, "for_ms": 600},
        ]),
    );
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&a.body).unwrap()["ids"],
        json!([1, 2])
    );
    let listed: Value =
        serde_json::from_str(&call(p.admin_url(), "GET", "/__fault", &[], "").body).unwrap();
    assert_eq!(listed["rules"].as_array().unwrap().len(), 2, "{listed}");

    let status_at = |ms: i64| {
        let wait = (t0 + chrono::Duration::milliseconds(ms) - Utc::now())
            .to_std()
            .unwrap_or_default();
        std::thread::sleep(wait);
        get(p.url(), &creds_path(), Some(&tok), Duration::from_secs(2))
            .unwrap()
            .status
    };
    assert_eq!(status_at(0), 200);
    assert_eq!(status_at(600), 429);
    assert_eq!(status_at(1200), 503);
    assert_eq!(status_at(1700), 200);
    // Rules that are over are gone from the list.
    let listed: Value =
        serde_json::from_str(&call(p.admin_url(), "GET", "/__fault", &[], "").body).unwrap();
    assert_eq!(listed["rules"], json!([]), "{listed}");
}

#[test]
fn bad_rules_are_refused_whole_with_the_reason() {
    let p = proxy();
    let a = fault(
        &p,
        json!([{"mode": "throttle"}, {"mode": "throttle", "retry": 1}]),
    );
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        "rule 1: unknown field \"retry\" for mode throttle\n"
    );
    let a = call(p.admin_url(), "POST", "/__fault", &[], "not json");
    assert_eq!(a.status, 400);
    assert!(a.body.starts_with("bad JSON"), "{}", a.body);
    // Nothing was added: everything passes.
    assert_eq!(p.faults().list(), Vec::<Value>::new());
    assert_eq!(
        put_token(p.url(), Duration::from_secs(2)).unwrap().status,
        200
    );
}

#[test]
fn imds_proxy_sh_starts_switches_counts_and_stops_the_binary() {
    let a = aemm();
    let v = rig("imds-proxy.sh", &["start", &a.url], &[]);
    let (url, admin) = (v["IMDS_PROXY_URL"].clone(), v["IMDS_PROXY_ADMIN"].clone());
    let port = url.rsplit(':').next().unwrap().to_owned();
    let env = [("IMDS_PROXY_ADMIN", admin.as_str())];

    let tok = token(&url);
    let rules = rig(
        "imds-proxy.sh",
        &["fault", r#"{"mode":"throttle","retry_after":5}"#],
        &env,
    );
    assert_eq!(rules["IMDS_PROXY_RULES"], "1");
    let r = get(&url, &creds_path(), Some(&tok), Duration::from_secs(2)).unwrap();
    assert_eq!((r.status, r.headers["retry-after"].as_str()), (429, "5"));
    rig("imds-proxy.sh", &["clear"], &env);
    assert_eq!(
        get(&url, &creds_path(), Some(&tok), Duration::from_secs(2))
            .unwrap()
            .status,
        200
    );

    let out = std::process::Command::new(common::repo_root().join("tests/rig/imds-proxy.sh"))
        .arg("stats")
        .env("IMDS_PROXY_ADMIN", &admin)
        .output()
        .unwrap();
    assert!(out.status.success());
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        s["by_outcome"],
        json!({"forwarded": 2, "throttled": 1}),
        "{s}"
    );

    // AEMM rotations show through the proxy (the rig rewrites AEMM's config file).
    rig(
        "aemm.sh",
        &[
            "rotate",
            &a.config,
            "ASIAPROXYROTATED0001",
            &"r".repeat(40),
            "rotated-token",
            "2099-01-01T00:00:00Z",
        ],
        &[],
    );
    let doc: Value = serde_json::from_str(
        &get(&url, &creds_path(), Some(&tok), Duration::from_secs(2))
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(doc["AccessKeyId"], "ASIAPROXYROTATED0001");

    rig("imds-proxy.sh", &["stop", &port], &[]);
    assert!(put_token(&url, SILENCE).is_err());
    let log = std::fs::read_to_string(
        common::rig_dir()
            .join("imds-proxy")
            .join(&port)
            .join("proxy.log"),
    )
    .unwrap();
    assert!(
        log.contains("rule added") && log.contains("\"mode\":\"throttle\""),
        "{log}"
    );
}

#[test]
fn an_unreachable_aemm_is_a_502_and_counted() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let p = FaultProxy::spawn(ProxyConfig::new(&upstream)).unwrap();
    let a = put_token(p.url(), Duration::from_secs(5)).unwrap();
    assert_eq!(a.status, 502, "{a:?}");
    let s = stats(&p);
    assert_eq!(
        (s["total"].as_u64(), s["upstream_errors"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
}
