//! The loopback redirect (RFC 8252 §7.3): IPv4, IPv6, fixed and busy ports,
//! cancellation, time-out, stray requests, no browser.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dev_idp::testing::Browser as Driver;
use signin::flow::SigninError;
use signin::flow::browser::{Browser, BrowserError, HttpBrowser};
use signin::flow::config::LoopbackPorts;
use signin::flow::login::{self, AuthOptions};
use signin::flow::loopback::LoopbackRedirect;
use signin::flow::redirect::{self, Reply as _, Request};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::support::{
    ALICE, ALICE_SUB, Env, LOCALHOST_V4, LOCALHOST_V6, client_id, loopback_sign_in, pending_for, query,
    registered_listener, scopes, start, start_with, with_param, within,
};

#[tokio::test]
async fn signs_in_over_ipv4_loopback_with_a_pushed_request_pkce_state_and_nonce() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let signed_in = loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    // The access token's lifetime, as dev-idp said it (`expires_in`).
    assert_eq!(signed_in.tokens.expires_in, Duration::from_secs(3600));
    assert_eq!(signed_in.key.issuer, env.idp.issuer());
    assert_eq!(signed_in.key.client_id, "tessera-desktop");
    assert_eq!(signed_in.identity.email.as_deref(), Some("alice@example.com"));
    assert!(signed_in.refresh_token.is_some(), "offline_access gives a refresh token");
    assert!(signed_in.tokens.id_token.is_some());
    assert!(signed_in.tokens.scopes.iter().any(|s| s == "items:read"));
    assert!(!format!("{signed_in:?}").contains(signed_in.tokens.access_token.secret()), "tokens are not printed");

    let delivered = within("the test browser's page", browser.delivered()).await.unwrap();
    assert_eq!(delivered.status, 200, "{}", delivered.body);
    assert!(delivered.body.contains("signed in"), "{}", delivered.body);
    assert!(!delivered.body.contains(query(&delivered.redirect, "code").unwrap().as_str()), "no code on the page");
    // The request was pushed (RFC 9126): the browser saw only the client and
    // the request_uri; the provider got the rest from the client directly.
    let opened: Vec<String> = delivered.opened.query_pairs().map(|(name, _)| name.into_owned()).collect();
    assert_eq!(opened, ["client_id", "request_uri"], "{}", delivered.opened);
    let requests = env.idp.provider().authorization_requests();
    let (sent, fresh) = requests.split_first().expect("an authorization request");
    assert!(sent.pushed);
    // The browser spent its link: a fresh one for another browser may have
    // been pushed meanwhile, for the same request.
    assert!(fresh.iter().all(|r| r.pushed && r.params == sent.params), "{requests:?}");
    assert_eq!(sent.get("code_challenge_method"), Some("S256"));
    assert_eq!(sent.get("code_challenge").map(str::len), Some(43));
    assert!(sent.get("state").is_some_and(|s| s.len() >= 16));
    assert!(sent.get("nonce").is_some_and(|s| s.len() >= 16));
    let redirect_uri = Url::parse(sent.get("redirect_uri").unwrap()).unwrap();
    assert_eq!(redirect_uri.host_str(), Some("127.0.0.1"));
    assert_eq!(redirect_uri.path(), "/callback");
    let port = redirect_uri.port().unwrap();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "the listener is closed after the sign-in"
    );
}

#[tokio::test]
async fn signs_in_over_ipv6_loopback() {
    if let Err(error) = std::net::TcpListener::bind("[::1]:0") {
        // `./x test` sets TESSERA_REQUIRE_IPV6=1: there a machine without
        // IPv6 loopback fails loudly instead of skipping.
        assert!(
            std::env::var("TESSERA_REQUIRE_IPV6").as_deref() != Ok("1"),
            "TESSERA_REQUIRE_IPV6=1 but [::1] cannot be bound: {error}"
        );
        eprintln!("note: [::1] cannot be bound on this machine ({error}); skipping the IPv6 loopback test");
        return;
    }
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let signed_in = loopback_sign_in(&env, LOCALHOST_V6, None, &browser, &AuthOptions::default()).await.unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    let delivered = within("the test browser's page", browser.delivered()).await.unwrap();
    assert_eq!(delivered.redirect.host_str(), Some("[::1]"));
    assert_eq!(delivered.status, 200);
}

