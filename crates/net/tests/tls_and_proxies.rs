//! The shared client settings against real servers: a TLS server whose
//! certificate comes from a CA made here, and a real HTTP proxy (CONNECT
//! and absolute-form) that resolves `idp.test` itself, so that a request to
//! that name can only succeed through it. The proxy environment is passed
//! to `ProxySettings::from_env_with` (no test touches the process's).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use net::{CaFile, CertificateProblem, NetSettings, ProxySettings, certificate_problem};
use testkit::proxy::TestProxy;
use testkit::tls::{TestCa, TlsFront};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A plain HTTP server answering `hello` at `/hello`.
async fn backend() -> SocketAddr {
    testkit::serve(axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }))).await
}

/// The backend behind TLS with a certificate for `names` from `ca`.
async fn tls_backend(ca: &TestCa, names: &[&str]) -> (SocketAddr, TlsFront) {
    let front = TlsFront::bind(&ca.server_certificate(names)).await;
    let addr = front.addr();
    (addr, front)
}

struct Trusting {
    _dir: tempfile::TempDir,
    ca_file: CaFile,
}

fn ca_file_of(ca: &TestCa) -> Trusting {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("company-ca.pem");
    ca.write_pem(&path);
    let ca_file = CaFile::load("TESSERA_CA_FILE", &path).unwrap();
    Trusting { _dir: dir, ca_file }
}

fn proxies(pairs: &[(&str, &str)]) -> ProxySettings {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    ProxySettings::from_env_with(move |name| map.get(name).cloned()).unwrap()
}

