//! # http_server: an axum router on a TCP listener, with bounds on slow clients
//!
//! `axum::serve` waits for a client as long as the client likes: a request
//! head sent one byte every few seconds holds a connection, a task and a file
//! descriptor for ever, and a few hundred of them starve everyone else. The
//! items API and dev-idp (which ships inside the desktop app and the CLI) are
//! meant to face clients with no reverse proxy in front, so [`serve`] speaks
//! HTTP/1.1 through hyper itself and bounds what one client can hold
//! ([`Limits`]):
//!
//! - **Idle** (`idle_timeout`): a connection with no request under way (just
//!   opened, or kept alive after an answer, RFC 9112 §9.3) that sends nothing
//!   for this long is closed.
//! - **Header read** (`header_read_timeout`): the request head (request line
//!   and header fields, RFC 9112 §2.1) must be complete this long after the
//!   connection became ready for it (opened, or its previous answer sent);
//!   otherwise the connection is closed. This is hyper's
//!   `http1::Builder::header_read_timeout` with a Tokio timer.
//! - **Request** (`request_timeout`): from a complete head to the answer. A
//!   body still arriving then is answered `408 Request Timeout`
//!   (RFC 9110 §15.5.9) and the connection closed; a handler still at work is
//!   answered `503 Service Unavailable` with `Retry-After` (§15.6.4).
//! - **Connections** (`max_connections`): at most this many at once. HTTP/1.1
//!   carries one request at a time on a connection, so this caps requests in
//!   flight too. Past the cap a new connection is answered `503` with
//!   `Retry-After: 1` and `Connection: close` (it has [`REFUSAL_TIMEOUT`] to
//!   send its head); at most [`refusal_slots`] connections are being answered
//!   so at once, and further ones are closed unanswered.
//!
//! When the `shutdown` future completes, the listener is closed, idle
//! connections are closed, and requests under way are answered before
//! [`serve`] returns (graceful shutdown; the limits above bound the wait).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let router = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = async {
//!     let _ = tokio::signal::ctrl_c().await;
//! };
//! http_server::serve(listener, router, http_server::Limits::default(), shutdown).await;
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Sleep};

/// How long a connection refused at the cap has to send its request head
/// before it is closed unanswered (or the header-read timeout, if shorter).
pub const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);

/// What one client may hold, and for how long (see the [crate docs](crate)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time for a request head to arrive in full, counted from when the
    /// connection became ready for it (default 10 s).
    pub header_read_timeout: Duration,
    /// Time a connection may stay open with no request under way and nothing
    /// sent: the idle keep-alive limit (default 5 s). The header-read timeout
    /// runs from the same moment, so a longer idle limit has no effect.
    pub idle_timeout: Duration,
    /// Time from a complete request head to its answer (default 30 s).
    pub request_timeout: Duration,
    /// Connections served at once (default 512); past it, `503`.
    pub max_connections: usize,
}

