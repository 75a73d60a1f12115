//! Plumbing both servers share: loopback checks, one HTTP/1.1 connection per forwarded
//! request, bounded bodies, the `Date` header, connection serving with a stop signal, and
//! a server that owns its runtime (for callers without one, such as tests).

use std::convert::Infallible;
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::Error;

/// Every answer body: the servers buffer whole messages (AWS and IMDS ones are small).
pub(crate) type Body = Full<Bytes>;

/// A client that sends nothing for this long after connecting (or between requests on a
/// kept-alive connection) is dropped, so no connection outlives its use by much.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection may take to finish its current answer once the server stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// How long connecting to the upstream may take (it is on loopback: this only guards
/// against a wedged process).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Headers about one connection rather than the message (RFC 9110 §7.6.1), and `expect`:
/// bodies are read whole and re-sent with their `content-length`, so none of these may
/// travel to the other side. None of them is ever signed by the AWS SDKs.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// Fails unless `addr` is on loopback.
pub(crate) fn ensure_loopback(what: &'static str, addr: &SocketAddr) -> Result<(), Error> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(Error::NotLoopback {
            what,
            addr: addr.to_string(),
        })
    }
}

/// Binds a loopback listener.
pub(crate) async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, Error> {
    ensure_loopback(what, &addr)?;
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })
}

/// The current time as an HTTP `Date` value (IMF-fixdate).
pub(crate) fn http_date() -> HeaderValue {
    // Always ASCII, so the conversion cannot fail; the fallback only satisfies the type.
    HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now()))
        .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

/// Puts this server's own `Date` on an answer, replacing the upstream's: SDKs correct
/// their clock from it, so it must be the clock of whoever judged the request.
pub(crate) fn stamp_date(resp: &mut Response<Body>) {
    resp.headers_mut().insert(header::DATE, http_date());
}

/// A plain-text answer.
pub(crate) fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_owned())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    stamp_date(&mut resp);
    resp
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    stamp_date(&mut resp);
    resp
}

/// Reads a whole request body, refusing more than `limit` bytes.
pub(crate) async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, String> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| e.to_string())
}

/// Copies `from` into `to` without the hop-by-hop headers.
fn copy_end_to_end(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            to.append(name.clone(), value.clone());
        }
    }
}

/// An HTTP server on loopback that requests are forwarded to.
#[derive(Clone, Debug)]
pub(crate) struct Upstream {
    addr: SocketAddr,
    /// `host:port`, for a request that came without a `Host` header (HTTP/1.0).
    authority: HeaderValue,
}

