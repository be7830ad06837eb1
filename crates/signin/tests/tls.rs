//! The provider over real TLS (issue 17, item 1): dev-idp behind a TLS
//! terminator whose certificate comes from a CA made in the test, as a
//! company's TLS-inspecting proxy or internal CA would present it. Without
//! the CA, discovery and a sign-in are refused with a message that says the
//! certificate is not trusted and names the setting; with `ca_file` naming
//! the CA's PEM, a whole sign-in works. And through a real proxy: a
//! provider at a name only the proxy resolves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use dev_idp::config::DEMO_ALICE_PASSWORD;
use net::{CaFile, NetSettings, ProxySettings};
use openidconnect::IssuerUrl;
use signin::accounts::AccountBook;
use signin::flow::browser::HttpBrowser;
use signin::flow::config::SigninConfig;
use signin::flow::provider::{self, Provider};
use signin::store::MemoryStore;
use signin::{ErrorKind, Session, SignInMethod};
use testkit::proxy::TestProxy;
use testkit::tls::{TestCa, TlsFront};
use testkit::within;

/// dev-idp behind TLS at `https://{host}:{port}` (a certificate for
/// `127.0.0.1` and `idp.test` from `ca`).
async fn idp_over_tls(ca: &TestCa, host: &str) -> dev_idp::DevIdp {
    let front = TlsFront::bind(&ca.server_certificate(&["127.0.0.1", "idp.test"])).await;
    let origin = format!("https://{host}:{}", front.addr().port());
    let config = dev_idp::Config { port: 0, public_origin: Some(origin), ..Default::default() };
    let idp = within("dev-idp starting", dev_idp::spawn(config)).await.unwrap();
    front.forward_to(idp.addr());
    idp
}

struct CaOnDisk {
    _dir: tempfile::TempDir,
    ca_file: CaFile,
}

fn on_disk(ca: &TestCa) -> CaOnDisk {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("company-ca.pem");
    ca.write_pem(&path);
    CaOnDisk { ca_file: CaFile::load("TESSERA_CA_FILE", &path).unwrap(), _dir: dir }
}

fn config(idp: &dev_idp::DevIdp, net: NetSettings) -> SigninConfig {
    let mut config = SigninConfig::demo();
    config.issuer = IssuerUrl::new(idp.issuer().to_owned()).unwrap();
    config.timeout = Duration::from_secs(20);
    config.net = net;
    config
}

fn browser(browser: HttpBrowser) -> SignInMethod {
    SignInMethod::Browser {
        browser: Arc::new(browser),
        on_link: Arc::new(|link| {
            assert!(
                matches!(link.browser, signin::flow::redirect::Opening::Opened),
                "the test browser always opens; asked to print {}",
                link.url
            );
            signin::flow::redirect::Shown::No
        }),
    }
}

#[tokio::test]
async fn discovery_of_a_provider_whose_ca_is_not_trusted_says_so_and_names_the_setting() {
    let ca = TestCa::new("Company inspection CA (sign-in)");
    let idp = idp_over_tls(&ca, "127.0.0.1").await;
    assert!(idp.issuer().starts_with("https://127.0.0.1:"), "{}", idp.issuer());
    let issuer = IssuerUrl::new(idp.issuer().to_owned()).unwrap();
    let http = provider::http_client_with(Duration::from_secs(10), &NetSettings::default()).unwrap();
    let error = within("discovery", Provider::discover_uncached(&issuer, &http)).await.unwrap_err();
    let message = signin::error_chain(&error);
    assert!(message.contains("the provider's TLS certificate is not trusted"), "{message}");
    assert!(message.contains("a company proxy or an internal CA?"), "{message}");
    assert!(message.contains("ca_file in tessera.toml or TESSERA_CA_FILE"), "{message}");

    // A CA file of another CA: named, and questioned.
    let other = on_disk(&TestCa::new("Some other CA"));
    let net = NetSettings { ca_file: Some(other.ca_file.clone()), ..NetSettings::default() };
    let http = provider::http_client_with(Duration::from_secs(10), &net).unwrap();
    let error = within("discovery", Provider::discover_uncached(&issuer, &http)).await.unwrap_err();
    let message = signin::error_chain(&error);
    assert!(message.contains("not even with the CA file") && message.contains("company-ca.pem"), "{message}");

    let trusted = on_disk(&ca);
    let net = NetSettings { ca_file: Some(trusted.ca_file.clone()), ..NetSettings::default() };
    let http = provider::http_client_with(Duration::from_secs(10), &net).unwrap();
    let provider = within("discovery", Provider::discover_uncached(&issuer, &http)).await.unwrap();
    assert_eq!(provider.issuer().as_str(), idp.issuer());
}

#[tokio::test]
async fn a_sign_in_over_tls_is_refused_without_the_ca_and_completes_with_ca_file() {
    let ca = TestCa::new("Company inspection CA (session)");
    let idp = idp_over_tls(&ca, "127.0.0.1").await;
    let alice = || HttpBrowser::trusting(ca.reqwest_certificate(), "alice", DEMO_ALICE_PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let book = || AccountBook::load(dir.path().join("accounts.json")).unwrap();

    let session = Session::new(config(&idp, NetSettings::default()), Arc::new(MemoryStore::new()), book());
    let error = within("sign-in", session.sign_in(browser(alice()), false)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Network, "{error:?}");
    let message = signin::error_chain(&error);
    assert!(message.contains("the provider's TLS certificate is not trusted"), "{message}");
    assert!(message.contains("TESSERA_CA_FILE"), "{message}");

    let trusted = on_disk(&ca);
    let net = NetSettings { ca_file: Some(trusted.ca_file.clone()), ..NetSettings::default() };
    let store = Arc::new(MemoryStore::new());
    let session = Session::new(config(&idp, net), store, book());
    let signed_in = within("sign-in", session.sign_in(browser(alice()), false)).await.unwrap();
    assert_eq!(signed_in.account.identity.email.as_deref(), Some("alice@example.com"));
    // A refresh and the token's use go over the same trusted connection.
    within("an access token", session.token()).await.unwrap();
}

#[tokio::test]
async fn a_provider_only_the_proxy_can_reach_is_discovered_through_https_proxy() {
    let ca = TestCa::new("Company inspection CA (proxy)");
    let idp = idp_over_tls(&ca, "idp.test").await;
    let proxy = TestProxy::start(&[("idp.test", IpAddr::V4(Ipv4Addr::LOCALHOST))]).await;
    let trusted = on_disk(&ca);
    let proxy_env = [("HTTPS_PROXY".to_owned(), proxy.url())];
    let net = NetSettings {
        ca_file: Some(trusted.ca_file.clone()),
        proxy: ProxySettings::from_env_with(|name| proxy_env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()))
            .unwrap(),
    };
    let issuer = IssuerUrl::new(idp.issuer().to_owned()).unwrap();
    assert!(issuer.as_str().starts_with("https://idp.test:"), "{issuer:?}");
    let http = provider::http_client_with(Duration::from_secs(10), &net).unwrap();
    within("discovery through the proxy", Provider::discover_uncached(&issuer, &http)).await.unwrap();
    assert!(proxy.count("idp.test") >= 1, "{:?}", proxy.targets());
    assert!(proxy.targets().iter().all(|t| t.starts_with("idp.test:")), "{:?}", proxy.targets());
}
