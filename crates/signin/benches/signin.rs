//! A full sign-in, from opening the authorization URL to the refresh token
//! stored, against dev-idp on loopback. The "browser" is the HTTP driver the
//! tests use: it submits the sign-in form (argon2 at dev-idp), follows the
//! redirect into the loopback listener, and the core exchanges the code,
//! verifies the ID token (JWKS cached after the first run) and calls userinfo.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use dev_idp::config::DEMO_ALICE_PASSWORD;
use openidconnect::IssuerUrl;
use signin::accounts::AccountBook;
use signin::flow::browser::HttpBrowser;
use signin::flow::config::SigninConfig;
use signin::flow::provider::{self, Provider};
use signin::store::MemoryStore;
use signin::{Session, SignInMethod};

fn method(browser: &HttpBrowser) -> SignInMethod {
    SignInMethod::Browser {
        browser: Arc::new(browser.clone()),
        on_link: Arc::new(|_| signin::flow::redirect::Shown::No),
    }
}

fn sign_in(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_idp, session) = runtime.block_on(async {
        let idp = dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }).await.unwrap();
        let mut config = SigninConfig::demo();
        config.issuer = IssuerUrl::new(idp.issuer().to_owned()).unwrap();
        config.timeout = Duration::from_secs(20);
        let provider = Provider::discover_uncached(&config.issuer, &provider::http_client().unwrap()).await.unwrap();
        let session = Session::new(config, Arc::new(MemoryStore::new()), AccountBook::empty(dir.path().join("a.json")))
            .with_provider(Arc::new(provider));
        // Consent once, so every measured sign-in is the same: form, redirect, tokens.
        session.sign_in(method(&HttpBrowser::new("alice", DEMO_ALICE_PASSWORD)), false).await.unwrap();
        (idp, session)
    });
    let mut group = c.benchmark_group("sign_in");
    group.sample_size(20);
    group.bench_function("fresh_browser_with_password", |b| {
        b.iter(|| {
            runtime.block_on(session.sign_in(method(&HttpBrowser::new("alice", DEMO_ALICE_PASSWORD)), false)).unwrap()
        });
    });
    let signed_in_browser = HttpBrowser::new("alice", DEMO_ALICE_PASSWORD);
    runtime.block_on(session.sign_in(method(&signed_in_browser), false)).unwrap();
    group.bench_function("provider_session_alive", |b| {
        b.iter(|| runtime.block_on(session.sign_in(method(&signed_in_browser), false)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, sign_in);
criterion_main!(benches);