impl Upstream {
    /// Parses `http://HOST:PORT[/]`; the host must resolve to a loopback address.
    pub(crate) fn parse(url: &str) -> Result<Upstream, Error> {
        let bad = |reason: &str| Error::BadUpstream {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: http::Uri = url.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad("the scheme must be http"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad("a path or query is not supported"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(80);
        let addr = (host, port)
            .to_socket_addrs()
            .map_err(|e| bad(&format!("cannot resolve: {e}")))?
            .find(|a| a.ip().is_loopback())
            .ok_or_else(|| Error::NotLoopback {
                what: "upstream",
                addr: authority.to_string(),
            })?;
        let authority = HeaderValue::from_str(authority.as_str())
            .map_err(|_| bad("the host is not a valid header value"))?;
        Ok(Upstream { addr, authority })
    }

    /// The upstream's socket address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends the request as received (method, path and query, headers including `Host`,
    /// body bytes) on a fresh connection and returns the answer, both bounded by `timeout`
    /// and the answer's body by `max_body`.
    ///
    /// One connection per request keeps the proxy stateless; on loopback it costs well
    /// under a millisecond.
    pub(crate) async fn forward(
        &self,
        parts: &http::request::Parts,
        body: Bytes,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Response<Body>, Error> {
        let upstream_err = |reason: String| Error::Upstream {
            addr: self.addr,
            reason,
        };
        let exchange = async {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(self.addr))
                .await
                .map_err(|_| upstream_err("connect timed out".into()))?
                .map_err(|e| upstream_err(format!("connect: {e}")))?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| upstream_err(format!("handshake: {e}")))?;
            // Drives the connection; it ends once the answer is read and `sender` dropped.
            let driver = tokio::spawn(conn);

            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let mut req = Request::new(Full::new(body));
            *req.method_mut() = parts.method.clone();
            *req.uri_mut() = path
                .parse()
                .map_err(|_| upstream_err(format!("bad request target {path}")))?;
            copy_end_to_end(&parts.headers, req.headers_mut());
            if !req.headers().contains_key(header::HOST) {
                req.headers_mut()
                    .insert(header::HOST, self.authority.clone());
            }
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| upstream_err(format!("request: {e}")))?;
            let (head, incoming) = resp.into_parts();
            let bytes = Limited::new(incoming, max_body)
                .collect()
                .await
                .map_err(|e| upstream_err(format!("reading the answer: {e}")))?
                .to_bytes();
            drop(sender);
            driver.abort();

            let mut out = Response::new(Full::new(bytes));
            *out.status_mut() = head.status;
            copy_end_to_end(&head.headers, out.headers_mut());
            Ok(out)
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| upstream_err(format!("no answer within {timeout:?}")))?
    }
}

/// Serves one accepted connection with `svc` until the peer closes it, idles past the
/// header timeout, or `stop` turns true (then the answer in progress may finish, within
/// [`DRAIN_TIMEOUT`]).
pub(crate) async fn serve_connection<S, E>(
    stream: TcpStream,
    svc: S,
    mut stop: watch::Receiver<bool>,
) where
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = E>,
    S::Future: Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let _ = stream.set_nodelay(true);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped_ref(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, conn).await;
        }
    }
}

/// Accepts on `listener` and serves each connection with a fresh `make_svc()` until
/// `shutdown` completes; then tells open connections to finish.
pub(crate) async fn accept_loop<M, S, E>(
    listener: TcpListener,
    make_svc: M,
    shutdown: impl Future<Output = ()>,
    component: &'static str,
) where
    M: Fn() -> S,
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = E>
        + Send
        + 'static,
    S::Future: Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, make_svc(), stop_rx.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    crate::log_line(component, format_args!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    let _ = stop_tx.send(true);
}

/// The fault proxy's handler error. Returning it means "no answer at all": hyper then
/// closes the connection without writing a response, which is what a client behind a
/// dead IMDS or a dropped packet sees.
pub(crate) type NoAnswer = Box<dyn std::error::Error + Send + Sync>;

/// Wraps an infallible handler result for hyper.
pub(crate) fn always<T>(value: T) -> Result<T, Infallible> {
    Ok(value)
}

/// A server running on a small runtime of its own, for callers that have none (tests,
/// mostly). Dropping it stops the server: open connections get 2 s to finish,
/// then the runtime is shut down.
pub struct Background {
    stop: Option<watch::Sender<bool>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Background {
    /// A two-thread runtime for one background server.
    pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
        Ok(tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("rig-server")
            .enable_all()
            .build()?)
    }

    /// Spawns `serve(stop)` on `runtime`, which from now on belongs to the returned value.
    pub(crate) fn run<F, Fut>(runtime: tokio::runtime::Runtime, serve: F) -> Background
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop_tx, stop_rx) = watch::channel(false);
        runtime.spawn(serve(stop_rx));
        Background {
            stop: Some(stop_tx),
            runtime: Some(runtime),
        }
    }

    /// Stops the server now (the same as dropping it).
    pub fn stop(self) {}
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(DRAIN_TIMEOUT + Duration::from_millis(500));
        }
    }
}

/// Completes once `stop` turns true or its sender is gone.
pub(crate) async fn stopped(mut stop: watch::Receiver<bool>) {
    stopped_ref(&mut stop).await;
}

/// As [`stopped`], without taking the receiver. (The guard `wait_for` returns is dropped
/// at once: held across an await, it would make the caller's future `!Send`.)
pub(crate) async fn stopped_ref(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
