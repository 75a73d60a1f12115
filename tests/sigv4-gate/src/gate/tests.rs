use chrono::NaiveDate;

use super::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn reg(id: &str, token: Option<&str>, expiration: Option<DateTime<Utc>>) -> Registration {
    Registration {
        access_key_id: id.into(),
        secret_access_key: SECRET.into(),
        session_token: token.map(str::to_owned),
        expiration,
    }
}

fn lookup(id: &str, token: Option<&str>) -> GetSigningKeyRequest {
    GetSigningKeyRequest::builder()
        .access_key(id)
        .session_token(token.map(str::to_owned))
        .request_date(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
        .region("us-east-1")
        .service("sqs")
        .build()
        .unwrap()
}

fn code(r: Result<GetSigningKeyResponse, SignatureError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => Rejection::from(e).code.into(),
    }
}

#[test]
fn registration_accepts_an_imds_document_and_hides_secrets_in_debug() {
    let doc = r#"{"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC",
        "AccessKeyId":"ASIAEXAMPLEEXAMPLE12","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "Token":"tok-123","Expiration":"2026-01-01T01:00:00Z"}"#;
    let reg: Registration = serde_json::from_str(doc).unwrap();
    assert_eq!(reg.session_token.as_deref(), Some("tok-123"));
    assert_eq!(
        reg.expiration.unwrap().to_rfc3339(),
        "2026-01-01T01:00:00+00:00"
    );
    let debug = format!("{reg:?}");
    assert!(
        !debug.contains("wJalr") && !debug.contains("tok-123"),
        "{debug}"
    );
}

#[test]
fn registration_checks_the_secret_length_and_the_key_id() {
    let store = KeyStore::default();
    let mut short = reg("AKIAEXAMPLE", None, None);
    short.secret_access_key = "short".into();
    assert!(matches!(
        store.register(short),
        Err(RegistrationError::BadSecretLength(5))
    ));
    assert!(matches!(
        store.register(reg("A/B", None, None)),
        Err(RegistrationError::BadKeyId)
    ));
    assert!(matches!(
        store.register(reg("ASIAX", Some(""), None)),
        Err(RegistrationError::EmptyToken)
    ));
    assert!(store.list().is_empty());
}

#[test]
fn lookup_refuses_unknown_keys_wrong_tokens_and_expired_tokens() {
    let store = KeyStore::default();
    let now = Utc::now();
    store.register(reg("AKIALONGTERM", None, None)).unwrap();
    store
        .register(reg(
            "ASIALIVE",
            Some("t1"),
            Some(now + chrono::Duration::hours(1)),
        ))
        .unwrap();
    store
        .register(reg("ASIADEAD", Some("t2"), Some(now)))
        .unwrap();

    assert_eq!(
        code(store.signing_key(&lookup("AKIALONGTERM", None), now)),
        "ok"
    );
    assert_eq!(
        code(store.signing_key(&lookup("AKIALONGTERM", Some("t1")), now)),
        "InvalidClientTokenId"
    );
    assert_eq!(
        code(store.signing_key(&lookup("ASIALIVE", Some("t1")), now)),
        "ok"
    );
    assert_eq!(
        code(store.signing_key(&lookup("ASIALIVE", Some("t2")), now)),
        "InvalidClientTokenId"
    );
    assert_eq!(
        code(store.signing_key(&lookup("ASIALIVE", None), now)),
        "InvalidClientTokenId"
    );
    assert_eq!(
        code(store.signing_key(&lookup("ASIANOBODY", Some("t1")), now)),
        "InvalidClientTokenId"
    );
    // At the expiry instant the token is already expired, as AWS has it.
    assert_eq!(
        code(store.signing_key(&lookup("ASIADEAD", Some("t2")), now)),
        "ExpiredToken"
    );
    assert_eq!(
        code(store.signing_key(
            &lookup("ASIADEAD", Some("t2")),
            now - chrono::Duration::seconds(1)
        )),
        "ok"
    );

    assert!(store.remove("ASIADEAD"));
    assert!(!store.remove("ASIADEAD"));
    let ids: Vec<String> = store.list().into_iter().map(|k| k.access_key_id).collect();
    assert_eq!(ids, ["AKIALONGTERM", "ASIALIVE"]);
}

#[test]
fn stats_count_by_outcome_and_abbreviated_key() {
    let mut stats = GateStats::default();
    stats.count(Some("ASIAEXAMPLEEXAMPLE12"), "Forwarded");
    stats.count(Some("ASIAEXAMPLEEXAMPLE12"), "ExpiredToken");
    stats.count(None, "MissingAuthenticationToken");
    assert_eq!(stats.requests, 3);
    assert_eq!(stats.by_outcome["ExpiredToken"], 1);
    assert_eq!(stats.by_access_key["ASIA…LE12"]["Forwarded"], 1);
}
