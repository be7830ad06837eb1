//! One builder for the graphs the shells run on (STYLE practice 18): the
//! token store (the OS keyring, opened and probed once, or memory), the
//! account book, the [`Session`] and the [`ItemsClient`]. Plain functions:
//! [`production`] for a configured provider, [`demo()`] for the in-process
//! demo stack, [`for_tests`] for a test that swaps the session's edges.
//! The shells call one of them and adapt.

use std::sync::Arc;
use std::time::Duration;

use demo::DemoStack;
use items_client::{ItemsClient, ItemsError};
use signin::accounts::AccountBook;
use signin::flow::SigninError;
use signin::flow::config::SigninConfig;
use signin::flow::provider::{self, Provider};
use signin::store::{KeyringBackend, KeyringStore, MemoryStore, StoreError, TokenStore};
use signin::{Session, SessionError};
use url::Url;

use crate::settings::{Settings, TokenStoreChoice};
use crate::tokens::SessionTokens;

/// What to do when the chosen token store cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnavailable {
    /// Fail with the store's error (the CLI: exit 7, and the choices named).
    Fail,
    /// Keep sign-ins in memory, with the reason (the desktop app, which
    /// then warns).
    UseMemory,
}

/// Where the sign-ins are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The Secret Service (Linux).
    SecretService,
    /// The kernel keyring (Linux).
    Kernel,
    /// The Windows Credential Manager.
    CredentialManager,
    /// The macOS Keychain.
    Keychain,
    /// Memory only.
    Memory,
}

impl StoreKind {
    /// Whether sign-ins outlive the program (a keyring of either kind).
    #[must_use]
    pub fn is_keyring(self) -> bool {
        self != Self::Memory
    }
}

/// A token store as opened by [`open_store`].
pub struct OpenedStore {
    /// The store.
    pub store: Arc<dyn TokenStore>,
    /// What it is.
    pub kind: StoreKind,
    /// Why the chosen keyring could not be used, when memory stands in for
    /// it ([`WhenUnavailable::UseMemory`]).
    pub keyring_error: Option<StoreError>,
}

impl OpenedStore {
    /// A memory store, chosen (no keyring error).
    #[must_use]
    pub fn memory() -> Self {
        Self { store: Arc::new(MemoryStore::new()), kind: StoreKind::Memory, keyring_error: None }
    }

    /// A store the caller made (a test's), kept as if it were the Secret
    /// Service.
    #[must_use]
    pub fn given(store: Arc<dyn TokenStore>) -> Self {
        Self { store, kind: StoreKind::SecretService, keyring_error: None }
    }
}

impl std::fmt::Debug for OpenedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedStore").field("kind", &self.kind).field("keyring_error", &self.keyring_error).finish()
    }
}

/// Opens the token store `choice` names: a keyring is opened and probed (a
/// write, read and delete of an entry of its own) here, and only here;
/// [`TokenStoreChoice::Auto`] is the platform's keyring
/// ([`signin::platform::NATIVE_KEYRING`]: the Secret Service on Linux, the
/// Credential Manager on Windows, the Keychain on macOS). A keyring the
/// platform does not have fails as [`StoreError::NotOnThisPlatform`].
/// Blocks (the Secret Service client runs a runtime of its own): call it
/// before starting one, or through `spawn_blocking`.
///
/// # Errors
/// With [`WhenUnavailable::Fail`], why the keyring cannot be used.
pub fn open_store(choice: TokenStoreChoice, when_unavailable: WhenUnavailable) -> Result<OpenedStore, StoreError> {
    let Some(backend) = choice.keyring() else { return Ok(OpenedStore::memory()) };
    let kind = match backend {
        KeyringBackend::KernelKeyring => StoreKind::Kernel,
        KeyringBackend::CredentialManager => StoreKind::CredentialManager,
        KeyringBackend::Keychain => StoreKind::Keychain,
        _ => StoreKind::SecretService,
    };
    match KeyringStore::open(backend).and_then(|store| store.probe().map(|()| store)) {
        Ok(store) => Ok(OpenedStore { store: Arc::new(store), kind, keyring_error: None }),
        Err(error) if when_unavailable == WhenUnavailable::UseMemory => {
            tracing::warn!(%error, "no keyring: sign-ins are kept in memory only");
            Ok(OpenedStore { keyring_error: Some(error), ..OpenedStore::memory() })
        }
        Err(error) => Err(error),
    }
}

