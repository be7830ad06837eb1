//! The device authorization grant (RFC 8628): the device authorization
//! endpoint and the verification page at `/activate`.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rand::Rng as _;
use serde_json::json;

use crate::authorize::SESSION_COOKIE;
use crate::client_auth;
use crate::config::{UserConfig, grant};
use crate::error::{ErrorCode, OAuthError};
use crate::pages::{self, PageForm, escape};
use crate::params::{Params, split_scope};
use crate::provider::Provider;
use crate::state::{self, DeviceAuthorization, DeviceStatus, Session};

/// RFC 8628 §6.1: consonants only, no vowels to spell words with, 8 letters.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let letters: String =
        (0..8).map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())])).collect();
    format!("{}-{}", &letters[..4], &letters[4..])
}

/// What a person types, reduced to the stored form `XXXX-XXXX`.
fn normalize_user_code(input: &str) -> String {
    let letters: String = input.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_uppercase()).collect();
    if letters.len() == 8 { format!("{}-{}", &letters[..4], &letters[4..]) } else { letters }
}

/// `POST {issuer}/v1/device/authorize` (RFC 8628 §3.1, §3.2).
pub(crate) async fn device_authorization(
    AxumState(provider): AxumState<Provider>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let params = Params::from_form(&headers, &body).map_err(OAuthError::invalid_request)?;
        if let Some(name) = params.repeated() {
            return Err(OAuthError::invalid_request(format!("The parameter {name} appears more than once.")));
        }
        let client = client_auth::authenticate(&provider, &headers, &params)?;
        if !client.allows_grant(grant::DEVICE_CODE) {
            return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "The client may not use the device grant."));
        }
        let scope = params.require("scope")?;
        let scopes = split_scope(scope);
        for scope in &scopes {
            if !provider.config().knows_scope(scope) || !client.allows_scope(scope) {
                return Err(OAuthError::new(ErrorCode::InvalidScope, format!("The scope {scope:?} is not allowed.")));
            }
        }
        let now = provider.now();
        let lifetime = provider.config().lifetimes.device_code_secs;
        let interval = provider.config().device.poll_interval_secs;
        let device_code = state::random_token();
        let mut state = provider.state();
        let user_code = loop {
            let code = new_user_code();
            if !state.devices.values().any(|d| d.user_code == code) {
                break code;
            }
        };
        state.devices.insert(
            state::token_hash(&device_code),
            DeviceAuthorization {
                client_id: client.client_id.clone(),
                scopes,
                user_code: user_code.clone(),
                expires_at: now + Duration::from_secs(lifetime),
                interval: Duration::from_secs(interval),
                last_poll: None,
                status: DeviceStatus::Pending,
            },
        );
        state.sweep(now);
        let verification_uri = provider.verification_uri();
        let complete = format!("{verification_uri}?user_code={user_code}");
        Ok(json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": complete,
            "expires_in": lifetime,
            "interval": interval,
        }))
    })();
    match result {
        Ok(body) => {
            let mut response = Json(body).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => error.into_response(),
    }
}

/// The pending authorization a user code names, if it is still pending.
fn pending(provider: &Provider, user_code: &str) -> Option<(String, DeviceAuthorization)> {
    let now = provider.now();
    let state = provider.state();
    state
        .devices
        .iter()
        .find(|(_, d)| d.user_code == user_code && d.status == DeviceStatus::Pending && d.expires_at > now)
        .map(|(hash, d)| (hash.clone(), d.clone()))
}

fn signed_in_user<'p>(provider: &'p Provider, jar: &CookieJar) -> Option<&'p UserConfig> {
    let now = provider.now();
    let sid = jar.get(SESSION_COOKIE)?;
    let user_id = provider.state().sessions.get(sid.value()).filter(|s| s.expires_at > now)?.user_id.clone();
    provider.config().user(&user_id)
}

fn enter_code_page(error: Option<&str>) -> Response {
    let error = error.map_or_else(String::new, |e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)));
    let body = format!(
        "<h1>Activate a device</h1><p class=\"sub\">Enter the code shown on your device.</p>{error}\
         <form id=\"device-code\" method=\"get\" action=\"/activate\">\
         <label for=\"user_code\">Code</label>\
         <input type=\"text\" id=\"user_code\" name=\"user_code\" autocomplete=\"off\" autofocus>\
         <div class=\"buttons\"><button class=\"primary\" type=\"submit\">Next</button></div></form>"
    );
    pages::page(if error.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST }, "Activate a device", &body)
}

