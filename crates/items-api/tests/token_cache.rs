//! The validated-token cache (issue 20, item 1) against a real issuer:
//! dev-idp on 127.0.0.1 port 0 over HTTP, its clock shared with the
//! validator's so that tests move time.
//!
//! A token that passed every check is not verified again; it is refused
//! again at its `exp`, at once when its key leaves the JWKS, and a token
//! that never passed never enters the cache. The cache stays bounded under
//! many distinct valid tokens, and introspection answers go through the same
//! cache type without the local cache ever vouching for a token there.
//! (That the DPoP proof is still checked on every request with a cached
//! token is `tests/api/dpop.rs`'s `every_rule`: after its first request the
//! token is answered from this cache, and every bad proof is still refused.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dev_idp::{Config, DevIdp, ManualClock};
use items_api::auth::{AuthError, Mode, Refusal, TokenValidator, ValidatorConfig, ValidatorOptions, ValidatorStats};
use serde_json::{Value, json};
use url::Url;

mod tokens;
use testkit::within;
use tokens::{AUDIENCE, claims_of, forge_with};

const LEEWAY: u64 = 30;

struct Idp {
    idp: DevIdp,
    clock: Arc<ManualClock>,
}

async fn start() -> Idp {
    let clock = Arc::new(ManualClock::starting_now());
    let config = Config { port: 0, ..Config::default() };
    let idp =
        within("dev-idp starting", dev_idp::spawn_with_clock(config, clock.clone())).await.expect("dev-idp starts");
    Idp { idp, clock }
}

impl Idp {
    fn issuer(&self) -> &str {
        self.idp.issuer()
    }

    fn validator_with(&self, audience: &str, mode: Mode, change: impl FnOnce(&mut ValidatorOptions)) -> TokenValidator {
        let mut options = ValidatorOptions::default().with_clock(self.clock.clone());
        change(&mut options);
        let config = ValidatorConfig {
            issuer: Url::parse(self.issuer()).unwrap(),
            audience: audience.to_owned(),
            leeway: Duration::from_secs(LEEWAY),
            timeout: Duration::from_secs(5),
            mode,
        };
        TokenValidator::with_options(config, options).unwrap()
    }

    fn local(&self) -> TokenValidator {
        self.validator_with(AUDIENCE, Mode::Local, |_| {})
    }

