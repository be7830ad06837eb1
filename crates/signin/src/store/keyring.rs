//! Refresh tokens in the OS keyring, through `keyring-core`.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

use super::{StoreError, StoredGrant, StoredMachine, TokenStore};
use crate::AccountKey;

/// Which OS keyring holds the tokens. Which ones exist depends on the
/// platform ([`crate::platform::KEYRINGS`]); asking for another fails with
/// [`StoreError::NotOnThisPlatform`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyringBackend {
    /// The freedesktop Secret Service on the D-Bus session bus (GNOME
    /// Keyring, KWallet, KeePassXC): persistent, the Linux desktop default.
    SecretService,
    /// The Linux kernel keyring (keyutils), in the session keyring: needs no
    /// D-Bus, lives until the session ends or the machine reboots. For SSH
    /// sessions and servers (Linux only).
    KernelKeyring,
    /// The Windows Credential Manager (the signed-in user's generic
    /// credentials): persistent, the Windows default.
    CredentialManager,
    /// The macOS login Keychain: persistent, the macOS default.
    Keychain,
}

impl Default for KeyringBackend {
    /// The platform's own keyring ([`crate::platform::NATIVE_KEYRING`]).
    fn default() -> Self {
        crate::platform::NATIVE_KEYRING
    }
}

impl KeyringBackend {
    /// The back end's stable name: `secret-service`, `kernel-keyring`,
    /// `credential-manager` or `keychain`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::SecretService => "secret-service",
            Self::KernelKeyring => "kernel-keyring",
            Self::CredentialManager => "credential-manager",
            Self::Keychain => "keychain",
        }
    }

    /// What people call it: "the Secret Service", "the Windows Credential
    /// Manager", …
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::SecretService => "the Secret Service (GNOME Keyring, KWallet)",
            Self::KernelKeyring => "the kernel keyring",
            Self::CredentialManager => "the Windows Credential Manager",
            Self::Keychain => "the macOS Keychain",
        }
    }

    /// Parses [`name`](Self::name) (for configuration and the command line).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "secret-service" => Some(Self::SecretService),
            "kernel-keyring" | "keyutils" => Some(Self::KernelKeyring),
            "credential-manager" => Some(Self::CredentialManager),
            "keychain" => Some(Self::Keychain),
            _ => None,
        }
    }
}

impl std::fmt::Display for KeyringBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Refresh tokens in the OS keyring: one entry per account, with service
/// [`KeyringStore::DEFAULT_SERVICE`] (or the one given) and user
/// [`AccountKey::id`].
///
/// In the Secret Service the item carries the attributes `service` and
/// `username` (what `secret-tool lookup service … username …` finds), plus
/// `issuer` and `client_id` for people browsing their keyring, and a label
/// `Tessera: <subject> at <issuer>`. In the kernel keyring the key's
/// description is `keyring:<account id>@<service>` in the session keyring.
/// In the Windows Credential Manager (a generic credential) and the macOS
/// Keychain (a generic password) the entry is named from the same service
/// and user by the store's default scheme.
///
/// A save overwrites the one existing entry in place (a single `SetSecret`
/// call on the Secret Service item, or a key update in the kernel keyring),
/// so a rotated refresh token replaces the old one atomically for any reader.
/// All calls block (see the [module docs](super#blocking)).
pub struct KeyringStore {
    backend: KeyringBackend,
    service: String,
    /// Always `Some` until dropped (see the `Drop` impl).
    store: Option<Arc<CredentialStore>>,
}

impl Drop for KeyringStore {
    /// The Secret Service connection blocks on its own Tokio runtime when it
    /// closes, which panics on a thread that drives async tasks. A store
    /// dropped there (say, at the end of an async function holding the last
    /// `Arc<dyn TokenStore>`) is closed on a thread of its own instead.
    fn drop(&mut self) {
        if let Some(store) = self.store.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let closing = std::thread::Builder::new().name("keyring-close".into()).spawn(move || drop(store));
            if let Err(e) = closing {
                tracing::warn!(error = %e, "could not close the keyring connection on its own thread");
            }
        }
    }
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore")
            .field("backend", &self.backend)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// The user name of the entries [`KeyringStore::probe`] writes and deletes
/// (followed by the process id and a count).
const PROBE_USER: &str = "tessera-probe";

impl KeyringStore {
    /// The keyring service name Tessera uses by default.
    pub const DEFAULT_SERVICE: &'static str = "com.example.tessera";

    /// Connects to the keyring with the default service name.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] whose [`keyring_unavailable`](StoreError::keyring_unavailable)
    /// is true when there is no keyring to use: no session bus, no Secret
    /// Service, no session keyring, a keyring this platform does not have
    /// ([`StoreError::NotOnThisPlatform`]). A locked keyring is only found by
    /// [`probe`](Self::probe) or the first write.
    pub fn open(backend: KeyringBackend) -> Result<Self, StoreError> {
        Self::open_with_service(backend, Self::DEFAULT_SERVICE)
    }