fn approve_page(
    provider: &Provider,
    device: &DeviceAuthorization,
    user: Option<&UserConfig>,
    error: Option<&str>,
) -> Response {
    let client_name = provider.config().client(&device.client_id).map_or("", |c| c.name.as_str());
    let scopes: Vec<_> =
        device.scopes.iter().filter_map(|name| provider.config().scopes.iter().find(|s| &s.name == name)).collect();
    let who = match user {
        Some(user) => format!("<p>Signed in as <strong>{}</strong>.</p>", escape(&user.name)),
        None => "<label for=\"username\">Username</label>\
                 <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\">\
                 <label for=\"password\">Password</label>\
                 <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">"
            .to_owned(),
    };
    let error = error.map_or_else(String::new, |e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)));
    let body = format!(
        "<h1>Activate {client}</h1><p class=\"sub\">Code <strong>{code}</strong>. {client} will be able to:</p>\
         {scopes}{error}<form id=\"device\" method=\"post\" action=\"/activate\">\
         <input type=\"hidden\" name=\"user_code\" value=\"{code}\">{who}\
         <div class=\"buttons\"><button class=\"primary\" type=\"submit\" name=\"action\" value=\"approve\">Allow</button>\
         <button class=\"secondary\" type=\"submit\" name=\"action\" value=\"deny\">Deny</button></div></form>",
        client = escape(client_name),
        code = escape(&device.user_code),
        scopes = pages::scope_list(&scopes),
    );
    pages::page(StatusCode::OK, "Activate a device", &body)
}

/// `GET /activate[?user_code=…]`: the verification page (RFC 8628 §3.3).
pub(crate) async fn activate_page(
    AxumState(provider): AxumState<Provider>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let Some(input) = params.get("user_code") else {
        return enter_code_page(None);
    };
    match pending(&provider, &normalize_user_code(input)) {
        Some((_, device)) => approve_page(&provider, &device, signed_in_user(&provider, &jar), None),
        None => enter_code_page(Some("That code is not valid or has expired.")),
    }
}

/// `POST /activate`: the person allows or denies the device.
pub(crate) async fn activate_submit(
    AxumState(provider): AxumState<Provider>,
    jar: CookieJar,
    PageForm(params): PageForm,
) -> Response {
    let user_code = normalize_user_code(params.get("user_code").unwrap_or_default());
    let Some((hash, device)) = pending(&provider, &user_code) else {
        return enter_code_page(Some("That code is not valid or has expired."));
    };
    if params.get("action") != Some("approve") {
        if let Some(stored) = provider.state().devices.get_mut(&hash) {
            stored.status = DeviceStatus::Denied;
        }
        return pages::message("Access denied", "The device was not allowed. You can close this window.");
    }
    let session_user = signed_in_user(&provider, &jar);
    let (user, new_session) = match session_user {
        Some(user) => (user, None),
        None => {
            let username = params.get("username").unwrap_or_default();
            let password = params.get("password").unwrap_or_default();
            match provider.config().authenticate(username, password) {
                Some(user) => (user, Some(state::random_token())),
                None => return approve_page(&provider, &device, None, Some("Wrong username or password.")),
            }
        }
    };
    let now = provider.now();
    let session_ttl = Duration::from_secs(provider.config().lifetimes.session_secs);
    {
        let mut state = provider.state();
        let auth_time = match &new_session {
            Some(sid) => {
                state.sessions.insert(
                    sid.clone(),
                    Session { user_id: user.id.clone(), auth_time: now, expires_at: now + session_ttl },
                );
                now
            }
            None => jar.get(SESSION_COOKIE).and_then(|c| state.sessions.get(c.value())).map_or(now, |s| s.auth_time),
        };
        match state.devices.get_mut(&hash) {
            Some(stored) if stored.status == DeviceStatus::Pending => {
                stored.status = DeviceStatus::Approved { user_id: user.id.clone(), auth_time };
            }
            _ => return enter_code_page(Some("That code is not valid or has expired.")),
        }
    }
    let page = pages::message("Device connected", "Your device is now signed in. You can close this window.");
    match new_session {
        Some(sid) => {
            let cookie =
                Cookie::build((SESSION_COOKIE, sid)).path("/").http_only(true).same_site(SameSite::Lax).build();
            (jar.add(cookie), page).into_response()
        }
        None => page,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_consonants_and_normalize_from_what_people_type() {
        let code = new_user_code();
        assert_eq!(code.len(), 9);
        assert!(code.chars().filter(|c| *c != '-').all(|c| USER_CODE_ALPHABET.contains(&(c as u8))));
        assert_eq!(normalize_user_code("bcdf ghjk"), "BCDF-GHJK");
        assert_eq!(normalize_user_code(&code.to_lowercase()), code);
    }
}
