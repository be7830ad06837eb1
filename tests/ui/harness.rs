//! Drives the real desktop app through tauri-driver and WebKitWebDriver.
//!
//! Each [`Driver`] runs `tauri-driver` inside `scripts/keyring-session.sh`:
//! a private D-Bus session (so `tauri-plugin-single-instance` of one test
//! never sees another's app), an unlocked GNOME Keyring (a real Secret
//! Service), and a private HOME with its own config and data folders. Each
//! WebDriver session started on it launches the app once; ending it quits
//! the app, so a new session is an app restart on the same machine state.
//!
//! The person's browser is `tessera-test-browser` (through `$BROWSER`, the
//! path the app's opener takes): it signs in whoever the test wrote into
//! `user` (nobody when empty), and hands a deep link to the app binary, as
//! the desktop's scheme handler would.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long a step may take (cold WebKit start-up on a busy 2-core machine
/// included).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Awaits one WebDriver command (or a sign-in, a request), failing the test
/// with `what` after [`STEP_TIMEOUT`]: WebKitWebDriver can leave a command
/// unanswered for ever, and a broken check must fail, not hang (issue 24,
/// item 4).
pub async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP_TIMEOUT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {STEP_TIMEOUT:?}: {what}"))
}

/// What a UI test needs from the machine; `None` when all is there.
pub fn missing_tools() -> Option<String> {
    if std::env::var_os("DISPLAY").is_none() {
        return Some("no X display (run under xvfb-run)".to_owned());
    }
    for tool in ["WebKitWebDriver", "dbus-run-session", "gnome-keyring-daemon"] {
        if which(tool).is_none() {
            return Some(format!("{tool} is not installed"));
        }
    }
    if tauri_driver().is_none() {
        return Some("tauri-driver is not installed (cargo install tauri-driver --locked)".to_owned());
    }
    if !axe_source().exists() {
        return Some(format!("{} is missing (cd ui && npm ci)", axe_source().display()));
    }
    if !test_browser().exists() {
        return Some(format!("{} is not built (cargo build -p tessera-test-browser)", test_browser().display()));
    }
    None
}

/// Skips the test (or fails it when `TESSERA_REQUIRE_UI=1`, as `./x test`
/// sets) when the machine cannot run the app.
#[macro_export]
macro_rules! require_ui {
    () => {
        if let Some(missing) = $crate::harness::missing_tools() {
            if std::env::var("TESSERA_REQUIRE_UI").is_ok_and(|v| v == "1") {
                panic!("the UI tests are required but cannot run: {missing}");
            }
            eprintln!("skipped: {missing}");
            return;
        }
    };
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|p| p.join(tool)).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())
}

fn tauri_driver() -> Option<PathBuf> {
    which("tauri-driver").or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(home.join("bin").join("tauri-driver")).filter(|p| p.is_file())
    })
}

/// The variable naming an installed app to drive instead of the one built
/// here (`scripts/install-test.sh` sets it for `tests/installed.rs`).
pub const INSTALLED_APP_VAR: &str = "TESSERA_INSTALLED_APP";

/// The app under test: the one built with the tests, or the installed one.
pub fn app_binary() -> PathBuf {
    std::env::var_os(INSTALLED_APP_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tessera-desktop")))
}

/// The test browser (crates/test-browser, a package of its own that never
/// ships), built beside the app by `cargo test --workspace` or `cargo build
/// -p tessera-test-browser`: cargo gives tests the paths of their own
/// package's binaries only.
pub fn test_browser() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tessera-desktop")).with_file_name("tessera-test-browser")
}

/// axe-core's script (`ui/package.json`'s devDependency), injected into
/// the app's webview by [`App::axe`].
pub fn axe_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/node_modules/axe-core/axe.min.js")
}

