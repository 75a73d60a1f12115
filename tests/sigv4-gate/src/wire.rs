//! AWS error documents as the services send them, per protocol.
//!
//! The gate answers in the format the caller's protocol expects, because each SDK finds
//! the error code in a different place:
//!
//! - **AWS JSON 1.0/1.1** (SQS since 2023, both Java SDKs, botocore): the body is
//!   `{"__type":"com.amazon.coral.service#<Shape>","message":"…"}`. SQS is
//!   `awsQueryCompatible`: it also sends `x-amzn-query-error: <QueryCode>;Sender`, and the
//!   SDKs report *that* code (botocore `BaseJSONParser._do_query_compatible_error_parse`,
//!   the Java v2 `AwsJsonProtocolErrorUnmarshaller`, the Rust
//!   `parse_aws_query_compatible_error`), so a client sees the same `ExpiredToken` it saw
//!   over the query protocol; the shape name is left in botocore's `QueryErrorCode`.
//! - **AWS query** (STS, SQS for old v1 clients): `text/xml`,
//!   `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
//!   <RequestId>…</RequestId></ErrorResponse>`, as real STS sends it (moto wraps its own
//!   errors EC2-style in `<Errors>`, which not every SDK reads).
//!
//! The codes and messages are AWS's own: `ExpiredToken` "The security token included in
//! the request is expired"; `SignatureDoesNotMatch` with "Signature expired: T1 is now
//! earlier than T2 (T3 - 5 min.)" or "Signature not yet current: …" for clock skew
//! (STS, and SQS in both protocols, answer skew that way; `RequestExpired` and
//! `RequestTimeTooSkewed` belong to EC2 and S3); `SignatureDoesNotMatch` "The request
//! signature we calculated does not match …" for a wrong signature; and
//! `InvalidClientTokenId` "The security token included in the request is invalid." for a
//! key or token the gate does not know.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use scratchstack_aws_signature::errors::ServiceError;
use scratchstack_aws_signature::SignatureError;

use crate::net::{stamp_date, Body};

/// AWS's message for a session token past its expiry.
pub(crate) const MSG_EXPIRED_TOKEN: &str = "The security token included in the request is expired";
/// AWS's message for a key id or session token it does not know.
pub(crate) const MSG_INVALID_TOKEN: &str = "The security token included in the request is invalid.";
/// AWS's message for a signature that does not match.
const MSG_SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Why the gate refuses a request, in AWS's terms.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    /// HTTP status.
    pub status: StatusCode,
    /// The query-protocol error code (`ExpiredToken`, `SignatureDoesNotMatch`, …).
    pub code: &'static str,
    /// The message, as AWS words it.
    pub message: String,
}

impl Rejection {
    /// A label for stats and logs: the code, except that clock-skew refusals (which AWS
    /// reports as `SignatureDoesNotMatch`) are told apart as `Skew`.
    pub(crate) fn label(&self) -> &'static str {
        if self.code == "SignatureDoesNotMatch"
            && (self.message.starts_with("Signature expired")
                || self.message.starts_with("Signature not yet current"))
        {
            "Skew"
        } else {
            self.code
        }
    }

    /// The gate could not get an answer from moto.
    pub(crate) fn unavailable(reason: &str) -> Rejection {
        Rejection {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "ServiceUnavailable",
            message: format!("sigv4-gate: upstream unavailable: {reason}"),
        }
    }

    /// The request body is over the gate's limit.
    pub(crate) fn too_large(reason: &str) -> Rejection {
        Rejection {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "RequestEntityTooLarge",
            message: format!("Request body too large: {reason}"),
        }
    }
}

impl From<SignatureError> for Rejection {
    fn from(e: SignatureError) -> Rejection {
        let code = ServiceError::error_code(&e);
        let mut status = ServiceError::http_status(&e);
        let mut message = e.to_string();
        match e {
            SignatureError::SignatureDoesNotMatch(None) => message = MSG_SIGNATURE_MISMATCH.into(),
            // AWS answers an unsigned request with 403, where the crate says 400.
            SignatureError::MissingAuthenticationToken(_) => status = StatusCode::FORBIDDEN,
            _ => {}
        }
        Rejection {
            status,
            code,
            message,
        }
    }
}

