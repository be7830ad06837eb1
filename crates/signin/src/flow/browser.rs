//! Opening the authorization URL in the person's own browser (RFC 8252 §8.12:
//! never an embedded web view).

use std::process::{Command, Stdio};

use url::Url;

/// Why the browser could not be opened. The caller then shows the URL and
/// keeps waiting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// No program to open URLs with was found.
    #[error("no web browser was found (set $BROWSER)")]
    NotFound,
    /// The program could not be started.
    #[error("cannot start the browser {program:?}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The platform's opener (e.g. the desktop shell's) could not open it.
    #[error("the system could not open the browser")]
    Opener(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A test browser failed.
    #[error("the test browser failed: {0}")]
    Test(String),
}

/// Something that opens a URL for the person: the system browser, or in
/// tests an HTTP driver.
pub trait Browser: Send + Sync {
    /// Opens `url` and returns at once (it does not wait for the person).
    ///
    /// # Errors
    /// When no browser could be started.
    fn open(&self, url: &Url) -> Result<(), BrowserError>;
}

/// The system browser: `$BROWSER` when set (a `:`-separated list, as
/// `xdg-open` reads it, `;`-separated on Windows; `%s` is replaced by the
/// URL), else the platform's opener ([`crate::platform::URL_OPENER`]:
/// `xdg-open` on Linux and the BSDs, `open` on macOS, `explorer` on Windows). The program is
/// started detached (no stdio, not waited for).
#[derive(Debug, Clone, Default)]
pub struct SystemBrowser {
    browser_var: Option<String>,
    /// No display to open a browser on, as far as the environment says.
    no_display: bool,
}

impl SystemBrowser {
    /// Reads `$BROWSER`, `$DISPLAY` and `$WAYLAND_DISPLAY` from the environment.
    #[must_use]
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads `$BROWSER`, `$DISPLAY` and `$WAYLAND_DISPLAY` from `env`.
    #[must_use]
    pub fn from_vars(env: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let no_display =
            crate::platform::OPENER_NEEDS_DISPLAY && set("DISPLAY").is_none() && set("WAYLAND_DISPLAY").is_none();
        Self { browser_var: set("BROWSER"), no_display }
    }

    /// With a given `$BROWSER` value (`None`: the platform opener).
    #[must_use]
    pub fn with_browser_var(value: Option<String>) -> Self {
        Self { browser_var: value, no_display: false }
    }

    /// Why no browser can be opened here, when that is certain: no
    /// `$BROWSER`, and on Linux and the BSDs no display for `xdg-open` to
    /// open one on (neither `$DISPLAY` nor `$WAYLAND_DISPLAY`: an SSH
    /// session, a server, a container). `None` when one may open (macOS and
    /// Windows always have their opener).
    #[must_use]
    pub fn unavailable(&self) -> Option<&'static str> {
        (self.browser_var.is_none() && self.no_display).then_some("no display")
    }

    /// The commands to try, in order: program and arguments.
    #[must_use]
    pub fn commands(&self, url: &Url) -> Vec<(String, Vec<String>)> {
        let mut commands = Vec::new();
        if let Some(value) = &self.browser_var {
            for entry in value.split(crate::platform::BROWSER_LIST_SEPARATOR).filter(|e| !e.trim().is_empty()) {
                let mut words = entry.split_whitespace().map(str::to_owned);
                let Some(program) = words.next() else { continue };
                let mut args: Vec<String> = words.collect();
                if args.iter().any(|a| a.contains("%s")) {
                    for arg in &mut args {
                        *arg = arg.replace("%s", url.as_str());
                    }
                } else {
                    args.push(url.to_string());
                }
                commands.push((program, args));
            }
        }
        commands.push((crate::platform::URL_OPENER.to_owned(), vec![url.to_string()]));
        commands
    }
}

