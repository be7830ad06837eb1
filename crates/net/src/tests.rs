#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

#[test]
fn no_variables_no_proxy() {
    let proxy = ProxySettings::from_env_with(env(&[])).unwrap();
    assert!(proxy.https().is_none() && proxy.http().is_none());
    assert_eq!(proxy.no_proxy(), LOOPBACK_NO_PROXY);
}

#[test]
fn each_scheme_takes_its_own_variable_then_all_proxy() {
    let proxy = ProxySettings::from_env_with(env(&[
        ("HTTPS_PROXY", "http://secure.proxy:3128"),
        ("ALL_PROXY", "http://all.proxy:8080"),
    ]))
    .unwrap();
    assert_eq!(proxy.https().unwrap().as_str(), "http://secure.proxy:3128/");
    assert_eq!(proxy.http().unwrap().as_str(), "http://all.proxy:8080/");
    // Lower case is read too; upper case wins; blanks count as unset.
    let proxy = ProxySettings::from_env_with(env(&[
        ("https_proxy", "http://lower:1"),
        ("HTTP_PROXY", "  "),
        ("http_proxy", "http://lower-http:2"),
    ]))
    .unwrap();
    assert_eq!(proxy.https().unwrap().host_str(), Some("lower"));
    assert_eq!(proxy.http().unwrap().host_str(), Some("lower-http"));
    let proxy =
        ProxySettings::from_env_with(env(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:1")]))
            .unwrap();
    assert_eq!(proxy.https().unwrap().host_str(), Some("upper"));
}

#[test]
fn a_proxy_without_a_scheme_is_http() {
    let proxy = ProxySettings::from_env_with(env(&[("HTTPS_PROXY", "proxy.corp.example:3128")])).unwrap();
    assert_eq!(proxy.https().unwrap().as_str(), "http://proxy.corp.example:3128/");
}

#[test]
fn an_unusable_proxy_is_refused_naming_the_variable_not_its_value() {
    for (variable, value) in
        [("HTTPS_PROXY", "socks5://user:secret@proxy:1080"), ("http_proxy", "http://"), ("ALL_PROXY", "ftp://proxy:21")]
    {
        let error = ProxySettings::from_env_with(env(&[(variable, value)])).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with(variable), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}

#[test]
fn loopback_is_always_in_no_proxy() {
    let proxy = ProxySettings::from_env_with(env(&[("NO_PROXY", "corp.example, 10.0.0.0/8")])).unwrap();
    assert_eq!(proxy.no_proxy(), format!("corp.example, 10.0.0.0/8, {LOOPBACK_NO_PROXY}"));
    let proxy = ProxySettings::from_env_with(env(&[("no_proxy", "corp.example")])).unwrap();
    assert!(proxy.no_proxy().starts_with("corp.example, "));
}

#[test]
fn debug_never_prints_a_proxy_password() {
    let proxy = ProxySettings::from_env_with(env(&[("HTTPS_PROXY", "http://user:hunter2@proxy:3128")])).unwrap();
    let printed = format!("{proxy:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("user:redacted@proxy"), "{printed}");
}

#[test]
fn a_missing_ca_file_names_the_setting_and_the_path() {
    let error = CaFile::load("TESSERA_CA_FILE", Path::new("/nonexistent/company-ca.pem")).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("TESSERA_CA_FILE"), "{message}");
    assert!(message.contains("/nonexistent/company-ca.pem"), "{message}");
    assert!(matches!(error, NetError::CaFileUnreadable { .. }));
}

#[test]
fn a_ca_file_without_a_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("empty.pem", ""),
        ("text.pem", "not a certificate\n"),
        ("key.pem", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let error = CaFile::load("ca_file", &path).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, NetError::CaFileNoCertificate { .. }), "{name}: {message}");
        assert!(message.contains("ca_file") && message.contains(name), "{message}");
    }
}

#[test]
fn untrusted_says_what_to_set_or_questions_the_file_in_use() {
    let fix = "set ca_file to the CA's PEM file";
    let message = CertificateProblem::Untrusted.explain("the provider", None, fix);
    assert_eq!(
        message,
        "the provider's TLS certificate is not trusted (a company proxy or an internal CA?): set ca_file to the \
         CA's PEM file"
    );
    let message = CertificateProblem::Invalid("certificate expired".into()).explain("the items API", None, fix);
    assert_eq!(message, "the items API's TLS certificate was refused: certificate expired");
}
