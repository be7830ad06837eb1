//! The sign-in against a provider that breaks the protocol on purpose
//! (dev-idp's `misbehave`, one fault per row of [`CASES`]): the OpenID
//! Foundation's relying-party cases and more. Each row says whether the
//! sign-in must succeed and, when it must not, what the person is told; a
//! refused sign-in must leave nothing behind (no refresh token in the store,
//! no account in the book) and make no call with the tokens it refused
//! (dev-idp counts the requests to userinfo).
//!
//! Each sign-in row runs twice: through the core (`Session::sign_in`, what
//! the desktop app runs) and through the `tessera` CLI as a process
//! (`tessera login`, its browser the test browser through `$BROWSER`), both
//! with alice signing in on dev-idp's pages. Refresh rows run through the
//! core.

// Test code: a failed step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use Expect::{Accept, Reject, SignInAgain};
use dev_idp::misbehave::Misbehavior;
use signin::Session;
use signin::accounts::AccountBook;
use signin::flow::browser::HttpBrowser;
use signin::flow::config::SigninConfig;
use signin::store::MemoryStore;
use wait::within;

use testkit as wait;

/// What the sign-in must do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Succeed, with the account and its refresh token stored.
    Accept,
    /// Fail with a message containing this text.
    Reject(&'static str),
    /// At a refresh: fail with a message containing this text, drop the
    /// stored refresh token and mark the account as needing a sign-in.
    SignInAgain(&'static str),
}

/// One fault and what the sign-in must make of it.
struct Case {
    fault: Misbehavior,
    expect: Expect,
    /// Rotate the signing keys first, so that the JWKS holds two.
    two_keys: bool,
    /// Sign in first with the provider well-behaved, then misbehave at the
    /// refresh of the access token.
    at_refresh: bool,
}

/// The table: one test per row, named after it.
macro_rules! cases {
    ($($name:ident: $fault:ident $(, $option:ident)* => $expect:expr;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let options: &[&str] = &[$(stringify!($option)),*];
                let case = Case {
                    fault: Misbehavior::$fault,
                    expect: $expect,
                    two_keys: options.contains(&"two_keys"),
                    at_refresh: options.contains(&"at_refresh"),
                };
                check(&case).await;
            }
        )*
    };
}

cases! {
    id_token_with_a_bad_signature: IdTokenBadSignature =>
        Reject("the provider's ID token was rejected: Signature verification failed");
    id_token_signed_with_alg_none: IdTokenAlgNone =>
        Reject("the provider's ID token was rejected: Signature verification failed: No signature found");
    // OIDC Core §10.1: a `kid` may be left out while the JWKS holds one key.
    id_token_without_kid_and_one_key: IdTokenWithoutKid => Accept;
    id_token_without_kid_and_two_keys: IdTokenWithoutKid, two_keys =>
        Reject("Signature verification failed: Ambiguous key identification");
    id_token_hs256_keyed_with_the_public_key: IdTokenHs256WithPublicKey =>
        Reject("Disallowed signature algorithm: algorithm `HS256` is not one of: RS256");
    userinfo_for_another_subject: UserinfoAnotherSubject =>
        Reject("the userinfo answer is about someone else than the ID token; the sign-in was refused");
    // A refresh: the new ID token must be about the same person from the
    // same issuer (OIDC Core §12.2), and as well formed as the first.
    refreshed_id_token_about_someone_else: IdTokenAnotherSubject, at_refresh =>
        SignInAgain("is no longer valid; please sign in again: the refreshed ID token is not about the same account");
    // Refused answers at a refresh leave the stored refresh token as it was
    // (the provider keeps the previous one valid for its grace period).
    refreshed_id_token_from_another_issuer: IdTokenWrongIssuer, at_refresh =>
        Reject("the provider's ID token was rejected: Invalid issuer");
    refreshed_id_token_with_a_bad_signature: IdTokenBadSignature, at_refresh =>
        Reject("the provider's ID token was rejected: Signature verification failed: Crypto error: bad signature");
    refreshed_token_type_in_lower_case: TokenTypeLowercase, at_refresh => Accept;
    discovery_naming_another_issuer: DiscoveryAnotherIssuer =>
        Reject("published no usable discovery document (is the issuer right?): Validation error: unexpected issuer URI");
    id_token_from_another_issuer: IdTokenWrongIssuer => Reject("the provider's ID token was rejected: Invalid issuer");
    id_token_for_another_client: IdTokenWrongAudience =>
        Reject("the provider's ID token was rejected: Invalid audiences: must contain `tessera-desktop`");
    id_token_with_an_extra_audience_and_no_azp: IdTokenExtraAudienceWithoutAzp =>
        Reject("Invalid audiences: `someone-else` is not a trusted audience");
    id_token_without_sub: IdTokenWithoutSub =>
        Reject("the provider's token response is malformed: Failed to parse payload JSON: Error(\"missing field `sub`\"");
    id_token_without_iat: IdTokenWithoutIat => Reject("missing field `iat`");
    id_token_without_exp: IdTokenWithoutExp => Reject("missing field `exp`");
    expired_id_token: IdTokenExpired => Reject("the provider's ID token was rejected: Expired: ID token expired at");
    id_token_with_another_nonce: IdTokenWrongNonce =>
        Reject("the provider's ID token was rejected: Invalid nonce: nonce mismatch");
    // RFC 6749 §5.1: the token type is case-insensitive.
    token_type_bearer_in_lower_case: TokenTypeLowercase => Accept;
    token_response_without_token_type: TokenTypeMissing =>
        Reject("the provider's token response is malformed: missing field `token_type`");
    authorization_response_without_iss: AuthorizationResponseWithoutIss =>
        Reject("the provider's answer has no iss parameter although the provider promises one; the sign-in was refused");
    authorization_response_from_another_issuer: AuthorizationResponseWrongIss =>
        Reject("(possible mix-up attack); the sign-in was refused");
    // The answer's delivery: slow is fine, stalled, cut off or huge is not.
    token_response_arriving_slowly: TokenResponseSlow => Accept;
    token_response_that_stalls: TokenResponseStalled =>
        Reject("the token request failed: Request failed: the provider did not answer within 5 s");
    token_response_cut_off: TokenResponseCutOff =>
        Reject("the token request failed: Request failed: the provider's answer was cut off before its end");
    huge_token_response: TokenResponseHuge =>
        Reject("the token request failed: Request failed: the provider's answer is larger than 1024 KiB and was refused");
    refresh_answer_cut_off: TokenResponseCutOff, at_refresh => Reject("the provider's answer was cut off before its end");
    // Signing keys rotated between the client's key fetch and the signing:
    // the unknown `kid` makes the client fetch the keys once more.
    keys_rotated_just_before_signing: KeysRotatedBeforeSigning => Accept;
    keys_rotated_just_before_signing_a_refreshed_id_token: KeysRotatedBeforeSigning, at_refresh => Accept;
}

