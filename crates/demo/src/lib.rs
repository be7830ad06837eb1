//! The demo stack: dev-idp and the items API running in this process on
//! loopback (port 0), over a temporary SQLite database seeded with the demo
//! items. `tessera demo` and the desktop app's demo mode run on it, so a
//! newcomer can sign in as alice or bob with no Okta org and no network.
//!
//! Everything lives as long as the [`DemoStack`]: the provider's keys and
//! grants, the database and the folder holding it. Sign-ins at the demo
//! provider therefore do not outlive the process, and the apps keep their
//! demo tokens in memory, not in the keyring.

use std::path::Path;

use openidconnect::{ClientId, IssuerUrl};
use signin::flow::config::{DEMO_CLIENT_ID, SigninConfig};
use tokio::task::JoinHandle;
use url::Url;

/// The demo people: username and password (dev-idp's built-in users).
pub const USERS: [(&str, &str); 2] = [("alice", "alice-demo-pw"), ("bob", "bob-demo-pw")];

/// How long each of the demo items API's DPoP nonces lasts.
pub const DPOP_NONCE_SECS: u64 = 300;

/// The scope the demo adds so that items can be created and edited.
pub const WRITE_SCOPE: &str = "items:write";

/// Why the demo stack could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// dev-idp did not start.
    #[error("the demo identity provider did not start")]
    Provider(#[source] dev_idp::SpawnError),
    /// The items API's configuration was refused.
    #[error("the demo items API is misconfigured")]
    ItemsConfig(#[source] items_api::config::ConfigError),
    /// The items API did not start (database, issuer).
    #[error("the demo items API did not start")]
    ItemsStart(#[source] items_api::StartError),
    /// A folder or socket could not be made.
    #[error("the demo could not set up its files or sockets")]
    Io(#[from] std::io::Error),
    /// A URL of the stack was invalid (a bug).
    #[error("the demo made an invalid URL")]
    Url(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The running demo stack (see the [crate docs](crate)). Dropping it stops
/// the items API and the provider and deletes the database.
pub struct DemoStack {
    idp: dev_idp::DevIdp,
    items_api: Url,
    server: JoinHandle<()>,
    folder: tempfile::TempDir,
}

impl std::fmt::Debug for DemoStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoStack")
            .field("issuer", &self.idp.issuer())
            .field("items_api", &self.items_api.as_str())
            .finish_non_exhaustive()
    }
}

impl DemoStack {
    /// Starts dev-idp and the items API on `127.0.0.1`, each on a free port.
    ///
    /// # Errors
    /// [`DemoError`] naming the part that did not start.
    pub async fn start() -> Result<Self, DemoError> {
        let idp =
            dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }).await.map_err(DemoError::Provider)?;
        let folder = tempfile::Builder::new().prefix("tessera-demo.").tempdir()?;
        let database = format!("sqlite://{}", folder.path().join("items.db").display());
        let issuer = idp.issuer().to_owned();
        // Bound first: the API's URL is its configured PUBLIC_URL, which
        // DPoP proofs must name (never the requests' Host).
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let items_api =
            Url::parse(&format!("http://{}", listener.local_addr()?)).map_err(|e| DemoError::Url(Box::new(e)))?;
        let config = items_api::Config::load_with(None, |name| match name {
            // Demo mode: the demo items for alice and bob.
            "DEMO" => Some("1".to_owned()),
            "OKTA_ISSUER" => Some(issuer.clone()),
            "DATABASE_URL" => Some(database.clone()),
            "BIND" => Some(listener.local_addr().ok()?.to_string()),
            "PUBLIC_URL" => Some(items_api.to_string()),
            // The API asks DPoP clients for nonces of its own (RFC 9449 §9).
            "DPOP_NONCE_SECS" => Some(DPOP_NONCE_SECS.to_string()),
            _ => None,
        })
        .map_err(DemoError::ItemsConfig)?;
        let state = items_api::build(&config).await.map_err(DemoError::ItemsStart)?;
        let server = tokio::spawn(async move {
            // Bounded like the items API's own binary (slow clients, a connection cap).
            http_server::serve(listener, items_api::router(state), config.limits, std::future::pending()).await;
        });
        Ok(Self { idp, items_api, server, folder })
    }

    /// The demo provider's issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        self.idp.issuer()
    }

    /// The demo items API's base URL.
    #[must_use]
    pub fn items_api(&self) -> &Url {
        &self.items_api
    }

    /// The stack's temporary folder (deleted with it): where a demo keeps
    /// files that must not outlive it, such as its account book.
    #[must_use]
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// Points `config` at this stack: its issuer, the demo client,
    /// [`WRITE_SCOPE`] added to the scopes, and DPoP on: demo tokens are
    /// bound to a key of this process, as Tessera recommends. (The items
    /// API to call is [`items_api`](Self::items_api).)
    ///
    /// # Errors
    /// [`DemoError::Url`] (never with a running stack).
    pub fn configure(&self, config: &mut SigninConfig) -> Result<(), DemoError> {
        config.issuer = IssuerUrl::new(self.issuer().to_owned()).map_err(|e| DemoError::Url(Box::new(e)))?;
        config.client_id = ClientId::new(DEMO_CLIENT_ID.to_owned());
        config.dpop = true;
        if !config.scopes.iter().any(|s| s == WRITE_SCOPE) {
            config.scopes.push(WRITE_SCOPE.to_owned());
        }
        Ok(())
    }
}

impl Drop for DemoStack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_stack_serves_discovery_and_the_items_api_and_configures_a_session() {
        let stack = DemoStack::start().await.unwrap();
        let discovery = format!("{}/.well-known/openid-configuration", stack.issuer());
        let document: serde_json::Value = reqwest::get(&discovery).await.unwrap().json().await.unwrap();
        assert_eq!(document["issuer"], stack.issuer());
        let health = reqwest::get(stack.items_api().join("/healthz").unwrap()).await.unwrap();
        assert!(health.status().is_success());
        // Without a token the API answers a bearer challenge, not data.
        let items = reqwest::get(stack.items_api().join("/v1/items").unwrap()).await.unwrap();
        assert_eq!(items.status(), 401);

        let mut config = SigninConfig::demo();
        config.client_id = ClientId::new("someone-else".to_owned());
        stack.configure(&mut config).unwrap();
        assert_eq!(config.issuer.as_str(), stack.issuer());
        assert_eq!(config.client_id.as_str(), DEMO_CLIENT_ID);
        assert_eq!(config.scopes.iter().filter(|s| *s == WRITE_SCOPE).count(), 1);
        assert!(config.dpop, "the demo binds its tokens");
        stack.configure(&mut config).unwrap();
        assert_eq!(config.scopes.iter().filter(|s| *s == WRITE_SCOPE).count(), 1, "added once");
    }

    #[tokio::test]
    async fn dropping_the_stack_deletes_its_folder_and_stops_the_api() {
        let stack = DemoStack::start().await.unwrap();
        let folder = stack.folder().to_owned();
        let health = stack.items_api().join("/healthz").unwrap();
        assert!(folder.join("items.db").exists());
        drop(stack);
        assert!(!folder.exists());
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(2)).build().unwrap();
        // The aborted server task is dropped (closing its socket) when the
        // runtime next runs it.
        let mut stopped = false;
        for _ in 0..40 {
            if client.get(health.clone()).send().await.is_err() {
                stopped = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(stopped, "the API stopped listening");
    }
}
