//! The loopback redirect of RFC 8252 §7.3: a listener on `127.0.0.1` or
//! `[::1]` that lives only for one sign-in, takes exactly one authorization
//! response on its exact path, answers the browser with a small page and
//! closes (§8.3). Only an answer carrying this sign-in's `state` ends the
//! wait (§8.9): anything else on the path gets a 400 page, so a local program
//! or a web page cannot end the sign-in by getting there first; idle
//! connections are dropped oldest first, so a pile of them cannot shut the
//! browser out (issue 14, item 9).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use openidconnect::RedirectUrl;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::config::{LoopbackPorts, RedirectKind};
use super::error::SigninError;
use super::login::{Callback, PendingLogin};
use super::redirect::{Redirect, Reply};
use crate::account::SignedIn;

/// The most a browser's request head may take (the answer is a short URL).
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request.
pub(super) const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How many connections are read at once; a new one beyond this drops the
/// oldest still being read (not the new one: the browser's may be it).
const MAX_CONNECTIONS: usize = 32;

/// A bound loopback listener waiting for the provider's redirect.
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    redirect_uri: RedirectUrl,
    path: String,
}

impl LoopbackRedirect {
    /// Listens on `ip` (a loopback address: `127.0.0.1` or `::1`) at `port`
    /// (`None`: any free port). The redirect URI uses the IP literal and the
    /// bound port, never `localhost` (RFC 8252 §7.3, §8.3).
    ///
    /// # Errors
    /// [`SigninError::PortInUse`] when the fixed port is taken,
    /// [`SigninError::Bind`] for other failures, [`SigninError::InvalidSetting`]
    /// for a non-loopback address or a path not starting with `/`.
    pub async fn bind(ip: IpAddr, port: Option<u16>, path: &str) -> Result<Self, SigninError> {
        if !ip.is_loopback() {
            return Err(SigninError::InvalidSetting {
                setting: "REDIRECT_URL".to_owned(),
                message: format!("{ip} is not a loopback address"),
            });
        }
        if !path.starts_with('/') || path.contains(['?', '#']) {
            return Err(SigninError::InvalidSetting {
                setting: "REDIRECT_URL".to_owned(),
                message: format!("the path {path:?} must start with / and have no query"),
            });
        }
        let addr = SocketAddr::new(ip, port.unwrap_or(0));
        let listener = TcpListener::bind(addr).await.map_err(|source| match port {
            Some(port) if source.kind() == std::io::ErrorKind::AddrInUse => SigninError::PortInUse { ip, port, source },
            _ => SigninError::Bind { addr, source },
        })?;
        let bound = listener.local_addr().map_err(|source| SigninError::Bind { addr, source })?;
        let uri = match ip {
            IpAddr::V4(v4) => format!("http://{v4}:{}{path}", bound.port()),
            IpAddr::V6(v6) => format!("http://[{v6}]:{}{path}", bound.port()),
        };
        let redirect_uri = RedirectUrl::new(uri)
            .map_err(|e| SigninError::InvalidSetting { setting: "REDIRECT_URL".to_owned(), message: e.to_string() })?;
        Ok(Self { listener, redirect_uri, path: path.to_owned() })
    }

    /// Listens on the first free port of `ports` on `ip` (in their order),
    /// or on any free port.
    ///
    /// # Errors
    /// [`SigninError::PortsInUse`] naming them when every listed port is
    /// taken; otherwise as [`LoopbackRedirect::bind`].
    pub async fn bind_first_free(ip: IpAddr, ports: &LoopbackPorts, path: &str) -> Result<Self, SigninError> {
        let LoopbackPorts::Listed(listed) = ports else { return Self::bind(ip, None, path).await };
        for port in listed {
            match Self::bind(ip, Some(*port), path).await {
                Err(SigninError::PortInUse { .. }) => tracing::debug!(port, "loopback port in use; trying the next"),
                other => return other,
            }
        }
        Err(SigninError::PortsInUse { ip, ports: ports.to_string() })
    }

