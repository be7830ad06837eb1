//! A typed client for Tessera's items API.
//!
//! Every call carries a bearer token (RFC 6750 §2.1, in the `Authorization`
//! header only), or a DPoP-bound token with a fresh proof (RFC 9449 §7)
//! when the source holds its key, from a [`TokenSource`] — in the apps, the sign-in core's
//! active account. When the API answers 401, the client asks the source to
//! renew the token once (a refresh) and retries once; a second 401 means the
//! person must sign in again. 403s name the missing scope when the API says
//! it (`error="insufficient_scope", scope="…"`).
//!
//! Calls that are safe to repeat are retried when the API fails or cannot
//! be reached ([`RetryPolicy`]: 3 attempts, waits doubling from 250 ms with
//! some jitter, or the API's `Retry-After` up to a cap; a 429 when its
//! `Retry-After` is within that cap, else [`ItemsError::RateLimited`] says
//! when to try again): reads, and creates,
//! which carry an `Idempotency-Key` (one per [`ItemsClient::create`] call,
//! the same on each attempt), so that a create whose answer was lost is not
//! made twice: the API answers the retry with the item it already made.
//! Changes and deletions are not retried: their failure is reported, and the
//! caller decides.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clock::{Clock, SystemClock};
use oauth2::AccessToken;
use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

/// An access token with the key it is bound to (DPoP, RFC 9449), if any:
/// handed out together by the [`TokenSource`], so the client signs each
/// request's proof with the right key without looking for it.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The access token (`Debug` prints `[redacted]`).
    pub access_token: AccessToken,
    /// The key it is bound to; `None` for a bearer token.
    pub dpop: Option<Arc<dpop::DpopKey>>,
}

impl Credential {
    /// A bearer token, bound to no key.
    #[must_use]
    pub fn bearer(access_token: AccessToken) -> Self {
        Self { access_token, dpop: None }
    }
}

/// Where access tokens come from.
pub trait TokenSource: Send + Sync {
    /// Why the source has no token (in the apps, the sign-in core's
    /// `SessionError`): it reaches the caller unchanged, typed, in
    /// [`ItemsError::SignInRequired`].
    type Error: std::error::Error + Send + Sync + 'static;

    /// A current access token, with its key when bound (the source
    /// refreshes one that is about to expire).
    fn token(&self) -> impl Future<Output = Result<Credential, Self::Error>> + Send;

    /// The API refused `rejected` with 401: answer a renewed token, or fail
    /// (the person must sign in again). Sources make sure that many callers
    /// renewing at once cause one refresh.
    fn renew(&self, rejected: &AccessToken) -> impl Future<Output = Result<Credential, Self::Error>> + Send;
}

/// A shared source is a source (an app holds its session as `Arc<Session>`).
impl<T: TokenSource + ?Sized> TokenSource for std::sync::Arc<T> {
    type Error = T::Error;

    fn token(&self) -> impl Future<Output = Result<Credential, Self::Error>> + Send {
        (**self).token()
    }

    fn renew(&self, rejected: &AccessToken) -> impl Future<Output = Result<Credential, Self::Error>> + Send {
        (**self).renew(rejected)
    }
}

/// An item, as the API answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Its id.
    pub id: String,
    /// Short name.
    pub name: String,
    /// Longer text.
    pub description: String,
    /// Price in currency units (two decimals).
    pub price: f64,
    /// Tags.
    pub tags: Vec<String>,
    /// The owner's user id at the issuer (Okta's `uid`, else `sub`).
    pub owner: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A new item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewItem {
    /// Short name.
    pub name: String,
    /// Longer text.
    pub description: String,
    /// Price in currency units (two decimals at most).
    pub price: f64,
    /// Tags.
    pub tags: Vec<String>,
}

/// Changes to an item; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemPatch {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// New tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// What to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Page size (1–100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Text to find.
    pub q: Option<String>,
    /// Only items with this tag.
    pub tag: Option<String>,
}

/// One page of items.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ItemPage {
    /// The items, newest first.
    pub items: Vec<Item>,
    /// The next page's cursor; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Why a call failed, in terms a person can act on. `E` is the token
