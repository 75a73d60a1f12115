use chrono::{DateTime, Utc};
use http::Request;
use scratchstack_aws_signature::{
    service_for_signing_key_fn, GetSigningKeyRequest, NO_ADDITIONAL_SIGNED_HEADERS,
};

use super::*;
use crate::gate::Registration;

const KEY_ID: &str = "ASIAEXAMPLEEXAMPLE12";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const AMZ_DATE: &str = "20261123T120000Z";

fn store() -> KeyStore {
    let keys = KeyStore::default();
    keys.register(Registration {
        access_key_id: KEY_ID.into(),
        secret_access_key: SECRET.into(),
        session_token: None,
        expiration: None,
    })
    .unwrap();
    keys
}

/// An SDK-v1-like SQS request, signed over `signed` (SigV4 built from the crate's
/// canonical request, checked below by the crate's own validator).
fn signed_request(keys: &KeyStore, body: &Bytes, signed: &[&str]) -> Parts {
    let (mut parts, _) = Request::builder()
        .method("POST")
        .uri("/")
        .header("host", "127.0.0.1:4566")
        .header("content-type", "application/x-amz-json-1.0")
        .header(
            "user-agent",
            "aws-sdk-java/1.12.797 Linux/6.1 OpenJDK_64-Bit_Server_VM/17",
        )
        .header("x-amz-date", AMZ_DATE)
        .header("x-amz-target", "AmazonSQS.ListQueues")
        .body(())
        .unwrap()
        .into_parts();
    let scope = "20261123/us-east-1/sqs/aws4_request";
    let placeholder = format!(
        "AWS4-HMAC-SHA256 Credential={KEY_ID}/{scope}, SignedHeaders={}, Signature=00",
        signed.join(";")
    );
    parts
        .headers
        .insert(AUTHORIZATION, HeaderValue::from_str(&placeholder).unwrap());
    let (canonical, _, _) = CanonicalRequest::from_request_parts(
        parts.clone(),
        body.clone(),
        SignatureOptions::default(),
    )
    .unwrap();
    let list: Vec<String> = signed.iter().map(|h| (*h).to_owned()).collect();
    let hashed = hex::encode(canonical.canonical_request_sha256(&list));
    let sts = format!("AWS4-HMAC-SHA256\n{AMZ_DATE}\n{scope}\n{hashed}");
    let date = NaiveDateTime::parse_from_str(AMZ_DATE, "%Y%m%dT%H%M%SZ")
        .unwrap()
        .date();
    let key = keys
        .signing_key_for(KEY_ID, date, "us-east-1", "sqs")
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(sts.as_bytes());
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={KEY_ID}/{scope}, SignedHeaders={}, Signature={}",
        signed.join(";"),
        hex::encode(mac.finalize().into_bytes())
    );
    parts
        .headers
        .insert(AUTHORIZATION, HeaderValue::from_str(&auth).unwrap());
    parts
}

/// The crate's verdict on a request's signature, at its signing time.
async fn verifies(keys: &KeyStore, parts: &Parts, body: &Bytes) -> bool {
    let now: DateTime<Utc> = NaiveDateTime::parse_from_str(AMZ_DATE, "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc();
    let (canonical, _, _) = CanonicalRequest::from_request_parts(
        parts.clone(),
        body.clone(),
        SignatureOptions::default(),
    )
    .unwrap();
    let auth = canonical
        .get_authenticator(&NO_ADDITIONAL_SIGNED_HEADERS)
        .unwrap();
    let keys = keys.clone();
    let find_key = move |req: GetSigningKeyRequest| {
        let result = keys.signing_key(&req, now).map_err(Into::into);
        async move { result }
    };
    let mut lookup = service_for_signing_key_fn(find_key);
    auth.validate_signature(
        "us-east-1",
        "sqs",
        now,
        chrono::Duration::minutes(5),
        &mut lookup,
    )
    .await
    .is_ok()
}

fn signed_headers(parts: &Parts) -> String {
    let auth = parts.headers.get(AUTHORIZATION).unwrap().to_str().unwrap();
    auth.split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_request_that_signed_user_agent_is_signed_again_without_it_with_the_same_key() {
    let keys = store();
    let body = Bytes::from_static(b"{}");
    let original = signed_request(
        &keys,
        &body,
        &[
            "content-type",
            "host",
            "user-agent",
            "x-amz-date",
            "x-amz-target",
        ],
    );
    assert!(
        verifies(&keys, &original, &body).await,
        "the original must be a valid signature"
    );

    let for_moto = for_moto(original.clone(), &body, &keys);
    assert_eq!(
        signed_headers(&for_moto),
        "content-type;host;x-amz-date;x-amz-target"
    );
    assert!(
        verifies(&keys, &for_moto, &body).await,
        "the new signature must be valid too"
    );
    assert_ne!(
        for_moto.headers.get(AUTHORIZATION),
        original.headers.get(AUTHORIZATION)
    );
    // Everything but Authorization is forwarded as received.
    assert_eq!(
        for_moto.headers.get("user-agent"),
        original.headers.get("user-agent")
    );
}

#[tokio::test]
async fn a_request_botocore_can_check_is_forwarded_untouched() {
    let keys = store();
    let body = Bytes::from_static(b"{}");
    let original = signed_request(
        &keys,
        &body,
        &["content-type", "host", "x-amz-date", "x-amz-target"],
    );
    let for_moto = for_moto(original.clone(), &body, &keys);
    assert_eq!(
        for_moto.headers.get(AUTHORIZATION),
        original.headers.get(AUTHORIZATION)
    );
}

#[test]
fn an_unregistered_key_is_left_for_moto_to_refuse() {
    let body = Bytes::from_static(b"{}");
    let original = signed_request(&store(), &body, &["host", "user-agent", "x-amz-date"]);
    let for_moto = for_moto(original.clone(), &body, &KeyStore::default());
    assert_eq!(
        for_moto.headers.get(AUTHORIZATION),
        original.headers.get(AUTHORIZATION)
    );
}
