//! Access-token validation: locally against the issuer's JWKS, or remotely by
//! introspection (RFC 7662).
//!
//! A [`TokenValidator`] takes the bearer token of a request (RFC 6750 §2.1) and
//! answers its [`Claims`], an [`AuthError::Invalid`] whose text is safe to send
//! back in the `error_description` of a `WWW-Authenticate` challenge
//! (RFC 6750 §3), or [`AuthError::Unavailable`] when the issuer cannot be
//! asked (the request is then denied too).
//!
//! # Local mode
//!
//! The issuer's metadata is discovered at `{issuer}/.well-known/openid-configuration`
//! (OpenID Connect Discovery 1.0 §4; its `issuer` must equal ours exactly,
//! §4.3), and its `jwks_uri` fetched (RFC 7517 §5). Keys are parsed once into
//! `jsonwebtoken::DecodingKey`s and kept for the response's
//! `Cache-Control: max-age` ([`ValidatorOptions::jwks_default_max_age`] when
//! absent, at most [`ValidatorOptions::jwks_max_age_cap`]).
//!
//! A token whose `kid` is not in the cache makes the validator fetch the JWKS
//! again (the issuer may have rotated its keys), but
//! - **single-flight**: one fetch at a time, behind a `tokio::sync::Mutex`
//!   that only the fetching path takes; whoever waited behind a fetch looks
//!   at its result instead of fetching again, so a burst of unknown `kid`s
//!   costs one request;
//! - **rate-limited**: at most one refetch for unknown `kid`s per
//!   [`ValidatorOptions::refetch_interval`] (and no attempt within
//!   [`ValidatorOptions::retry_interval`] after a failed one), so a `kid` full
//!   of path or SQL characters is only a failed map lookup and never drives
//!   unbounded fetching. Expired keys are refreshed at most once per interval
//!   too. The first unknown `kid` after an ordinary fetch (the first one, or
//!   one for expired keys) is looked up at once: a key the issuer has just
//!   rotated in is accepted without waiting out the limit.
//!
//! The hot path takes a read lock just long enough to clone an `Arc` of the
//! key snapshot; it never waits on the network once the keys are cached.
//! When a refresh fails, the previous keys stay in use until
//! [`ValidatorOptions::jwks_max_age_cap`] after they were fetched.
//!
//! What is checked (RFC 8725 §3, RFC 9068 §4, RFC 7519 §7.2), in order:
//! the token's size and characters (before any parsing); three base64url
//! parts (no JWE, no unsecured JWS); the header: `alg` in the allow-list
//! (RS256 by default, never `none` in any case, never `HS*`), no `crit`
//! (RFC 7515 §4.1.11: we understand no extension), `typ` absent, `JWT` or
//! `at+jwt` (RFC 9068 §2.1), a `kid`; the key found by `kid` only (`jku`,
//! `x5u`, `jwk` and `x5c` are ignored: never fetched, never used), whose one
//! algorithm must be the header's; the signature; then the claims: `iss`
//! exactly ours, `aud` containing ours, no ID-token claims (`nonce`,
//! `at_hash`, `c_hash`), `exp`, `nbf` and `iat` against the clock with the
//! configured leeway, a `sub`. Okta's `scp` (array) and `cid` and RFC 9068's
//! `scope` (space-separated) and `client_id` are both understood.
//!
//! # Validated-token cache
//!
//! In local mode, a token that passed every check above is kept in a
//! bounded cache ([`ValidatorOptions::max_cached_tokens`], a `cache::TokenCache`)
//! under the SHA-256 of the whole token, with its claims and
//! the `kid` and fingerprint of the key that verified it, so that the same
//! token again skips the signature (~21 µs for RS256) and the claim checks.
//! An entry is served only
//! - before the token's `exp` (never within the leeway: from `exp` on the
//!   token is checked in full again, and not cached again);
//! - while the key snapshot is fresh (within the JWKS's `max-age`) and holds
//!   that very key: a refresh that finds the key gone or changed drops its
//!   tokens at once (and lookups check the key too, so an entry stored
//!   during the refresh is never served).
//!
//! Nothing else is cached: refused tokens are checked in full every time.
//! The cache belongs to one validator (one issuer, audience, client list and
//! algorithm list). The caller still checks the DPoP proof against the
//! claims' `cnf.jkt`, the scopes and the policy on every request. In
//! introspection mode the local check made before asking caches nothing:
//! only the issuer's answers are cached (the answer cache below, the same
//! type).
//!
//! # Introspection mode
//!
//! The token is posted to the discovered `introspection_endpoint` with the
//! resource server's client credentials (HTTP Basic, RFC 6749 §2.3.1). An
//! answer with `active: false` is [`AuthError::Invalid`]; an active one is
//! still checked: `iss` and `aud` when present, `exp` (required), `nbf`,
//! `iat`, and a `token_type` that is not a refresh token (RFC 7662 §2.2).
//! A timeout, an HTTP error or a malformed answer is [`AuthError::Unavailable`].
//!
//! Made-up tokens must not cost the issuer a request each (its rate limit is
//! the whole organisation's). Before asking:
//! - a token shaped like a JWT (three parts, a JSON header: Okta's access
//!   tokens) is first checked as in local mode, against the issuer's cached
//!   JWKS (discovery's `jwks_uri`): signature, `alg`, `iss`, `aud`, `exp` and
//!   the rest. One that fails is [`AuthError::Invalid`] without a request;
//!   one that passes was signed by the issuer, and is asked about only to
//!   learn whether it is still active (revoked or not);
//! - any other token (opaque: Okta's refresh tokens, or garbage) takes one
//!   token from a bucket of [`ValidatorOptions::introspection_burst`],
//!   refilled at [`ValidatorOptions::introspections_per_minute`]. With the
//!   bucket empty it is [`AuthError::Invalid`] (`invalid_token`, never a
//!   503) without a request, and not remembered, so that it is asked about
//!   once the bucket refills. Tokens whose answers are cached never touch the
//!   bucket: honest callers keep working through a flood.
//!
//! Active answers are cached, keyed by the SHA-256 of the token (never the
//! token itself), until `min(exp, now + cache_ttl)`; refusals for
//! `min(cache_ttl, 30 s)` (see `introspection`). **Trade-off** (RFC 7662
//! §4): a token revoked at the issuer stays accepted until its cache entry
//! ends; `cache_ttl` bounds that window, and the token's `exp` always ends it.
//! Set `cache_ttl` to zero to ask the issuer every time.
//!
//! Tokens and secrets never appear in logs, `Debug` output or errors.

