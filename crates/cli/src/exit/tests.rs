use items_client::ItemsError;
use signin::SessionError;
use signin::accounts::AccountsError;
use signin::flow::SigninError;

use super::{Exit, Failure};

fn items(error: ItemsError<SessionError>) -> Exit {
    Failure::from(error).exit
}

fn session(error: SessionError) -> Exit {
    Failure::from(error).exit
}

#[test]
fn items_errors_have_their_exit_codes() {
    assert_eq!(items(ItemsError::NotFound), Exit::NotFound);
    assert_eq!(items(ItemsError::MissingScope { scope: "items:write".into() }), Exit::PermissionDenied);
    assert_eq!(items(ItemsError::Forbidden { message: "no".into() }), Exit::PermissionDenied);
    assert_eq!(items(ItemsError::Unavailable { status: 503 }), Exit::Network);
    assert_eq!(items(ItemsError::Invalid { field: Some("price".into()), message: "bad".into() }), Exit::Usage);
    assert_eq!(items(ItemsError::Unauthorized { description: String::new() }), Exit::SignInRequired);
    // The token source's own error decides: nobody signed in, or the network.
    assert_eq!(items(ItemsError::SignInRequired(SessionError::NoAccount)), Exit::SignInRequired);
    let offline = SessionError::Signin(SigninError::Discovery { issuer: "x".into(), source: "down".into() });
    assert_eq!(items(ItemsError::SignInRequired(offline)), Exit::Network);
    // Rate limited, by the API or (behind the token) by the provider: 8.
    assert_eq!(items(ItemsError::RateLimited { retry_after: None }), Exit::RateLimited);
    let limited = signin::flow::rate_limit::RateLimited { wait: std::time::Duration::from_secs(42) };
    assert_eq!(items(ItemsError::SignInRequired(SigninError::RateLimited(limited).into())), Exit::RateLimited);
    assert_eq!(Exit::RateLimited as u8, 8);
}

#[test]
fn session_errors_have_their_exit_codes() {
    assert_eq!(session(SessionError::NoAccount), Exit::SignInRequired);
    assert_eq!(session(SessionError::SignInRequired { account: "a".into(), source: None }), Exit::SignInRequired);
    assert_eq!(session(AccountsError::NoSuchAccount { query: "bob".into() }.into()), Exit::NotFound);
    let denied = SigninError::Provider { error: "access_denied".into(), description: None };
    assert_eq!(session(denied.into()), Exit::PermissionDenied);
    let setting = SigninError::InvalidSetting { setting: "OKTA_ISSUER".into(), message: "bad".into() };
    assert_eq!(session(setting.into()), Exit::Usage);
    assert_eq!(session(SigninError::TimedOut { after: std::time::Duration::from_secs(1) }.into()), Exit::Error);
}
