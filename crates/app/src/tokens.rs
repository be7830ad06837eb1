//! The session as the items client's token source: an adapter here, in the
//! app, so that the sign-in core need not know the items client.

use std::sync::Arc;

use items_client::TokenSource;
use oauth2::AccessToken;
use signin::{Session, SessionError};
use url::Url;

/// The items client's tokens from a shared [`Session`]: its current access
/// token, a renewal when the API refused one (one refresh however many
/// callers ask), and the DPoP proof when the token is bound to a key.
#[derive(Debug, Clone)]
pub struct SessionTokens(pub Arc<Session>);

impl SessionTokens {
    /// The session the tokens come from.
    #[must_use]
    pub fn session(&self) -> &Arc<Session> {
        &self.0
    }
}

impl TokenSource for SessionTokens {
    type Error = SessionError;

    async fn token(&self) -> Result<AccessToken, SessionError> {
        Session::access_token(&self.0).await
    }

    async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, SessionError> {
        Session::renew(&self.0, rejected).await.map(|bound| bound.access_token)
    }

    fn proof(
        &self,
        token: &AccessToken,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<Option<String>, SessionError> {
        Session::proof(&self.0, token, method, url, nonce)
    }
}