mod cache;
mod claims;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod introspection;
mod jwt;
mod keys;
mod refusal;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

/// JWS algorithms (RFC 7518 §3.1), for [`ValidatorOptions::algorithms`].
pub use jsonwebtoken::Algorithm;
pub use refusal::Refusal;
use serde_json::{Map, Value};
use url::Url;

use self::cache::{TokenCache, TokenHash};
use self::http::{FetchError, Http, Metadata};
use self::introspection::Bucket;
use self::keys::{KeySnapshot, VerifyKey};

/// The validated claims of an access token, whatever the mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// `sub`: the person's login (Okta) or the client id (client credentials).
    pub subject: String,
    /// `cid` (Okta) or `client_id` (RFC 9068).
    pub client_id: Option<String>,
    /// `uid` (Okta's user id), when present.
    pub user_id: Option<String>,
    /// `scp` (Okta, array) or `scope` (RFC 9068, space-separated).
    pub scopes: Vec<String>,
    /// `iss`.
    pub issuer: String,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// Every claim, as validated (for the policy input and `/v1/me`).
    pub all: Map<String, Value>,
}

/// How tokens are checked.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Signature against the JWKS found through discovery.
    Local,
    /// Ask the issuer's introspection endpoint, with client credentials.
    Introspection {
        /// The resource server's client id.
        client_id: String,
        /// Its secret.
        client_secret: oauth2::ClientSecret,
        /// Longest time an answer is cached (never past the token's `exp`).
        cache_ttl: Duration,
    },
}

/// Validator settings.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// The issuer, exactly as in tokens (`https://{domain}/oauth2/default`).
    pub issuer: Url,
    /// The audience that tokens must carry (`api://default`).
    pub audience: String,
    /// Clock leeway for `exp`, `nbf`, `iat`.
    pub leeway: Duration,
    /// Timeout of each request to the issuer.
    pub timeout: Duration,
    /// Local or introspection.
    pub mode: Mode,
}

