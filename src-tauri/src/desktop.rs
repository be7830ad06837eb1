//! The desktop app's state, without Tauri: which provider it signs in with
//! (the demo stack or a configured one), the session over the keyring, the
//! items client, and the settings. The `#[tauri::command]`s in
//! [`commands`](crate::commands) only adapt these methods; the tests drive
//! them directly.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use app::form::{Field, Form, RedirectChoice};
use app::settings::ProfileChoice;
use app::{
    ConfigFile, OpenedStore, ProviderCheckError, ProviderSource, SettingsError, TokenStoreChoice, WhenUnavailable,
};
use items_client::{Item, ItemPage, ItemPatch, ListOptions, NewItem};
use signin::accounts::AccountBook;
use signin::flow::browser::Browser;
use signin::flow::config::LoopbackPorts;
use signin::flow::redirect::{Link, Shown};
use signin::flow::signed_out::SignedOutPage;
use signin::store::TokenStore;
use signin::{Session, SignInMethod};
use tokio::sync::watch;
use url::Url;

use crate::ipc::{
    AccountView, AppInfo, DemoUser, DoctorReport, IpcError, KeyringInfo, Mode, OfflineView, Redirect, SessionDetails,
    SessionState, Settings, SettingsInput, SignOutView, SignedInView, unix_seconds,
};

/// How long the signed-out page waits for the browser to come back from the
/// provider's sign-out.
const SIGNED_OUT_WAIT: Duration = Duration::from_secs(120);

/// What a deep link was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDelivered {
    /// A sign-in's answer, handed to the sign-in waiting for it.
    SignIn,
    /// The provider sending the browser back after signing out there.
    SignedOut,
}

/// The app's private-use URI scheme (RFC 8252 §7.1), as registered in
/// `tauri.conf.json` (`plugins.deep-link.desktop.schemes`).
pub const DEEP_LINK_SCHEME: &str = "com.example.tessera";

/// The path of the deep-link redirect.
pub const DEEP_LINK_PATH: &str = "/callback";

/// How long saving the settings waits for the provider's discovery document.
pub const DISCOVERY_CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// A setting lookup (the process environment with `TESSERA_ENV_FILE`'s file, or a test's map).
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where the app reads and keeps things (tests point these at temporary
/// folders and a memory store).
#[derive(Clone)]
pub struct Options {
    /// The configuration file (`tessera.toml`) the settings screen writes.
    pub config_file: Option<PathBuf>,
    /// The account book of configured providers.
    pub accounts_file: Option<PathBuf>,
    /// Environment lookup.
    pub env: Env,
    /// The token store for configured providers; `None`: the OS keyring
    /// (memory only, with a warning, when there is none).
    pub store: Option<Arc<dyn TokenStore>>,
    /// Where the logs go (shown in About).
    pub log_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("config_file", &self.config_file)
            .field("accounts_file", &self.accounts_file)
            .field("log_dir", &self.log_dir)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// As the installed app runs: the platform's config and data folders,
    /// the process environment over the file `TESSERA_ENV_FILE` names (if
    /// set; a `.env` in the working folder is never read: issue 14, item 2),
    /// the OS keyring.
    ///
    /// # Errors
    /// When `TESSERA_ENV_FILE` names a file that cannot be read.
    pub fn from_process() -> Result<Self, SettingsError> {
        let env_file = app::settings::env_file_from_process();
        let env: Env = Arc::new(app::settings::process_env(env_file.as_deref())?);
        Ok(Self {
            config_file: app::Settings::default_file(),
            accounts_file: AccountBook::default_path().ok(),
            env,
            store: None,
            log_dir: crate::logs::log_dir(),
        })
    }
}

/// One configuration of the app: a session and its items client (and the
/// demo stack, kept running as long as this configuration is used).
struct Current {
    app: app::App,
    mode: Mode,
    source: ProviderSource,
    keyring: KeyringInfo,
}

/// The desktop app's state (see the [module docs](self)).
pub struct Desktop {
    options: Options,
    current: RwLock<Arc<Current>>,
    /// Bumped when the configuration is replaced (settings saved).
    reconfigured: watch::Sender<u64>,
    /// The latest link of the sign-in under way (the waiting view's *Open
    /// again*), by the sign-in's number: the core renews it before its
    /// pushed request expires.
    sign_in_link: Arc<Mutex<Option<(u64, Url)>>>,
    /// Numbers the sign-ins, so that one ending forgets only its own link.
    sign_ins: AtomicU64,
}

impl std::fmt::Debug for Desktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desktop").field("options", &self.options).finish_non_exhaustive()
    }
}

