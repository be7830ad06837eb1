//! Shared set-up: dev-idp on port 0 with a movable clock, a discovered
//! provider, and helpers to sign in.

#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use dev_idp::config::{DEMO_ALICE_PASSWORD, DEMO_BOB_PASSWORD, DESKTOP_CLIENT_ID};
use dev_idp::{Config, DevIdp, ManualClock};
use openidconnect::{ClientId, IssuerUrl};
use signin::SignedIn;
use signin::flow::SigninError;
use signin::flow::browser::HttpBrowser;
use signin::flow::config::{DEFAULT_SCOPES, split_scopes};
use signin::flow::login::AuthOptions;
use signin::flow::loopback::{self, LoopbackRedirect};
use signin::flow::provider::{self, HttpClient, Provider};
use tokio_util::sync::CancellationToken;
use url::Url;

pub const ALICE: (&str, &str) = ("alice", DEMO_ALICE_PASSWORD);
pub const BOB: (&str, &str) = ("bob", DEMO_BOB_PASSWORD);
pub const ALICE_SUB: &str = "00u1alice0000000001";
pub const LOCALHOST_V4: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
pub const LOCALHOST_V6: IpAddr = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);

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
    let idp = dev_idp::spawn_with_clock(config, clock.clone()).await.expect("dev-idp starts");
    let http = provider::http_client().expect("HTTP client");
    // Uncached: ports are reused between tests in one process.
    let provider = Provider::discover_uncached(&issuer(&idp), &http).await.expect("discovery");
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

/// Prints nothing: the test browser never fails to open.
pub fn no_browser(url: &Url, error: &signin::flow::browser::BrowserError) {
    panic!("the test browser failed to open {url}: {error}");
}

/// A whole loopback sign-in with the test browser.
pub async fn loopback_sign_in(
    env: &Env,
    ip: IpAddr,
    port: Option<u16>,
    browser: &HttpBrowser,
    options: &AuthOptions,
) -> Result<SignedIn, SigninError> {
    let listener = LoopbackRedirect::bind(ip, port, "/callback").await?;
    loopback::sign_in(
        &env.provider,
        &client_id(),
        &scopes(),
        options,
        listener,
        browser,
        &no_browser,
        Duration::from_secs(20),
        &CancellationToken::new(),
    )
    .await
}
