//! The SigV4 gate in front of a real moto (authentication on), called by a real AWS SDK:
//! botocore, whose own error parsing says which code and message a client sees.
//!
//! botocore speaks AWS JSON 1.0 to SQS (`awsQueryCompatible`: it reports the code of the
//! `x-amzn-query-error` header and keeps the `__type` shape as `QueryErrorCode`) and the
//! query protocol to STS, so both wire formats of the gate are checked here.

mod common;

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use common::{assert_date_is_now, botocore, call, http, plan, rig, Creds, Moto};
use serde_json::{json, Value};
use sigv4_gate::gate::{Gate, GateConfig, RunningGate};

const EXPIRED: &str = "The security token included in the request is expired";
const INVALID: &str = "The security token included in the request is invalid.";
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// A gate in front of the shared moto, with `creds` registered through the admin API
/// (expiring at `expiration`, RFC 3339).
fn gate_with(creds: &Creds, expiration: &str) -> RunningGate {
    let gate = Gate::spawn(GateConfig::new(&Moto::get().url)).expect("gate");
    register(&gate, creds, expiration);
    gate
}

fn register(gate: &RunningGate, creds: &Creds, expiration: &str) {
    let doc = json!({
        "AccessKeyId": creds.key,
        "SecretAccessKey": creds.secret,
        "Token": creds.token,
        "Expiration": expiration,
    });
    let a = call(gate.admin_url(), "POST", "/keys", &[], &doc.to_string());
    assert_eq!(a.status, 200, "{}", a.body);
}

fn stats(gate: &RunningGate) -> Value {
    serde_json::from_str(&call(gate.admin_url(), "GET", "/stats", &[], "").body).unwrap()
}

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Asserts what botocore made of a refusal, for STS (query/XML) and SQS (JSON 1.0).
fn assert_refused(results: &[Value], code: &str, shape: &str, message: &dyn Fn(&str) -> bool) {
    assert_eq!(results.len(), 2, "{results:#?}");
    let (sts, sqs) = (&results[0], &results[1]);
    for r in results {
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["status"], 403, "{r}");
        assert_eq!(r["code"], code, "{r}");
        assert_eq!(r["type"], "Sender", "{r}");
        let m = r["message"].as_str().unwrap_or_default();
        assert!(message(m), "unexpected message: {r}");
        assert_date_is_now(r["date"].as_str().expect("a Date header"));
    }
    assert_eq!(sts["protocol"], "query");
    assert_eq!(sts["content_type"], "text/xml");
    assert_eq!(sts["query_error_code"], Value::Null, "{sts}");
    assert_eq!(sqs["protocol"], "json");
    assert_eq!(sqs["content_type"], "application/x-amz-json-1.0");
    // The JSON body's `__type`, as botocore parsed it, beside the header's code.
    assert_eq!(sqs["query_error_code"], shape, "{sqs}");
}

fn sts_and_sqs() -> Value {
    json!([{"op": "sts_identity"}, {"op": "sqs_list_queues"}])
}

#[test]
fn valid_requests_reach_moto_for_sts_and_sqs() {
    let moto = Moto::get();
    let creds = moto.assume_role("gate-valid");
    let gate = gate_with(&creds, &creds.expiration);
    let queue = format!("gate-valid-{}", std::process::id());
    let results = botocore(
        &plan(
            gate.url(),
            &creds,
            json!([
                {"op": "sts_identity"},
                {"op": "sqs_create_queue", "name": queue},
                {"op": "sqs_send", "body": "through the gate"},
                {"op": "sqs_receive"},
                {"op": "sqs_list_queues"},
            ]),
        ),
        None,
    );
    for r in &results {
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(r["status"], 200, "{r}");
        assert_date_is_now(r["date"].as_str().expect("a Date header"));
    }
    let arn = results[0]["result"]["Arn"].as_str().unwrap();
    assert!(arn.ends_with(":assumed-role/rig-role/gate-valid"), "{arn}");
    // moto builds the queue URL from the Host header: it reached moto unchanged.
    let queue_url = results[1]["result"]["QueueUrl"].as_str().unwrap();
    assert_eq!(queue_url, format!("{}/123456789012/{queue}", gate.url()));
    assert_eq!(results[3]["result"]["Bodies"], json!(["through the gate"]));
    assert!(results[4]["result"]["QueueUrls"]
        .as_array()
        .unwrap()
        .contains(&json!(queue_url)));
    let s = stats(&gate);
    assert_eq!(s["by_outcome"], json!({"Forwarded": 5}), "{s}");
}