impl Desktop {
    /// Starts the app's state: the demo stack when no provider is
    /// configured, else the configured provider with the keyring.
    ///
    /// # Errors
    /// When the configuration is invalid or the demo stack does not start.
    pub async fn start(options: Options) -> Result<Self, IpcError> {
        let current = configure(&options, Pick::OfActiveAccount).await?;
        Ok(Self {
            options,
            current: RwLock::new(Arc::new(current)),
            reconfigured: watch::Sender::new(0),
            sign_in_link: Arc::default(),
            sign_ins: AtomicU64::new(0),
        })
    }

    fn current(&self) -> Arc<Current> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The session in use (it changes when the settings are saved).
    #[must_use]
    pub fn session(&self) -> Arc<Session> {
        self.current().app.session.clone()
    }

    /// The app and where it signs in.
    #[must_use]
    pub fn app_info(&self) -> AppInfo {
        let current = self.current();
        let config = current.app.session.config();
        let demo_users = if current.mode == Mode::Demo {
            demo::USERS
                .iter()
                .map(|(username, password)| DemoUser { username: (*username).into(), password: (*password).into() })
                .collect()
        } else {
            Vec::new()
        };
        let profiles = match current.mode {
            Mode::Demo => Vec::new(),
            Mode::Configured => app::Settings::profile_names(self.options.config_file.as_deref()),
        };
        AppInfo {
            profile: profile_label(current.app.profile.as_deref()),
            profiles: if profiles.is_empty() {
                profiles
            } else {
                std::iter::once(app::settings::TOP_PROFILE.to_owned()).chain(profiles).collect()
            },
            mode: current.mode,
            name: "Tessera",
            version: crate::VERSION,
            tauri_version: tauri::VERSION,
            log_folder: self.options.log_dir.as_ref().map(|d| d.display().to_string()),
            issuer: config.issuer.to_string(),
            client_id: config.client_id.to_string(),
            items_api: current.app.items_api.to_string(),
            redirect: RedirectChoice::of(config).into(),
            keyring: current.keyring.clone(),
            demo_users,
            currency: self.currency(),
        }
    }

    /// The currency of prices: `TESSERA_CURRENCY`, else `currency` in the
    /// configuration file, else EUR; one that is not an ISO 4217 code is
    /// logged and skipped.
    fn currency(&self) -> String {
        let from_env = (self.options.env)("TESSERA_CURRENCY").map(|v| ("TESSERA_CURRENCY", v));
        let from_file = || {
            let path = self.options.config_file.as_deref()?;
            ConfigFile::read(path).ok().flatten()?.currency.map(|v| ("currency", v))
        };
        for (setting, value) in from_env.into_iter().chain(from_file()) {
            match crate::ipc::currency_code(&value) {
                Some(code) => return code,
                None => tracing::warn!(setting, value, "not a currency code (ISO 4217, like EUR or USD): ignored"),
            }
        }
        crate::ipc::DEFAULT_CURRENCY.to_owned()
    }

