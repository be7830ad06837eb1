//! Signing out: the refresh token revoked (RFC 7009) at the issuer that
//! issued it, with the client id it was issued to, the saved sign-in
//! forgotten, the account removed, and the RP-initiated logout URL (OIDC
//! RP-Initiated Logout 1.0) of that same issuer answered for the app to
//! open. Never the configured issuer's when the account is another's.

use oauth2::RefreshToken;
use url::Url;

use super::{Session, SessionError, lock};
use crate::account::{AccountKey, IdTokenText};
use crate::accounts::Account;
use crate::flow::SigninError;
use crate::flow::http::HttpError;
use crate::flow::provider::Provider;

/// What a sign-out did.
#[derive(Debug)]
pub struct SignedOut {
    /// The account removed.
    pub account: Account,
    /// The RP-initiated logout URL to open in the browser, when the
    /// account's own issuer has an `end_session_endpoint`.
    pub logout_url: Option<Url>,
    /// Why the refresh token could not be revoked at the account's own
    /// issuer ([`SessionError::NotRevoked`], naming it); the local sign-out
    /// completed anyway.
    pub revocation_error: Option<SessionError>,
}

impl Session {
    /// Signs one account out (`selector`, else the active one): revokes its
    /// refresh token (when the provider cannot be reached this is logged and
    /// the local sign-out still completes), deletes the saved sign-in,
    /// removes the account, and answers the logout URL to open in the
    /// browser (see [`sign_out_account`](Self::sign_out_account)).
    ///
    /// # Errors
    /// [`SessionError::NoAccount`], [`SessionError::Accounts`] (no such
    /// account), [`SessionError::Store`] when the saved sign-in cannot be
    /// deleted (the account is then kept).
    pub async fn sign_out(&self, selector: Option<&str>) -> Result<Option<Url>, SessionError> {
        let signed_out = self.sign_out_account(selector).await?;
        if let Some(error) = &signed_out.revocation_error {
            tracing::warn!(kind = ?error.kind(), %error, "the sign-in could not be revoked at the provider");
        }
        Ok(signed_out.logout_url)
    }

    /// [`sign_out`](Self::sign_out), answering everything it did, including
    /// a failed revocation.
    ///
    /// The logout URL is the provider's `end_session_endpoint` with
    /// `client_id`, `id_token_hint` when the account's last ID token is
    /// known (held in memory, or saved with its grant), and
    /// `post_logout_redirect_uri` when configured
    /// ([`with_post_logout_redirect`](Self::with_post_logout_redirect)).
    ///
    /// # Errors
    /// As [`sign_out`](Self::sign_out).
    pub async fn sign_out_account(&self, selector: Option<&str>) -> Result<SignedOut, SessionError> {
        let account = {
            let book = self.book();
            match selector {
                Some(selector) => book.find(selector)?.clone(),
                None => book.active().cloned().ok_or(SessionError::NoAccount)?,
            }
        };
        self.sign_out_known(account).await
    }