/// The wire protocol of a request, which decides the shape of an error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// AWS JSON (`application/x-amz-json-1.0` or `-1.1`).
    Json {
        /// The content type to answer with.
        content_type: &'static str,
        /// The service also sends `x-amzn-query-error` (SQS).
        query_compatible: bool,
    },
    /// AWS query: form-encoded request, XML answer.
    Query {
        /// The `xmlns` of the service's documents.
        namespace: &'static str,
    },
}

impl Protocol {
    /// Decides from the request's content type and the service it is for.
    pub(crate) fn detect(headers: &HeaderMap, service: Option<&str>) -> Protocol {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/x-amz-json") {
            Protocol::Json {
                content_type: if content_type.starts_with("application/x-amz-json-1.1") {
                    "application/x-amz-json-1.1"
                } else {
                    "application/x-amz-json-1.0"
                },
                query_compatible: service == Some("sqs"),
            }
        } else {
            Protocol::Query {
                namespace: match service {
                    Some("sqs") => "http://queue.amazonaws.com/doc/2012-11-05/",
                    Some("iam") => "https://iam.amazonaws.com/doc/2010-05-08/",
                    _ => "https://sts.amazonaws.com/doc/2011-06-15/",
                },
            }
        }
    }
}

/// The service a request is for: the credential scope of its `Authorization` header, else
/// its `X-Amz-Target` prefix. Only used to pick an error format, so a guess is fine.
pub(crate) fn service_hint(headers: &HeaderMap) -> Option<String> {
    if let Some(scope) = credential_scope(headers) {
        if let Some(service) = scope.split('/').nth(3) {
            return Some(service.to_owned());
        }
    }
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    if target.starts_with("AmazonSQS.") {
        Some("sqs".into())
    } else if target.starts_with("AWSSecurityTokenService") {
        Some("sts".into())
    } else {
        None
    }
}

/// The `Credential=` value of a SigV4 `Authorization` header (`AKID/date/region/service/aws4_request`).
pub(crate) fn credential_scope(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let start = auth.find("Credential=")? + "Credential=".len();
    let rest = &auth[start..];
    let end = rest.find([',', ' ']).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// The shape name an AWS JSON service gives a query code. These auth errors come from
/// AWS's common request front end, whose shapes live in `com.amazon.coral.service`.
fn json_shape(code: &str) -> String {
    match code {
        "ExpiredToken" => "ExpiredTokenException".into(),
        "SignatureDoesNotMatch" => "InvalidSignatureException".into(),
        "InvalidClientTokenId" => "UnrecognizedClientException".into(),
        "IncompleteSignature" => "IncompleteSignatureException".into(),
        "MissingAuthenticationToken" => "MissingAuthenticationTokenException".into(),
        "InternalFailure" => "InternalFailure".into(),
        other => format!("{other}Exception"),
    }
}

/// Escapes text for an XML element.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A request id in AWS's format (a random UUID).
pub(crate) fn request_id() -> String {
    let hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
            .collect()
    };
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

/// The error answer for `rej` in the format of `protocol`.
pub(crate) fn error_response(protocol: &Protocol, rej: &Rejection) -> Response<Body> {
    let request_id = request_id();
    let fault = if rej.status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let (content_type, body, query_error) = match protocol {
        Protocol::Json {
            content_type,
            query_compatible,
        } => {
            let body = serde_json::json!({
                "__type": format!("com.amazon.coral.service#{}", json_shape(rej.code)),
                "message": rej.message,
            })
            .to_string();
            let query_error = query_compatible.then(|| format!("{};{fault}", rej.code));
            (*content_type, body, query_error)
        }
        Protocol::Query { namespace } => {
            let body = format!(
                "<ErrorResponse xmlns=\"{namespace}\">\n  <Error>\n    <Type>{fault}</Type>\n    \
                 <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
                 <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
                rej.code,
                xml_escape(&rej.message)
            );
            ("text/xml", body, None)
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = rej.status;
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Some(v) = query_error.and_then(|q| HeaderValue::from_str(&q).ok()) {
        headers.insert("x-amzn-query-error", v);
    }
    stamp_date(&mut resp);
    resp
}

#[cfg(test)]
mod tests;
