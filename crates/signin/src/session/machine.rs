//! Services signed in with their own identity (client credentials, RFC 6749
//! §4.4): an account whose subject is the client id, its credential kept
//! as a person's refresh token is (the client secret in the token store,
//! never a file of ours; with `private_key_jwt`, only the key file's path,
//! in the account book), and its access token fetched again when it
//! expires: there is no refresh token. One fetch per expiry across
//! processes, as for people: under the account's refresh locks, the entry
//! is loaded again and an access token another process saved there is used
//! while it is fresh.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use oauth2::{AccessToken, ClientId, ClientSecret};

use super::tokens::Held;
use super::{Session, SessionError, SignedInAccount, blocking};
use crate::account::AccountKey;
use crate::accounts::ServiceAccount;
use crate::flow::SigninError;
use crate::flow::client_credentials::{self, ClientAuth, ClientKey};
use crate::store::{StoreError, StoredAccess, StoredMachine};

/// How a service proves who it is, as given at its sign-in.
#[derive(Clone)]
pub enum MachineCredential {
    /// A client secret (read once; kept in the token store). `Debug`
    /// prints `[redacted]`.
    Secret(ClientSecret),
    /// A PEM private key file (`private_key_jwt`); only its path is kept.
    PrivateKey(PathBuf),
}

impl std::fmt::Debug for MachineCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("MachineCredential::Secret([redacted])"),
            Self::PrivateKey(path) => write!(f, "MachineCredential::PrivateKey({})", path.display()),
        }
    }
}

/// A service signing in with its own identity.
#[derive(Debug, Clone)]
pub struct MachineSignIn {
    /// The service's client id (its account's subject).
    pub client_id: ClientId,
    /// How it authenticates.
    pub credential: MachineCredential,
    /// The scopes it asks for (none: the provider's default for it).
    pub scopes: Vec<String>,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Held {
    /// Tokens a service's entry shares, if any.
    fn of_machine(machine: &StoredMachine) -> Option<Self> {
        let access = machine.access.as_ref()?;
        Some(Self {
            access_token: access.access_token.clone(),
            received_at: access.received_at,
            expires_at: access.expires_at,
            id_token: None,
            scopes: access.scopes.clone(),
            dpop: None,
            refreshed_at: Some(access.received_at),
        })
    }

    fn shared_access(&self) -> StoredAccess {
        StoredAccess {
            access_token: AccessToken::new(self.access_token.secret().clone()),
            received_at: self.received_at,
            expires_at: self.expires_at,
            scopes: self.scopes.clone(),
        }
    }
}

impl Session {
    /// Signs a service in with its own identity at the configured provider
    /// (client credentials): asks for a first access token, and only when
    /// the provider gave one, keeps the credential (a secret in the token
    /// store; a key file's path in the account book) and makes the service
    /// the active account. A refused credential stores nothing.
    ///
    /// # Errors
    /// [`SessionError::SignInInProgress`]; [`SessionError::Signin`] with
    /// [`SigninError::ClientRefused`] (a wrong client id, secret or key),
    /// [`SigninError::PrivateKey`], [`SigninError::TokenEndpoint`]
    /// (`invalid_scope`), network errors; [`SessionError::Store`],
    /// [`SessionError::Accounts`].
    pub async fn sign_in_machine(&self, machine: MachineSignIn) -> Result<SignedInAccount, SessionError> {
        let _one_at_a_time = self.signing_in.try_lock().map_err(|_| SessionError::SignInInProgress)?;
        let provider = self.providers.configured().await?;
        let MachineSignIn { client_id, credential, scopes } = machine;
        let (auth, secret, private_key) = match credential {
            MachineCredential::Secret(secret) => (ClientAuth::Secret(secret.clone()), Some(secret), None),
            MachineCredential::PrivateKey(path) => {
                let path = std::path::absolute(&path).unwrap_or(path);
                (ClientAuth::PrivateKey(Arc::new(ClientKey::load(&path)?)), None, Some(path))
            }
        };
        let tokens = client_credentials::request(&provider, &client_id, &auth, &scopes).await?;
        let key = AccountKey {
            issuer: provider.issuer().to_string(),
            client_id: client_id.to_string(),
            subject: client_id.to_string(),
        };
        let held = Held::received(tokens, self.now());
        let stored = StoredMachine { client_secret: secret, access: Some(held.shared_access()) };
        let (store, entry) = (self.store.clone(), key.clone());
        blocking(move || store.save_machine(&entry, &stored)).await?;
        let service = ServiceAccount { private_key, scopes };
        let account = self.book().upsert_service(&key, &service, unix_now())?.clone();
        self.held().insert(key, held);
        tracing::info!(account = %account.id(), "service signed in with client credentials");
        self.changed();
        Ok(SignedInAccount { account, same_person_again: false })
    }

