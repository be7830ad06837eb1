//! Discovery, keys, userinfo, introspection, revocation, logout and (with the
//! `testing` feature) the admin call that rotates keys.

use crate::misbehave::Misbehavior;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use serde_json::{Value, json};

use crate::authorize::SESSION_COOKIE;
use crate::client_auth;
use crate::config::grant;
use crate::error::{BearerError, ErrorCode, OAuthError};
use crate::issue::IdClaims;
use crate::pages::{self, PageForm};
use crate::params::Params;
use crate::provider::Provider;
use crate::redirect;
use crate::state;
use clock::unix_seconds;

/// `GET {issuer}/.well-known/openid-configuration` (OIDC Discovery §4,
/// RFC 8414), shaped like Okta's.
pub(crate) async fn discovery(AxumState(provider): AxumState<Provider>) -> Response {
    let config = provider.config();
    let scopes: Vec<&str> =
        config.scopes.iter().map(|s| s.name.as_str()).filter(|name| config.knows_scope(name)).collect();
    let issuer = if provider.commits(Misbehavior::DiscoveryAnotherIssuer) {
        format!("{}-other", provider.issuer())
    } else {
        provider.issuer().to_owned()
    };
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": provider.endpoint("authorize"),
        "token_endpoint": provider.endpoint("token"),
        "userinfo_endpoint": provider.endpoint("userinfo"),
        "jwks_uri": provider.endpoint("keys"),
        "introspection_endpoint": provider.endpoint("introspect"),
        "revocation_endpoint": provider.endpoint("revoke"),
        "end_session_endpoint": provider.endpoint("logout"),
        "device_authorization_endpoint": provider.endpoint("device/authorize"),

        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            grant::AUTHORIZATION_CODE, grant::REFRESH_TOKEN, grant::CLIENT_CREDENTIALS, grant::DEVICE_CODE,
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "claims_supported": [
            "iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce", "at_hash",
            "name", "given_name", "family_name", "preferred_username", "email", "email_verified",
        ],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": dpop::ALGORITHMS,
        "prompt_values_supported": ["none", "login", "consent"],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    if config.pushed_authorization_requests
        && let Some(fields) = document.as_object_mut()
    {
        fields.insert("pushed_authorization_request_endpoint".into(), provider.endpoint("par").into());
        fields.insert("require_pushed_authorization_requests".into(), false.into());
    }
    if !config.device.advertised
        && let Some(fields) = document.as_object_mut()
    {
        fields.remove("device_authorization_endpoint");
        fields.insert(
            "grant_types_supported".into(),
            json!([grant::AUTHORIZATION_CODE, grant::REFRESH_TOKEN, grant::CLIENT_CREDENTIALS]),
        );
    }
    let mut response = Json(document).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
    response
}

