//! The client-credentials grant (RFC 6749 §4.4): a service gets an access
//! token with its own identity, no person involved. It authenticates at the
//! token endpoint (from discovery, never from a setting) with a client
//! secret (`client_secret_basic`, RFC 6749 §2.3.1) or a private key
//! (`private_key_jwt`, RFC 7523 §2.2 and OIDC Core §9, what Okta recommends
//! for service apps): a short-lived JWT signed with the key, with `iss` =
//! `sub` = the client id, `aud` the token endpoint, a fresh `jti` and an
//! `exp` a few minutes away, made anew for each request.
//!
//! There is no refresh token: when the access token expires, the service
//! asks again ([`request`]). The answer is a [`TokenSet`] like the other
//! flows', without an ID token (nobody signed in).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openidconnect::core::CoreClient;
use openidconnect::{AuthType, ClientId, ClientSecret, CsrfToken, OAuth2TokenResponse, RequestTokenError, Scope};
use serde::Serialize;

use super::error::SigninError;
use super::login::{DEFAULT_ACCESS_TOKEN_LIFETIME, code_name};
use super::provider::Provider;
use crate::account::TokenSet;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is good for: long enough for one request,
/// short enough that a copy is soon useless (Okta takes at most an hour).
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

/// How the service proves who it is at the token endpoint.
#[derive(Clone)]
pub enum ClientAuth {
    /// A client secret, sent with HTTP Basic (`client_secret_basic`).
    /// `Debug` prints `[redacted]`.
    Secret(ClientSecret),
    /// A private key signing a client assertion (`private_key_jwt`).
    PrivateKey(Arc<ClientKey>),
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("ClientAuth::Secret([redacted])"),
            Self::PrivateKey(key) => write!(f, "ClientAuth::PrivateKey({key:?})"),
        }
    }
}

/// A service's private key for `private_key_jwt`: RSA (signing RS256) or
/// an EC P-256 key in PKCS#8 (signing ES256), read from a PEM file. Never
/// printed; only its algorithm shows in `Debug`.
pub struct ClientKey {
    encoding: EncodingKey,
    algorithm: Algorithm,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKey({:?}, [redacted])", self.algorithm)
    }
}

/// The claims of a client assertion (RFC 7523 §3).
#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

impl ClientKey {
    /// Reads a PEM private key: RSA (`RSA PRIVATE KEY` or `PRIVATE KEY`)
    /// for RS256, else an EC P-256 key in PKCS#8 (`PRIVATE KEY`) for ES256.
    ///
    /// # Errors
    /// [`SigninError::PrivateKey`] naming `shown` (the file) when it is
    /// neither.
    pub fn from_pem(pem: &[u8], shown: &str) -> Result<Self, SigninError> {
        if let Ok(encoding) = EncodingKey::from_rsa_pem(pem) {
            return Ok(Self { encoding, algorithm: Algorithm::RS256 });
        }
        if let Ok(encoding) = EncodingKey::from_ec_pem(pem) {
            return Ok(Self { encoding, algorithm: Algorithm::ES256 });
        }
        Err(SigninError::PrivateKey {
            path: shown.to_owned(),
            problem: "it is not a PEM private key (RSA, or EC P-256 in PKCS#8: `openssl pkcs8 -topk8 -nocrypt`)"
                .to_owned(),
        })
    }

    /// Reads the PEM private key at `path` (see [`from_pem`](Self::from_pem)).
    ///
    /// # Errors
    /// [`SigninError::PrivateKey`] when it cannot be read or used.
    pub fn load(path: &Path) -> Result<Self, SigninError> {
        let shown = path.display().to_string();
        let pem = std::fs::read(path)
            .map_err(|error| SigninError::PrivateKey { path: shown.clone(), problem: error.to_string() })?;
        Self::from_pem(&pem, &shown)
    }

    /// The algorithm the key signs with (`RS256` or `ES256`).
    #[must_use]
    pub fn algorithm(&self) -> &'static str {
        match self.algorithm {
            Algorithm::ES256 => "ES256",
            _ => "RS256",
        }
    }

    /// A client assertion for `client_id` to `audience` (the token
    /// endpoint), made at `now` (Unix seconds): a fresh `jti` and an `exp`
    /// [`ASSERTION_LIFETIME`] away.
    ///
    /// # Errors
    /// [`SigninError::PrivateKey`] when signing fails (an EC key on
    /// another curve than P-256).
    pub fn assertion(&self, client_id: &str, audience: &str, now: u64) -> Result<String, SigninError> {
        let claims = AssertionClaims {
            iss: client_id,
            sub: client_id,
            aud: audience,
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs(),
            jti: CsrfToken::new_random().secret().clone(),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding).map_err(|error| {
            SigninError::PrivateKey { path: "(the service's key)".to_owned(), problem: error.to_string() }
        })
    }
}

/// Asks `provider`'s token endpoint for an access token for the service
/// `client_id`, authenticated by `auth`, with `scopes` (none: the ones the
/// provider grants by default). No redirect is followed; a 429 is
/// [`SigninError::RateLimited`], a 5xx [`SigninError::ProviderFailed`].
///
/// # Errors
/// [`SigninError::ClientRefused`] when the provider refuses the service's
/// credentials (`invalid_client`, `unauthorized_client`),
/// [`SigninError::TokenEndpoint`] for any other refusal (`invalid_scope`),
/// [`SigninError::MissingEndpoint`], [`SigninError::PrivateKey`], network
/// errors.
pub async fn request(
    provider: &Provider,
    client_id: &ClientId,
    auth: &ClientAuth,
    scopes: &[String],
) -> Result<TokenSet, SigninError> {
    let token_url = provider.metadata().token_endpoint().cloned().ok_or(SigninError::MissingEndpoint("token"))?;
    let client =
        CoreClient::new(client_id.clone(), provider.issuer().clone(), provider.keys()).set_token_uri(token_url.clone());
    let client = match auth {
        ClientAuth::Secret(secret) => client.set_client_secret(secret.clone()).set_auth_type(AuthType::BasicAuth),
        ClientAuth::PrivateKey(_) => client.set_auth_type(AuthType::RequestBody),
    };
    let mut request = client.exchange_client_credentials().add_scopes(scopes.iter().cloned().map(Scope::new));
    if let ClientAuth::PrivateKey(key) = auth {
        let now = provider.now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let assertion = key.assertion(client_id.as_str(), token_url.as_str(), now)?;
        request = request
            .add_extra_param("client_assertion_type", ASSERTION_TYPE)
            .add_extra_param("client_assertion", assertion);
    }
    let response = request.request_async(&provider.sender(None)).await.map_err(|error| match error {
        RequestTokenError::ServerResponse(response)
            if matches!(code_name(response.error()).as_str(), "invalid_client" | "unauthorized_client") =>
        {
            SigninError::ClientRefused {
                client_id: client_id.to_string(),
                error: code_name(response.error()),
                description: response.error_description().cloned(),
            }
        }
        other => super::login::token_error(other),
    })?;
    let scopes = response
        .scopes()
        .map(|granted| granted.iter().map(|s| s.to_string()).collect())
        .unwrap_or_else(|| scopes.to_vec());
    Ok(TokenSet {
        access_token: response.access_token().clone(),
        expires_in: response.expires_in().unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME),
        id_token: None,
        scopes,
        dpop: None,
    })
}

#[cfg(test)]
mod tests;
