//! Why a token store failed, in kinds a person can act on.

use super::KeyringBackend;

/// A token store failure.
///
/// Each kind says what is wrong in words a person can act on; the platform
/// error is kept as the [`source`](std::error::Error::source). No variant ever
/// carries a token: an unreadable stored value is reported without its bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// There is no D-Bus session bus, so no Secret Service can be reached
    /// (a bare SSH session or a container without `dbus-run-session`).
    #[error("no D-Bus session bus, so the keyring (Secret Service) cannot be reached")]
    NoSessionBus {
        /// The D-Bus error.
        #[source]
        source: keyring_core::Error,
    },
    /// The session bus has no Secret Service (`org.freedesktop.secrets`):
    /// no GNOME Keyring, KWallet or similar is running.
    #[error(
        "no keyring on the session bus (org.freedesktop.secrets is not provided: is GNOME Keyring or KWallet running?)"
    )]
    NoSecretService {
        /// The D-Bus error (`org.freedesktop.DBus.Error.ServiceUnknown`).
        #[source]
        source: keyring_core::Error,
    },
    /// The keyring is locked and could not be unlocked (no prompt could be
    /// shown, or the person dismissed it), or there is no default keyring
    /// yet and none could be created without a prompt.
    #[error(
        "the keyring is locked or not set up: unlock it (for example by signing in to the desktop session) and try again"
    )]
    Locked {
        /// The keyring's error.
        #[source]
        source: keyring_core::Error,
    },
    /// The kernel keyring refused access: the process has no session keyring
    /// it possesses (run it under `keyctl session -`, or use the Secret
    /// Service).
    #[error("the kernel keyring is not accessible (no session keyring for this process; try `keyctl session -`)")]
    NoSessionKeyring {
        /// The kernel keyring's error.
        #[source]
        source: keyring_core::Error,
    },
    /// The Windows Credential Manager has no credential set for this logon
    /// session (a service account, a network logon without a profile).
    #[error("the Windows Credential Manager is not available in this logon session (sign in to Windows interactively)")]
    NoLogonSession {
        /// The Credential Manager's error.
        #[source]
        source: keyring_core::Error,
    },
    /// The keyring asked for does not exist on this platform (the kernel
    /// keyring or the Secret Service anywhere but Linux; see
    /// [`crate::platform::KEYRINGS`]).
    #[error("{} does not exist on {platform}", backend.description())]
    NotOnThisPlatform {
        /// The keyring asked for.
        backend: KeyringBackend,
        /// This platform's name.
        platform: &'static str,
    },
    /// The entry is larger than the keyring holds (the Windows Credential
    /// Manager keeps at most 2560 bytes, 1280 characters as UTF-16).
    #[error("the sign-in is too large for {} (its limit is {limit})", backend.description())]
    TooLarge {
        /// Which keyring.
        backend: KeyringBackend,
        /// The keyring's limit, in its unit (characters or bytes).
        limit: u32,
    },
    /// Several keyring entries match one account (written by another
    /// program); Tessera will not guess which one is right.
    #[error("the keyring holds {count} entries for this account; remove the extra ones")]
    Ambiguous {
        /// How many entries matched.
        count: usize,
    },
    /// The stored value is not a sign-in Tessera wrote (not text, or a
    /// damaged entry). Its bytes are deliberately not kept.
    #[error("the stored refresh token is unreadable")]
    Unreadable,
    /// Any other failure of the keyring.
    #[error("the keyring ({backend}) failed")]
    Platform {
        /// Which keyring.
        backend: KeyringBackend,
        /// The keyring's error.
        #[source]
        source: keyring_core::Error,
    },
}

impl StoreError {
    /// Whether the keyring as a whole cannot be used (no bus, no Secret
    /// Service, locked, no session keyring, no logon session, not on this
    /// platform): the moment to ask the person
    /// whether to continue with a memory-only session.
    #[must_use]
    pub fn keyring_unavailable(&self) -> bool {
        matches!(
            self,
            Self::NoSessionBus { .. }
                | Self::NoSecretService { .. }
                | Self::Locked { .. }
                | Self::NoSessionKeyring { .. }
                | Self::NoLogonSession { .. }
                | Self::NotOnThisPlatform { .. }
        )
    }

    /// Sorts a keyring-core error into a kind. `NoEntry` is not an error for
    /// callers of [`TokenStore`](super::TokenStore) and is handled before.
    pub(crate) fn from_keyring(backend: KeyringBackend, source: keyring_core::Error) -> Self {
        use keyring_core::Error as E;
        match source {
            E::BadEncoding(_) | E::BadDataFormat(..) => Self::Unreadable,
            E::TooLong(_, limit) => Self::TooLarge { backend, limit },
            E::Ambiguous(entries) => Self::Ambiguous { count: entries.len() },
            E::NoStorageAccess(_) => match backend {
                KeyringBackend::SecretService | KeyringBackend::Keychain => Self::Locked { source },
                KeyringBackend::KernelKeyring => Self::NoSessionKeyring { source },
                KeyringBackend::CredentialManager => Self::NoLogonSession { source },
            },
            E::PlatformFailure(_) if backend == KeyringBackend::SecretService => match dbus_failure(&source) {
                Some(DbusFailure::NoService) => Self::NoSecretService { source },
                Some(DbusFailure::NoBus) => Self::NoSessionBus { source },
                None => Self::Platform { backend, source },
            },
            source => Self::Platform { backend, source },
        }
    }
}

enum DbusFailure {
    NoBus,
    NoService,
}

/// Reads a Secret Service failure's cause chain. The store wraps the D-Bus
/// library's errors in boxed trait objects, so the chain is matched by the
/// D-Bus error names (part of the D-Bus specification) and the wording of
/// zbus's connection errors (`Failed to connect to address …`, `address
/// error: …`, `I/O error: …`, `D-Bus handshake failed: …`).
fn dbus_failure(error: &keyring_core::Error) -> Option<DbusFailure> {
    let mut text = String::new();
    let mut io_error = false;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        text.push_str(&current.to_string());
        text.push('\n');
        io_error |= current.is::<std::io::Error>();
        cause = current.source();
    }
    const NO_SERVICE: [&str; 2] =
        ["org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"];
    const NO_BUS: [&str; 5] = [
        "Failed to connect to address",
        "address error:",
        "I/O error:",
        "D-Bus handshake failed",
        "DBUS_SESSION_BUS_ADDRESS",
    ];
    if NO_SERVICE.iter().any(|name| text.contains(name)) {
        Some(DbusFailure::NoService)
    } else if io_error || NO_BUS.iter().any(|words| text.contains(words)) {
        Some(DbusFailure::NoBus)
    } else {
        None
    }
}
