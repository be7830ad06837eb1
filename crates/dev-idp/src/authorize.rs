//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2) and the pages
//! behind it: sign-in form, consent, and the redirect back with `code`,
//! `state` and `iss` (RFC 9207).

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use url::Url;

use crate::client_auth;
use crate::config::{ClientConfig, grant};
use crate::error::{ErrorCode, OAuthError};
use crate::pages::{self, PageForm};
use crate::params::{Params, split_scope};
use crate::provider::Provider;
use crate::redirect;
use crate::state::{self, AuthRequest, CodeGrant, Interaction, Prompt, PushedRequest, Session, State};

/// The provider's browser-session cookie.
pub(crate) const SESSION_COOKIE: &str = "dev_idp_sid";

/// Where the answer of an authorization request goes: the client's redirect
/// URI, with `state` echoed and `iss` added (RFC 9207 §2).
struct Reply {
    redirect_uri: Url,
    state: Option<String>,
    /// `None` only when the provider misbehaves on purpose (tests).
    issuer: Option<String>,
}

impl Reply {
    fn new(redirect_uri: Url, state: Option<&str>, provider: &Provider) -> Self {
        Self { redirect_uri, state: state.map(str::to_owned), issuer: provider.response_iss() }
    }

    fn for_request(provider: &Provider, request: &AuthRequest) -> Self {
        Self::new(request.redirect_uri.clone(), request.state.as_deref(), provider)
    }

    fn send(&self, pairs: &[(&str, &str)]) -> Response {
        let mut url = self.redirect_uri.clone();
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, value);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
            if let Some(issuer) = &self.issuer {
                query.append_pair("iss", issuer);
            }
        }
        let mut response = Redirect::to(url.as_str()).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        response
    }

    fn error(&self, code: ErrorCode, description: &str) -> Response {
        self.send(&[("error", code.as_str()), ("error_description", description)])
    }
}

/// `GET {issuer}/v1/authorize`.
pub(crate) async fn authorize_get(
    AxumState(provider): AxumState<Provider>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    authorize(&provider, &jar, &params)
}

/// `POST {issuer}/v1/authorize` (OIDC Core §3.1.2.1 allows form posts).
pub(crate) async fn authorize_post(
    AxumState(provider): AxumState<Provider>,
    jar: CookieJar,
    PageForm(params): PageForm,
) -> Response {
    authorize(&provider, &jar, &params)
}

/// The prefix of the `request_uri`s this provider hands out (RFC 9126 §2.2).
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

fn authorize(provider: &Provider, jar: &CookieJar, params: &Params) -> Response {
    let bad = |message: &str| pages::error(StatusCode::BAD_REQUEST, message);
    if !params.has("request_uri") {
        provider.received_authorization_request(false, params);
    }
    // Until the client and its redirect URI are known to be good, errors are
    // shown here and never redirected (RFC 6749 §4.1.2.1).
    if params.is_repeated("client_id") || params.is_repeated("redirect_uri") || params.is_repeated("request_uri") {
        return bad("The request repeats client_id, redirect_uri or request_uri.");
    }
    let Some(client_id) = params.get("client_id") else {
        return bad("The request has no client_id.");
    };
    let Some(client) = provider.config().client(client_id) else {
        return bad(&format!("No application is registered with client_id {client_id:?}."));
    };
    // A pushed request (RFC 9126 §4): only what was pushed counts; the
    // `request_uri` works once, for the client that pushed it, until it expires.
    if let Some(request_uri) = params.get("request_uri") {
        let now = provider.now();
        let pushed = provider.state().pushed.remove(&state::token_hash(request_uri));
        return match pushed {
            Some(pushed) if pushed.expires_at > now && pushed.request.client_id == client.client_id => {
                start(provider, jar, pushed.request)
            }
            Some(pushed) if pushed.expires_at > now => bad("This request_uri was pushed by another application."),
            _ => bad("This request_uri is unknown, expired or already used; start again from the app."),
        };
    }
    let Some(redirect_raw) = params.get("redirect_uri") else {
        return bad("The request has no redirect_uri.");
    };
    let any_port = provider.config().loopback_any_port_for(client);
    let Some(redirect_uri) = redirect::find_match(&client.redirect_uris, redirect_raw, any_port) else {
        return bad(&redirect::unregistered("redirect_uri", redirect_raw, &client.client_id, any_port));
    };
    let reply = Reply::new(redirect_uri.clone(), params.get("state"), provider);
    if client.require_pushed_authorization_requests {
        return reply.error(ErrorCode::InvalidRequest, "This application must push its authorization requests (PAR).");
    }
    match validate(provider, client, redirect_uri, params) {
        Ok(request) => start(provider, jar, request),
        Err((code, description)) => reply.error(code, &description),
    }
}

