//! Sign-in flows: configuration, discovery, Authorization Code + PKCE through
//! the system browser with a loopback ([`loopback`]) or deep-link
//! ([`pending`]) redirect, the device grant ([`device`]), the ID-token
//! checks of OIDC Core §3.1.3.7 ([`login`]), and the refresh exchange
//! ([`refresh`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), signin::flow::SigninError> {
//! use signin::flow::{browser::SystemBrowser, config::SigninConfig, login::AuthOptions, loopback, provider};
//! use signin::flow::config::RedirectKind;
//! let config = SigninConfig::load()?;
//! let http = provider::http_client()?;
//! let provider = provider::Provider::discover(&config.issuer, &http).await?;
//! let RedirectKind::Loopback { ip, port, path } = &config.redirect else { return Ok(()) };
//! let listener = loopback::LoopbackRedirect::bind(*ip, *port, path).await?;
//! let signed_in = loopback::sign_in(
//!     &provider, &config.client_id, &config.scopes, &AuthOptions::default(), listener,
//!     &SystemBrowser::from_env(), &|url, _| eprintln!("Open {url} in a browser"),
//!     config.timeout, &Default::default(),
//! ).await?;
//! # let _ = signed_in; Ok(()) }
//! ```

pub mod browser;
pub mod config;
pub mod device;
pub mod dpop;
mod error;
pub mod http;
pub mod login;
pub mod loopback;
pub mod pending;
pub mod provider;
pub mod refresh;

pub use error::{BoxError, SigninError};