    /// The accounts and the active one: the account in use, when it is one
    /// of the profile in use (after choosing a profile nobody signed in
    /// with yet, nobody is active: the app offers to sign in).
    #[must_use]
    pub fn session_state(&self) -> SessionState {
        let session = self.session();
        let current = self.current();
        let active = session.active().map(|a| a.key).filter(|key| current.signs_in(&key.issuer, &key.client_id));
        let profiles =
            app::Settings::profile_table(self.options.config_file.as_deref(), |name| (self.options.env)(name));
        let accounts: Vec<AccountView> = session
            .accounts()
            .iter()
            .map(|a| {
                let profile =
                    profiles.of(&a.key.issuer, &a.key.client_id).map(|profile| profile_label(profile.as_deref()));
                AccountView::new(a, Some(&a.key) == active.as_ref()).in_profile(profile)
            })
            .collect();
        SessionState {
            active: accounts.iter().find(|a| a.active).cloned(),
            accounts,
            signing_in: session.is_signing_in(),
            offline: session.offline().map(|offline| OfflineView {
                since: unix_seconds(offline.since),
                retry_at: unix_seconds(offline.retry_at),
                attempts: offline.attempts,
                message: offline.reason,
            }),
        }
    }

    /// The session panel's facts about the active account (refreshing its
    /// access token when due); `None` when nobody is signed in.
    ///
    /// # Errors
    /// `sign_in_required`, `provider_unreachable`, …
    pub async fn session_details(&self) -> Result<Option<SessionDetails>, IpcError> {
        let session = self.session();
        let current = self.current();
        if !session.active().is_some_and(|a| current.signs_in(&a.key.issuer, &a.key.client_id)) {
            return Ok(None);
        }
        let who = session.whoami().await?;
        Ok(Some(SessionDetails {
            account: AccountView::new(&who.account, true),
            issuer: who.account.key.issuer.clone(),
            subject: who.account.key.subject.clone(),
            can_write: who.scopes.iter().any(|s| s == demo::WRITE_SCOPE),
            scopes: who.scopes,
            expires_at: unix_seconds(who.expires_at),
            last_refresh: who.refreshed_at.map(unix_seconds),
            bound_key: who.bound_key,
        }))
    }

    /// Signs someone in through the system browser (`browser`); `add` asks
    /// the provider for credentials even when its session is alive (the
    /// configured `prompt`); `on_link` is handed the link to sign in with,
    /// the first one and each renewal. Resolves when the browser came back.
    ///
    /// # Errors
    /// `busy` when a sign-in is already under way; `cancelled`, `timeout`,
    /// `access_denied`, `provider_unreachable`, `sign_in_failed`, …
    pub async fn sign_in(
        &self,
        add: bool,
        browser: Arc<dyn Browser>,
        on_link: Arc<dyn Fn(Link<'_>) -> Shown + Send + Sync>,
    ) -> Result<SignedInView, IpcError> {
        let session = self.session();
        let (latest, number) = (self.sign_in_link.clone(), self.sign_ins.fetch_add(1, Ordering::Relaxed));
        let on_link = Arc::new(move |link: Link<'_>| {
            *latest.lock().unwrap_or_else(PoisonError::into_inner) = Some((number, link.url.clone()));
            on_link(link)
        });
        let result = session.sign_in(SignInMethod::Browser { browser, on_link }, add).await;
        // This sign-in's links die with it.
        let mut latest = self.sign_in_link.lock().unwrap_or_else(PoisonError::into_inner);
        if latest.as_ref().is_some_and(|(shown_by, _)| *shown_by == number) {
            latest.take();
        }
        drop(latest);
        let signed_in = result?;
        let account = AccountView::new(&signed_in.account, true);
        let notice = signed_in.same_person_again.then(|| {
            format!(
                "{} was already signed in here: the identity provider may have kept its own sign-in in the \
                 browser. To add someone else, sign out of the provider in the browser first, or set the \
                 sign-in prompt to \"login\" in Settings.",
                account.name
            )
        });
        Ok(SignedInView { account, notice })
    }