impl Browser for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), BrowserError> {
        let mut last = BrowserError::NotFound;
        for (program, args) in self.commands(url) {
            match Command::new(&program)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
            {
                Ok(mut child) => {
                    // Reap it in the background so no zombie stays behind.
                    std::thread::spawn(move || {
                        let _ = child.wait();
                    });
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => last = BrowserError::Spawn { program, source },
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests;

#[cfg(feature = "testing")]
pub use testing::{Delivered, HttpBrowser};

#[cfg(feature = "testing")]
mod testing {
    use std::sync::{Arc, Mutex, PoisonError};

    use dev_idp::testing::{Browser as Driver, Page};
    use tokio::task::JoinHandle;
    use url::Url;

    use super::{Browser, BrowserError};

    /// What the test browser did with one authorization URL.
    #[derive(Debug, Clone)]
    pub struct Delivered {
        /// The authorization URL it opened.
        pub opened: Url,
        /// The redirect it delivered to the client.
        pub redirect: Url,
        /// The status of the client's answer.
        pub status: u16,
        /// The page the client answered.
        pub body: String,
    }

    type Rewrite = Arc<dyn Fn(Url) -> Url + Send + Sync>;
    type Task = Arc<Mutex<Option<JoinHandle<Result<Delivered, String>>>>>;

    /// How long [`HttpBrowser::delivered`] waits for the browsing to end.
    pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

    /// A test browser (feature `testing`): signs a given person in on
    /// dev-idp's pages over HTTP (or presses Cancel) and delivers the redirect
    /// it stops at to the client with a plain `GET`, as a real browser would
    /// follow it into a loopback listener.
    #[derive(Clone)]
    pub struct HttpBrowser {
        driver: Driver,
        username: String,
        password: String,
        cancel_sign_in: bool,
        rewrite: Option<Rewrite>,
        task: Task,
    }

    impl std::fmt::Debug for HttpBrowser {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("HttpBrowser").field("username", &self.username).finish_non_exhaustive()
        }
    }

    impl HttpBrowser {
        /// A browser that signs `username` in with `password` (and allows consent).
        #[must_use]
        pub fn new(username: &str, password: &str) -> Self {
            Self::with_driver(Driver::new(), username, password)
        }

        /// As [`new`](Self::new), also trusting `ca` (a test's own CA, for
        /// a provider served over TLS).
        #[must_use]
        pub fn trusting(ca: dev_idp::testing::Certificate, username: &str, password: &str) -> Self {
            Self::with_driver(Driver::trusting(Some(ca)), username, password)
        }

        /// The same browser (same cookies: the provider session) signing
        /// another person in.
        #[must_use]
        pub fn signing_in_as(&self, username: &str, password: &str) -> Self {
            Self::with_driver(self.driver.clone(), username, password)
        }

        fn with_driver(driver: Driver, username: &str, password: &str) -> Self {
            Self {
                driver,
                username: username.to_owned(),
                password: password.to_owned(),
                cancel_sign_in: false,
                rewrite: None,
                task: Arc::default(),
            }
        }

        /// Presses Cancel on the sign-in form instead (the provider answers `access_denied`).
        #[must_use]
        pub fn cancelling(mut self) -> Self {
            self.cancel_sign_in = true;
            self
        }

        /// Changes the redirect before delivering it (tests of `state`/`iss` checks).
        #[must_use]
        pub fn rewriting(mut self, rewrite: impl Fn(Url) -> Url + Send + Sync + 'static) -> Self {
            self.rewrite = Some(Arc::new(rewrite));
            self
        }

        /// The underlying driver (its cookies are the provider session).
        #[must_use]
        pub fn driver(&self) -> &Driver {
            &self.driver
        }

        /// Waits (at most [`DELIVERY_TIMEOUT`]) for the last [`Browser::open`]
        /// to finish and answers what it did.
        ///
        /// # Errors
        /// When nothing was opened, the browsing failed or timed out.
        pub async fn delivered(&self) -> Result<Delivered, String> {
            let task = self.task.lock().unwrap_or_else(PoisonError::into_inner).take();
            match task {
                Some(task) => match tokio::time::timeout(DELIVERY_TIMEOUT, task).await {
                    Ok(done) => done.map_err(|e| e.to_string())?,
                    Err(_) => Err(format!(
                        "the test browser did not deliver the redirect within {DELIVERY_TIMEOUT:?} \
                         (a page or the loopback listener never answered)"
                    )),
                },
                None => Err("nothing was opened".to_owned()),
            }
        }

        async fn run(self, url: Url) -> Result<Delivered, String> {
            let redirect = if self.cancel_sign_in {
                match self.driver.open(url.as_str()).await.map_err(|e| e.to_string())? {
                    Page::SignIn(form) => match self.driver.submit(&form, &[], "cancel").await {
                        Ok(Page::Redirect(redirect)) => redirect,
                        other => return Err(format!("cancel did not redirect: {other:?}")),
                    },
                    other => return Err(format!("expected the sign-in form, got {other:?}")),
                }
            } else {
                self.driver.sign_in(url.as_str(), &self.username, &self.password).await.map_err(|e| e.to_string())?
            };
            let redirect = match &self.rewrite {
                Some(rewrite) => rewrite(redirect),
                None => redirect,
            };
            let (status, body) = self.driver.get(redirect.as_str()).await.map_err(|e| e.to_string())?;
            Ok(Delivered { opened: url, redirect, status: status.as_u16(), body })
        }
    }

    impl Browser for HttpBrowser {
        fn open(&self, url: &Url) -> Result<(), BrowserError> {
            let runtime = tokio::runtime::Handle::try_current().map_err(|e| BrowserError::Test(e.to_string()))?;
            let task = runtime.spawn(self.clone().run(url.clone()));
            *self.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
            Ok(())
        }
    }
}
