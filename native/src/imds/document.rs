//! Parsing the IMDS credentials document.
//!
//! ```json
//! {"Code":"Success","LastUpdated":"2026-11-23T13:00:00Z","Type":"AWS-HMAC",
//!  "AccessKeyId":"ASIA...","SecretAccessKey":"...","Token":"...",
//!  "Expiration":"2026-11-23T19:00:00Z","AccountId":"123456789012"}
//! ```
//!
//! Error messages never quote the document: it holds the secret key and token.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::time_fmt::parse_rfc3339;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    code: Option<String>,
    message: Option<String>,
    last_updated: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
    account_id: Option<String>,
}

/// Parses `body` for `role`, checking it against the corrected time `now`.
pub(crate) fn parse(body: &str, role: &str, now: SystemTime) -> Result<Credentials> {
    let malformed = |detail: String| Error::Malformed {
        role: role.to_owned(),
        detail,
    };
    let doc: Document = serde_json::from_str(body).map_err(|e| {
        // serde_json's message can quote a value; report only where and what kind.
        malformed(format!(
            "not a valid JSON credentials document ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let code = doc.code.as_deref().unwrap_or("Success");
    if code != "Success" {
        return Err(Error::CodeNotSuccess {
            role: role.to_owned(),
            code: code.to_owned(),
            message: doc.message.unwrap_or_default(),
        });
    }
    let missing = |field: &str| malformed(format!("the {field} field is missing or empty"));
    let access_key_id = doc
        .access_key_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("AccessKeyId"))?;
    let secret = SecretString::new(
        doc.secret_access_key
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("SecretAccessKey"))?,
    );
    let token = SecretString::new(
        doc.token
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("Token"))?,
    );
    let expiration_text = doc.expiration.ok_or_else(|| missing("Expiration"))?;
    let expiration = parse_rfc3339(&expiration_text).ok_or_else(|| {
        malformed(format!(
            "Expiration {expiration_text:?} is not an RFC 3339 time"
        ))
    })?;
    if let Ok(ago) = now.duration_since(expiration) {
        return Err(Error::AlreadyExpired {
            role: role.to_owned(),
            ago,
        });
    }
    // Lifetime = Expiration − LastUpdated; without a usable LastUpdated, the time left now.
    let lifetime = doc
        .last_updated
        .as_deref()
        .and_then(parse_rfc3339)
        .and_then(|issued| expiration.duration_since(issued).ok())
        .filter(|d| *d >= Duration::from_secs(1))
        .unwrap_or_else(|| expiration.duration_since(now).unwrap_or_default());
    Ok(
        Credentials::new(access_key_id, secret, Some(token), expiration, lifetime)
            .with_account_id(doc.account_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time_fmt::rfc3339;

    fn doc(expiration: SystemTime, last_updated: SystemTime) -> String {
        format!(
            r#"{{"Code":"Success","LastUpdated":"{}","Type":"AWS-HMAC","AccessKeyId":"ASIAEXAMPLEEXAMPLE","SecretAccessKey":"s3cr3t-key","Token":"s3cr3t-token","Expiration":"{}"}}"#,
            rfc3339(last_updated),
            rfc3339(expiration)
        )
    }

    #[test]
    fn parses_a_good_document_with_its_lifetime() {
        let now = SystemTime::now();
        let c = parse(
            &doc(
                now + Duration::from_secs(3600),
                now - Duration::from_secs(1800),
            ),
            "r",
            now,
        )
        .unwrap();
        assert_eq!(c.access_key_id(), "ASIAEXAMPLEEXAMPLE");
        assert_eq!(c.secret_access_key().expose(), "s3cr3t-key");
        let lifetime = c.lifetime().as_secs();
        assert!((5399..=5401).contains(&lifetime), "{lifetime}");
    }

    #[test]
    fn errors_never_quote_the_document() {
        let now = SystemTime::now();
        let bad = r#"{"AccessKeyId":"A","SecretAccessKey":"s3cr3t-key","Token":12}"#;
        let msg = parse(bad, "r", now).unwrap_err().to_string();
        assert!(!msg.contains("s3cr3t"), "{msg}");
        let expired = doc(
            now - Duration::from_secs(5),
            now - Duration::from_secs(3600),
        );
        assert!(matches!(
            parse(&expired, "r", now),
            Err(Error::AlreadyExpired { .. })
        ));
        let failed = r#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"denied"}"#;
        assert!(
            matches!(parse(failed, "r", now), Err(Error::CodeNotSuccess { ref code, .. }) if code == "AssumeRoleUnauthorizedAccess")
        );
    }
}
