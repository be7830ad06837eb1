//! `tessera` as a real process against dev-idp over real TLS (issue 17,
//! items 1 and 2), with the settings and the proxy variables in its real
//! environment: a certificate from a CA made here is refused with a message
//! that says so and names `TESSERA_CA_FILE` (exit 6) until `TESSERA_CA_FILE`
//! names the CA; loopback never goes through `HTTPS_PROXY`; a provider only
//! the proxy resolves is reached through it. The browser is
//! `tessera-test-browser` (`cargo build -p tessera-test-browser` first).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use testkit::proxy::TestProxy;
use testkit::tls::{TestCa, TlsFront};

mod support;
use support::{Run, TESSERA};

const RUN_LIMIT: Duration = Duration::from_secs(90);

fn test_browser() -> PathBuf {
    let path = PathBuf::from(TESSERA).with_file_name("tessera-test-browser");
    assert!(path.is_file(), "{} is not built: run `cargo build -p tessera-test-browser` first", path.display());
    path
}

/// dev-idp behind TLS at `https://{host}:{port}` (a certificate for
/// `127.0.0.1` and `idp.test` from `ca`).
async fn idp_over_tls(ca: &TestCa, host: &str) -> dev_idp::DevIdp {
    let front = TlsFront::bind(&ca.server_certificate(&["127.0.0.1", "idp.test"])).await;
    let origin = format!("https://{host}:{}", front.addr().port());
    let config = dev_idp::Config { port: 0, public_origin: Some(origin), ..Default::default() };
    let idp = testkit::within("dev-idp starting", dev_idp::spawn(config)).await.unwrap();
    front.forward_to(idp.addr());
    idp
}

/// Runs `tessera args` with a private HOME and only `env` (and PATH).
async fn tessera(home: &Path, env: &[(&str, String)], args: &[&str]) -> Run {
    let mut command = support::tessera(home, env.iter().map(|(n, v)| (*n, v.as_str())), args);
    let what = format!("tessera {}", args.join(" "));
    let output =
        tokio::task::spawn_blocking(move || testkit::output_within(&mut command, &what, RUN_LIMIT)).await.unwrap();
    Run::of(output)
}

#[tokio::test(flavor = "multi_thread")]
async fn login_over_tls_needs_tessera_ca_file_and_loopback_never_goes_through_the_proxy() {
    let ca = TestCa::new("Company inspection CA (CLI)");
    let idp = idp_over_tls(&ca, "127.0.0.1").await;
    let home = tempfile::tempdir().unwrap();
    let ca_file = home.path().join("company-ca.pem");
    ca.write_pem(&ca_file);
    // Every proxy variable set, NO_PROXY empty: the provider on 127.0.0.1
    // must still be reached directly.
    let proxy = TestProxy::start(&[]).await;
    let env = vec![
        ("OKTA_ISSUER", idp.issuer().to_owned()),
        ("CLIENT_ID", "tessera-desktop".to_owned()),
        ("OKTA_SCOPES", "openid profile email offline_access".to_owned()),
        ("BROWSER", test_browser().display().to_string()),
        ("TEST_BROWSER_USER", "alice".to_owned()),
        ("TEST_BROWSER_PASSWORD", "alice-demo-pw".to_owned()),
        ("TEST_BROWSER_CA_FILE", ca_file.display().to_string()),
        ("SIGNIN_TIMEOUT_SECS", "30".to_owned()),
        ("TESSERA_MEMORY_ONLY", "1".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
        ("HTTPS_PROXY", proxy.url()),
        ("HTTP_PROXY", proxy.url()),
        ("https_proxy", proxy.url()),
        ("ALL_PROXY", proxy.url()),
        ("NO_PROXY", String::new()),
    ];

    let run = tessera(home.path(), &env, &["login"]).await;
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("the provider's TLS certificate is not trusted"), "{run:?}");
    assert!(run.stderr.contains("a company proxy or an internal CA?"), "{run:?}");
    assert!(run.stderr.contains("TESSERA_CA_FILE"), "{run:?}");
    assert!(!run.stderr.contains("Signed in"), "{run:?}");

    let mut trusting = env.clone();
    trusting.push(("TESSERA_CA_FILE", ca_file.display().to_string()));
    let run = tessera(home.path(), &trusting, &["login"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("Signed in as alice@example.com"), "{run:?}");

    // SSL_CERT_FILE, the convention, when TESSERA_CA_FILE is not set.
    let mut conventional = env.clone();
    conventional.push(("SSL_CERT_FILE", ca_file.display().to_string()));
    let run = tessera(home.path(), &conventional, &["login"]).await;
    assert_eq!(run.code, 0, "{run:?}");

    assert_eq!(proxy.targets(), Vec::<String>::new(), "loopback went through the proxy");

    // A CA file that cannot be used is a usage error naming the setting and the file.
    let mut missing = env.clone();
    missing.push(("TESSERA_CA_FILE", home.path().join("no-such-ca.pem").display().to_string()));
    let run = tessera(home.path(), &missing, &["login"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("TESSERA_CA_FILE") && run.stderr.contains("no-such-ca.pem"), "{run:?}");
    // So is a proxy variable that is no proxy URL (its value never shown).
    let mut socks = trusting.clone();
    socks.push(("HTTPS_PROXY", "socks5://user:secret@proxy.example:1080".to_owned()));
    let socks: Vec<(&str, String)> = socks.into_iter().rev().fold(Vec::new(), |mut kept, (n, v)| {
        if !kept.iter().any(|(k, _)| *k == n) {
            kept.push((n, v));
        }
        kept
    });
    let run = tessera(home.path(), &socks, &["login"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("HTTPS_PROXY") && !run.stderr.contains("secret"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_only_the_proxy_resolves_is_reached_through_https_proxy_from_the_environment() {
    let ca = TestCa::new("Company inspection CA (CLI proxy)");
    let idp = idp_over_tls(&ca, "idp.test").await;
    let proxy = TestProxy::start(&[("idp.test", IpAddr::V4(Ipv4Addr::LOCALHOST))]).await;
    let home = tempfile::tempdir().unwrap();
    let ca_file = home.path().join("company-ca.pem");
    ca.write_pem(&ca_file);
    let env = vec![
        ("OKTA_ISSUER", idp.issuer().to_owned()),
        ("CLIENT_ID", "tessera-desktop".to_owned()),
        ("TESSERA_MEMORY_ONLY", "1".to_owned()),
        ("TESSERA_CA_FILE", ca_file.display().to_string()),
        ("https_proxy", proxy.url()),
    ];
    let run = tessera(home.path(), &env, &["doctor", "--json"]).await;
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    let discovery = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "discovery").unwrap();
    assert_eq!(discovery["ok"], true, "{run:?}");
    assert!(proxy.count("idp.test") >= 1, "{:?}", proxy.targets());

    // NO_PROXY naming it: straight to a name nothing resolves, and failing.
    let mut direct = env.clone();
    direct.push(("NO_PROXY", "idp.test".to_owned()));
    let before = proxy.targets().len();
    let run = tessera(home.path(), &direct, &["doctor", "--json"]).await;
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    let discovery = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "discovery").unwrap();
    assert_eq!(discovery["ok"], false, "{run:?}");
    assert_eq!(proxy.targets().len(), before, "{:?}", proxy.targets());
}