/// Starts the interaction for a valid request: the sign-in form, consent, or
/// straight back with a code.
fn start(provider: &Provider, jar: &CookieJar, request: AuthRequest) -> Response {
    let id = state::random_token();
    let now = provider.now();
    let mut state = provider.state();
    state.interactions.insert(
        id.clone(),
        Interaction {
            request,
            expires_at: now + Provider::lifetime(provider.config().lifetimes.interaction_secs),
            signed_in_here: false,
            consented_here: false,
            user_id: None,
        },
    );
    state.sweep(now);
    let session = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
    advance(provider, &mut state, &id, session.as_deref())
}

/// `POST {issuer}/v1/par`: a pushed authorization request (RFC 9126 §2).
/// The client authenticates as at the token endpoint and sends the whole
/// authorization request; it gets a one-time `request_uri` to open in the
/// browser with its `client_id`.
pub(crate) async fn push(AxumState(provider): AxumState<Provider>, headers: HeaderMap, body: Bytes) -> Response {
    match pushed(&provider, &headers, &body) {
        Ok((request_uri, expires_in)) => {
            let body = serde_json::json!({ "request_uri": request_uri, "expires_in": expires_in });
            let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => error.into_response(),
    }
}

fn pushed(provider: &Provider, headers: &HeaderMap, body: &[u8]) -> Result<(String, u64), OAuthError> {
    if !provider.config().pushed_authorization_requests {
        return Err(OAuthError::invalid_request("This provider does not take pushed authorization requests."));
    }
    let params = Params::from_form(headers, body).map_err(OAuthError::invalid_request)?;
    if let Some(name) = params.repeated() {
        return Err(OAuthError::invalid_request(format!("The parameter {name} appears more than once.")));
    }
    provider.received_authorization_request(true, &params);
    if params.has("request_uri") {
        return Err(OAuthError::invalid_request("A pushed request cannot carry a request_uri."));
    }
    let client = client_auth::authenticate(provider, headers, &params)?;
    let redirect_raw =
        params.get("redirect_uri").ok_or_else(|| OAuthError::invalid_request("The request has no redirect_uri."))?;
    let any_port = provider.config().loopback_any_port_for(client);
    let redirect_uri = redirect::find_match(&client.redirect_uris, redirect_raw, any_port).ok_or_else(|| {
        OAuthError::invalid_request(redirect::unregistered("redirect_uri", redirect_raw, &client.client_id, any_port))
    })?;
    let mut request =
        validate(provider, client, redirect_uri, &params).map_err(|(code, text)| OAuthError::new(code, text))?;
    // RFC 9449 §10.1: the key may also come as a proof with the push; with
    // dpop_jkt beside it, both must name the same key.
    if let Some(jkt) = crate::dpop::proof_of(provider, headers, &provider.endpoint("par"))? {
        if request.dpop_jkt.as_ref().is_some_and(|named| *named != jkt) {
            return Err(OAuthError::new(
                ErrorCode::InvalidDpopProof,
                "The DPoP proof's key is not the one dpop_jkt names.",
            ));
        }
        request.dpop_jkt = Some(jkt);
    }
    let lifetime = provider.config().lifetimes.pushed_request_secs;
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", state::random_token());
    let now = provider.now();
    let mut state = provider.state();
    state.pushed.insert(
        state::token_hash(&request_uri),
        PushedRequest { request, expires_at: now + Provider::lifetime(lifetime) },
    );
    state.sweep(now);
    Ok((request_uri, lifetime))
}

/// Checks everything but the client and redirect URI.
pub(crate) fn validate(
    provider: &Provider,
    client: &ClientConfig,
    redirect_uri: Url,
    params: &Params,
) -> Result<AuthRequest, (ErrorCode, String)> {
    use ErrorCode::{InvalidRequest, InvalidScope, UnauthorizedClient, UnsupportedResponseType};
    let fail = |code, text: &str| Err((code, text.to_owned()));
    if let Some(name) = params.repeated() {
        return Err((InvalidRequest, format!("The parameter {name} appears more than once.")));
    }
    match params.get("response_type") {
        Some("code") => {}
        None => return fail(InvalidRequest, "The response_type parameter is required."),
        Some(_) => return fail(UnsupportedResponseType, "Only response_type=code is supported."),
    }
    if params.get("response_mode").is_some_and(|mode| mode != "query") {
        return fail(InvalidRequest, "Only response_mode=query is supported.");
    }
    if params.has("request") {
        return fail(InvalidRequest, "Request objects are not supported.");
    }
    if !client.allows_grant(grant::AUTHORIZATION_CODE) {
        return fail(UnauthorizedClient, "This client may not use the authorization code grant.");
    }
    let Some(scope) = params.get("scope") else {
        return fail(InvalidRequest, "The scope parameter is required.");
    };
    let scopes = split_scope(scope);
    if scopes.is_empty() {
        return fail(InvalidRequest, "The scope parameter is required.");
    }
    for scope in &scopes {
        if !provider.config().knows_scope(scope) {
            let text = if provider.config().org_authorization_server {
                format!(
                    "The scope {scope:?} is not served by the org authorization server; \
                     custom scopes need a custom authorization server."
                )
            } else {
                format!("The scope {scope:?} is unknown.")
            };
            return Err((InvalidScope, text));
        }
        if !client.allows_scope(scope) {
            return Err((InvalidScope, format!("The client may not ask for the scope {scope:?}.")));
        }
    }
    let Some(state) = params.get("state") else {
        return fail(InvalidRequest, "The state parameter is required.");
    };
    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
        (None, None) if client.is_public() => {
            return fail(InvalidRequest, "PKCE is required: send code_challenge with code_challenge_method=S256.");
        }
        (None, None) => None,
        (None, Some(_)) => return fail(InvalidRequest, "code_challenge_method was sent without code_challenge."),
        (Some(_), None) => {
            return fail(InvalidRequest, "code_challenge_method is required; only S256 is supported.");
        }
        (Some(_), Some(method)) if method != "S256" => {
            return fail(InvalidRequest, "Only the S256 code_challenge_method is supported.");
        }
        (Some(challenge), Some(_)) => {
            // An S256 challenge is 32 bytes in unpadded base64url (RFC 7636 §4.2).
            let valid =
                challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return fail(InvalidRequest, "code_challenge is not an S256 challenge (43 base64url characters).");
            }
            Some(challenge.to_owned())
        }
    };
    let dpop_jkt = match params.get("dpop_jkt") {
        None => None,
        // A SHA-256 JWK thumbprint (RFC 7638) is 32 bytes: 43 characters of base64url.
        Some(jkt) if jkt.len() == 43 && jkt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
            Some(jkt.to_owned())
        }
        Some(_) => return fail(InvalidRequest, "dpop_jkt is not a JWK SHA-256 thumbprint (43 base64url characters)."),
    };
    let prompt = parse_prompt(params.get("prompt")).map_err(|text| (InvalidRequest, text.to_owned()))?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| (InvalidRequest, "max_age must be a non-negative number of seconds.".to_owned()))?,
        ),
    };
    Ok(AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scopes,
        state: Some(state.to_owned()),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        dpop_jkt,
        prompt,
        max_age,
        login_hint: params.get("login_hint").map(str::to_owned),
    })
}