/// Why the graph could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The account book could not be read.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The demo stack did not start.
    #[error(transparent)]
    Demo(#[from] demo::DemoError),
    /// The items client could not be set up.
    #[error("cannot set up the items client")]
    ItemsClient(#[source] ItemsError<SessionError>),
}

/// What a shell runs on: the session, the items client over it, and the
/// demo stack when it is the demo's.
pub struct App {
    /// The session (accounts, sign-ins, tokens).
    pub session: Arc<Session>,
    /// The items API's client, with the session's tokens.
    pub items: ItemsClient<SessionTokens>,
    /// The items API's base URL.
    pub items_api: Url,
    /// Where the sign-ins are kept.
    pub store: StoreKind,
    /// The profile of the settings (`None`: the top-level ones).
    pub profile: Option<String>,
    /// The demo stack, running as long as this is kept.
    demo: Option<DemoStack>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("items_api", &self.items_api.as_str())
            .field("store", &self.store)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The demo stack this runs on, if it is the demo's.
    #[must_use]
    pub fn demo_stack(&self) -> Option<&DemoStack> {
        self.demo.as_ref()
    }
}

/// The app signing in with the configured provider: `settings`, the token
/// store from [`open_store`], and the account book (usually
/// [`AccountBook::default_path`]'s).
///
/// # Errors
/// [`WireError::ItemsClient`] when the items client cannot be set up.
pub fn production(settings: Settings, store: OpenedStore, book: AccountBook) -> Result<App, WireError> {
    for_tests(settings, store, book, |session| session)
}

/// The demo: starts the demo stack (dev-idp and the items API in this
/// process), points `settings` at it ([`DemoStack::configure`]), and keeps
/// its sign-ins in memory and its account book in the stack's folder: they
/// end with it.
///
/// # Errors
/// [`WireError::Demo`] when the stack does not start.
pub async fn demo(settings: Settings) -> Result<App, WireError> {
    let stack = DemoStack::start().await?;
    let Settings { signin: mut config, .. } = settings;
    stack.configure(&mut config)?;
    let settings = Settings {
        signin: config,
        items_api: stack.items_api().clone(),
        token_store: TokenStoreChoice::Memory,
        profile: None,
    };
    let book = AccountBook::empty(stack.folder().join("accounts.json"));
    let mut app = production(settings, OpenedStore::memory(), book)?;
    app.demo = Some(stack);
    Ok(app)
}

/// As [`production`], with `adjust` applied to the session before use: a
/// test swaps its edges there (`Session::with_clock`, `with_provider`, …).
///
/// # Errors
/// As [`production`].
pub fn for_tests(
    settings: Settings,
    store: OpenedStore,
    book: AccountBook,
    adjust: impl FnOnce(Session) -> Session,
) -> Result<App, WireError> {
    let Settings { signin, items_api, profile, .. } = settings;
    let session = Arc::new(adjust(Session::new(signin, store.store, book)));
    // The items API is reached with the provider's trust and proxies.
    let items = ItemsClient::with_network(
        items_api.clone(),
        SessionTokens(session.clone()),
        items_client::DEFAULT_TIMEOUT,
        &session.config().net,
    )
    .map_err(WireError::ItemsClient)?;
    Ok(App { session, items, items_api, store: store.kind, profile, demo: None })
}

/// Why a provider did not pass [`check_provider`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderCheckError {
    /// Its discovery document did not arrive in time.
    #[error("{issuer} did not answer in time")]
    TimedOut {
        /// The issuer asked.
        issuer: String,
    },
    /// Its discovery document could not be fetched or is not one.
    #[error(transparent)]
    Failed(#[from] SigninError),
}

/// Checks, before settings are saved, that `config`'s issuer answers with a
/// discovery document (fetched afresh, not from any cache) within `within`.
///
/// # Errors
/// [`ProviderCheckError`].
pub async fn check_provider(config: &SigninConfig, within: Duration) -> Result<(), ProviderCheckError> {
    let http = provider::http_client_with(config.http_timeout, &config.net)?;
    match tokio::time::timeout(within, Provider::discover_uncached(&config.issuer, &http)).await {
        Ok(discovered) => discovered.map(|_| ()).map_err(ProviderCheckError::Failed),
        Err(_) => Err(ProviderCheckError::TimedOut { issuer: config.issuer.as_str().to_owned() }),
    }
}
