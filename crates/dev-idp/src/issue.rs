//! Minting tokens: Okta-shaped access tokens, ID tokens (OIDC Core §2) and
//! opaque refresh tokens.

use crate::misbehave::Misbehavior;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::UserConfig;
use crate::error::{ErrorCode, OAuthError};
use crate::provider::Provider;
use crate::state::{self, AccessToken, RefreshToken, State};
use clock::unix_seconds;

/// The claims of an access token, as Okta's custom authorization servers
/// issue them (`ver, jti, iss, aud, iat, exp, cid, uid, scp, sub`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub(crate) ver: u32,
    pub(crate) jti: String,
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) cid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) uid: Option<String>,
    pub(crate) scp: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auth_time: Option<u64>,
    pub(crate) sub: String,
    /// The key the token is bound to (RFC 9449 §6.1: `{"jkt": …}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cnf: Option<Confirmation>,
}

/// A token's confirmation claim (RFC 7800, RFC 9449 §6).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Confirmation {
    /// The JWK SHA-256 thumbprint of the DPoP key.
    pub(crate) jkt: String,
}

/// The claims of an ID token (OIDC Core §2, §5.1; Okta's `ver`, `idp`, `amr`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdClaims {
    pub(crate) ver: u32,
    pub(crate) jti: String,
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) sub: String,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) auth_time: u64,
    pub(crate) amr: Vec<String>,
    pub(crate) idp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email_verified: Option<bool>,
}

/// The successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    /// Always there, unless the provider misbehaves on purpose (tests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_type: Option<&'static str>,
    pub(crate) expires_in: u64,
    pub(crate) access_token: String,
    pub(crate) scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
}

/// What to do about the refresh token of a response.
#[derive(Debug)]
pub(crate) enum Refresh {
    /// No refresh token.
    None,
    /// A new one in the grant's family.
    Issue,
    /// Answer the one presented again (rotation off).
    Keep(String),
}

/// What one token response is made of.
pub(crate) struct Issue<'a> {
    pub(crate) grant_id: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) user: Option<&'a UserConfig>,
    pub(crate) scopes: &'a [String],
    pub(crate) auth_time: Option<SystemTime>,
    pub(crate) nonce: Option<&'a str>,
    pub(crate) refresh: Refresh,
    /// The DPoP key to bind the access token to.
    pub(crate) jkt: Option<&'a str>,
}

/// The Okta org id that ID tokens name in `idp`.
const IDP_ID: &str = "00o0devidp000000000";