/// How long one request to the provider may take in these tests.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// The `tessera` CLI's exit code for a refused sign-in: 6 when the
/// provider's answer did not arrive whole, 1 when it was refused.
fn cli_exit_code(fault: Misbehavior) -> i32 {
    match fault {
        Misbehavior::TokenResponseStalled | Misbehavior::TokenResponseCutOff | Misbehavior::TokenResponseHuge => 6,
        _ => 1,
    }
}

/// The error and its causes, as the app and the CLI show them.
fn message(error: &(dyn std::error::Error + 'static)) -> String {
    tessera_desktop::ipc::message_with_causes(error)
}

async fn check(case: &Case) {
    let idp =
        within("dev-idp starting", dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() })).await.unwrap();
    if case.two_keys {
        idp.provider().rotate_keys().unwrap();
    }
    let folder = tempfile::tempdir().unwrap();
    let mut config = SigninConfig::demo();
    config.issuer = openidconnect::IssuerUrl::new(idp.issuer().to_owned()).unwrap();
    config.timeout = Duration::from_secs(20);
    config.http_timeout = HTTP_TIMEOUT;
    let store = Arc::new(MemoryStore::new());
    let book_path = folder.path().join("accounts.json");
    let session = Session::new(config, store.clone(), AccountBook::load(book_path.clone()).unwrap());
    let browser = Arc::new(HttpBrowser::new("alice", "alice-demo-pw"));
    let method = signin::SignInMethod::Browser { browser, on_link: Arc::new(|_| signin::flow::redirect::Shown::No) };
    if case.at_refresh {
        let refreshing = check_refresh(case, &idp, &session, method, &store, &book_path);
        return within(&format!("{:?}: a sign-in then a refresh", case.fault), refreshing).await;
    }
    idp.provider().misbehave(&[case.fault]);
    let outcome = within(&format!("{:?}: signing in", case.fault), session.sign_in(method, false)).await;
    let accounts = AccountBook::load(book_path).unwrap().list().len();
    match (case.expect, outcome) {
        (Expect::Accept, Ok(_)) => {
            assert_eq!((store.len(), accounts), (1, 1), "{:?}: the account and its token are kept", case.fault);
            // The counter the refusals are checked with sees the sign-in's call.
            assert_eq!(idp.provider().userinfo_requests(), 1, "{:?}", case.fault);
        }
        (Expect::Accept, Err(error)) => panic!("{:?}: refused: {}", case.fault, message(&error)),
        (Expect::Reject(text) | Expect::SignInAgain(text), Ok(_)) => {
            panic!("{:?}: accepted; expected an error saying “{text}”", case.fault)
        }
        (Expect::Reject(text) | Expect::SignInAgain(text), Err(error)) => {
            let said = message(&error);
            assert!(said.contains(text), "{:?}: the person is told “{said}”, not “{text}”", case.fault);
            assert_eq!((store.len(), store.writes(), accounts), (0, 0, 0), "{:?}: something was kept", case.fault);
            // Nothing was asked with the tokens of a refused answer (only
            // the userinfo fault is found by asking).
            let asked = usize::from(case.fault == Misbehavior::UserinfoAnotherSubject);
            assert_eq!(idp.provider().userinfo_requests(), asked, "{:?}: userinfo was called", case.fault);
        }
    }
    check_cli(case, &idp).await;
}