    /// Binds as the configuration's redirect says (the first free of its
    /// ports); when `127.0.0.1` is not available on this host (IPv6 only),
    /// the same ports on `[::1]`.
    ///
    /// # Errors
    /// As [`LoopbackRedirect::bind_first_free`]; a custom-scheme redirect is
    /// [`SigninError::InvalidSetting`] (it is completed through
    /// [`DeepLinks`](super::deep_link::DeepLinks), not a listener).
    pub async fn for_redirect(redirect: &RedirectKind) -> Result<Self, SigninError> {
        match redirect {
            RedirectKind::Loopback { ip, ports, path } => match Self::bind_first_free(*ip, ports, path).await {
                Err(SigninError::Bind { source, .. })
                    if ip.is_ipv4() && source.kind() == std::io::ErrorKind::AddrNotAvailable =>
                {
                    Self::bind_first_free(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), ports, path).await
                }
                other => other,
            },
            RedirectKind::Custom(url) => Err(SigninError::InvalidSetting {
                setting: "REDIRECT_URL".to_owned(),
                message: format!("{url} is a deep link, completed by the app, not by a loopback listener"),
            }),
        }
    }

    /// The redirect URI to send: `http://127.0.0.1:{port}{path}`.
    #[must_use]
    pub fn redirect_uri(&self) -> &RedirectUrl {
        &self.redirect_uri
    }

    /// The bound port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Waits for `pending`'s authorization response: a `GET` on the exact
    /// path with a `code` or an `error` and `pending`'s `state` (RFC 8252
    /// §8.9). Other requests (another path, a favicon, a request without a
    /// response, one whose `state` is missing, repeated or another sign-in's)
    /// are answered `404`/`400` and the wait goes on. Connections are read
    /// concurrently, so an idle one (a browser's speculative pre-connect)
    /// delays nothing; past 32 at once the oldest is dropped. The
    /// listener is closed when this returns.
    ///
    /// # Errors
    /// [`SigninError::TimedOut`] after `timeout`, [`SigninError::Cancelled`]
    /// when `cancel` fires, [`SigninError::Listener`] when accepting fails.
    pub async fn wait(
        self,
        pending: &PendingLogin,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(Callback, BrowserReply), SigninError> {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        // Dropped (and every reader aborted) when this returns.
        let mut readers: JoinSet<Option<RequestHead>> = JoinSet::new();
        // The readers still running, oldest first.
        let mut reading: VecDeque<AbortHandle> = VecDeque::new();
        loop {
            let head = tokio::select! {
                () = cancel.cancelled() => return Err(SigninError::Cancelled),
                () = &mut deadline => return Err(SigninError::TimedOut { after: timeout }),
                accepted = self.listener.accept() => {
                    match accepted {
                        Ok((stream, _)) => {
                            reading.retain(|reader| !reader.is_finished());
                            if reading.len() >= MAX_CONNECTIONS {
                                // Too many at once: the oldest goes (its
                                // connection is closed), the new one is read.
                                if let Some(oldest) = reading.pop_front() {
                                    oldest.abort();
                                }
                            }
                            reading.push_back(readers.spawn(async move {
                                tokio::time::timeout(READ_TIMEOUT, read_head(stream)).await.ok().flatten()
                            }));
                        }
                        Err(e) if is_transient(&e) => {}
                        Err(e) => return Err(SigninError::Listener(e)),
                    }
                    continue;
                }
                Some(joined) = readers.join_next(), if !readers.is_empty() => match joined {
                    Ok(Some(head)) => head,
                    _ => continue,
                },
            };
            let RequestHead { mut stream, method, target } = head;
            let Some((path, query)) = split_target(&target) else {
                respond(&mut stream, 400, "Bad request", "This address is not understood.").await;
                continue;
            };
            if path != self.path {
                respond(&mut stream, 404, "Not found", "Nothing here.").await;
                continue;
            }
            if method != "GET" {
                respond(&mut stream, 405, "Method not allowed", "Only the browser's redirect comes here.").await;
                continue;
            }
            match Callback::from_query(query.as_deref().unwrap_or("")) {
                Ok(callback) if callback.is_response() && pending.state_matches(callback.state()) => {
                    tracing::debug!("loopback redirect received");
                    return Ok((callback, BrowserReply { stream }));
                }
                Ok(callback) if callback.is_response() => {
                    tracing::debug!("an answer for another sign-in on the loopback path; still waiting");
                    respond(
                        &mut stream,
                        400,
                        "Not this sign-in",
                        "This answer does not belong to the sign-in in progress; Tessera keeps waiting for it.",
                    )
                    .await;
                }
                _ => {
                    respond(&mut stream, 400, "Waiting for the sign-in", "This page waits for the provider's answer.")
                        .await;
                }
            }
        }
    }
}

/// A request's first line, with its connection.
pub(super) struct RequestHead {
    pub(super) stream: TcpStream,
    pub(super) method: String,
    pub(super) target: String,
}

fn is_transient(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::Interrupted
    )
}

/// Reads a request head; answers the stream, the method and the target.
pub(super) async fn read_head(mut stream: TcpStream) -> Option<RequestHead> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buffer[..n]);
        if head.len() > MAX_REQUEST_HEAD {
            respond(&mut stream, 431, "Request too large", "The request is too large.").await;
            return None;
        }
    }
    let (method, target) = request_line(&head)?;
    Some(RequestHead { stream, method, target })
}

