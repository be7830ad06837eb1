//! `tessera-items-api`: serve the items API.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// The items API: people's items behind OAuth 2.0 bearer tokens.
///
/// Settings come from the environment (OKTA_ISSUER, OKTA_AUDIENCE,
/// OKTA_CLIENT_ID, OKTA_CLIENT_SECRET, TOKEN_VALIDATION, DATABASE_URL,
/// POLICY_FILE, OPA_URL, BIND, DEMO_SEED), over an optional TOML file, over
/// demo defaults (dev-idp at 127.0.0.1:18080, SQLite).
#[derive(Debug, Parser)]
#[command(name = "tessera-items-api", version, about)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, env = "ITEMS_API_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Into::into)
        .and_then(|runtime| -> Result<(), Box<dyn std::error::Error>> { runtime.block_on(serve(cli.config)) });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("tessera-items-api: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(&format!("\n  caused by: {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config_file: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let config = items_api::Config::load(config_file.as_deref())?;
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
