//! An in-test IMDS on 127.0.0.1 for the faults AEMM cannot produce.
//!
//! Each failure mode is a [`Reply`] (for credential reads) or a [`TokenReply`] (for the
//! token PUT). Replies queued in `script` are used once each, in order; after that the
//! persistent `creds_reply` applies.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use freshcreds::internal::rfc3339;

/// How the fake answers a credentials read.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The current credentials document.
    Normal,
    /// The document after a delay (a slow but working IMDS).
    Delayed(Duration),
    /// A bare status, with an optional `Retry-After` in seconds.
    Status(u16, Option<u64>),
    /// Never answers within any sane timeout.
    Stall,
    /// This body, with status 200.
    Body(Vec<u8>),
}

/// How the fake answers `PUT /latest/api/token`.
#[derive(Debug, Clone)]
pub enum TokenReply {
    /// A fresh token.
    Normal,
    /// A bare status (403/404/405 mean "v2 unsupported"; 429/503 throttling).
    Status(u16),
    /// No answer ever: the container hop-limit symptom.
    Hang,
}

/// The credentials the fake serves.
#[derive(Debug, Clone)]
pub struct Creds {
    pub key_id: String,
    pub secret: String,
    pub token: String,
    pub expiration: SystemTime,
    pub last_updated: SystemTime,
    pub code: String,
}

impl Creds {
    /// Credentials numbered `n`, valid for `lifetime` from now.
    pub fn numbered(n: u32, lifetime: Duration) -> Self {
        let now = SystemTime::now();
        Creds {
            key_id: format!("ASIAFAKE{n:012}"),
            secret: format!("fake-secret-key-number-{n}-SECRETVALUE"),
            token: format!("fake-session-token-number-{n}-TOKENVALUE"),
            expiration: now + lifetime,
            last_updated: now,
            code: "Success".into(),
        }
    }

    fn document(&self, account: bool) -> String {
        let account = if account {
            r#","AccountId":"123456789012""#
        } else {
            ""
        };
        format!(
            r#"{{"Code":"{}","LastUpdated":"{}","Type":"AWS-HMAC","AccessKeyId":"{}","SecretAccessKey":"{}","Token":"{}","Expiration":"{}"{account}}}"#,
            self.code,
            rfc3339(self.last_updated),
            self.key_id,
            self.secret,
            self.token,
            rfc3339(self.expiration)
        )
    }
}

/// The fake's state: what it serves and what it saw.
#[derive(Debug)]
pub struct FakeState {
    pub token_reply: TokenReply,
    /// Reads without a valid token answer 401 (IMDSv2 required).
    pub require_token: bool,
    /// Serve the `-extended` paths (with `AccountId`).
    pub extended: bool,
    /// The role; `None` answers 404 to the role lists (no role attached).
    pub role: Option<String>,
    pub creds: Creds,
    pub creds_reply: Reply,
    pub script: VecDeque<Reply>,
    /// Tokens handed out that are still accepted.
    pub tokens: Vec<String>,
    /// Requests seen, by "METHOD path".
    pub hits: HashMap<String, u32>,
    /// Credential-document reads without a token.
    pub tokenless_creds_reads: u32,
    /// Every distinct `User-Agent` seen.
    pub user_agents: std::collections::BTreeSet<String>,
    next_token: u32,
}

impl FakeState {
    pub fn hits(&self, key: &str) -> u32 {
        self.hits.get(key).copied().unwrap_or(0)
    }

    /// Reads of a credentials document (either path).
    pub fn creds_reads(&self) -> u32 {
        self.hits
            .iter()
            .filter(|(k, _)| k.starts_with("GET /latest/meta-data/iam/") && !k.ends_with('/'))
            .map(|(_, v)| *v)
            .sum()
    }

    pub fn token_puts(&self) -> u32 {
        self.hits("PUT /latest/api/token")
    }
}

