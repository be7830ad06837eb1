//! The session as the items client's token source: an adapter here, in the
//! app, so that the sign-in core need not know the items client.

use std::sync::Arc;

use items_client::{Credential, TokenSource};
use oauth2::AccessToken;
use signin::session::BoundToken;
use signin::{Session, SessionError};

/// The items client's tokens from a shared [`Session`]: its current access
/// token, a renewal when the API refused one (one refresh however many
/// callers ask), each with the DPoP key it is bound to, if any.
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

    async fn token(&self) -> Result<Credential, SessionError> {
        Session::token(&self.0).await.map(credential)
    }

    async fn renew(&self, rejected: &AccessToken) -> Result<Credential, SessionError> {
        Session::renew(&self.0, rejected).await.map(credential)
    }
}

/// The session's bound token as the items client takes it: the access
/// token and its DPoP key, moved, never looked up again.
fn credential(bound: BoundToken) -> Credential {
    Credential { access_token: bound.access_token, dpop: bound.dpop }
}
