//! `tessera demo`: dev-idp and the items API in-process on loopback (port 0),
//! a temporary SQLite database with the demo items, and a session pointed at
//! them that lives as long as the command.

use std::sync::Arc;

use openidconnect::IssuerUrl;
use signin::Session;
use signin::accounts::AccountBook;
use signin::flow::config::SigninConfig;
use signin::store::MemoryStore;
use url::Url;

use crate::args::{Cli, Command};
use crate::exit::{Exit, Failure};
use crate::{commands, parse};

/// Separates the demo's commands.
pub const THEN: &str = "--then";

/// The running demo stack.
struct Stack {
    idp: dev_idp::DevIdp,
    items_api: Url,
    _dir: tempfile::TempDir,
    book: std::path::PathBuf,
}

async fn start() -> Result<Stack, Failure> {
    let idp = dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() })
        .await
        .map_err(|e| Failure::new(Exit::Error, e))?;
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}", dir.path().join("items.db").display());
    let issuer = idp.issuer().to_owned();
    let config = items_api::Config::load_with(None, |name| match name {
        "OKTA_ISSUER" => Some(issuer.clone()),
        "DATABASE_URL" => Some(database.clone()),
        "DEMO_SEED" => Some("1".to_owned()),
        "BIND" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    })
    .map_err(|e| Failure::new(Exit::Error, e))?;
    let state = items_api::build(&config).await.map_err(|e| Failure::new(Exit::Error, e))?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let items_api =
        Url::parse(&format!("http://{}", listener.local_addr()?)).map_err(|e| Failure::new(Exit::Error, e))?;
    tokio::spawn(async move { axum::serve(listener, items_api::router(state)).await });
    let book = dir.path().join("accounts.json");
    Ok(Stack { idp, items_api, _dir: dir, book })
}

/// Splits the demo's arguments into commands at each `--then`; with none,
/// the default tour; a sign-in comes first unless the first command is one.
fn plan(args: &[String]) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> =
        args.split(|a| a == THEN).filter(|c| !c.is_empty()).map(<[String]>::to_vec).collect();
    if commands.is_empty() {
        commands = vec![vec!["whoami".into()], vec!["items".into(), "list".into()]];
    }
    if commands[0].first().map(String::as_str) != Some("login") {
        commands.insert(0, vec!["login".into()]);
    }
    commands
}

/// Runs the demo: starts the stack, then each command in turn, stopping at
/// the first failure.
///
/// # Errors
/// The first failing command's [`Failure`].
pub async fn run(args: &[String], json: bool) -> Result<(), Failure> {
    let plan = plan(args);
    // Parse everything first: a typo should not cost a sign-in.
    let mut parsed = Vec::new();
    for words in &plan {
        let cli: Cli = parse(std::iter::once("tessera".to_owned()).chain(words.iter().cloned()))?;
        if matches!(cli.command, Command::Demo { .. }) {
            return Err(Failure::new(Exit::Usage, "`tessera demo` cannot run inside a demo"));
        }
        parsed.push(cli);
    }
    let stack = start().await?;
    let progress = format!(
        "Demo: dev-idp at {} (alice / alice-demo-pw, bob / bob-demo-pw), items API at {}",
        stack.idp.issuer(),
        stack.items_api
    );
    commands::progress(&progress);
    let mut config = SigninConfig::load()?;
    config.issuer = IssuerUrl::new(stack.idp.issuer().to_owned()).map_err(|e| Failure::new(Exit::Error, e))?;
    config.items_api = stack.items_api.clone();
    if !config.scopes.iter().any(|s| s == "items:write") {
        config.scopes.push("items:write".to_owned());
    }
    let session = Session::new(config, Arc::new(MemoryStore::new()), AccountBook::empty(&stack.book));
    for cli in parsed {
        commands::run(&session, cli.command, json || cli.json).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
