//! The SigV4 gate: AWS's expiry and skew checks in front of moto.
//!
//! moto checks signatures but neither token expiry nor clock skew (tests/rig/README.md),
//! so on its own it can never answer `ExpiredToken` or a skew error. The gate sits in
//! front of it and, for each request:
//!
//! 1. reads the whole body (at most [`GateConfig::max_body`]);
//! 2. builds the SigV4 canonical request with `scratchstack-aws-signature` exactly as
//!    received (never folding a form body into the query: moto re-checks the signature
//!    on the original bytes, and so must the gate);
//! 3. checks the signing time against its own clock within [`GateConfig::skew_window`]
//!    (5 minutes, as AWS; the crate's own default is 15);
//! 4. looks the key up among the registered ones: unknown key, or a session token other
//!    than the registered one, is `InvalidClientTokenId`; a token at or past its
//!    registered expiry is `ExpiredToken`;
//! 5. checks the signature;
//! 6. forwards the original method, path, headers (`Host` unchanged) and body bytes to
//!    moto and relays its answer. A request that signed a header botocore never signs
//!    (SDK v1 signs `User-Agent`) gets a new `Authorization` from the same key first, since
//!    moto re-checks signatures with botocore (the `resign` module says why).
//!
//! Refusals are answered in the caller's protocol (see the `wire` module), and every
//! answer carries the gate's own `Date`, which SDKs use to correct their clock.
//!
//! # Registering keys
//!
//! moto never reveals secrets, so the rig tells the gate each key it hands out, through
//! the admin API on a second loopback port:
//!
//! | request | effect |
//! | --- | --- |
//! | `POST /keys` with `{"AccessKeyId","SecretAccessKey","Token","Expiration"}` | registers (or replaces) a key; `Token` and `Expiration` (RFC 3339) may be omitted for a long-term key; an IMDS credentials document is accepted as is |
//! | `GET /keys` | the registered key ids, whether each has a token, and expiries (no secrets) |
//! | `DELETE /keys/AKID`, `DELETE /keys` | forgets one key, or all |
//! | `GET /stats`, `DELETE /stats` | request counts by outcome and by key; reset |
//! | `GET /health` | `ok` |

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use scratchstack_aws_signature::canonical::CanonicalRequest;
use scratchstack_aws_signature::{
    service_for_signing_key_fn, GetSigningKeyRequest, GetSigningKeyResponse, KSecretKey,
    SignatureError, SignatureOptions, NO_ADDITIONAL_SIGNED_HEADERS,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;

use crate::net::{self, Background, Body, Upstream};
use crate::wire::{self, Protocol, Rejection};
use crate::{abbreviate_key_id, log_line, Error};

/// The largest admin request body (a registration is well under 4 KiB).
const ADMIN_MAX_BODY: usize = 64 * 1024;

/// How the gate is set up. [`GateConfig::new`] gives AWS's values.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// Where AWS requests are accepted (loopback only; port 0 picks a free one).
    /// By default, `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Where the admin API listens (loopback only). By default, `127.0.0.1:0`.
    pub admin_listen: SocketAddr,
    /// moto's URL, `http://127.0.0.1:PORT`.
    pub upstream: String,
    /// The largest difference between a request's signing time and the gate's clock,
    /// either way. By default, 5 minutes, as AWS.
    pub skew_window: Duration,
    /// How long a forwarded request may take in all. By default, 60 s: an SQS
    /// `ReceiveMessage` long poll lasts up to 20 s.
    pub upstream_timeout: Duration,
    /// The largest request and answer body. By default, 8 MiB.
    pub max_body: usize,
}

impl GateConfig {
    /// AWS's values, in front of `upstream`.
    pub fn new(upstream: &str) -> GateConfig {
        GateConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream: upstream.to_owned(),
            skew_window: Duration::from_secs(5 * 60),
            upstream_timeout: Duration::from_secs(60),
            max_body: 8 * 1024 * 1024,
        }
    }
}

// ===== keys =====