    /// Opens the latest link of the sign-in under way again with `open` (the
    /// waiting view's *Open again*: the page was closed, or is wanted in
    /// front again). The sign-in goes on waiting for the same answer.
    /// Answers `false` when no sign-in has shown a link (the caller starts
    /// one over).
    ///
    /// # Errors
    /// `browser_failed` when `open` fails.
    pub fn open_sign_in_link(&self, open: impl FnOnce(&Url) -> Result<(), String>) -> Result<bool, IpcError> {
        let link = self.sign_in_link.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let Some((_, link)) = link else { return Ok(false) };
        open(&link)
            .map_err(|error| IpcError::new("browser_failed", format!("Tessera couldn’t open your browser: {error}")))?;
        Ok(true)
    }

    /// Cancels the sign-in under way, if any.
    pub fn cancel_sign_in(&self) {
        self.session().cancel_sign_in();
    }

    /// Hands a deep link the OS delivered: the provider sending the browser
    /// back after signing out there (the configured custom-scheme
    /// `post_logout_redirect_uri`), or to the waiting sign-in.
    ///
    /// # Errors
    /// When the link is neither, or no sign-in waits for it.
    pub fn deliver_deep_link(&self, link: &Url) -> Result<LinkDelivered, IpcError> {
        let session = self.session();
        let signed_out = session.config().post_logout_redirect.as_ref().is_some_and(|back| {
            back.scheme() == link.scheme() && back.path() == link.path() && !back.scheme().starts_with("http")
        });
        if signed_out {
            return Ok(LinkDelivered::SignedOut);
        }
        session.deliver_deep_link(link)?;
        Ok(LinkDelivered::SignIn)
    }

    /// Makes `id` the active account and checks, without the browser, that
    /// its saved sign-in still works (a refresh when its access token is not
    /// in memory).
    ///
    /// # Errors
    /// `no_account`; `sign_in_required` when its refresh token no longer
    /// works (the account is then active and marked as needing a sign-in).
    pub async fn switch_account(&self, id: &str) -> Result<AccountView, IpcError> {
        // An account of another profile: that profile first.
        let chosen = self.session().accounts().into_iter().find(|a| a.id() == id);
        if let Some(account) = chosen.filter(|a| !self.current().signs_in(&a.key.issuer, &a.key.client_id)) {
            let file = self.options.config_file.as_deref();
            let env = |name: &str| (self.options.env)(name);
            if let Some(profile) = app::Settings::profile_of(file, env, &account.key.issuer, &account.key.client_id) {
                self.reconfigure_with(Pick::OfAccount(profile)).await?;
            }
        }
        let session = self.session();
        let account = session.use_account(id)?;
        session.access_token().await?;
        Ok(AccountView::new(&account, true))
    }

    /// Signs `id` out: revokes and forgets its refresh token, removes the
    /// account, and hands the provider's logout URL (RP-initiated logout) to
    /// `open_logout` when `browser_logout` (it answers whether it opened it).
    ///
    /// # Errors
    /// `no_account`; `keyring` when the token cannot be deleted (the account
    /// is kept).
    pub async fn sign_out(
        &self,
        id: &str,
        browser_logout: bool,
        open_logout: impl FnOnce(&Url) -> Result<(), String>,
    ) -> Result<SignOutView, IpcError> {
        let session = self.session();
        let signed_out = session.sign_out_account(Some(id)).await?;
        let mut warnings = Vec::new();
        if let Some(error) = &signed_out.revocation_error {
            warnings.push(format!("the provider could not be told ({error}); the sign-in was removed here"));
        }
        let mut logout_opened = false;
        if browser_logout && let Some(url) = &signed_out.logout_url {
            // The provider sends the browser back to a loopback page of
            // ours when asked to: listen before it goes.
            let back = url.query_pairs().find(|(name, _)| name == "post_logout_redirect_uri");
            if let Some(uri) = back.and_then(|(_, uri)| Url::parse(&uri).ok()) {
                match SignedOutPage::bind(&uri).await {
                    Ok(Some(page)) => {
                        let issuer = signed_out.account.key.issuer.clone();
                        tokio::spawn(async move {
                            if page.serve(&issuer, SIGNED_OUT_WAIT).await {
                                tracing::info!(%issuer, "signed out at the provider too");
                            }
                        });
                    }
                    Ok(None) => {}
                    Err(error) => warnings.push(format!("the signed-out page cannot be served ({error})")),
                }
            }
            match open_logout(url) {
                Ok(()) => logout_opened = true,
                Err(error) => warnings.push(format!("the browser could not be opened to sign out there: {error}")),
            }
        }
        Ok(SignOutView {
            account: AccountView::new(&signed_out.account, false),
            logout_opened,
            warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
        })
    }

