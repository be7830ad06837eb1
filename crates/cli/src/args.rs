//! The command line, as clap reads it.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, ArgGroup, Parser, Subcommand};

/// What `tessera -h` and `tessera --help` say first, before Usage.
const ABOUT: &str = "Sign in with Okta (or any OpenID Connect provider) and use the items API from a terminal.";

/// What `tessera --help` says first: what it is and how to start.
const LONG_ABOUT: &str = "\
Sign in with Okta (or any OpenID Connect provider) through your system browser,
and use the items API from a terminal. Try it with `tessera demo`; with your
Okta org, set OKTA_DOMAIN and CLIENT_ID and run `tessera login`. Data goes to
stdout, progress and errors to stderr.";

/// What `tessera -h` says after the options: the exit codes in brief.
const AFTER_HELP: &str = "\
Exit codes: 0 success, 1 other error, 2 usage or settings, 3 sign-in required,
4 permission denied, 5 not found, 6 network, 7 keyring unavailable,
8 rate limited. `tessera --help` says more, with the settings.";

/// What `tessera --help` says after the options: the settings, where
/// sign-ins are kept, profiles, networks, and the exit codes.
const AFTER_LONG_HELP: &str = "\
Settings come from ~/.config/tessera/tessera.toml and the environment
(OKTA_ISSUER or OKTA_DOMAIN, CLIENT_ID, OKTA_SCOPES, REDIRECT_URL,
LOOPBACK_PORTS, OKTA_PROMPT, ITEMS_API_URL, SIGNIN_TIMEOUT_SECS). A .env file is read only when
named with --env-file PATH (or TESSERA_ENV_FILE=PATH), never from the working
folder by itself, and it never overrides the environment. ITEMS_API_URL must be
https, or http on 127.0.0.1 or [::1]. There is no default provider: with none
configured, commands that need one say so and exit 2 (set OKTA_DOMAIN and
CLIENT_ID, or try `tessera demo`, which starts a provider of its own). Each
account is refreshed and revoked only at the issuer that signed it in; logout
exits non-zero when that issuer could not revoke it.

Accounts are shown by email (or login); where two go by the same one (the
same email at two issuers), their ids tell them apart. `tessera accounts use
ACCOUNT` changes the account in use; `--account ACCOUNT` on token, whoami and
items uses another one for that command only.

Where sign-ins are kept (--token-store, TESSERA_TOKEN_STORE, token_store in
tessera.toml), never in a plain file:
  auto            the default: the system keyring (the Secret Service on
                  Linux, the Credential Manager on Windows, the Keychain on
                  macOS); when there is none, tessera says so and names the
                  others (it never falls back silently)
  secret-service  Linux: the desktop keyring (GNOME Keyring, KWallet), kept
                  across reboots
  kernel          Linux: the kernel keyring, no D-Bus needed, kept for this
                  login session (an SSH session included) until it ends or
                  the machine restarts
  memory          forgotten when the command ends (also --memory-only,
                  TESSERA_MEMORY_ONLY=1)
On a machine without a browser, `tessera login --device` signs in with a code
entered on another device.

Several providers side by side: [profiles.NAME] tables in tessera.toml, each
with any of its settings over the top-level ones (the profile `default`).
--profile NAME (TESSERA_PROFILE) signs in with that profile and uses its
account; without it, commands follow the account in use, whose profile they
use (its provider and its items API). `tessera accounts` shows each account's
profile.

Behind a company proxy or TLS inspection: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY
and NO_PROXY are honoured (loopback never goes through a proxy), and
TESSERA_CA_FILE (ca_file in tessera.toml; else SSL_CERT_FILE) names a PEM file
of CA certificates trusted beside the system's.

Exit codes:
  0  success
  1  any other error
  2  usage: bad arguments or settings (no provider configured included),
     or a value the items API refuses
  3  sign-in required: nobody is signed in, or the sign-in is no longer valid
  4  permission denied: a missing scope, the API's policy, or a refused sign-in
  5  not found: no such item or account
  6  network: the provider or the items API cannot be reached or is unavailable
     (the provider failing with HTTP 5xx included)
  7  keyring unavailable: the chosen token store cannot be used (choose
     another with --token-store)
  8  rate limited: the provider or the items API is limiting requests; the
     message says when to try again
`tessera doctor` exits 0 when every check passes, 1 when one fails.";

