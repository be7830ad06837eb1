//! `tessera-items-api`: serve the items API.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// The items API: people's items behind OAuth 2.0 bearer tokens.
///
/// Settings come from the environment, over an optional TOML file. Required
/// (nothing is trusted by default): OKTA_ISSUER (or OKTA_DOMAIN), DATABASE_URL,
/// and PUBLIC_URL, the URL clients call the API at, which DPoP proofs must
/// name (or ACCEPT_DPOP=false). Optional: OKTA_AUDIENCE, TOKEN_VALIDATION,
/// OKTA_CLIENT_ID, OKTA_CLIENT_SECRET, POLICY_FILE, OPA_URL (or OPA_AUTHZ_URL),
/// POLICY_QUERY (data.items), BIND (127.0.0.1:8081), TLS_IN_FRONT, and the
/// rest listed in docs/items-api.md. GET /docs describes the API.
///
/// --demo (or DEMO=1) starts the demo instead: dev-idp's issuer at
/// 127.0.0.1:18080, sqlite://tessera-items.db, demo items for alice and bob.
#[derive(Debug, Parser)]
#[command(name = "tessera-items-api", version)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, env = "ITEMS_API_CONFIG")]
    config: Option<PathBuf>,
    /// Demo mode (as DEMO=1): demo defaults and demo items.
    #[arg(long)]
    demo: bool,
}

/// The exit code of a configuration the API refuses (as the CLI's usage errors).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let demo = cli.demo;
    let config = match items_api::Config::load_with(cli.config.as_deref(), |name| match name {
        "DEMO" if demo => Some("1".to_owned()),
        name => std::env::var(name).ok(),
    }) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{}", error_chain(&error));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Some(warning) = config.plain_http_warning() {
        tracing::warn!("{warning}");
    }
    for note in &config.ignored {
        tracing::warn!("{note}");
    }
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Into::into)
        .and_then(|runtime| -> Result<(), Box<dyn std::error::Error>> { runtime.block_on(serve(config)) });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", error_chain(&*error));
            ExitCode::FAILURE
        }
    }
}

/// `tessera-items-api: <error>` and its causes, one a line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = format!("tessera-items-api: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    message
}

async fn serve(config: items_api::Config) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(?config, "starting");
    let state = items_api::build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| items_api::StartError::Bind { addr: config.bind, source })?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    // Bounds on slow clients (HEADER_READ_TIMEOUT_SECS, IDLE_TIMEOUT_SECS,
    // REQUEST_TIMEOUT_SECS, MAX_CONNECTIONS): no reverse proxy needed.
    http_server::serve(listener, items_api::router(state), config.limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
