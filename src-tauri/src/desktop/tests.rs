//! The desktop's state driven as the commands drive it, against the demo
//! stack (dev-idp and the items API on 127.0.0.1, port 0) with test
//! browsers that sign people in over HTTP.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use demo::DemoStack;
use signin::flow::browser::HttpBrowser;
use signin::store::MemoryStore;
use tokio::sync::mpsc;

use super::*;

/// A stack to sign in at, and a folder for the app's files.
struct World {
    stack: DemoStack,
    folder: tempfile::TempDir,
}

impl World {
    async fn new() -> Self {
        Self { stack: DemoStack::start().await.unwrap(), folder: tempfile::tempdir().unwrap() }
    }

    fn config_file(&self) -> PathBuf {
        self.folder.path().join("config").join("tessera.toml")
    }

    /// Options with `env` as the environment, a memory store and files in
    /// the world's folder.
    fn options(&self, env: &[(&str, String)]) -> Options {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        Options {
            config_file: Some(self.config_file()),
            accounts_file: Some(self.folder.path().join("accounts.json")),
            env: Arc::new(move |name| env.get(name).cloned()),
            store: Some(Arc::new(MemoryStore::new())),
            log_dir: Some(self.folder.path().join("logs")),
        }
    }

    /// The environment of an app configured for the world's provider.
    fn configured(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OKTA_ISSUER", self.stack.issuer().to_owned()),
            ("OKTA_CLIENT_ID", "tessera-desktop".to_owned()),
            ("ITEMS_API_URL", self.stack.items_api().to_string()),
            ("OKTA_SCOPES", "openid profile email offline_access items:read items:write".to_owned()),
        ]
    }
}

/// Signs `id` out with the browser: what it did, and the logout URL it
/// handed to the browser.
async fn sign_out_in_the_browser(desktop: &Desktop, id: &str) -> (SignOutView, Url) {
    let opened = Mutex::new(None);
    let signed_out = desktop
        .sign_out(id, true, |url| {
            *opened.lock().unwrap() = Some(url.clone());
            Ok(())
        })
        .await
        .unwrap();
    (signed_out, opened.into_inner().unwrap().expect("the logout URL was opened"))
}

/// The links shown while the browser signs in: the test browser always opens.
fn no_url() -> Arc<dyn Fn(Link<'_>) -> signin::flow::redirect::Shown + Send + Sync> {
    // As the shell answers: the waiting view shows every link.
    Arc::new(|link: Link<'_>| {
        if let signin::flow::redirect::Opening::Failed(error) = link.browser {
            panic!("the browser failed to open {}: {error}", link.url);
        }
        signin::flow::redirect::Shown::Yes
    })
}

async fn sign_in_with(desktop: &Desktop, browser: &HttpBrowser, add: bool) -> AccountView {
    let account = desktop.sign_in(add, Arc::new(browser.clone()), no_url()).await.unwrap().account;
    let delivered = browser.delivered().await.unwrap();
    assert_eq!(delivered.status, 200, "{}", delivered.body);
    account
}

