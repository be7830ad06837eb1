//! Pushed authorization requests (RFC 9126): the request's parameters go
//! to the provider directly, the browser gets only a one-time reference.

use serde::Deserialize;
use url::Url;

use super::error::SigninError;
use super::http::HttpError;
use super::provider::Provider;

/// The URL the browser opens for the authorization `url` made by [`begin`](super::login::begin):
/// when the provider takes pushed authorization requests (RFC 9126: its
/// discovery names a `pushed_authorization_request_endpoint`), the request's
/// parameters are posted there first and the browser gets only `client_id`
/// and the one-time `request_uri`, so nothing of the request (scopes, PKCE
/// challenge, `state`, `nonce`) passes through the browser or can be changed
/// there. Otherwise `url` as it is.
///
/// # Errors
/// [`SigninError::PushRefused`] when the provider refuses the request,
/// [`SigninError::Push`] when it cannot be pushed or the provider requires
/// pushed requests but names no endpoint.
pub async fn push(provider: &Provider, url: Url) -> Result<Url, SigninError> {
    let Some(endpoint) = provider.par_endpoint() else {
        if provider.requires_par() {
            return Err(SigninError::Push("the provider requires pushed requests but names no endpoint".into()));
        }
        return Ok(url);
    };
    let form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let client_id = form.iter().find(|(name, _)| name == "client_id").map(|(_, v)| v.clone()).unwrap_or_default();
    let http = provider.http();
    let request = http.reqwest().post(endpoint.clone()).header("accept", "application/json").form(&form);
    let (response, body) = http.send(request).await.map_err(|e| match e {
        HttpError::Failed(failure) => SigninError::ProviderFailed(failure),
        other => SigninError::Push(Box::new(other)),
    })?;
    let status = response.status();
    if status.is_client_error() {
        let refusal: PushError = serde_json::from_slice(&body)
            .map_err(|_| SigninError::Push(format!("the provider answered {status}").into()))?;
        return Err(SigninError::PushRefused { error: refusal.error, description: refusal.error_description });
    }
    if !status.is_success() {
        return Err(SigninError::Push(format!("the provider answered {status}").into()));
    }
    let pushed: Pushed = serde_json::from_slice(&body)
        .map_err(|e| SigninError::Push(format!("the answer is not RFC 9126's: {e}").into()))?;
    let mut browser_url = provider.metadata().authorization_endpoint().url().clone();
    browser_url.query_pairs_mut().append_pair("client_id", &client_id).append_pair("request_uri", &pushed.request_uri);
    Ok(browser_url)
}

/// A pushed request's answer (RFC 9126 §2.2).
#[derive(Deserialize)]
struct Pushed {
    request_uri: String,
}

/// A pushed request's refusal (RFC 9126 §2.3).
#[derive(Deserialize)]
struct PushError {
    error: String,
    error_description: Option<String>,
}
