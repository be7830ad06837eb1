//! What DPoP costs the API per request (RFC 9449 §7), side by side in one run:
//!
//! - `request/bearer`: `GET /v1/me` through the whole router (extractor,
//!   local validation with warm keys, policy, handler) with a bearer token;
//! - `request/dpop`: the same with a DPoP-bound token and a fresh proof (made
//!   outside the timing: a client's cost, not the API's), so the difference
//!   is the API's DPoP work: the proof's ES256 check, the URL, the replay
//!   cache;
//! - `request/dpop_nonce`: the same with the API's own nonces on
//!   (`DPOP_NONCE_SECS`), the proof carrying the current one;
//! - `proof/verify_only`: `dpop::verify` alone.
//!
//! Run with `cargo bench -p tessera-items-api --bench dpop`.

// A benchmark set-up that cannot start is a bug to see at once.
#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use dpop::DpopKey;
use items_api::auth::{Mode, TokenValidator, ValidatorConfig};
use items_api::policy::Policy;
use items_api::store::Store;
use serde_json::Value;
use tower::ServiceExt as _;
use url::Url;

const HOST: &str = "127.0.0.1:8081";
const PATH: &str = "/v1/me";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A client-credentials token, bound to `key` when given.
async fn token(idp: &dev_idp::DevIdp, key: Option<&DpopKey>) -> String {
    let url = Url::parse(&format!("{}/v1/token", idp.issuer())).expect("token URL");
    let mut nonce: Option<String> = None;
    loop {
        let mut request = reqwest::Client::new()
            .post(url.clone())
            .basic_auth(dev_idp::config::ITEMS_API_CLIENT_ID, Some(dev_idp::config::ITEMS_API_DEMO_SECRET))
            .form(&[("grant_type", "client_credentials"), ("scope", "items:read")]);
        if let Some(key) = key {
            request = request.header("DPoP", key.proof("POST", &url, None, nonce.as_deref(), now()).expect("proof"));
        }
        let response = request.send().await.expect("token request");
        let fresh = response.headers().get("dpop-nonce").map(|v| v.to_str().expect("text").to_owned());
        let body: Value = response.json().await.expect("token response");
        if body["error"] == "use_dpop_nonce" && nonce.is_none() {
            nonce = fresh;
            continue;
        }
        return body["access_token"].as_str().expect("an access token").to_owned();
    }
}

fn request(authorization: String, proof: Option<String>) -> Request<Body> {
    let mut request = Request::get(PATH).header("host", HOST).header("authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    request.body(Body::empty()).expect("request")
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let key = DpopKey::generate().expect("key");
    let (_idp, router, with_nonces, bearer, bound) = runtime.block_on(async {
        let idp = dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }).await.expect("dev-idp");
        let validator = TokenValidator::new(ValidatorConfig {
            issuer: Url::parse(idp.issuer()).expect("issuer"),
            audience: "api://default".to_owned(),
            leeway: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            mode: Mode::Local,
        })
        .expect("validator");
        let store = Store::connect("sqlite::memory:").await.expect("store");
        // DPoP proofs name the API's configured URL (PUBLIC_URL).
        let public = || {
            let url = Url::parse(&format!("http://{HOST}")).expect("URL");
            items_api::dpop::DpopChecks::new(vec![url], items_api::dpop::DEFAULT_MAX_AGE)
        };
        let router =
            items_api::router(items_api::AppState::with_dpop(validator.clone(), store.clone(), Policy::None, public()));
        let nonces = public().with_nonces(Duration::from_secs(300));
        let with_nonces = items_api::router(items_api::AppState::with_dpop(validator, store, Policy::None, nonces));
        let bearer = token(&idp, None).await;
        let bound = token(&idp, Some(&key)).await;
        (idp, router, with_nonces, bearer, bound)
    });
    let url = Url::parse(&format!("http://{HOST}{PATH}")).expect("URL");
    let call = |request: Request<Body>| {
        let response = runtime.block_on(router.clone().oneshot(request)).expect("answer");
        assert_eq!(response.status(), StatusCode::OK);
    };
    // Warm the key cache and check both work.
    call(request(format!("Bearer {bearer}"), None));
    call(request(format!("DPoP {bound}"), Some(key.proof("GET", &url, Some(&bound), None, now()).expect("proof"))));
    // The API's nonce, asked for once.
    let asked = runtime
        .block_on(with_nonces.clone().oneshot(request(
            format!("DPoP {bound}"),
            Some(key.proof("GET", &url, Some(&bound), None, now()).expect("proof")),
        )))
        .expect("answer");
    assert_eq!(asked.status(), StatusCode::UNAUTHORIZED, "use_dpop_nonce");
    let nonce = asked.headers()["dpop-nonce"].to_str().expect("a nonce").to_owned();
    let call_with_nonces = |request: Request<Body>| {
        let response = runtime.block_on(with_nonces.clone().oneshot(request)).expect("answer");
        assert_eq!(response.status(), StatusCode::OK);
    };

    let mut group = c.benchmark_group("request");
    group.bench_function("bearer", |b| b.iter(|| call(black_box(request(format!("Bearer {bearer}"), None)))));
    group.bench_function("dpop", |b| {
        b.iter_batched(
            || {
                request(
                    format!("DPoP {bound}"),
                    Some(key.proof("GET", &url, Some(&bound), None, now()).expect("proof")),
                )
            },
            |request| call(black_box(request)),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("dpop_nonce", |b| {
        b.iter_batched(
            || {
                request(
                    format!("DPoP {bound}"),
                    Some(key.proof("GET", &url, Some(&bound), Some(&nonce), now()).expect("proof")),
                )
            },
            |request| call_with_nonces(black_box(request)),
            BatchSize::SmallInput,
        );
    });
    group.finish();

    let proof = key.proof("GET", &url, Some(&bound), None, now()).expect("proof");
    c.bench_function("proof/verify_only", |b| {
        b.iter(|| {
            let expected = dpop::Expected {
                method: "GET",
                url: &url,
                access_token: Some(&bound),
                nonce: None,
                now: now(),
                max_age: 60,
                leeway: 5,
            };
            dpop::verify(black_box(&proof), &expected).expect("valid")
        });
    });
}

criterion_group!(dpop_overhead, benches);
criterion_main!(dpop_overhead);
