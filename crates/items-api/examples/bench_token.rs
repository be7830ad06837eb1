//! Prints one access token for alice, for the load benchmark (`bench/load.sh`).
//!
//! ```sh
//! cargo run --release -p tessera-items-api --example bench_token -- <issuer> [scope]
//! ```
//!
//! Signs alice in at `<issuer>` (a dev-idp) with the authorization code flow and
//! PKCE S256, as the desktop client `tessera-desktop` does, through dev-idp's
//! test browser, and prints the access token alone on stdout. The default scope
//! is `openid items:read`. Errors go to stderr with a non-zero exit.
//!
//! This is a benchmark tool: the token goes to stdout for the script, never to
//! a file.

use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dev_idp::config::{DEMO_ALICE_PASSWORD, DESKTOP_CLIENT_ID};
use dev_idp::testing::Browser;
use sha2::{Digest as _, Sha256};
use url::Url;

/// The loopback redirect registered for the desktop client.
const REDIRECT_URI: &str = "http://127.0.0.1:50000/callback";
/// What the token is for when no scope is given.
const DEFAULT_SCOPE: &str = "openid items:read";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(issuer), scope, None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: bench_token <issuer> [scope]");
        return ExitCode::from(2);
    };
    let scope = scope.unwrap_or_else(|| DEFAULT_SCOPE.to_owned());
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BoxError::from)
        .and_then(|runtime| runtime.block_on(token(issuer.trim_end_matches('/'), &scope)));
    match result {
        Ok(token) => {
            // The whole point of this tool: the token, alone, on stdout.
            #[allow(clippy::print_stdout)]
            {
                println!("{token}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            let mut message = format!("bench_token: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(&format!("\n  caused by: {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Alice's access token from the code flow with PKCE.
async fn token(issuer: &str, scope: &str) -> Result<String, BoxError> {
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());

    let mut authorize = Url::parse(&format!("{issuer}/v1/authorize"))
        .map_err(|e| format!("the issuer {issuer:?} is not a URL: {e}"))?;
    authorize
        .query_pairs_mut()
        .append_pair("client_id", DESKTOP_CLIENT_ID)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", scope)
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");

    let back = Browser::new().sign_in(authorize.as_str(), "alice", DEMO_ALICE_PASSWORD).await?;
    let query = |name: &str| back.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned());
    if let Some(error) = query("error") {
        let description = query("error_description").unwrap_or_default();
        return Err(format!("the provider refused: {error} {description}").into());
    }
    if query("state").as_deref() != Some(state.as_str()) {
        return Err("the redirect came back with another state".into());
    }
    let code = query("code").ok_or("the redirect has no code")?;

    let response = reqwest::Client::new()
        .post(format!("{issuer}/v1/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", DESKTOP_CLIENT_ID),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    if !status.is_success() {
        let error = body["error"].as_str().unwrap_or("unknown");
        let description = body["error_description"].as_str().unwrap_or("");
        return Err(format!("the token endpoint answered {status}: {error} {description}").into());
    }
    let token = body["access_token"].as_str().ok_or("the token response has no access_token")?;
    Ok(token.to_owned())
}