/// A key the rig registers, in the field names of AWS credential documents (IMDS,
/// `credential_process`), so that such a document can be posted as it is.
#[derive(Clone, Deserialize)]
pub struct Registration {
    /// The access key id.
    #[serde(rename = "AccessKeyId", alias = "access_key_id")]
    pub access_key_id: String,
    /// The secret access key (40 characters, as AWS's and moto's).
    #[serde(rename = "SecretAccessKey", alias = "secret_access_key")]
    pub secret_access_key: String,
    /// The session token, for temporary credentials.
    #[serde(
        rename = "Token",
        alias = "SessionToken",
        alias = "session_token",
        default
    )]
    pub session_token: Option<String>,
    /// When the token stops being accepted; `None` for a long-term key.
    #[serde(rename = "Expiration", alias = "expiration", default)]
    pub expiration: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Registration {
    // Secrets and tokens never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("access_key_id", &abbreviate_key_id(&self.access_key_id))
            .field("has_session_token", &self.session_token.is_some())
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// Why a registration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The access key id is empty or not printable ASCII.
    #[error("access key id must be non-empty printable ASCII without '/'")]
    BadKeyId,
    /// The secret does not have the 40 characters AWS secrets have
    /// (`scratchstack-aws-signature` derives keys from exactly that length).
    #[error("secret access key must be 40 characters, got {0}")]
    BadSecretLength(usize),
    /// The session token is empty.
    #[error("session token must not be empty (omit it for a long-term key)")]
    EmptyToken,
}

/// A registered key as the admin API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// The access key id.
    pub access_key_id: String,
    /// Whether requests must carry a session token.
    pub has_session_token: bool,
    /// The registered expiry, if any.
    pub expiration: Option<DateTime<Utc>>,
}

#[derive(Clone)]
struct KeyEntry {
    secret: KSecretKey,
    session_token: Option<String>,
    expiration: Option<DateTime<Utc>>,
}

/// The keys the gate accepts. Cloning shares the same store.
#[derive(Clone, Default)]
pub struct KeyStore {
    keys: Arc<RwLock<HashMap<String, KeyEntry>>>,
}

impl KeyStore {
    /// Registers `reg`, replacing any key with the same id.
    pub fn register(&self, reg: Registration) -> Result<KeyInfo, RegistrationError> {
        let id_ok = !reg.access_key_id.is_empty()
            && reg
                .access_key_id
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'/');
        if !id_ok {
            return Err(RegistrationError::BadKeyId);
        }
        let secret = KSecretKey::from_str(&reg.secret_access_key)
            .map_err(|_| RegistrationError::BadSecretLength(reg.secret_access_key.len()))?;
        if reg.session_token.as_deref() == Some("") {
            return Err(RegistrationError::EmptyToken);
        }
        let info = KeyInfo {
            access_key_id: reg.access_key_id.clone(),
            has_session_token: reg.session_token.is_some(),
            expiration: reg.expiration,
        };
        let entry = KeyEntry {
            secret,
            session_token: reg.session_token,
            expiration: reg.expiration,
        };
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(reg.access_key_id, entry);
        Ok(info)
    }

    /// Forgets a key; false if it was not registered.
    pub fn remove(&self, access_key_id: &str) -> bool {
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(access_key_id)
            .is_some()
    }

    /// Forgets every key.
    pub fn clear(&self) {
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The registered keys, without secrets, sorted by id.
    pub fn list(&self) -> Vec<KeyInfo> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<KeyInfo> = keys
            .iter()
            .map(|(id, e)| KeyInfo {
                access_key_id: id.clone(),
                has_session_token: e.session_token.is_some(),
                expiration: e.expiration,
            })
            .collect();
        out.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
        out
    }

    /// The SigV4 signing key of a registered key id for a date, region and service, for
    /// re-signing a request the gate has already verified (the `resign` module).
    fn signing_key_for(
        &self,
        access_key_id: &str,
        date: chrono::NaiveDate,
        region: &str,
        service: &str,
    ) -> Option<[u8; 32]> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let key = keys
            .get(access_key_id)?
            .secret
            .to_ksigning(date, region, service);
        Some(*AsRef::<[u8; 32]>::as_ref(&key))
    }

    /// The signing key for a request, or AWS's refusal: the key must be known, the
    /// session token the registered one (or absent for a long-term key), and the token
    /// not expired at `now`.
    fn signing_key(
        &self,
        req: &GetSigningKeyRequest,
        now: DateTime<Utc>,
    ) -> Result<GetSigningKeyResponse, SignatureError> {
        let invalid = || SignatureError::InvalidClientTokenId(wire::MSG_INVALID_TOKEN.into());
        let entry = self
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(req.access_key())
            .cloned()
            .ok_or_else(invalid)?;
        if entry.session_token.as_deref() != req.session_token() {
            return Err(invalid());
        }
        if entry.expiration.is_some_and(|exp| now >= exp) {
            return Err(SignatureError::ExpiredToken(wire::MSG_EXPIRED_TOKEN.into()));
        }
        let key = entry
            .secret
            .to_ksigning(req.request_date(), req.region(), req.service());
        GetSigningKeyResponse::builder()
            .signing_key(key)
            .build()
            .map_err(|e| SignatureError::InternalServiceError(Box::new(e)))
    }
}

