//! Pushed authorization requests (RFC 9126): the request's parameters go
//! to the provider directly, the browser gets only a one-time reference.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::error::SigninError;
use super::http::HttpError;
use super::provider::Provider;

/// Whether authorization requests are pushed first (RFC 9126).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ParMode {
    /// Pushed when the provider offers it; when it refuses the push (the
    /// org has not allowed it for this client), a plain request instead.
    #[default]
    Auto,
    /// Always pushed; a provider that does not offer it is an error.
    Always,
    /// Never pushed: the request's parameters travel in the browser's URL.
    Never,
}

impl ParMode {
    /// Reads a setting: `auto`, `always` or `never`.
    ///
    /// # Errors
    /// [`SigninError::InvalidSetting`] naming `setting`.
    pub fn parse(setting: &str, value: &str) -> Result<Self, SigninError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            other => Err(SigninError::InvalidSetting {
                setting: setting.to_owned(),
                message: format!("{other:?} is not auto, always or never"),
            }),
        }
    }
}

/// What the browser opens: the authorization URL, and how long it works
/// when it refers to a pushed request (`None`: as long as the sign-in).
#[derive(Debug, Clone)]
pub struct BrowserUrl {
    /// The URL.
    pub url: Url,
    /// The pushed request's lifetime (`expires_in`, RFC 9126 §2.2).
    pub expires_in: Option<Duration>,
}

/// The URL the browser opens for the authorization `url` made by [`begin`](super::login::begin):
/// when the provider takes pushed authorization requests (RFC 9126: its
/// discovery names a `pushed_authorization_request_endpoint`) and `mode`
/// allows, the request's parameters are posted there first and the browser
/// gets only `client_id` and the one-time `request_uri`, so nothing of the
/// request (scopes, PKCE challenge, `state`, `nonce`) passes through the
/// browser or can be changed there. Otherwise `url` as it is. With
/// [`ParMode::Auto`], a push refused as not allowed for this client falls
/// back to `url`, unless the provider requires pushed requests.
///
/// # Errors
/// [`SigninError::PushRefused`] when the provider refuses the request
/// ([`ParMode::Always`], or a provider that requires pushed requests),
/// [`SigninError::Push`] when it cannot be pushed, the provider requires
/// pushed requests but names no endpoint, or `Always` meets a provider
/// without one.
pub async fn push(provider: &Provider, url: Url, mode: ParMode) -> Result<BrowserUrl, SigninError> {
    let plain = |url: Url| Ok(BrowserUrl { url, expires_in: None });
    if mode == ParMode::Never && !provider.requires_par() {
        return plain(url);
    }
    let Some(endpoint) = provider.par_endpoint() else {
        if provider.requires_par() {
            return Err(SigninError::Push("the provider requires pushed requests but names no endpoint".into()));
        }
        if mode == ParMode::Always {
            return Err(SigninError::Push("pushed requests are asked for, but the provider offers none".into()));
        }
        return plain(url);
    };
    match push_to(provider, endpoint, &url).await {
        Err(SigninError::PushRefused { error, .. })
            if mode == ParMode::Auto && !provider.requires_par() && NOT_ALLOWED.contains(&error.as_str()) =>
        {
            tracing::warn!(%error, "the provider does not take pushed requests from this client; a plain one instead");
            plain(url)
        }
        other => other,
    }
}

/// The refusals that say pushing is not allowed for this client (RFC 6749
/// §5.2's `unauthorized_client`, or a policy's `access_denied`), after which
/// [`ParMode::Auto`] sends a plain request. Any other refusal (a bad scope,
/// a redirect URI not registered) would be refused there too, and is told.
const NOT_ALLOWED: [&str; 2] = ["unauthorized_client", "access_denied"];

async fn push_to(provider: &Provider, endpoint: &Url, url: &Url) -> Result<BrowserUrl, SigninError> {
    let form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let client_id = form.iter().find(|(name, _)| name == "client_id").map(|(_, v)| v.clone()).unwrap_or_default();
    let http = provider.http();
    let request = http.reqwest().post(endpoint.clone()).header("accept", "application/json").form(&form);
    let (response, body) = http.send(request).await.map_err(|e| match e {
        HttpError::Failed(failure) => SigninError::ProviderFailed(failure),
        HttpError::RateLimited(limited) => SigninError::RateLimited(limited),
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
    Ok(BrowserUrl { url: browser_url, expires_in: pushed.expires_in.map(Duration::from_secs) })
}

/// A pushed request's answer (RFC 9126 §2.2).
#[derive(Deserialize)]
struct Pushed {
    request_uri: String,
    expires_in: Option<u64>,
}

/// A pushed request's refusal (RFC 9126 §2.3).
#[derive(Deserialize)]
struct PushError {
    error: String,
    error_description: Option<String>,
}
