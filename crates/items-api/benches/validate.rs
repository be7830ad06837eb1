//! Benchmarks of access-token validation against a real dev-idp token.
//!
//! - `local/cache_hit`: `TokenValidator::validate` in local mode, the same
//!   token again: answered from the validated-token cache (the steady state
//!   of a resource server: SHA-256 of the token, one shard's read lock, the
//!   key's presence in the JWKS, a copy of the claims).
//! - `local/full_verification`: the same with the cache off
//!   (`max_cached_tokens = 0`): every check, the RS256 signature included,
//!   every time (what `local/warm` measured before the cache, issue 20).
//! - `local/cache_hit_2_threads`: cache hits from two threads at once on
//!   distinct tokens (the locks' contention; time per validation, all
//!   threads together).
//! - `local/rsa_verify_only`: just the RS256 signature check with a parsed
//!   key, the floor the warm path cannot go under; the difference is the
//!   validator's own cost (parsing, lookups, claim checks).
//! - `local/cold_key`: decode + verify on a fresh key: the JWK parsed into a
//!   `DecodingKey`, then the token decoded and verified (no network: the
//!   JWKS fetch itself is not measured).
//! - `introspection/cached`: a cache hit in introspection mode.
//! - `baseline/block_on`: the cost of driving a future to completion from
//!   the benchmark thread, included in the `validate` numbers above.
//!
//! Run with `cargo bench -p tessera-items-api --bench validate` (add
//! `-- --quick` for a short run).

// A benchmark set-up that cannot start is a bug to see at once.
#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use items_api::auth::{Mode, TokenValidator, ValidatorConfig, ValidatorOptions};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use url::Url;

const SECRET: &str = dev_idp::config::ITEMS_API_DEMO_SECRET;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    _idp: dev_idp::DevIdp,
    issuer: String,
    token: String,
    /// Another token of the same client (for two threads at once).
    second_token: String,
    jwks: Value,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (idp, token, second_token, jwks) = runtime.block_on(async {
        let idp = dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }).await.expect("dev-idp");
        let http = reqwest::Client::new();
        let mut tokens = Vec::new();
        for _ in 0..2 {
            let answer: Value = http
                .post(format!("{}/v1/token", idp.issuer()))
                .basic_auth(dev_idp::config::ITEMS_API_CLIENT_ID, Some(SECRET))
                .form(&[("grant_type", "client_credentials"), ("scope", "items:read")])
                .send()
                .await
                .expect("token request")
                .json()
                .await
                .expect("token response");
            tokens.push(answer["access_token"].as_str().expect("an access token").to_owned());
        }
        let second_token = tokens.pop().expect("two tokens");
        let token = tokens.pop().expect("two tokens");
        let jwks: Value = http
            .get(format!("{}/v1/keys", idp.issuer()))
            .send()
            .await
            .expect("JWKS request")
            .json()
            .await
            .expect("JWKS");
        (idp, token, second_token, jwks)
    });
    let issuer = idp.issuer().to_owned();
    Fixture { runtime, _idp: idp, issuer, token, second_token, jwks }
}

fn validator(issuer: &str, mode: Mode, options: ValidatorOptions) -> TokenValidator {
    TokenValidator::with_options(
        ValidatorConfig {
            issuer: Url::parse(issuer).expect("issuer URL"),
            audience: "api://default".to_owned(),
            leeway: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            mode,
        },
        options,
    )
    .expect("validator")
}

fn benches(c: &mut Criterion) {
    let fixture = fixture();
    let token = fixture.token.as_str();
    let jwk = &fixture.jwks["keys"][0];
    let (n, e) = (jwk["n"].as_str().expect("n"), jwk["e"].as_str().expect("e"));

    let local = validator(&fixture.issuer, Mode::Local, ValidatorOptions::default());
    fixture.runtime.block_on(local.validate(token)).expect("a valid token (warms the cache)");
    c.bench_function("local/cache_hit", |b| {
        b.iter(|| fixture.runtime.block_on(local.validate(black_box(token))).expect("valid"));
    });
    assert!(local.stats().verified_cache_hits > 0 && local.stats().signatures_verified == 1);

    let mut uncached_options = ValidatorOptions::default();
    uncached_options.max_cached_tokens = 0;
    let uncached = validator(&fixture.issuer, Mode::Local, uncached_options);
    fixture.runtime.block_on(uncached.validate(token)).expect("a valid token (fetches the keys)");
    c.bench_function("local/full_verification", |b| {
        b.iter(|| fixture.runtime.block_on(uncached.validate(black_box(token))).expect("valid"));
    });
    assert_eq!(uncached.stats().verified_cache_hits, 0);

    // Two threads, each its own token, hitting the cache at once.
    let second = fixture.second_token.as_str();
    fixture.runtime.block_on(local.validate(second)).expect("a valid token");
    let runtimes: Vec<_> =
        (0..2).map(|_| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")).collect();
    c.bench_function("local/cache_hit_2_threads", |b| {
        b.iter_custom(|iterations| {
            let start = std::time::Instant::now();
            std::thread::scope(|scope| {
                for (token, runtime) in [token, second].into_iter().zip(&runtimes) {
                    let local = &local;
                    scope.spawn(move || {
                        for _ in 0..iterations.div_ceil(2) {
                            runtime.block_on(local.validate(black_box(token))).expect("valid");
                        }
                    });
                }
            });
            start.elapsed()
        });
    });

    let key = DecodingKey::from_rsa_components(n, e).expect("RSA key");
    let (message, signature) = token.rsplit_once('.').expect("a JWS");
    c.bench_function("local/rsa_verify_only", |b| {
        b.iter(|| {
            let ok = jsonwebtoken::crypto::verify(black_box(signature), message.as_bytes(), &key, Algorithm::RS256);
            assert!(ok.expect("verifies"));
        });
    });

    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["api://default"]);
    validation.set_issuer(&[fixture.issuer.as_str()]);
    c.bench_function("local/cold_key", |b| {
        b.iter(|| {
            let key = DecodingKey::from_rsa_components(black_box(n), black_box(e)).expect("RSA key");
            jsonwebtoken::decode::<Value>(black_box(token), &key, &validation).expect("valid")
        });
    });

    let introspecting = validator(
        &fixture.issuer,
        Mode::Introspection {
            client_id: dev_idp::config::ITEMS_API_CLIENT_ID.to_owned(),
            client_secret: oauth2::ClientSecret::new(SECRET.to_owned()),
            cache_ttl: Duration::from_secs(3600),
        },
        ValidatorOptions::default(),
    );
    fixture.runtime.block_on(introspecting.validate(token)).expect("active (fills the cache)");
    c.bench_function("introspection/cached", |b| {
        b.iter(|| fixture.runtime.block_on(introspecting.validate(black_box(token))).expect("cached"));
    });

    c.bench_function("baseline/block_on", |b| b.iter(|| fixture.runtime.block_on(black_box(async {}))));
}

criterion_group!(validate, benches);
criterion_main!(validate);