/// The method and target of a request head's first line.
pub(crate) fn request_line(head: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut parts = text.lines().next()?.split(' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    Some((method, target))
}

/// Splits an origin-form target into its path and query.
pub(crate) fn split_target(target: &str) -> Option<(String, Option<String>)> {
    if !target.starts_with('/') {
        return None;
    }
    let url = Url::parse(&format!("http://loopback{target}")).ok()?;
    Some((url.path().to_owned(), url.query().map(str::to_owned)))
}

/// The browser's connection, held open until the sign-in is over so the
/// page it shows says how it went.
#[derive(Debug)]
pub struct BrowserReply {
    stream: TcpStream,
}

impl Reply for BrowserReply {
    /// Answers the browser: a success page naming the person, or the error's
    /// message (never a token or code), then closes the connection.
    async fn send(mut self, outcome: Result<&SignedIn, &SigninError>) {
        match outcome {
            Ok(signed_in) => {
                let who = signed_in
                    .identity
                    .name
                    .clone()
                    .or_else(|| signed_in.identity.preferred_username.clone())
                    .unwrap_or_else(|| "your account".to_owned());
                let text = format!("You are signed in to Tessera as {who}.");
                let next = "Return to Tessera: your items are there. You can close this tab.";
                respond_page(&mut self.stream, 200, "Signed in", &text, next).await;
            }
            Err(error) => {
                let text = format!("Tessera could not sign you in: {error}.");
                let next = "Return to Tessera to try again. You can close this tab.";
                respond_page(&mut self.stream, 400, "Sign-in failed", &text, next).await;
            }
        }
    }
}

/// Writes a small self-contained HTML page and closes the connection.
pub(super) async fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    respond_page(stream, status, title, text, "").await;
}

/// The style of the pages the browser is shown, in Tessera's colours
/// (`ui/app/style.css`), light or dark as the system is. Inline, allowed by
/// its hash in the page's Content-Security-Policy: nothing else may load.
const PAGE_STYLE: &str = ":root{color-scheme:light dark;--bg:#f6f7f9;--surface:#fff;--text:#1d2330;\
--muted:#5b6474;--border:#d7dbe3;--accent:#3452c7;--accent-soft:#e6ebfb;--danger:#b42318;--danger-soft:#fdecea}\
@media (prefers-color-scheme:dark){:root{--bg:#15181e;--surface:#1d2129;--text:#e7eaf0;--muted:#a2aab8;\
--border:#363c48;--accent:#7d95f0;--accent-soft:#26304f;--danger:#f28b82;--danger-soft:#3a2022}}\
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--text);\
font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Ubuntu,Cantarell,sans-serif}\
main{max-width:30rem;margin:1rem;padding:2rem;background:var(--surface);border:1px solid var(--border);\
border-radius:8px;text-align:center}\
.wordmark{margin:0 0 1.5rem;font-weight:700;font-size:1.1rem;letter-spacing:.02em}\
.mark{display:grid;place-items:center;width:3rem;height:3rem;margin:0 auto 1rem;border-radius:50%;\
font-size:1.6rem;font-weight:700;background:var(--accent-soft);color:var(--accent)}\
.failed .mark{background:var(--danger-soft);color:var(--danger)}\
h1{margin:0 0 .5rem;font-size:1.5rem;font-weight:600}p{margin:0 0 .75rem}.next{color:var(--muted)}";

/// The Content-Security-Policy of those pages: no source at all but the
/// page's own style (by its SHA-256).
fn page_csp() -> &'static str {
    static CSP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(PAGE_STYLE.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
    });
    &CSP
}

/// Writes a page in Tessera's style — its title, `text` (`data-message`),
/// then `next`, what to do now (may be empty) — and closes the connection.
/// Any status but 200 shows as a failure.
pub(super) async fn respond_page(stream: &mut TcpStream, status: u16, title: &str, text: &str, next: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let (tone, mark) = if status == 200 { ("done", "\u{2713}") } else { ("failed", "!") };
    let next = if next.is_empty() { String::new() } else { format!("<p class=\"next\">{}</p>", escape(next)) };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\"><title>{title} \u{2014} Tessera</title>\
         <style>{PAGE_STYLE}</style></head><body class=\"{tone}\"><main><p class=\"wordmark\">Tessera</p>\
         <div class=\"mark\" aria-hidden=\"true\">{mark}</div><h1>{title}</h1><p data-message>{text}</p>{next}</main>\
         </body></html>",
        title = escape(title),
        text = escape(text),
    );
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n\
         Content-Security-Policy: {}\r\nConnection: close\r\n\r\n",
        body.len(),
        page_csp(),
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

impl Redirect for LoopbackRedirect {
    type Reply = BrowserReply;

    fn redirect_uri(&self) -> &RedirectUrl {
        LoopbackRedirect::redirect_uri(self)
    }

    /// Nothing to do: the listener has been listening since it was bound.
    fn expect(&mut self, _: &PendingLogin) -> Result<(), SigninError> {
        Ok(())
    }

    async fn wait(
        self,
        pending: &PendingLogin,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(Callback, BrowserReply), SigninError> {
        LoopbackRedirect::wait(self, pending, timeout, cancel).await
    }
}