    fn forge(&self, claims: &Value) -> String {
        forge_with(self.idp.provider(), self.issuer(), &json!({}), claims)
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    fn now(&self) -> i64 {
        i64::try_from(self.idp.provider().now_unix()).unwrap()
    }

    async fn rotate(&self) -> String {
        let provider = self.idp.provider().clone();
        within("dev-idp rotating its keys", tokio::task::spawn_blocking(move || provider.rotate_keys()))
            .await
            .unwrap()
            .unwrap()
    }

    /// An access token of the `items-api` client for itself, from the token endpoint.
    async fn client_credentials(&self) -> String {
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/v1/token", self.issuer()))
            .basic_auth(ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET))
            .form(&[("grant_type", "client_credentials"), ("scope", "items:read")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"].as_str().expect("an access token").to_owned()
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, AuthError>, reason: Refusal) {
    match result {
        Err(AuthError::Invalid(got)) => assert_eq!(got, reason),
        other => panic!("expected Invalid({reason:?}), got {other:?}"),
    }
}

/// (signatures verified, answers from the validated-token cache, entries held)
fn counts(validator: &TokenValidator) -> (u64, u64, u64) {
    let ValidatorStats { signatures_verified, verified_cache_hits, cached_tokens, .. } = validator.stats();
    (signatures_verified, verified_cache_hits, cached_tokens)
}

#[tokio::test]
async fn a_second_request_with_the_same_token_is_not_verified_again() {
    let idp = start().await;
    let validator = idp.local();
    let token = idp.client_credentials().await;
    let first = validator.validate(&token).await.unwrap();
    assert_eq!(counts(&validator), (1, 0, 1));
    for round in 1..=5 {
        let again = validator.validate(&token).await.unwrap();
        assert_eq!(again, first, "the cached claims are the verified ones");
        assert_eq!(counts(&validator), (1, round, 1));
    }
    // Another token is verified (and cached) on its own.
    let other = idp.client_credentials().await;
    validator.validate(&other).await.unwrap();
    assert_eq!(counts(&validator), (2, 5, 2));
    // Clones share the cache; the issuer was asked once for keys.
    validator.clone().validate(&other).await.unwrap();
    assert_eq!(counts(&validator), (2, 6, 2));
    assert_eq!(validator.stats().jwks_fetches, 1);

    // A bound token's `cnf.jkt` is in the cached claims, for the DPoP check
    // that follows on every request.
    let bound = idp.forge(&json!({ "cnf": { "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } }));
    validator.validate(&bound).await.unwrap();
    let cached = validator.validate(&bound).await.unwrap();
    assert_eq!(cached.all["cnf"]["jkt"], "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    assert_eq!(counts(&validator), (3, 7, 3));

    // Zero entries: every token verified every time.
    let uncached = idp.validator_with(AUDIENCE, Mode::Local, |options| options.max_cached_tokens = 0);
    for _ in 0..3 {
        uncached.validate(&token).await.unwrap();
    }
    assert_eq!(counts(&uncached), (3, 0, 0));
}

#[tokio::test]
async fn a_cached_token_is_refused_at_its_exp() {
    let idp = start().await;
    let validator = idp.local();
    let exp = idp.now() + 600;
    let token = idp.forge(&json!({ "exp": exp }));
    validator.validate(&token).await.unwrap();
    validator.validate(&token).await.unwrap();
    assert_eq!(counts(&validator), (1, 1, 1));

    // Just before exp: from the cache.
    idp.advance(599);
    validator.validate(&token).await.unwrap();
    assert_eq!(counts(&validator), (1, 2, 1));
    // At exp the entry has ended: verified in full (still within the
    // leeway), and not cached again.
    idp.advance(1);
    validator.validate(&token).await.expect("within the leeway");
    assert_eq!(counts(&validator), (2, 2, 0));
    validator.validate(&token).await.expect("within the leeway");
    assert_eq!(counts(&validator), (3, 2, 0), "never served from the cache past exp");
    // Past the leeway: refused, cached or not.
    idp.advance(LEEWAY);
    assert_invalid(validator.validate(&token).await, Refusal::Expired);
    assert_invalid(validator.validate(&token).await, Refusal::Expired);
    assert_eq!(counts(&validator), (5, 2, 0));

    // A real token of dev-idp's, after its hour.
    let token = idp.client_credentials().await;
    validator.validate(&token).await.unwrap();
    validator.validate(&token).await.unwrap();
    idp.advance(3600 + LEEWAY);
    assert_invalid(validator.validate(&token).await, Refusal::Expired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_whose_key_left_the_jwks_is_refused_at_once_after_the_refresh() {
    let idp = start().await;
    let validator = idp.local();
    let first = idp.client_credentials().await;
    validator.validate(&first).await.unwrap();
    validator.validate(&first).await.unwrap();
    assert_eq!(counts(&validator), (1, 1, 1));

    // Two rotations (dev-idp publishes two keys): the first key leaves the JWKS.
    idp.rotate().await;
    idp.rotate().await;
    let third = idp.client_credentials().await;
    // Until the validator refreshes its key set, nothing tells it the key
    // left: the token is still answered (as it would be verified, by the
    // cached key).
    validator.validate(&first).await.unwrap();
    assert_eq!(counts(&validator), (1, 2, 1));
    // An unknown kid makes it fetch the JWKS: the first key is gone, and its
    // token with it, at once (not at the end of its entry).
    validator.validate(&third).await.expect("the new key, found by a refetch");
    assert_eq!(validator.stats().jwks_fetches, 2);
    assert_eq!(counts(&validator), (2, 2, 1), "the first token's entry went with its key");
    assert_invalid(validator.validate(&first).await, Refusal::UnknownKey);
    assert_invalid(validator.validate(&first).await, Refusal::UnknownKey);
    validator.validate(&third).await.unwrap();
    assert_eq!(counts(&validator), (2, 3, 1));

    // The same when the key set is refreshed because its max-age (an hour
    // for dev-idp) passed: the hit waits for the refresh.
    idp.rotate().await;
    idp.rotate().await;
    idp.advance(3601);
    let fourth = idp.client_credentials().await;
    assert_invalid(validator.validate(&third).await, Refusal::UnknownKey);
    assert_eq!(validator.stats().jwks_fetches, 3);
    assert_eq!(counts(&validator).2, 0);
    validator.validate(&fourth).await.unwrap();
    validator.validate(&fourth).await.unwrap();
    assert_eq!(counts(&validator), (3, 4, 1));
}

#[tokio::test]
async fn never_valid_tokens_are_never_cached_and_stay_refused() {
    let idp = start().await;
    let other = within("another dev-idp", dev_idp::spawn(Config { port: 0, ..Config::default() })).await.unwrap();
    let validator = idp.local();
    let kid = idp.idp.provider().active_kid();
    let good = idp.client_credentials().await;

    // A bad signature under our kid, our claims.
    let forged = forge_with(other.provider(), idp.issuer(), &json!({ "kid": kid }), &json!({}));
    // Our signature, another audience or issuer.
    let foreign = idp.forge(&json!({ "aud": "api://other" }));
    let elsewhere = idp.forge(&json!({ "iss": "https://evil.example/oauth2/default" }));
    // A valid token with its signature's last character changed: its own
    // hash, verified (and refused) on its own.
    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    validator.validate(&good).await.unwrap();
    let before = counts(&validator);
    for round in 1..=3 {
        assert_invalid(validator.validate(&forged).await, Refusal::BadSignature);
        assert_invalid(validator.validate(&foreign).await, Refusal::WrongAudience);
        assert_invalid(validator.validate(&elsewhere).await, Refusal::WrongIssuer);
        assert_invalid(validator.validate(&tampered).await, Refusal::BadSignature);
        assert_eq!(counts(&validator), (before.0 + 4 * round, 0, 1), "each verified every time, none cached");
    }
    // A token validated for one audience is not served by a validator for another.
    let mine = idp.forge(&json!({ "aud": AUDIENCE }));
    validator.validate(&mine).await.unwrap();
    let other_api = idp.validator_with("api://other", Mode::Local, |_| {});
    assert_invalid(other_api.validate(&mine).await, Refusal::WrongAudience);
    assert_invalid(other_api.validate(&mine).await, Refusal::WrongAudience);
    assert_eq!(counts(&other_api), (2, 0, 0));
    // Nor one of another client when an allow-list is set.
    let listed = idp.validator_with(AUDIENCE, Mode::Local, |options| options.clients = vec!["0oa-other".to_owned()]);
    assert_invalid(listed.validate(&mine).await, Refusal::OtherClient);
    assert_invalid(listed.validate(&mine).await, Refusal::OtherClient);
    assert_eq!(counts(&listed).2, 0);
}

#[tokio::test]
async fn the_cache_stays_bounded_under_many_distinct_tokens() {
    let idp = start().await;
    let validator = idp.validator_with(AUDIENCE, Mode::Local, |options| options.max_cached_tokens = 32);
    let now = idp.now();
    let tokens: Vec<String> = (0..200).map(|i| idp.forge(&json!({ "exp": now + 600 + i }))).collect();
    for (i, token) in tokens.iter().enumerate() {
        validator.validate(token).await.unwrap();
        assert!(counts(&validator).2 <= 32, "{i}: {:?}", counts(&validator));
    }
    let (verified, hits, held) = counts(&validator);
    assert_eq!((verified, hits), (200, 0));
    assert!((28..=32).contains(&held), "{held}: full, less the last eighth evicted");
    // The newest (latest exp) stayed; evicted ones are verified again, and pass.
    validator.validate(&tokens[199]).await.unwrap();
    assert_eq!(counts(&validator), (200, 1, held));
    validator.validate(&tokens[0]).await.unwrap();
    assert_eq!(counts(&validator).0, 201);
    assert!(counts(&validator).2 <= 32);
}

#[tokio::test]
async fn introspection_answers_go_through_the_same_cache_type() {
    let idp = start().await;
    let mode = Mode::Introspection {
        client_id: ITEMS_API_CLIENT_ID.to_owned(),
        client_secret: oauth2::ClientSecret::new(ITEMS_API_DEMO_SECRET.to_owned()),
        cache_ttl: Duration::from_secs(60),
    };
    let validator = idp.validator_with(AUDIENCE, mode, |options| options.max_cached_answers = 4);
    let token = idp.client_credentials().await;
    let claims = validator.validate(&token).await.unwrap();
    assert_eq!(claims.subject, claims_of(&token)["sub"]);
    validator.validate(&token).await.unwrap();
    let stats = validator.stats();
    assert_eq!((stats.introspections, stats.cache_hits, stats.cached_tokens), (1, 1, 1));
    // The local check before asking does not cache: only the issuer's answer vouches.
    assert_eq!(stats.verified_cache_hits, 0);
    // Bounded like the local cache.
    for _ in 0..6 {
        validator.validate(&idp.client_credentials().await).await.unwrap();
    }
    assert_eq!(validator.stats().cached_tokens, 4);
    // The entry ends at the ttl: asked again.
    idp.advance(61);
    validator.validate(&token).await.unwrap();
    assert_eq!(validator.stats().introspections, 8);
}
