//! Talking to the issuer: discovery (OpenID Connect Discovery 1.0 §4, RFC
//! 8414 §3), the JWKS (RFC 7517 §5) and introspection (RFC 7662 §2). No
//! redirects are followed, every request has the configured timeout, and
//! bodies are read up to a cap. Trust and proxies are the configuration's
//! ([`net::NetSettings`]: `CA_FILE`, `HTTPS_PROXY`, …).

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_LENGTH, HeaderMap, HeaderValue};
use reqwest::redirect::Policy;
use serde_json::{Map, Value};
use url::Url;

/// What fixes an issuer certificate that is not trusted.
pub(crate) const CA_FILE_FIX: &str = "set CA_FILE (or ca_file in the configuration file) to the CA's PEM file";

/// Caps on response bodies.
pub(super) const MAX_DISCOVERY_BYTES: usize = 64 * 1024;
pub(super) const MAX_JWKS_BYTES: usize = 256 * 1024;
pub(super) const MAX_INTROSPECTION_BYTES: usize = 64 * 1024;

/// Why the issuer could not be asked. Never carries a token or a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(super) enum FetchError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The request failed: connection, timeout, TLS.
    #[error("cannot reach the issuer's {what}")]
    Request {
        what: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The issuer's TLS certificate was refused: not trusted (a company's
    /// TLS-inspecting proxy, an internal CA: `CA_FILE`), or invalid.
    #[error("cannot fetch the issuer's {what}: {}", problem.explain("the issuer", ca_file.as_ref(), CA_FILE_FIX))]
    Certificate {
        what: &'static str,
        problem: net::CertificateProblem,
        ca_file: Option<net::CaFile>,
        #[source]
        source: reqwest::Error,
    },
    /// A status other than 200 (redirects included: they are not followed).
    #[error("the issuer's {what} answered HTTP {status}")]
    Status { what: &'static str, status: u16 },
    /// The body is over its cap.
    #[error("the issuer's {what} answer is larger than {limit} bytes")]
    TooLarge { what: &'static str, limit: usize },
    /// The body is not JSON.
    #[error("the issuer's {what} answer is not JSON")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The body is JSON of the wrong shape.
    #[error("the issuer's {what} answer is malformed: {reason}")]
    Malformed { what: &'static str, reason: &'static str },
    /// Discovery names another issuer (OpenID Connect Discovery §4.3).
    #[error("the discovery document names issuer {found:?}, not {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    /// Local mode, but discovery has no `jwks_uri`.
    #[error("the discovery document has no jwks_uri")]
    NoJwksUri,
}

/// What discovery told us.
#[derive(Debug)]
pub(super) struct Metadata {
    pub(super) jwks_uri: Option<Url>,
    pub(super) introspection_endpoint: Option<Url>,
}

/// The HTTP client towards the issuer.
#[derive(Debug)]
pub(super) struct Http {
    client: reqwest::Client,
    /// The CA file trusted besides the system's store (for messages).
    ca_file: Option<net::CaFile>,
}

impl Http {
    /// A client that follows no redirects, times out after `timeout`,
    /// speaks only HTTPS when the issuer does, and trusts and proxies as
    /// `net` says.
    pub(super) fn new(timeout: Duration, https_only: bool, net: &net::NetSettings) -> Result<Self, FetchError> {
        let client = net
            .client_builder()
            .redirect(Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .https_only(https_only)
            .user_agent(concat!("tessera-items-api/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(FetchError::Client)?;
        Ok(Self { client, ca_file: net.ca_file.clone() })
    }

    /// A failed request: a refused certificate says so.
    fn failed(&self, what: &'static str, source: reqwest::Error) -> FetchError {
        match net::certificate_problem(&source) {
            Some(problem) => FetchError::Certificate { what, problem, ca_file: self.ca_file.clone(), source },
            None => FetchError::Request { what, source },
        }
    }

    /// GETs a JSON document; answers its bytes and `Cache-Control` max-age.
    pub(super) async fn get(
        &self,
        url: &Url,
        what: &'static str,
        limit: usize,
    ) -> Result<(Vec<u8>, Option<Duration>), FetchError> {
        let request = self.client.get(url.clone()).header(ACCEPT, HeaderValue::from_static("application/json"));
        let response = request.send().await.map_err(|source| self.failed(what, source))?;
        let max_age = max_age(response.headers());
        let body = read_body(response, what, limit).await?;
        Ok((body, max_age))
    }

    /// Fetches and checks the discovery document.
    pub(super) async fn discover(
        &self,
        url: &Url,
        issuer: &str,
        needs_introspection: bool,
    ) -> Result<Metadata, FetchError> {
        const WHAT: &str = "discovery";
        let (body, _) = self.get(url, WHAT, MAX_DISCOVERY_BYTES).await?;
        let document: Map<String, Value> =
            serde_json::from_slice(&body).map_err(|source| FetchError::Json { what: WHAT, source })?;
        let found = document.get("issuer").and_then(Value::as_str).unwrap_or_default();
        if found != issuer {
            return Err(FetchError::IssuerMismatch { expected: issuer.to_owned(), found: found.to_owned() });
        }
        let secure = url.scheme() == "https";
        let endpoint = |name: &str| -> Result<Option<Url>, FetchError> {
            let Some(value) = document.get(name) else { return Ok(None) };
            let malformed = FetchError::Malformed { what: WHAT, reason: "an endpoint is not an http(s) URL" };
            let url = value.as_str().and_then(|s| Url::parse(s).ok()).ok_or(malformed)?;
            // An https issuer's endpoints must be https too.
            let scheme_ok = url.scheme() == "https" || (!secure && url.scheme() == "http");
            if !scheme_ok {
                return Err(FetchError::Malformed { what: WHAT, reason: "an endpoint is not an http(s) URL" });
            }
            Ok(Some(url))
        };
        let metadata =
            Metadata { jwks_uri: endpoint("jwks_uri")?, introspection_endpoint: endpoint("introspection_endpoint")? };
        if needs_introspection && metadata.introspection_endpoint.is_none() {
            return Err(FetchError::Malformed { what: WHAT, reason: "no introspection_endpoint" });
        }
        if !needs_introspection && metadata.jwks_uri.is_none() {
            return Err(FetchError::NoJwksUri);
        }
        Ok(metadata)
    }

    /// RFC 7662 §2.1: POSTs the token with client authentication
    /// (`client_secret_basic`, RFC 6749 §2.3.1: both parts form-urlencoded
    /// before base64); answers the JSON object (§2.2).
    pub(super) async fn introspect(
        &self,
        endpoint: &Url,
        token: &str,
        client_id: &str,
        client_secret: &oauth2::ClientSecret,
    ) -> Result<Map<String, Value>, FetchError> {
        const WHAT: &str = "introspection";
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let request = self
            .client
            .post(endpoint.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .basic_auth(encode(client_id), Some(encode(client_secret.secret())))
            .form(&[("token", token), ("token_type_hint", "access_token")]);
        let response = request.send().await.map_err(|source| self.failed(WHAT, source))?;
        let body = read_body(response, WHAT, MAX_INTROSPECTION_BYTES).await?;
        serde_json::from_slice::<Map<String, Value>>(&body).map_err(|source| FetchError::Json { what: WHAT, source })
    }
}

/// The body of a 200 answer, at most `limit` bytes.
async fn read_body(mut response: reqwest::Response, what: &'static str, limit: usize) -> Result<Vec<u8>, FetchError> {
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(FetchError::Status { what, status: status.as_u16() });
    }
    if declared_length(response.headers()).is_some_and(|length| length > limit) {
        return Err(FetchError::TooLarge { what, limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|source| FetchError::Request { what, source })? {
        if body.len() + chunk.len() > limit {
            return Err(FetchError::TooLarge { what, limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// `max-age` from `Cache-Control` (RFC 9111 §5.2.2.1); `no-store` and
/// `no-cache` count as zero. `None` when the header says nothing about age.
pub(super) fn max_age(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
    let mut found = None;
    for value in headers.get_all(reqwest::header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
                None => (directive, None),
            };
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return Some(std::time::Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age")
                && found.is_none()
                && let Some(seconds) = argument.and_then(|a| a.parse::<u64>().ok())
            {
                found = Some(std::time::Duration::from_secs(seconds));
            }
        }
    }
    found
}