/// `tessera`: sign in with Okta or any OpenID provider, and use the items API.
#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    after_long_help = AFTER_LONG_HELP
)]
pub struct Cli {
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// Log tessera's steps on stderr (-vv: with details).
    ///
    /// -v logs each step (info), -vv the details (debug): never a token, an
    /// authorization code or a secret. Without it, RUST_LOG is honoured.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Keep the sign-in in memory only, forgotten when tessera exits.
    ///
    /// For when the OS keyring is unavailable or unwanted (the same as
    /// --token-store memory).
    #[arg(
        long,
        global = true,
        env = "TESSERA_MEMORY_ONLY",
        action = ArgAction::SetTrue,
        value_parser = BoolishValueParser::new(),
        hide_env_values = true
    )]
    pub memory_only: bool,

    /// Where sign-ins are kept (default: auto).
    ///
    /// secret-service, kernel, memory or auto (the default; also
    /// TESSERA_TOKEN_STORE or token_store in tessera.toml): see below.
    #[arg(long, global = true, value_name = "STORE", value_parser = clap::builder::PossibleValuesParser::new(
        ["auto", "secret-service", "kernel", "memory"]))]
    pub token_store: Option<String>,

    /// Use this profile of tessera.toml and its account.
    ///
    /// [profiles.NAME] (`default`: the top-level settings) and its account,
    /// instead of the profile of the account in use.
    #[arg(long, global = true, value_name = "NAME", env = "TESSERA_PROFILE")]
    pub profile: Option<String>,

    /// Read settings from this .env-style file.
    ///
    /// KEY=value lines, for what the environment does not set. No .env is
    /// read unless named here.
    #[arg(long, global = true, value_name = "PATH", env = "TESSERA_ENV_FILE")]
    pub env_file: Option<std::path::PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in through the system browser (or with a code on another device).
    ///
    /// With no display (neither DISPLAY nor WAYLAND_DISPLAY, e.g. over SSH)
    /// and no BROWSER, no browser can open: login then signs in with a code
    /// as --device does, when the provider offers it, and otherwise prints
    /// the URL to open in a browser that reaches this machine. With a code,
    /// a QR code of the verification URL is drawn for a phone when stdout is
    /// a terminal (not with --json).
    Login {
        /// Sign in with a code on another device (RFC 8628), for machines without a browser.
        #[arg(long)]
        device: bool,
        /// The `prompt` to send, e.g. "login consent" or "consent" (empty: none); implies --add.
        #[arg(long)]
        prompt: Option<String>,
        /// Add another account or switch user (the provider asks for credentials again).
        #[arg(long)]
        add: bool,
        /// Listen for the browser's redirect on this loopback port (repeat, or
        /// separate with commas, for several: the first free one is used),
        /// for this command only instead of LOOPBACK_PORTS. Each must be
        /// registered at the provider as http://127.0.0.1:PORT/callback.
        #[arg(
            long = "port",
            value_name = "PORT",
            value_delimiter = ',',
            conflicts_with = "device",
            value_parser = clap::value_parser!(u16).range(1..)
        )]
        ports: Vec<u16>,
        /// Sign a service in with its own identity (OAuth client credentials)
        /// instead of a person: its client secret is read once from stdin (asked
        /// for without echo at a terminal; never a command-line argument) and
        /// kept in the token store, or it signs with --private-key
        /// (private_key_jwt). Nothing is kept when the provider refuses it.
        /// `tessera token` and `tessera items` then act as the service, whose
        /// token is fetched again when it expires.
        #[arg(long, conflicts_with_all = ["device", "prompt", "add", "ports"])]
        client_credentials: bool,
        /// The service's client id (default: CLIENT_ID or OKTA_CLIENT_ID).
        #[arg(long, value_name = "ID", requires = "client_credentials")]
        client_id: Option<String>,
        /// Authenticate with this PEM private key (RSA, or EC P-256 in PKCS#8)
        /// whose public key is registered for the service, instead of a
        /// secret; only the file's path is remembered.
        #[arg(long, value_name = "PATH", requires = "client_credentials")]
        private_key: Option<std::path::PathBuf>,
        /// The service's scopes, space-separated (default: OKTA_SCOPE, else
        /// OKTA_SCOPES without openid, profile, email and offline_access).
        #[arg(long, value_name = "SCOPES", requires = "client_credentials")]
        scope: Option<String>,
    },
    /// List the accounts signed in on this machine, or choose or remove one.
    Accounts {
        /// What to do (default: list).
        #[command(subcommand)]
        action: Option<AccountsAction>,
    },
    /// Show who is signed in (refreshes the access token when needed).
    Whoami {
        /// Show this account instead of the one in use (by email, login, id
        /// or a unique prefix, as `accounts use` finds it), for this command
        /// only: the account in use does not change.
        #[arg(long, value_name = "ACCOUNT")]
        account: Option<String>,
    },
    /// Your items in the items API.
    Items {
        /// Act as this account instead of the one in use (by email, login,
        /// id or a unique prefix), for this command only: the account in use
        /// does not change.
        #[arg(long, global = true, value_name = "ACCOUNT")]
        account: Option<String>,
        /// What to do.
        #[command(subcommand)]
        action: ItemsAction,
    },
    /// Print a fresh access token on stdout, for scripts (nothing else prints a token).
    ///
    /// With --json: {"access_token", "token_type" ("Bearer", or "DPoP" when
    /// the token is bound to this device's key), "expires_at" (Unix seconds),
    /// "expires_in" (seconds), "scope" (space-separated)}.
    Token {
        /// The token of this account instead of the one in use (by email,
        /// login, id or a unique prefix), for this command only: the account
        /// in use does not change.
        #[arg(long, value_name = "ACCOUNT")]
        account: Option<String>,
    },
    /// Sign out: revoke the sign-in at the provider and forget it here.
    Logout {
        /// Sign every account out.
        #[arg(long, conflicts_with = "account")]
        all: bool,
        /// The account to sign out (default: the active one).
        account: Option<String>,
        /// Also sign out of the provider in the browser: opens its sign-out
        /// page (RP-initiated logout, with the ID token as `id_token_hint`).
        #[arg(long)]
        browser: bool,
    },
    /// Check the settings against the provider and the items API.
    ///
    /// One line per check, and what to register in the Okta app (exit 1 when
    /// a check fails). Signs nobody in and changes nothing.
    Doctor,
    /// Try tessera against a provider and an items API of its own.
    ///
    /// Starts dev-idp and the items API in-process on loopback and runs
    /// commands against them (signing in first through the system browser).
    /// Commands follow `--` and are separated by `--then`, e.g.
    /// `tessera demo -- items add --name Lamp --price 12 --then items list`.
    /// Without commands: login, whoami, items list. Everything is forgotten
    /// when the demo ends (memory-only tokens, a temporary account book and
    /// database).
    Demo {
        /// The commands to run, separated by `--then`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        commands: Vec<String>,
    },
    /// Print the shell completion script for SHELL on stdout.
    ///
    /// E.g. `tessera completions bash >
    /// ~/.local/share/bash-completion/completions/tessera` (the packages
    /// install them).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout: `tessera manpage | man -l -`.
    #[command(hide = true)]
    Manpage,
}

