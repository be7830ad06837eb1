//! `tessera demo`: dev-idp and the items API in-process on loopback (port 0),
//! a temporary SQLite database with the demo items, and a session pointed at
//! them that lives as long as the command.

use app::Settings;

use crate::args::{Cli, Command};
use crate::exit::{Exit, Failure};
use crate::{commands, parse};

/// Separates the demo's commands.
pub const THEN: &str = "--then";

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
    // The demo's own provider: no configured one is needed (or used).
    let settings = Settings::demo_from(Settings::default_file().as_deref(), |name| std::env::var(name).ok())?;
    let app = app::demo(settings).await?;
    let stack = app.demo_stack().ok_or_else(|| Failure::new(Exit::Error, "the demo stack did not start"))?;
    let users = demo::USERS.iter().map(|(user, password)| format!("{user} / {password}")).collect::<Vec<_>>();
    let progress =
        format!("Demo: dev-idp at {} ({}), items API at {}", stack.issuer(), users.join(", "), stack.items_api());
    commands::progress(&progress);
    for cli in parsed {
        commands::run(&app, cli.command, json || cli.json).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
