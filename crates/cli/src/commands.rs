//! The commands: each adapts one call of the sign-in core or the items
//! client (STYLE practice 1) and prints its result.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use app::{App, SessionTokens};
use items_client::{ItemPatch, ItemsClient, ListOptions, NewItem};
use serde_json::json;
use signin::accounts::{Account, AccountBook};
use signin::flow::browser::{Browser, BrowserError, SystemBrowser};
use signin::flow::redirect::{Link, Opening, Shown};
use signin::flow::signed_out::SignedOutPage;
use signin::session::DeviceCodeInfo;
use signin::{Session, SignInMethod};

use crate::args::{AccountsAction, Command, ItemsAction};
use crate::exit::{Exit, Failure};
use crate::output;

/// Runs one command (not `demo`) against `session`.
///
/// # Errors
/// The command's [`Failure`].
pub async fn run(app: &App, command: Command, json: bool) -> Result<(), Failure> {
    let session = &*app.session;
    // `--account`: that account for this command only; the account in use
    // stays as it is (and the next command of a demo uses it again).
    let Some(query) = crate::account_chosen(&command).map(str::to_owned) else {
        return run_command(app, command, json).await;
    };
    let account = session.act_for(Some(&query))?;
    tracing::info!(account = account.as_ref().map(Account::id), "--account: this command acts for it");
    let result = run_command(app, command, json).await;
    session.act_for(None)?;
    result
}

async fn run_command(app: &App, command: Command, json: bool) -> Result<(), Failure> {
    let session = &*app.session;
    let profile = app.profile.as_deref().unwrap_or(app::settings::TOP_PROFILE);
    match command {
        Command::Login { client_credentials: true, client_id, private_key, scope, .. } => {
            let given = crate::machine::MachineLogin { client_id, private_key, scope };
            crate::machine::login(session, profile, given, json).await
        }
        Command::Login { device, prompt, add, ports, .. } => {
            login(session, profile, device, !ports.is_empty(), add || prompt.is_some(), json).await
        }
        Command::Accounts { action } => accounts(session, action.unwrap_or(AccountsAction::List)).await,
        Command::Whoami { .. } => whoami(session, profile, json).await,
        Command::Items { action, .. } => items(&app.items, action, json).await,
        Command::Token { .. } => token(session, json).await,
        Command::Logout { all, account, browser } => logout(session, all, account.as_deref(), browser).await,
        Command::Doctor => crate::doctor::run(session.config(), &app.items_api, json).await,
        Command::Demo { .. } => Err(Failure::new(Exit::Usage, "`tessera demo` cannot run inside a demo")),
        Command::Completions { .. } | Command::Manpage => {
            Err(Failure::new(Exit::Usage, "completions and the manual page need no provider: run them on their own"))
        }
    }
}