// ===== stats =====

/// Request counts, as `GET /stats` shows them.
#[derive(Debug, Clone, Default, Serialize)]
struct GateStats {
    /// Every request on the AWS port.
    requests: u64,
    /// By outcome: `Forwarded`, `ExpiredToken`, `Skew`, `SignatureDoesNotMatch`,
    /// `InvalidClientTokenId`, `ServiceUnavailable` (moto unreachable), …
    by_outcome: BTreeMap<String, u64>,
    /// By abbreviated access key id, then by outcome (requests that named a key).
    by_access_key: BTreeMap<String, BTreeMap<String, u64>>,
}

impl GateStats {
    fn count(&mut self, key_id: Option<&str>, outcome: &str) {
        self.requests += 1;
        *self.by_outcome.entry(outcome.to_owned()).or_default() += 1;
        if let Some(id) = key_id {
            // Bounded: a flood of made-up key ids lands in one bucket.
            let id = abbreviate_key_id(id);
            let id = if self.by_access_key.len() < 1000 || self.by_access_key.contains_key(&id) {
                id
            } else {
                "(other)".to_owned()
            };
            *self
                .by_access_key
                .entry(id)
                .or_default()
                .entry(outcome.to_owned())
                .or_default() += 1;
        }
    }
}

// ===== the gate =====

struct GateState {
    keys: KeyStore,
    upstream: Upstream,
    window: chrono::Duration,
    upstream_timeout: Duration,
    max_body: usize,
    stats: Mutex<GateStats>,
}

/// A bound gate: both ports are open, nothing is served until [`Gate::serve`].
pub struct Gate {
    listener: TcpListener,
    admin: TcpListener,
    url: String,
    admin_url: String,
    state: Arc<GateState>,
}

/// A gate serving in the background ([`Gate::spawn`]); dropping it stops the gate.
pub struct RunningGate {
    url: String,
    admin_url: String,
    keys: KeyStore,
    _server: Background,
}

impl RunningGate {
    /// The AWS endpoint: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The admin API: `http://127.0.0.1:PORT`.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The gate's keys (the same store the admin API changes).
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }
}

