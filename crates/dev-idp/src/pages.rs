//! The HTML the person sees: the sign-in form, the consent page, the device
//! verification page and error pages. Every value is escaped.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::config::ScopeConfig;
use crate::params::Params;

/// A form posted to a page the person sees (authorize, sign-in, consent,
/// device activation, logout): a body that is not a form gets an error
/// page, never an OAuth error for a client to read.
pub(crate) struct PageForm(pub(crate) Params);

impl<S: Send + Sync> FromRequest<S> for PageForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state).await.map_err(IntoResponse::into_response)?;
        Params::from_form(&headers, &body).map(Self).map_err(|message| error(StatusCode::BAD_REQUEST, message))
    }
}

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;\
display:grid;place-items:center;min-height:100vh}main{background:#fff;border-radius:12px;\
box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.25rem;width:min(24rem,90vw)}\
h1{font-size:1.3rem;margin:0 0 .25rem}p.sub{color:#5b6475;margin:0 0 1.25rem}\
label{display:block;font-size:.9rem;margin:.75rem 0 .25rem}input[type=text],input[type=password]\
{width:100%;box-sizing:border-box;padding:.55rem .6rem;border:1px solid #c5cad3;border-radius:6px;font-size:1rem}\
.buttons{display:flex;gap:.5rem;margin-top:1.25rem}button{flex:1;padding:.6rem;border-radius:6px;\
border:1px solid #3b5bdb;font-size:1rem;cursor:pointer}button.primary{background:#3b5bdb;color:#fff}\
button.secondary{background:#fff;color:#3b5bdb}.error{background:#fff0f0;color:#a61b1b;border-radius:6px;\
padding:.5rem .75rem}ul.scopes{padding-left:1.1rem}code{font-size:.95em}footer{color:#8a92a3;\
font-size:.8rem;margin-top:1.25rem}";

/// A complete page with the headers that keep it out of frames and caches.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · dev-idp</title><style>{STYLE}</style></head><body><main>{body}\
         <footer>dev-idp · a development OpenID provider</footer></main></body></html>",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error shown to the person instead of a redirect (bad client or redirect
/// URI, RFC 6749 §4.1.2.1; expired sign-in; bad logout request).
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>Something went wrong</h1><p class=\"error\" data-error>{}</p>\
         <p>Go back to the app and start again.</p>",
        escape(message)
    );
    page(status, "Error", &body)
}

fn error_box(error: Option<&str>) -> String {
    error.map_or_else(String::new, |e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
}

/// The sign-in form.
pub(crate) struct SignIn<'a> {
    pub(crate) action: &'a str,
    pub(crate) interaction: &'a str,
    pub(crate) client_name: &'a str,
    pub(crate) login_hint: Option<&'a str>,
    pub(crate) error: Option<&'a str>,
}

impl SignIn<'_> {
    pub(crate) fn render(&self) -> Response {
        let body = format!(
            "<h1>Sign in</h1><p class=\"sub\">to continue to <strong>{client}</strong></p>{error}\
             <form id=\"sign-in\" method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"interaction\" value=\"{interaction}\">\
             <label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" value=\"{hint}\" autocomplete=\"username\" autofocus>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">\
             <div class=\"buttons\"><button class=\"primary\" type=\"submit\" name=\"action\" value=\"sign-in\">Sign in</button>\
             <button class=\"secondary\" type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button></div></form>",
            client = escape(self.client_name),
            error = error_box(self.error),
            action = escape(self.action),
            interaction = escape(self.interaction),
            hint = escape(self.login_hint.unwrap_or_default()),
        );
        page(StatusCode::OK, "Sign in", &body)
    }
}

/// The consent page.
pub(crate) struct Consent<'a> {
    pub(crate) action: &'a str,
    pub(crate) interaction: &'a str,
    pub(crate) client_name: &'a str,
    pub(crate) person: &'a str,
    pub(crate) scopes: Vec<&'a ScopeConfig>,
}

impl Consent<'_> {
    pub(crate) fn render(&self) -> Response {
        let body = format!(
            "<h1>Allow access?</h1><p class=\"sub\"><strong>{client}</strong> asks to act for \
             <strong>{person}</strong>. It will be able to:</p>{scopes}\
             <form id=\"consent\" method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"interaction\" value=\"{interaction}\">\
             <div class=\"buttons\"><button class=\"primary\" type=\"submit\" name=\"action\" value=\"allow\">Allow</button>\
             <button class=\"secondary\" type=\"submit\" name=\"action\" value=\"deny\">Deny</button></div></form>",
            client = escape(self.client_name),
            person = escape(self.person),
            scopes = scope_list(&self.scopes),
            action = escape(self.action),
            interaction = escape(self.interaction),
        );
        page(StatusCode::OK, "Allow access", &body)
    }
}

pub(crate) fn scope_list(scopes: &[&ScopeConfig]) -> String {
    let items: String = scopes
        .iter()
        .map(|s| format!("<li>{} <code>{}</code></li>", escape(&s.description), escape(&s.name)))
        .collect();
    format!("<ul class=\"scopes\">{items}</ul>")
}

/// A page with a heading and one sentence.
pub(crate) fn message(title: &str, text: &str) -> Response {
    let body = format!("<h1>{}</h1><p data-message>{}</p>", escape(title), escape(text));
    page(StatusCode::OK, title, &body)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_neutralises_markup_and_attribute_breaks() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("plain"), "plain");
    }
}
