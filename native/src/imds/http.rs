//! One IMDS request: per-attempt timeout, retries with full-jitter backoff, throttling with
//! `Retry-After`, a capped body, and the `Date` header fed to the clock.

use std::time::{Duration, SystemTime};

use reqwest::{Method, StatusCode, Url};
use zeroize::Zeroizing;

use crate::backoff::Backoff;
use crate::clock::SkewClock;
use crate::error::{Error, Result};
use crate::secret::SecretString;

/// Largest response body accepted: real IMDS documents are a few hundred bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Backoff between attempts of one request.
pub const RETRY_BACKOFF: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
/// The longest `Retry-After` obeyed within one request; longer asks end the request and
/// leave the wait to the refresher's schedule.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The IMDSv2 token header.
pub const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// The IMDSv2 token TTL header.
pub const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";

/// A final (non-retried) IMDS answer. The body is wiped on drop: it may hold secrets.
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Body text (empty unless the status is a success).
    pub body: Zeroizing<String>,
}

/// How an attempt failed, for the decision whether to retry.
enum AttemptError {
    Timeout(String),
    Transport(String),
    Throttled(StatusCode, Option<Duration>),
}

/// Low-level IMDS HTTP: no proxy, no redirects, fixed user agent.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    base: Url,
    timeout: Duration,
    attempts: u32,
}

impl Http {
    pub(crate) fn new(base: Url, timeout: Duration, attempts: u32) -> Result<Self> {
        // reqwest is built without a bundled crypto provider (ring is much smaller than the
        // default aws-lc); an already installed process default is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            // IMDS must never go through a proxy: the proxy would see the credentials, and
            // link-local addresses are not reachable through it anyway.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("freshcreds/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .http1_only()
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Unreachable(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base,
            timeout,
            attempts,
        })
    }

    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::Unreachable(format!("bad IMDS path {path}: {e}")))
    }

    /// Sends `method path` up to `attempts` times, retrying timeouts, transport errors,
    /// 429 and 5xx with backoff (or `Retry-After`). Any other status is returned as is.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        clock: &SkewClock,
    ) -> Result<Answer> {
        self.send_with_attempts(method, path, token, clock, self.attempts)
            .await
    }

    pub(crate) async fn send_with_attempts(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        clock: &SkewClock,
        attempts: u32,
    ) -> Result<Answer> {
        let url = self.url(path)?;
        let mut last = None;
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                let wait = match &last {
                    Some(AttemptError::Throttled(_, Some(after))) => *after,
                    _ => RETRY_BACKOFF.delay(attempt - 1),
                };
                tokio::time::sleep(wait).await;
            }
            match self
                .attempt(method.clone(), url.clone(), path, token, clock)
                .await
            {
                Ok(answer) => return Ok(answer),
                Err(AttemptFailure::Final(e)) => return Err(e),
                Err(AttemptFailure::Retry(e)) => {
                    if let AttemptError::Throttled(status, Some(after)) = &e {
                        if *after > MAX_RETRY_AFTER {
                            tracing::debug!(path, %status, ?after, "Retry-After longer than one request may wait");
                            last = Some(e);
                            break;
                        }
                    }
                    tracing::debug!(path, attempt, "IMDS attempt failed; retrying");
                    last = Some(e);
                }
            }
        }
        Err(match last {
            Some(AttemptError::Throttled(status, _))
                if status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::SERVICE_UNAVAILABLE =>
            {
                Error::ImdsThrottled {
                    path: path.to_owned(),
                    status: status.as_u16(),
                    attempts,
                }
            }
            Some(AttemptError::Throttled(status, _)) => Error::ImdsStatus {
                path: path.to_owned(),
                status: status.as_u16(),
            },
            Some(AttemptError::Timeout(detail)) | Some(AttemptError::Transport(detail)) => {
                Error::ImdsUnreachable {
                    endpoint: self.base.as_str().trim_end_matches('/').to_owned(),
                    detail,
                }
            }
            None => Error::Unreachable("no IMDS attempt was made".into()),
        })
    }

    /// One attempt without token or retries, for diagnosis: any HTTP answer (including
    /// throttling) is `Ok`; no answer at all is `Err`.
    pub(crate) async fn probe_once(
        &self,
        method: Method,
        path: &str,
        clock: &SkewClock,
    ) -> std::result::Result<Answer, ()> {
        let url = self.url(path).map_err(|_| ())?;
        match self.attempt(method, url, path, None, clock).await {
            Ok(a) => Ok(a),
            Err(AttemptFailure::Retry(AttemptError::Throttled(status, _))) => Ok(Answer {
                status,
                body: Zeroizing::new(String::new()),
            }),
            Err(_) => Err(()),
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: Url,
        path: &str,
        token: Option<&SecretString>,
        clock: &SkewClock,
    ) -> std::result::Result<Answer, AttemptFailure> {
        let mut request = self
            .client
            .request(method.clone(), url)
            .timeout(self.timeout);
        if method == Method::PUT {
            request = request.header(TOKEN_TTL_HEADER, "21600");
        }
        if let Some(token) = token {
            request = request.header(TOKEN_HEADER, token.expose());
        }
        let sent = clock.local_now();
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err(AttemptFailure::Retry(AttemptError::Timeout(format!(
                    "timed out after {:?}",
                    self.timeout
                ))))
            }
            Err(e) => {
                return Err(AttemptFailure::Retry(AttemptError::Transport(
                    transport_detail(&e),
                )))
            }
        };
        observe_date(&response, sent, clock);
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let after = retry_after(&response);
            return Err(AttemptFailure::Retry(AttemptError::Throttled(
                status, after,
            )));
        }
        if !status.is_success() {
            return Ok(Answer {
                status,
                body: Zeroizing::new(String::new()),
            });
        }
        let body = read_capped(response, path).await?;
        Ok(Answer { status, body })
    }
}

enum AttemptFailure {
    Retry(AttemptError),
    Final(Error),
}

impl From<Error> for AttemptFailure {
    fn from(e: Error) -> Self {
        AttemptFailure::Final(e)
    }
}

async fn read_capped(
    mut response: reqwest::Response,
    path: &str,
) -> std::result::Result<Zeroizing<String>, AttemptFailure> {
    let too_large = || Error::BodyTooLarge {
        path: path.to_owned(),
        limit: BODY_LIMIT,
    };
    if response
        .content_length()
        .is_some_and(|n| n > BODY_LIMIT as u64)
    {
        return Err(too_large().into());
    }
    let mut bytes = Zeroizing::new(Vec::new());
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > BODY_LIMIT {
                    return Err(too_large().into());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => {
                return Err(AttemptFailure::Retry(AttemptError::Timeout(
                    "timed out reading the body".into(),
                )))
            }
            Err(e) => {
                return Err(AttemptFailure::Retry(AttemptError::Transport(
                    transport_detail(&e),
                )))
            }
        }
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::NotUtf8 {
        path: path.to_owned(),
    })?;
    Ok(Zeroizing::new(text.to_owned()))
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = crate::time_fmt::parse_http_date(value)?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn observe_date(response: &reqwest::Response, sent: SystemTime, clock: &SkewClock) {
    let Some(date) = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::time_fmt::parse_http_date)
    else {
        return;
    };
    clock.observe_date_header(date, sent, clock.local_now());
}

/// The innermost cause of a transport error, e.g. "Connection refused (os error 111)".
fn transport_detail(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}