impl Gate {
    /// Opens both listening sockets.
    ///
    /// # Errors
    ///
    /// A non-loopback address or upstream, a bad upstream URL, or a port in use.
    pub async fn bind(config: GateConfig) -> Result<Gate, Error> {
        let upstream = Upstream::parse(&config.upstream)?;
        let window = chrono::Duration::from_std(config.skew_window).map_err(|_| {
            Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "skew window too large",
            ))
        })?;
        let listener = net::bind("listen address", config.listen).await?;
        let admin = net::bind("admin listen address", config.admin_listen).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let admin_url = format!("http://{}", admin.local_addr()?);
        Ok(Gate {
            listener,
            admin,
            url,
            admin_url,
            state: Arc::new(GateState {
                keys: KeyStore::default(),
                upstream,
                window,
                upstream_timeout: config.upstream_timeout,
                max_body: config.max_body,
                stats: Mutex::new(GateStats::default()),
            }),
        })
    }

    /// The AWS endpoint: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The admin API: `http://127.0.0.1:PORT`.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The gate's keys (the same store the admin API changes).
    pub fn keys(&self) -> KeyStore {
        self.state.keys.clone()
    }

    /// Serves both ports until `shutdown` completes.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the listeners; connections already open finish their
    /// current answer on their own tasks.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) {
        let Gate {
            listener,
            admin,
            state,
            url,
            ..
        } = self;
        log_line(
            "sigv4-gate",
            format_args!(
                "serving {url} in front of {} (skew window {} s)",
                state.upstream.addr(),
                state.window.num_seconds()
            ),
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let admin_state = state.clone();
        let admin_task = tokio::spawn(net::accept_loop(
            admin,
            move || {
                let state = admin_state.clone();
                service_fn(move |req| handle_admin(state.clone(), req))
            },
            net::stopped(stop_rx),
            "sigv4-gate admin",
        ));
        net::accept_loop(
            listener,
            move || {
                let state = state.clone();
                service_fn(move |req| handle_aws(state.clone(), req))
            },
            shutdown,
            "sigv4-gate",
        )
        .await;
        let _ = stop_tx.send(true);
        let _ = admin_task.await;
    }

    /// Binds and serves on a runtime of its own, until the returned value is dropped.
    ///
    /// # Errors
    ///
    /// As [`Gate::bind`], or a runtime that cannot start.
    pub fn spawn(config: GateConfig) -> Result<RunningGate, Error> {
        let runtime = Background::runtime()?;
        let gate = runtime.block_on(Gate::bind(config))?;
        let (url, admin_url, keys) = (gate.url.clone(), gate.admin_url.clone(), gate.keys());
        let server = Background::run(runtime, move |stop| gate.serve(net::stopped(stop)));
        Ok(RunningGate {
            url,
            admin_url,
            keys,
            _server: server,
        })
    }
}

impl GateState {
    /// Steps 2 to 5 of the module doc. `Ok` holds the access key id.
    async fn verify(
        &self,
        parts: &http::request::Parts,
        body: &Bytes,
        now: DateTime<Utc>,
    ) -> Result<String, Rejection> {
        // `SignatureOptions::default()`: no form-to-query folding, no S3 rules.
        let (canonical, _, _) = CanonicalRequest::from_request_parts(
            parts.clone(),
            body.clone(),
            SignatureOptions::default(),
        )?;
        let auth = canonical.get_authenticator(&NO_ADDITIONAL_SIGNED_HEADERS)?;
        let credential = auth.credential().to_owned();
        let mut scope = credential.split('/');
        let key_id = scope.next().unwrap_or("").to_owned();
        // The scope's own region and service: the gate fronts every service moto serves,
        // in any region. `prevalidate` still rejects a malformed scope.
        let region = scope.nth(1).unwrap_or("").to_owned();
        let service = scope.next().unwrap_or("").to_owned();
        let keys = self.keys.clone();
        // Bound to a name first: passed inline, the closure would be inferred `FnOnce`
        // from `service_for_signing_key_fn`'s bound, and a service must be `FnMut`.
        let find_key = move |req: GetSigningKeyRequest| {
            let result = keys.signing_key(&req, now).map_err(Into::into);
            async move { result }
        };
        let mut lookup = service_for_signing_key_fn(find_key);
        auth.validate_signature(&region, &service, now, self.window, &mut lookup)
            .await?;
        Ok(key_id)
    }

    fn count(&self, key_id: Option<&str>, outcome: &str) {
        self.stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .count(key_id, outcome);
    }
}