#[tokio::test]
async fn a_fixed_port_is_used_in_the_redirect_uri() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // Registered, port included: dev-idp compares redirect URIs exactly, as Okta does.
    let env = start_with(|config| {
        let desktop = config.clients.iter_mut().find(|c| c.client_id == client_id().as_str()).unwrap();
        desktop.redirect_uris.push(format!("http://127.0.0.1:{port}/callback"));
    })
    .await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let signed_in = loopback_sign_in(&env, LOCALHOST_V4, Some(port), &browser, &AuthOptions::default()).await.unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    let delivered = within("the test browser's page", browser.delivered()).await.unwrap();
    let sent = env.idp.provider().authorization_requests().pop().unwrap();
    assert_eq!(sent.get("redirect_uri").unwrap(), format!("http://127.0.0.1:{port}/callback"));
    assert!(delivered.redirect.as_str().starts_with(&format!("http://127.0.0.1:{port}/callback?")));
}

#[tokio::test]
async fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = LoopbackRedirect::bind(LOCALHOST_V4, Some(port), "/callback").await.unwrap_err();
    assert!(matches!(error, SigninError::PortInUse { port: p, .. } if p == port), "{error:?}");
    assert!(error.to_string().contains(&format!("port {port}")), "{error}");
    assert!(error.to_string().contains("already in use"), "{error}");
}

#[tokio::test]
async fn only_loopback_addresses_and_absolute_paths_are_accepted() {
    let error = LoopbackRedirect::bind("0.0.0.0".parse().unwrap(), None, "/callback").await.unwrap_err();
    assert!(matches!(error, SigninError::InvalidSetting { .. }), "{error:?}");
    let error = LoopbackRedirect::bind(LOCALHOST_V4, None, "callback").await.unwrap_err();
    assert!(matches!(error, SigninError::InvalidSetting { .. }), "{error:?}");
}

