//! The HTTP client every request to the provider goes through: `reqwest`
//! with rustls, **no redirects followed** (a token endpoint that redirects
//! could leak the code or verifier elsewhere, RFC 9700 §4.11), a time limit
//! for the whole exchange, and a cap on the size of an answer (a provider's
//! answers are a few kilobytes; a stream of megabytes is refused as it
//! arrives instead of filling memory).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{HttpRequest, HttpResponse};

/// How long a request to the provider may take, answer included, unless
/// configured (`SIGNIN_HTTP_TIMEOUT_SECS`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
}

/// Why a request to the provider failed, in words for the person; the
/// `source` has the transport's detail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
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
}

impl HttpClient {
    /// A client with the given time limit for each exchange and the default
    /// answer cap.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { inner, timeout, max_answer: MAX_ANSWER_BYTES })
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

    /// Sends `request` and reads its answer, within the time limit and the cap.
    ///
    /// # Errors
    /// See [`HttpError`].
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<(reqwest::Response, Vec<u8>), HttpError> {
        let mut response = request.send().await.map_err(|e| self.error(e))?;
        let body = self.read(&mut response).await?;
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
        if error.is_timeout() {
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
    /// time limit and the cap.
    pub(crate) async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request).map_err(HttpError::Other)?;
        let mut response = self.inner.execute(request).await.map_err(|e| self.error(e))?;
        let body = self.read(&mut response).await?;
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
