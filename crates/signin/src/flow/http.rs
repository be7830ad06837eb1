//! The HTTP client every request to the provider goes through: `reqwest`
//! with rustls, trusting and proxying as [`net::NetSettings`] says (the
//! system's trust store, a CA file, `HTTPS_PROXY`), **no redirects followed** (a token endpoint that redirects
//! could leak the code or verifier elsewhere, RFC 9700 §4.11), a time limit
//! for the whole exchange, and a cap on the size of an answer (a provider's
//! answers are a few kilobytes; a stream of megabytes is refused as it
//! arrives instead of filling memory).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use clock::Clock as _;
use openidconnect::{HttpRequest, HttpResponse};

use super::rate_limit::RateLimited;

/// How long a request to the provider may take, answer included, unless
/// configured (`SIGNIN_HTTP_TIMEOUT_SECS`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What fixes a provider certificate that is not trusted, as the apps'
/// settings name it.
pub const CA_FILE_FIX: &str = net::APP_CA_FILE_FIX;

/// The largest answer read from the provider. Discovery documents, key sets
/// and token responses are a few kilobytes.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The provider's HTTP client; see the module documentation. Cheap to
/// clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    timeout: Duration,
    max_answer: usize,
    /// The CA file trusted besides the system's store (for messages).
    ca_file: Option<net::CaFile>,
}

/// Why a request to the provider failed, in words for the person; the
/// `source` has the transport's detail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The provider's TLS certificate was refused: not trusted (a company's
    /// TLS-inspecting proxy, an internal CA: [`CA_FILE_FIX`]), or invalid.
    #[error("{}", problem.explain("the provider", ca_file.as_ref(), CA_FILE_FIX))]
    Certificate {
        /// Why.
        problem: net::CertificateProblem,
        /// The CA file in use, if any.
        ca_file: Option<net::CaFile>,
        /// The transport's error.
        #[source]
        source: reqwest::Error,
    },
    /// No connection could be made (provider down, no network, wrong host).
    #[error("cannot connect to the provider (offline, or the provider is down?)")]
    Connect(#[source] reqwest::Error),
    /// The provider took longer than the time limit.
    #[error("the provider did not answer within {} s", after.as_secs())]
    TimedOut {
        /// The time limit.
        after: Duration,
        /// The transport's error.
        #[source]
        source: reqwest::Error,
    },
    /// The connection ended before the whole answer arrived.
    #[error("the provider's answer was cut off before its end")]
    CutOff(#[source] reqwest::Error),
    /// The answer is larger than [`MAX_ANSWER_BYTES`].
    #[error("the provider's answer is larger than {} KiB and was refused", limit / 1024)]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Any other transport failure.
    #[error("the request to the provider failed")]
    Other(#[source] reqwest::Error),
    /// The request could not be made (not expected: a bad URL or header).
    #[error("the request to the provider could not be made: {0}")]
    Request(String),
    /// The answer could not be handed on (not expected from a valid
    /// response).
    #[error("the provider's answer could not be read")]
    Response(#[source] openidconnect::http::Error),
    /// The provider answered with a server error (HTTP 5xx).
    #[error(transparent)]
    Failed(ProviderFailure),
    /// The provider is limiting requests (HTTP 429), and says when to come
    /// back (see [`rate_limit`](super::rate_limit)).
    #[error(transparent)]
    RateLimited(RateLimited),
}

/// The provider answered with a server error (HTTP 5xx, RFC 9110 §15.6): it
/// failed, whatever was asked. Kept apart from a malformed answer so that
/// the person reads that the provider failed, with its status and its own
/// error text when it sent one (RFC 6749 §5.2's `error` and
/// `error_description`, or a short plain-text body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the provider failed (HTTP {status}) — try again later{}", detail(error.as_deref(), description.as_deref()))]
pub struct ProviderFailure {
    /// The HTTP status (500 to 599).
    pub status: u16,
    /// The provider's error code (`error`), if it sent one.
    pub error: Option<String>,
    /// The provider's own words (`error_description`, or a short plain-text
    /// body), if any.
    pub description: Option<String>,
}

/// The longest piece of the provider's own error text that is kept.
const MAX_ERROR_TEXT: usize = 200;

impl ProviderFailure {
    /// The failure an answer with `status` describes, when it is a server
    /// error; `None` for any other status. A JSON body's `error` and
    /// `error_description` (RFC 6749 §5.2) are kept, or a short plain-text
    /// body; never HTML, never more than 200 characters of
    /// each, control characters dropped.
    #[must_use]
    pub fn from_answer(status: u16, content_type: Option<&str>, body: &[u8]) -> Option<Self> {
        if !(500..=599).contains(&status) {
            return None;
        }
        let text = |value: &str| {
            let value: String = value.chars().filter(|c| !c.is_control()).take(MAX_ERROR_TEXT).collect();
            Some(value.trim().to_owned()).filter(|v| !v.is_empty())
        };
        let mut failure = Self { status, error: None, description: None };
        if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice::<serde_json::Value>(body) {
            let field = |name: &str| fields.get(name).and_then(serde_json::Value::as_str).and_then(text);
            failure.error = field("error");
            failure.description = field("error_description");
        } else if content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/plain")) {
            failure.description = std::str::from_utf8(body).ok().and_then(text);
        }
        Some(failure)
    }
}

/// The [`RateLimited`] somewhere in `error`'s chain (an `openidconnect`
/// request error wrapping [`HttpError::RateLimited`]), if any.
pub(crate) fn rate_limit_in(error: &(dyn std::error::Error + 'static)) -> Option<RateLimited> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(HttpError::RateLimited(limited)) = error.downcast_ref::<HttpError>() {
            return Some(*limited);
        }
        current = error.source();
    }
    None
}

/// A 429 (RFC 6585 §4) is [`HttpError::RateLimited`]: its headers say when
/// to come back, measured against the provider's `Date` (this machine's
/// clock only when it sent none).
fn rate_limited(response: &reqwest::Response) -> Result<(), HttpError> {
    if response.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Ok(());
    }
    Err(HttpError::RateLimited(RateLimited::from_headers(response.headers(), clock::SystemClock.now())))
}