/// Parses `prompt`: `none` alone, or any of `login` and `consent`.
fn parse_prompt(value: Option<&str>) -> Result<Prompt, &'static str> {
    let mut prompt = Prompt::default();
    for word in value.unwrap_or_default().split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            _ => return Err("prompt may only hold none, login and consent."),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err("prompt=none cannot be combined with other values.");
    }
    Ok(prompt)
}

/// Moves an interaction on: to the sign-in form, to consent, or back to the
/// client with a code or an error.
fn advance(provider: &Provider, state: &mut State, id: &str, session_id: Option<&str>) -> Response {
    let now = provider.now();
    let Some(interaction) = state.interactions.get(id).cloned() else {
        return pages::error(StatusCode::BAD_REQUEST, "This sign-in has expired or was already finished.");
    };
    let request = &interaction.request;
    let reply = Reply::for_request(provider, request);
    let Some(client) = provider.config().client(&request.client_id) else {
        return pages::error(StatusCode::BAD_REQUEST, "The application is no longer registered.");
    };
    let session = session_id
        .and_then(|sid| state.sessions.get(sid))
        .filter(|s| s.expires_at > now && provider.config().user(&s.user_id).is_some())
        .cloned();
    let too_old = |session: &Session| {
        request
            .max_age
            .is_some_and(|max_age| now.duration_since(session.auth_time).unwrap_or_default().as_secs() > max_age)
    };
    let session = match session {
        Some(session) if interaction.signed_in_here || !(request.prompt.login || too_old(&session)) => session,
        _ => {
            if request.prompt.none {
                state.interactions.remove(id);
                return reply.error(ErrorCode::LoginRequired, "The person is not signed in.");
            }
            return pages::SignIn {
                action: &provider.page("sign-in"),
                interaction: id,
                client_name: &client.name,
                login_hint: request.login_hint.as_deref(),
                error: None,
            }
            .render();
        }
    };
    if let Some(stored) = state.interactions.get_mut(id) {
        stored.user_id = Some(session.user_id.clone());
    }
    let needs_consent = client.consent_required
        && ((request.prompt.consent && !interaction.consented_here)
            || !state.has_consent(&session.user_id, &client.client_id, &request.scopes));
    if needs_consent {
        if request.prompt.none {
            state.interactions.remove(id);
            return reply.error(ErrorCode::ConsentRequired, "The person has not consented to this client.");
        }
        let person = provider.config().user(&session.user_id).map_or("", |u| u.name.as_str());
        let scopes = request
            .scopes
            .iter()
            .filter_map(|name| provider.config().scopes.iter().find(|s| &s.name == name))
            .collect();
        return pages::Consent {
            action: &provider.page("consent"),
            interaction: id,
            client_name: &client.name,
            person,
            scopes,
        }
        .render();
    }
    state.interactions.remove(id);
    let code = state::random_token();
    state.codes.insert(
        state::token_hash(&code),
        CodeGrant {
            request: interaction.request.clone(),
            user_id: session.user_id,
            auth_time: session.auth_time,
            expires_at: now + Provider::lifetime(provider.config().lifetimes.authorization_code_secs),
            redeemed: None,
        },
    );
    reply.send(&[("code", &code)])
}