/// source's own error ([`TokenSource::Error`]), kept typed so that callers
/// can tell why no token could be had without recovering its type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ItemsError<E> {
    /// No token could be had: sign in again, or see the source's error
    /// (its provider may just be unreachable).
    #[error("you need to sign in again")]
    SignInRequired(#[source] E),
    /// The DPoP proof for the request could not be signed.
    #[error("could not sign the request's proof of possession")]
    Proof(#[source] dpop::KeyError),
    /// The API refused the token even after a renewal.
    #[error("the items API refused the sign-in: {description}")]
    Unauthorized {
        /// The API's `error_description`, if any.
        description: String,
    },
    /// The token lacks a scope; signing in again with it may help.
    #[error("this needs the {scope} permission, which your sign-in does not have")]
    MissingScope {
        /// The scope the API named.
        scope: String,
    },
    /// The API's policy refused the request.
    #[error("the items API does not allow this: {message}")]
    Forbidden {
        /// The API's message.
        message: String,
    },
    /// No such item (or not yours).
    #[error("no such item")]
    NotFound,
    /// The request was refused as invalid.
    #[error("{message}")]
    Invalid {
        /// The field at fault, when the API named one.
        field: Option<String>,
        /// The API's message.
        message: String,
    },
    /// The API cannot check tokens right now, or is failing.
    #[error("the items API is unavailable (HTTP {status}); try again later")]
    Unavailable {
        /// The status.
        status: u16,
    },
    /// The API is limiting requests (HTTP 429) for longer than the
    /// [`RetryPolicy`] waits, or the call is not one that is retried.
    #[error("the items API is limiting requests; try again {}", match retry_after {
        Some(wait) => format!("in {} s", wait.as_secs() + u64::from(wait.subsec_nanos() > 0)),
        None => "later".to_owned(),
    })]
    RateLimited {
        /// How long it asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
    /// The API could not be reached.
    #[error("cannot reach the items API")]
    Network(#[source] reqwest::Error),
    /// The API's TLS certificate was refused: not trusted (a company's
    /// TLS-inspecting proxy, an internal CA: [`net::APP_CA_FILE_FIX`]), or
    /// invalid. Not retried.
    #[error("{}", problem.explain("the items API", ca_file.as_ref(), net::APP_CA_FILE_FIX))]
    Certificate {
        /// Why.
        problem: net::CertificateProblem,
        /// The CA file in use, if any.
        ca_file: Option<net::CaFile>,
        /// The transport's error.
        #[source]
        source: reqwest::Error,
    },
    /// The request conflicts with what the API holds (an `Idempotency-Key`
    /// whose item has been deleted since).
    #[error("{message}")]
    Conflict {
        /// The API's message.
        message: String,
    },
    /// The API answered something this client does not understand.
    #[error("unexpected answer from the items API (HTTP {status})")]
    Unexpected {
        /// The status.
        status: u16,
        /// Why it could not be read.
        #[source]
        source: Option<serde_json::Error>,
    },
}

/// How calls that are safe to repeat are retried: after a network error, a
/// timeout, an answer cut off, or a 500, 502, 503 or 504; and after a 429
/// (too many requests) whose `Retry-After` is at most `max_wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1: no retries).
    pub attempts: u32,
    /// The wait before the first retry; each next one doubles it, plus up to
    /// a quarter more at random (so that many clients do not come back at
    /// once).
    pub first_wait: Duration,
    /// The longest wait, also for the API's `Retry-After`.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 3, first_wait: Duration::from_millis(250), max_wait: Duration::from_secs(4) }
    }
}

impl RetryPolicy {
    /// No retries.
    #[must_use]
    pub fn none() -> Self {
        Self { attempts: 1, ..Self::default() }
    }

    /// The wait before retry `retry` (1 for the first), given the API's
    /// `Retry-After` if it sent one.
    fn wait(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_wait);
        }
        let base = self.first_wait.saturating_mul(1 << retry.saturating_sub(1).min(16));
        let jitter = base.mul_f64(rand::random::<f64>() / 4.0);
        (base + jitter).min(self.max_wait)
    }
}

/// The longest a request may take by default, answer included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The client.
#[derive(Debug, Clone)]
pub struct ItemsClient<S> {
    http: reqwest::Client,
    base: Url,
    tokens: S,
    retries: RetryPolicy,
    /// The API's latest DPoP nonce (RFC 9449 §9), shared by the clones.
    dpop_nonces: Arc<dpop::ReceivedNonces>,
    /// Where proofs' `iat` comes from.
    clock: Arc<dyn Clock>,
    /// The CA file trusted besides the system's store (for messages).
    ca_file: Option<net::CaFile>,
}

