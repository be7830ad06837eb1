//! Running the provider on a loopback port.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::keys::KeyError;
use crate::provider::Provider;
use crate::router::router;
use clock::{Clock, SystemClock};

/// Why the provider could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The configuration is inconsistent.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The signing key could not be made.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A running provider. Dropping it stops the server.
#[derive(Debug)]
pub struct DevIdp {
    provider: Provider,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// Starts a provider on `127.0.0.1:{config.port}` (0 picks a free port),
/// bounding slow clients as `config.server` says.
///
/// # Errors
/// When the configuration is invalid, the port is taken, or no key can be made.
pub async fn spawn(config: Config) -> Result<DevIdp, SpawnError> {
    spawn_with_clock(config, Arc::new(SystemClock)).await
}

/// [`spawn`] with a given clock (tests move a `ManualClock`).
///
/// # Errors
/// As [`spawn`].
pub async fn spawn_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<DevIdp, SpawnError> {
    config.validate()?;
    let port = config.port;
    let limits = config.server.limits();
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await.map_err(|source| SpawnError::Bind { port, source })?;
    let addr = listener.local_addr().map_err(|source| SpawnError::Bind { port, source })?;
    let origin = config.public_origin.clone().unwrap_or_else(|| format!("http://{addr}"));
    let issuer = format!("{}{}", origin.trim_end_matches('/'), config.issuer_path());
    // RSA key generation blocks for a while: keep it off the async workers.
    let provider = tokio::task::spawn_blocking(move || Provider::new(config, issuer, clock))
        .await
        .map_err(|_| KeyError::Encode("key generation task failed".into()))??;
    let (shutdown, stop) = oneshot::channel::<()>();
    let app = router(provider.clone());
    let task = tokio::spawn(http_server::serve(listener, app, limits, async {
        let _ = stop.await;
    }));
    Ok(DevIdp { provider, addr, shutdown: Some(shutdown), task })
}

impl DevIdp {
    /// The issuer, e.g. `http://127.0.0.1:41234/oauth2/default`.
    #[must_use]
    pub fn issuer(&self) -> &str {
        self.provider.issuer()
    }

    /// The address the provider listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The provider, for rotating keys and reading the configuration.
    #[must_use]
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Stops accepting connections and waits for the server to finish.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

impl Drop for DevIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}
