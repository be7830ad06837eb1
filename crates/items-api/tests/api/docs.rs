//! Issue 18, item 6: `/docs`, the API described for a person, from the
//! binary alone, under a strict Content Security Policy.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::start;

#[tokio::test]
async fn the_docs_page_names_every_path_under_a_strict_csp_with_nothing_from_elsewhere() {
    let h = start().await;
    let openapi: Value = h.http.get(h.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let response = h.http.get(h.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    let csp = header("content-security-policy");
    assert!(csp.starts_with("default-src 'none'; style-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe") && !csp.contains("script-src"), "{csp}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let html = response.text().await.unwrap();

    let paths = openapi["paths"].as_object().unwrap();
    assert!(paths.len() >= 5, "{paths:?}");
    for path in paths.keys() {
        assert!(html.contains(&format!("<code>{path}</code>")), "{path} on the page");
    }
    assert!(html.contains("tessera token") && html.contains("WWW-Authenticate"));
    // Nothing from another origin: no URL at all, no script, no inline style.
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"), "no external URL");
    assert!(!html.contains("<script") && !html.contains(" style="));

    // Its style sheet, the one thing the CSP lets it load, from the API.
    assert!(html.contains("<link rel=\"stylesheet\" href=\"docs/style.css\">"));
    let css = h.http.get(h.url("/docs/style.css")).send().await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.unwrap();
    assert!(css.contains("body {") && !css.contains("@import") && !css.contains("url("), "self-contained");
}