const EXPIRED: &str = "This sign-in has expired or was already finished.";

/// The interaction `id` (a page's hidden field), unless it has expired.
fn live_interaction(state: &State, id: &str, now: SystemTime) -> Option<Interaction> {
    state.interactions.get(id).filter(|i| i.expires_at > now).cloned()
}

/// `POST {issuer}/sign-in`: the sign-in form.
pub(crate) async fn sign_in(
    AxumState(provider): AxumState<Provider>,
    jar: CookieJar,
    PageForm(params): PageForm,
) -> Response {
    let id = params.get("interaction").unwrap_or_default().to_owned();
    let cancelled = params.get("action") == Some("cancel");
    // Check the password before taking the lock: argon2 is slow on purpose.
    let user = if cancelled {
        None
    } else {
        let username = params.get("username").unwrap_or_default();
        let password = params.get("password").unwrap_or_default();
        provider.config().authenticate(username, password).cloned()
    };
    let now = provider.now();
    let mut state = provider.state();
    let Some(interaction) = live_interaction(&state, &id, now) else {
        return pages::error(StatusCode::BAD_REQUEST, EXPIRED);
    };
    let reply = Reply::for_request(&provider, &interaction.request);
    if cancelled {
        state.interactions.remove(&id);
        return reply.error(ErrorCode::AccessDenied, "The person cancelled the sign-in.");
    }
    let Some(user) = user else {
        let client_name = provider.config().client(&interaction.request.client_id).map_or("", |c| c.name.as_str());
        return pages::SignIn {
            action: &provider.page("sign-in"),
            interaction: &id,
            client_name,
            login_hint: params.get("username"),
            error: Some("Wrong username or password."),
        }
        .render();
    };
    // A new session id at every sign-in (no session fixation).
    if let Some(old) = jar.get(SESSION_COOKIE) {
        state.sessions.remove(old.value());
    }
    let sid = state::random_token();
    let session_ttl = Provider::lifetime(provider.config().lifetimes.session_secs);
    state
        .sessions
        .insert(sid.clone(), Session { user_id: user.id.clone(), auth_time: now, expires_at: now + session_ttl });
    if let Some(stored) = state.interactions.get_mut(&id) {
        stored.signed_in_here = true;
        if stored.user_id.as_deref() != Some(user.id.as_str()) {
            stored.consented_here = false;
        }
    }
    let response = advance(&provider, &mut state, &id, Some(&sid));
    let cookie = Cookie::build((SESSION_COOKIE, sid)).path("/").http_only(true).same_site(SameSite::Lax).build();
    (jar.add(cookie), response).into_response()
}

/// `POST {issuer}/consent`: the consent page.
pub(crate) async fn consent(
    AxumState(provider): AxumState<Provider>,
    jar: CookieJar,
    PageForm(params): PageForm,
) -> Response {
    let id = params.get("interaction").unwrap_or_default().to_owned();
    let now = provider.now();
    let mut state = provider.state();
    let Some(interaction) = live_interaction(&state, &id, now) else {
        return pages::error(StatusCode::BAD_REQUEST, EXPIRED);
    };
    let session_id = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
    let session_user = session_id.as_deref().and_then(|sid| state.sessions.get(sid)).map(|s| s.user_id.clone());
    let Some(user_id) = interaction.user_id.clone().filter(|u| session_user.as_ref() == Some(u)) else {
        return pages::error(StatusCode::BAD_REQUEST, "The signed-in person changed; start again from the app.");
    };
    let reply = Reply::for_request(&provider, &interaction.request);
    match params.get("action") {
        Some("allow") => {
            state.record_consent(&user_id, &interaction.request.client_id, &interaction.request.scopes);
            if let Some(stored) = state.interactions.get_mut(&id) {
                stored.consented_here = true;
            }
            advance(&provider, &mut state, &id, session_id.as_deref())
        }
        _ => {
            state.interactions.remove(&id);
            reply.error(ErrorCode::AccessDenied, "The person did not allow access.")
        }
    }
}