/// A running fake IMDS; stops when dropped.
pub struct FakeImds {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
    server: tokio::task::JoinHandle<()>,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for FakeImds {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeImds {
    /// Starts a fake serving `creds` under role `test-role`, IMDSv2 required, with the
    /// extended path, on its own runtime thread (so tests may block).
    pub fn start(creds: Creds) -> FakeImds {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("fake IMDS runtime");
        let state = Arc::new(Mutex::new(FakeState {
            token_reply: TokenReply::Normal,
            require_token: true,
            extended: true,
            role: Some("test-role".into()),
            creds,
            creds_reply: Reply::Normal,
            script: VecDeque::new(),
            tokens: Vec::new(),
            hits: HashMap::new(),
            tokenless_creds_reads: 0,
            user_agents: Default::default(),
            next_token: 0,
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let server = runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeImds {
            url: format!("http://{addr}"),
            state,
            server,
            _runtime: Some(runtime),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }
}

fn plain(status: u16, body: impl Into<Body>) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .body(body.into())
        .unwrap()
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let path = uri.path().to_owned();
    let key = format!("{method} {path}");
    let token_header = headers
        .get("x-aws-ec2-metadata-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    // Decide under the lock, act (sleep) outside it.
    let act = {
        let mut s = state.lock().unwrap();
        *s.hits.entry(key.clone()).or_default() += 1;
        let agent = headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(none)");
        s.user_agents.insert(agent.to_owned());
        if method == Method::PUT && path == "/latest/api/token" {
            match s.token_reply.clone() {
                TokenReply::Normal => {
                    s.next_token += 1;
                    let t = format!("token-{}", s.next_token);
                    s.tokens.push(t.clone());
                    Act::Now(plain(200, t))
                }
                TokenReply::Status(code) => Act::Now(plain(code, "")),
                TokenReply::Hang => Act::Hang,
            }
        } else if method != Method::GET {
            Act::Now(plain(405, ""))
        } else {
            let token_ok = token_header.as_ref().is_some_and(|t| s.tokens.contains(t));
            if s.require_token && !token_ok {
                Act::Now(plain(401, ""))
            } else {
                route(&mut s, &path, token_header.is_none())
            }
        }
    };
    match act {
        Act::Now(r) => r,
        Act::After(d, r) => {
            tokio::time::sleep(d).await;
            r
        }
        Act::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            plain(504, "")
        }
    }
}

fn route(s: &mut FakeState, path: &str, tokenless: bool) -> Act {
    const EXT: &str = "/latest/meta-data/iam/security-credentials-extended/";
    const LEGACY: &str = "/latest/meta-data/iam/security-credentials/";
    if path == "/latest/meta-data/" {
        return Act::Now(plain(200, "ami-id\ninstance-id\niam/\n"));
    }
    if path == "/latest/meta-data/instance-id" {
        return Act::Now(plain(200, "i-0123456789abcdef0"));
    }
    let (prefix, extended) = if path.starts_with(EXT) {
        (EXT, true)
    } else if path.starts_with(LEGACY) {
        (LEGACY, false)
    } else {
        return Act::Now(plain(404, "not found"));
    };
    if extended && !s.extended {
        return Act::Now(plain(404, "not found"));
    }
    let rest = &path[prefix.len()..];
    let Some(role) = s.role.clone() else {
        return Act::Now(plain(404, "not found"));
    };
    if rest.is_empty() {
        return Act::Now(plain(200, role));
    }
    if rest != role {
        return Act::Now(plain(404, "not found"));
    }
    if tokenless {
        s.tokenless_creds_reads += 1;
    }
    let reply = s
        .script
        .pop_front()
        .unwrap_or_else(|| s.creds_reply.clone());
    let doc = s.creds.document(extended);
    match reply {
        Reply::Normal => Act::Now(plain(200, doc)),
        Reply::Delayed(d) => Act::After(d, plain(200, doc)),
        Reply::Status(code, retry_after) => {
            let mut r = plain(code, "");
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert("retry-after", secs.to_string().parse().unwrap());
            }
            Act::Now(r)
        }
        Reply::Stall => Act::Hang,
        Reply::Body(bytes) => Act::Now(plain(200, bytes)),
    }
}

enum Act {
    Now(Response<Body>),
    After(Duration, Response<Body>),
    Hang,
}
