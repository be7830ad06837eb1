//! A test browser: an HTTP driver that does what a person's browser does with
//! dev-idp's pages (keeps cookies, follows the provider's own redirects, fills
//! in and submits forms) and stops at the redirect that leaves the provider,
//! so a test can hand it to the client under test (a loopback listener, a
//! deep-link handler).
//!
//! Enabled by the `testing` feature.

/// A certificate a [`Browser`] can trust ([`Browser::trusting`]).
pub use reqwest::Certificate;
use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};
use url::Url;

/// What went wrong while browsing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// The HTTP request failed.
    #[error("HTTP request failed")]
    Http(#[from] reqwest::Error),
    /// A URL could not be parsed.
    #[error("bad URL {0:?}")]
    Url(String),
    /// The page was not the one the step needed.
    #[error("unexpected page: {0}")]
    Unexpected(String),
    /// Too many redirects inside the provider.
    #[error("redirect loop")]
    RedirectLoop,
}

/// A form on a page.
#[derive(Debug, Clone)]
pub struct Form {
    /// The form's `id`: `sign-in`, `consent`, `device`, `device-code`.
    pub id: String,
    /// Where it is submitted.
    pub action: Url,
    /// `GET` or `POST`.
    pub method: Method,
    /// The named inputs with their current values (hidden ones included).
    pub fields: Vec<(String, String)>,
    /// The values of the submit buttons named `action`.
    pub buttons: Vec<String>,
    /// The error message shown with the form, if any.
    pub error: Option<String>,
}

impl Form {
    /// The value of a field.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A page the browser landed on.
#[derive(Debug, Clone)]
pub enum Page {
    /// The sign-in form.
    SignIn(Form),
    /// The consent page.
    Consent(Form),
    /// The device page asking for a code.
    DeviceCode(Form),
    /// The device page asking to allow a device.
    Device(Form),
    /// A redirect out of the provider: to the client's redirect URI.
    Redirect(Url),
    /// An error page.
    Error {
        /// The status.
        status: StatusCode,
        /// The message shown.
        message: String,
    },
    /// Any other page (a message such as "Signed out").
    Other {
        /// The status.
        status: StatusCode,
        /// The page's main sentence, if it has one.
        message: Option<String>,
    },
}

impl Page {
    fn describe(&self) -> String {
        match self {
            Self::SignIn(form) => format!("sign-in form (error: {:?})", form.error),
            Self::Consent(_) => "consent page".to_owned(),
            Self::DeviceCode(form) => format!("device code page (error: {:?})", form.error),
            Self::Device(form) => format!("device page (error: {:?})", form.error),
            Self::Redirect(url) => format!("redirect to {url}"),
            Self::Error { status, message } => format!("error page {status}: {message}"),
            Self::Other { status, message } => format!("page {status}: {message:?}"),
        }
    }
}

/// How long the test browser waits for any one page: a page that never
/// answers fails the test instead of hanging it.
pub const PAGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A cookie-keeping HTTP driver standing in for a person's browser.
#[derive(Debug, Clone)]
pub struct Browser {
    http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with an empty cookie jar.
    ///
    /// # Panics
    /// If the HTTP client cannot be built (no TLS backend), which is a test set-up bug.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        Self::trusting(None)
    }

