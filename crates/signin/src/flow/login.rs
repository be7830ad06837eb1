//! Authorization Code + PKCE for a native app (RFC 6749 §4.1, RFC 7636,
//! RFC 8252, OIDC Core §3.1): [`begin`] makes the authorization URL and a
//! [`PendingLogin`]; [`complete`] consumes it with the provider's answer.

use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow, CoreTokenResponse, CoreUserInfoClaims};
use openidconnect::{
    ClaimsVerificationError, ClientId, CsrfToken, IssuerUrl, LoginHint, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse, UserInfoError,
};
use serde::Serialize;
use url::Url;

pub use super::callback::Callback;
use super::dpop::DpopKey;
use super::error::SigninError;
use super::id_token::check_auth_time;
pub(crate) use super::id_token::verified_claims;
pub use super::par::{BrowserUrl, ParMode, push};
use super::provider::Provider;
use crate::account::{AccountKey, IdTokenText, Identity, SignedIn, TokenSet};

/// The access-token lifetime assumed when the token response has no
/// `expires_in` (Okta's default: one hour).
pub(crate) const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Extra authorization parameters (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthOptions {
    /// `prompt`: space-separated `none`, `login`, `consent`, `select_account`
    /// (Okta: `login consent` to add or switch accounts).
    pub prompt: Option<String>,
    /// `login_hint`: prefills the provider's sign-in form.
    pub login_hint: Option<String>,
    /// `max_age`: how old the provider's session may be (0 forces a sign-in).
    pub max_age: Option<Duration>,
    /// Bind the tokens to a new key of this device (DPoP) when the provider
    /// offers it ([`dpop::key_for`](super::dpop::key_for)).
    pub dpop: bool,
    /// Whether the request is pushed first (RFC 9126).
    pub par: ParMode,
}

impl AuthOptions {
    /// For adding an account or switching users: the configured `prompt`
    /// (Tessera's default `login consent` forces credentials; `consent` alone
    /// may return the person whose provider session is alive) and a
    /// `login_hint` when the account is known.
    #[must_use]
    pub fn switching_account(prompt: Option<&str>, login_hint: Option<&str>) -> Self {
        Self {
            prompt: prompt.map(str::to_owned),
            login_hint: login_hint.map(str::to_owned),
            max_age: None,
            dpop: false,
            par: ParMode::Auto,
        }
    }
}

/// A sign-in waiting for the browser to come back. It remembers everything
/// the answer must match (RFC 9207 §2.4, RFC 8252 §8.9): issuer, client,
/// redirect, `state`, `nonce` and the PKCE verifier. It is consumed by
/// [`complete`], so a pending sign-in completes at most once.
#[derive(Debug)]
pub struct PendingLogin {
    issuer: IssuerUrl,
    client_id: ClientId,
    redirect_uri: RedirectUrl,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    scopes: Vec<String>,
    max_age: Option<Duration>,
    dpop: Option<Arc<DpopKey>>,
}

impl PendingLogin {
    /// The issuer the request went to.
    #[must_use]
    pub fn issuer(&self) -> &IssuerUrl {
        &self.issuer
    }

    /// The client.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The redirect URI sent.
    #[must_use]
    pub fn redirect_uri(&self) -> &RedirectUrl {
        &self.redirect_uri
    }

    /// The `state` sent, for finding the pending sign-in again (deep links).
    pub(crate) fn state(&self) -> &str {
        self.state.secret()
    }

    /// Whether `state` (a redirect's) is the one sent (RFC 8252 §8.9),
    /// compared in constant time: a listener that keeps waiting after a
    /// wrong guess must not tell how close it was.
    #[must_use]
    pub fn state_matches(&self, state: Option<&str>) -> bool {
        state.is_some_and(|state| constant_time_eq(state.as_bytes(), self.state.secret().as_bytes()))
    }

    /// The DPoP key the tokens will be bound to, if any.
    #[must_use]
    pub fn dpop_key(&self) -> Option<&DpopKey> {
        self.dpop.as_deref()
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Makes the authorization URL (PKCE S256, `state`, `nonce`, RFC 8252 §8.1,
/// §8.9) and the [`PendingLogin`] to complete it with (with a new DPoP key
/// when `options.dpop` and the provider offers DPoP, named in `dpop_jkt`).
///
/// # Errors
/// When the provider lacks the token or userinfo endpoint, or no DPoP key
/// can be made.
pub fn begin(
    provider: &Provider,
    client_id: &ClientId,
    redirect_uri: RedirectUrl,
    scopes: &[String],
    options: &AuthOptions,
) -> Result<(Url, PendingLogin), SigninError> {
    let client = provider.code_client(client_id)?.set_redirect_uri(redirect_uri.clone());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge);
    // openidconnect adds `openid` itself.
    for scope in scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    if let Some(prompt) = &options.prompt {
        for value in prompt.split_whitespace() {
            request = request.add_prompt(match value {
                "none" => CoreAuthPrompt::None,
                "login" => CoreAuthPrompt::Login,
                "consent" => CoreAuthPrompt::Consent,
                "select_account" => CoreAuthPrompt::SelectAccount,
                other => CoreAuthPrompt::Extension(other.to_owned()),
            });
        }
    }
    if let Some(hint) = &options.login_hint {
        request = request.set_login_hint(LoginHint::new(hint.clone()));
    }
    if let Some(max_age) = options.max_age {
        request = request.set_max_age(max_age);
    }
    let dpop = super::dpop::key_for(provider, options.dpop)?;
    // RFC 9449 §10: the code is bound to the key too, so a code taken on
    // its way back cannot be exchanged with another key.
    if let Some(key) = &dpop {
        request = request.add_extra_param("dpop_jkt", key.thumbprint().to_owned());
    }
    let (url, state, nonce) = request.url();
    let pending = PendingLogin {
        issuer: provider.issuer().clone(),
        client_id: client_id.clone(),
        redirect_uri,
        state,
        nonce,
        verifier,
        scopes: scopes.to_vec(),
        max_age: options.max_age,
        dpop,
    };
    Ok((url, pending))
}

/// Checks the provider's answer and exchanges the code: `state` (RFC 8252
/// §8.9), `iss` (RFC 9207 §2.4), the error (RFC 6749 §4.1.2.1), then the
/// token request with the PKCE verifier (RFC 7636 §4.5), the ID token
/// (OIDC Core §3.1.3.7, §3.1.3.8) and userinfo's `sub` (OIDC Core §5.3.2).
///
/// # Errors
/// One [`SigninError`] variant per failed check.
pub async fn complete(
    provider: &Provider,
    pending: PendingLogin,
    callback: &Callback,
) -> Result<SignedIn, SigninError> {
    let state = callback.state.as_deref().ok_or(SigninError::MissingState)?;
    if !pending.state_matches(Some(state)) {
        return Err(SigninError::StateMismatch);
    }
    if provider.issuer() != &pending.issuer {
        return Err(SigninError::IssuerMismatch {
            expected: pending.issuer.to_string(),
            got: provider.issuer().to_string(),
        });
    }
    match &callback.iss {
        Some(iss) if iss != pending.issuer.as_str() => {
            return Err(SigninError::IssuerMismatch { expected: pending.issuer.to_string(), got: iss.clone() });
        }
        None if provider.iss_parameter_supported() => return Err(SigninError::MissingIssuer),
        _ => {}
    }
    if let Some(error) = &callback.error {
        return Err(SigninError::Provider { error: error.clone(), description: callback.error_description.clone() });
    }
    let code = callback.code.clone().ok_or(SigninError::MissingCode)?;
    let client = provider.code_client(&pending.client_id)?.set_redirect_uri(pending.redirect_uri.clone());
    let response = client
        .exchange_code(code)
        .set_pkce_verifier(pending.verifier)
        .request_async(&provider.sender(pending.dpop.as_deref()))
        .await
        .map_err(token_error)?;
    let checks = Checks { nonce: Some(&pending.nonce), max_age: pending.max_age, scopes: &pending.scopes };
    finish(provider, &pending.client_id, &response, checks, pending.dpop).await
}

/// Maps a token request failure: the provider's own error, or the transport.
pub(crate) fn token_error<RE, T>(error: RequestTokenError<RE, oauth2::StandardErrorResponse<T>>) -> SigninError
where
    RE: std::error::Error + Send + Sync + 'static,
    T: oauth2::ErrorResponseType + std::fmt::Display + Send + Sync + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => SigninError::TokenEndpoint {
            error: code_name(response.error()),
            description: response.error_description().cloned(),
        },
        // The body of a response that could not be parsed may hold tokens:
        // keep the parser's message only.
        RequestTokenError::Parse(error, _body) => SigninError::MalformedTokenResponse { detail: error.to_string() },
        other => match (super::http::failure_in(&other), super::http::rate_limit_in(&other)) {
            (Some(failure), _) => SigninError::ProviderFailed(failure),
            (None, Some(limited)) => SigninError::RateLimited(limited),
            (None, None) => SigninError::TokenRequest(Box::new(other)),
        },
    }
}

/// The wire name of an error code enum (`access_denied`).
pub(crate) fn code_name<T: Serialize>(code: &T) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "unknown_error".to_owned(),
    }
}