#[tokio::test]
async fn with_nothing_configured_the_app_runs_the_demo_and_alice_can_sign_in_and_write() {
    let world = World::new().await;
    let desktop = Desktop::start(world.options(&[])).await.unwrap();
    let info = desktop.app_info();
    assert_eq!(info.mode, Mode::Demo);
    assert_eq!(info.keyring.kind, "memory");
    assert!(info.keyring.warning.is_none(), "the demo needs no keyring warning");
    assert_eq!(info.demo_users.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
    assert_ne!(info.issuer, world.stack.issuer(), "the app runs a demo stack of its own");
    assert_eq!(desktop.settings().source, "demo");
    assert!(desktop.session_state().active.is_none());
    assert!(desktop.session_details().await.unwrap().is_none());

    let alice = sign_in_with(&desktop, &HttpBrowser::new("alice", "alice-demo-pw"), false).await;
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    let state = desktop.session_state();
    assert_eq!(state.active.map(|a| a.id), Some(alice.id.clone()));
    assert!(!state.signing_in);

    let details = desktop.session_details().await.unwrap().unwrap();
    assert!(details.can_write, "the demo asks for items:write: {:?}", details.scopes);
    assert!(details.expires_at > unix_seconds(std::time::SystemTime::now()));
    assert_eq!(details.last_refresh, None);
    assert!(details.bound_key.is_some(), "demo tokens are bound to a key (DPoP)");
    assert!(!desktop.settings().dpop, "the form for a real provider starts with DPoP off");

    let page = desktop.list_items(&ListOptions::default()).await.unwrap();
    assert!(!page.items.is_empty(), "the demo seed has items for alice");
    // Okta's access tokens carry the login as `sub` and the user id as `uid`;
    // the API owns items by the user id (issue 14, item 8).
    assert!(page.items.iter().all(|i| i.owner == "00u1alice0000000001"), "{:?}", page.items);
    let lamp = NewItem { name: "Desk lamp".into(), description: "warm".into(), price: 24.5, tags: vec!["home".into()] };
    let created = desktop.create_item(&lamp).await.unwrap();
    let patch = ItemPatch { price: Some(19.99), ..ItemPatch::default() };
    let updated = desktop.update_item(&created.id, &patch).await.unwrap();
    assert_eq!((updated.name.as_str(), updated.price), ("Desk lamp", 19.99));
    let found = desktop.list_items(&ListOptions { q: Some("lamp".into()), ..ListOptions::default() }).await.unwrap();
    assert_eq!(found.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [created.id.as_str()]);
    desktop.delete_item(&created.id).await.unwrap();
    assert_eq!(desktop.get_item(&created.id).await.unwrap_err().code, "not_found");
}

#[tokio::test]
async fn a_bad_item_is_refused_with_the_field_and_a_reader_cannot_write() {
    let world = World::new().await;
    let mut env = world.configured();
    env.retain(|(k, _)| *k != "OKTA_SCOPES");
    env.push(("OKTA_SCOPES", "openid profile email offline_access items:read".to_owned()));
    let desktop = Desktop::start(world.options(&env)).await.unwrap();
    sign_in_with(&desktop, &HttpBrowser::new("alice", "alice-demo-pw"), false).await;
    let details = desktop.session_details().await.unwrap().unwrap();
    assert!(!details.can_write);
    let lamp = NewItem { name: "Lamp".into(), description: String::new(), price: 1.0, tags: vec![] };
    let error = desktop.create_item(&lamp).await.unwrap_err();
    assert_eq!(error.code, "missing_scope", "{error:?}");
    assert!(error.message.contains("items:write"), "{}", error.message);

    let world = World::new().await;
    let desktop = Desktop::start(world.options(&world.configured())).await.unwrap();
    sign_in_with(&desktop, &HttpBrowser::new("alice", "alice-demo-pw"), false).await;
    let bad = NewItem { name: "Lamp".into(), description: String::new(), price: -1.0, tags: vec![] };
    let error = desktop.create_item(&bad).await.unwrap_err();
    assert_eq!((error.code, error.field.as_deref()), ("invalid", Some("price")), "{error:?}");
}

#[tokio::test]
async fn accounts_are_added_with_the_prompt_switched_without_the_browser_and_signed_out() {
    let world = World::new().await;
    let desktop = Desktop::start(world.options(&world.configured())).await.unwrap();
    let info = desktop.app_info();
    assert_eq!((info.mode, info.issuer.as_str()), (Mode::Configured, world.stack.issuer()));
    assert!(info.demo_users.is_empty());
    assert_eq!(desktop.settings().source, "environment");

    let alice_browser = HttpBrowser::new("alice", "alice-demo-pw");
    let alice = sign_in_with(&desktop, &alice_browser, false).await;
    // The same browser (the provider's session is alive): "add account"
    // must make the provider ask again, so bob can sign in.
    let bob_browser = alice_browser.signing_in_as("bob", "bob-demo-pw");
    let added = desktop.sign_in(true, Arc::new(bob_browser.clone()), no_url()).await.unwrap();
    assert_eq!(added.notice, None, "bob is new here");
    let bob = added.account;
    let delivered = bob_browser.delivered().await.unwrap();
    // The request was pushed (RFC 9126): the browser saw only its handle, and
    // the prompt travelled with the pushed request. That the provider asked
    // again is shown by who signed in: with alice's session alive and no
    // prompt it would have been alice once more.
    let names: Vec<String> = delivered.opened.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{}", delivered.opened);
    assert_eq!(bob.email.as_deref(), Some("bob@example.com"));
    let state = desktop.session_state();
    assert_eq!(state.accounts.len(), 2);
    assert_eq!(state.active.as_ref().map(|a| a.id.as_str()), Some(bob.id.as_str()));
    let bobs = desktop.list_items(&ListOptions::default()).await.unwrap();

    // "Add account", and bob comes back: the notice says so and how to switch.
    let again_browser = bob_browser.signing_in_as("bob", "bob-demo-pw");
    let again = desktop.sign_in(true, Arc::new(again_browser.clone()), no_url()).await.unwrap();
    let notice = again.notice.expect("a notice when the same person came back");
    assert!(notice.contains("already signed in") && notice.contains("sign out of the provider"), "{notice}");
    assert_eq!(again.account.id, bob.id);
    assert_eq!(desktop.session_state().accounts.len(), 2);
    let _ = again_browser.delivered().await;

    // Back to alice: no browser involved (none is given), her items again.
    let switched = desktop.switch_account(&alice.id).await.unwrap();
    assert_eq!(switched.id, alice.id);
    let alices = desktop.list_items(&ListOptions::default()).await.unwrap();
    assert_ne!(alices.items.first().map(|i| &i.owner), bobs.items.first().map(|i| &i.owner));

    let (signed_out, logout) = sign_out_in_the_browser(&desktop, &alice.id).await;
    assert!(signed_out.logout_opened);
    assert!(signed_out.warning.is_none(), "{:?}", signed_out.warning);
    assert!(logout.as_str().starts_with(world.stack.issuer()), "{logout}");
    assert!(logout.query_pairs().any(|(k, v)| k == "client_id" && v == "tessera-desktop"));
    assert!(logout.query_pairs().any(|(k, _)| k == "id_token_hint"));
    let state = desktop.session_state();
    assert_eq!(state.accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [bob.id.as_str()]);

    // Removing asks for no browser at all.
    let removed = desktop.sign_out(&bob.id, false, |url| panic!("no browser for a removal: {url}")).await.unwrap();
    assert!(!removed.logout_opened);
    assert!(desktop.session_state().accounts.is_empty());
    assert_eq!(desktop.switch_account(&bob.id).await.unwrap_err().code, "no_account");
}

/// A browser that signs alice in on dev-idp's pages and hands the redirect
/// it ends at (a deep link) to the test, as the OS hands it to the app.
struct LinkBrowser {
    links: mpsc::UnboundedSender<Url>,
}

impl Browser for LinkBrowser {
    fn open(&self, url: &Url) -> Result<(), signin::flow::browser::BrowserError> {
        let (url, links) = (url.clone(), self.links.clone());
        tokio::spawn(async move {
            let driver = dev_idp::testing::Browser::new();
            let redirect = driver.sign_in(url.as_str(), "alice", "alice-demo-pw").await.unwrap();
            links.send(redirect).unwrap();
        });
        Ok(())
    }
}

#[tokio::test]
async fn a_deep_link_completes_the_waiting_sign_in_and_stray_links_are_refused() {
    let world = World::new().await;
    let mut env = world.configured();
    env.push(("REDIRECT_URL", format!("{DEEP_LINK_SCHEME}:{DEEP_LINK_PATH}")));
    let desktop = Arc::new(Desktop::start(world.options(&env)).await.unwrap());
    assert_eq!(desktop.app_info().redirect, Redirect::DeepLink);

    let stray = Url::parse(&format!("{DEEP_LINK_SCHEME}:{DEEP_LINK_PATH}?code=x&state=nobody")).unwrap();
    assert_eq!(desktop.deliver_deep_link(&stray).unwrap_err().code, "sign_in_failed", "no sign-in waits");

    let (links, mut received) = mpsc::unbounded_channel();
    let signing_in = {
        let desktop = desktop.clone();
        tokio::spawn(async move { desktop.sign_in(false, Arc::new(LinkBrowser { links }), no_url()).await })
    };
    let link = received.recv().await.unwrap();
    assert_eq!(link.scheme(), DEEP_LINK_SCHEME);
    // A link with another state, and one to another path, leave the sign-in waiting.
    assert!(desktop.deliver_deep_link(&stray).is_err());
    let mut elsewhere = link.clone();
    elsewhere.set_path("/other");
    assert!(desktop.deliver_deep_link(&elsewhere).is_err());
    assert!(desktop.session_state().signing_in);

    desktop.deliver_deep_link(&link).unwrap();
    let alice = signing_in.await.unwrap().unwrap().account;
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    // The same link again: nobody waits for it any more.
    assert!(desktop.deliver_deep_link(&link).is_err());
    assert!(desktop.list_items(&ListOptions::default()).await.is_ok());
}

/// A browser that opens nothing and counts the attempts (the person never
/// comes back).
#[derive(Default)]
struct IdleBrowser {
    opened: AtomicUsize,
}

impl Browser for IdleBrowser {
    fn open(&self, _: &Url) -> Result<(), signin::flow::browser::BrowserError> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn one_sign_in_at_a_time_and_cancel_ends_it() {
    let world = World::new().await;
    let desktop = Arc::new(Desktop::start(world.options(&world.configured())).await.unwrap());
    let browser = Arc::new(IdleBrowser::default());
    let first = {
        let (desktop, browser) = (desktop.clone(), browser.clone());
        tokio::spawn(async move { desktop.sign_in(false, browser, no_url()).await })
    };
    while browser.opened.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(desktop.session_state().signing_in);
    let second = desktop.sign_in(true, browser.clone(), no_url()).await.unwrap_err();
    assert_eq!(second.code, "busy");
    desktop.cancel_sign_in();
    // "Try again" at once: waits for the cancelled sign-in to wind down
    // instead of answering busy.
    let again = {
        let (desktop, browser) = (desktop.clone(), browser.clone());
        tokio::spawn(async move { desktop.sign_in(false, browser, no_url()).await })
    };
    let first = first.await.unwrap().unwrap_err();
    assert_eq!(first.code, "cancelled", "{first:?}");
    while browser.opened.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    desktop.cancel_sign_in();
    assert_eq!(again.await.unwrap().unwrap_err().code, "cancelled");
    assert!(!desktop.session_state().signing_in);
    assert!(desktop.session_state().accounts.is_empty(), "nothing was recorded");
    assert_eq!(browser.opened.load(Ordering::SeqCst), 2);
}

/// *Open again* opens the latest link of the same sign-in: not the one the
/// browser spent, but the fresh one the core pushed since; the person
/// finishes there and the sign-in under way completes. Before and after a
/// sign-in there is none to open.
#[tokio::test]
async fn open_again_opens_the_latest_link_of_the_sign_in_under_way() {
    let world = World::new().await;
    let desktop = Arc::new(Desktop::start(world.options(&world.configured())).await.unwrap());
    assert!(!desktop.open_sign_in_link(|url| panic!("no sign-in, no link: {url}")).unwrap());
    let shown: Arc<Mutex<Vec<Url>>> = Arc::default();
    let browser = Arc::new(IdleBrowser::default());
    let signing_in = {
        let (desktop, browser, shown) = (desktop.clone(), browser.clone(), shown.clone());
        let on_link = Arc::new(move |link: Link<'_>| {
            shown.lock().unwrap().push(link.url.clone());
            signin::flow::redirect::Shown::Yes
        });
        tokio::spawn(async move { desktop.sign_in(false, browser, on_link).await })
    };
    let links = testkit::within("a fresh link after the browser's", async {
        loop {
            let links = shown.lock().unwrap().clone();
            if links.len() >= 2 {
                break links;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_ne!(links[0], links[1]);
    let failed = desktop.open_sign_in_link(|_| Err("no display".to_owned())).unwrap_err();
    assert_eq!(failed.code, "browser_failed", "{failed:?}");
    let opened = Mutex::new(None);
    let open = |url: &Url| {
        *opened.lock().unwrap() = Some(url.clone());
        Ok(())
    };
    assert!(desktop.open_sign_in_link(open).unwrap());
    let again = opened.into_inner().unwrap().expect("a link opened");
    assert_eq!(Some(&again), shown.lock().unwrap().last(), "the latest link");
    assert_ne!(again, links[0], "not the one the browser spent");

    let person = HttpBrowser::new("alice", "alice-demo-pw");
    person.open(&again).unwrap();
    let alice = signing_in.await.unwrap().unwrap().account;
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert_eq!(person.delivered().await.unwrap().status, 200);
    assert_eq!(browser.opened.load(Ordering::SeqCst), 1, "the system browser was opened once");
    assert!(!desktop.open_sign_in_link(|url| panic!("the sign-in is over: {url}")).unwrap());
}

fn input(issuer: &str, client_id: &str) -> SettingsInput {
    SettingsInput {
        issuer: issuer.to_owned(),
        client_id: client_id.to_owned(),
        scopes: "openid profile offline_access items:read".to_owned(),
        redirect: Redirect::Loopback,
        loopback_ports: String::new(),
        prompt: "login consent".to_owned(),
        items_api: "http://127.0.0.1:8081".to_owned(),
        dpop: false,
    }
}

#[tokio::test]
async fn settings_are_checked_against_the_provider_before_anything_is_saved() {
    let world = World::new().await;
    let desktop = Arc::new(Desktop::start(world.options(&[])).await.unwrap());
    let changes = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (desktop, changes) = (desktop.clone(), changes.clone());
        tokio::spawn(async move { desktop.watch_changes(move || _ = changes.fetch_add(1, Ordering::SeqCst)).await })
    };

    let error = desktop.save_settings(&input("https://example.com/oauth2/default", "")).await.unwrap_err();
    assert_eq!((error.code, error.field.as_deref()), ("settings_invalid", Some("clientId")), "{error:?}");
    let mut bad_scopes = input(world.stack.issuer(), "tessera-desktop");
    bad_scopes.scopes = "profile".into();
    let error = desktop.save_settings(&bad_scopes).await.unwrap_err();
    assert_eq!((error.code, error.field.as_deref()), ("settings_invalid", Some("scopes")), "{error:?}");
    let error = desktop.save_settings(&input("http://127.0.0.1:9/oauth2/default", "x")).await.unwrap_err();
    assert_eq!((error.code, error.field.as_deref()), ("discovery_failed", Some("issuer")), "{error:?}");
    assert!(!world.config_file().exists(), "nothing saved");
    assert_eq!(desktop.app_info().mode, Mode::Demo);

    let info = desktop.save_settings(&input(world.stack.issuer(), "tessera-desktop")).await.unwrap();
    assert_eq!((info.mode, info.issuer.as_str()), (Mode::Configured, world.stack.issuer()));
    let saved = ConfigFile::read(&world.config_file()).unwrap().unwrap();
    assert_eq!(saved.issuer.as_deref(), Some(world.stack.issuer()));
    assert_eq!(saved.prompt, None, "the default prompt is not written out");
    assert_eq!(saved.dpop, None, "off is the default and not written out");
    let settings = desktop.settings();
    assert_eq!((settings.source, settings.issuer.as_str()), ("file", world.stack.issuer()));
    assert_eq!(settings.redirect, Redirect::Loopback);
    assert!(!settings.dpop);

    // DPoP turned on in the form: saved, and the next sign-in's tokens are
    // bound to a key (bearer before).
    let mut bound = input(world.stack.issuer(), "tessera-desktop");
    bound.items_api = world.stack.items_api().to_string();
    bound.prompt = String::new();
    desktop.save_settings(&bound).await.unwrap();
    sign_in_with(&desktop, &HttpBrowser::new("bob", "bob-demo-pw"), false).await;
    assert_eq!(desktop.session_details().await.unwrap().unwrap().bound_key, None, "bearer tokens");
    bound.dpop = true;
    desktop.save_settings(&bound).await.unwrap();
    let saved = ConfigFile::read(&world.config_file()).unwrap().unwrap();
    assert_eq!(saved.dpop, Some(true));
    assert!(desktop.settings().dpop);
    sign_in_with(&desktop, &HttpBrowser::new("alice", "alice-demo-pw"), true).await;
    let details = desktop.session_details().await.unwrap().unwrap();
    let jkt = details.bound_key.expect("DPoP-bound tokens");
    assert_eq!(jkt.len(), 43, "a SHA-256 thumbprint, base64url: {jkt}");
    assert!(!desktop.list_items(&ListOptions::default()).await.unwrap().items.is_empty(), "items with proofs");

    // A bare Okta domain is saved as one (and checked: here it cannot be reached).
    let error = desktop.save_settings(&input("dev-000000.invalid", "x")).await.unwrap_err();
    assert_eq!(error.code, "discovery_failed");
    assert_eq!(ConfigFile::read(&world.config_file()).unwrap().unwrap(), saved, "the old file is kept");

    let info = desktop.use_demo().await.unwrap();
    assert_eq!(info.mode, Mode::Demo);
    assert!(!world.config_file().exists());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(changes.load(Ordering::SeqCst) >= 2, "each reconfiguration is announced");
    watcher.abort();
}

/// Issue 16, item 2: the loopback ports a person wrote (in the form, or by
/// hand in the file) are shown, saved, and kept when other fields are saved.
#[tokio::test]
async fn the_settings_screen_keeps_the_loopback_ports_written_by_hand() {
    let world = World::new().await;
    std::fs::create_dir_all(world.config_file().parent().unwrap()).unwrap();
    std::fs::write(
        world.config_file(),
        format!(
            "issuer = \"{}\"\nclient_id = \"tessera-desktop\"\nredirect_url = \"http://127.0.0.1/cb\"\n\
             loopback_ports = \"9001,9002\"\ntimeout_secs = 60\n",
            world.stack.issuer()
        ),
    )
    .unwrap();
    let desktop = Desktop::start(world.options(&[])).await.unwrap();
    let settings = desktop.settings();
    assert_eq!(settings.loopback_ports, "9001 9002");
    assert_eq!(settings.default_loopback_ports, "8765 8766 8767");

    // Another field saved: the ports, the hand-written path and time limit stay.
    let mut other = input(world.stack.issuer(), "tessera-desktop");
    other.loopback_ports = settings.loopback_ports.clone();
    other.items_api = world.stack.items_api().to_string();
    desktop.save_settings(&other).await.unwrap();
    let saved = ConfigFile::read(&world.config_file()).unwrap().unwrap();
    assert_eq!(saved.loopback_ports.as_deref(), Some("9001 9002"));
    assert_eq!(saved.redirect_url.as_deref(), Some("http://127.0.0.1/cb"));
    assert_eq!(saved.timeout_secs, Some(60));
    assert_eq!(desktop.settings().loopback_ports, "9001 9002");

    // Emptied: the default list; a bad list points at its field.
    other.loopback_ports = String::new();
    desktop.save_settings(&other).await.unwrap();
    assert_eq!(ConfigFile::read(&world.config_file()).unwrap().unwrap().loopback_ports, None);
    assert_eq!(desktop.settings().loopback_ports, "");
    other.loopback_ports = "9001 9001".into();
    let error = desktop.save_settings(&other).await.unwrap_err();
    assert_eq!((error.code, error.field.as_deref()), ("settings_invalid", Some("loopbackPorts")), "{error:?}");
}

/// Issue 16, item 5: with the app's custom scheme as the sign-out redirect,
/// *Sign out* sends it, the provider sends the browser back to it, and the
/// link is taken as "signed out there too", not as a stray sign-in answer.
#[tokio::test]
async fn signing_out_at_the_provider_comes_back_through_the_custom_scheme() {
    let world = World::new().await;
    let mut env = world.configured();
    let back = format!("{DEEP_LINK_SCHEME}:/signed-out");
    env.push(("POST_LOGOUT_REDIRECT_URL", back.clone()));
    let desktop = Desktop::start(world.options(&env)).await.unwrap();
    let alice = sign_in_with(&desktop, &HttpBrowser::new("alice", "alice-demo-pw"), false).await;
    let (signed_out, logout) = sign_out_in_the_browser(&desktop, &alice.id).await;
    assert!(signed_out.logout_opened && signed_out.warning.is_none(), "{signed_out:?}");
    let sent = logout.query_pairs().find(|(k, _)| k == "post_logout_redirect_uri").map(|(_, v)| v.into_owned());
    assert_eq!(sent.as_deref(), Some(back.as_str()));

    // The provider signs the browser out and sends it to the app's scheme.
    let answer = dev_idp::testing::Browser::new().redirect_of(logout.as_str()).await.unwrap();
    assert!(answer.as_str().starts_with(&back), "{answer}");
    assert_eq!(desktop.deliver_deep_link(&answer).unwrap(), LinkDelivered::SignedOut);
    let stray = Url::parse(&format!("{DEEP_LINK_SCHEME}:/elsewhere")).unwrap();
    assert!(desktop.deliver_deep_link(&stray).is_err(), "other links are still refused");
}

/// Issue 17, item 6: two providers side by side as profiles of
/// tessera.toml. The picker lists them; choosing one signs in there (nobody
/// is active until someone signs in with it); each account shows its
/// profile; switching to an account of the other profile brings that
/// profile back; an unknown profile is refused and changes nothing.
#[tokio::test]
async fn profiles_are_picked_and_each_account_brings_its_own() {
    let world = World::new().await;
    let other = DemoStack::start().await.unwrap();
    let path = world.config_file();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "issuer = \"{}\"\nclient_id = \"tessera-desktop\"\nitems_api_url = \"{}\"\n\n[profiles.other]\nissuer = \"{}\"\nitems_api_url = \"{}\"\n",
            world.stack.issuer(),
            world.stack.items_api(),
            other.issuer(),
            other.items_api()
        ),
    )
    .unwrap();
    let desktop = Desktop::start(world.options(&[])).await.unwrap();
    let info = desktop.app_info();
    assert_eq!((info.profile.as_str(), info.profiles.clone()), ("default", vec!["default".into(), "other".into()]));
    assert_eq!(info.issuer, world.stack.issuer());

    let alice = sign_in_with(&desktop, &HttpBrowser::new("alice", "alice-demo-pw"), false).await;
    let info = desktop.use_profile("other").await.unwrap();
    assert_eq!((info.profile.as_str(), info.issuer.as_str()), ("other", other.issuer()));
    let state = desktop.session_state();
    assert!(state.active.is_none(), "alice is not the other provider's: {state:?}");
    assert!(desktop.session_details().await.unwrap().is_none());
    let bob = sign_in_with(&desktop, &HttpBrowser::new("bob", "bob-demo-pw"), false).await;
    let state = desktop.session_state();
    let profiles: HashMap<String, Option<String>> =
        state.accounts.iter().map(|a| (a.id.clone(), a.profile.clone())).collect();
    assert_eq!(profiles[&alice.id].as_deref(), Some("default"));
    assert_eq!(profiles[&bob.id].as_deref(), Some("other"));
    assert_eq!(state.active.as_ref().map(|a| a.id.as_str()), Some(bob.id.as_str()));
    assert!(desktop.list_items(&ListOptions::default()).await.is_ok());

    // Alice's account brings the default profile back, and its items API.
    desktop.switch_account(&alice.id).await.unwrap();
    let info = desktop.app_info();
    assert_eq!((info.profile.as_str(), info.issuer.as_str()), ("default", world.stack.issuer()));
    assert_eq!(desktop.session_state().active.map(|a| a.id), Some(alice.id.clone()));
    assert_eq!(desktop.session_details().await.unwrap().unwrap().issuer, world.stack.issuer());
    // Choosing the other profile again uses its own account, bob.
    desktop.use_profile("other").await.unwrap();
    assert_eq!(desktop.session_state().active.map(|a| a.id), Some(bob.id.clone()));

    let error = desktop.use_profile("staging").await.unwrap_err();
    assert_eq!(error.code, "settings_invalid", "{error:?}");
    assert!(error.message.contains("staging"), "{error:?}");
    assert_eq!(desktop.app_info().profile, "other");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_are_shown_in_the_configured_currency() {
    let world = World::new().await;
    let start = |env: &[(&str, String)]| Desktop::start(world.options(env));
    // Nothing configured: EUR.
    assert_eq!(start(&[]).await.unwrap().app_info().currency, "EUR");
    // The file's currency, then the environment's over it (upper-cased).
    std::fs::create_dir_all(world.config_file().parent().unwrap()).unwrap();
    std::fs::write(world.config_file(), "currency = \"GBP\"\n").unwrap();
    assert_eq!(start(&[]).await.unwrap().app_info().currency, "GBP");
    assert_eq!(start(&[("TESSERA_CURRENCY", "usd".into())]).await.unwrap().app_info().currency, "USD");
    // Not a currency code: skipped for the next setting.
    assert_eq!(start(&[("TESSERA_CURRENCY", "dollars".into())]).await.unwrap().app_info().currency, "GBP");
}
