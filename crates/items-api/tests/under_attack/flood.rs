//! Issue 14, item 6: a flood of made-up tokens at an API that introspects.
//!
//! dev-idp is served here behind a layer that counts what reaches it
//! (introspection and JWKS requests), so the issuer's cost is measured at
//! the issuer, not by the API's own counters. The API introspects with a
//! bucket of [`BURST`] that does not refill during the test; 500 hostile
//! tokens, all different (random strings, JWTs with bad signatures, `alg:
//! none`, expired, of another issuer), must cost the issuer at most
//! [`BURST`] introspections, every one of them answered 401 `invalid_token`
//! (never 503), while alice's token keeps working throughout, and a token
//! the issuer signs afterwards works too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::Next;
use dev_idp::config::{ClientConfig, ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET, grant};
use dev_idp::{Config as IdpConfig, Provider, SystemClock};
use items_api::auth::{Mode, Refusal, TokenValidator, ValidatorConfig, ValidatorOptions};
use items_api::store::Store;
use serde_json::json;
use url::Url;

use crate::harness::ONE_AT_A_TIME;
use crate::tokens::{self, AUDIENCE, forge_with, jwt_part};
use crate::wait::within;

/// The introspection bucket of the API under test (no refill).
const BURST: u32 = 20;
/// Hostile tokens sent.
const HOSTILE: usize = 500;
/// The scope of alice's sign-in.
const SCOPE: &str = "openid offline_access items:read";
/// How long one request may take before the test fails instead of hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Requests that reached the provider.
#[derive(Debug, Default)]
struct Calls {
    introspections: AtomicUsize,
    jwks: AtomicUsize,
}

/// dev-idp on 127.0.0.1 port 0, served behind a counting layer. The
/// `items-api` client may also sign people in, so that dev-idp answers it
/// about its own refresh tokens.
async fn counted_provider() -> (Provider, Arc<Calls>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = IdpConfig { port: addr.port(), ..IdpConfig::default() };
    let client: &mut ClientConfig = config.clients.iter_mut().find(|c| c.client_id == ITEMS_API_CLIENT_ID).unwrap();
    client.grant_types.extend([grant::AUTHORIZATION_CODE.to_owned(), grant::REFRESH_TOKEN.to_owned()]);
    client.redirect_uris.push(tokens::LOOPBACK.to_owned());
    client.allowed_scopes = None;
    let issuer = format!("http://{addr}/oauth2/default");
    let making = tokio::task::spawn_blocking(move || Provider::new(config, issuer, Arc::new(SystemClock)));
    let provider = within("dev-idp's keys", making).await.unwrap().expect("dev-idp's keys");
    let calls = Arc::new(Calls::default());
    let counting = {
        let calls = calls.clone();
        move |request: Request, next: Next| {
            let calls = calls.clone();
            async move {
                let path = request.uri().path();
                if path.ends_with("/v1/introspect") {
                    calls.introspections.fetch_add(1, Ordering::SeqCst);
                } else if path.ends_with("/v1/keys") {
                    calls.jwks.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request).await
            }
        }
    };
    let app = dev_idp::router(provider.clone()).layer(axum::middleware::from_fn(counting));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (provider, calls)
}