/// Why a token was refused, or could not be checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token is not acceptable; the reason's text is safe to show.
    #[error("invalid token: {0}")]
    Invalid(Refusal),
    /// The issuer could not be reached or answered nonsense; the request is denied.
    #[error("cannot check the token now")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where the validator reads the time from (re-exported from
/// `tessera-clock`): `exp`, `nbf`, `iat`, cache ages and the refetch rate
/// limit all use it. Tests swap in a clock they move.
pub use clock::{Clock, SystemClock};

/// Tuning with safe defaults: `ValidatorOptions::default()`, then change
/// fields. Checked by [`TokenValidator::with_options`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ValidatorOptions {
    /// Accepted signature algorithms (RFC 8725 §3.1): RS256 only by default.
    /// Asymmetric algorithms only; `HS*` is refused (a public key must never
    /// serve as an HMAC secret) and `none` cannot be expressed.
    pub algorithms: Vec<Algorithm>,
    /// Tokens longer than this are refused before any parsing (8 KiB).
    pub max_token_bytes: usize,
    /// How long keys are kept when the JWKS response has no `max-age` (5 min).
    pub jwks_default_max_age: Duration,
    /// The longest keys are kept, whatever the response says (24 h); also how
    /// long cached keys keep serving while the issuer cannot be reached.
    pub jwks_max_age_cap: Duration,
    /// Shortest time between two JWKS fetches caused by unknown `kid`s (10 s).
    pub refetch_interval: Duration,
    /// Shortest time between a failed fetch (discovery or JWKS) and the next
    /// attempt (1 s); meanwhile checks fail fast with `Unavailable`.
    pub retry_interval: Duration,
    /// Most introspection answers cached at once (10 000), and as many
    /// refusals.
    pub max_cached_answers: usize,
    /// Local mode: most validated tokens cached at once (10 000); zero
    /// verifies every token every time. See the module's "Validated-token
    /// cache".
    pub max_cached_tokens: usize,
    /// Introspection mode: how many tokens that cannot be checked locally
    /// (not shaped like a JWT: opaque ones) may be introspected at once (30);
    /// past it and the refill they are refused without asking the issuer.
    pub introspection_burst: u32,
    /// ... and how many more per minute (60): the bucket's refill.
    pub introspections_per_minute: u32,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Trust (a CA file besides the system's store) and proxies for the
    /// requests to the issuer; by default the system's store, no proxy.
    pub net: net::NetSettings,
    /// The clients whose tokens are accepted (`cid` / `client_id`): empty,
    /// the default, accepts any client's.
    pub clients: Vec<String>,
}

impl Default for ValidatorOptions {
    fn default() -> Self {
        Self {
            algorithms: vec![Algorithm::RS256],
            max_token_bytes: 8 * 1024,
            jwks_default_max_age: Duration::from_secs(5 * 60),
            jwks_max_age_cap: Duration::from_secs(24 * 3600),
            refetch_interval: Duration::from_secs(10),
            retry_interval: Duration::from_secs(1),
            max_cached_answers: 10_000,
            max_cached_tokens: 10_000,
            introspection_burst: 30,
            introspections_per_minute: 60,
            clock: Arc::new(SystemClock),
            net: net::NetSettings::default(),
            clients: Vec::new(),
        }
    }
}

impl ValidatorOptions {
    /// The same options with another clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// How many requests the validator has sent to the issuer, and how often the
/// introspection cache answered instead (for metrics and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidatorStats {
    /// Discovery requests.
    pub discovery_fetches: u64,
    /// JWKS requests.
    pub jwks_fetches: u64,
    /// Introspection requests.
    pub introspections: u64,
    /// Tokens answered from the introspection cache.
    pub cache_hits: u64,
    /// Tokens refused from the cache of refusals (introspection).
    pub refusal_hits: u64,
    /// Opaque tokens refused unasked, the introspection bucket being empty.
    pub rate_limited: u64,
    /// Signatures checked (each a public-key operation, ~21 µs for RS256).
    pub signatures_verified: u64,
    /// Tokens answered from the validated-token cache (local mode), their
    /// signature and claims not checked again.
    pub verified_cache_hits: u64,
    /// Entries held now: validated tokens (local mode) or active answers
    /// (introspection mode). Never above the configured maximum.
    pub cached_tokens: u64,
}