    /// A browser with an empty cookie jar that also trusts `ca` (a test's
    /// own CA, for a provider served over TLS).
    ///
    /// # Panics
    /// If the HTTP client cannot be built (no TLS backend), which is a test set-up bug.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn trusting(ca: Option<reqwest::Certificate>) -> Self {
        // No proxy from the environment: a test of a client's proxies
        // counts only that client's requests.
        let mut builder =
            reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).timeout(PAGE_TIMEOUT).no_proxy();
        if let Some(ca) = ca {
            builder = builder.add_root_certificate(ca);
        }
        let http = builder.build().expect("an HTTP client for the test browser");
        Self { http }
    }

    /// Opens a URL, following redirects that stay on its origin.
    ///
    /// # Errors
    /// On HTTP failures and redirect loops.
    pub async fn open(&self, url: &str) -> Result<Page, BrowserError> {
        let url = Url::parse(url).map_err(|_| BrowserError::Url(url.to_owned()))?;
        self.request(Method::GET, url, None).await
    }

    /// Submits a form: its fields, overridden by `inputs`, and the button
    /// `action=button` (none when `button` is empty).
    ///
    /// # Errors
    /// On HTTP failures and redirect loops.
    pub async fn submit(&self, form: &Form, inputs: &[(&str, &str)], button: &str) -> Result<Page, BrowserError> {
        let mut fields: Vec<(String, String)> = form
            .fields
            .iter()
            .map(|(name, value)| {
                let value = inputs.iter().find(|(n, _)| n == name).map_or(value.as_str(), |(_, v)| v);
                (name.clone(), value.to_owned())
            })
            .collect();
        for (name, value) in inputs {
            if !fields.iter().any(|(n, _)| n == name) {
                fields.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        if !button.is_empty() {
            fields.push(("action".to_owned(), button.to_owned()));
        }
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&fields).finish();
        if form.method == Method::GET {
            let mut url = form.action.clone();
            url.set_query(Some(&body));
            return self.request(Method::GET, url, None).await;
        }
        self.request(Method::POST, form.action.clone(), Some(body)).await
    }

    /// Follows an authorization URL through sign-in and consent (allowing)
    /// and returns the redirect back to the client.
    ///
    /// # Errors
    /// When a page other than sign-in, consent or the redirect appears, or the
    /// password is refused.
    pub async fn sign_in(&self, authorize_url: &str, username: &str, password: &str) -> Result<Url, BrowserError> {
        let mut page = self.open(authorize_url).await?;
        for _ in 0..4 {
            page = match page {
                Page::SignIn(form) if form.error.is_none() => {
                    self.submit(&form, &[("username", username), ("password", password)], "sign-in").await?
                }
                Page::Consent(form) => self.submit(&form, &[], "allow").await?,
                Page::Redirect(url) => return Ok(url),
                other => return Err(BrowserError::Unexpected(other.describe())),
            };
        }
        Err(BrowserError::Unexpected(page.describe()))
    }

    /// The whole code flow of the desktop client (`tessera-desktop`), as the
    /// app runs it: an authorization request with PKCE S256 for `scope`,
    /// the sign-in as `username`, and the code exchanged at `issuer`'s
    /// token endpoint. Answers the access token.
    ///
    /// # Errors
    /// As [`sign_in`](Self::sign_in), and when the redirect carries no code
    /// or the token endpoint answers no access token.
    pub async fn access_token(
        &self,
        issuer: &str,
        username: &str,
        password: &str,
        scope: &str,
    ) -> Result<String, BrowserError> {
        use base64::Engine as _;
        use sha2::Digest as _;
        // A registered fixed port: accepted whether the provider compares
        // loopback ports or not.
        let redirect = format!("http://127.0.0.1:{}/callback", crate::config::DEMO_LOOPBACK_PORTS[0]);
        let redirect = redirect.as_str();
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let verifier = encode(&rand::random::<[u8; 32]>());
        let challenge = encode(&sha2::Sha256::digest(verifier.as_bytes()));
        let state = encode(&rand::random::<[u8; 16]>());
        // A custom server's endpoints are under its issuer; the org server's
        // (an issuer with no path) under `/oauth2`.
        let issuer_url = Url::parse(issuer).map_err(|_| BrowserError::Url(issuer.to_owned()))?;
        let base = if issuer_url.path() == "/" {
            format!("{}/oauth2", issuer.trim_end_matches('/'))
        } else {
            issuer.to_owned()
        };
        let mut url = Url::parse(&format!("{base}/v1/authorize")).map_err(|_| BrowserError::Url(issuer.to_owned()))?;
        url.query_pairs_mut()
            .append_pair("client_id", crate::config::DESKTOP_CLIENT_ID)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect)
            .append_pair("scope", scope)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let back = self.sign_in(url.as_str(), username, password).await?;
        let code = back
            .query_pairs()
            .find(|(name, _)| name == "code")
            .map(|(_, code)| code.into_owned())
            .ok_or_else(|| BrowserError::Unexpected(format!("a redirect without a code: {back}")))?;
        let answer: serde_json::Value = self
            .http
            .post(format!("{base}/v1/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", crate::config::DESKTOP_CLIENT_ID),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", &verifier),
            ])
            .send()
            .await?
            .json()
            .await?;
        answer["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| BrowserError::Unexpected(format!("a token response without an access token: {answer}")))
    }

    /// A plain GET of any URL (for example the client's loopback redirect),
    /// answering the status and body.
    ///
    /// # Errors
    /// On HTTP failures.
    pub async fn get(&self, url: &str) -> Result<(StatusCode, String), BrowserError> {
        let response = self.http.get(url).send().await?;
        let status = response.status();
        Ok((status, response.text().await?))
    }

    /// A GET that follows redirects wherever they lead, as a browser does
    /// (the provider's sign-out sending it back to the app's page),
    /// answering the last status and body.
    ///
    /// # Errors
    /// On HTTP failures, a bad `Location`, or more than 10 redirects.
    pub async fn get_following(&self, url: &str) -> Result<(StatusCode, String), BrowserError> {
        let mut current = Url::parse(url).map_err(|_| BrowserError::Url(url.to_owned()))?;
        for _ in 0..10 {
            let response = self.http.get(current.clone()).send().await?;
            let status = response.status();
            if !status.is_redirection() {
                return Ok((status, response.text().await?));
            }
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| BrowserError::Unexpected("redirect without Location".to_owned()))?;
            current = current.join(location).map_err(|_| BrowserError::Url(location.to_owned()))?;
        }
        Err(BrowserError::RedirectLoop)
    }

    /// Where a GET of `url` redirects to (its `Location`, resolved), as a
    /// browser would go next — a custom scheme included.
    ///
    /// # Errors
    /// On HTTP failures, or an answer that is not a redirect.
    pub async fn redirect_of(&self, url: &str) -> Result<Url, BrowserError> {
        let base = Url::parse(url).map_err(|_| BrowserError::Url(url.to_owned()))?;
        let response = self.http.get(base.clone()).send().await?;
        if !response.status().is_redirection() {
            return Err(BrowserError::Unexpected(format!("not a redirect: {}", response.status())));
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| BrowserError::Unexpected("redirect without Location".to_owned()))?;
        base.join(location).map_err(|_| BrowserError::Url(location.to_owned()))
    }

    async fn request(&self, method: Method, url: Url, body: Option<String>) -> Result<Page, BrowserError> {
        let origin = url.origin();
        let mut request = self.http.request(method, url.clone());
        if let Some(body) = body {
            request = request.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let mut response = request.send().await?;
        let mut current = url;
        for _ in 0..10 {
            if !response.status().is_redirection() {
                let status = response.status();
                let html = response.text().await?;
                return Ok(classify(&current, status, &html));
            }
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| BrowserError::Unexpected("redirect without Location".to_owned()))?;
            let next = current.join(location).map_err(|_| BrowserError::Url(location.to_owned()))?;
            if next.origin() != origin {
                return Ok(Page::Redirect(next));
            }
            response = self.http.get(next.clone()).send().await?;
            current = next;
        }
        Err(BrowserError::RedirectLoop)
    }
}

