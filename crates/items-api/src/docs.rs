//! `GET /docs`: the API's documentation as a page a person reads, rendered
//! on the server, once, from the OpenAPI document `/openapi.json` serves
//! (so it names the same paths and the configured scopes), with its style
//! sheet at `/docs/style.css`. Both are compiled into the binary: nothing is
//! fetched when it is built or when it runs, the page has no script, and it
//! is served under a Content Security Policy that allows its own style sheet
//! and nothing else.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value};

/// The page's style sheet.
pub const STYLE: &str = include_str!("docs/style.css");

/// The page's Content Security Policy: its own style sheet, nothing else
/// (no script, no inline style, no frame, no form, no other origin).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The methods of a path item, in the order the page lists them.
const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// What each error code means: the `error` of the JSON body (and of the
/// `WWW-Authenticate` challenge where RFC 6750 §3.1 has one), its status,
/// and when it is answered.
const ERRORS: [(&str, u16, &str); 14] = [
    ("unauthenticated", 401, "No access token: the challenge names the realm only (RFC 6750 §3.1)."),
    (
        "invalid_request",
        400,
        "Credentials sent the wrong way (in the URL, two Authorization headers), or a malformed request.",
    ),
    ("invalid_token", 401, "The token is expired, not for this API, badly signed or revoked: get a new one."),
    ("invalid_dpop_proof", 401, "A DPoP-bound token's proof (the DPoP header, RFC 9449) is missing or wrong."),
    ("use_dpop_nonce", 401, "Send the proof again with the nonce of the DPoP-Nonce header."),
    (
        "insufficient_scope",
        403,
        "The token lacks the scope the operation needs; the challenge names it in scope=\"…\".",
    ),
    ("access_denied", 403, "The authorization policy refused the request."),
    ("not_found", 404, "No such item, or not one of yours."),
    ("too_large", 413, "The request body is over 16 KiB."),
    ("invalid_item", 422, "An item's field is not valid; field names it."),
    ("idempotency_key_reused", 422, "The Idempotency-Key was used for another item."),
    ("conflict", 409, "The item the Idempotency-Key made has been deleted since."),
    ("temporarily_unavailable", 503, "The issuer or the database cannot be reached: retry after Retry-After seconds."),
    ("internal_error", 500, "Something failed inside the API; the details are in its log, not in the answer."),
];

/// The `/docs` and `/docs/style.css` routes, the page rendered now from `openapi`.
pub fn routes<S: Clone + Send + Sync + 'static>(openapi: &Value) -> Router<S> {
    let page: Arc<str> = page(openapi).into();
    Router::new()
        .route("/docs", get(move || async move { served(&page, "text/html; charset=utf-8") }))
        .route("/docs/style.css", get(|| async { served(STYLE, "text/css; charset=utf-8") }))
}

fn served(body: &str, content_type: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin")),
    ];
    (headers, body.to_owned()).into_response()
}

/// `text` with HTML's special characters escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Prose from the document, escaped, its `code` spans (between backticks) as code.
fn prose(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut html = String::new();
    for (i, part) in parts.iter().enumerate() {
        match (i % 2 == 1, i + 1 < parts.len()) {
            // Inside a pair of backticks.
            (true, true) => {
                let _ = write!(html, "<code>{}</code>", escape(part));
            }
            // An unpaired backtick: kept as it was.
            (true, false) => {
                let _ = write!(html, "`{}", escape(part));
            }
            _ => html.push_str(&escape(part)),
        }
    }
    html
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The anchor of a schema of `components.schemas`.
fn schema_anchor(name: &str) -> String {
    format!("schema-{}", name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect::<String>())
}

/// A schema's type in words (HTML): a link for a named schema, `array of …`,
/// `string or null`, with its format.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#{}\">{}</a>", schema_anchor(name), escape(name));
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(choices) = schema.get(combinator).and_then(Value::as_array) {
            let joiner = if combinator == "allOf" { " and " } else { " or " };
            return choices.iter().map(type_of).collect::<Vec<_>>().join(joiner);
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(kind)) => vec![kind.as_str()],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut words: Vec<String> = types
        .iter()
        .map(|kind| match (*kind, schema.get("items")) {
            ("array", Some(items)) => format!("array of {}", type_of(items)),
            (kind, _) => escape(kind),
        })
        .collect();
    if words.is_empty() {
        words.push("any".to_owned());
    }
    let mut html = words.join(" or ");
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let _ = write!(html, " ({})", escape(format));
    }
    html
}

