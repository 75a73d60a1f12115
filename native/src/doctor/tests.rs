use super::*;

fn report(statuses: &[(&'static str, Status)]) -> Report {
    Report {
        checks: statuses
            .iter()
            .map(|(id, s)| Check {
                id,
                status: *s,
                summary: format!("{id} finding"),
                fix: (*s == Status::Fail || *s == Status::Warn)
                    .then(|| "first step\nsecond step".to_owned()),
            })
            .collect(),
        elapsed: Duration::from_millis(1234),
    }
}

#[test]
fn exit_code_is_one_only_when_a_check_fails() {
    assert_eq!(
        report(&[("a", Status::Pass), ("b", Status::Warn)]).exit_code(),
        0
    );
    assert_eq!(
        report(&[("a", Status::Skip), ("b", Status::Fail)]).exit_code(),
        1
    );
}

#[test]
fn json_has_the_documented_shape() {
    let json: serde_json::Value =
        serde_json::from_str(&report(&[("a", Status::Pass), ("b", Status::Fail)]).to_json())
            .unwrap();
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["checks"][0]["id"], "a");
    assert_eq!(json["checks"][0]["status"], "pass");
    assert_eq!(json["checks"][0]["fix"], "");
    assert_eq!(json["checks"][1]["status"], "fail");
    assert_eq!(json["checks"][1]["fix"], "first step\nsecond step");
    assert_eq!(json.as_object().unwrap().len(), 2);
    assert_eq!(json["checks"][1].as_object().unwrap().len(), 4);
}

#[test]
fn text_marks_each_check_and_indents_the_fix() {
    let text = report(&[("a.b", Status::Pass), ("c", Status::Warn)]).render();
    assert!(text.contains("[pass] a.b  a.b finding\n"), "{text}");
    assert!(
        text.contains("[WARN] c    c finding\n       fix: first step\n            second step\n"),
        "{text}"
    );
    assert!(
        text.ends_with("verdict: no failures — fail 0, warn 1, pass 1, skip 0\n"),
        "{text}"
    );
}

#[test]
fn unfinished_checks_take_their_provisional_finding() {
    let sink = Sink::default();
    sink.provisional(Check::skip(CHECK_IDS[0], "provisional"));
    sink.provisional(Check::skip(CHECK_IDS[1], "provisional"));
    sink.put(Check::pass(CHECK_IDS[1], "final"));
    let checks = sink.take(Duration::from_secs(4));
    assert_eq!(checks.len(), CHECK_IDS.len());
    assert_eq!(checks[0].summary, "provisional");
    assert_eq!(checks[1].summary, "final");
    assert_eq!(checks[2].status, Status::Fail);
    assert!(checks[2].summary.contains("4.0 s deadline"));
}
