//! Shared set-up: dev-idp on port 0 with a movable clock, a discovered
//! provider, and helpers to sign in.

#![allow(dead_code)]

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use dev_idp::config::{DEMO_ALICE_PASSWORD, DEMO_BOB_PASSWORD, DESKTOP_CLIENT_ID};
use dev_idp::{Config, DevIdp, ManualClock};
use openidconnect::{ClientId, IssuerUrl};
use signin::SignedIn;
use signin::flow::SigninError;
use signin::flow::browser::HttpBrowser;
use signin::flow::config::LoopbackPorts;
use signin::flow::config::{DEFAULT_SCOPES, split_scopes};
use signin::flow::login::{self, AuthOptions};
use signin::flow::loopback::LoopbackRedirect;
use signin::flow::provider::{self, HttpClient, Provider};
use signin::flow::redirect::{self, Request};
use tokio_util::sync::CancellationToken;
use url::Url;

pub const ALICE: (&str, &str) = ("alice", DEMO_ALICE_PASSWORD);
pub const BOB: (&str, &str) = ("bob", DEMO_BOB_PASSWORD);
pub const ALICE_SUB: &str = "00u1alice0000000001";
pub const LOCALHOST_V4: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
pub const LOCALHOST_V6: IpAddr = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
/// How long any one wait on a listener, a browser or the provider may take
/// before the test fails (instead of hanging).
pub const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test with `what` if it takes longer than
/// [`WAIT_LIMIT`]: a broken check must fail a test, not hang it.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT_LIMIT, future).await.unwrap_or_else(|_| panic!("timed out after {WAIT_LIMIT:?}: {what}"))
}

pub struct Env {
    pub idp: DevIdp,
    pub clock: Arc<ManualClock>,
    pub http: HttpClient,
    pub provider: Provider,
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

pub async fn start_with(change: impl FnOnce(&mut Config)) -> Env {
    let mut config = Config { port: 0, ..Config::default() };
    change(&mut config);
    let clock = Arc::new(ManualClock::starting_now());
    let idp =
        within("dev-idp starting", dev_idp::spawn_with_clock(config, clock.clone())).await.expect("dev-idp starts");
    let http = provider::http_client().expect("HTTP client");
    // Uncached: ports are reused between tests in one process.
    let provider =
        within("discovery at dev-idp", Provider::discover_uncached(&issuer(&idp), &http)).await.expect("discovery");
    let provider = provider.with_clock(clock.clone());
    Env { idp, clock, http, provider }
}

pub fn issuer(idp: &DevIdp) -> IssuerUrl {
    IssuerUrl::new(idp.issuer().to_owned()).expect("issuer URL")
}

pub fn client_id() -> ClientId {
    ClientId::new(DESKTOP_CLIENT_ID.to_owned())
}

pub fn scopes() -> Vec<String> {
    split_scopes(DEFAULT_SCOPES)
}

pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}

/// `url` with the query parameter `name` replaced (`None`: removed).
pub fn with_param(url: &Url, name: &str, value: Option<&str>) -> Url {
    let pairs: Vec<(String, String)> =
        url.query_pairs().filter(|(n, _)| n != name).map(|(n, v)| (n.into_owned(), v.into_owned())).collect();
    let mut out = url.clone();
    out.set_query(None);
    {
        let mut q = out.query_pairs_mut();
        q.extend_pairs(&pairs);
        if let Some(value) = value {
            q.append_pair(name, value);
        }
    }
    out
}

/// Prints nothing: the test browser never fails to open (the links it is
/// handed, the first and the renewals, are for another browser).
pub fn no_browser(link: signin::flow::redirect::Link<'_>) -> signin::flow::redirect::Shown {
    if let signin::flow::redirect::Opening::Failed(error) = link.browser {
        panic!("the test browser failed to open {}: {error}", link.url);
    }
    signin::flow::redirect::Shown::No
}

/// A whole loopback sign-in with the test browser.
pub async fn loopback_sign_in(
    env: &Env,
    ip: IpAddr,
    port: Option<u16>,
    browser: &HttpBrowser,
    options: &AuthOptions,
) -> Result<SignedIn, SigninError> {
    let listener = match port {
        Some(port) => LoopbackRedirect::bind(ip, Some(port), "/callback").await?,
        None => LoopbackRedirect::bind_first_free(ip, &LoopbackPorts::default(), "/callback").await?,
    };
    let (client_id, scopes, cancel) = (client_id(), scopes(), CancellationToken::new());
    let request = Request { client_id: &client_id, scopes: &scopes, options, timeout: Duration::from_secs(20) };
    let signing_in = redirect::sign_in(&env.provider, request, listener, browser, &no_browser, &cancel);
    within("a loopback sign-in with the test browser", signing_in).await
}

/// A pending sign-in whose answer comes back to `listener`, and its
/// authorization URL (not pushed: its `state` is in the URL).
/// A redirect URI dev-idp's desktop client registers (its Okta profile
/// compares redirect URIs exactly, port included), for tests that stop at
/// the provider's redirect without a listener.
pub const REGISTERED_REDIRECT: &str = "http://127.0.0.1:8765/callback";

/// A listener on the first free of the registered loopback ports.
pub async fn registered_listener(ip: IpAddr) -> LoopbackRedirect {
    LoopbackRedirect::bind_first_free(ip, &LoopbackPorts::default(), "/callback").await.expect("a free registered port")
}

pub fn pending_for(env: &Env, listener: &LoopbackRedirect) -> (Url, login::PendingLogin) {
    let redirect = listener.redirect_uri().clone();
    login::begin(&env.provider, &client_id(), redirect, &scopes(), &AuthOptions::default()).expect("begin")
}
