//! The token endpoint (RFC 6749 §3.2): authorization code with PKCE
//! (RFC 7636), refresh with optional rotation, client credentials, and the
//! device code grant (RFC 8628 §3.4).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::Url;

use crate::client_auth;
use std::time::SystemTime;

use crate::config::{ClientConfig, UserConfig, grant};
use crate::error::{ErrorCode, OAuthError};
use crate::issue::{Issue, Refresh, TokenResponse};
use crate::misbehave::Misbehavior;
use crate::params::{Params, split_scope};
use crate::provider::Provider;
use crate::state::{self, DeviceStatus, Grant, Redemption};

/// Scopes that only make sense for a person.
const PERSON_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// `POST {issuer}/v1/token`.
pub(crate) async fn token(AxumState(provider): AxumState<Provider>, headers: HeaderMap, body: Bytes) -> Response {
    if provider.commits(Misbehavior::KeysRotatedBeforeSigning) {
        let rotating = provider.clone();
        match tokio::task::spawn_blocking(move || rotating.rotate_keys()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not rotate the keys"),
            Err(error) => tracing::warn!(%error, "could not rotate the keys"),
        }
    }
    let jkt = match crate::dpop::proof_of(&provider, &headers, &provider.endpoint("token")) {
        Ok(jkt) => jkt,
        Err(error) => return error.into_response(),
    };
    // With DPoP, every answer hands out the nonce for the next proof.
    let nonce = jkt.as_ref().and_then(|_| crate::dpop::current_nonce(&provider));
    match handle(&provider, &headers, &body, jkt.as_deref()) {
        Ok(tokens) => {
            // Only a misbehaving provider (tests) serialises it here.
            let faults = provider.faults();
            if !faults.is_empty()
                && let Some(response) = serde_json::to_vec(&tokens)
                    .ok()
                    .and_then(|json| crate::misbehave::deliver_token_response(json, &faults))
            {
                return response;
            }
            let mut response = Json(tokens).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            if let Some(value) = nonce.and_then(|nonce| HeaderValue::from_str(&nonce).ok()) {
                headers.insert("dpop-nonce", value);
            }
            response
        }
        Err(error) => error.with_dpop_nonce(nonce).into_response(),
    }
}

/// `jkt`: the thumbprint of the request's DPoP key, when it sent a valid proof.
pub(crate) fn handle(
    provider: &Provider,
    headers: &HeaderMap,
    body: &[u8],
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let params = Params::from_form(headers, body).map_err(OAuthError::invalid_request)?;
    if let Some(name) = params.repeated() {
        return Err(OAuthError::invalid_request(format!("The parameter {name} appears more than once.")));
    }
    let client = client_auth::authenticate(provider, headers, &params)?;
    let grant_type = params.require("grant_type")?;
    let known = [grant::AUTHORIZATION_CODE, grant::REFRESH_TOKEN, grant::CLIENT_CREDENTIALS, grant::DEVICE_CODE];
    if !known.contains(&grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("The grant type {grant_type:?} is not supported."),
        ));
    }
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("The client may not use the {grant_type} grant."),
        ));
    }
    if client.dpop_bound_access_tokens && jkt.is_none() {
        return Err(OAuthError::new(
            ErrorCode::InvalidDpopProof,
            "This client's tokens are bound to a key: send a DPoP proof (RFC 9449).",
        ));
    }
    match grant_type {
        grant::AUTHORIZATION_CODE => authorization_code(provider, client, &params, jkt),
        grant::REFRESH_TOKEN => refresh_token(provider, client, &params, jkt),
        grant::CLIENT_CREDENTIALS => client_credentials(provider, client, &params, jkt),
        _ => device_code(provider, client, &params, jkt),
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A grant about to be made: to whom (`user`, or the client itself), for
/// which scopes, since when, and what its first token response holds.
struct NewGrant<'a> {
    user: Option<&'a UserConfig>,
    scopes: &'a [String],
    auth_time: Option<SystemTime>,
    nonce: Option<&'a str>,
    refresh: Refresh,
}

/// Records `new` as a grant to `client` (its tokens bound to `jkt` when
/// DPoP) and issues its first tokens: answers the grant's id and them.
fn issue_new_grant(
    provider: &Provider,
    state: &mut state::State,
    client: &ClientConfig,
    jkt: Option<&str>,
    new: NewGrant<'_>,
) -> (String, Result<TokenResponse, OAuthError>) {
    let grant_id = state::random_token();
    let grant = Grant {
        client_id: client.client_id.clone(),
        user_id: new.user.map(|user| user.id.clone()),
        scopes: new.scopes.to_vec(),
        auth_time: new.auth_time,
        revoked: false,
        jkt: jkt.map(str::to_owned),
    };
    state.grants.insert(grant_id.clone(), grant);
    let issued = provider.issue(
        state,
        Issue {
            grant_id: &grant_id,
            client_id: &client.client_id,
            user: new.user,
            scopes: new.scopes,
            auth_time: new.auth_time,
            nonce: new.nonce,
            refresh: new.refresh,
            jkt,
        },
    );
    (grant_id, issued)
}