/// `GET {issuer}/v1/keys`: the JWKS, cacheable per `keys.jwks_max_age_secs`.
pub(crate) async fn keys(AxumState(provider): AxumState<Provider>) -> Response {
    let jwks = provider.keys().jwks();
    let mut response = Json(jwks).into_response();
    let max_age = format!("max-age={}, must-revalidate", provider.config().keys.jwks_max_age_secs);
    if let Ok(value) = HeaderValue::from_str(&max_age) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

/// `GET|POST {issuer}/v1/userinfo` (OIDC Core §5.3): the bearer token only in
/// the Authorization header.
pub(crate) async fn userinfo(
    AxumState(provider): AxumState<Provider>,
    method: axum::http::Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    provider.count_userinfo_request();
    let in_query = Params::parse(query.unwrap_or_default().as_bytes()).has("access_token");
    let in_body = Params::parse(&body).has("access_token");
    if in_query || in_body {
        return BearerError {
            code: Some(ErrorCode::InvalidRequest),
            description: "Send the access token in the Authorization header only.",
        }
        .into_response();
    }
    let (token, dpop_scheme) = match (bearer_token(&headers), dpop_token(&headers)) {
        (Some(token), _) => (token, false),
        (None, Some(token)) => (token, true),
        (None, None) => return BearerError { code: None, description: "" }.into_response(),
    };
    let Some(claims) = provider.verify_access_token(token) else {
        return BearerError {
            code: Some(ErrorCode::InvalidToken),
            description: "The access token is invalid, expired or revoked.",
        }
        .into_response();
    };
    // RFC 9449 §7: a bound token only with the DPoP scheme and a proof from
    // its key; an unbound one only as a bearer token.
    match (&claims.cnf, dpop_scheme) {
        (None, false) => {}
        (Some(_), false) => {
            return dpop_challenge("invalid_token", "This access token is DPoP-bound: send it with a DPoP proof.");
        }
        (None, true) => return dpop_challenge("invalid_token", "This access token is not DPoP-bound."),
        (Some(cnf), true) => {
            let endpoint = provider.endpoint("userinfo");
            match crate::dpop::resource_proof(&provider, &headers, method.as_str(), &endpoint, token) {
                Ok(Some(jkt)) if jkt == cnf.jkt => {}
                Ok(Some(_)) => return dpop_challenge("invalid_token", "The DPoP proof is from another key."),
                Ok(None) => return dpop_challenge("invalid_dpop_proof", "A DPoP proof is required."),
                Err(error) => return dpop_challenge("invalid_dpop_proof", &error.description),
            }
        }
    }
    let has = |scope: &str| claims.scp.iter().any(|s| s == scope);
    let user = claims.uid.as_deref().and_then(|uid| provider.config().user(uid));
    let Some(user) = user.filter(|_| has("openid")) else {
        return BearerError {
            code: Some(ErrorCode::InsufficientScope),
            description: "The access token was not granted the openid scope.",
        }
        .into_response();
    };
    let sub = if provider.commits(Misbehavior::UserinfoAnotherSubject) {
        "00u-someone-else".to_owned()
    } else {
        user.id.clone()
    };
    let mut info = json!({ "sub": sub });
    if has("profile") {
        info["name"] = json!(user.name);
        info["given_name"] = json!(user.given_name);
        info["family_name"] = json!(user.family_name);
        info["preferred_username"] = json!(user.login);
    }
    if has("email") {
        info["email"] = json!(user.email);
        info["email_verified"] = json!(true);
    }
    let mut response = Json(info).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The token of `Authorization: DPoP <token>` (RFC 9449 §7.1).
fn dpop_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("dpop") && !token.is_empty()).then_some(token)
}

/// A 401 with a DPoP challenge (RFC 9449 §7.1).
fn dpop_challenge(error: &str, description: &str) -> Response {
    let description = description.replace(['"', '\\'], "'");
    let challenge = format!(r#"DPoP algs="ES256", error="{error}", error_description="{description}""#);
    let mut response = axum::http::StatusCode::UNAUTHORIZED.into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn back_channel_params(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    let params = Params::from_form(headers, body).map_err(OAuthError::invalid_request)?;
    if let Some(name) = params.repeated() {
        return Err(OAuthError::invalid_request(format!("The parameter {name} appears more than once.")));
    }
    Ok(params)
}

/// `POST {issuer}/v1/introspect` (RFC 7662). Any authenticated client may
/// introspect access tokens (resource servers do); a refresh token only by
/// the client it was issued to, and its answer has no `aud`/`iss` (as Okta).
pub(crate) async fn introspect(AxumState(provider): AxumState<Provider>, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        let params = back_channel_params(&headers, &body)?;
        let client = client_auth::authenticate(&provider, &headers, &params)?;
        let token = params.require("token")?;
        Ok::<_, OAuthError>(introspection(&provider, &client.client_id, token))
    })();
    match result {
        Ok(answer) => {
            let mut response = Json(answer).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => error.into_response(),
    }
}

fn introspection(provider: &Provider, client_id: &str, token: &str) -> Value {
    let inactive = json!({ "active": false });
    if let Some(claims) = provider.verify_access_token(token) {
        // RFC 9449 §6.2: a bound token says so and names its key.
        let token_type = if claims.cnf.is_some() { "DPoP" } else { "Bearer" };
        let mut answer = json!({
            "active": true,
            "token_type": token_type,
            "scope": claims.scp.join(" "),
            "client_id": claims.cid,
            "username": claims.sub,
            "exp": claims.exp,
            "iat": claims.iat,
            "sub": claims.sub,
            "aud": claims.aud,
            "iss": claims.iss,
            "jti": claims.jti,
            "uid": claims.uid,
        });
        if let (Some(cnf), Some(fields)) = (claims.cnf, answer.as_object_mut()) {
            fields.insert("cnf".into(), json!({ "jkt": cnf.jkt }));
        }
        return answer;
    }
    let now = provider.now();
    let state = provider.state();
    let Some(record) = state.refresh_tokens.get(&state::token_hash(token)) else {
        return inactive;
    };
    let Some(grant) = state.grants.get(&record.grant_id) else {
        return inactive;
    };
    let grace = Provider::lifetime(provider.config().refresh_token_rotation.grace_period_secs);
    let rotated_out = record.rotated_at.is_some_and(|at| now >= at + grace);
    if record.revoked || grant.revoked || record.expires_at <= now || rotated_out || grant.client_id != client_id {
        return inactive;
    }
    let user = grant.user_id.as_deref().and_then(|id| provider.config().user(id));
    json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": grant.scopes.join(" "),
        "client_id": grant.client_id,
        "username": user.map(|u| u.login.clone()),
        "sub": user.map(|u| u.login.clone()),
        "uid": user.map(|u| u.id.clone()),
        "exp": unix_seconds(record.expires_at),
        "iat": unix_seconds(record.issued_at),
    })
}

