//! The `Host` check, against DNS rebinding: a web page at
//! `http://evil.example:18080` whose name its owner re-points at 127.0.0.1
//! can make the browser send requests to the provider, but the browser still
//! says `Host: evil.example:18080`. So the provider answers only requests
//! addressed to its issuer's host and port, or to a loopback name
//! (`127.0.0.1`, `[::1]`, `localhost`) at that port: names a web page cannot
//! take. A different host or port is refused with `421 Misdirected Request`
//! (RFC 9110 §15.5.20); no `Host`, or more than one, with `400`
//! (RFC 9112 §3.2). Host names compare without regard to case (RFC 3986
//! §3.2.2); other spellings (a trailing dot, a port with leading zeros, a
//! user-info part) are refused.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

/// The loopback names the provider answers to besides its issuer's host.
const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

/// The `host[:port]` spellings (lower case) the provider answers to.
#[derive(Debug)]
pub(crate) struct AllowedHosts {
    authorities: Vec<String>,
    /// What the refusal names: the issuer's origin.
    origin: String,
}

impl AllowedHosts {
    /// The issuer's host and the loopback names, each at the issuer's port
    /// (and without a port when that is the scheme's default). The issuer
    /// carries the port the provider is bound to (`spawn` makes it from the
    /// bound address).
    pub(crate) fn for_issuer(issuer: &str) -> Self {
        let Ok(url) = Url::parse(issuer) else {
            // Provider::new takes any string; an unparseable issuer answers nothing.
            return Self { authorities: Vec::new(), origin: issuer.to_owned() };
        };
        let port = url.port_or_known_default();
        let default_port = url.port().is_none();
        let mut authorities = Vec::new();
        let issuer_host = url.host_str().map(str::to_ascii_lowercase);
        for host in issuer_host.iter().map(String::as_str).chain(LOOPBACK_NAMES) {
            if let Some(port) = port {
                authorities.push(format!("{host}:{port}"));
            }
            if default_port {
                authorities.push(host.to_owned());
            }
        }
        authorities.sort();
        authorities.dedup();
        Self { authorities, origin: url.origin().ascii_serialization() }
    }

    /// Whether `authority` (from `Host` or an absolute request target) names this provider.
    fn allows(&self, authority: &str) -> bool {
        let authority = authority.to_ascii_lowercase();
        self.authorities.contains(&authority)
    }
}

/// Middleware: refuses requests not addressed to this provider (see the module docs).
pub(crate) async fn check_host(State(allowed): State<Arc<AllowedHosts>>, request: Request, next: Next) -> Response {
    // RFC 9112 §3.2.2: with an absolute-form target, its authority is the one
    // that counts (and Host is ignored).
    let authority = match request.uri().authority() {
        Some(authority) => authority.as_str().to_owned(),
        None => {
            let mut hosts = request.headers().get_all(header::HOST).iter();
            let (Some(host), None) = (hosts.next(), hosts.next()) else {
                return (StatusCode::BAD_REQUEST, "A request needs exactly one Host header.\n").into_response();
            };
            match host.to_str() {
                Ok(host) => host.to_owned(),
                Err(_) => return (StatusCode::BAD_REQUEST, "The Host header is not valid.\n").into_response(),
            }
        }
    };
    if !allowed.allows(&authority) {
        tracing::warn!("refused a request for another host (DNS rebinding?)");
        let message = format!("This server answers only requests addressed to {}.\n", allowed.origin);
        return (StatusCode::MISDIRECTED_REQUEST, message).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests;