    /// A page of the active account's items.
    ///
    /// # Errors
    /// The items client's errors as IPC codes.
    pub async fn list_items(&self, options: &ListOptions) -> Result<ItemPage, IpcError> {
        Ok(self.current().app.items.list(options).await?)
    }

    /// One item.
    ///
    /// # Errors
    /// `not_found`, …
    pub async fn get_item(&self, id: &str) -> Result<Item, IpcError> {
        Ok(self.current().app.items.get(id).await?)
    }

    /// Creates an item.
    ///
    /// # Errors
    /// `invalid` (with the field), `missing_scope`, …
    pub async fn create_item(&self, item: &NewItem) -> Result<Item, IpcError> {
        Ok(self.current().app.items.create(item).await?)
    }

    /// Changes an item.
    ///
    /// # Errors
    /// `invalid`, `not_found`, `missing_scope`, …
    pub async fn update_item(&self, id: &str, patch: &ItemPatch) -> Result<Item, IpcError> {
        Ok(self.current().app.items.update(id, patch).await?)
    }

    /// Deletes an item.
    ///
    /// # Errors
    /// `not_found`, `missing_scope`, …
    pub async fn delete_item(&self, id: &str) -> Result<(), IpcError> {
        Ok(self.current().app.items.delete(id).await?)
    }

    /// The settings screen's values.
    #[must_use]
    pub fn settings(&self) -> Settings {
        let current = self.current();
        let form = Form::shown(current.app.session.config(), &current.app.items_api, current.source);
        Settings {
            source: match current.source {
                ProviderSource::Demo => "demo",
                ProviderSource::File => "file",
                ProviderSource::Environment => "environment",
            },
            env_overrides: app::form::env_overrides(|name| (self.options.env)(name)),
            issuer: form.issuer,
            client_id: form.client_id,
            scopes: form.scopes,
            redirect: form.redirect.into(),
            loopback_ports: form.loopback_ports,
            default_loopback_ports: LoopbackPorts::default().to_string(),
            deep_link_scheme: DEEP_LINK_SCHEME,
            prompt: form.prompt,
            items_api: form.items_api,
            dpop: form.dpop,
        }
    }

    /// Checks and saves the settings: every value is validated, and the
    /// provider's discovery document fetched, before anything is written;
    /// then the app signs in with the new provider (accounts of the old one
    /// stay in the book and the keyring).
    ///
    /// # Errors
    /// `settings_invalid` (with the field) or `discovery_failed`; nothing is
    /// saved then.
    pub async fn save_settings(&self, input: &SettingsInput) -> Result<AppInfo, IpcError> {
        let path = self.config_path()?;
        // What the screen does not show is kept from the file it replaces
        // (one that cannot be read is replaced whole).
        let previous = ConfigFile::read(&path).ok().flatten().unwrap_or_default();
        let file = form_from(input).to_file(&format!("{DEEP_LINK_SCHEME}:{DEEP_LINK_PATH}"), &previous);
        let config = app::Settings::from_file(&file).map_err(settings_error)?.signin;
        app::check_provider(&config, DISCOVERY_CHECK_TIMEOUT).await.map_err(|error| {
            let message = match &error {
                // The window leads with its own sentence (check the domain);
                // this is the technical chain under "Details".
                ProviderCheckError::Failed(error) => crate::ipc::message_with_causes(error),
                other => other.to_string(),
            };
            IpcError::new("discovery_failed", message).with_field("issuer")
        })?;
        file.write(&path)?;
        tracing::info!(issuer = %config.issuer.as_str(), "settings saved");
        self.reconfigure().await
    }