impl Limits {
    /// Default of [`Limits::header_read_timeout`].
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default of [`Limits::idle_timeout`].
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default of [`Limits::request_timeout`].
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default of [`Limits::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// How many connections past the cap are answered `503` at once: a quarter
/// of `max_connections`, at least 8. Further ones are closed unanswered.
#[must_use]
pub fn refusal_slots(max_connections: usize) -> usize {
    (max_connections / 4).max(8)
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes,
/// then finishes the requests under way and returns (see the
/// [crate docs](crate)). Errors on one connection end that connection only;
/// errors accepting connections (e.g. out of file descriptors) are logged and
/// retried after a pause.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, shutdown: impl Future<Output = ()> + Send) {
    let max_connections = limits.max_connections.max(1);
    let router = router.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
        bound_request(limits.request_timeout, request, next)
    }));
    let service = TowerToHyperService::new(router);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let refusal_timeout = REFUSAL_TIMEOUT.min(limits.header_read_timeout);
    let mut refusing = http1::Builder::new();
    refusing.timer(TokioTimer::new()).header_read_timeout(refusal_timeout).keep_alive(false);

    let connections = Arc::new(Semaphore::new(max_connections));
    let refusals = Arc::new(Semaphore::new(refusal_slots(max_connections)));
    // Every connection's task holds a receiver: `closed()` on the sender
    // resolves once the last one has finished.
    let (stop, stopping) = watch::channel(());
    let mut at_cap = false;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    pause_after_accept_error(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Ok(permit) = Arc::clone(&connections).try_acquire_owned() {
            at_cap = false;
            let connection =
                http.serve_connection(TokioIo::new(IdleLimit::new(stream, limits.idle_timeout)), service.clone());
            let mut stopping = stopping.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let mut connection = std::pin::pin!(connection);
                let result = tokio::select! {
                    result = connection.as_mut() => result,
                    _ = stopping.changed() => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                };
                if let Err(error) = result {
                    tracing::debug!(%error, "connection closed");
                }
            });
        } else {
            if !at_cap {
                tracing::warn!(max_connections, "at the connection limit: new connections are answered 503");
                at_cap = true;
            }
            let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let stream = IdleLimit::new(stream, limits.idle_timeout.min(refusal_timeout));
            let connection = refusing.serve_connection(
                TokioIo::new(stream),
                hyper::service::service_fn(move |_request| {
                    std::future::ready(Ok::<_, Infallible>(busy(max_connections)))
                }),
            );
            let stopping = stopping.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let _stopping = stopping;
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "refused connection closed");
                }
            });
        }
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(());
    stop.closed().await;
}

/// The answer past the connection cap.
fn busy(max_connections: usize) -> Response {
    let message = format!(
        "The server is busy: it is serving its limit of {max_connections} connections. Try again in a moment.\n"
    );
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Failing to accept: a connection reset before it was accepted is nothing;
/// anything else (out of file descriptors) is logged, and accepting pauses so
/// as not to spin.
async fn pause_after_accept_error(error: &io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept connections; trying again in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The whole-request timeout: `limit` from a complete head to the answer.
async fn bound_request(limit: Duration, request: Request, next: Next) -> Response {
    let received = Arc::new(AtomicBool::new(request.body().is_end_stream()));
    let watched = Arc::clone(&received);
    let request = request.map(|inner| Body::new(WatchedBody { inner, received: watched }));
    let Ok(response) = tokio::time::timeout(limit, next.run(request)).await else {
        let seconds = limit.as_secs_f64();
        return if received.load(Ordering::Acquire) {
            tracing::warn!(seconds, "a request took too long to answer: 503");
            let message = format!("The server did not answer within {seconds} s. Try again in a moment.\n");
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        } else {
            tracing::debug!(seconds, "a request body arrived too slowly: 408");
            let message = format!("The request did not arrive in full within {seconds} s.\n");
            let mut response = (StatusCode::REQUEST_TIMEOUT, message).into_response();
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        };
    };
    response
}

/// A request body that records when it has arrived in full.
struct WatchedBody {
    inner: Body,
    received: Arc<AtomicBool>,
}

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || this.inner.is_end_stream() {
            this.received.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A connection that fails its reads once it has been idle for `limit`:
/// idle from the start, and again after each write (an answer going out)
/// until the client sends its next byte.
struct IdleLimit<S> {
    inner: S,
    limit: Duration,
    idle: bool,
    deadline: Pin<Box<Sleep>>,
}

impl IdleLimit<TcpStream> {
    fn new(inner: TcpStream, limit: Duration) -> Self {
        Self { inner, limit, idle: true, deadline: Box::pin(tokio::time::sleep(limit)) }
    }
}

impl<S> IdleLimit<S> {
    fn wrote(&mut self, written: usize) {
        if written > 0 {
            self.idle = true;
            self.deadline.as_mut().reset(Instant::now() + self.limit);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleLimit<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.idle = false;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.idle && this.deadline.as_mut().poll(cx).is_ready() => {
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the connection was idle too long")))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleLimit<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = polled {
            this.wrote(written);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(written)) = polled {
            this.wrote(written);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