fn wants_refresh(client: &ClientConfig, scopes: &[String]) -> Refresh {
    // Okta: a refresh token only when offline_access was granted.
    if scopes.iter().any(|s| s == "offline_access") && client.allows_grant(grant::REFRESH_TOKEN) {
        Refresh::Issue
    } else {
        Refresh::None
    }
}

fn authorization_code(
    provider: &Provider,
    client: &ClientConfig,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.get("code_verifier");
    if verifier.is_some_and(|v| !is_valid_verifier(v)) {
        return Err(OAuthError::invalid_request(
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).",
        ));
    }
    let now = provider.now();
    let mut state = provider.state();
    let hash = state::token_hash(code);
    let Some(code_grant) = state.codes.get(&hash).cloned() else {
        return Err(OAuthError::invalid_grant("The authorization code is invalid or has expired."));
    };
    if code_grant.expires_at <= now {
        state.codes.remove(&hash);
        return Err(OAuthError::invalid_grant("The authorization code has expired."));
    }
    if let Some(redemption) = &code_grant.redeemed {
        if let Redemption::Granted(grant_id) = redemption {
            tracing::warn!(client = %client.client_id, "authorization code reused: revoking its tokens");
            state.revoke_grant(grant_id);
        }
        return Err(OAuthError::invalid_grant(
            "The authorization code was already used; the tokens it issued are revoked.",
        ));
    }
    let request = &code_grant.request;
    if request.code_challenge.is_some() && verifier.is_none() {
        return Err(OAuthError::invalid_request("The code_verifier parameter is required (PKCE)."));
    }
    // From here on the code is spent, whatever the outcome.
    if let Some(stored) = state.codes.get_mut(&hash) {
        stored.redeemed = Some(Redemption::Failed);
    }
    if request.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("The authorization code was issued to another client."));
    }
    if Url::parse(redirect_uri).ok().as_ref() != Some(&request.redirect_uri) {
        return Err(OAuthError::invalid_grant("redirect_uri differs from the one in the authorization request."));
    }
    match (&request.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) if s256(verifier) != *challenge => {
            return Err(OAuthError::invalid_grant("PKCE verification failed: the code_verifier does not match."));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "A code_verifier was sent but the authorization request had no code_challenge.",
            ));
        }
        _ => {}
    }
    // RFC 9449 §10: a code bound to a key is exchanged only with a proof
    // from that key.
    if let Some(bound) = &request.dpop_jkt
        && jkt != Some(bound.as_str())
    {
        return Err(OAuthError::invalid_grant(
            "The authorization code is bound to a DPoP key (dpop_jkt): send a proof from that key.",
        ));
    }
    let Some(user) = provider.config().user(&code_grant.user_id) else {
        return Err(OAuthError::invalid_grant("The person no longer exists."));
    };
    let new = NewGrant {
        user: Some(user),
        scopes: &request.scopes,
        auth_time: Some(code_grant.auth_time),
        nonce: request.nonce.as_deref(),
        refresh: wants_refresh(client, &request.scopes),
    };
    let (grant_id, issued) = issue_new_grant(provider, &mut state, client, jkt, new);
    if let Some(stored) = state.codes.get_mut(&hash) {
        stored.redeemed = Some(Redemption::Granted(grant_id));
    }
    issued
}

