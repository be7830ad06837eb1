use serde_json::json;
use utoipa::OpenApi as _;

use super::*;

fn items_api() -> Value {
    serde_json::to_value(crate::api::ApiDoc::openapi()).unwrap()
}

#[test]
fn the_page_lists_every_operation_with_its_scope_parameters_and_shapes() {
    let openapi = items_api();
    let html = page(&openapi);
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let anchor = format!("id=\"{}\"", operation_anchor(method, path));
            assert!(html.contains(&anchor), "{method} {path}");
            assert!(html.contains(&format!("<code>{path}</code>")), "{path}");
        }
    }
    for schema in openapi["components"]["schemas"].as_object().unwrap().keys() {
        assert!(html.contains(&format!("id=\"schema-{schema}\"")), "{schema}");
    }
    for needed in [
        "<code class=\"scope\">items:read</code>",
        "<code class=\"scope\">items:write</code>",
        "none: no token needed",
        "<code>Idempotency-Key</code>",
        "<code>cursor</code>",
        "<a href=\"#schema-NewItem\">NewItem</a>",
        "<a href=\"#schema-ItemList\">ItemList</a>",
        "tessera token",
        "WWW-Authenticate: Bearer realm=&quot;items&quot;",
        "insufficient_scope",
        "RFC 6750 §3",
        "<link rel=\"stylesheet\" href=\"docs/style.css\">",
    ] {
        let needed = needed.replace("&quot;", "\"");
        assert!(html.contains(&needed), "{needed} in the page");
    }
    assert!(
        !html.contains("<script") && !html.contains(" style=") && !has_event_handler(&html),
        "nothing the CSP refuses"
    );
    assert!(!html.contains("http://") && !html.contains("https://"), "no link away");
}

/// Whether `html` has an attribute such as `onclick=`.
fn has_event_handler(html: &str) -> bool {
    html.match_indices(" on").any(|(at, _)| {
        let rest = &html[at + 3..];
        let name_length = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        name_length > 0 && rest[name_length..].starts_with('=')
    })
}

#[test]
fn text_from_the_document_is_escaped_and_code_spans_kept() {
    let openapi = json!({
        "openapi": "3.1.0",
        "info": { "title": "<script>alert(1)</script>", "version": "1\"", "description": "Uses `a<b` & `c`, then `open" },
        "paths": {
            "/x/{id}": {
                "get": {
                    "summary": "Reads <b>",
                    "parameters": [{ "name": "id\"><img", "in": "path", "required": true, "schema": { "type": ["string", "null"], "format": "uuid" } }],
                    "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/It\"em" } } } } } },
                    "security": [{ "bearer": [] }]
                }
            }
        },
        "components": { "schemas": { "It\"em": { "type": "object", "required": ["a"], "properties": { "a": { "type": "integer", "description": "An <a>" } } } } }
    });
    let html = page(&openapi);
    assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<img") && !html.contains("An <a>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Uses <code>a&lt;b</code> &amp; <code>c</code>, then `open"));
    assert!(html.contains("string or null (uuid)"));
    assert!(html.contains("array of <a href=\"#schema-It-em\">It&quot;em</a>"));
    assert!(html.contains("none; any valid access token"));
    assert!(html.contains("<td><code>a</code></td><td>integer</td><td>yes</td><td>An &lt;a&gt;</td>"));
}

#[test]
fn an_empty_document_still_makes_a_page() {
    let html = page(&json!({}));
    assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>\n"));
    assert!(html.contains("<h2>Errors</h2>"));
}

#[test]
fn summaries_lose_the_method_and_path_the_heading_shows() {
    assert_eq!(without_heading("`GET /v1/items`: the caller's items.", "get", "/v1/items"), "The caller's items.");
    assert_eq!(without_heading("`GET /v1/items`.", "get", "/v1/items"), "");
    assert_eq!(without_heading("Lists items.", "get", "/v1/items"), "Lists items.");
    assert_eq!(without_heading("`GET /v1/items`: x", "post", "/v1/items"), "`GET /v1/items`: x");
    let html = page(&items_api());
    assert!(html.contains("<p>The caller&#39;s items"), "the handlers' summaries read as sentences");
    assert!(
        html.contains("<td>401</td><td></td><td>No token, or one refused: see <a href=\"#errors\">Errors</a></td>")
    );
}