#[derive(Debug, Default)]
struct Counters {
    discovery_fetches: AtomicU64,
    jwks_fetches: AtomicU64,
    introspections: AtomicU64,
    cache_hits: AtomicU64,
    refusal_hits: AtomicU64,
    rate_limited: AtomicU64,
    signatures_verified: AtomicU64,
    verified_cache_hits: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Checks access tokens. Cheap to clone: clones share caches.
#[derive(Clone)]
pub struct TokenValidator {
    inner: Arc<Inner>,
}

/// The mode, as the validator keeps it.
enum Checks {
    Local,
    Introspection {
        client_id: String,
        client_secret: oauth2::ClientSecret,
        cache_ttl: Duration,
        answers: TokenCache<Arc<Claims>>,
        refusals: TokenCache<Refusal>,
        /// Bounds the introspection of tokens not checked locally (boxed:
        /// the variants stay of a size).
        bucket: Box<Bucket>,
    },
}

struct Inner {
    /// The issuer exactly as tokens and discovery name it.
    issuer: String,
    discovery_url: Url,
    audience: String,
    leeway: i64,
    checks: Checks,
    options: ValidatorOptions,
    http: Http,
    /// Discovery, once fetched (kept for the validator's life).
    metadata: RwLock<Option<Arc<Metadata>>>,
    /// The keys: replaced whole, read by cloning the `Arc` (no await under the lock).
    keys: RwLock<Arc<KeySnapshot>>,
    /// Local mode: tokens that passed every check, by hash (empty and
    /// unused in introspection mode, where only the issuer's answers count).
    verified: TokenCache<Arc<Verified>>,
    /// Taken only by the path that fetches (single-flight); held across the fetch.
    gate: tokio::sync::Mutex<Gate>,
    counters: Counters,
}

/// A token that passed every check of local mode, as the validated-token
/// cache keeps it: its claims (`cnf.jkt` included: the DPoP proof is still
/// checked by the caller on every request) and the key that verified it.
struct Verified {
    claims: Claims,
    /// The key's `kid` and [`keys::VerifyKey::fingerprint`]: the entry is
    /// served only while the current JWKS has that very key.
    kid: String,
    fingerprint: [u8; 32],
}

/// What the fetching path remembers, behind the single-flight lock.
#[derive(Default)]
struct Gate {
    /// The last discovery failure: when, and why.
    discovery_failure: Option<(SystemTime, Arc<FetchError>)>,
    /// The last JWKS attempt: when, and whether it succeeded.
    last_jwks_attempt: Option<(SystemTime, bool)>,
    /// The last fetch caused by an unknown `kid`: the rate-limited kind.
    last_kid_refetch: Option<SystemTime>,
}

impl fmt::Debug for TokenValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.inner.checks {
            Checks::Local => "local",
            Checks::Introspection { .. } => "introspection",
        };
        f.debug_struct("TokenValidator")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("mode", &mode)
            .finish_non_exhaustive()
    }
}

/// Why the validator could not be built (reported as `AuthError::Unavailable`).
#[derive(Debug, thiserror::Error)]
#[error("the token validator is misconfigured: {0}")]
struct ConfigError(&'static str);

fn misconfigured(reason: &'static str) -> AuthError {
    AuthError::Unavailable(Box::new(ConfigError(reason)))
}

/// Why a refetch is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// No keys yet, or their `max-age` has passed.
    Stale,
    /// The token's `kid` is not among fresh keys (rate-limited).
    UnknownKid,
    /// A readiness check.
    Ready,
}

impl TokenValidator {
    /// A validator; nothing is fetched until the first token or readiness check.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the configuration cannot work: an
    /// issuer that is not an `http(s)` URL without query or fragment, an empty
    /// audience or client id, or no HTTP client.
    pub fn new(config: ValidatorConfig) -> Result<Self, AuthError> {
        Self::with_options(config, ValidatorOptions::default())
    }

