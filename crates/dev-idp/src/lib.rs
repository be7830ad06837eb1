//! # dev-idp: an embedded, Okta-compatible OpenID provider
//!
//! dev-idp imitates an Okta *custom authorization server* closely enough that
//! a client written against it works unchanged against Okta: the same issuer
//! shape (`http://127.0.0.1:{port}/oauth2/default`), endpoints under
//! `{issuer}/v1/`, token claims, `prompt` values and error codes. It is
//! Tessera's demo-mode provider and the provider every test signs in against.
//! With `org_authorization_server` it imitates an Okta *org* authorization
//! server instead (issuer at the origin, endpoints under `/oauth2/v1/`,
//! access tokens whose audience is the org). Okta-style rate limits
//! (`rate_limits`) are a switch.
//!
//! What it speaks:
//! - Authorization code with PKCE (S256 only, required for public clients),
//!   RFC 6749 §4.1, RFC 7636; the `iss` response parameter, RFC 9207.
//! - A sign-in form, a consent page and a session cookie; `prompt`
//!   (`none`, `login`, `consent`, `login consent`), `max_age`, `login_hint`
//!   (OIDC Core §3.1.2.1).
//! - Loopback redirect URIs (RFC 8252 §7) on any port, or compared exactly,
//!   port included, as Okta does (`loopback_any_port`); custom schemes.
//! - Refresh tokens for `offline_access`, with rotation, a grace period and
//!   family revocation on reuse; client credentials; the device grant (RFC 8628).
//! - Introspection (RFC 7662), revocation (RFC 7009), RP-initiated logout,
//!   userinfo, and a JWKS whose keys can be rotated.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let idp = dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }).await?;
//! println!("issuer: {}", idp.issuer());
//! # Ok(()) }
//! ```

mod authorize;
mod client_auth;
pub mod config;
mod device;
mod dpop;
mod endpoints;
mod error;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod fuzzing;
mod host;
mod issue;
mod keys;
pub mod misbehave;
mod pages;
mod params;
mod provider;
mod rate_limit;
mod redirect;
mod router;
mod server;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
mod token;

/// A clock that tests move (re-exported from `tessera-clock`).
#[cfg(feature = "testing")]
pub use clock::ManualClock;
/// The clock the provider reads (re-exported from `tessera-clock`), as
/// [`spawn_with_clock`] and [`Provider::new`] take it.
pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use keys::KeyError;
pub use provider::Provider;
pub use router::router;
pub use server::{DevIdp, SpawnError, spawn, spawn_with_clock};