fn classify(base: &Url, status: StatusCode, html: &str) -> Page {
    if let Some(form) = parse_form(base, html) {
        return match form.id.as_str() {
            "sign-in" => Page::SignIn(form),
            "consent" => Page::Consent(form),
            "device" => Page::Device(form),
            "device-code" => Page::DeviceCode(form),
            _ => Page::Other { status, message: None },
        };
    }
    if let Some(message) = text_after(html, "data-error>") {
        return Page::Error { status, message };
    }
    Page::Other { status, message: text_after(html, "data-message>") }
}

/// The text from `marker` to the next tag.
fn text_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('<').map_or(html.len(), |i| start + i);
    Some(unescape(&html[start..end]))
}

fn parse_form(base: &Url, html: &str) -> Option<Form> {
    let start = html.find("<form")?;
    let end = html[start..].find("</form>").map_or(html.len(), |i| start + i);
    let inner = &html[start..end];
    let form_attrs = attributes(&inner[5..]);
    let attr = |attrs: &[(String, String)], name: &str| attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let action = base.join(&attr(&form_attrs, "action").unwrap_or_default()).ok()?;
    let method = if attr(&form_attrs, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
        Method::POST
    } else {
        Method::GET
    };
    let mut fields = Vec::new();
    let mut buttons = Vec::new();
    for (tag, attrs) in tags(inner) {
        match tag.as_str() {
            "input" => {
                if let Some(name) = attr(&attrs, "name") {
                    fields.push((name, attr(&attrs, "value").unwrap_or_default()));
                }
            }
            "button" if attr(&attrs, "name").as_deref() == Some("action") => {
                buttons.push(attr(&attrs, "value").unwrap_or_default());
            }
            _ => {}
        }
    }
    let error = text_after(&html[..start], "role=\"alert\">");
    Some(Form { id: attr(&form_attrs, "id").unwrap_or_default(), action, method, fields, buttons, error })
}