fn refresh_token(
    provider: &Provider,
    client: &ClientConfig,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let token = params.require("refresh_token")?;
    let requested = params.get("scope").map(split_scope);
    let now = provider.now();
    let mut state = provider.state();
    let hash = state::token_hash(token);
    let invalid = || OAuthError::invalid_grant("The refresh token is invalid, expired or revoked.");
    let record = state.refresh_tokens.get(&hash).cloned().ok_or_else(invalid)?;
    let grant = state.grants.get(&record.grant_id).cloned().ok_or_else(invalid)?;
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("The refresh token was issued to another client."));
    }
    if record.revoked || grant.revoked || record.expires_at <= now {
        return Err(invalid());
    }
    // RFC 9449 §5: a bound refresh token needs a proof from its key.
    match (grant.jkt.as_deref(), jkt) {
        (Some(_), None) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidDpopProof,
                "The refresh token is bound to a key: send a DPoP proof made with it.",
            ));
        }
        (Some(bound), Some(presented)) if bound != presented => {
            return Err(OAuthError::invalid_grant("The refresh token is bound to another DPoP key."));
        }
        _ => {}
    }
    let rotation = &provider.config().refresh_token_rotation;
    if let Some(rotated_at) = record.rotated_at
        && now >= rotated_at + Provider::lifetime(rotation.grace_period_secs)
    {
        tracing::warn!(client = %client.client_id, "rotated refresh token reused: revoking its family");
        state.revoke_grant(&record.grant_id);
        provider.count_reused_refresh_token();
        return Err(OAuthError::invalid_grant(
            "The refresh token was already used; every token of this sign-in is revoked.",
        ));
    }
    let scopes = match requested {
        Some(requested) if requested.iter().all(|s| grant.scopes.contains(s)) => requested,
        Some(_) => {
            return Err(OAuthError::new(ErrorCode::InvalidScope, "The scope asked for exceeds the original grant."));
        }
        None => grant.scopes.clone(),
    };
    let user = grant.user_id.as_deref().and_then(|id| provider.config().user(id)).ok_or_else(invalid)?;
    let refresh = if rotation.enabled {
        if let Some(stored) = state.refresh_tokens.get_mut(&hash) {
            stored.rotated_at.get_or_insert(now);
        }
        Refresh::Issue
    } else {
        Refresh::Keep(token.to_owned())
    };
    let issued = provider.issue(
        &mut state,
        Issue {
            grant_id: &record.grant_id,
            client_id: &client.client_id,
            user: Some(user),
            scopes: &scopes,
            auth_time: grant.auth_time,
            nonce: None,
            refresh,
            jkt,
        },
    );
    if issued.is_ok() {
        provider.count_refresh();
    }
    issued
}

fn client_credentials(
    provider: &Provider,
    client: &ClientConfig,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "Public clients cannot use client credentials."));
    }
    let scopes = match params.get("scope") {
        Some(scope) => split_scope(scope),
        None => client
            .allowed_scopes
            .clone()
            .unwrap_or_else(|| provider.config().scopes.iter().map(|s| s.name.clone()).collect())
            .into_iter()
            .filter(|s| !PERSON_SCOPES.contains(&s.as_str()))
            .collect(),
    };
    for scope in &scopes {
        if PERSON_SCOPES.contains(&scope.as_str()) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("The scope {scope:?} cannot be granted to a client acting for itself."),
            ));
        }
        if !provider.config().knows_scope(scope) || !client.allows_scope(scope) {
            return Err(OAuthError::new(ErrorCode::InvalidScope, format!("The scope {scope:?} is not allowed.")));
        }
    }
    let new = NewGrant { user: None, scopes: &scopes, auth_time: None, nonce: None, refresh: Refresh::None };
    issue_new_grant(provider, &mut provider.state(), client, jkt, new).1
}

fn device_code(
    provider: &Provider,
    client: &ClientConfig,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let device_code = params.require("device_code")?;
    let now = provider.now();
    let mut state = provider.state();
    let hash = state::token_hash(device_code);
    let Some(device) = state.devices.get_mut(&hash) else {
        return Err(OAuthError::invalid_grant("The device code is invalid."));
    };
    if device.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("The device code was issued to another client."));
    }
    if device.expires_at <= now {
        state.devices.remove(&hash);
        return Err(OAuthError::new(ErrorCode::ExpiredToken, "The device code has expired."));
    }
    match device.status.clone() {
        DeviceStatus::Pending => {
            let too_soon = device.last_poll.is_some_and(|last| now < last + device.interval);
            device.last_poll = Some(now);
            if too_soon {
                // RFC 8628 §3.5: add 5 seconds for this and later requests.
                device.interval += std::time::Duration::from_secs(5);
                Err(OAuthError::new(ErrorCode::SlowDown, "Polling too fast; wait longer between requests."))
            } else {
                Err(OAuthError::new(ErrorCode::AuthorizationPending, "The person has not answered yet."))
            }
        }
        DeviceStatus::Denied => {
            state.devices.remove(&hash);
            Err(OAuthError::new(ErrorCode::AccessDenied, "The person denied the request."))
        }
        DeviceStatus::Approved { user_id, auth_time } => {
            let Some(device) = state.devices.remove(&hash) else {
                return Err(OAuthError::invalid_grant("The device code is invalid."));
            };
            let user = provider
                .config()
                .user(&user_id)
                .ok_or_else(|| OAuthError::invalid_grant("The person no longer exists."))?;
            let new = NewGrant {
                user: Some(user),
                scopes: &device.scopes,
                auth_time: Some(auth_time),
                nonce: None,
                refresh: wants_refresh(client, &device.scopes),
            };
            issue_new_grant(provider, &mut state, client, jkt, new).1
        }
    }
}