/// The `tessera` CLI or the test browser beside this test's binaries
/// (`cargo test --workspace` builds both).
fn cli_binary(name: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_tessera-desktop")).with_file_name(name);
    assert!(path.is_file(), "{} is not built (cargo build -p tessera-cli -p tessera-test-browser)", path.display());
    path
}

/// `tessera` run on a machine of its own (HOME, config) against `idp`.
fn tessera(home: &std::path::Path, idp: &dev_idp::DevIdp, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(cli_binary("tessera"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("OKTA_ISSUER", idp.issuer())
        .env("CLIENT_ID", "tessera-desktop")
        .env("OKTA_SCOPES", "openid profile email offline_access")
        .env("BROWSER", cli_binary("tessera-test-browser"))
        .env("TEST_BROWSER_USER", "alice")
        .env("TEST_BROWSER_PASSWORD", "alice-demo-pw")
        .env("SIGNIN_TIMEOUT_SECS", "30")
        .env("SIGNIN_HTTP_TIMEOUT_SECS", HTTP_TIMEOUT.as_secs().to_string())
        .env("TESSERA_MEMORY_ONLY", "1")
        .env("RUST_LOG", "warn")
        .current_dir(home);
    // The CLI gives up on a sign-in after 30 s: four times that, it hangs.
    wait::output_within(&mut command, &format!("tessera {}", args.join(" ")), Duration::from_secs(120))
}

/// The same sign-in through the CLI: its exit code, what it says on
/// standard error, and the account book it leaves.
async fn check_cli(case: &Case, idp: &dev_idp::DevIdp) {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().to_owned();
    let login = tokio::task::block_in_place(|| tessera(&path, idp, &["login", "--json"]));
    // The CLI prints each cause on a line of its own; the app joins them.
    let stderr = String::from_utf8_lossy(&login.stderr).replace("\n  caused by: ", ": ");
    let accounts = tokio::task::block_in_place(|| tessera(&path, idp, &["accounts", "--json"]));
    let listed: serde_json::Value = serde_json::from_slice(&accounts.stdout).unwrap_or_default();
    match case.expect {
        Expect::Accept => {
            assert_eq!(login.status.code(), Some(0), "{:?}: tessera login: {stderr}", case.fault);
            assert_eq!(listed.as_array().map(Vec::len), Some(1), "{:?}: {listed}", case.fault);
        }
        Expect::Reject(text) | Expect::SignInAgain(text) => {
            let code = cli_exit_code(case.fault);
            assert_eq!(login.status.code(), Some(code), "{:?}: tessera login: {stderr}", case.fault);
            assert!(stderr.contains(text), "{:?}: tessera login said “{stderr}”, not “{text}”", case.fault);
            assert!(login.stdout.is_empty(), "{:?}: tessera login printed {:?}", case.fault, login.stdout);
            assert_eq!(listed, serde_json::json!([]), "{:?}: an account was kept", case.fault);
        }
    }
}

/// A sign-in with the provider well-behaved, then a refresh with the fault.
async fn check_refresh(
    case: &Case,
    idp: &dev_idp::DevIdp,
    session: &Session,
    method: signin::SignInMethod,
    store: &MemoryStore,
    book_path: &std::path::Path,
) {
    session.sign_in(method, false).await.unwrap();
    let first = session.access_token().await.unwrap();
    let writes = store.writes();
    idp.provider().misbehave(&[case.fault]);
    let outcome = session.renew(&first).await;
    let account = AccountBook::load(book_path.to_owned()).unwrap().list().first().map(|a| a.needs_sign_in);
    let written = store.writes() - writes;
    match (case.expect, outcome) {
        (Expect::Accept, Ok(renewed)) => {
            assert_ne!(renewed.access_token.secret(), first.secret(), "{:?}: a new access token", case.fault);
            assert_eq!(
                (store.len(), written, account),
                (1, 1, Some(false)),
                "{:?}: the rotated token kept",
                case.fault
            );
        }
        (Expect::Accept, Err(error)) => panic!("{:?}: refused: {}", case.fault, message(&error)),
        (Expect::Reject(text) | Expect::SignInAgain(text), Ok(_)) => {
            panic!("{:?}: accepted; expected an error saying “{text}”", case.fault)
        }
        (Expect::Reject(text), Err(error)) => {
            let said = message(&error);
            assert!(said.contains(text), "{:?}: the person is told “{said}”, not “{text}”", case.fault);
            assert_eq!(
                (store.len(), written, account),
                (1, 0, Some(false)),
                "{:?}: the stored token changed",
                case.fault
            );
        }
        (Expect::SignInAgain(text), Err(error)) => {
            let said = message(&error);
            assert!(said.contains(text), "{:?}: the person is told “{said}”, not “{text}”", case.fault);
            assert_eq!(
                (store.len(), account),
                (0, Some(true)),
                "{:?}: the token is kept or the account not marked",
                case.fault
            );
        }
    }
}