/// Writes a progress line on stderr.
pub fn progress(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

async fn login(
    session: &Session,
    profile: &str,
    device: bool,
    ports_chosen: bool,
    switching: bool,
    json: bool,
) -> Result<(), Failure> {
    let browser = SystemBrowser::from_env();
    // No browser can open here (over SSH, on a server): a code instead, when
    // the provider offers it and no loopback port was chosen (to forward
    // it); else say how.
    let headless = if device { None } else { browser.unavailable() };
    let device = device
        || match headless {
            Some(why) if !ports_chosen && session.offers_device_sign_in().await? => {
                progress(&format!("No browser here ({why}): signing in with a code instead."));
                true
            }
            _ => false,
        };
    // A QR code of the verification URL for a phone, only for a person at a terminal.
    let qr = !json && std::io::stdout().is_terminal();
    let method = if device {
        SignInMethod::Device {
            on_code: Arc::new(move |code: &DeviceCodeInfo| show_code(code, qr)),
            on_wait: Arc::new(|wait| {
                let wait = signin::flow::rate_limit::in_words(wait);
                progress(&format!("The provider is limiting requests: waiting {wait}…"));
            }),
        }
    } else if let Some(why) = headless {
        SignInMethod::Browser {
            browser: Arc::new(NoBrowser),
            on_link: Arc::new(move |link| show_link(link, Some(why))),
        }
    } else {
        SignInMethod::Browser {
            browser: Arc::new(AnnouncedBrowser(browser)),
            on_link: Arc::new(|link| show_link(link, None)),
        }
    };
    let sign_in = session.sign_in(method, switching);
    tokio::pin!(sign_in);
    let signed_in = tokio::select! {
        result = &mut sign_in => result?,
        _ = tokio::signal::ctrl_c() => {
            session.cancel_sign_in();
            sign_in.await?
        }
    };
    let account = &signed_in.account;
    progress(&format!("Signed in as {}", output::account_label(account, &session.accounts())));
    if signed_in.same_person_again {
        progress(&format!(
            "{} was already signed in here: the provider may have kept its own sign-in in the browser. To add \
             someone else, run `tessera login --prompt login`, or sign out of the provider in the browser first.",
            account.display_name()
        ));
    }
    if json {
        output::json(&output::account_json(account, profile, true))?;
    }
    Ok(())
}

/// Shows a device sign-in's code and where to enter it on stderr, and with
/// `qr`, a QR code of the complete verification URL on stdout.
fn show_code(code: &DeviceCodeInfo, qr: bool) {
    let (code_text, uri) = (&code.user_code, &code.verification_uri);
    progress(&match &code.verification_uri_complete {
        Some(url) => format!("To sign in, open {url} on any device and check that it shows the code {code_text}"),
        None => format!("To sign in, open {uri} on any device and enter the code {code_text}"),
    });
    let complete = code.verification_uri_complete.as_ref().unwrap_or(uri);
    if let Some(drawn) = qr.then(|| crate::qr::render(complete.as_str())).flatten() {
        progress("Or scan this with a phone:");
        let _ = output::line(&drawn);
    }
}

/// Prints the link to sign in with when no browser opened (`headless`: why
/// none can open here), and each renewal of it; an opened browser has its
/// page, and [`AnnouncedBrowser`] printed where it went (so the link is not
/// shown, and not renewed).
fn show_link(link: Link<'_>, headless: Option<&str>) -> Shown {
    let Opening::Failed(_) = link.browser else { return Shown::No };
    let url = link.url;
    progress(&match (link.renewed, headless) {
        (true, _) => format!("The last link expires soon. To sign in, open this one instead:\n  {url}"),
        (false, Some(why)) => no_browser_here(why, url),
        (false, None) => format!("No browser could be opened. To sign in, open:\n  {url}"),
    });
    Shown::Yes
}

/// What to do when no browser can open here and the provider offers no
/// sign-in with a code: open the URL in a browser that reaches this
/// machine's loopback listener (here, or elsewhere with the port forwarded).
fn no_browser_here(why: &str, url: &url::Url) -> String {
    let port = url
        .query_pairs()
        .find(|(name, _)| name == "redirect_uri")
        .and_then(|(_, uri)| url::Url::parse(&uri).ok())
        .and_then(|uri| uri.port());
    let forward = match port {
        Some(port) => format!(" (over SSH: `ssh -L {port}:127.0.0.1:{port} <this machine>`, then open it on yours)"),
        // A pushed request (PAR) does not show it: choose it.
        None => " (over SSH: `tessera login --port PORT` with `ssh -L PORT:127.0.0.1:PORT <this machine>`, then open \
                 it on yours)"
            .to_owned(),
    };
    format!(
        "No browser here ({why}), and the provider does not offer signing in with a code on another device \
         (`tessera login --device`). To sign in, open this URL in a browser that can reach this machine's \
         127.0.0.1{forward}:\n  {url}"
    )
}

/// No browser to open (no display): the URL is shown instead.
struct NoBrowser;

impl Browser for NoBrowser {
    fn open(&self, _url: &url::Url) -> Result<(), BrowserError> {
        Err(BrowserError::NotFound)
    }
}

/// The system browser, saying on stderr that it opens and where to go when
/// nothing appears (a browser program may start without showing anything,
/// e.g. over SSH). The URL holds nothing secret (PKCE keeps the verifier here).
struct AnnouncedBrowser(SystemBrowser);

impl Browser for AnnouncedBrowser {
    fn open(&self, url: &url::Url) -> Result<(), BrowserError> {
        progress(&format!("Opening your browser to sign in. If nothing opens, go to:\n  {url}"));
        self.0.open(url)
    }
}

/// `accounts remove` (listing and choosing are [`accounts_in_book`]'s).
async fn accounts(session: &Session, action: AccountsAction) -> Result<(), Failure> {
    match action {
        AccountsAction::Remove { account } => logout(session, false, Some(&account), false).await,
        AccountsAction::List | AccountsAction::Use { .. } => {
            Err(Failure::new(Exit::Error, "listing and choosing accounts need no provider"))
        }
    }
}

/// `accounts` and `accounts use`: they read and write the account book
/// only, so they need no provider and cross profiles; each account is listed
/// with its profile.
///
/// # Errors
/// The book's errors.
pub fn accounts_in_book(
    mut book: AccountBook,
    profiles: &crate::Profiles,
    action: AccountsAction,
    json: bool,
) -> Result<(), Failure> {
    match action {
        AccountsAction::Use { account } => {
            let key = book.find(&account)?.key.clone();
            book.set_active(&key)?;
            let account = book.get(&key).ok_or_else(|| Failure::new(Exit::NotFound, "no such account"))?;
            let profile = profiles.label(&account.key.issuer, &account.key.client_id);
            let others: Vec<Account> = book.list().into_iter().cloned().collect();
            progress(&format!("Now using {} with the profile {profile}", output::account_label(account, &others)));
            Ok(())
        }
        _ => {
            let accounts: Vec<Account> = book.list().into_iter().cloned().collect();
            let labels: Vec<String> =
                accounts.iter().map(|a| profiles.label(&a.key.issuer, &a.key.client_id)).collect();
            list_accounts(&accounts, &labels, book.active(), json)
        }
    }
}

fn list_accounts(
    accounts: &[Account],
    profiles: &[String],
    active: Option<&Account>,
    json: bool,
) -> Result<(), Failure> {
    if json {
        let active_key = active.map(|a| &a.key);
        let list = accounts
            .iter()
            .zip(profiles)
            .map(|(a, profile)| output::account_json(a, profile, Some(&a.key) == active_key))
            .collect();
        output::json(&serde_json::Value::Array(list))?;
    } else if accounts.is_empty() {
        progress("No accounts; sign in with `tessera login`.");
    } else {
        output::line(&output::accounts_table(accounts, profiles, active))?;
    }
    Ok(())
}

/// `tessera token`: the access token alone on stdout, or with --json its
/// type, expiry and scopes.
async fn token(session: &Session, json: bool) -> Result<(), Failure> {
    if !json {
        return Ok(output::line(session.access_token().await?.secret())?);
    }
    let details = session.token_details().await?;
    let expires_at = details.expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let expires_in = details.expires_at.duration_since(SystemTime::now()).map_or(0, |d| d.as_secs());
    Ok(output::json(&json!({
        "access_token": details.token.access_token.secret(),
        "token_type": details.token.token_type(),
        "expires_at": expires_at,
        "expires_in": expires_in,
        "scope": details.scopes.join(" "),
    }))?)
}

async fn whoami(session: &Session, profile: &str, json: bool) -> Result<(), Failure> {
    let who = session.whoami().await?;
    let lifetime = who.expires_at.duration_since(SystemTime::now()).unwrap_or_default();
    let expires_in = lifetime.as_secs();
    if json {
        let mut value = output::account_json(&who.account, profile, true);
        value["scopes"] = json!(who.scopes);
        value["expires_in"] = json!(expires_in);
        value["dpop_jkt"] = json!(who.bound_key);
        return Ok(output::json(&value)?);
    }
    let a = &who.account;
    Ok(output::line(&output::table(&[
        vec!["account".into(), output::account_label(a, &session.accounts())],
        vec!["name".into(), a.identity.name.clone().unwrap_or_default()],
        vec!["email".into(), a.identity.email.clone().unwrap_or_default()],
        vec!["subject".into(), a.key.subject.clone()],
        vec!["issuer".into(), a.key.issuer.clone()],
        vec!["profile".into(), profile.to_owned()],
        vec!["scopes".into(), who.scopes.join(" ")],
        vec!["token expires".into(), format!("in {}", output::duration_in_words(lifetime))],
        vec!["tokens".into(), binding(who.bound_key.as_deref())],
    ]))?)
}

/// How the tokens are held, said plainly.
fn binding(bound_key: Option<&str>) -> String {
    match bound_key {
        Some(jkt) => format!("bound to this device (DPoP key {jkt})"),
        None => "bearer (anyone holding them can use them)".to_owned(),
    }
}

async fn items(client: &ItemsClient<SessionTokens>, action: ItemsAction, json: bool) -> Result<(), Failure> {
    match action {
        ItemsAction::List { tag, q, limit, all_pages } => {
            let mut options = ListOptions { limit, cursor: None, q, tag };
            let mut items = Vec::new();
            loop {
                let page = client.list(&options).await?;
                items.extend(page.items);
                match page.next_cursor {
                    Some(cursor) if all_pages => options.cursor = Some(cursor),
                    Some(_) => {
                        progress("(more items: pass --all-pages to see them all)");
                        break;
                    }
                    None => break,
                }
            }
            if json {
                output::json(&json!(items))?;
            } else {
                output::line(&output::items_table(&items))?;
            }
        }
        ItemsAction::Show { id } => print_item(&client.get(&id).await?, json)?,
        ItemsAction::Add { name, price, description, tags } => {
            let item = client.create(&NewItem { name, description, price, tags }).await?;
            progress(&format!("Added item {}", item.id));
            print_item(&item, json)?;
        }
        ItemsAction::Edit { id, name, price, description, tags, clear_tags } => {
            let tags = (clear_tags || !tags.is_empty()).then_some(tags);
            let item = client.update(&id, &ItemPatch { name, description, price, tags }).await?;
            progress(&format!("Changed item {}", item.id));
            print_item(&item, json)?;
        }
        ItemsAction::Rm { id } => {
            client.delete(&id).await?;
            progress(&format!("Deleted item {id}"));
        }
    }
    Ok(())
}

fn print_item(item: &items_client::Item, json: bool) -> std::io::Result<()> {
    if json { output::json(&json!(item)) } else { output::line(&output::item_details(item)) }
}

/// How long `tessera logout --browser` waits for the browser to come back
/// from the provider's sign-out to the signed-out page.
const SIGNED_OUT_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

async fn logout(session: &Session, all: bool, account: Option<&str>, browser: bool) -> Result<(), Failure> {
    let signed_out = if all { session.sign_out_all().await? } else { vec![session.sign_out_account(account).await?] };
    let mut not_revoked = Vec::new();
    let signed_out_accounts: Vec<Account> = signed_out.iter().map(|done| done.account.clone()).collect();
    let others = [session.accounts(), signed_out_accounts].concat();
    for done in signed_out {
        let account = &done.account;
        progress(&format!("Signed out of {}", output::account_label(account, &others)));
        if account.service.is_some() {
            progress(
                "A service's client credentials give no refresh token: there was nothing to revoke at the \
                 provider, and its saved credential is forgotten here (its last access token stays valid until \
                 it expires).",
            );
        }
        match (&done.logout_url, browser) {
            // The URL carries the ID token (id_token_hint): opened, never printed.
            (Some(url), true) => {
                // The provider sends the browser back here when asked to:
                // listen before it goes.
                let back = url.query_pairs().find(|(name, _)| name == "post_logout_redirect_uri");
                let page = match back.and_then(|(_, uri)| url::Url::parse(&uri).ok()) {
                    Some(uri) => SignedOutPage::bind(&uri).await.unwrap_or_else(|error| {
                        progress(&format!("The signed-out page cannot be served ({error})."));
                        None
                    }),
                    None => None,
                };
                match SystemBrowser::from_env().open(url) {
                    Ok(()) => {
                        progress(&format!("Opened {}'s sign-out page in your browser.", account.key.issuer));
                        if let Some(page) = page
                            && page.serve(&account.key.issuer, SIGNED_OUT_WAIT).await
                        {
                            progress(&format!("Signed out of {} in the browser too.", account.key.issuer));
                        }
                    }
                    Err(error) => progress(&format!(
                        "No browser could be opened ({error}); sign out at {} in a browser to end that session too.",
                        account.key.issuer
                    )),
                }
            }
            (Some(_), false) => progress(&format!(
                "Your browser may still be signed in at {}; sign out there to end that session too \
                 (`tessera logout --browser` opens its sign-out page).",
                account.key.issuer
            )),
            (None, _) => {}
        }
        not_revoked.extend(done.revocation_error);
    }
    // Each account's token is revoked at its own issuer only; one that could
    // not be is said plainly, and the command fails.
    let last = not_revoked.pop();
    for error in not_revoked {
        not_revoked_failure(error).print();
    }
    if let Some(error) = last {
        return Err(not_revoked_failure(error));
    }
    if all {
        progress("Signed out of every account.");
    }
    Ok(())
}

fn not_revoked_failure(error: signin::SessionError) -> Failure {
    Failure::from(error).with_hint(
        "the account is forgotten on this computer, but its sign-in may stay valid at that provider until it \
         expires: sign out there, or ask its administrator to revoke it",
    )
}
