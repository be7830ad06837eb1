//! Tessera's app, between the sign-in core and the shells (the `tessera`
//! CLI and the desktop app):
//!
//! - [`settings`]: the app's settings (defaults < `tessera.toml` < the
//!   environment, the opt-in `.env`, the items API's URL, the demo), which
//!   the sign-in core does not read;
//! - [`wiring`]: one builder of the session, its token store (the keyring,
//!   probed once) and the items client, for production, the demo and tests;
//!   and the provider check a settings screen runs before saving;
//! - [`tokens`]: the session as the items client's token source;
//! - [`form`]: a settings screen's model (what it shows, the file it saves);
//! - [`doctor`]: the settings checked against the provider and the items
//!   API, and what to register at the provider (`tessera doctor`).

pub mod doctor;
pub mod form;
pub mod settings;
pub mod tokens;
pub mod wiring;

pub use settings::{ConfigFile, ProviderSource, Settings, SettingsError, TokenStoreChoice};
pub use tokens::SessionTokens;
pub use wiring::{
    App, OpenedStore, ProviderCheckError, StoreKind, WhenUnavailable, WireError, check_provider, demo, for_tests,
    open_store, production,
};