#[tokio::test]
async fn waiting_can_be_cancelled() {
    let env = start().await;
    let listener = registered_listener(LOCALHOST_V4).await;
    let port = listener.port();
    let (_, pending) = pending_for(&env, &listener);
    let cancel = CancellationToken::new();
    let waiting = tokio::spawn({
        let cancel = cancel.clone();
        async move { listener.wait(&pending, Duration::from_secs(60), &cancel).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the wait ends within 5 s of the cancellation")
        .unwrap();
    assert!(matches!(result, Err(SigninError::Cancelled)), "{result:?}");
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn waiting_times_out() {
    let env = start().await;
    let listener = registered_listener(LOCALHOST_V4).await;
    let port = listener.port();
    let (_, pending) = pending_for(&env, &listener);
    let started = std::time::Instant::now();
    let result =
        within("a wait of 200 ms", listener.wait(&pending, Duration::from_millis(200), &CancellationToken::new()))
            .await;
    assert!(matches!(result, Err(SigninError::TimedOut { .. })), "{result:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(result.unwrap_err().to_string().contains("the sign-in timed out after 0 s; try again"));
    // The browser that never came back finds the listener closed, and the
    // next sign-in can listen on the same port.
    let late = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    assert!(late.is_err(), "the listener still accepts after the timeout");
    let again = LoopbackRedirect::bind(LOCALHOST_V4, Some(port), "/callback").await.unwrap();
    assert_eq!(again.port(), port);
}

#[tokio::test]
async fn stray_requests_get_404_and_do_not_end_the_wait() {
    let env = start().await;
    let listener = registered_listener(LOCALHOST_V4).await;
    let base = format!("http://127.0.0.1:{}", listener.port());
    let (url, pending) = pending_for(&env, &listener);
    let pending = Arc::new(pending);
    let waiting = tokio::spawn({
        let pending = pending.clone();
        async move { listener.wait(&pending, Duration::from_secs(20), &CancellationToken::new()).await }
    });

    let driver = Driver::new();
    let redirect = within("dev-idp's sign-in pages", driver.sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let (status, _) = within("a favicon request", driver.get(&format!("{base}/favicon.ico"))).await.unwrap();
    assert_eq!(status.as_u16(), 404);
    for path in ["/callback/extra", "/callbackx", "/Callback", "/callback/", "//callback", "/x/../callback/.."] {
        let stray = format!("{base}{path}?{}", redirect.query().unwrap());
        let (status, _) = within("an answer on another path", driver.get(&stray)).await.unwrap();
        assert_eq!(status.as_u16(), 404, "the exact path only: {path}");
    }
    let (status, _) = within("a request without an answer", driver.get(&format!("{base}/callback"))).await.unwrap();
    assert_eq!(status.as_u16(), 400, "no answer in it");
    assert!(!waiting.is_finished(), "still waiting");

    let delivering = tokio::spawn(async move { driver.get(redirect.as_str()).await });
    let (callback, reply) = within("the listener taking the redirect", waiting).await.unwrap().unwrap();
    let pending = Arc::into_inner(pending).expect("the wait is over");
    let result = within("the code exchange", login::complete(&env.provider, pending, &callback)).await;
    reply.send(result.as_ref()).await;
    assert_eq!(result.unwrap().key.subject, ALICE_SUB);
    let (status, body) = within("the browser's page", delivering).await.unwrap().unwrap();
    assert_eq!(status.as_u16(), 200, "{body}");
}

/// A loopback listener on 127.0.0.1 waiting (30 s) for a new sign-in's
/// answer.
struct Waiting {
    port: u16,
    /// The authorization URL to open.
    url: Url,
    pending: Arc<login::PendingLogin>,
    wait: tokio::task::JoinHandle<Result<(login::Callback, signin::flow::loopback::BrowserReply), SigninError>>,
}

async fn listening(env: &Env) -> Waiting {
    let listener = registered_listener(LOCALHOST_V4).await;
    let port = listener.port();
    let (url, pending) = pending_for(env, &listener);
    let pending = Arc::new(pending);
    let wait = tokio::spawn({
        let pending = pending.clone();
        async move { listener.wait(&pending, Duration::from_secs(30), &CancellationToken::new()).await }
    });
    Waiting { port, url, pending, wait }
}

impl Waiting {
    /// Takes the answer the wait ends with, completes the sign-in with it and
    /// answers the browser; the signed-in subject.
    async fn complete(self, env: &Env) -> String {
        let (callback, reply) = within("the listener taking the redirect", self.wait).await.unwrap().unwrap();
        let pending = Arc::into_inner(self.pending).expect("the wait is over");
        let result = within("the code exchange", login::complete(&env.provider, pending, &callback)).await;
        reply.send(result.as_ref()).await;
        result.unwrap().key.subject
    }
}

/// Issue 14, item 9: an answer on the callback path that is not this
/// sign-in's (no `state`, another one, a near miss, a repeated `state`, an
/// `error` with a wrong `state`) gets a 400 page and the listener keeps
/// waiting; the real redirect, arriving after all of them, signs in.
#[tokio::test]
async fn answers_for_another_sign_in_get_400_and_do_not_end_the_wait() {
    let env = start().await;
    let waiting = listening(&env).await;
    let base = format!("http://127.0.0.1:{}/callback", waiting.port);
    let driver = Driver::new();
    let redirect =
        within("dev-idp's sign-in pages", driver.sign_in(waiting.url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let state = query(&redirect, "state").unwrap();
    let code = query(&redirect, "code").unwrap();
    let mut near = state.clone().into_bytes();
    near[0] = if near[0] == b'A' { b'B' } else { b'A' };
    let near = String::from_utf8(near).unwrap();
    let encoded: String = state.bytes().map(|b| format!("%{b:02X}")).collect();
    let wrong = [
        ("no state", with_param(&redirect, "state", None).to_string()),
        ("another state", with_param(&redirect, "state", Some("someone-elses-state")).to_string()),
        ("an empty state", with_param(&redirect, "state", Some("")).to_string()),
        ("one character off", with_param(&redirect, "state", Some(&near)).to_string()),
        ("a prefix", with_param(&redirect, "state", Some(&state[..state.len() - 1])).to_string()),
        ("a longer one", with_param(&redirect, "state", Some(&format!("{state}x"))).to_string()),
        ("the other case", with_param(&redirect, "state", Some(&swap_case(&state))).to_string()),
        ("the state twice, ours first", format!("{redirect}&state=someone-elses-state")),
        ("the state twice, ours last", format!("{base}?state=someone-elses-state&{}", redirect.query().unwrap())),
        ("our state twice", format!("{redirect}&state={state}")),
        ("an error without state", format!("{base}?error=access_denied")),
        ("an error with another state", format!("{base}?error=access_denied&state=someone-elses-state")),
        ("an error, state twice", format!("{base}?error=access_denied&state={state}&state=x")),
        ("a code in the fragment only", format!("{base}#code={code}&state={state}")),
        // Our state, but no answer (neither code nor error): not the redirect.
        ("our state alone", format!("{base}?state={state}")),
        ("our state with iss only", format!("{base}?state={state}&iss=x")),
    ];
    for (what, attempt) in &wrong {
        let (status, body) = within(what, driver.get(attempt)).await.unwrap();
        assert_eq!(status.as_u16(), 400, "{what}: {body}");
        assert!(!waiting.wait.is_finished(), "{what} ended the wait");
    }
    // A percent-encoded spelling of our own state is our state.
    let delivering = {
        let real = redirect.as_str().replace(&format!("state={state}"), &format!("state={encoded}"));
        assert_ne!(real, redirect.as_str());
        let driver = driver.clone();
        tokio::spawn(async move { driver.get(&real).await })
    };
    assert_eq!(waiting.complete(&env).await, ALICE_SUB);
    let (status, body) = within("the browser's page", delivering).await.unwrap().unwrap();
    assert_eq!(status.as_u16(), 200, "{body}");
}

/// Issue 14, item 9: more idle connections than the listener reads at once
/// (32) do not shut the browser out: the oldest is closed, the newest are
/// kept, and the browser's redirect still signs in.
#[tokio::test]
async fn idle_connections_are_evicted_oldest_first_and_the_browser_gets_in() {
    use tokio::io::AsyncReadExt as _;
    let env = start().await;
    let waiting = listening(&env).await;
    let port = waiting.port;
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(within("an idle connection", tokio::net::TcpStream::connect(("127.0.0.1", port))).await.unwrap());
        // Accepted in order: the first ones are the oldest.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), idle[0].read(&mut byte))
        .await
        .expect("the oldest idle connection is closed when more come");
    assert!(matches!(read, Ok(0) | Err(_)), "the oldest connection was closed: {read:?}");
    let newest = tokio::time::timeout(Duration::from_millis(200), idle[39].read(&mut byte)).await;
    assert!(newest.is_err(), "the newest idle connection is still open: {newest:?}");

    let driver = Driver::new();
    let redirect =
        within("dev-idp's sign-in pages", driver.sign_in(waiting.url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let delivering = tokio::spawn(async move { driver.get(redirect.as_str()).await });
    assert_eq!(waiting.complete(&env).await, ALICE_SUB);
    let (status, body) = within("the browser's page", delivering).await.unwrap().expect("the browser got in");
    assert_eq!(status.as_u16(), 200, "{body}");
}

fn swap_case(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
}

/// A browser that cannot be opened, remembering nothing.
struct NoSuchBrowser;

impl Browser for NoSuchBrowser {
    fn open(&self, _url: &Url) -> Result<(), BrowserError> {
        Err(BrowserError::NotFound)
    }
}

#[tokio::test]
async fn without_a_browser_the_url_is_handed_out_and_the_wait_goes_on() {
    let env = start().await;
    let shown: Arc<Mutex<Option<Url>>> = Arc::default();
    let listener = registered_listener(LOCALHOST_V4).await;
    let env = Arc::new(env);
    let signing_in = tokio::spawn({
        let env = env.clone();
        let shown = shown.clone();
        async move {
            let show = move |link: redirect::Link<'_>| {
                *shown.lock().unwrap() = Some(link.url.clone());
                redirect::Shown::Yes
            };
            let (client_id, scopes, options) = (client_id(), scopes(), AuthOptions::default());
            let request =
                Request { client_id: &client_id, scopes: &scopes, options: &options, timeout: Duration::from_secs(20) };
            redirect::sign_in(&env.provider, request, listener, &NoSuchBrowser, &show, &CancellationToken::new()).await
        }
    });
    let url = within("the URL handed out", async {
        loop {
            if let Some(url) = shown.lock().unwrap().clone() {
                break url;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    // The person opens the printed URL by hand.
    let person = HttpBrowser::new(ALICE.0, ALICE.1);
    person.open(&url).unwrap();
    let signed_in = within("the sign-in through the printed URL", signing_in).await.unwrap().unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    assert_eq!(within("the person's page", person.delivered()).await.unwrap().status, 200);
}

#[test]
fn the_system_browser_honours_dollar_browser() {
    use signin::flow::browser::SystemBrowser;
    let url = Url::parse("http://127.0.0.1:1/x?a=b").unwrap();
    let commands = SystemBrowser::with_browser_var(Some("firefox --new-window:w3m %s".to_owned())).commands(&url);
    assert_eq!(commands[0], ("firefox".to_owned(), vec!["--new-window".to_owned(), url.to_string()]));
    assert_eq!(commands[1], ("w3m".to_owned(), vec![url.to_string()]));
    assert!(commands.len() == 3, "then the platform opener: {commands:?}");
    let commands = SystemBrowser::with_browser_var(None).commands(&url);
    assert_eq!(commands.len(), 1);
}

#[tokio::test]
async fn an_idle_connection_does_not_delay_the_answer() {
    let env = start().await;
    let listener = LoopbackRedirect::for_redirect(&signin::flow::config::RedirectKind::default()).await.unwrap();
    let port = listener.port();
    let (url, pending) = pending_for(&env, &listener);
    let pending = Arc::new(pending);
    let waiting = tokio::spawn({
        let pending = pending.clone();
        async move { listener.wait(&pending, Duration::from_secs(20), &CancellationToken::new()).await }
    });
    // A browser's speculative pre-connect: opened, never used.
    let _idle = within("an idle connection", tokio::net::TcpStream::connect(("127.0.0.1", port))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let driver = Driver::new();
    let redirect = within("dev-idp's sign-in pages", driver.sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let started = std::time::Instant::now();
    let delivering = tokio::spawn(async move { driver.get(redirect.as_str()).await });
    let (callback, reply) = within("the listener taking the redirect", waiting).await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "answered at once: {:?}", started.elapsed());
    let pending = Arc::into_inner(pending).expect("the wait is over");
    let result = within("the code exchange", login::complete(&env.provider, pending, &callback)).await;
    reply.send(result.as_ref()).await;
    assert_eq!(result.unwrap().key.subject, ALICE_SUB);
    assert_eq!(within("the browser's page", delivering).await.unwrap().unwrap().0.as_u16(), 200);
}

#[tokio::test]
async fn a_deep_link_redirect_is_not_a_listener() {
    let redirect = signin::flow::config::RedirectKind::parse("REDIRECT_URL", "com.example.tessera:/callback").unwrap();
    let error = LoopbackRedirect::for_redirect(&redirect).await.unwrap_err();
    assert!(error.to_string().contains("REDIRECT_URL"), "{error}");
}

#[cfg(unix)]
#[test]
fn the_system_browser_starts_dollar_browser_with_the_url() {
    use std::os::unix::fs::PermissionsExt as _;

    use signin::flow::browser::SystemBrowser;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fake-browser");
    let out = dir.path().join("opened");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s' \"$1\" > {}.tmp && mv {0}.tmp {0}\n", out.display()))
        .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let url = Url::parse("http://127.0.0.1:1/oauth2/default/v1/authorize?state=a&client_id=b").unwrap();
    SystemBrowser::with_browser_var(Some(script.display().to_string())).open(&url).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !out.exists() {
        assert!(std::time::Instant::now() < deadline, "the browser was not started");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), url.as_str());
}

#[tokio::test]
async fn other_methods_and_oversized_requests_do_not_end_the_wait() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let env = start().await;
    let listener = registered_listener(LOCALHOST_V4).await;
    let port = listener.port();
    let (url, pending) = pending_for(&env, &listener);
    let state = query(&url, "state").unwrap();
    let waiting =
        tokio::spawn(async move { listener.wait(&pending, Duration::from_secs(20), &CancellationToken::new()).await });
    // Sent in two writes, the first line alone, so that the listener's reads
    // do not fall on round sizes.
    let send = |request: Vec<u8>| async move {
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let split = request.iter().position(|&b| b == b'\n').map_or(request.len(), |i| i + 1);
            let _ = stream.write_all(&request[..split]).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = stream.write_all(&request[split..]).await;
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer).await;
            answer
        };
        within("the listener's answer to a raw request", exchange).await
    };
    let answer = send(format!("POST /callback?code=x&state={state} HTTP/1.1\r\nHost: a\r\n\r\n").into_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    let mut huge = format!("GET /callback?code=x&state={state} HTTP/1.1\r\nX-Big: ").into_bytes();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    // A whole head, ending as a head should: refused for its size alone
    // (its state and code are right), never read to its end.
    huge.extend_from_slice(b"\r\n\r\n");
    let answer = send(huge).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
    let answer = send(b"GET http://evil/callback HTTP/1.1\r\n\r\n".to_vec()).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!waiting.is_finished());
    let answering =
        tokio::spawn(send(format!("GET /callback?error=access_denied&state={state} HTTP/1.1\r\n\r\n").into_bytes()));
    let (callback, reply) = within("the listener taking the error", waiting).await.unwrap().unwrap();
    assert_eq!(callback.state(), Some(state.as_str()));
    reply.send(Err(&SigninError::Cancelled)).await;
    let answer = within("the browser's page", answering).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("cancelled"), "{answer}");
}

#[tokio::test]
async fn without_pushed_requests_at_the_provider_the_browser_carries_the_request() {
    let env = crate::support::start_with(|config| config.pushed_authorization_requests = false).await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let signed_in = loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    let opened = within("the test browser's page", browser.delivered()).await.unwrap().opened;
    assert_eq!(query(&opened, "code_challenge_method").as_deref(), Some("S256"));
    assert!(query(&opened, "state").is_some_and(|s| s.len() >= 16));
    assert_eq!(query(&opened, "request_uri"), None);
    let requests = env.idp.provider().authorization_requests();
    assert!(requests.len() == 1 && !requests[0].pushed, "{requests:?}");
}

#[tokio::test]
async fn a_refused_push_is_told_and_no_browser_opens() {
    let env = crate::support::start_with(|config| {
        for client in &mut config.clients {
            client.allowed_scopes = Some(vec!["openid".to_owned()]);
        }
    })
    .await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let error = loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap_err();
    assert!(matches!(error, SigninError::PushRefused { .. }), "{error:?}");
    assert!(
        error.to_string().starts_with("the provider refused the requested permissions (scopes) (invalid_scope:"),
        "{error}"
    );
    assert_eq!(within("the test browser", browser.delivered()).await.unwrap_err(), "nothing was opened");
}

/// The listener takes the first free port of its list, in order, and says
/// which ports and which setting when all are taken.
#[tokio::test]
async fn the_first_free_listed_port_is_taken_and_all_taken_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().port();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ports = LoopbackPorts::Listed(vec![busy, free]);
    let listener = LoopbackRedirect::bind_first_free(LOCALHOST_V4, &ports, "/callback").await.unwrap();
    assert_eq!(listener.port(), free);
    assert_eq!(listener.redirect_uri().as_str(), format!("http://127.0.0.1:{free}/callback"));

    let also_taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ports = LoopbackPorts::Listed(vec![busy, also_taken.local_addr().unwrap().port()]);
    let error = LoopbackRedirect::bind_first_free(LOCALHOST_V4, &ports, "/callback").await.unwrap_err();
    assert!(matches!(error, SigninError::PortsInUse { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&ports.to_string()) && message.contains("LOOPBACK_PORTS"), "{message}");
}