/// An answer read whole: status, headers and body.
struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    text: String,
}

/// Whether a failed attempt may be tried again: the API failed or could not
/// be reached, or its answer did not arrive whole, or it limits requests
/// (429) for no longer than `max_wait` (`now`: this client's clock, for a
/// `Retry-After` date the API sent without a `Date`).
fn retryable<E>(outcome: &Result<Answer, ItemsError<E>>, max_wait: Duration, now: SystemTime) -> bool {
    match outcome {
        Ok(answer) if answer.status == StatusCode::TOO_MANY_REQUESTS => {
            retry_after(&answer.headers, now).is_some_and(|wait| wait <= max_wait)
        }
        Ok(answer) => matches!(
            answer.status,
            StatusCode::INTERNAL_SERVER_ERROR
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        ),
        Err(ItemsError::Network(error)) => !error.is_builder(),
        Err(_) => false,
    }
}

/// The wait an answer's `Retry-After` asks for (RFC 9110 §10.2.3): seconds,
/// or an HTTP date measured from the answer's `Date` (else from `now`, this
/// client's clock); `None` without one, or one that cannot be read.
fn retry_after(headers: &header::HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let value = text(header::RETRY_AFTER)?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let answered = text(header::DATE).and_then(|date| httpdate::parse_http_date(date).ok()).unwrap_or(now);
    Some(at.duration_since(answered).unwrap_or(Duration::ZERO))
}

/// The header carrying a create's idempotency key
/// (draft-ietf-httpapi-idempotency-key-header).
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// A scope named in a `WWW-Authenticate` challenge (RFC 6750 §3).
fn challenge_scope(headers: &header::HeaderMap) -> Option<String> {
    challenge_param(headers, "scope")
}

/// The quoted parameter `name` of the first `WWW-Authenticate` challenge
/// that has it.
fn challenge_param(headers: &header::HeaderMap, name: &str) -> Option<String> {
    let opening = format!("{name}=\"");
    headers.get_all(header::WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()).find_map(|value| {
        // A whole parameter name: at the start or after a space or comma.
        let start = value
            .match_indices(&opening)
            .find(|(at, _)| *at == 0 || value[..*at].ends_with([' ', ',']))
            .map(|(at, _)| at + opening.len())?;
        let end = value[start..].find('"')? + start;
        Some(value[start..end].to_owned())
    })
}

