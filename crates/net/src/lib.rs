//! The one place Tessera's HTTP clients get their trust and proxy settings:
//! the sign-in core's client of the provider, the items client, and the
//! items API's clients of the issuer and of OPA all build their
//! `reqwest::Client` through [`NetSettings::apply`].
//!
//! **Trust.** The operating system's trust store (read by
//! `rustls-native-certs`: `/etc/ssl/certs` and the like on Linux, or the
//! file `SSL_CERT_FILE` names), the bundled webpki roots (so a machine with
//! no system store still reaches public providers), and the PEM
//! certificates of a CA file ([`CaFile`]: a company's TLS-inspecting proxy
//! or internal CA). A refused certificate is recognised in a request's
//! error by [`certificate_problem`], so each client can say so and name
//! the setting that fixes it.
//!
//! **Proxies.** Only what [`ProxySettings`] says, read from `HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (or their lower-case forms) by
//! [`ProxySettings::from_env_with`]; nothing implicit. Loopback
//! (`127.0.0.0/8`, `::1`, `localhost`) is never proxied, whatever
//! `NO_PROXY` says: the demo provider, a loopback redirect and a local
//! items API stay on this machine.
//!
//! ```
//! let net = net::NetSettings::default();
//! let client = net.apply(reqwest::Client::builder()).build().expect("a client");
//! # drop(client);
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

/// What fixes an untrusted certificate in the CLI and the desktop app, as
/// their settings name the CA file (the sign-in core and the items client
/// say it; see [`CertificateProblem::explain`]).
pub const APP_CA_FILE_FIX: &str = "set ca_file in tessera.toml or TESSERA_CA_FILE to the CA's PEM file";

/// The hosts never sent through a proxy, added to every `NO_PROXY`.
pub const LOOPBACK_NO_PROXY: &str = "localhost, 127.0.0.0/8, ::1";

/// Why the settings cannot be used; each names its setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The CA file could not be read.
    #[error("the CA file {} ({setting}) cannot be read", path.display())]
    CaFileUnreadable {
        /// The setting that named it (`ca_file`, `TESSERA_CA_FILE`, `SSL_CERT_FILE`, …).
        setting: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CA file holds no PEM certificate (or a malformed one).
    #[error(
        "the CA file {} ({setting}) holds no PEM certificate: it must hold one or more \
         \"-----BEGIN CERTIFICATE-----\" blocks{}", path.display(), detail(.problem.as_deref())
    )]
    CaFileNoCertificate {
        /// The setting that named it.
        setting: String,
        /// The file.
        path: PathBuf,
        /// What the PEM reader said, when it refused the file.
        problem: Option<String>,
    },
    /// A proxy variable's value is not a proxy URL this client can use.
    #[error("{variable} is not a usable proxy URL ({problem}): use http://host:port or https://host:port")]
    Proxy {
        /// The variable (`HTTPS_PROXY`, `http_proxy`, …).
        variable: String,
        /// What is wrong (the value itself is not repeated: it may hold a
        /// password).
        problem: String,
    },
}

impl NetError {
    /// The setting (or environment variable) the error is about.
    #[must_use]
    pub fn setting(&self) -> &str {
        match self {
            Self::CaFileUnreadable { setting, .. } | Self::CaFileNoCertificate { setting, .. } => setting,
            Self::Proxy { variable, .. } => variable,
        }
    }
}

fn detail(problem: Option<&str>) -> String {
    problem.map(|p| format!(" ({p})")).unwrap_or_default()
}

/// A CA file: PEM certificates trusted besides the system's, and the
/// setting that named it (for messages).
#[derive(Clone)]
pub struct CaFile {
    // Boxed, not a PathBuf: errors carry a CaFile, and a Windows PathBuf is
    // 8 bytes larger (clippy's result_large_err, checked for Windows too).
    path: Box<Path>,
    setting: String,
    certificates: Vec<reqwest::Certificate>,
}

impl fmt::Debug for CaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaFile")
            .field("path", &self.path)
            .field("setting", &self.setting)
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

