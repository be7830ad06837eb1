//! Prints one access token for alice, for the load benchmark (`bench/load.sh`).
//!
//! ```sh
//! cargo run --release -p tessera-items-api --example bench_token -- <issuer> [scope]
//! ```
//!
//! Signs alice in at `<issuer>` (a dev-idp) with the authorization code flow and
//! PKCE S256, as the desktop client `tessera-desktop` does, through dev-idp's
//! test browser (`Browser::access_token`), and prints the access token alone
//! on stdout. The default scope
//! is `openid items:read`. Errors go to stderr with a non-zero exit.
//!
//! This is a benchmark tool: the token goes to stdout for the script, never to
//! a file.

use std::process::ExitCode;

use dev_idp::config::DEMO_ALICE_PASSWORD;
use dev_idp::testing::Browser;

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
    let issuer = issuer.trim_end_matches('/');
    let result = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(BoxError::from).and_then(
        |runtime| {
            let browser = Browser::new();
            runtime.block_on(browser.access_token(issuer, "alice", DEMO_ALICE_PASSWORD, &scope)).map_err(BoxError::from)
        },
    );
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
            let causes = std::iter::successors(error.source(), |cause| cause.source());
            let causes: String = causes.map(|cause| format!("\n  caused by: {cause}")).collect();
            eprintln!("bench_token: {error}{causes}");
            ExitCode::FAILURE
        }
    }
}
