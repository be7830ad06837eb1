//! `tessera`: sign in with Okta (or any OpenID provider) through the system
//! browser and use the items API from a terminal. Every decision is the
//! sign-in core's (`signin::Session`) or the items client's; this binary
//! parses the command line, wires the token store, prints, and turns errors
//! into exit codes (see `tessera --help`).
//!
//! A library with one entry point, [`main`], so that the desktop binary can
//! be the CLI too: the Linux packages ship one program, `tessera-desktop`,
//! and `/usr/bin/tessera` starts it as the CLI (see `tessera-desktop`'s
//! `main`). The `tessera` binary of this crate is the same entry point alone.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use app::settings::ProfileChoice;
use app::{OpenedStore, Settings, TokenStoreChoice, WhenUnavailable};
use clap::Parser as _;
use signin::accounts::AccountBook;
use signin::flow::config::SigninConfig;

mod args;
mod commands;
mod demo;
mod doctor;
mod exit;
mod machine;
mod output;
mod qr;

use args::{AccountsAction, Cli, Command};
use exit::{Exit, Failure};

/// Runs the command line `words` (the program's name first, as
/// `std::env::args()` gives it) and answers the exit code; help, version and
/// usage errors are printed here.
pub fn main(words: impl IntoIterator<Item = String>) -> ExitCode {
    let outcome = parse(words).and_then(|cli| {
        tracing_subscriber::fmt()
            .with_env_filter(log_filter(cli.verbose))
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init();
        run(cli)
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.print();
            ExitCode::from(failure.exit as u8)
        }
    }
}

/// Tessera's own crates (their log targets), whose lines `-v` and `-vv`
/// show. None of them logs a token, an authorization code or a secret, at
/// any level (tested with `-vv`); the libraries below them (HTTP, TLS)
/// stay at `warn`, as they may log URLs and headers at debug.
const OWN_LOG_TARGETS: [&str; 8] = ["tessera", "signin", "app", "items_client", "dpop", "net", "settings", "demo"];

/// What is logged on stderr: warnings, and with `-v` (`info`) or `-vv`
/// (`debug`) Tessera's own steps; without `-v`, `RUST_LOG` if set.
fn log_filter(verbose: u8) -> tracing_subscriber::EnvFilter {
    let level = match verbose {
        0 => {
            return tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        }
        1 => "info",
        _ => "debug",
    };
    let own: Vec<String> = OWN_LOG_TARGETS.iter().map(|target| format!("{target}={level}")).collect();
    tracing_subscriber::EnvFilter::new(format!("warn,{}", own.join(",")))
}

/// Parses a command line; help and version are printed here and end the
/// program with 0, usage errors are printed and answer [`exit::Exit::Usage`].
fn parse(words: impl IntoIterator<Item = String>) -> Result<Cli, Failure> {
    match Cli::try_parse_from(words) {
        Ok(cli) => Ok(cli),
        Err(error) => {
            let _ = error.print();
            if error.exit_code() == 0 {
                std::process::exit(0);
            }
            Err(Failure::usage_reported())
        }
    }
}

/// Whether the command reads or writes refresh tokens (and so needs the keyring).
fn needs_tokens(command: &Command) -> bool {
    !matches!(
        command,
        Command::Doctor
            | Command::Completions { .. }
            | Command::Manpage
            | Command::Accounts { action: None | Some(AccountsAction::List | AccountsAction::Use { .. }) }
    )
}

/// Whether the command acts on the account in use.
fn uses_the_active_account(command: &Command) -> bool {
    matches!(
        command,
        Command::Whoami { account: None }
            | Command::Token { account: None }
            | Command::Items { account: None, .. }
            | Command::Logout { all: false, account: None, .. }
    )
}

/// The account `--account` chose for this command only (`token`, `whoami`, `items`).
pub fn account_chosen(command: &Command) -> Option<&str> {
    match command {
        Command::Whoami { account } | Command::Token { account } | Command::Items { account, .. } => account.as_deref(),
        _ => None,
    }
}

/// Whether the command needs the token store, given the account book: a
/// sign-in writes one; anything else reads a saved one, and with no account
/// in the book there is none to read, whatever the state of the store. Then
/// the session answers "nobody is signed in" (exit 3) rather than why the
/// keyring cannot be reached.
fn needs_store(command: &Command, book: &AccountBook) -> bool {
    matches!(command, Command::Login { .. }) || (needs_tokens(command) && !book.list().is_empty())
}

/// The token store: the one chosen (`--token-store`, else the settings'),
/// opened and probed up front; memory with --memory-only or when the command
/// needs none. Never a file. Runs before the async runtime (the Secret
/// Service client blocks on a runtime of its own).
fn token_store(chosen: TokenStoreChoice, needed: bool) -> Result<OpenedStore, Failure> {
    if !needed {
        return Ok(OpenedStore::memory());
    }
    if chosen == TokenStoreChoice::Memory {
        commands::progress("Memory-only session: the sign-in is forgotten when this command ends.");
    }
    app::open_store(chosen, WhenUnavailable::Fail).map_err(|error| {
        let hint = exit::store_hint(chosen);
        Failure::from(error).with_hint(hint)
    })
}

/// The store asked for: `--memory-only` (or `TESSERA_MEMORY_ONLY`), else
/// `--token-store`, else the settings'.
fn chosen_store(cli: &Cli, configured: TokenStoreChoice) -> Result<TokenStoreChoice, Failure> {
    if cli.memory_only {
        return Ok(TokenStoreChoice::Memory);
    }
    match &cli.token_store {
        Some(name) => Ok(TokenStoreChoice::parse("--token-store", name)?),
        None => Ok(configured),
    }
}