    /// Checks the settings in use against the provider and the items API:
    /// the report of `tessera doctor` ([`app::doctor`]).
    pub async fn check_settings(&self) -> DoctorReport {
        let current = self.current();
        // The doctor contacts the provider and the items API, never the token store.
        let settings = app::Settings {
            signin: current.app.session.config().clone(),
            items_api: current.app.items_api.clone(),
            token_store: TokenStoreChoice::default(),
            profile: None,
        };
        app::doctor::doctor(&settings).await.into()
    }

    /// Forgets the provider settings (the file) and goes back to the demo
    /// (unless the environment names a provider).
    ///
    /// # Errors
    /// When the file cannot be removed or the demo stack does not start.
    pub async fn use_demo(&self) -> Result<AppInfo, IpcError> {
        ConfigFile::remove(&self.config_path()?)?;
        self.reconfigure().await
    }

    /// Keeps the active account's tokens fresh (see [`Session::keep_fresh`]);
    /// answers how long to wait before calling again.
    pub async fn keep_fresh(&self) -> Duration {
        self.session().keep_fresh().await
    }

    /// Calls `on_change` whenever the accounts, the active account, its
    /// tokens or the configuration change; runs until the app ends.
    pub async fn watch_changes(&self, on_change: impl Fn()) {
        let mut reconfigured = self.reconfigured.subscribe();
        loop {
            let mut changes = self.session().subscribe();
            loop {
                tokio::select! {
                    changed = changes.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        on_change();
                    }
                    changed = reconfigured.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        on_change();
                        break;
                    }
                }
            }
        }
    }

    /// Waits until the configuration is replaced or the session changes (the
    /// background refresh's alarm clock).
    pub async fn changed(&self) {
        let mut reconfigured = self.reconfigured.subscribe();
        let mut changes = self.session().subscribe();
        tokio::select! {
            _ = changes.changed() => {}
            _ = reconfigured.changed() => {}
        }
    }

    fn config_path(&self) -> Result<PathBuf, IpcError> {
        self.options
            .config_file
            .clone()
            .ok_or_else(|| IpcError::new("settings_invalid", "this system has no folder for configuration files"))
    }

    /// Signs in with the profile `name` of the configuration file
    /// (`default`: its top-level settings) and uses its most recent
    /// account, when it has one.
    ///
    /// # Errors
    /// `settings_invalid` for a profile the file does not have (the app
    /// stays as it was).
    pub async fn use_profile(&self, name: &str) -> Result<AppInfo, IpcError> {
        self.reconfigure_with(Pick::Chosen(name.to_owned())).await
    }

    async fn reconfigure(&self) -> Result<AppInfo, IpcError> {
        let profile = self.current().app.profile.clone();
        self.reconfigure_with(Pick::OfAccount(profile)).await
    }

    async fn reconfigure_with(&self, pick: Pick) -> Result<AppInfo, IpcError> {
        self.cancel_sign_in();
        let current = configure(&self.options, pick).await?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(current);
        self.reconfigured.send_modify(|n| *n = n.wrapping_add(1));
        Ok(self.app_info())
    }
}

/// The desktop state while it starts: the window opens at once, and the
/// commands wait here until the demo stack or the keyring is ready (or
/// answer why the app could not start).
pub struct Starting {
    ready: watch::Receiver<Option<Result<Arc<Desktop>, IpcError>>>,
}

