//! The session as the items client's token source. To be replaced by the
//! app crate's adapter, which ends the core's dependency on the items
//! client.

use oauth2::AccessToken;
use url::Url;

use super::{Session, SessionError};

impl items_client::TokenSource for Session {
    type Error = SessionError;

    async fn token(&self) -> Result<AccessToken, SessionError> {
        self.access_token().await
    }

    async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, SessionError> {
        Session::renew(self, rejected).await.map(|token| token.access_token)
    }

    fn proof(
        &self,
        token: &AccessToken,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<Option<String>, SessionError> {
        Session::proof(self, token, method, url, nonce)
    }
}

impl items_client::TokenSource for &Session {
    type Error = SessionError;

    async fn token(&self) -> Result<AccessToken, SessionError> {
        items_client::TokenSource::token(*self).await
    }

    async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, SessionError> {
        items_client::TokenSource::renew(*self, rejected).await
    }

    fn proof(
        &self,
        token: &AccessToken,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<Option<String>, SessionError> {
        items_client::TokenSource::proof(*self, token, method, url, nonce)
    }
}
