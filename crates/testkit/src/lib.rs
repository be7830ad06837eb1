//! The tests' own tools (a dev-dependency only; nothing here ships): time
//! limits on every wait on a listener, a browser, a provider, a database or
//! a child process, so that a broken check fails its test with a message
//! naming what was awaited instead of hanging it (issue 24, item 4).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let answer = testkit::within("the answer", async { 42 }).await;
//! assert_eq!(answer, 42);
//! # }
//! ```

// A test tool's job is to fail the test that uses it, loudly.
#![allow(clippy::expect_used, clippy::panic, reason = "failing the calling test is the point")]

pub mod proxy;
pub mod tls;

use std::future::Future;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long any one wait may take before the test fails. Generous: CI
/// machines are slow and busy.
pub const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// How long any one of the tests' own HTTP requests may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test with `what` if it takes longer than
/// [`WAIT_LIMIT`].
///
/// # Panics
/// When the limit passes first.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    within_limit(WAIT_LIMIT, what, future).await
}

/// Awaits `future`, failing the test with `what` if it takes longer than
/// `limit`.
///
/// # Panics
/// When the limit passes first.
pub async fn within_limit<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future).await.unwrap_or_else(|_| panic!("timed out after {limit:?}: {what}"))
}

/// An HTTP client for the tests' own requests, each bounded by
/// [`REQUEST_TIMEOUT`] (redirects followed, as `reqwest`'s default).
///
/// # Panics
/// When no client can be built (no TLS backend).
#[must_use]
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("an HTTP client")
}

/// As [`http`], but following no redirects: the tests see each answer as
/// the server gave it.
///
/// # Panics
/// When no client can be built (no TLS backend).
#[must_use]
pub fn http_without_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client")
}

/// Sends `request` and reads its answer's body as JSON, whatever the
/// status, failing the test with the request's URL when no answer comes
/// within [`WAIT_LIMIT`] or the body is not JSON.
///
/// # Panics
/// When the request fails, times out, or its answer is not JSON.
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    let (client, request) = request.build_split();
    let request = request.unwrap_or_else(|e| panic!("a request that cannot be built: {e}"));
    let what = format!("{} {}", request.method(), request.url());
    let answer = within(&what, async {
        let response = client.execute(request).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        response.json::<serde_json::Value>().await
    })
    .await;
    answer.unwrap_or_else(|e| panic!("{what}: the answer is not JSON: {e}"))
}

/// An access token by the client credentials grant (RFC 6749 §4.4) from
/// `token_endpoint`, the client authenticating with HTTP Basic
/// (`client` is its id and secret).
///
/// # Panics
/// When the request fails or the answer holds no access token.
pub async fn client_credentials_token(
    http: &reqwest::Client,
    token_endpoint: &str,
    client: (&str, &str),
    scope: &str,
) -> String {
    let request = http
        .post(token_endpoint)
        .basic_auth(client.0, Some(client.1))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)]);
    let answer = json_of(request).await;
    answer["access_token"].as_str().unwrap_or_else(|| panic!("an access token: {answer}")).to_owned()
}

