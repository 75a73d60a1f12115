use http::header::{HeaderMap, HeaderValue};
use http_body_util::BodyExt;

use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_static(v));
    }
    h
}

fn body_of(resp: Response<Body>) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bytes = rt.block_on(resp.into_body().collect()).unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

const SQS_AUTH: &str = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE12/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";

#[test]
fn service_comes_from_the_credential_scope_then_the_target() {
    assert_eq!(
        service_hint(&headers(&[("authorization", SQS_AUTH)])).as_deref(),
        Some("sqs")
    );
    assert_eq!(
        service_hint(&headers(&[("x-amz-target", "AmazonSQS.ListQueues")])).as_deref(),
        Some("sqs")
    );
    assert_eq!(service_hint(&headers(&[])), None);
}

#[test]
fn sqs_json_errors_carry_the_query_code_in_a_header() {
    let h = headers(&[
        ("authorization", SQS_AUTH),
        ("content-type", "application/x-amz-json-1.0"),
    ]);
    let proto = Protocol::detect(&h, service_hint(&h).as_deref());
    let rej = Rejection {
        status: StatusCode::FORBIDDEN,
        code: "ExpiredToken",
        message: MSG_EXPIRED_TOKEN.into(),
    };
    let resp = error_response(&proto, &rej);
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["x-amzn-query-error"], "ExpiredToken;Sender");
    assert_eq!(resp.headers()["content-type"], "application/x-amz-json-1.0");
    assert!(resp.headers().contains_key("date"));
    let body: serde_json::Value = serde_json::from_str(&body_of(resp)).unwrap();
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#ExpiredTokenException"
    );
    assert_eq!(body["message"], MSG_EXPIRED_TOKEN);
}

#[test]
fn query_errors_are_sts_shaped_xml_with_escaped_messages() {
    let proto = Protocol::detect(
        &headers(&[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )]),
        Some("sts"),
    );
    let rej = Rejection {
        status: StatusCode::FORBIDDEN,
        code: "SignatureDoesNotMatch",
        message: "a <b> & 'c'".into(),
    };
    let resp = error_response(&proto, &rej);
    assert_eq!(resp.headers()["content-type"], "text/xml");
    assert!(!resp.headers().contains_key("x-amzn-query-error"));
    let body = body_of(resp);
    assert!(
        body.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
        "{body}"
    );
    assert!(body.contains("<Type>Sender</Type>"), "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    assert!(
        body.contains("<Message>a &lt;b&gt; &amp; &apos;c&apos;</Message>"),
        "{body}"
    );
}

#[test]
fn skew_refusals_are_labelled_apart_from_bad_signatures() {
    let skew = Rejection::from(SignatureError::SignatureDoesNotMatch(Some(
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T001000Z - 5 min.)".into(),
    )));
    assert_eq!((skew.code, skew.label()), ("SignatureDoesNotMatch", "Skew"));
    let bad = Rejection::from(SignatureError::SignatureDoesNotMatch(None));
    assert_eq!(bad.label(), "SignatureDoesNotMatch");
    assert!(bad
        .message
        .starts_with("The request signature we calculated"));
    let unsigned = Rejection::from(SignatureError::MissingAuthenticationToken("x".into()));
    assert_eq!(unsigned.status, 403);
}

#[test]
fn request_ids_look_like_uuids() {
    let id = request_id();
    let lens: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(lens, [8, 4, 4, 4, 12], "{id}");
}