/// Whether the app binary runs in process group `group`.
fn app_running_in(group: u32) -> bool {
    let app = app_binary().canonicalize().unwrap_or_else(|_| app_binary());
    std::fs::read_dir("/proc").into_iter().flatten().flatten().any(|entry| {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { return false };
        // Field 5 of /proc/<pid>/stat is the process group (after "pid (comm) state ppid").
        let in_group = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().is_some_and(|stat| {
            stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<u32>().ok())
                == Some(group)
        });
        in_group && std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app)
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// One machine (bus, keyring, HOME) with tauri-driver on it.
pub struct Driver {
    child: Child,
    port: u16,
    /// Files the test shares with its browser.
    pub folder: tempfile::TempDir,
}

impl Driver {
    /// Starts tauri-driver with the app's environment `env` (on top of the
    /// test browser's settings).
    pub fn start(env: &[(&str, String)]) -> Self {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("user"), "").unwrap();
        let (port, native_port) = (free_port(), free_port());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/keyring-session.sh");
        let mut command = Command::new(script);
        command
            .arg(tauri_driver().unwrap())
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("BROWSER", test_browser())
            .env("TEST_BROWSER_USER_FILE", folder.path().join("user"))
            .env("TEST_BROWSER_LOG", folder.path().join("opened.log"))
            .env("TEST_BROWSER_SCHEME_HANDLER", app_binary())
            .env("TESSERA_KEYRING_BUS_FILE", folder.path().join("bus"))
            .env("RUST_LOG", "info")
            .env("TESSERA_LOG_DIR", folder.path().join("logs"))
            // No provider from the developer's own environment or files.
            .env_remove("OKTA_ISSUER")
            .env_remove("OKTA_DOMAIN")
            .env_remove("REDIRECT_URL")
            .current_dir(folder.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(folder.path().join("driver.log")).unwrap());
        for (name, value) in env {
            command.env(name, value);
        }
        // Its own process group, so that stopping it stops the bus, the
        // keyring daemon and the app too.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap();
        let driver = Self { child, port, folder };
        let deadline = Instant::now() + STEP_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not start:\n{}", driver.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// What the app wrote to its log files.
    pub fn log_files(&self) -> String {
        let Ok(dir) = std::fs::read_dir(self.folder.path().join("logs")) else { return String::new() };
        dir.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect()
    }

    /// The port tauri-driver listens on.
    #[allow(dead_code)] // used by bench/desktop.rs
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Who the browser signs in next (empty: nobody).
    pub fn browser_signs_in(&self, user: &str) {
        std::fs::write(self.folder.path().join("user"), user).unwrap();
    }

    /// The URLs the browser opened so far.
    pub fn opened(&self) -> Vec<url::Url> {
        std::fs::read_to_string(self.folder.path().join("opened.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| url::Url::parse(l).unwrap())
            .collect()
    }

    /// tauri-driver's and the app's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("driver.log")).unwrap_or_default()
    }

    /// Launches the app (a new WebDriver session).
    pub async fn launch(&self) -> App {
        let capabilities = json!({ "tauri:options": { "application": app_binary() } });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        // Several tests may race to install it; one wins, which is enough.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = ClientBuilder::rustls().unwrap();
        builder.capabilities(capabilities);
        let url = format!("http://127.0.0.1:{}", self.port);
        // WebKitWebDriver waits for ever for an app that exited at start. A
        // session refused at the transport (the driver's native side not
        // listening yet on a loaded machine) is asked for again, twice.
        let mut attempts = 0;
        let client = loop {
            attempts += 1;
            let connected = tokio::time::timeout(STEP_TIMEOUT, builder.connect(&url))
                .await
                .unwrap_or_else(|_| panic!("the app did not start in time:\n{}", self.log()));
            match connected {
                Ok(client) => break client,
                Err(error) if attempts < 3 => {
                    eprintln!("no WebDriver session yet ({error}); asking again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => panic!("the app did not start: {error}\n{}", self.log()),
            }
        };
        let group = self.child.id();
        assert!(app_running_in(group), "the app is not in its driver's process group");
        let bus = std::fs::read_to_string(self.folder.path().join("bus")).unwrap_or_default();
        App { client, group, bus }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// The running app, seen through its webview.
pub struct App {
    /// The WebDriver session.
    pub client: Client,
    /// The process group of its driver (the app runs in it).
    group: u32,
    /// The address of its session bus.
    bus: String,
}

impl App {
    /// Waits until `condition` (a JS expression) is true; fails with `what`
    /// and the page's state otherwise.
    pub async fn wait_until(&self, condition: &str, what: &str) {
        let script = format!("return Boolean({condition});");
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let answer =
                within(&format!("WebDriver evaluating {condition}"), self.client.execute(&script, vec![])).await;
            if answer.ok() == Some(Value::Bool(true)) {
                return;
            }
            if Instant::now() > deadline {
                let view = self.eval("document.body.dataset.view").await;
                let error = self.eval("document.getElementById('app-error-text')?.textContent").await;
                let signin = self.eval("document.getElementById('signin-error')?.textContent").await;
                panic!("timed out waiting for {what}; view {view}, app error {error}, sign-in error {signin}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for `body[data-view=view]`.
    pub async fn wait_for_view(&self, view: &str) {
        self.wait_until(&format!("document.body.dataset.view === '{view}'"), &format!("the {view} view")).await;
    }

    /// Waits for the items list to finish loading.
    pub async fn wait_for_items(&self) {
        self.wait_for_view("items").await;
        self.wait_until("document.getElementById('items-list').dataset.loaded === 'true'", "the items").await;
    }

    /// The value of a JS expression.
    pub async fn eval(&self, expression: &str) -> Value {
        let script = format!("return {expression};");
        let evaluating = self.client.execute(&script, vec![]);
        within(&format!("WebDriver evaluating {expression}"), evaluating).await.unwrap_or(Value::Null)
    }

    /// The text of `#id`.
    pub async fn text(&self, id: &str) -> String {
        within(&format!("the text of #{id}"), async { self.client.find(Locator::Id(id)).await?.text().await })
            .await
            .unwrap()
    }

    /// Clicks `#id` (waiting for it to be shown).
    pub async fn click(&self, id: &str) {
        self.wait_until(
            &format!("(e => e && !e.disabled && e.offsetParent !== null)(document.getElementById('{id}'))"),
            &format!("#{id} to be clickable"),
        )
        .await;
        self.click_when_interactable(Locator::Id(id)).await;
    }

    /// Clicks the first element matching `css`.
    pub async fn click_css(&self, css: &str) {
        let quoted = serde_json::to_string(css).unwrap();
        self.wait_until(
            &format!("(e => e && e.offsetParent !== null)(document.querySelector({quoted}))"),
            &format!("{css} to be shown"),
        )
        .await;
        self.click_when_interactable(Locator::Css(css)).await;
    }

    /// Clicks what `locator` finds, retrying while WebKit still says it is
    /// not interactable (a row just added may be laid out at the next frame).
    async fn click_when_interactable(&self, locator: Locator<'_>) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let clicking = async { self.client.find(locator).await?.click().await };
            match within(&format!("WebDriver clicking {locator:?}"), clicking).await {
                Ok(()) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::ElementNotInteractable
                        && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot click {locator:?}: {e}"),
            }
        }
    }

    /// Replaces the text of the input `#id`.
    pub async fn fill(&self, id: &str, text: &str) {
        let filling = async {
            let input = self.client.find(Locator::Id(id)).await?;
            input.clear().await?;
            input.send_keys(text).await
        };
        within(&format!("WebDriver filling #{id}"), filling).await.unwrap();
    }

    /// Types `keys` (text or [`fantoccini::key::Key`]s) into the focused element.
    pub async fn press(&self, keys: &str) {
        let pressing = async { self.client.active_element().await?.send_keys(keys).await };
        within(&format!("WebDriver pressing {keys:?}"), pressing).await.unwrap();
    }

    /// The names of the items listed.
    pub async fn item_names(&self) -> Vec<String> {
        let names =
            self.eval("[...document.querySelectorAll('#items-list li.item .item-name')].map(e => e.textContent)");
        serde_json::from_value(names.await).unwrap_or_default()
    }

    /// Runs axe-core on the page as it is now (the script is injected
    /// through WebDriver, which the app's CSP does not govern) and fails on
    /// any serious or critical violation, naming `screen`, the rule and the
    /// elements.
    pub async fn axe(&self, screen: &str) {
        if self.eval("typeof window.axe").await != "object" {
            let source = std::fs::read_to_string(axe_source()).unwrap();
            let script = format!("{source}\n;return typeof window.axe;");
            let injecting = self.client.execute(&script, vec![]);
            let injected = within("injecting axe-core", injecting).await.unwrap();
            assert_eq!(injected, Value::from("object"), "axe-core did not load in the webview");
        }
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, { resultTypes: ['violations'] })\
              .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) }))))\
              .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));";
        let running = self.client.execute_async(script, vec![]);
        let violations = within(&format!("axe-core on {screen}"), running).await.unwrap();
        assert_eq!(violations, json!([]), "serious or critical accessibility violations on {screen}");
    }

    /// Saves a PNG of the window to `$TESSERA_SCREENSHOTS/name.png` when
    /// that folder is set (how the README's pictures are taken). Taken from
    /// the X display (xdotool + ImageMagick's `import`): WebKitWebDriver's
    /// screenshot never answers when WebKit paints without compositing, as
    /// the app does.
    pub async fn screenshot(&self, name: &str) {
        let Some(folder) = std::env::var_os("TESSERA_SCREENSHOTS") else { return };
        // Let the last DOM change reach the screen.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let search = Command::new("xdotool").args(["search", "--onlyvisible", "--name", "^Tessera$"]).output().unwrap();
        let window = String::from_utf8_lossy(&search.stdout).lines().next().map(str::to_owned);
        let window = window.unwrap_or_else(|| panic!("no Tessera window on the display"));
        let path = Path::new(&folder).join(format!("{name}.png"));
        let status = Command::new("import").args(["-window", &window]).arg(&path).status().unwrap();
        assert!(status.success(), "import could not take {}", path.display());
    }

    /// Quits the app and waits until its process is gone: a launch while it
    /// is still exiting would find it on the bus and hand its arguments to
    /// it (tauri-plugin-single-instance), then exit.
    pub async fn quit(self) {
        within("WebDriver closing the app", self.client.clone().close()).await.unwrap();
        let deadline = Instant::now() + STEP_TIMEOUT;
        while app_running_in(self.group) || self.instance_on_bus() {
            assert!(Instant::now() < deadline, "the app did not exit");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses `keys` (xdotool's names: `ctrl+q`) on the app's window
    /// through the X server, as a person would: GTK's menu accelerators
    /// answer these (WebDriver's keys reach the page only).
    pub fn press_on_window(&self, keys: &str) {
        let search = Command::new("xdotool").args(["search", "--onlyvisible", "--name", "^Tessera$"]).output().unwrap();
        let window = String::from_utf8_lossy(&search.stdout).lines().next().map(str::to_owned);
        let window = window.unwrap_or_else(|| panic!("no Tessera window on the display"));
        let status = Command::new("xdotool")
            .args(["windowfocus", "--sync", &window, "key", "--clearmodifiers", keys])
            .status()
            .unwrap();
        assert!(status.success(), "xdotool could not press {keys}");
    }

    /// Quits the app as a person does, with File → Quit's shortcut
    /// (Ctrl+Q), so that it ends normally (saving what it keeps at exit,
    /// the window's state), and waits until it is gone.
    pub async fn quit_from_the_menu(self) {
        self.press_on_window("ctrl+q");
        let deadline = Instant::now() + STEP_TIMEOUT;
        while app_running_in(self.group) || self.instance_on_bus() {
            assert!(Instant::now() < deadline, "Ctrl+Q did not quit the app");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The session's browser is gone with it.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.close()).await;
    }

    /// Whether the bus still lists the app's single-instance name (the bus
    /// notices an exit a little after the process is gone).
    fn instance_on_bus(&self) -> bool {
        let output = Command::new("dbus-send")
            .arg(format!("--bus={}", self.bus))
            .args(["--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
            .args(["org.freedesktop.DBus.NameHasOwner", "string:com.example.tessera.SingleInstance"])
            .output();
        output.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
    }
}

/// Gives alice `count` items at `stack`'s items API ("Item 0000", …),
/// signing in at its provider with the test browser.
pub async fn seed_items(stack: &demo::DemoStack, count: usize) {
    use std::sync::Arc;

    let mut config = signin::flow::config::SigninConfig::demo();
    stack.configure(&mut config).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let book = signin::accounts::AccountBook::empty(folder.path().join("accounts.json"));
    let session = Arc::new(signin::Session::new(config, Arc::new(signin::store::MemoryStore::new()), book));
    let browser = Arc::new(signin::flow::browser::HttpBrowser::new("alice", "alice-demo-pw"));
    let method = signin::SignInMethod::Browser { browser, on_link: Arc::new(|_| signin::flow::redirect::Shown::No) };
    within("alice signing in to seed items", session.sign_in(method, false)).await.unwrap();
    let client = items_client::ItemsClient::new(stack.items_api().clone(), app::SessionTokens(session)).unwrap();
    for n in 0..count {
        let item = items_client::NewItem {
            name: format!("Item {n:04}"),
            description: "An item of a long list, with a description of a realistic length.".into(),
            price: 10.0 + (n % 100) as f64,
            tags: vec![format!("tag{}", n % 7), "long-list".into()],
        };
        within("seeding an item", client.create(&item)).await.unwrap();
    }
}
