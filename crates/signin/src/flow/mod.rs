//! Sign-in flows, protocol only: configuration, discovery ([`provider`]),
//! Authorization Code + PKCE through the system browser ([`redirect`]) with
//! a loopback ([`loopback`]) or deep-link ([`deep_link`]) redirect, the
//! device grant ([`device`]), the ID-token checks of OIDC Core §3.1.3.7
//! ([`login`]), the refresh exchange ([`refresh`]), and the
//! client-credentials grant of services ([`client_credentials`]: a client
//! secret or `private_key_jwt`). Each answers facts
//! (who signed in, the tokens, their lifetime, whether the refresh token
//! rotated); what to keep and when to refresh is the
//! [`Session`](crate::Session)'s.
//!
//! ```no_run
//! # async fn demo(config: signin::flow::config::SigninConfig) -> Result<(), signin::flow::SigninError> {
//! use signin::flow::{browser::SystemBrowser, login::AuthOptions, loopback, provider, redirect};
//! let http = provider::http_client()?;
//! let provider = provider::Provider::discover(&config.issuer, &http).await?;
//! let listener = loopback::LoopbackRedirect::for_redirect(&config.redirect).await?;
//! let request = redirect::Request {
//!     client_id: &config.client_id, scopes: &config.scopes, options: &AuthOptions::default(), timeout: config.timeout,
//! };
//! let signed_in = redirect::sign_in(
//!     &provider, request, listener, &SystemBrowser::from_env(),
//!     &|link: redirect::Link<'_>| {
//!         if let redirect::Opening::Failed(_) = link.browser {
//!             eprintln!("Open {} in a browser", link.url);
//!             return redirect::Shown::Yes;
//!         }
//!         redirect::Shown::No
//!     },
//!     &Default::default(),
//! ).await?;
//! # let _ = signed_in; Ok(()) }
//! ```

pub mod browser;
pub mod callback;
pub mod client_credentials;
pub mod config;
pub mod deep_link;
pub mod device;
pub mod dpop;
mod error;
pub mod http;
mod id_token;
pub mod login;
pub mod loopback;
pub mod par;
pub mod provider;
pub mod rate_limit;
pub mod redirect;
pub mod refresh;
pub mod signed_out;

pub use error::{BoxError, SigninError};