fn has(scopes: &[String], scope: &str) -> bool {
    scopes.iter().any(|s| s == scope)
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of SHA-256 of the access token.
pub(crate) fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn signing_failed(error: &jsonwebtoken::errors::Error) -> OAuthError {
    tracing::error!(%error, "cannot sign a token");
    OAuthError::new(ErrorCode::ServerError, "The provider could not sign the token.")
}

impl Provider {
    /// Mints the tokens of one response and records them in `state`.
    pub(crate) fn issue(&self, state: &mut State, issue: Issue<'_>) -> Result<TokenResponse, OAuthError> {
        let now = self.now();
        let faults = self.faults();
        let iat = unix_seconds(now);
        let lifetimes = &self.config().lifetimes;
        let access_ttl = lifetimes.access_token_secs;
        let jti = format!("AT.{}", state::random_token());
        let access = AccessClaims {
            ver: 1,
            jti: jti.clone(),
            iss: self.issuer().to_owned(),
            aud: self.access_token_audience().to_owned(),
            iat,
            exp: iat + access_ttl,
            cid: issue.client_id.to_owned(),
            uid: issue.user.map(|u| u.id.clone()),
            scp: issue.scopes.to_vec(),
            auth_time: issue.auth_time.map(unix_seconds),
            // Okta: the login for people, the client id for client credentials.
            sub: issue.user.map_or_else(|| issue.client_id.to_owned(), |u| u.login.clone()),
            cnf: issue.jkt.map(|jkt| Confirmation { jkt: jkt.to_owned() }),
        };
        let access_token = self.keys().sign(&access).map_err(|e| signing_failed(&e))?;

        let id_token = match (issue.user, has(issue.scopes, "openid")) {
            (Some(user), true) => {
                let profile = has(issue.scopes, "profile");
                let email = has(issue.scopes, "email");
                let claims = IdClaims {
                    ver: 1,
                    jti: format!("ID.{}", state::random_token()),
                    iss: self.issuer().to_owned(),
                    aud: issue.client_id.to_owned(),
                    sub: user.id.clone(),
                    iat,
                    exp: iat + lifetimes.id_token_secs,
                    auth_time: issue.auth_time.map_or(iat, unix_seconds),
                    amr: vec!["pwd".to_owned()],
                    idp: IDP_ID.to_owned(),
                    nonce: issue.nonce.map(str::to_owned),
                    at_hash: Some(at_hash(&access_token)),
                    name: profile.then(|| user.name.clone()),
                    preferred_username: profile.then(|| user.login.clone()),
                    given_name: profile.then(|| user.given_name.clone()),
                    family_name: profile.then(|| user.family_name.clone()),
                    email: email.then(|| user.email.clone()),
                    email_verified: email.then_some(true),
                };
                // Only a misbehaving provider (tests) spends a detour on it.
                let spoiled = if faults.iter().any(|f| f.in_id_token()) {
                    let value = serde_json::to_value(&claims).map_err(|_| {
                        OAuthError::new(ErrorCode::ServerError, "The provider could not encode the ID token.")
                    })?;
                    crate::misbehave::spoil_id_token(&self.keys(), &value, &faults)
                } else {
                    None
                };
                match spoiled {
                    Some(spoiled) => Some(spoiled),
                    None => Some(self.keys().sign(&claims).map_err(|e| signing_failed(&e))?),
                }
            }
            _ => None,
        };

        let refresh_token = match issue.refresh {
            Refresh::None => None,
            Refresh::Keep(token) => Some(token),
            Refresh::Issue => {
                let token = state::random_token();
                state.refresh_tokens.insert(
                    state::token_hash(&token),
                    RefreshToken {
                        grant_id: issue.grant_id.to_owned(),
                        issued_at: now,
                        expires_at: now + Self::lifetime(lifetimes.refresh_token_secs),
                        rotated_at: None,
                        revoked: false,
                    },
                );
                Some(token)
            }
        };

        state.access_tokens.insert(
            jti,
            AccessToken {
                grant_id: issue.grant_id.to_owned(),
                expires_at: now + Self::lifetime(access_ttl),
                revoked: false,
            },
        );
        state.sweep(now);
        let token_type = if issue.jkt.is_some() {
            Some("DPoP")
        } else if faults.contains(&Misbehavior::TokenTypeMissing) {
            None
        } else if faults.contains(&Misbehavior::TokenTypeLowercase) {
            Some("bearer")
        } else {
            Some("Bearer")
        };
        Ok(TokenResponse {
            token_type,
            expires_in: access_ttl,
            access_token,
            scope: issue.scopes.join(" "),
            id_token,
            refresh_token,
        })
    }

    /// Checks an access token this provider issued: signature, issuer,
    /// audience, expiry (by the provider's clock) and revocation.
    pub(crate) fn verify_access_token(&self, token: &str) -> Option<AccessClaims> {
        let mut validation = crate::keys::validation(self.issuer());
        validation.set_audience(&[self.access_token_audience()]);
        validation.validate_exp = false; // checked below against the provider's clock
        let claims: AccessClaims = self.keys().verify(token, &validation).ok()?;
        if claims.exp <= unix_seconds(self.now()) {
            return None;
        }
        let state = self.state();
        let record = state.access_tokens.get(&claims.jti)?;
        (!record.revoked).then_some(claims)
    }
}