impl std::fmt::Debug for Starting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Starting").finish_non_exhaustive()
    }
}

impl Starting {
    /// A state that becomes ready when `start` (e.g. [`Desktop::start`],
    /// spawned) sends its result through the returned sender.
    #[must_use]
    pub fn new() -> (Self, StartedSender) {
        let (sender, ready) = watch::channel(None);
        (Self { ready }, StartedSender(sender))
    }

    /// A state that is ready already.
    #[must_use]
    pub fn ready(desktop: Desktop) -> Self {
        let (sender, ready) = watch::channel(Some(Ok(Arc::new(desktop))));
        drop(sender);
        Self { ready }
    }

    /// The desktop state, once started.
    ///
    /// # Errors
    /// Why the app could not start (e.g. an invalid setting), for every call.
    pub async fn desktop(&self) -> Result<Arc<Desktop>, IpcError> {
        let mut ready = self.ready.clone();
        let started = ready
            .wait_for(Option::is_some)
            .await
            .map_err(|_| IpcError::new("internal", "the app stopped while starting"))?;
        match &*started {
            Some(result) => result.clone(),
            None => Err(IpcError::new("internal", "the app stopped while starting")),
        }
    }
}

/// Hands the started desktop (or why it failed) to [`Starting`].
#[derive(Debug)]
pub struct StartedSender(watch::Sender<Option<Result<Arc<Desktop>, IpcError>>>);

impl StartedSender {
    /// Reports the start's result.
    pub fn send(self, result: Result<Desktop, IpcError>) {
        if let Err(error) = &result {
            tracing::error!(code = error.code, %error, "the app could not start");
        }
        self.0.send_replace(Some(result.map(Arc::new)));
    }
}

/// Which profile of the configuration file to sign in with.
#[derive(Debug, Clone)]
enum Pick {
    /// The profile of the account in use (at start).
    OfActiveAccount,
    /// This one (`None`: the top level), unless `TESSERA_PROFILE` says
    /// otherwise.
    OfAccount(Option<String>),
    /// Chosen by the person.
    Chosen(String),
}

/// How a profile is named to people: its name, `default` for the top level.
fn profile_label(profile: Option<&str>) -> String {
    profile.unwrap_or(app::settings::TOP_PROFILE).to_owned()
}

impl Current {
    /// Whether an account of `issuer` and `client_id` is this
    /// configuration's.
    fn signs_in(&self, issuer: &str, client_id: &str) -> bool {
        let config = self.app.session.config();
        config.issuer.as_str() == issuer && config.client_id.as_str() == client_id
    }
}

/// Builds the configuration the options describe, with the profile `pick`
/// leads to.
async fn configure(options: &Options, pick: Pick) -> Result<Current, IpcError> {
    let env = options.env.clone();
    let file = options.config_file.as_deref();
    let pick = match pick {
        Pick::OfActiveAccount => {
            let book = options.accounts_file.as_ref().and_then(|path| AccountBook::load(path.clone()).ok());
            let active = book.as_ref().and_then(AccountBook::active);
            let profile =
                active.and_then(|a| app::Settings::profile_of(file, |name| env(name), &a.key.issuer, &a.key.client_id));
            match profile {
                Some(profile) => Pick::OfAccount(profile),
                None => Pick::OfActiveAccount,
            }
        }
        pick => pick,
    };
    let choice = match &pick {
        Pick::OfActiveAccount => ProfileChoice::Default,
        Pick::OfAccount(profile) => ProfileChoice::OfAccount(profile.as_deref()),
        Pick::Chosen(name) => ProfileChoice::Chosen(name),
    };
    let (settings, source) = app::Settings::layered_profile(file, |name| env(name), choice)?;
    // No provider named: the demo mode, with a provider of its own (the
    // core has no default one to fall back on).
    if source == ProviderSource::Demo {
        let app = app::demo(settings).await.map_err(wire_error)?;
        tracing::info!(issuer = %app.session.config().issuer.as_str(), "demo mode");
        let keyring = KeyringInfo { kind: "memory", warning: None };
        return Ok(Current { app, mode: Mode::Demo, source, keyring });
    }
    let (store, keyring) = match &options.store {
        Some(store) => (OpenedStore::given(store.clone()), KeyringInfo { kind: "keyring", warning: None }),
        None => open_keyring(settings.token_store).await,
    };
    let book = match &options.accounts_file {
        Some(path) => AccountBook::load(path.clone()).map_err(signin::SessionError::from)?,
        None => {
            return Err(IpcError::new("internal", "this system has no folder for the account list"));
        }
    };
    let to_use = match pick {
        Pick::Chosen(_) => settings.account_to_use(book.list(), book.active().map(|a| &a.key)),
        _ => None,
    };
    let app = app::production(settings, store, book).map_err(wire_error)?;
    if let Some(key) = to_use {
        app.session.use_account(&key.id())?;
    }
    Ok(Current { app, mode: Mode::Configured, source, keyring })
}