    /// [`TokenValidator::new`] with tuned options (algorithms, limits, clock).
    ///
    /// # Errors
    /// As [`TokenValidator::new`], and when `options.algorithms` is empty or
    /// holds a symmetric algorithm (RFC 8725 §2.1, §3.1).
    pub fn with_options(config: ValidatorConfig, options: ValidatorOptions) -> Result<Self, AuthError> {
        let issuer_url = config.issuer;
        if !matches!(issuer_url.scheme(), "http" | "https")
            || issuer_url.cannot_be_a_base()
            || issuer_url.query().is_some()
            || issuer_url.fragment().is_some()
        {
            return Err(misconfigured("the issuer must be an http(s) URL without query or fragment"));
        }
        // `Url` writes `https://host` as `https://host/`; Okta's org issuer has no slash.
        let issuer = issuer_url.as_str().strip_suffix('/').unwrap_or(issuer_url.as_str()).to_owned();
        let discovery_url = Url::parse(&format!("{issuer}/.well-known/openid-configuration"))
            .map_err(|_| misconfigured("the issuer cannot be turned into a discovery URL"))?;
        if config.audience.is_empty() {
            return Err(misconfigured("the audience is empty"));
        }
        if options.algorithms.is_empty() {
            return Err(misconfigured("no signature algorithm is allowed"));
        }
        if options.algorithms.iter().any(|alg| matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)) {
            return Err(misconfigured("symmetric (HS*) algorithms cannot be allowed"));
        }
        let checks = match config.mode {
            Mode::Local => Checks::Local,
            Mode::Introspection { client_id, client_secret, cache_ttl } => {
                if client_id.is_empty() {
                    return Err(misconfigured("the introspection client id is empty"));
                }
                if options.introspection_burst == 0 {
                    return Err(misconfigured("the introspection bucket holds nothing"));
                }
                let bucket = Box::new(Bucket::new(
                    options.introspection_burst,
                    options.introspections_per_minute,
                    options.clock.now(),
                ));
                Checks::Introspection {
                    client_id,
                    client_secret,
                    cache_ttl,
                    answers: TokenCache::new(options.max_cached_answers),
                    refusals: TokenCache::new(options.max_cached_answers),
                    bucket,
                }
            }
        };
        let http = Http::new(config.timeout, issuer_url.scheme() == "https", &options.net)
            .map_err(|error| AuthError::Unavailable(Box::new(error)))?;
        let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(i64::MAX);
        let verified = TokenCache::new(match checks {
            Checks::Local => options.max_cached_tokens,
            Checks::Introspection { .. } => 0,
        });
        Ok(Self {
            inner: Arc::new(Inner {
                issuer,
                discovery_url,
                audience: config.audience,
                leeway,
                checks,
                options,
                http,
                metadata: RwLock::new(None),
                keys: RwLock::new(Arc::new(KeySnapshot::empty())),
                verified,
                gate: tokio::sync::Mutex::new(Gate::default()),
                counters: Counters::default(),
            }),
        })
    }

    /// Validates a bearer token (RFC 6750 §2.1: the part after `Bearer `).
    ///
    /// # Errors
    /// [`AuthError::Invalid`] when the token is refused, with a short reason
    /// safe to send back; [`AuthError::Unavailable`] when the issuer could not
    /// be asked (discovery, JWKS or introspection failed).
    pub async fn validate(&self, token: &str) -> Result<Claims, AuthError> {
        claims::check_token_shape(token, self.inner.options.max_token_bytes)?;
        match &self.inner.checks {
            Checks::Local => self.validate_local_cached(token).await,
            Checks::Introspection { .. } => self.validate_by_introspection(token).await,
        }
    }

    /// Whether the issuer is reachable (discovery and JWKS, or the introspection endpoint).
    ///
    /// In local mode, keys fetched within their `max-age` count as reachable;
    /// otherwise the JWKS is fetched (subject to the rate limits). In
    /// introspection mode, discovery must have named an introspection endpoint.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] with the cause.
    pub async fn check_ready(&self) -> Result<(), AuthError> {
        match &self.inner.checks {
            Checks::Local => {
                let now = self.now();
                let snapshot = self.snapshot();
                if snapshot.is_fresh(now) {
                    return Ok(());
                }
                let snapshot = self.refresh_keys(snapshot.generation, Trigger::Ready).await?;
                match &snapshot.failure {
                    Some(error) => Err(AuthError::Unavailable(Box::new(Arc::clone(error)))),
                    None if snapshot.loaded => Ok(()),
                    None => Err(unavailable_without_keys()),
                }
            }
            Checks::Introspection { .. } => self.metadata().await.map(|_| ()),
        }
    }

    /// Requests sent to the issuer so far, and introspection cache hits.
    #[must_use]
    pub fn stats(&self) -> ValidatorStats {
        let c = &self.inner.counters;
        ValidatorStats {
            discovery_fetches: c.discovery_fetches.load(Ordering::Relaxed),
            jwks_fetches: c.jwks_fetches.load(Ordering::Relaxed),
            introspections: c.introspections.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            refusal_hits: c.refusal_hits.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            signatures_verified: c.signatures_verified.load(Ordering::Relaxed),
            verified_cache_hits: c.verified_cache_hits.load(Ordering::Relaxed),
            cached_tokens: u64::try_from(match &self.inner.checks {
                Checks::Local => self.inner.verified.len(),
                Checks::Introspection { answers, .. } => answers.len(),
            })
            .unwrap_or(u64::MAX),
        }
    }

    /// The issuer exactly as tokens must name it.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    fn now(&self) -> SystemTime {
        self.inner.options.clock.now()
    }

    fn expected(&self, now: SystemTime) -> claims::Expected<'_> {
        claims::Expected {
            issuer: &self.inner.issuer,
            audience: &self.inner.audience,
            leeway: self.inner.leeway,
            now: i64::try_from(clock::unix_seconds(now)).unwrap_or(i64::MAX),
            clients: &self.inner.options.clients,
        }
    }

    // ----- local mode -------------------------------------------------------

    /// Local mode: a token that passed every check lately is answered from
    /// the validated-token cache while its `exp` has not come and the key
    /// that verified it is still in the (fresh) JWKS; any other is verified
    /// in full and, if it passes, cached.
    async fn validate_local_cached(&self, token: &str) -> Result<Claims, AuthError> {
        if self.inner.verified.is_off() {
            return self.validate_local(token).await.map(|(claims, _)| claims);
        }
        let hash = TokenHash::of(token);
        let now = self.now();
        let snapshot = self.snapshot();
        // Stale keys (past the JWKS's max-age): no hit, so that the full
        // path refreshes them and a key the issuer dropped is noticed.
        if snapshot.is_fresh(now) {
            let still_published =
                |hit: &Arc<Verified>| snapshot.get(&hit.kid).is_some_and(|key| key.fingerprint == hit.fingerprint);
            if let Some(hit) = self.inner.verified.get(&hash, now, still_published) {
                Counters::bump(&self.inner.counters.verified_cache_hits);
                return Ok(hit.claims.clone());
            }
        }
        drop(snapshot);
        let (claims, key) = self.validate_local(token).await?;
        let verified = Verified { claims, kid: key.0, fingerprint: key.1 };
        let until = cache::expiry(&verified.claims);
        let claims = verified.claims.clone();
        self.inner.verified.insert(hash, Arc::new(verified), self.now(), until);
        Ok(claims)
    }

    /// Every check of local mode, cache or not; with the claims, the `kid`
    /// and fingerprint of the key that verified the signature.
    async fn validate_local(&self, token: &str) -> Result<(Claims, (String, [u8; 32])), AuthError> {
        let parsed = jwt::parse(token, &self.inner.options.algorithms)?;
        let key = self.key_for(&parsed.kid, parsed.alg).await?;
        Counters::bump(&self.inner.counters.signatures_verified);
        let payload = parsed.verify(&key)?;
        let now = self.now();
        let claims = claims::from_jwt(payload, &self.expected(now))?;
        Ok((claims, (parsed.kid, key.fingerprint)))
    }

    fn snapshot(&self) -> Arc<KeySnapshot> {
        Arc::clone(&self.inner.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The key named `kid`, refreshing the JWKS when the cache is stale or
    /// does not know `kid` (single-flight, rate-limited).
    async fn key_for(&self, kid: &str, alg: Algorithm) -> Result<Arc<VerifyKey>, AuthError> {
        let now = self.now();
        let snapshot = self.snapshot();
        let snapshot = if snapshot.is_fresh(now) {
            if let Some(key) = snapshot.get(kid) {
                return key.check_alg(alg);
            }
            self.refresh_keys(snapshot.generation, Trigger::UnknownKid).await?
        } else {
            self.refresh_keys(snapshot.generation, Trigger::Stale).await?
        };
        snapshot.get(kid).ok_or(AuthError::Invalid(Refusal::UnknownKey))?.check_alg(alg)
    }

    /// Fetches the JWKS unless someone else just did or the rate limit says
    /// no; answers the snapshot to use (an error when no usable keys exist).
    async fn refresh_keys(&self, seen_generation: u64, trigger: Trigger) -> Result<Arc<KeySnapshot>, AuthError> {
        let mut gate = if trigger == Trigger::Stale {
            // Stale keys that still serve: if someone is already fetching, do
            // not queue behind the fetch, use them.
            let current = self.snapshot();
            match self.inner.gate.try_lock() {
                Ok(gate) => gate,
                Err(_) if current.is_usable(self.now()) => return Ok(current),
                Err(_) => self.inner.gate.lock().await,
            }
        } else {
            self.inner.gate.lock().await
        };
        let now = self.now();
        let current = self.snapshot();
        if current.generation != seen_generation {
            // A fetch finished while we waited for the gate: use its result.
            return current.usable(now);
        }
        let options = &self.inner.options;
        let failed_recently =
            matches!(gate.last_jwks_attempt, Some((at, false)) if elapsed(at, now) < options.retry_interval);
        // Unknown kids are limited by the last refetch they caused; expired
        // keys and readiness checks by the last successful fetch.
        let last = if trigger == Trigger::UnknownKid {
            gate.last_kid_refetch
        } else {
            gate.last_jwks_attempt.and_then(|(at, succeeded)| succeeded.then_some(at))
        };
        let fetched_recently = last.is_some_and(|at| elapsed(at, now) < options.refetch_interval);
        if failed_recently || fetched_recently {
            tracing::debug!(?trigger, "JWKS refetch skipped (rate limit)");
            return current.usable(now);
        }
        if trigger == Trigger::UnknownKid {
            gate.last_kid_refetch = Some(now);
        }
        let outcome = match self.metadata_locked(&mut gate, now).await {
            Ok(metadata) => self.fetch_keys(&metadata, now).await,
            Err(error) => Err(error),
        };
        let next = match outcome {
            Ok(fresh) => {
                gate.last_jwks_attempt = Some((now, true));
                // Tokens whose key left the JWKS (or changed under its kid)
                // leave the validated-token cache with it. Lookups check
                // the key too, so a token stored meanwhile is never served.
                self.inner
                    .verified
                    .retain(|hit| fresh.get(&hit.kid).is_some_and(|key| key.fingerprint == hit.fingerprint));
                Arc::new(fresh.with_generation(current.generation + 1))
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot refresh the issuer's keys");
                gate.last_jwks_attempt = Some((now, false));
                Arc::new(current.failed(current.generation + 1, error))
            }
        };
        *self.inner.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&next);
        drop(gate);
        next.usable(now)
    }

    async fn fetch_keys(&self, metadata: &Metadata, now: SystemTime) -> Result<KeySnapshot, Arc<FetchError>> {
        let jwks_uri = metadata.jwks_uri.as_ref().ok_or_else(|| Arc::new(FetchError::NoJwksUri))?;
        Counters::bump(&self.inner.counters.jwks_fetches);
        let (body, max_age) = self.inner.http.get(jwks_uri, "JWKS", http::MAX_JWKS_BYTES).await.map_err(Arc::new)?;
        let keys = keys::parse_jwks(&body, &self.inner.options.algorithms).map_err(Arc::new)?;
        let options = &self.inner.options;
        let lifetime = max_age.unwrap_or(options.jwks_default_max_age).min(options.jwks_max_age_cap);
        Ok(KeySnapshot::loaded(keys, later(now, lifetime), later(now, options.jwks_max_age_cap)))
    }

    // ----- discovery --------------------------------------------------------

    /// The issuer's metadata, discovered once (single-flight, retries limited).
    async fn metadata(&self) -> Result<Arc<Metadata>, AuthError> {
        if let Some(metadata) = self.cached_metadata() {
            return Ok(metadata);
        }
        let mut gate = self.inner.gate.lock().await;
        let now = self.now();
        self.metadata_locked(&mut gate, now).await.map_err(|error| AuthError::Unavailable(Box::new(error)))
    }

    fn cached_metadata(&self) -> Option<Arc<Metadata>> {
        self.inner.metadata.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    async fn metadata_locked(&self, gate: &mut Gate, now: SystemTime) -> Result<Arc<Metadata>, Arc<FetchError>> {
        if let Some(metadata) = self.cached_metadata() {
            return Ok(metadata);
        }
        if let Some((at, error)) = &gate.discovery_failure
            && elapsed(*at, now) < self.inner.options.retry_interval
        {
            return Err(Arc::clone(error));
        }
        Counters::bump(&self.inner.counters.discovery_fetches);
        let needs_introspection = matches!(self.inner.checks, Checks::Introspection { .. });
        match self.inner.http.discover(&self.inner.discovery_url, &self.inner.issuer, needs_introspection).await {
            Ok(metadata) => {
                let metadata = Arc::new(metadata);
                *self.inner.metadata.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&metadata));
                gate.discovery_failure = None;
                Ok(metadata)
            }
            Err(error) => {
                tracing::warn!(error = %error, "OpenID discovery failed");
                let error = Arc::new(error);
                gate.discovery_failure = Some((now, Arc::clone(&error)));
                Err(error)
            }
        }
    }

    // ----- introspection mode -----------------------------------------------

    async fn validate_by_introspection(&self, token: &str) -> Result<Claims, AuthError> {
        let Checks::Introspection { client_id, client_secret, cache_ttl, answers, refusals, bucket } =
            &self.inner.checks
        else {
            return Err(AuthError::Invalid(Refusal::Malformed));
        };
        let key = TokenHash::of(token);
        let now = self.now();
        if let Some(claims) = answers.get(&key, now, |_| true) {
            Counters::bump(&self.inner.counters.cache_hits);
            return Ok(Claims::clone(&claims));
        }
        if let Some(reason) = refusals.get(&key, now, |_| true) {
            Counters::bump(&self.inner.counters.refusal_hits);
            return Err(AuthError::Invalid(reason));
        }
        if jwt::is_jwt_shaped(token) {
            // Checked as in local mode first (RFC 8725 §3, RFC 9068 §4): a
            // forged, unsigned, expired or foreign JWT is refused here and
            // costs the issuer nothing; one the issuer did sign is then
            // asked about (it may have been revoked), outside the bucket:
            // nobody else can make those.
            self.validate_local(token).await?;
        } else if !bucket.take(now) {
            // An opaque token: only the issuer can tell. Past the bucket it
            // is refused unasked (and not remembered, so that it is asked
            // about once the bucket refills).
            Counters::bump(&self.inner.counters.rate_limited);
            tracing::debug!("introspection bucket empty: an opaque token refused unasked");
            return Err(AuthError::Invalid(Refusal::NotChecked));
        }
        let metadata = self.metadata().await?;
        let endpoint = metadata.introspection_endpoint.as_ref().ok_or_else(|| {
            AuthError::Unavailable(Box::new(FetchError::Malformed {
                what: "discovery",
                reason: "no introspection_endpoint",
            }))
        })?;
        Counters::bump(&self.inner.counters.introspections);
        let answer = self.inner.http.introspect(endpoint, token, client_id, client_secret).await.map_err(|error| {
            tracing::warn!(error = %error, "introspection failed");
            AuthError::Unavailable(Box::new(error))
        })?;
        // The answer may have taken a while: judge it at the time it arrived.
        let now = self.now();
        match claims::from_introspection(answer, &self.expected(now)) {
            Ok(claims) => {
                introspection::remember_active(answers, key, &claims, now, *cache_ttl);
                Ok(claims)
            }
            Err(AuthError::Invalid(reason)) => {
                introspection::remember_refusal(refusals, key, reason, now, *cache_ttl);
                Err(AuthError::Invalid(reason))
            }
            Err(error) => Err(error),
        }
    }
}

fn unavailable_without_keys() -> AuthError {
    AuthError::Unavailable(Box::new(FetchError::Malformed { what: "JWKS", reason: "no keys have been fetched yet" }))
}

/// `now + by`, saturating far in the future instead of overflowing.
fn later(now: SystemTime, by: Duration) -> SystemTime {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(by).or_else(|| now.checked_add(CENTURY)).unwrap_or(now)
}

/// Time from `earlier` to `now`; a clock that went backwards counts as long
/// ago, so that a wall-clock jump never blocks fetching for the jump's length.
fn elapsed(earlier: SystemTime, now: SystemTime) -> Duration {
    now.duration_since(earlier).unwrap_or(Duration::MAX)
}