/// The [`ProviderFailure`] somewhere in `error`'s chain (an `openidconnect`
/// request error wrapping [`HttpError::Failed`]), if any.
pub(crate) fn failure_in(error: &(dyn std::error::Error + 'static)) -> Option<ProviderFailure> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(HttpError::Failed(failure)) = error.downcast_ref::<HttpError>() {
            return Some(failure.clone());
        }
        current = error.source();
    }
    None
}

fn detail(error: Option<&str>, description: Option<&str>) -> String {
    match (error, description) {
        (Some(error), Some(description)) => format!(" ({error}: {description})"),
        (Some(text), None) | (None, Some(text)) => format!(" ({text})"),
        (None, None) => String::new(),
    }
}

impl HttpClient {
    /// A client with the given time limit for each exchange and the default
    /// answer cap, trusting and proxying as `net` says.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(timeout: Duration, net: &net::NetSettings) -> Result<Self, reqwest::Error> {
        let inner = net
            .client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { inner, timeout, max_answer: MAX_ANSWER_BYTES, ca_file: net.ca_file.clone() })
    }

    /// The same client with another answer cap (tests).
    #[must_use]
    pub fn with_max_answer(mut self, bytes: usize) -> Self {
        self.max_answer = bytes;
        self
    }

    /// The `reqwest` client underneath, for requests whose answer is read
    /// with [`HttpClient::read`] or not at all.
    #[must_use]
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// Sends `request` and reads its answer, within the time limit and the
    /// cap; a server error (HTTP 5xx) is [`HttpError::Failed`], a 429
    /// [`HttpError::RateLimited`].
    ///
    /// # Errors
    /// See [`HttpError`].
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<(reqwest::Response, Vec<u8>), HttpError> {
        let mut response = request.send().await.map_err(|e| self.error(e))?;
        let body = self.read(&mut response).await?;
        rate_limited(&response)?;
        let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if let Some(failure) = ProviderFailure::from_answer(response.status().as_u16(), content_type, &body) {
            return Err(HttpError::Failed(failure));
        }
        Ok((response, body))
    }

    /// Reads the rest of `response`'s body, refusing it as soon as it
    /// passes the cap (a declared `Content-Length` above it is refused
    /// before reading).
    ///
    /// # Errors
    /// See [`HttpError`].
    pub async fn read(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, HttpError> {
        let too_large = HttpError::TooLarge { limit: self.max_answer };
        let declared = response.content_length().and_then(|n| usize::try_from(n).ok());
        if declared.is_some_and(|n| n > self.max_answer) {
            return Err(too_large);
        }
        let mut body = Vec::with_capacity(declared.unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.error(e))? {
            if body.len() + chunk.len() > self.max_answer {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn error(&self, error: reqwest::Error) -> HttpError {
        if let Some(problem) = net::certificate_problem(&error) {
            HttpError::Certificate { problem, ca_file: self.ca_file.clone(), source: error }
        } else if error.is_timeout() {
            HttpError::TimedOut { after: self.timeout, source: error }
        } else if error.is_connect() {
            HttpError::Connect(error)
        } else if error.is_body() || error.is_decode() {
            HttpError::CutOff(error)
        } else {
            HttpError::Other(error)
        }
    }

    /// Sends an `openidconnect` request and reads its answer, within the
    /// time limit and the cap; a server error (HTTP 5xx) is
    /// [`HttpError::Failed`] and a 429 [`HttpError::RateLimited`], so that
    /// every endpoint names them alike.
    pub(crate) async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request).map_err(HttpError::Other)?;
        let mut response = self.inner.execute(request).await.map_err(|e| self.error(e))?;
        let body = self.read(&mut response).await?;
        rate_limited(&response)?;
        let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if let Some(failure) = ProviderFailure::from_answer(response.status().as_u16(), content_type, &body) {
            return Err(HttpError::Failed(failure));
        }
        let mut answer = openidconnect::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        answer.body(body).map_err(HttpError::Response)
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.exchange(request))
    }
}