/// The schema of a request body's or response's JSON content, if it has one.
fn json_schema(body: &Value) -> Option<&Value> {
    let content = body.get("content")?.as_object()?;
    content.get("application/json").or_else(|| content.values().next())?.get("schema")
}

/// The page for `openapi`, an OpenAPI 3 document.
#[must_use]
pub fn page(openapi: &Value) -> String {
    let info = openapi.get("info").unwrap_or(&Value::Null);
    let title = match text(info, "title") {
        "" => "API",
        title => title,
    };
    let empty = Map::new();
    let paths = openapi.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    let schemas = openapi.get("components").and_then(|c| c.get("schemas")).and_then(Value::as_object).unwrap_or(&empty);

    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"docs/style.css\">\n</head>\n<body>\n\
         <header>\n<h1>{title}</h1>\n<p class=\"lead\">{description}</p>\n\
         <p class=\"muted\">Version {version}. The same description, as OpenAPI {openapi_version}: \
         <a href=\"openapi.json\">openapi.json</a>.</p>\n</header>\n",
        title = escape(title),
        description = prose(text(info, "description")),
        version = escape(text(info, "version")),
        openapi_version = escape(text(openapi, "openapi")),
    );

    html.push_str("<nav>\n<h2>Operations</h2>\n<ul>\n");
    for (path, item) in paths {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let _ = writeln!(
                html,
                "<li><a href=\"#{anchor}\"><span class=\"method\">{upper}</span> <code>{path}</code></a></li>",
                anchor = operation_anchor(method, path),
                upper = method.to_ascii_uppercase(),
                path = escape(path),
            );
        }
    }
    html.push_str("</ul>\n</nav>\n");

    html.push_str(TOKENS);

    html.push_str("<main>\n<h2>Paths</h2>\n");
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operation_html(&mut html, method, path, operation);
            }
        }
    }
    html.push_str("</main>\n");

    if !schemas.is_empty() {
        html.push_str("<section>\n<h2>Schemas</h2>\n");
        for (name, schema) in schemas {
            schema_html(&mut html, name, schema);
        }
        html.push_str("</section>\n");
    }

    errors_html(&mut html);
    html.push_str("</body>\n</html>\n");
    html
}

fn operation_anchor(method: &str, path: &str) -> String {
    let path: String = path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("op-{method}{path}")
}

/// How to get a token and send it.
const TOKENS: &str = "<section>\n<h2>Getting a token</h2>\n\
<p>Every operation but the health checks needs an OAuth 2.0 access token from the API's issuer, \
sent in the <code>Authorization</code> header (RFC 6750 §2.1; never in the URL). With Tessera's \
command line, sign in once, then print a fresh token for scripts:</p>\n\
<pre>tessera login\ncurl -H \"Authorization: Bearer $(tessera token)\" \"$ITEMS_API/v1/items\"</pre>\n\
<p><code>tessera items list</code> (and <code>show</code>, <code>create</code>…) call this API with the \
signed-in account for you. A token bound to a key (DPoP, RFC 9449) is sent as \
<code>Authorization: DPoP …</code> with a <code>DPoP</code> proof header instead.</p>\n</section>\n";

fn operation_html(html: &mut String, method: &str, path: &str, operation: &Value) {
    let _ = write!(
        html,
        "<section class=\"operation\" id=\"{anchor}\">\n<h3><span class=\"method\">{upper}</span> <code>{path}</code></h3>\n",
        anchor = operation_anchor(method, path),
        upper = method.to_ascii_uppercase(),
        path = escape(path),
    );
    for key in ["summary", "description"] {
        let value = without_heading(text(operation, key), method, path);
        if !value.is_empty() {
            let _ = writeln!(html, "<p>{}</p>", prose(&value));
        }
    }
    let _ = writeln!(html, "<p>Required scope: {}</p>", required_scope(operation));

    let parameters = operation.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if !parameters.is_empty() {
        html.push_str(
            "<h4>Parameters</h4>\n<table>\n<tr><th>Name</th><th>In</th><th>Type</th><th>Required</th>\
             <th>Description</th></tr>\n",
        );
        for parameter in parameters {
            let schema = parameter.get("schema").unwrap_or(&Value::Null);
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(text(parameter, "name")),
                escape(text(parameter, "in")),
                type_of(schema),
                if parameter.get("required") == Some(&Value::Bool(true)) { "yes" } else { "no" },
                prose(text(parameter, "description")),
            );
        }
        html.push_str("</table>\n");
    }

    if let Some(body) = operation.get("requestBody") {
        let required = if body.get("required") == Some(&Value::Bool(true)) { "required" } else { "optional" };
        let kind = json_schema(body).map_or_else(|| "any".to_owned(), type_of);
        let _ = writeln!(html, "<h4>Request body</h4>\n<p>JSON ({required}): {kind}</p>");
    }

    if let Some(responses) = operation.get("responses").and_then(Value::as_object) {
        html.push_str("<h4>Responses</h4>\n<table>\n<tr><th>Status</th><th>Body</th><th>Description</th></tr>\n");
        for (status, response) in responses {
            let body = json_schema(response).map_or_else(String::new, type_of);
            let description = match text(response, "description") {
                "" => reason(status).to_owned(),
                description => prose(description),
            };
            let _ = writeln!(html, "<tr><td>{}</td><td>{body}</td><td>{description}</td></tr>", escape(status));
        }
        html.push_str("</table>\n");
    }
    html.push_str("</section>\n");
}