/// The profiles of the configuration file, as the environment leaves them
/// (the file read once).
pub struct Profiles(app::settings::ProfileTable);

impl Profiles {
    /// The profile an account signed in at `issuer` with `client_id`
    /// belongs to: `Some(None)` for the top-level settings, `None` for none.
    pub fn of(&self, issuer: &str, client_id: &str) -> Option<Option<String>> {
        self.0.of(issuer, client_id)
    }

    /// The name shown for an account's profile: its name, `default` for the
    /// top-level settings, `-` when no profile signs in there any more.
    pub fn label(&self, issuer: &str, client_id: &str) -> String {
        match self.of(issuer, client_id) {
            Some(Some(name)) => name,
            Some(None) => app::settings::TOP_PROFILE.to_owned(),
            None => "-".to_owned(),
        }
    }
}

/// The settings of one `tessera login`: its `--prompt` and `--port`s over
/// the configured ones.
fn login_config(mut config: SigninConfig, prompt: Option<&str>, ports: &[u16]) -> Result<SigninConfig, Failure> {
    if let Some(prompt) = prompt {
        let prompt = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
        config.prompt = (!prompt.is_empty()).then_some(prompt);
    }
    if !ports.is_empty() {
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        app::settings::set_loopback_ports(&mut config.redirect, "--port", &ports.join(" "))?;
    }
    Ok(config)
}

fn run(cli: Cli) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // Generated from the command line itself: nothing to configure.
    match &cli.command {
        Command::Completions { shell } => {
            let mut stdout = std::io::stdout().lock();
            clap_complete::generate(*shell, &mut <Cli as clap::CommandFactory>::command(), "tessera", &mut stdout);
            return Ok(());
        }
        Command::Manpage => {
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut std::io::stdout().lock())?;
            return Ok(());
        }
        _ => {}
    }
    if let Command::Demo { commands } = &cli.command {
        return runtime.block_on(demo::run(commands, cli.json));
    }
    let env = app::settings::process_env(cli.env_file.as_deref())?;
    for note in app::settings::ignored_tutorial_settings(&env) {
        commands::progress(&note);
    }
    let file = Settings::default_file();
    let mut book = AccountBook::load(AccountBook::default_path()?)?;
    let profiles = Profiles(Settings::profile_table(file.as_deref(), &env));
    // Listing and choosing accounts read and write the account book only:
    // they need no provider, and cross profiles.
    if let Command::Accounts { action: None | Some(AccountsAction::List | AccountsAction::Use { .. }) } = &cli.command {
        let Command::Accounts { action } = cli.command else { unreachable!() };
        return commands::accounts_in_book(book, &profiles, action.unwrap_or(AccountsAction::List), cli.json);
    }
    // `--account`: that account (and its profile) for this command only;
    // the account in use stays as it is.
    let chosen_account = account_chosen(&cli.command).map(|query| book.find(query).cloned()).transpose()?;
    // The settings first: with no provider configured that is what the
    // person needs to hear, whatever the state of the keyring.
    let of_account = chosen_account.as_ref().or(book.active()).map(|a| profiles.of(&a.key.issuer, &a.key.client_id));
    let choice = match (&cli.profile, &of_account) {
        (Some(name), _) => ProfileChoice::Chosen(name),
        (None, Some(Some(profile))) => ProfileChoice::OfAccount(profile.as_deref()),
        (None, _) => ProfileChoice::Default,
    };
    let settings = Settings::load_profile(file.as_deref(), &env, choice)?;
    // A profile chosen by name uses its own account: the most recent one it
    // signed in, when the account in use is another profile's.
    if chosen_account.is_none()
        && let Some(key) = settings.account_to_use(book.list(), book.active().map(|a| &a.key))
    {
        book.set_active(&key)?;
    }
    // With profiles, nobody signed in with this one yet: the account in use
    // is another profile's, and is not handed to this one's items API.
    // (Without profiles, the session says where that account was signed in.)
    let strangers = book.active().is_some_and(|a| !settings.owns(a));
    let has_profiles = !Settings::profile_names(file.as_deref()).is_empty();
    if strangers && has_profiles && uses_the_active_account(&cli.command) {
        let profile = settings.profile.as_deref().unwrap_or(app::settings::TOP_PROFILE);
        return Err(Failure::new(Exit::SignInRequired, format!("nobody is signed in with the profile {profile}"))
            .with_hint(format!("sign in with `tessera --profile {profile} login`")));
    }
    if let Some(account) = &chosen_account
        && !settings.owns(account)
        && has_profiles
    {
        let profile = settings.profile.as_deref().unwrap_or(app::settings::TOP_PROFILE);
        let its = profiles.label(&account.key.issuer, &account.key.client_id);
        return Err(Failure::new(
            Exit::Usage,
            format!("{} is not an account of the profile {profile} (its profile: {its})", account.display_name()),
        )
        .with_hint("leave out --profile to use the account with its own profile"));
    }
    let Settings { signin: config, items_api, token_store: configured, profile } = settings;
    let signin = match &cli.command {
        Command::Login { prompt, ports, .. } => login_config(config, prompt.as_deref(), ports)?,
        _ => config,
    };
    let chosen = chosen_store(&cli, configured)?;
    let store = token_store(chosen, needs_store(&cli.command, &book))?;
    tracing::info!(
        issuer = %signin.issuer,
        client_id = %signin.client_id.as_str(),
        items_api = %items_api,
        profile = profile.as_deref().unwrap_or(app::settings::TOP_PROFILE),
        store = ?store.kind,
        "settings"
    );
    let app = app::production(Settings { signin, items_api, token_store: chosen, profile }, store, book)?;
    runtime.block_on(commands::run(&app, cli.command, cli.json))
}
