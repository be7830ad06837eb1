//! The refresh exchange (RFC 6749 §6, OIDC Core §12): one request, its
//! checks, the new tokens and whether the refresh token rotated. The policy around it (when to refresh, one
//! refresh in flight per account, saving a rotated token) lives with the
//! accounts.

use std::sync::Arc;

use openidconnect::{ClientId, OAuth2TokenResponse, RefreshToken, Scope, TokenResponse};

use super::dpop::DpopKey;
use super::error::SigninError;
use super::login::{DEFAULT_ACCESS_TOKEN_LIFETIME, token_error, verified_claims};
use super::provider::Provider;
use crate::account::{AccountKey, IdTokenText, Refreshed, Rotation, TokenSet};

/// Exchanges `refresh_token` for new tokens for the account `key`.
///
/// - A new ID token, when sent, is verified like a sign-in's (without a
///   nonce) and must keep the account's `iss` and `sub` (OIDC Core §12.2);
///   a response without one is normal (`id_token` is then `None`: keep the
///   old one for `id_token_hint`).
/// - A new refresh token is [`Rotation::Rotated`]; when the provider sends
///   none (or the same one), the one used stays valid:
///   [`Rotation::Unchanged`].
/// - `scopes`: `None` keeps the granted scopes; a narrower list asks for less
///   (RFC 6749 §6: never more).
/// - `dpop`: the key a DPoP-bound refresh token is bound to; the request
///   carries a proof from it and the new tokens stay bound to it.
///
/// # Errors
/// [`SigninError::RefreshTokenRejected`] on `invalid_grant` (the account
/// needs an interactive sign-in), [`SigninError::IdentityChanged`],
/// [`SigninError::IssuerMismatch`] when `key` belongs to another provider, or
/// any ID-token error.
pub async fn refresh(
    provider: &Provider,
    key: &AccountKey,
    refresh_token: &RefreshToken,
    scopes: Option<&[String]>,
    dpop: Option<Arc<DpopKey>>,
) -> Result<Refreshed, SigninError> {
    if provider.issuer().as_str() != key.issuer {
        return Err(SigninError::IssuerMismatch { expected: key.issuer.clone(), got: provider.issuer().to_string() });
    }
    let client_id = ClientId::new(key.client_id.clone());
    let client = provider.code_client(&client_id)?;
    let mut request = client.exchange_refresh_token(refresh_token);
    if let Some(scopes) = scopes {
        request = request.add_scopes(scopes.iter().cloned().map(Scope::new));
    }
    let response =
        request.request_async(&provider.sender(dpop.as_deref())).await.map_err(|error| match token_error(error) {
            SigninError::TokenEndpoint { error, description } if error == "invalid_grant" => {
                SigninError::RefreshTokenRejected { description }
            }
            other => other,
        })?;
    let id_token = match response.id_token() {
        Some(id_token) => {
            let claims = verified_claims(provider, &client_id, id_token, &response, None).await?;
            if claims.issuer().as_str() != key.issuer || claims.subject().as_str() != key.subject {
                return Err(SigninError::IdentityChanged);
            }
            Some(IdTokenText::new(id_token.to_string()))
        }
        None => None,
    };
    let scopes = response
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .or_else(|| scopes.map(<[String]>::to_vec))
        .unwrap_or_default();
    let rotation = match response.refresh_token() {
        Some(new) if new.secret() != refresh_token.secret() => Rotation::Rotated(new.clone()),
        _ => Rotation::Unchanged,
    };
    Ok(Refreshed {
        tokens: TokenSet {
            access_token: response.access_token().clone(),
            expires_in: response.expires_in().unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME),
            id_token,
            scopes,
            dpop,
        },
        refresh_token: rotation,
    })
}