/// An operation's summary without the `` `GET /path` `` it starts with (the
/// heading says it), its first letter in capitals: `GET /v1/items`: a page…
/// → A page….
fn without_heading(text: &str, method: &str, path: &str) -> String {
    let heading = format!("`{} {path}`", method.to_ascii_uppercase());
    let Some(rest) = text.strip_prefix(&heading) else { return text.to_owned() };
    let rest = rest.trim_start_matches([':', '.', ' ']);
    let mut chars = rest.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// What a status means when the document does not say (HTML).
fn reason(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "No content",
        "400" => "Bad request: see <a href=\"#errors\">Errors</a>",
        "401" => "No token, or one refused: see <a href=\"#errors\">Errors</a>",
        "403" => "Not allowed (scope or policy): see <a href=\"#errors\">Errors</a>",
        "404" => "Not found (or not yours)",
        "409" => "Conflict: see <a href=\"#errors\">Errors</a>",
        "413" => "Too large",
        "422" => "Not a valid item: see <a href=\"#errors\">Errors</a>",
        "503" => "Not ready, or temporarily unavailable: retry later",
        _ => "",
    }
}

/// The scopes an operation's `security` asks for, in words (HTML).
fn required_scope(operation: &Value) -> String {
    let Some(requirements) = operation.get("security").and_then(Value::as_array) else {
        return "none: no token needed".to_owned();
    };
    let mut scopes = Vec::new();
    for requirement in requirements.iter().filter_map(Value::as_object) {
        for names in requirement.values().filter_map(Value::as_array) {
            scopes.extend(names.iter().filter_map(Value::as_str));
        }
    }
    if scopes.is_empty() {
        return "none; any valid access token".to_owned();
    }
    scopes
        .iter()
        .map(|scope| format!("<code class=\"scope\">{}</code>", escape(scope)))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn schema_html(html: &mut String, name: &str, schema: &Value) {
    let _ = writeln!(html, "<h3 id=\"{}\"><code>{}</code></h3>", schema_anchor(name), escape(name));
    let description = text(schema, "description");
    if !description.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", prose(description));
    }
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        let _ = writeln!(html, "<p>{}</p>", type_of(schema));
        return;
    };
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    html.push_str("<table>\n<tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>\n");
    for (field, property) in properties {
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(field),
            type_of(property),
            if required.contains(&field.as_str()) { "yes" } else { "no" },
            prose(text(property, "description")),
        );
    }
    html.push_str("</table>\n");
}

fn errors_html(html: &mut String) {
    html.push_str(
        "<section id=\"errors\">\n<h2>Errors</h2>\n<p>Every error answers a JSON body with a code and a sentence, \
         <code>{\"error\": \"invalid_token\", \"message\": \"invalid token: the token has expired\"}</code> \
         (an invalid item adds <code>field</code>). A refused token is also told in the \
         <code>WWW-Authenticate</code> challenge of RFC 6750 §3, which clients should read:</p>\n\
         <pre>HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer realm=\"items\", error=\"invalid_token\", \
         error_description=\"the token has expired\"\n\nHTTP/1.1 403 Forbidden\n\
         WWW-Authenticate: Bearer realm=\"items\", error=\"insufficient_scope\", scope=\"…\"</pre>\n\
         <table>\n<tr><th>error</th><th>Status</th><th>When</th></tr>\n",
    );
    for (code, status, when) in ERRORS {
        let _ =
            writeln!(html, "<tr><td><code>{}</code></td><td>{status}</td><td>{}</td></tr>", escape(code), escape(when));
    }
    html.push_str("</table>\n</section>\n");
}

#[cfg(test)]
mod tests;