/// What a token response is checked against.
pub(crate) struct Checks<'a> {
    /// The nonce sent, or `None` for grants without one.
    pub(crate) nonce: Option<&'a Nonce>,
    /// The `max_age` sent, if any (OIDC Core §3.1.3.7 step 13: `auth_time`
    /// must then be present and recent enough).
    pub(crate) max_age: Option<Duration>,
    /// The scopes asked for (granted when the response names none).
    pub(crate) scopes: &'a [String],
}

/// Verifies a token response and builds the [`SignedIn`] (shared by the code
/// and device flows). Userinfo is asked with the DPoP key the tokens are
/// bound to, if any.
pub(crate) async fn finish(
    provider: &Provider,
    client_id: &ClientId,
    response: &CoreTokenResponse,
    checks: Checks<'_>,
    dpop: Option<Arc<DpopKey>>,
) -> Result<SignedIn, SigninError> {
    let Checks { nonce, max_age, scopes: requested_scopes } = checks;
    let id_token = response.id_token().ok_or(SigninError::MissingIdToken)?;
    let claims = verified_claims(provider, client_id, id_token, response, nonce).await?;
    if let Some(max_age) = max_age {
        check_auth_time(&claims, max_age, provider.now())?;
    }
    let client = provider.code_client(client_id)?;
    let userinfo: CoreUserInfoClaims = client
        .user_info(response.access_token().clone(), Some(claims.subject().clone()))
        .request_async(&provider.sender(dpop.as_deref()))
        .await
        .map_err(|e| match e {
            UserInfoError::ClaimsVerification(ClaimsVerificationError::InvalidSubject(_)) => {
                SigninError::UserInfoSubjectMismatch
            }
            other => match (super::http::failure_in(&other), super::http::rate_limit_in(&other)) {
                (Some(failure), _) => SigninError::ProviderFailed(failure),
                (None, Some(limited)) => SigninError::RateLimited(limited),
                (None, None) => SigninError::UserInfo(Box::new(other)),
            },
        })?;
    if userinfo.subject() != claims.subject() {
        return Err(SigninError::UserInfoSubjectMismatch);
    }
    let text = |v: Option<String>, w: Option<String>| v.or(w);
    let identity = Identity {
        name: text(
            userinfo.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
            claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
        ),
        email: text(userinfo.email().map(|e| e.to_string()), claims.email().map(|e| e.to_string())),
        preferred_username: text(
            userinfo.preferred_username().map(|u| u.to_string()),
            claims.preferred_username().map(|u| u.to_string()),
        ),
    };
    let lifetime = response.expires_in().unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME);
    let scopes = response
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_else(|| requested_scopes.to_vec());
    Ok(SignedIn {
        key: AccountKey {
            issuer: claims.issuer().to_string(),
            client_id: client_id.to_string(),
            subject: claims.subject().to_string(),
        },
        identity,
        tokens: TokenSet {
            access_token: response.access_token().clone(),
            expires_in: lifetime,
            id_token: Some(IdTokenText::new(id_token.to_string())),
            scopes,
            dpop,
        },
        refresh_token: response.refresh_token().cloned(),
    })
}

#[cfg(test)]
mod tests;
