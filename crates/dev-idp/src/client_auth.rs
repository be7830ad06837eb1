//! Client authentication at the back-channel endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, or `none` for public clients.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::config::ClientConfig;
use crate::error::OAuthError;
use crate::params::Params;
use crate::provider::Provider;

/// Credentials from `Authorization: Basic` (RFC 6749 §2.3.1: both parts are
/// form-urlencoded before base64).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("The Authorization header is not valid client authentication.", true);
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// Authenticates the calling client.
pub(crate) fn authenticate<'p>(
    provider: &'p Provider,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'p ClientConfig, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    if let Some((id, secret)) = basic_credentials(headers)? {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request("Use one client authentication method, not two."));
        }
        if body_id.is_some_and(|body_id| body_id != id) {
            return Err(OAuthError::invalid_request("client_id differs from the Authorization header."));
        }
        let client = provider.config().client(&id);
        return match client.and_then(|c| c.client_secret.as_ref().map(|s| (c, s))) {
            Some((client, expected)) if expected.matches(&secret) => Ok(client),
            _ => Err(OAuthError::invalid_client("Client authentication failed.", true)),
        };
    }
    let Some(id) = body_id else {
        return Err(OAuthError::invalid_client("Client authentication is required (client_id).", false));
    };
    let Some(client) = provider.config().client(id) else {
        return Err(OAuthError::invalid_client("Client authentication failed.", false));
    };
    match (&client.client_secret, body_secret) {
        (Some(expected), Some(secret)) if expected.matches(secret) => Ok(client),
        (None, None) => Ok(client),
        (None, Some(_)) => Err(OAuthError::invalid_client("A public client must not send a client_secret.", false)),
        (Some(_), _) => Err(OAuthError::invalid_client("Client authentication failed.", false)),
    }
}