/// Every start tag in `html` with its attributes.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let name: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
        if name.is_empty() {
            continue;
        }
        let close = rest.find('>').unwrap_or(rest.len());
        found.push((name.to_ascii_lowercase(), attributes(&rest[name.len()..close])));
        rest = &rest[close..];
    }
    found
}

/// `name="value"` pairs (and bare names) up to the end of a tag.
fn attributes(text: &str) -> Vec<(String, String)> {
    let text = &text[..text.find('>').unwrap_or(text.len())];
    let mut attrs = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() || c == '/' {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            end = j + c.len_utf8();
            chars.next();
        }
        let name = text[i..end].to_ascii_lowercase();
        if chars.peek().is_some_and(|&(_, c)| c == '=') {
            chars.next();
            let quote = chars.peek().map(|&(_, c)| c);
            if let Some(quote @ ('"' | '\'')) = quote {
                chars.next();
                let start = chars.peek().map_or(text.len(), |&(j, _)| j);
                let mut stop = text.len();
                for (j, c) in chars.by_ref() {
                    if c == quote {
                        stop = j;
                        break;
                    }
                }
                attrs.push((name, unescape(&text[start..stop.max(start)])));
            } else {
                let start = chars.peek().map_or(text.len(), |&(j, _)| j);
                let mut stop = text.len();
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() {
                        stop = j;
                        break;
                    }
                    chars.next();
                }
                attrs.push((name, unescape(&text[start..stop.max(start)])));
            }
        } else {
            attrs.push((name, String::new()));
        }
    }
    attrs
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_like_a_browser_reads_them() {
        let base = Url::parse("http://127.0.0.1:1/oauth2/default/v1/authorize?x=1").unwrap();
        let html = r#"<p class="error" role="alert">Wrong &amp; bad</p><form id="sign-in" method="post" action="/oauth2/default/sign-in">
            <input type="hidden" name="interaction" value="a&quot;b">
            <input type="text" name="username" value="" autofocus>
            <button class="primary" type="submit" name="action" value="sign-in">Sign in</button></form>"#;
        let Page::SignIn(form) = classify(&base, StatusCode::OK, html) else { panic!("not a sign-in page") };
        assert_eq!(form.action.as_str(), "http://127.0.0.1:1/oauth2/default/sign-in");
        assert_eq!(form.method, Method::POST);
        assert_eq!(form.field("interaction"), Some("a\"b"));
        assert_eq!(form.field("username"), Some(""));
        assert_eq!(form.buttons, ["sign-in"]);
        assert_eq!(form.error.as_deref(), Some("Wrong & bad"));
    }
}

/// An authorization request as dev-idp received it (see
/// [`Provider::authorization_requests`](crate::Provider::authorization_requests)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// Pushed to `/v1/par` (RFC 9126) rather than brought by the browser.
    pub pushed: bool,
    /// The parameters, in order.
    pub params: Vec<(String, String)>,
}

impl ReceivedRequest {
    /// The value of `name`, if sent.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}