async fn get(client: &reqwest::Client, url: &str) -> Result<String, reqwest::Error> {
    let response = testkit::within(url, client.get(url).send()).await?;
    assert_eq!(response.status(), 200, "{url}");
    response.text().await
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused_as_untrusted_and_accepted_with_the_ca_file() {
    let ca = TestCa::new("Company TLS inspection CA");
    let (addr, front) = tls_backend(&ca, &["127.0.0.1"]).await;
    front.forward_to(backend().await);
    let url = format!("https://{addr}/hello");

    let default = NetSettings::default().client_builder().build().unwrap();
    let error = get(&default, &url).await.unwrap_err();
    assert_eq!(certificate_problem(&error), Some(CertificateProblem::Untrusted), "{error:?}");

    // Another CA's file does not help, and is named in the message.
    let other = ca_file_of(&TestCa::new("Another CA"));
    let net = NetSettings { ca_file: Some(other.ca_file.clone()), ..NetSettings::default() };
    let error = get(&net.client_builder().build().unwrap(), &url).await.unwrap_err();
    let problem = certificate_problem(&error).unwrap();
    assert_eq!(problem, CertificateProblem::Untrusted);
    let message = problem.explain("the provider", net.ca_file.as_ref(), "set ca_file");
    assert!(message.contains("not even with the CA file") && message.contains("company-ca.pem"), "{message}");

    let trusting = ca_file_of(&ca);
    let net = NetSettings { ca_file: Some(trusting.ca_file.clone()), ..NetSettings::default() };
    assert_eq!(get(&net.client_builder().build().unwrap(), &url).await.unwrap(), "hello");
}

#[tokio::test]
async fn a_trusted_certificate_for_another_name_is_refused_for_that_reason() {
    let ca = TestCa::new("Name check CA");
    let (addr, front) = tls_backend(&ca, &["other.test"]).await;
    front.forward_to(backend().await);
    let trusting = ca_file_of(&ca);
    let net = NetSettings { ca_file: Some(trusting.ca_file), ..NetSettings::default() };
    let error = get(&net.client_builder().build().unwrap(), &format!("https://{addr}/hello")).await.unwrap_err();
    match certificate_problem(&error) {
        Some(CertificateProblem::Invalid(reason)) => assert!(reason.contains("not valid for"), "{reason}"),
        other => panic!("{other:?}: {error:?}"),
    }
}

#[tokio::test]
async fn a_ca_file_bundle_trusts_each_of_its_cas() {
    let (first, second) = (TestCa::new("Bundle CA one"), TestCa::new("Bundle CA two"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.pem");
    std::fs::write(&path, format!("{}{}", first.pem(), second.pem())).unwrap();
    let ca_file = CaFile::load("ca_file", &path).unwrap();
    assert_eq!(ca_file.len(), 2);
    let net = NetSettings { ca_file: Some(ca_file), ..NetSettings::default() };
    let client = net.client_builder().build().unwrap();
    for ca in [&first, &second] {
        let (addr, front) = tls_backend(ca, &["127.0.0.1"]).await;
        front.forward_to(backend().await);
        assert_eq!(get(&client, &format!("https://{addr}/hello")).await.unwrap(), "hello");
    }
}

#[tokio::test]
async fn https_to_a_name_goes_through_https_proxy() {
    let ca = TestCa::new("Proxy test CA");
    let (addr, front) = tls_backend(&ca, &["idp.test"]).await;
    front.forward_to(backend().await);
    let proxy = TestProxy::start(&[("idp.test", LOOPBACK)]).await;
    let trusting = ca_file_of(&ca);
    let net = NetSettings {
        ca_file: Some(trusting.ca_file),
        proxy: proxies(&[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "")]),
    };
    let client = net.client_builder().build().unwrap();
    // Only the proxy knows idp.test: an answer proves the request went through it.
    let url = format!("https://idp.test:{}/hello", addr.port());
    assert_eq!(get(&client, &url).await.unwrap(), "hello");
    assert_eq!(proxy.targets(), [format!("idp.test:{}", addr.port())]);
}

#[tokio::test]
async fn all_proxy_serves_https_when_https_proxy_is_unset() {
    let ca = TestCa::new("ALL_PROXY CA");
    let (addr, front) = tls_backend(&ca, &["idp.test"]).await;
    front.forward_to(backend().await);
    let proxy = TestProxy::start(&[("idp.test", LOOPBACK)]).await;
    let trusting = ca_file_of(&ca);
    let net = NetSettings { ca_file: Some(trusting.ca_file), proxy: proxies(&[("all_proxy", &proxy.url())]) };
    let url = format!("https://idp.test:{}/hello", addr.port());
    assert_eq!(get(&net.client_builder().build().unwrap(), &url).await.unwrap(), "hello");
    assert_eq!(proxy.count("idp.test"), 1);
}

#[tokio::test]
async fn plain_http_to_a_name_goes_through_http_proxy_in_absolute_form() {
    let server = backend().await;
    let proxy = TestProxy::start(&[("items.test", LOOPBACK)]).await;
    let net = NetSettings { proxy: proxies(&[("HTTP_PROXY", &proxy.url())]), ..NetSettings::default() };
    let url = format!("http://items.test:{}/hello", server.port());
    assert_eq!(get(&net.client_builder().build().unwrap(), &url).await.unwrap(), "hello");
    assert_eq!(proxy.count("items.test"), 1);
}

#[tokio::test]
async fn a_name_in_no_proxy_goes_straight_to_its_server() {
    let ca = TestCa::new("NO_PROXY CA");
    let (addr, front) = tls_backend(&ca, &["idp.test"]).await;
    front.forward_to(backend().await);
    let proxy = TestProxy::start(&[("idp.test", LOOPBACK)]).await;
    let trusting = ca_file_of(&ca);
    for no_proxy in ["idp.test", "example.com, .test", "*"] {
        let net = NetSettings {
            ca_file: Some(trusting.ca_file.clone()),
            proxy: proxies(&[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", no_proxy)]),
        };
        // The test resolves idp.test for the direct connection itself.
        let client = net.apply(reqwest::Client::builder().resolve("idp.test", addr)).build().unwrap();
        let url = format!("https://idp.test:{}/hello", addr.port());
        assert_eq!(get(&client, &url).await.unwrap(), "hello", "NO_PROXY={no_proxy}");
    }
    assert_eq!(proxy.targets(), Vec::<String>::new());
}

#[tokio::test]
async fn loopback_is_never_proxied_whatever_the_environment_says() {
    let ca = TestCa::new("Loopback CA");
    let plain = backend().await;
    let (addr, front) = tls_backend(&ca, &["127.0.0.1", "localhost"]).await;
    front.forward_to(plain);
    let proxy = TestProxy::start(&[]).await;
    let trusting = ca_file_of(&ca);
    let every_proxy = [
        ("HTTPS_PROXY", proxy.url()),
        ("HTTP_PROXY", proxy.url()),
        ("ALL_PROXY", proxy.url()),
        ("NO_PROXY", String::new()),
    ];
    let pairs: Vec<(&str, &str)> = every_proxy.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let net = NetSettings { ca_file: Some(trusting.ca_file), proxy: proxies(&pairs) };
    let client = net.client_builder().build().unwrap();
    let mut urls = vec![
        format!("http://127.0.0.1:{}/hello", plain.port()),
        format!("http://localhost:{}/hello", plain.port()),
        format!("https://127.0.0.1:{}/hello", addr.port()),
        format!("https://localhost:{}/hello", addr.port()),
    ];
    // 127.0.0.0/8, not only 127.0.0.1 (Linux answers on all of it).
    if tokio::net::TcpListener::bind("127.0.0.2:0").await.is_ok() {
        let other = testkit::serve_on(
            "127.0.0.2:0",
            axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" })),
        )
        .await;
        urls.push(format!("http://{other}/hello"));
    }
    // ::1, where the machine has IPv6 loopback.
    if tokio::net::TcpListener::bind("[::1]:0").await.is_ok() {
        let six =
            testkit::serve_on("[::1]:0", axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" })))
                .await;
        urls.push(format!("http://{six}/hello"));
    }
    for url in &urls {
        assert_eq!(get(&client, url).await.unwrap(), "hello", "{url}");
    }
    assert_eq!(proxy.targets(), Vec::<String>::new(), "loopback went through the proxy");
}