impl CaFile {
    /// Reads the PEM certificates of `path`, named by `setting` (a bundle
    /// may hold several).
    ///
    /// # Errors
    /// [`NetError::CaFileUnreadable`] when the file cannot be read,
    /// [`NetError::CaFileNoCertificate`] when it holds no certificate.
    pub fn load(setting: &str, path: &Path) -> Result<Self, NetError> {
        let bytes = std::fs::read(path).map_err(|source| NetError::CaFileUnreadable {
            setting: setting.to_owned(),
            path: path.to_owned(),
            source,
        })?;
        let none = |problem: Option<String>| NetError::CaFileNoCertificate {
            setting: setting.to_owned(),
            path: path.to_owned(),
            problem,
        };
        let certificates = reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| none(Some(e.to_string())))?;
        if certificates.is_empty() {
            return Err(none(None));
        }
        Ok(Self { path: path.into(), setting: setting.to_owned(), certificates })
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The setting that named it.
    #[must_use]
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// How many certificates it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether it holds none (never, once loaded).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

/// The proxies to use, as the conventional environment variables give them.
/// The default is none: every request goes straight to its server.
#[derive(Clone, Default)]
pub struct ProxySettings {
    /// For `https` URLs (`HTTPS_PROXY`, else `ALL_PROXY`).
    https: Option<Url>,
    /// For `http` URLs (`HTTP_PROXY`, else `ALL_PROXY`).
    http: Option<Url>,
    /// `NO_PROXY` as given (the loopback hosts are always added).
    no_proxy: String,
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A proxy URL may hold a user and password: never printed.
        let show = |url: &Option<Url>| url.as_ref().map(redacted);
        f.debug_struct("ProxySettings")
            .field("https", &show(&self.https))
            .field("http", &show(&self.http))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// `url` without its password.
fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("redacted"));
    }
    url.to_string()
}

/// The first of `names` set to something other than blanks, with its name.
fn first_set(env: &impl Fn(&str) -> Option<String>, names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|name| env(name).filter(|v| !v.trim().is_empty()).map(|v| ((*name).to_owned(), v)))
}

/// A proxy variable's value as a URL: `http://` assumed when no scheme is
/// given (`proxy.example.com:3128`, as curl takes it); only `http` and
/// `https` proxies.
fn proxy_url(variable: &str, value: &str) -> Result<Url, NetError> {
    let invalid = |problem: &str| NetError::Proxy { variable: variable.to_owned(), problem: problem.to_owned() };
    let value = value.trim();
    let text = if value.contains("://") { value.to_owned() } else { format!("http://{value}") };
    let url = Url::parse(&text).map_err(|_| invalid("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(&format!("{} proxies are not supported", url.scheme())));
    }
    if url.host().is_none() {
        return Err(invalid("no host"));
    }
    Ok(url)
}

impl ProxySettings {
    /// No proxy: every request goes straight to its server.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// The proxies `env` names: `HTTPS_PROXY` (or `https_proxy`) for
    /// `https` URLs, `HTTP_PROXY` (or `http_proxy`) for `http` URLs,
    /// `ALL_PROXY` (or `all_proxy`) for either when its own is not set, and
    /// `NO_PROXY` (or `no_proxy`): comma-separated host names (each with
    /// its subdomains), IP addresses or networks (`10.0.0.0/8`), or `*`.
    /// Loopback is never proxied, whatever `NO_PROXY` says. Empty values
    /// count as unset. Tests pass a lookup; programs
    /// [`from_env`](Self::from_env).
    ///
    /// # Errors
    /// [`NetError::Proxy`] naming the variable whose value is not an
    /// `http://` or `https://` URL.
    pub fn from_env_with(env: impl Fn(&str) -> Option<String>) -> Result<Self, NetError> {
        let parse = |names: &[&str]| -> Result<Option<Url>, NetError> {
            first_set(&env, names).map(|(name, value)| proxy_url(&name, &value)).transpose()
        };
        let all = parse(&["ALL_PROXY", "all_proxy"])?;
        let https = parse(&["HTTPS_PROXY", "https_proxy"])?.or_else(|| all.clone());
        let http = parse(&["HTTP_PROXY", "http_proxy"])?.or(all);
        let no_proxy = first_set(&env, &["NO_PROXY", "no_proxy"]).map(|(_, v)| v).unwrap_or_default();
        Ok(Self { https, http, no_proxy })
    }

    /// [`from_env_with`](Self::from_env_with) the process environment.
    ///
    /// # Errors
    /// As [`from_env_with`](Self::from_env_with).
    pub fn from_env() -> Result<Self, NetError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// The proxy for `https` URLs, if any.
    #[must_use]
    pub fn https(&self) -> Option<&Url> {
        self.https.as_ref()
    }

    /// The proxy for `http` URLs, if any.
    #[must_use]
    pub fn http(&self) -> Option<&Url> {
        self.http.as_ref()
    }

    /// The hosts not proxied: `NO_PROXY` and [`LOOPBACK_NO_PROXY`].
    #[must_use]
    pub fn no_proxy(&self) -> String {
        match self.no_proxy.trim() {
            "" => LOOPBACK_NO_PROXY.to_owned(),
            given => format!("{given}, {LOOPBACK_NO_PROXY}"),
        }
    }

    fn proxies(&self) -> Vec<reqwest::Proxy> {
        let no_proxy = self.no_proxy();
        let with_exceptions = |proxy: reqwest::Proxy| proxy.no_proxy(reqwest::NoProxy::from_string(&no_proxy));
        let mut proxies = Vec::new();
        // A checked http(s) URL is always taken: `ok()` only drops what
        // `proxy_url` already refused.
        if let Some(url) = &self.https
            && let Ok(proxy) = reqwest::Proxy::https(url.as_str())
        {
            proxies.push(with_exceptions(proxy));
        }
        if let Some(url) = &self.http
            && let Ok(proxy) = reqwest::Proxy::http(url.as_str())
        {
            proxies.push(with_exceptions(proxy));
        }
        proxies
    }
}

/// The trust and proxy settings of an HTTP client; see the crate
/// documentation. The default trusts the system's store and the webpki
/// roots, and uses no proxy.
#[derive(Debug, Clone, Default)]
pub struct NetSettings {
    /// Certificates trusted besides the system's (a company's CA).
    pub ca_file: Option<CaFile>,
    /// The proxies.
    pub proxy: ProxySettings,
}

impl NetSettings {
    /// Applies the settings to `builder`: the system's trust store and the
    /// webpki roots, the CA file's certificates, and exactly the proxies of
    /// [`ProxySettings`] (reqwest's own reading of the environment is
    /// turned off). Everything else (redirects, timeouts) is the caller's.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let mut builder = builder.tls_built_in_webpki_certs(true).tls_built_in_native_certs(true).no_proxy();
        if let Some(ca_file) = &self.ca_file {
            for certificate in &ca_file.certificates {
                builder = builder.add_root_certificate(certificate.clone());
            }
        }
        for proxy in self.proxy.proxies() {
            builder = builder.proxy(proxy);
        }
        builder
    }

    /// `reqwest::Client::builder()` with the settings [applied](Self::apply).
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        self.apply(reqwest::Client::builder())
    }
}

