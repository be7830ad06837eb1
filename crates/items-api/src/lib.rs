//! The items API: a resource server that keeps people's items, protected by
//! Okta (or dev-idp) access tokens.
//!
//! Decisions live here: [`auth`] validates tokens (locally against the JWKS
//! or by introspection), [`policy`] asks Rego or OPA, [`store`] keeps items in
//! SQLite or PostgreSQL, and [`api`] adapts them to HTTP with RFC 6750 errors.

pub mod api;
pub mod auth;
pub mod config;
pub mod cors;
pub mod docs;
pub mod dpop;
pub mod error;
pub mod model;
pub mod policy;
pub mod store;

pub use api::{AppState, router};
pub use config::Config;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The database could not be opened or migrated.
    #[error("cannot open the database")]
    Store(#[from] store::StoreError),
    /// The validator could not be set up.
    #[error("cannot set up token validation")]
    Auth(#[from] auth::AuthError),
    /// The policy could not be loaded.
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The DPoP checks' parts a fleet shares: the nonce key (`DPOP_NONCE_KEY`),
/// and the replay store (`DPOP_REPLAY`), each named in a start-up note.
fn fleet_dpop(
    config: &Config,
    store: &store::Store,
    mut dpop: dpop::DpopChecks,
    clock: std::sync::Arc<dyn clock::Clock>,
) -> dpop::DpopChecks {
    match (config.dpop_nonce, &config.dpop_nonce_key) {
        (Some(lifetime), Some(key)) => dpop = dpop.with_nonce_key(key.bytes(), lifetime),
        (Some(lifetime), None) => {
            tracing::warn!(
                "DPoP nonces are made with a key of this process's own: several instances behind one URL need \
                 the same DPOP_NONCE_KEY (or DPOP_NONCE_KEY_FILE), else each asks clients again for its own nonce"
            );
            dpop = dpop.with_nonces(lifetime);
        }
        (None, Some(_)) => tracing::info!("DPOP_NONCE_KEY is set but DPOP_NONCE_SECS is 0: no nonces are asked for"),
        (None, None) => {}
    }
    if !dpop.accepted() {
        return dpop;
    }
    let database = config.database_url.starts_with("postgres");
    match config.dpop_replay {
        config::ReplayPlace::Database => match store.database_replays(dpop.replay_window(), clock) {
            Some(replays) => {
                tracing::info!(
                    sweep_every = ?replays.sweep_period(),
                    "DPoP proofs are remembered in the database, shared by every instance on it"
                );
                dpop = dpop.with_replays(std::sync::Arc::new(replays));
            }
            None => tracing::warn!("DPOP_REPLAY=database needs PostgreSQL: DPoP proofs are remembered in memory"),
        },
        config::ReplayPlace::Memory if database => tracing::warn!(
            "DPOP_REPLAY=memory: DPoP proofs are remembered by this instance only; a proof accepted here is taken \
             once more by any other instance on this database"
        ),
        config::ReplayPlace::Memory => {}
    }
    dpop
}

/// Builds the state the configuration describes: opens (and, in demo mode
/// only, seeds with the demo items) the store, sets up the validator and
/// loads the policy.
///
/// # Errors
/// The first part that cannot be set up.
pub async fn build(config: &Config) -> Result<AppState, StartError> {
    let store = store::Store::connect(&config.database_url).await?;
    let mode = match config.validation {
        config::Validation::Local => auth::Mode::Local,
        config::Validation::Introspection => auth::Mode::Introspection {
            client_id: config.client_id.clone().unwrap_or_default(),
            client_secret: config.client_secret.clone().unwrap_or_else(|| oauth2::ClientSecret::new(String::new())),
            cache_ttl: config.introspection_cache,
        },
    };
    let options = auth::ValidatorOptions {
        introspection_burst: config.introspection_burst,
        introspections_per_minute: config.introspections_per_minute,
        max_cached_tokens: config.token_cache_size,
        net: config.net.clone(),
        clients: config.client_ids.clone(),
        ..auth::ValidatorOptions::default()
    };
    // One clock judges tokens and DPoP proofs (and sweeps remembered ones).
    let clock = options.clock.clone();
    let replay_clock = clock.clone();
    let validator = auth::TokenValidator::with_options(
        auth::ValidatorConfig {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway: config.leeway,
            timeout: config.upstream_timeout,
            mode,
        },
        options,
    )?;
    if config.demo {
        // Owned by alice's and bob's user ids at the issuer, as the
        // validator names it (issue 14, item 8).
        let added = store.seed_demo(validator.issuer()).await?;
        if added > 0 {
            tracing::info!(added, "seeded demo items for alice and bob");
        }
    }
    let policy = match (&config.policy_file, &config.opa_url) {
        (Some(path), _) => policy::Policy::rego_file(path, &config.policy_query)?,
        (None, Some(url)) => policy::Policy::opa(url.clone(), config.upstream_timeout, &config.net)?,
        (None, None) => policy::Policy::None,
    };
    // Without a public URL to check proofs against, DPoP is not accepted
    // (the configuration requires one unless ACCEPT_DPOP=false).
    let public_urls = if config.accept_dpop { config.public_urls.clone() } else { Vec::new() };
    let mut dpop = dpop::DpopChecks::new(public_urls, config.dpop_max_age).with_clock(clock);
    dpop = fleet_dpop(config, &store, dpop, replay_clock);
    let state = AppState::with_dpop(validator, store, policy, dpop).with_scopes(config.scopes.clone());
    Ok(match &config.cors {
        Some(cors) => state.with_cors(cors.clone()),
        None => state,
    })
}