    /// Signs every account out ("sign out everywhere"): each is revoked at
    /// its own issuer, forgotten and removed; one failure does not stop the
    /// others. Answers what was done for each account signed out (a failed
    /// revocation in its [`SignedOut::revocation_error`]).
    ///
    /// # Errors
    /// The first failure to forget an account (the keyring, the book),
    /// after trying every account.
    pub async fn sign_out_all(&self) -> Result<Vec<SignedOut>, SessionError> {
        let mut first_error = None;
        let mut done = Vec::new();
        for account in self.accounts() {
            match self.sign_out_known(account).await {
                Ok(signed_out) => {
                    if let Some(error) = &signed_out.revocation_error {
                        tracing::warn!(kind = ?error.kind(), %error, "the sign-in could not be revoked");
                    }
                    done.push(signed_out);
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(done), Err)
    }

    async fn sign_out_known(&self, account: Account) -> Result<SignedOut, SessionError> {
        let key = account.key.clone();
        // No refresh of this account may run while it is signed out.
        let lock_of_key = self.refresh_lock(&key);
        let _guard = lock_of_key.lock().await;
        // Nor in another process: the entry revoked and deleted here is the
        // latest, and no refresh saves it back afterwards.
        let _across_processes = self.lock_across_processes(&key).await?;
        // A service (client credentials) has no refresh token: nothing to
        // revoke, and no browser session to end.
        let service = account.service.is_some();
        let stored = if service { Ok(None) } else { self.load_grant(&key).await };
        // The account's own issuer, whatever is configured now: its tokens
        // go there or nowhere.
        let (provider, unreachable) = match self.providers.of(&key.issuer).await {
            Ok(provider) => (Some(provider), None),
            Err(error) => (None, Some(error)),
        };
        let saved_id_token = stored.as_ref().ok().and_then(|g| g.as_ref()).and_then(|g| g.id_token.clone());
        let revocation_error = match (stored, &provider) {
            (Ok(Some(grant)), Some(provider)) => self.revoke(provider, &key, &grant.refresh_token).await.err(),
            (Ok(Some(_)), None) => unreachable,
            (Ok(None), _) => None,
            (Err(error), _) => Some(error),
        }
        .map(|source| SessionError::NotRevoked { issuer: key.issuer.clone(), source: Box::new(source) });
        self.delete_grant(&key).await?;
        let id_token = self.held().remove(&key).and_then(|held| held.id_token).or(saved_id_token);
        let logout_url =
            provider.filter(|_| !service).and_then(|provider| self.logout_url(&provider, &key, id_token.as_ref()));
        let account = self.book().remove(&key)?;
        lock(&self.refresh_locks).remove(&key);
        tracing::info!(account = %account.id(), "signed out");
        self.changed();
        Ok(SignedOut { account, logout_url, revocation_error })
    }

    /// Revokes `key`'s refresh token at `provider`, the issuer that issued
    /// it (RFC 7009 §2.1; a public client identifies itself with the
    /// `client_id` the token was issued to).
    async fn revoke(
        &self,
        provider: &Provider,
        key: &AccountKey,
        refresh_token: &RefreshToken,
    ) -> Result<(), SessionError> {
        if provider.issuer().as_str() != key.issuer {
            // Not reached: `Providers::of` discovered this very issuer.
            return Err(SigninError::IssuerMismatch {
                expected: key.issuer.clone(),
                got: provider.issuer().to_string(),
            }
            .into());
        }
        let url = provider.revocation_endpoint().cloned().ok_or(SigninError::MissingEndpoint("revocation"))?;
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", refresh_token.secret())
            .append_pair("token_type_hint", "refresh_token")
            .append_pair("client_id", &key.client_id)
            .finish();
        let http = provider.http();
        let request = http
            .reqwest()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        let (response, _) = http.send(request).await.map_err(|e| match e {
            HttpError::Failed(failure) => SessionError::Signin(SigninError::ProviderFailed(failure)),
            other => SessionError::Revocation(Box::new(other)),
        })?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(SessionError::RevocationRefused { status: status.as_u16() }) }
    }

    /// The RP-initiated logout URL of `key`'s own issuer (`provider`), with
    /// the client id the account signed in with; `post_logout_redirect_uri`
    /// only for this app's configured client at the configured issuer
    /// (where it is registered).
    fn logout_url(&self, provider: &Provider, key: &AccountKey, id_token: Option<&IdTokenText>) -> Option<Url> {
        if provider.issuer().as_str() != key.issuer {
            return None;
        }
        let mut url = provider.end_session_endpoint()?.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(id_token) = id_token {
                query.append_pair("id_token_hint", id_token.secret());
            }
            query.append_pair("client_id", &key.client_id);
            let configured =
                key.issuer == self.config.issuer.as_str() && key.client_id == self.config.client_id.as_str();
            if let Some(redirect) = self.post_logout_redirect.as_ref().filter(|_| configured) {
                query.append_pair("post_logout_redirect_uri", redirect.as_str());
            }
        }
        Some(url)
    }
}