#[test]
fn a_token_is_refused_as_expired_once_past_its_registered_expiry() {
    let moto = Moto::get();
    let creds = moto.assume_role("gate-expired");
    let gate = gate_with(&creds, &creds.expiration);
    // The same botocore process calls, registers the key to expire a second later (as
    // the rig does when it hands out short-lived credentials), waits past that, and calls
    // again: its start-up time cannot eat the window, however loaded the machine.
    let results = botocore(
        &plan(
            gate.url(),
            &creds,
            json!([
                {"op": "sts_identity"},
                {"op": "sqs_list_queues"},
                {"op": "register", "admin": gate.admin_url(), "expires_in": 1.0},
                {"op": "sleep", "seconds": 1.2},
                {"op": "sts_identity"},
                {"op": "sqs_list_queues"},
            ]),
        ),
        None,
    );
    assert!(results[..2].iter().all(|r| r["ok"] == true), "{results:#?}");
    assert_refused(
        &results[2..],
        "ExpiredToken",
        "ExpiredTokenException",
        &|m| m == EXPIRED,
    );

    // The rig moves the expiry (a renewed registration): accepted again. For moto the
    // session was valid all along (an hour), so the refusals were the gate's alone.
    register(&gate, &creds, &creds.expiration);
    let renewed = botocore(&plan(gate.url(), &creds, sts_and_sqs()), None);
    assert!(renewed.iter().all(|r| r["ok"] == true), "{renewed:#?}");
    let s = stats(&gate);
    assert_eq!(
        s["by_outcome"],
        json!({"Forwarded": 4, "ExpiredToken": 2}),
        "{s}"
    );
}

/// `Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T001000Z - 5 min.)`
fn is_skew_message(m: &str, words: &str, sign: char) -> bool {
    let stamp = |s: &str| s.len() == 16 && s.as_bytes()[8] == b'T' && s.ends_with('Z');
    let Some(rest) = m.strip_prefix(words) else {
        return false;
    };
    let parts: Vec<&str> = rest.split(' ').collect();
    // [t1, "is", "now"/"still", "earlier"/"later", "than", t2, "(t3", "-"/"+", "5", "min.)"]
    parts.len() == 10
        && stamp(parts[0])
        && stamp(parts[5])
        && stamp(parts[6].trim_start_matches('('))
        && parts[7] == sign.to_string()
        && parts[8..] == ["5", "min.)"]
}

#[test]
fn clock_skew_beyond_five_minutes_is_refused_as_aws_does() {
    let moto = Moto::get();
    let creds = moto.assume_role("gate-skew");
    let gate = gate_with(&creds, &creds.expiration);
    let p = plan(gate.url(), &creds, sts_and_sqs());

    // 10 minutes slow: within the crate's default 15-minute window, outside AWS's 5.
    let slow = botocore(&p, Some("-10m"));
    assert_refused(
        &slow,
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        &|m| is_skew_message(m, "Signature expired: ", '-'),
    );
    let fast = botocore(&p, Some("+10m"));
    assert_refused(
        &fast,
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        &|m| is_skew_message(m, "Signature not yet current: ", '+'),
    );
    // 4 minutes slow is within the window (and moto never checks skew).
    let close = botocore(&p, Some("-4m"));
    assert!(close.iter().all(|r| r["ok"] == true), "{close:#?}");
    let s = stats(&gate);
    assert_eq!(s["by_outcome"], json!({"Forwarded": 2, "Skew": 4}), "{s}");
}

#[test]
fn bad_signatures_unknown_keys_and_wrong_tokens_are_refused_as_aws_does() {
    let moto = Moto::get();
    let creds = moto.assume_role("gate-badsig");
    let gate = gate_with(&creds, &creds.expiration);

    let wrong_secret = Creds {
        secret: "x".repeat(40),
        ..creds.clone()
    };
    let r = botocore(&plan(gate.url(), &wrong_secret, sts_and_sqs()), None);
    assert_refused(
        &r,
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        &|m| m == MISMATCH,
    );

    let other = moto.assume_role("gate-unregistered");
    let r = botocore(&plan(gate.url(), &other, sts_and_sqs()), None);
    assert_refused(
        &r,
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        &|m| m == INVALID,
    );

    let wrong_token = Creds {
        token: other.token.clone(),
        ..creds.clone()
    };
    let r = botocore(&plan(gate.url(), &wrong_token, sts_and_sqs()), None);
    assert_refused(
        &r,
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        &|m| m == INVALID,
    );
    let s = stats(&gate);
    assert_eq!(
        s["by_outcome"],
        json!({"SignatureDoesNotMatch": 2, "InvalidClientTokenId": 4}),
        "{s}"
    );
}

