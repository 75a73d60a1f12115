//! Re-signing for moto: what moto's own signature check cannot compute.
//!
//! moto (5.2.5, `moto/iam/access_control.py`) re-checks every signature with botocore's
//! `SigV4Auth`: it keeps the request headers named in `SignedHeaders` and lets botocore
//! build the canonical request. botocore never signs `user-agent`, `expect`,
//! `transfer-encoding` or `x-amzn-trace-id` (`SIGNED_HEADERS_BLACKLIST`), so a client
//! that signs one of them computes a canonical request moto cannot reproduce, and moto
//! answers `SignatureDoesNotMatch` to a correctly signed request. AWS SDK for Java 1.x
//! is such a client: its `AWS4Signer` signs `User-Agent` on every request.
//!
//! After the gate has verified the original signature (with the same key, as AWS would),
//! it signs the request again for moto over the signed headers minus those four, with
//! the same key, scope and `X-Amz-Date`, and replaces `Authorization`. Requests that sign
//! none of them (botocore, SDK v2, aws-sdk-rust) are forwarded untouched. Nothing about
//! the client's own check changes: a bad signature, skew or an expired token is refused
//! before this step.

use bytes::Bytes;
use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use http::header::{HeaderValue, AUTHORIZATION};
use http::request::Parts;
use scratchstack_aws_signature::canonical::CanonicalRequest;
use scratchstack_aws_signature::SignatureOptions;
use sha2::Sha256;

use super::KeyStore;

/// Headers botocore's `SigV4Auth` leaves out of every canonical request.
const BOTOCORE_NEVER_SIGNS: [&str; 4] = [
    "expect",
    "transfer-encoding",
    "user-agent",
    "x-amzn-trace-id",
];

/// `parts` with an `Authorization` moto can check, or unchanged when it already can (or
/// when the request is not one this step understands; moto then answers as it would).
pub(super) fn for_moto(mut parts: Parts, body: &Bytes, keys: &KeyStore) -> Parts {
    if let Some(value) = resigned(&parts, body, keys) {
        parts.headers.insert(AUTHORIZATION, value);
    }
    parts
}

fn resigned(parts: &Parts, body: &Bytes, keys: &KeyStore) -> Option<HeaderValue> {
    let auth = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let field = |name: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|f| f.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let credential = field("Credential")?;
    let signed: Vec<&str> = field("SignedHeaders")?.split(';').collect();
    if !signed.iter().any(|h| BOTOCORE_NEVER_SIGNS.contains(h)) {
        return None;
    }
    let reduced: Vec<String> = signed
        .iter()
        .filter(|h| !BOTOCORE_NEVER_SIGNS.contains(h))
        .map(|h| (*h).to_owned())
        .collect();
    let amz_date = parts.headers.get("x-amz-date")?.to_str().ok()?;
    let date = NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .ok()?
        .date();
    let mut scope_parts = credential.split('/');
    let key_id = scope_parts.next()?;
    let _ = scope_parts.next()?;
    let region = scope_parts.next()?;
    let service = scope_parts.next()?;
    let scope = credential.split_once('/')?.1;

    // The same canonicalisation the gate verified with, over the reduced header list.
    let (canonical, _, _) = CanonicalRequest::from_request_parts(
        parts.clone(),
        body.clone(),
        SignatureOptions::default(),
    )
    .ok()?;
    let hashed = hex::encode(canonical.canonical_request_sha256(&reduced));
    let string_to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashed}");
    let signing_key = keys.signing_key_for(key_id, date, region, service)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&signing_key).ok()?;
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    HeaderValue::from_str(&format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={}, Signature={signature}",
        reduced.join(";")
    ))
    .ok()
}

#[cfg(test)]
mod tests;
