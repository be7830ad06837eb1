//! The test browser as the CLI's and the desktop app's tests use it: the
//! built binary, given an authorization URL for dev-idp (started here on
//! 127.0.0.1 port 0), signs a person in (or presses Cancel) and delivers the
//! redirect to a loopback listener started here.
//!
//! These tests are also why `cargo test` builds the binary: cargo builds a
//! package's binaries for its integration tests, and the other packages'
//! tests find it in the same target folder.
#![allow(clippy::expect_used)]

use std::time::Duration;

use axum::extract::Query;
use tokio::sync::mpsc;

const BROWSER: &str = env!("CARGO_BIN_EXE_tessera-test-browser");

/// How long the browser may take for a whole sign-in.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// A loopback listener on `/callback` that reports each query it is sent.
async fn listener() -> (String, mpsc::UnboundedReceiver<Vec<(String, String)>>) {
    let (sent, received) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::get(move |Query(query): Query<Vec<(String, String)>>| {
            let sent = sent.clone();
            async move {
                let _ = sent.send(query);
                "signed in"
            }
        }),
    );
    let socket = testkit::within("binding the listener", tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .expect("a loopback listener");
    let redirect = format!("http://127.0.0.1:{}/callback", socket.local_addr().expect("its address").port());
    tokio::spawn(async move { axum::serve(socket, app).await });
    (redirect, received)
}

/// Runs the test browser on `url` with `env` set, to its end.
async fn browse(url: String, env: &[(&str, &str)]) -> std::process::Output {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(BROWSER);
        command.arg(&url).envs(env);
        testkit::output_within(&mut command, "tessera-test-browser", RUN_LIMIT)
    })
    .await
    .expect("the browser's run")
}

/// The authorization request a sign-in with the desktop client starts with.
fn authorization_url(idp: &dev_idp::DevIdp, redirect: &str) -> String {
    let mut url = url::Url::parse(&format!("{}/v1/authorize", idp.issuer())).expect("an authorization URL");
    url.query_pairs_mut()
        .append_pair("client_id", dev_idp::config::DESKTOP_CLIENT_ID)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", "openid")
        .append_pair("state", "state-from-the-test")
        .append_pair("nonce", "nonce-from-the-test")
        // RFC 7636 Appendix B's example.
        .append_pair("code_challenge", "E9Melhoa2OwvFrEMTJguCjaoeK1t8URWbuGJSstw-cM")
        .append_pair("code_challenge_method", "S256");
    url.into()
}

async fn start() -> (dev_idp::DevIdp, String, mpsc::UnboundedReceiver<Vec<(String, String)>>) {
    let (redirect, received) = listener().await;
    // Registered, port included: dev-idp compares redirect URIs exactly, as Okta does.
    let mut config = dev_idp::Config { port: 0, ..Default::default() };
    let desktop = config.clients.iter_mut().find(|c| c.client_id == "tessera-desktop").expect("the desktop client");
    desktop.redirect_uris.push(redirect.clone());
    let idp = testkit::within("starting dev-idp", dev_idp::spawn(config)).await.expect("dev-idp");
    (idp, redirect, received)
}

fn value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn signs_the_person_in_and_delivers_the_code_to_the_listener() {
    let (idp, redirect, mut received) = start().await;
    let run = browse(authorization_url(&idp, &redirect), &[("TEST_BROWSER_USER", "bob")]).await;
    assert!(run.status.success(), "the browser failed: {}", String::from_utf8_lossy(&run.stderr));
    let query = testkit::within("the redirect at the listener", received.recv()).await.expect("a redirect");
    assert_eq!(value(&query, "state"), Some("state-from-the-test"), "{query:?}");
    assert!(value(&query, "code").is_some_and(|code| !code.is_empty()), "no code: {query:?}");
    assert_eq!(value(&query, "error"), None, "{query:?}");
    let requests = idp.provider().authorization_requests();
    assert_eq!(requests.len(), 1, "one authorization request: {requests:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn presses_cancel_when_told_to() {
    let (idp, redirect, mut received) = start().await;
    let run = browse(authorization_url(&idp, &redirect), &[("TEST_BROWSER_CANCEL", "1")]).await;
    assert!(run.status.success(), "the browser failed: {}", String::from_utf8_lossy(&run.stderr));
    let query = testkit::within("the redirect at the listener", received.recv()).await.expect("a redirect");
    assert_eq!(value(&query, "error"), Some("access_denied"), "{query:?}");
    assert_eq!(value(&query, "code"), None, "{query:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_an_empty_user_file_nobody_signs_in() {
    let (idp, redirect, mut received) = start().await;
    let folder = tempfile::tempdir().expect("a temporary folder");
    let user_file = folder.path().join("user");
    std::fs::write(&user_file, "").expect("the user file");
    let run = browse(
        authorization_url(&idp, &redirect),
        &[("TEST_BROWSER_USER_FILE", user_file.to_str().expect("a UTF-8 path"))],
    )
    .await;
    assert!(run.status.success(), "the browser failed: {}", String::from_utf8_lossy(&run.stderr));
    assert!(received.try_recv().is_err(), "nothing reaches the listener");
}