    /// The service `key`'s tokens, under its refresh locks: the access
    /// token another process saved when it is `usable`, else a new one
    /// asked for with the saved credential (and saved for the others). A
    /// credential the provider refuses now (a rotated secret, a removed
    /// key) is forgotten and the account marked as needing a sign-in.
    pub(super) async fn machine_tokens(
        &self,
        key: &AccountKey,
        service: &ServiceAccount,
        usable: &(dyn Fn(&Held) -> bool + Sync),
    ) -> Result<Held, SessionError> {
        let (store, entry) = (self.store.clone(), key.clone());
        let saved = match blocking(move || store.load_machine(&entry)).await {
            Ok(saved) => saved,
            Err(SessionError::Store(StoreError::Unreadable)) => {
                tracing::warn!(account = %key.id(), "the saved service credential is damaged");
                return Err(self.needs_sign_in(key, None).await);
            }
            Err(error) => return Err(error),
        };
        if let Some(shared) = saved.as_ref().and_then(Held::of_machine).filter(|held| usable(held)) {
            tracing::debug!(account = %key.id(), "using the service token another process fetched");
            self.held().insert(key.clone(), shared.clone());
            self.changed();
            return Ok(shared);
        }
        let auth = match (&service.private_key, saved.as_ref().and_then(|s| s.client_secret.clone())) {
            (Some(path), _) => ClientAuth::PrivateKey(Arc::new(ClientKey::load(path)?)),
            (None, Some(secret)) => ClientAuth::Secret(secret),
            // The secret is gone (a memory-only session ended, or the entry was removed).
            (None, None) => return Err(self.needs_sign_in(key, None).await),
        };
        if let Some(limited) = self.refresh_not_before(key) {
            return Err(SigninError::RateLimited(limited).into());
        }
        let provider = self.providers.configured().await?;
        let client_id = ClientId::new(key.client_id.clone());
        tracing::debug!(account = %key.id(), "fetching a new service token");
        match client_credentials::request(&provider, &client_id, &auth, &service.scopes).await {
            Ok(tokens) => {
                let mut held = Held::received(tokens, self.now());
                held.refreshed_at = Some(held.received_at);
                let secret = match auth {
                    ClientAuth::Secret(secret) => Some(secret),
                    ClientAuth::PrivateKey(_) => None,
                };
                let stored = StoredMachine { client_secret: secret, access: Some(held.shared_access()) };
                let (store, entry) = (self.store.clone(), key.clone());
                blocking(move || store.save_machine(&entry, &stored)).await?;
                self.held().insert(key.clone(), held.clone());
                self.changed();
                Ok(held)
            }
            Err(error @ SigninError::ClientRefused { .. }) => Err(self.needs_sign_in(key, Some(error)).await),
            Err(SigninError::RateLimited(limited)) => {
                self.refresh_limited(key, limited);
                Err(SigninError::RateLimited(limited).into())
            }
            Err(error) => Err(error.into()),
        }
    }
}