impl<S: TokenSource> ItemsClient<S> {
    /// A client for the API at `base` (e.g. `http://127.0.0.1:8081`).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: Url, tokens: S) -> Result<Self, ItemsError<S::Error>> {
        Self::with_timeout(base, tokens, DEFAULT_TIMEOUT)
    }

    /// A client whose requests each take at most `timeout`, answer included
    /// (a timed-out read or create is retried like a network error).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn with_timeout(base: Url, tokens: S, timeout: Duration) -> Result<Self, ItemsError<S::Error>> {
        Self::with_network(base, tokens, timeout, &net::NetSettings::default())
    }

    /// As [`with_timeout`](Self::with_timeout), trusting and proxying as
    /// `net` says (a CA file, `HTTPS_PROXY`; the apps pass their settings').
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn with_network(
        base: Url,
        tokens: S,
        timeout: Duration,
        net: &net::NetSettings,
    ) -> Result<Self, ItemsError<S::Error>> {
        let http = net
            .client_builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ItemsError::Network)?;
        Ok(Self {
            http,
            base,
            tokens,
            retries: RetryPolicy::default(),
            dpop_nonces: Arc::default(),
            clock: Arc::new(SystemClock),
            ca_file: net.ca_file.clone(),
        })
    }

    /// The same client reading the time (for DPoP proofs' `iat`) from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same client with another [`RetryPolicy`].
    #[must_use]
    pub fn retrying(mut self, retries: RetryPolicy) -> Self {
        self.retries = retries;
        self
    }

    /// The token source.
    pub fn tokens(&self) -> &S {
        &self.tokens
    }

    /// A transport failure: a refused certificate says so, the rest is
    /// [`ItemsError::Network`].
    fn network(&self, error: reqwest::Error) -> ItemsError<S::Error> {
        match net::certificate_problem(&error) {
            Some(problem) => ItemsError::Certificate { problem, ca_file: self.ca_file.clone(), source: error },
            None => ItemsError::Network(error),
        }
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    /// One attempt: the request with the current token, renewed and tried
    /// once more on a 401 (or, asked for the API's DPoP nonce, tried once
    /// more with it), and its answer read whole.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&serde_json::Value>,
        key: Option<&str>,
    ) -> Result<Answer, ItemsError<S::Error>> {
        let mut credential = self.tokens.token().await.map_err(ItemsError::SignInRequired)?;
        let mut renewed = false;
        let mut nonce_given = false;
        loop {
            let mut request = self.http.request(method.clone(), url.clone());
            // A DPoP-bound token goes with a fresh proof (RFC 9449 §7.1).
            let sent_nonce = self.dpop_nonces.for_url(url);
            let token = &credential.access_token;
            let proof = match &credential.dpop {
                Some(key) => Some(
                    key.proof(
                        method.as_str(),
                        url,
                        Some(token.secret()),
                        sent_nonce.as_deref(),
                        self.clock.unix_seconds(),
                    )
                    .map_err(ItemsError::Proof)?,
                ),
                None => None,
            };
            let with_proof = proof.is_some();
            request = match proof {
                Some(proof) => {
                    request.header(header::AUTHORIZATION, format!("DPoP {}", token.secret())).header("dpop", proof)
                }
                None => request.bearer_auth(token.secret()),
            };
            if let Some(body) = body {
                request = request.json(body);
            }
            if let Some(key) = key {
                request = request.header(IDEMPOTENCY_KEY, key);
            }
            let response = request.send().await.map_err(|e| self.network(e))?;
            // RFC 9449 §9: asked for the API's nonce, try once more with it
            // (when it is not the one this proof carried). The body of a 401
            // is not read: the API asks in its challenge.
            let retry = with_proof && {
                let headers = response.headers();
                let handed_out = headers.get("dpop-nonce").and_then(|v| v.to_str().ok());
                let challenges = headers.get_all(header::WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok());
                let asks = dpop::asks_for_nonce(response.status().as_u16(), challenges, &[]);
                self.dpop_nonces.keep(url, sent_nonce.as_deref(), handed_out, asks).is_some()
            };
            if retry && !nonce_given {
                tracing::debug!("the items API asked for its DPoP nonce: trying once more with it");
                nonce_given = true;
                continue;
            }
            if response.status() != StatusCode::UNAUTHORIZED || renewed {
                let (status, headers) = (response.status(), response.headers().clone());
                let text = response.text().await.map_err(|e| self.network(e))?;
                return Ok(Answer { status, headers, text });
            }
            tracing::debug!("the items API answered 401: renewing the token once");
            credential = self.tokens.renew(&credential.access_token).await.map_err(ItemsError::SignInRequired)?;
            renewed = true;
        }
    }

    /// Sends a request and reads its answer; reads, and writes with an
    /// idempotency `key`, are tried again as the [`RetryPolicy`] says.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        key: Option<&str>,
    ) -> Result<T, ItemsError<S::Error>> {
        let attempts = if method == Method::GET || key.is_some() { self.retries.attempts.max(1) } else { 1 };
        let mut attempt = 1;
        let answer = loop {
            let outcome = self.attempt(&method, &url, body, key).await;
            if attempt >= attempts || !retryable(&outcome, self.retries.max_wait, self.clock.now()) {
                break outcome?;
            }
            let asked = outcome.as_ref().ok().and_then(|answer| retry_after(&answer.headers, self.clock.now()));
            let wait = self.retries.wait(attempt, asked);
            match &outcome {
                Ok(answer) => {
                    tracing::info!(status = %answer.status, ?wait, attempt, "the items API failed; trying again")
                }
                Err(error) => {
                    tracing::info!(%error, ?wait, attempt, "the items API could not be reached; trying again")
                }
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        };
        let Answer { status, headers, text } = answer;
        if status.is_success() {
            let text = if text.is_empty() { "null" } else { text.as_str() };
            return serde_json::from_str(text)
                .map_err(|e| ItemsError::Unexpected { status: status.as_u16(), source: Some(e) });
        }
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let message = json["message"].as_str().unwrap_or_default().to_owned();
        Err(match status {
            StatusCode::UNAUTHORIZED => ItemsError::Unauthorized { description: message },
            StatusCode::FORBIDDEN => match challenge_scope(&headers) {
                Some(scope) => ItemsError::MissingScope { scope },
                None => ItemsError::Forbidden { message },
            },
            StatusCode::NOT_FOUND => ItemsError::NotFound,
            StatusCode::CONFLICT => ItemsError::Conflict { message },
            StatusCode::TOO_MANY_REQUESTS => {
                ItemsError::RateLimited { retry_after: retry_after(&headers, self.clock.now()) }
            }
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::PAYLOAD_TOO_LARGE => {
                ItemsError::Invalid { field: json["field"].as_str().map(str::to_owned), message }
            }
            status if status.is_server_error() => ItemsError::Unavailable { status: status.as_u16() },
            status => ItemsError::Unexpected { status: status.as_u16(), source: None },
        })
    }

    fn item_url(&self, id: &str) -> Url {
        let mut url = self.url("/v1/items");
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(id); // percent-encoded: an id can never add path segments
        }
        url
    }

    /// One page of your items (everyone's with `items:admin`).
    ///
    /// # Errors
    /// An [`ItemsError`].
    pub async fn list(&self, options: &ListOptions) -> Result<ItemPage, ItemsError<S::Error>> {
        let mut url = self.url("/v1/items");
        {
            let mut query = url.query_pairs_mut();
            if let Some(limit) = options.limit {
                query.append_pair("limit", &limit.to_string());
            }
            for (name, value) in [("cursor", &options.cursor), ("q", &options.q), ("tag", &options.tag)] {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        self.call(Method::GET, url, None, None).await
    }

    /// One item.
    ///
    /// # Errors
    /// [`ItemsError::NotFound`] and the others.
    pub async fn get(&self, id: &str) -> Result<Item, ItemsError<S::Error>> {
        self.call(Method::GET, self.item_url(id), None, None).await
    }

    /// Creates an item, once: the request carries a new `Idempotency-Key`,
    /// and is retried with the same key (see the [crate docs](crate)).
    ///
    /// # Errors
    /// [`ItemsError::Invalid`] naming the field, and the others.
    pub async fn create(&self, item: &NewItem) -> Result<Item, ItemsError<S::Error>> {
        self.create_with_key(item, &uuid::Uuid::now_v7().to_string()).await
    }

    /// Creates an item with an `Idempotency-Key` of the caller's (the same
    /// key and item again answer the item made the first time, for a day).
    ///
    /// # Errors
    /// [`ItemsError::Invalid`] naming the field or a key used for another
    /// item, [`ItemsError::Conflict`] when the key's item has been deleted,
    /// and the others.
    pub async fn create_with_key(&self, item: &NewItem, key: &str) -> Result<Item, ItemsError<S::Error>> {
        let body = serde_json::to_value(item).map_err(|e| ItemsError::Unexpected { status: 0, source: Some(e) })?;
        self.call(Method::POST, self.url("/v1/items"), Some(&body), Some(key)).await
    }

    /// Changes an item.
    ///
    /// # Errors
    /// [`ItemsError::NotFound`], [`ItemsError::Invalid`] and the others.
    pub async fn update(&self, id: &str, patch: &ItemPatch) -> Result<Item, ItemsError<S::Error>> {
        let body = serde_json::to_value(patch).map_err(|e| ItemsError::Unexpected { status: 0, source: Some(e) })?;
        self.call(Method::PATCH, self.item_url(id), Some(&body), None).await
    }

    /// Deletes an item.
    ///
    /// # Errors
    /// [`ItemsError::NotFound`] and the others.
    pub async fn delete(&self, id: &str) -> Result<(), ItemsError<S::Error>> {
        let _: serde_json::Value = self.call(Method::DELETE, self.item_url(id), None, None).await?;
        Ok(())
    }

    /// The claims the API sees in your token (`GET /v1/me`).
    ///
    /// # Errors
    /// An [`ItemsError`].
    pub async fn me(&self) -> Result<serde_json::Value, ItemsError<S::Error>> {
        self.call(Method::GET, self.url("/v1/me"), None, None).await
    }
}
