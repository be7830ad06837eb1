//! `tessera-dev-idp`: run the development OpenID provider in the foreground.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dev_idp::Config;

/// An Okta-compatible OpenID provider for demos and tests.
#[derive(Debug, Parser)]
#[command(name = "tessera-dev-idp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A TOML configuration file (built-in demo defaults otherwise).
    #[arg(long, env = "DEV_IDP_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The port to listen on (127.0.0.1 only); overrides the file.
    #[arg(long, env = "DEV_IDP_PORT", global = true)]
    port: Option<u16>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the provider until interrupted (the default). SIGHUP rotates the signing key.
    Serve,
    /// Read a password from standard input and print its argon2 hash for the configuration.
    HashPassword,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::HashPassword => hash_password(),
        Command::Serve => serve(cli.config, cli.port),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("tessera-dev-idp: {error}");
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

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn hash_password() -> Result<(), BoxError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err("no password on standard input".into());
    }
    let hash = dev_idp::config::hash_password(password).map_err(|e| e.to_string())?;
    writeln!(std::io::stdout(), "{hash}")?;
    Ok(())
}

fn serve(config_path: Option<PathBuf>, port: Option<u16>) -> Result<(), BoxError> {
    let mut config = match &config_path {
        Some(path) => Config::from_toml_file(path)?,
        None => Config::default(),
    };
    config = config.with_environment(|name| std::env::var(name).ok())?;
    if let Some(port) = port {
        config.port = port;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let users: Vec<String> = config.users.iter().map(|u| u.login.clone()).collect();
        let demo = config_path.is_none();
        let idp = dev_idp::spawn(config).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "dev-idp is running.")?;
        writeln!(out, "  issuer:    {}", idp.issuer())?;
        writeln!(out, "  discovery: {}/.well-known/openid-configuration", idp.issuer())?;
        if demo {
            writeln!(
                out,
                "  people:    alice / {}   bob / {}",
                dev_idp::config::DEMO_ALICE_PASSWORD,
                dev_idp::config::DEMO_BOB_PASSWORD
            )?;
            writeln!(
                out,
                "  clients:   {} (public, PKCE)   {} (secret {})",
                dev_idp::config::DESKTOP_CLIENT_ID,
                dev_idp::config::ITEMS_API_CLIENT_ID,
                dev_idp::config::ITEMS_API_DEMO_SECRET
            )?;
        } else {
            writeln!(out, "  people:    {}", users.join(", "))?;
        }
        writeln!(out, "Press Ctrl-C to stop; send SIGHUP to rotate the signing key.")?;
        drop(out);
        wait_for_signals(&idp).await;
        idp.shutdown().await;
        Ok(())
    })
}

#[cfg(unix)]
async fn wait_for_signals(idp: &dev_idp::DevIdp) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut hangup), Ok(mut terminate)) = (signal(SignalKind::hangup()), signal(SignalKind::terminate())) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = terminate.recv() => return,
            _ = hangup.recv() => {
                let provider = idp.provider().clone();
                match tokio::task::spawn_blocking(move || provider.rotate_keys()).await {
                    Ok(Ok(kid)) => tracing::info!(%kid, "SIGHUP: new signing key"),
                    _ => tracing::error!("SIGHUP: key rotation failed"),
                }
            }
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signals(_idp: &dev_idp::DevIdp) {
    let _ = tokio::signal::ctrl_c().await;
}