/// `tessera accounts …`.
#[derive(Debug, Subcommand)]
pub enum AccountsAction {
    /// List the accounts (the default).
    List,
    /// Make an account the active one (by id, email, login or a unique prefix).
    Use {
        /// The account.
        account: String,
    },
    /// Sign an account out and forget it (revokes its sign-in at the provider).
    Remove {
        /// The account.
        account: String,
    },
}

/// `tessera items …`.
#[derive(Debug, Subcommand)]
pub enum ItemsAction {
    /// List your items, newest first.
    List {
        /// Only items with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Only items whose text contains this.
        #[arg(long)]
        q: Option<String>,
        /// Page size (1–100).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: Option<u32>,
        /// Fetch every page, not only the first.
        #[arg(long)]
        all_pages: bool,
    },
    /// Show one item.
    Show {
        /// The item's id.
        id: String,
    },
    /// Create an item.
    Add {
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its price.
        #[arg(long)]
        price: f64,
        /// Its description.
        #[arg(long, default_value = "")]
        description: String,
        /// A tag (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Change an item (only what is given).
    #[command(group(ArgGroup::new("change").required(true).multiple(true)
        .args(["name", "price", "description", "tags", "clear_tags"])))]
    Edit {
        /// The item's id.
        id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New price.
        #[arg(long)]
        price: Option<f64>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// New tags, replacing the old ones (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Remove every tag.
        #[arg(long, conflicts_with = "tags")]
        clear_tags: bool,
    },
    /// Delete an item.
    Rm {
        /// The item's id.
        id: String,
    },
}