/// Why a server's TLS certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// It is signed by no CA this client trusts: typically a company's
    /// TLS-inspecting proxy, or an internal CA, which a CA file fixes.
    Untrusted,
    /// It is refused for another reason (expired, not for this name,
    /// revoked, …), in rustls's words.
    Invalid(String),
}

impl CertificateProblem {
    /// One sentence for a person: `peer` ("the provider") and its problem,
    /// and what to do: `fix` ("set ca_file … to the CA's PEM file") when no
    /// CA file is in use, else a question about the one that is.
    #[must_use]
    pub fn explain(&self, peer: &str, ca_file: Option<&CaFile>, fix: &str) -> String {
        match (self, ca_file) {
            (Self::Untrusted, None) => {
                format!("{peer}'s TLS certificate is not trusted (a company proxy or an internal CA?): {fix}")
            }
            (Self::Untrusted, Some(ca_file)) => format!(
                "{peer}'s TLS certificate is not trusted, not even with the CA file {} ({}): is it the CA that \
                 signed {peer}'s certificate (or your company proxy's)?",
                ca_file.path().display(),
                ca_file.setting()
            ),
            (Self::Invalid(reason), _) => format!("{peer}'s TLS certificate was refused: {reason}"),
        }
    }
}

/// The certificate problem that made a request fail, if that is why: a
/// `rustls::Error::InvalidCertificate` anywhere in `error`'s chain (looking
/// inside `std::io::Error`s, whose `source` skips the error they wrap).
#[must_use]
pub fn certificate_problem(error: &(dyn std::error::Error + 'static)) -> Option<CertificateProblem> {
    use rustls::CertificateError;
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(rustls::Error::InvalidCertificate(problem)) = error.downcast_ref::<rustls::Error>() {
            return Some(match problem {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => CertificateProblem::Untrusted,
                other => CertificateProblem::Invalid(other.to_string()),
            });
        }
        // An io::Error's `source` is its inner error's source: step into
        // the inner error itself instead.
        current = match error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests;