#[test]
fn unsigned_requests_and_an_unreachable_moto_get_aws_errors_with_a_date() {
    // An upstream port nobody listens on: the gate must never reach it here.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let gate = Gate::spawn(GateConfig::new(&upstream)).unwrap();

    let a = call(
        gate.url(),
        "POST",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "AmazonSQS.ListQueues"),
        ],
        "{}",
    );
    assert_eq!(a.status, 403, "{a:?}");
    assert_eq!(
        a.headers["x-amzn-query-error"],
        "MissingAuthenticationToken;Sender"
    );
    assert_date_is_now(&a.headers["date"]);
    let body: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#MissingAuthenticationTokenException"
    );

    // Signed with a registered key, but moto is gone: 503 in the caller's format.
    let creds = Creds {
        key: "ASIAGATETESTKEY00001".into(),
        secret: "s".repeat(40),
        token: "token-1".into(),
        expiration: String::new(),
    };
    register(
        &gate,
        &creds,
        &rfc3339(Utc::now() + chrono::Duration::hours(1)),
    );
    let r = botocore(&plan(gate.url(), &creds, sts_and_sqs()), None);
    for r in &r {
        assert_eq!(
            (r["status"].as_u64(), r["code"].as_str()),
            (Some(503), Some("ServiceUnavailable")),
            "{r}"
        );
        assert_date_is_now(r["date"].as_str().unwrap());
    }
}

#[test]
fn the_admin_api_registers_lists_and_forgets_keys_without_showing_secrets() {
    let gate = Gate::spawn(GateConfig::new("http://127.0.0.1:9")).unwrap();
    let admin = gate.admin_url();
    assert_eq!(call(admin, "GET", "/health", &[], "").body, "ok\n");

    let bad = call(
        admin,
        "POST",
        "/keys",
        &[],
        r#"{"AccessKeyId":"AKIAX","SecretAccessKey":"short"}"#,
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("must be 40 characters"), "{}", bad.body);
    let bad = call(admin, "POST", "/keys", &[], r#"{"AccessKeyId":"AKIAX"}"#);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("SecretAccessKey"), "{}", bad.body);

    let secret = "k".repeat(40);
    let doc = json!({"AccessKeyId": "AKIALONGTERM0000001", "SecretAccessKey": secret});
    assert_eq!(
        call(admin, "POST", "/keys", &[], &doc.to_string()).status,
        200
    );
    let listed = call(admin, "GET", "/keys", &[], "").body;
    assert_eq!(
        serde_json::from_str::<Value>(&listed).unwrap(),
        json!([{"access_key_id": "AKIALONGTERM0000001", "has_session_token": false, "expiration": null}])
    );
    assert!(!listed.contains(&secret));
    assert_eq!(gate.keys().list().len(), 1);
    assert_eq!(
        call(admin, "DELETE", "/keys/AKIALONGTERM0000001", &[], "").status,
        200
    );
    assert_eq!(
        call(admin, "DELETE", "/keys/AKIALONGTERM0000001", &[], "").status,
        404
    );
    assert_eq!(call(admin, "GET", "/nothing", &[], "").status, 404);

    // Loopback only, both ways.
    let mut outside = GateConfig::new("http://127.0.0.1:9");
    outside.listen = "0.0.0.0:0".parse().unwrap();
    let err = Gate::spawn(outside).err().expect("refused");
    assert!(err.to_string().contains("not a loopback address"), "{err}");
    let err = Gate::spawn(GateConfig::new("http://192.0.2.1:80"))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("not a loopback address"), "{err}");
    let err = Gate::spawn(GateConfig::new("https://127.0.0.1:80"))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("scheme must be http"), "{err}");
}

#[test]
fn gate_sh_starts_registers_and_stops_the_binary() {
    let moto = Moto::get();
    let creds = moto.assume_role("gate-script");
    let v = rig("gate.sh", &["start", &moto.url], &[]);
    let (url, admin, pid) = (&v["GATE_URL"], &v["GATE_ADMIN"], &v["GATE_PID"]);
    let port = url.rsplit(':').next().unwrap().to_owned();
    rig(
        "gate.sh",
        &[
            "register",
            &creds.key,
            &creds.secret,
            &creds.token,
            &creds.expiration,
        ],
        &[("GATE_ADMIN", admin.as_str())],
    );
    // GATE_PORT reuses the running instance.
    let again = rig(
        "gate.sh",
        &["start", &moto.url],
        &[("GATE_PORT", port.as_str())],
    );
    assert_eq!(&again["GATE_PID"], pid);

    let r = botocore(&plan(url, &creds, json!([{"op": "sts_identity"}])), None);
    assert_eq!(r[0]["ok"], true, "{r:?}");
    let log = std::fs::read_to_string(common::rig_dir().join("gate").join(&port).join("gate.log"))
        .unwrap();
    assert!(
        log.contains("service=sts") && log.contains("200 Forwarded"),
        "{log}"
    );
    assert!(
        !log.contains(&creds.secret) && !log.contains(&creds.token),
        "{log}"
    );

    rig("gate.sh", &["stop", &port], &[]);
    let gone = http(url, "GET", "/", &[], "", Duration::from_secs(2));
    assert!(gone.is_err(), "still answering: {gone:?}");
}