/// The builder's failures: the session's with their codes, the rest internal.
fn wire_error(error: app::WireError) -> IpcError {
    match error {
        app::WireError::Session(error) => error.into(),
        other => IpcError::new("internal", other.to_string()),
    }
}

/// The token store `choice` names (the Secret Service unless the settings
/// choose the kernel keyring or memory), checked with a probe; memory (and
/// the reason) when it cannot be used. The Secret Service client blocks:
/// run off the runtime.
async fn open_keyring(choice: TokenStoreChoice) -> (OpenedStore, KeyringInfo) {
    let remembered = "Your sign-ins will not be remembered after you quit";
    match tokio::task::spawn_blocking(move || app::open_store(choice, WhenUnavailable::UseMemory)).await {
        Ok(Ok(opened)) => {
            let kind = if opened.kind.is_keyring() { "keyring" } else { "memory" };
            let warning =
                opened.keyring_error.as_ref().map(|e| format!("{remembered}: {}", crate::ipc::message_with_causes(e)));
            (opened, KeyringInfo { kind, warning })
        }
        Ok(Err(error)) => {
            let warning = format!("{remembered}: {}", crate::ipc::message_with_causes(&error));
            (OpenedStore::memory(), KeyringInfo { kind: "memory", warning: Some(warning) })
        }
        Err(error) => {
            let warning = format!("{remembered}: {error}");
            (OpenedStore::memory(), KeyringInfo { kind: "memory", warning: Some(warning) })
        }
    }
}

/// The form a saved `input` is.
fn form_from(input: &SettingsInput) -> Form {
    Form {
        issuer: input.issuer.clone(),
        client_id: input.client_id.clone(),
        scopes: input.scopes.clone(),
        redirect: match input.redirect {
            Redirect::Loopback => RedirectChoice::Loopback,
            Redirect::DeepLink => RedirectChoice::DeepLink,
        },
        loopback_ports: input.loopback_ports.clone(),
        prompt: input.prompt.clone(),
        items_api: input.items_api.clone(),
        dpop: input.dpop,
    }
}

/// A refused setting, naming the settings screen's field.
fn settings_error(error: SettingsError) -> IpcError {
    let field = error.setting().map(|setting| match Field::of_setting(setting).unwrap_or(Field::Issuer) {
        Field::Issuer => "issuer",
        Field::ClientId => "clientId",
        Field::Scopes => "scopes",
        Field::Redirect => "redirect",
        Field::LoopbackPorts => "loopbackPorts",
        Field::ItemsApi => "itemsApi",
        Field::Prompt => "prompt",
    });
    let error = IpcError::new("settings_invalid", crate::ipc::message_with_causes(&error));
    match field {
        Some(field) => error.with_field(field),
        None => error,
    }
}

#[cfg(test)]
mod tests;
