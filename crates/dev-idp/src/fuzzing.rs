//! Entry points for the fuzz targets in `fuzz/` (and the tests that replay
//! their corpora): what dev-idp makes of the form and query bytes clients
//! send, with the properties every input must keep. Not an API.

use std::sync::{Arc, OnceLock};

use axum::http::{HeaderMap, HeaderValue, header};

use crate::config::{Config, DESKTOP_CLIENT_ID};
use crate::params::{Params, split_scope};
use crate::provider::Provider;
use clock::SystemClock;

fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let issuer = "http://127.0.0.1:1/oauth2/default".to_owned();
        Provider::new(Config::default(), issuer, Arc::new(SystemClock)).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Form or query bytes: parsing never panics; a repeated parameter is
/// found; scopes split into distinct, non-empty names.
///
/// # Panics
/// When a property breaks (the fuzzer's finding).
pub fn form(data: &[u8]) {
    let params = Params::parse(data);
    if let Some(name) = params.repeated() {
        assert!(params.is_repeated(name), "{name} reported repeated but is not");
    }
    if let Some(scope) = params.get("scope") {
        let scopes = split_scope(scope);
        assert!(scopes.iter().all(|s| !s.is_empty() && !s.contains(' ')), "{scopes:?}");
        let distinct: std::collections::HashSet<&String> = scopes.iter().collect();
        assert_eq!(distinct.len(), scopes.len(), "{scopes:?}");
    }
}

/// An authorization request's query for the desktop client: never panics,
/// and a request that passes is complete (state, an S256 challenge, known
/// scopes the client may ask for).
///
/// # Panics
/// When a property breaks (the fuzzer's finding).
pub fn authorize_request(data: &[u8]) {
    let provider = provider();
    let Some(client) = provider.config().client(DESKTOP_CLIENT_ID) else { return };
    let Ok(redirect) = url::Url::parse("http://127.0.0.1:1/callback") else { return };
    let params = Params::parse(data);
    let Ok(request) = crate::authorize::validate(provider, client, redirect, &params) else { return };
    assert!(request.state.as_deref().is_some_and(|s| !s.is_empty()), "no state: {request:?}");
    assert!(request.code_challenge.as_deref().is_some_and(|c| c.len() == 43), "no S256 challenge: {request:?}");
    assert!(!request.scopes.is_empty());
    assert!(request.scopes.iter().all(|s| provider.config().knows_scope(s) && client.allows_scope(s)), "{request:?}");
}

/// A token request's form: never panics; a refusal has a description; an
/// answer (only with the items API client's demo secret) has a token type.
///
/// # Panics
/// When a property breaks (the fuzzer's finding).
pub fn token_request(data: &[u8]) {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    match crate::token::handle(provider(), &headers, data, None) {
        Ok(answer) => assert!(answer.token_type.is_some()),
        Err(error) => assert!(!error.description.is_empty(), "{:?}", error.code),
    }
}
