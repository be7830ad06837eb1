//! The providers a session talks to, each discovered once: the configured
//! one (for sign-ins and refreshes) and the issuers of accounts signed in
//! before the settings changed (only to sign those out, at their own
//! issuer).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use clock::Clock;
use openidconnect::IssuerUrl;
use tokio::sync::{Mutex, OnceCell};

use super::SessionError;
use crate::flow::SigninError;
use crate::flow::provider::{self, Provider};

pub(super) struct Providers {
    configured_issuer: IssuerUrl,
    configured: OnceCell<Arc<Provider>>,
    others: Mutex<HashMap<String, Arc<Provider>>>,
    http_timeout: Duration,
    /// The HTTP client's trust and proxies.
    net: net::NetSettings,
    /// The session's clock, handed to each provider discovered.
    clock: Arc<dyn Clock>,
}

impl Providers {
    pub(super) fn new(
        configured_issuer: IssuerUrl,
        http_timeout: Duration,
        net: net::NetSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { configured_issuer, configured: OnceCell::new(), others: Mutex::default(), http_timeout, net, clock }
    }

    /// Hands `clock` to the providers discovered from now on.
    pub(super) fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Uses `provider` as the configured one, already discovered.
    pub(super) fn with_configured(self, provider: Arc<Provider>) -> Self {
        Self { configured: OnceCell::new_with(Some(provider)), ..self }
    }

    /// The configured provider, discovered on first use.
    pub(super) async fn configured(&self) -> Result<Arc<Provider>, SessionError> {
        let provider = self.configured.get_or_try_init(|| self.discover(&self.configured_issuer)).await?;
        Ok(provider.clone())
    }

    /// The provider of `issuer`: the configured one, or another issuer
    /// discovered for it (OIDC Discovery §4.3: the document must name
    /// exactly `issuer`).
    pub(super) async fn of(&self, issuer: &str) -> Result<Arc<Provider>, SessionError> {
        if issuer == self.configured_issuer.as_str() {
            return self.configured().await;
        }
        let mut others = self.others.lock().await;
        if let Some(provider) = others.get(issuer) {
            return Ok(provider.clone());
        }
        let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| SigninError::InvalidSetting {
            setting: "the account's issuer".to_owned(),
            message: e.to_string(),
        })?;
        let provider = self.discover(&url).await?;
        others.insert(issuer.to_owned(), provider.clone());
        Ok(provider)
    }

    async fn discover(&self, issuer: &IssuerUrl) -> Result<Arc<Provider>, SigninError> {
        let http = provider::http_client_with(self.http_timeout, &self.net)?;
        let provider = Provider::discover_uncached(issuer, &http).await?;
        Ok(Arc::new(provider.with_clock(self.clock.clone())))
    }
}