/// The API in introspection mode, with a bucket of [`BURST`] that does not refill.
async fn api(issuer: &str, dir: &tempfile::TempDir) -> SocketAddr {
    let database = format!("sqlite://{}", dir.path().join("items.db").display());
    let store = within("opening the items database", Store::connect(&database)).await.unwrap();
    let mut options = ValidatorOptions::default();
    options.introspection_burst = BURST;
    options.introspections_per_minute = 0;
    let validator = TokenValidator::with_options(
        ValidatorConfig {
            issuer: Url::parse(issuer).unwrap(),
            audience: AUDIENCE.to_owned(),
            leeway: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            mode: Mode::Introspection {
                client_id: ITEMS_API_CLIENT_ID.to_owned(),
                client_secret: oauth2::ClientSecret::new(ITEMS_API_DEMO_SECRET.to_owned()),
                cache_ttl: Duration::from_secs(60),
            },
        },
        options,
    )
    .unwrap();
    let app = items_api::router(items_api::AppState::new(validator, store, items_api::policy::Policy::None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The `i`-th hostile token: five kinds in turn, each one different.
fn hostile(i: usize, provider: &Provider, stranger: &Provider) -> (&'static str, String) {
    let issuer = provider.issuer();
    let now = provider.now_unix();
    match i % 5 {
        0 => ("a random string", tokens::random()),
        1 => (
            "our kid, signed by another key",
            forge_with(stranger, issuer, &json!({ "kid": provider.active_kid() }), &json!({})),
        ),
        2 => {
            let header = jwt_part(&json!({ "alg": "none", "kid": provider.active_kid() }));
            let claims = jwt_part(&json!({
                "iss": issuer, "aud": AUDIENCE, "sub": "alice@example.com", "exp": now + 3600,
                "jti": tokens::random(), "scp": ["items:read"],
            }));
            ("alg none", format!("{header}.{claims}."))
        }
        3 => ("expired", forge_with(provider, issuer, &json!({}), &json!({ "iat": now - 7200, "exp": now - 3600 }))),
        _ if i.is_multiple_of(2) => (
            "another issuer, signed by our key",
            forge_with(provider, issuer, &json!({}), &json!({ "iss": "https://evil.example/oauth2/default" })),
        ),
        _ => ("another issuer, its own key", forge_with(stranger, stranger.issuer(), &json!({}), &json!({}))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_tokens_cost_the_issuer_at_most_the_bucket() {
    let _one = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let (provider, calls) = counted_provider().await;
    let making = tokio::task::spawn_blocking(|| {
        Provider::new(IdpConfig::default(), "http://127.0.0.1:9/oauth2/default".to_owned(), Arc::new(SystemClock))
    });
    let stranger = within("another provider's keys", making).await.unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let addr = api(provider.issuer(), &dir).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let items = format!("http://{addr}/v1/items");
    let get = |token: String| {
        let request = http.get(&items).bearer_auth(token);
        async move {
            let response = request.send().await.expect("the API answers in time");
            let challenge =
                response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            (response.status().as_u16(), challenge)
        }
    };

    let signed_in =
        tokens::sign_in(&http, provider.issuer(), ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET), SCOPE).await;
    let good = signed_in["access_token"].as_str().unwrap().to_owned();
    let refresh = signed_in["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(get(good.clone()).await.0, 200, "the good token works");
    let before = calls.introspections.load(Ordering::SeqCst);
    assert_eq!(before, 1, "the good token was asked about once");

    let mut wrong = Vec::new();
    let mut good_answers = 0;
    for i in 0..HOSTILE {
        let (kind, token) = hostile(i, &provider, &stranger);
        let (status, challenge) = get(token).await;
        if status != 401 || !challenge.contains("error=\"invalid_token\"") {
            wrong.push(format!("{kind}: {status} {challenge}"));
        }
        if i % 10 == 9 {
            let (status, challenge) = get(good.clone()).await;
            assert_eq!(status, 200, "the good token after {} hostile ones: {challenge}", i + 1);
            good_answers += 1;
        }
    }
    let introspections = calls.introspections.load(Ordering::SeqCst) - before;
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "hostile tokens answered otherwise than 401 invalid_token:\n{}", wrong.join("\n"));
    assert_eq!(good_answers, HOSTILE / 10);
    assert!(
        introspections <= BURST as usize,
        "{HOSTILE} made-up tokens cost the issuer {introspections} introspections, more than the bucket ({BURST})"
    );

    // Past the bucket: an opaque token (the refresh token, which dev-idp
    // would call active) is refused unasked with invalid_token, not 503.
    let (status, challenge) = get(refresh).await;
    assert_eq!(status, 401, "{challenge}");
    assert!(challenge.contains(&Refusal::NotChecked.to_string()), "{challenge}");
    assert_eq!(calls.introspections.load(Ordering::SeqCst) - before, introspections, "refused unasked");

    // A token the issuer signs now is checked locally, then asked about
    // outside the bucket: new honest callers are not locked out.
    let again =
        tokens::sign_in(&http, provider.issuer(), ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET), SCOPE).await;
    let (status, challenge) = get(again["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 200, "a new genuine token: {challenge}");
    assert_eq!(get(good).await.0, 200, "the good token after the flood");

    // Foreign kids made the API look for new keys: rate-limited.
    let jwks = calls.jwks.load(Ordering::SeqCst);
    let limit = 2 + started.elapsed().as_secs() / 10;
    assert!(jwks as u64 <= limit, "{jwks} JWKS requests > {limit}");
    eprintln!(
        "flood: {HOSTILE} hostile tokens cost {introspections} introspections (bucket {BURST}) and {jwks} JWKS \
         requests in {:.1?}",
        started.elapsed()
    );
}