    /// Connects to the keyring, naming entries with `service` (tests use their
    /// own service so they never touch a person's tokens).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with_service(backend: KeyringBackend, service: &str) -> Result<Self, StoreError> {
        let store = crate::platform::open_keyring(backend)?;
        let this = Self { backend, service: service.to_owned(), store: Some(store) };
        // The kernel keyring store only looks for the session keyring when an
        // entry is built: build one now so a missing one is reported here.
        this.entry_for_user(PROBE_USER, None)?;
        tracing::debug!(backend = %backend, service, "keyring opened");
        Ok(this)
    }

    /// Checks up front that tokens can be written: writes, reads back and
    /// deletes a probe entry. Finds a locked keyring, which
    /// [`open`](Self::open) cannot.
    ///
    /// # Errors
    ///
    /// The [`StoreError`] the first real write would have given.
    pub fn probe(&self) -> Result<(), StoreError> {
        // An entry of this process's own: two processes probing at once
        // (a CLI beside the desktop app) must not delete each other's probe
        // between its write and its read (the Secret Service then names an
        // item that is gone).
        static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let entry = self.entry_for_user(&format!("{PROBE_USER}.{}.{n}", std::process::id()), None)?;
        let value = "probe";
        entry.set_password(value).map_err(|e| self.error(e))?;
        let read = entry.get_password().map_err(|e| self.error(e))?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => {}
            Err(e) => return Err(self.error(e)),
        }
        if read == value { Ok(()) } else { Err(StoreError::Unreadable) }
    }

    /// Which keyring this store uses.
    #[must_use]
    pub fn backend(&self) -> KeyringBackend {
        self.backend
    }

    /// The service name of the entries.
    #[must_use]
    pub fn service(&self) -> &str {
        &self.service
    }

    fn error(&self, error: keyring_core::Error) -> StoreError {
        StoreError::from_keyring(self.backend, error)
    }

    fn entry_for_user(&self, user: &str, label: Option<&str>) -> Result<Entry, StoreError> {
        let mut modifiers = HashMap::new();
        if let (KeyringBackend::SecretService, Some(label)) = (self.backend, label) {
            modifiers.insert("label", label);
        }
        let modifiers = (!modifiers.is_empty()).then_some(&modifiers);
        let Some(store) = &self.store else { unreachable!("the store is only taken when dropped") };
        store.build(&self.service, user, modifiers).map_err(|e| self.error(e))
    }

    fn entry(&self, key: &AccountKey) -> Result<Entry, StoreError> {
        let label = format!("Tessera: {} at {}", key.subject, key.issuer);
        self.entry_for_user(&key.id(), Some(&label))
    }
}

impl TokenStore for KeyringStore {
    fn load(&self, key: &AccountKey) -> Result<Option<StoredGrant>, StoreError> {
        self.read(key)?.map(|text| StoredGrant::decode(&text)).transpose()
    }

    fn save(&self, key: &AccountKey, grant: &StoredGrant) -> Result<(), StoreError> {
        let mut grant = std::borrow::Cow::Borrowed(grant);
        loop {
            match self.write(key, &grant.encode()) {
                // A keyring with a small limit (the Windows Credential
                // Manager's 2560 bytes): keep what cannot be had again (the
                // refresh token and its DPoP key), drop what can.
                Err(StoreError::TooLarge { .. }) if let Some(smaller) = grant.without_extras() => {
                    tracing::debug!(account = %key.id(), backend = %self.backend, "sign-in too large for the keyring; saved with less");
                    grant = std::borrow::Cow::Owned(smaller);
                }
                result => return result,
            }
        }
    }

    fn load_machine(&self, key: &AccountKey) -> Result<Option<StoredMachine>, StoreError> {
        self.read(key)?.map(|text| StoredMachine::decode(&text)).transpose()
    }

    fn save_machine(&self, key: &AccountKey, machine: &StoredMachine) -> Result<(), StoreError> {
        self.write(key, &machine.encode())
    }

    fn delete(&self, key: &AccountKey) -> Result<(), StoreError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => {
                tracing::debug!(account = %key.id(), backend = %self.backend, "refresh token forgotten");
                Ok(())
            }
            Err(e) => Err(self.error(e)),
        }
    }
}

impl KeyringStore {
    /// The text of `key`'s entry, `None` when there is none.
    fn read(&self, key: &AccountKey) -> Result<Option<String>, StoreError> {
        match self.entry(key)?.get_password() {
            Ok(text) => Ok(Some(text)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Writes `text` as `key`'s entry, unless it already holds it.
    fn write(&self, key: &AccountKey, text: &str) -> Result<(), StoreError> {
        let entry = self.entry(key)?;
        let existing = match entry.get_password() {
            Ok(secret) => Some(secret),
            Err(keyring_core::Error::NoEntry) => None,
            // Written by something else: overwrite it with a good token.
            Err(keyring_core::Error::BadEncoding(_)) => Some(String::new()),
            Err(e) => return Err(self.error(e)),
        };
        if existing.as_deref() == Some(text) {
            tracing::debug!(account = %key.id(), "saved sign-in unchanged; not written");
            return Ok(());
        }
        entry.set_password(text).map_err(|e| self.error(e))?;
        if existing.is_none() && self.backend == KeyringBackend::SecretService {
            // Extra, searchable attributes on a new item (never the token).
            let attributes = HashMap::from([("issuer", key.issuer.as_str()), ("client_id", key.client_id.as_str())]);
            if let Err(e) = entry.update_attributes(&attributes) {
                tracing::warn!(account = %key.id(), error = %e, "could not label the keyring item");
            }
        }
        tracing::debug!(account = %key.id(), backend = %self.backend, "refresh token stored");
        Ok(())
    }
}