async fn handle_aws(
    state: Arc<GateState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    // The moment the request arrived is the one its signing time is judged against.
    let now = Utc::now();
    let (parts, body) = req.into_parts();
    let service = wire::service_hint(&parts.headers);
    let protocol = Protocol::detect(&parts.headers, service.as_deref());
    let key_id = wire::credential_scope(&parts.headers)
        .and_then(|scope| scope.split('/').next().map(str::to_owned));

    let (resp, outcome) = match net::read_body(body, state.max_body).await {
        Err(e) => {
            let rej = Rejection::too_large(&e);
            (wire::error_response(&protocol, &rej), rej.label())
        }
        Ok(body) => match state.verify(&parts, &body, now).await {
            Err(rej) => (wire::error_response(&protocol, &rej), rej.label()),
            Ok(_) => match state
                .upstream
                .forward(
                    &resign::for_moto(parts.clone(), &body, &state.keys),
                    body,
                    state.upstream_timeout,
                    state.max_body,
                )
                .await
            {
                Ok(mut resp) => {
                    net::stamp_date(&mut resp);
                    (resp, "Forwarded")
                }
                Err(e) => {
                    let rej = Rejection::unavailable(&e.to_string());
                    (wire::error_response(&protocol, &rej), rej.label())
                }
            },
        },
    };
    state.count(key_id.as_deref(), outcome);
    log_line(
        "sigv4-gate",
        format_args!(
            "{} {} service={} key={} -> {} {outcome} ({} ms)",
            parts.method,
            parts.uri.path(),
            service.as_deref().unwrap_or("-"),
            key_id.as_deref().map(abbreviate_key_id).unwrap_or_default(),
            resp.status().as_u16(),
            started.elapsed().as_millis()
        ),
    );
    net::always(resp)
}

async fn handle_admin(
    state: Arc<GateState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let body = match net::read_body(body, ADMIN_MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return net::always(net::text(StatusCode::PAYLOAD_TOO_LARGE, &e)),
    };
    let resp = match (&parts.method, path.as_str()) {
        (&Method::GET, "/health") => net::text(StatusCode::OK, "ok\n"),
        (&Method::POST, "/keys") => match serde_json::from_slice::<Registration>(&body) {
            Err(e) => net::text(
                StatusCode::BAD_REQUEST,
                &format!("bad registration: {e}\n"),
            ),
            Ok(reg) => match state.keys.register(reg) {
                Err(e) => net::text(StatusCode::BAD_REQUEST, &format!("{e}\n")),
                Ok(info) => {
                    log_line(
                        "sigv4-gate",
                        format_args!(
                            "registered {} (token: {}, expires: {})",
                            abbreviate_key_id(&info.access_key_id),
                            info.has_session_token,
                            info.expiration
                                .map(|e| e.to_rfc3339())
                                .unwrap_or_else(|| "never".into())
                        ),
                    );
                    net::json(StatusCode::OK, &json!(info))
                }
            },
        },
        (&Method::GET, "/keys") => net::json(StatusCode::OK, &json!(state.keys.list())),
        (&Method::DELETE, "/keys") => {
            state.keys.clear();
            net::text(StatusCode::OK, "")
        }
        (&Method::DELETE, p) if p.starts_with("/keys/") => {
            if state.keys.remove(&p["/keys/".len()..]) {
                net::text(StatusCode::OK, "")
            } else {
                net::text(StatusCode::NOT_FOUND, "no such key\n")
            }
        }
        (&Method::GET, "/stats") => {
            let stats = state
                .stats
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            net::json(StatusCode::OK, &json!(stats))
        }
        (&Method::DELETE, "/stats") => {
            *state.stats.lock().unwrap_or_else(PoisonError::into_inner) = GateStats::default();
            net::text(StatusCode::OK, "")
        }
        _ => net::text(
            StatusCode::NOT_FOUND,
            "sigv4-gate admin: GET /health, POST|GET|DELETE /keys, DELETE /keys/AKID, GET|DELETE /stats\n",
        ),
    };
    net::always(resp)
}

mod resign;
#[cfg(test)]
mod tests;
