//! The items client and the items API over real TLS (issue 17, item 1):
//! dev-idp and the items API each behind a TLS terminator whose certificate
//! comes from a CA made in the test. The items API is configured as in
//! production (`items_api::Config`, `CA_FILE`) and fetches the issuer's
//! discovery and JWKS over TLS; the client trusts the CA only with its
//! `ca_file`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use items_api::auth::{AuthError, Mode, TokenValidator, ValidatorConfig, ValidatorOptions};
use items_client::{Credential, ItemsClient, ItemsError, ListOptions, TokenSource};
use net::{CaFile, NetSettings};
use oauth2::AccessToken;
use testkit::tls::{TestCa, TlsFront};
use testkit::within;
use url::Url;

struct Stack {
    idp: dev_idp::DevIdp,
    api: Url,
    ca_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// dev-idp and the items API, each behind TLS with a certificate from `ca`;
/// the items API trusts the CA through `CA_FILE`.
async fn stack(ca: &TestCa) -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("company-ca.pem");
    ca.write_pem(&ca_path);
    let idp_front = TlsFront::bind(&ca.server_certificate(&["127.0.0.1"])).await;
    let config = dev_idp::Config { port: 0, public_origin: Some(idp_front.origin()), ..Default::default() };
    let idp = within("dev-idp starting", dev_idp::spawn(config)).await.unwrap();
    idp_front.forward_to(idp.addr());

    let api_front = TlsFront::bind(&ca.server_certificate(&["127.0.0.1"])).await;
    let api = Url::parse(&api_front.origin()).unwrap();
    let database = format!("sqlite://{}", dir.path().join("items.db").display());
    let env = [
        ("OKTA_ISSUER", idp.issuer().to_owned()),
        ("DATABASE_URL", database),
        ("PUBLIC_URL", api.to_string()),
        ("CA_FILE", ca_path.display().to_string()),
    ];
    let config =
        items_api::Config::load_with(None, |name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
            .unwrap();
    assert_eq!(config.net.ca_file.as_ref().map(CaFile::setting), Some("CA_FILE"));
    let state = within("the items API starting", items_api::build(&config)).await.unwrap();
    let plain = testkit::serve(items_api::router(state)).await;
    api_front.forward_to(plain);
    Stack { idp, api, ca_path, _dir: dir }
}

impl Stack {
    /// An access token from dev-idp's token endpoint, over TLS.
    async fn token(&self, ca: &TestCa) -> AccessToken {
        let http = reqwest::Client::builder().add_root_certificate(ca.reqwest_certificate()).build().unwrap();
        let endpoint = format!("{}/v1/token", self.idp.issuer());
        let client = (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET);
        AccessToken::new(testkit::client_credentials_token(&http, &endpoint, client, "items:read").await)
    }
}

struct Fixed(AccessToken);

#[derive(Debug, thiserror::Error)]
#[error("no other token")]
struct NoOther;

impl TokenSource for Fixed {
    type Error = NoOther;

    async fn token(&self) -> Result<Credential, NoOther> {
        Ok(Credential::bearer(self.0.clone()))
    }

    async fn renew(&self, _rejected: &AccessToken) -> Result<Credential, NoOther> {
        Err(NoOther)
    }
}

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn the_items_client_refuses_an_untrusted_api_by_name_and_calls_it_with_ca_file() {
    let ca = TestCa::new("Company inspection CA (items)");
    let stack = stack(&ca).await;
    let token = stack.token(&ca).await;
    let timeout = Duration::from_secs(10);

    let client = ItemsClient::with_network(stack.api.clone(), Fixed(token.clone()), timeout, &NetSettings::default())
        .unwrap()
        .retrying(items_client::RetryPolicy::none());
    let error = within("a list", client.list(&ListOptions::default())).await.unwrap_err();
    assert!(matches!(error, ItemsError::Certificate { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("the items API's TLS certificate is not trusted"), "{message}");
    assert!(message.contains("ca_file in tessera.toml or TESSERA_CA_FILE"), "{message}");

    // The items API itself fetched the issuer's keys over TLS (CA_FILE) to
    // check the token.
    let net = NetSettings {
        ca_file: Some(CaFile::load("TESSERA_CA_FILE", &stack.ca_path).unwrap()),
        ..NetSettings::default()
    };
    let client = ItemsClient::with_network(stack.api.clone(), Fixed(token), timeout, &net).unwrap();
    let page = within("a list", client.list(&ListOptions::default())).await.unwrap();
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn the_items_apis_validator_needs_its_ca_setting_to_fetch_the_issuers_keys() {
    let ca = TestCa::new("Company inspection CA (validator)");
    let stack = stack(&ca).await;
    let token = stack.token(&ca).await;
    let config = || ValidatorConfig {
        issuer: Url::parse(stack.idp.issuer()).unwrap(),
        audience: "api://default".into(),
        leeway: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
        mode: Mode::Local,
    };
    let untrusting = TokenValidator::new(config()).unwrap();
    match within("validation", untrusting.validate(token.secret())).await {
        Err(AuthError::Unavailable(error)) => {
            let message = chain(&*error);
            assert!(message.contains("the issuer's TLS certificate is not trusted"), "{message}");
            assert!(message.contains("set CA_FILE"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let mut options = ValidatorOptions::default();
    options.net.ca_file = Some(CaFile::load("CA_FILE", &stack.ca_path).unwrap());
    let trusting = TokenValidator::with_options(config(), options).unwrap();
    within("validation", trusting.validate(token.secret())).await.unwrap();
}