/// `POST {issuer}/v1/revoke` (RFC 7009): 200 for unknown tokens; revoking a
/// refresh token revokes its grant's access tokens too (§2.1).
pub(crate) async fn revoke(AxumState(provider): AxumState<Provider>, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        let params = back_channel_params(&headers, &body)?;
        let client = client_auth::authenticate(&provider, &headers, &params)?;
        let token = params.require("token")?;
        if let Some(claims) = provider.verify_access_token(token) {
            let mut state = provider.state();
            if claims.cid == client.client_id
                && let Some(record) = state.access_tokens.get_mut(&claims.jti)
            {
                record.revoked = true;
            }
            return Ok(());
        }
        let mut state = provider.state();
        let grant_id = state
            .refresh_tokens
            .get(&state::token_hash(token))
            .map(|r| r.grant_id.clone())
            .filter(|grant_id| state.grants.get(grant_id).is_some_and(|g| g.client_id == client.client_id));
        if let Some(grant_id) = grant_id {
            state.revoke_grant(&grant_id);
        }
        Ok::<_, OAuthError>(())
    })();
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET {issuer}/v1/logout` (OIDC RP-Initiated Logout 1.0 §2).
pub(crate) async fn logout_get(
    AxumState(provider): AxumState<Provider>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    logout(&provider, jar, &Params::parse(query.unwrap_or_default().as_bytes()))
}

/// `POST {issuer}/v1/logout`.
pub(crate) async fn logout_post(
    AxumState(provider): AxumState<Provider>,
    jar: CookieJar,
    PageForm(params): PageForm,
) -> Response {
    logout(&provider, jar, &params)
}

fn logout(provider: &Provider, jar: CookieJar, params: &Params) -> Response {
    let bad = |message: &str| pages::error(StatusCode::BAD_REQUEST, message);
    if let Some(name) = params.repeated() {
        return bad(&format!("The parameter {name} appears more than once."));
    }
    let Some(hint) = params.get("id_token_hint") else {
        return bad("The sign-out request has no id_token_hint.");
    };
    // An expired ID token is still a good hint (RP-Initiated Logout §2).
    let mut validation = crate::keys::validation(provider.issuer());
    validation.validate_exp = false;
    let Ok(claims) = provider.keys().verify::<IdClaims>(hint, &validation) else {
        return bad("The id_token_hint is not an ID token issued by this provider.");
    };
    if params.get("client_id").is_some_and(|id| id != claims.aud) {
        return bad("client_id does not match the id_token_hint.");
    }
    let Some(client) = provider.config().client(&claims.aud) else {
        return bad("The id_token_hint names an unknown client.");
    };
    let target = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let any_port = provider.config().loopback_any_port_for(client);
            match redirect::find_match(&client.post_logout_redirect_uris, uri, any_port) {
                Some(url) => Some(url),
                None => {
                    return bad(&redirect::unregistered("post_logout_redirect_uri", uri, &client.client_id, any_port));
                }
            }
        }
    };
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        provider.state().sessions.remove(cookie.value());
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    let response = match target {
        Some(mut url) => {
            if let Some(state) = params.get("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            Redirect::to(url.as_str()).into_response()
        }
        None => pages::message("Signed out", "You are signed out. You can close this window."),
    };
    (jar, response).into_response()
}

/// `POST /admin/rotate-keys`: a new signing key (for testing clients' key
/// rotation). Answers `{"kid": …}`. Only with the `testing` feature.
#[cfg(feature = "testing")]
pub(crate) async fn rotate_keys(AxumState(provider): AxumState<Provider>) -> Response {
    match tokio::task::spawn_blocking(move || provider.rotate_keys()).await {
        Ok(Ok(kid)) => Json(json!({ "kid": kid })).into_response(),
        Ok(Err(error)) => {
            tracing::error!(error = %error, "key rotation failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "key rotation failed").into_response()
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "key rotation failed").into_response(),
    }
}