/// A request a stand-in endpoint received, forwarded as a POST to `target`
/// (its body, `Content-Type`, `Authorization` and `Accept`), and the answer
/// given back as the target gave it (status, content type, the rate-limit
/// headers `Retry-After`, `Date`, `X-Rate-Limit-Reset`, body): a token
/// endpoint in front of dev-idp that a test can count or hold.
///
/// # Panics
/// When the target does not answer.
pub async fn forward_post(
    http: &reqwest::Client,
    target: &str,
    headers: &axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::http::{HeaderName, HeaderValue, StatusCode, header};
    use axum::response::IntoResponse as _;
    let mut request = http.post(target).body(body.to_vec());
    for name in [header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let response = request.send().await.expect("the target answers");
    let status = StatusCode::from_u16(response.status().as_u16()).expect("an HTTP status");
    let mut kept = Vec::new();
    for name in ["content-type", "retry-after", "date", "x-rate-limit-reset"] {
        if let Some(value) = response.headers().get(name) {
            kept.push((HeaderName::from_static(name), HeaderValue::from_bytes(value.as_bytes()).expect("a header")));
        }
    }
    let body = response.bytes().await.expect("the target's answer");
    let mut answer = (status, body.to_vec()).into_response();
    for (name, value) in kept {
        answer.headers_mut().insert(name, value);
    }
    answer
}

/// Serves `app` on a free loopback port until the test ends; answers its
/// address.
///
/// # Panics
/// When no loopback port can be bound.
pub async fn serve(app: axum::Router) -> std::net::SocketAddr {
    serve_on("127.0.0.1:0", app).await
}

/// As [`serve`], on `addr` (`127.0.0.2:0`, `[::1]:0`).
///
/// # Panics
/// When `addr` cannot be bound.
pub async fn serve_on(addr: &str, app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap_or_else(|e| panic!("cannot bind {addr}: {e}"));
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Waits for `child` to exit, killing it and failing the test with `what`
/// after `limit`.
///
/// # Panics
/// When the limit passes first (the child is killed), or the child cannot
/// be waited for.
pub fn wait_child(child: &mut Child, what: &str, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait on a child process") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out after {limit:?}: {what} (killed)");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `command` to its end as [`Command::output`] does (stdin empty,
/// stdout and stderr captured), killing it and failing the test with
/// `what` after `limit` (a keyring prompt waiting forever, say).
///
/// # Panics
/// When the command cannot start, or the limit passes first.
pub fn output_within(command: &mut Command, what: &str, limit: Duration) -> Output {
    use std::io::Read as _;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("piped stderr")));
    let status = wait_child(&mut child, what, limit);
    Output { status, stdout: stdout.join().expect("stdout reader"), stderr: stderr.join().expect("stderr reader") }
}

/// The first line `reader` gives, failing the test with `what` if none
/// comes within [`WAIT_LIMIT`].
///
/// # Panics
/// When the limit passes first.
pub fn first_line_within(reader: impl std::io::Read + Send + 'static, what: &str) -> String {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(reader).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(WAIT_LIMIT).unwrap_or_else(|_| panic!("timed out after {WAIT_LIMIT:?}: {what}"))
}

/// Every request a [`spawn_recording_provider`] received, one line each:
/// method, path and query, body.
pub type Received = Arc<Mutex<Vec<String>>>;

/// Another OpenID provider, working but fake, for tests that prove a token
/// never goes to it: a discovery document naming itself (every endpoint on
/// itself), an empty key set, `200 {}` to everything else, and a record of
/// every request it receives. Answers its issuer and that record.
///
/// # Panics
/// When no loopback port can be bound.
pub async fn spawn_recording_provider() -> (String, Received) {
    use axum::response::IntoResponse as _;
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let issuer = format!("http://{}/oauth2/default", listener.local_addr().expect("a bound address"));
    let router = axum::Router::new().fallback({
        let (received, issuer) = (received.clone(), issuer.clone());
        move |request: axum::extract::Request| {
            let (received, issuer) = (received.clone(), issuer.clone());
            async move {
                let (parts, body) = request.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
                let line = format!("{} {} {}", parts.method, parts.uri, String::from_utf8_lossy(&body));
                received.lock().unwrap_or_else(PoisonError::into_inner).push(line);
                let path = parts.uri.path();
                if path.ends_with("/.well-known/openid-configuration") {
                    let at = |endpoint: &str| format!("{issuer}/v1/{endpoint}");
                    return axum::Json(serde_json::json!({
                        "issuer": issuer,
                        "authorization_endpoint": at("authorize"),
                        "token_endpoint": at("token"),
                        "userinfo_endpoint": at("userinfo"),
                        "jwks_uri": at("keys"),
                        "revocation_endpoint": at("revoke"),
                        "end_session_endpoint": at("logout"),
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }))
                    .into_response();
                }
                if path.ends_with("/v1/keys") {
                    return axum::Json(serde_json::json!({ "keys": [] })).into_response();
                }
                axum::Json(serde_json::json!({})).into_response()
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    (issuer, received)
}

/// Sends `head` (a request line and headers, without the blank line that
/// ends them) to `addr`, then one byte every 200 ms, as a slow client
/// holding a connection would; answers how long the server took to close
/// the connection (failing the test if it keeps it past `limit`).
///
/// # Panics
/// When the connection cannot be made, or stays open past `limit`.
pub async fn time_to_cut_off_a_dribbled_head(addr: std::net::SocketAddr, head: String, limit: Duration) -> Duration {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let stream = within("a connection to the server", tokio::net::TcpStream::connect(addr))
        .await
        .expect("a connection to the server");
    let (mut reader, mut writer) = stream.into_split();
    let dribble = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await.expect("the head's first bytes are sent");
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(b"X").await.is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let mut buf = [0_u8; 256];
    within_limit(limit, "the slow head cut off", async { while let Ok(1..) = reader.read(&mut buf).await {} }).await;
    dribble.abort();
    started.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    #[should_panic(expected = "timed out after 10ms: a wait that never ends")]
    async fn a_wait_past_its_limit_fails_with_what_it_awaited() {
        within_limit(Duration::from_millis(10), "a wait that never ends", std::future::pending::<()>()).await;
    }

    #[test]
    #[should_panic(expected = "timed out after 100ms: sleeping (killed)")]
    fn a_child_past_its_limit_is_killed_and_named() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        wait_child(&mut child, "sleeping", Duration::from_millis(100));
    }

    #[test]
    fn output_is_captured_within_the_limit() {
        let output = output_within(Command::new("echo").arg("hello"), "echo", WAIT_LIMIT);
        assert!(output.status.success());
        assert_eq!(output.stdout, b"hello\n");
    }
}
