//! Everything that can go wrong while signing in, one variant per failure.

use std::time::Duration;

/// A boxed error from a lower layer (HTTP client, openidconnect), kept as the
/// `source` so callers can print the whole chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a sign-in did not complete. Messages are written for the person in
/// front of the screen; the `source` chain has the technical detail.
/// Nothing secret (codes, tokens, verifiers) ever appears in a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigninError {
    /// A setting has a value that cannot be used.
    #[error("the setting {setting} is invalid: {message}")]
    InvalidSetting {
        /// The setting's name (environment variable or file key).
        setting: String,
        /// What is wrong with it.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The provider's discovery document could not be fetched.
    #[error("cannot reach the provider at {issuer} (offline, or is the issuer right?)")]
    Discovery {
        /// The issuer asked.
        issuer: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The provider answered, but its discovery document cannot be used (an
    /// error status, not JSON, or another issuer named: OIDC Discovery §4.3).
    #[error("the provider at {issuer} published no usable discovery document (is the issuer right?)")]
    InvalidDiscovery {
        /// The issuer asked.
        issuer: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The provider's discovery document lacks an endpoint this flow needs.
    #[error("the provider does not publish a {0} endpoint")]
    MissingEndpoint(&'static str),
    /// The provider's signing keys could not be fetched.
    #[error("cannot fetch the provider's signing keys")]
    Keys(#[source] BoxError),
    /// The loopback port is taken by another program.
    #[error("the port {port} on {ip} is already in use; choose another port or leave it unset")]
    PortInUse {
        /// The address family's loopback address.
        ip: std::net::IpAddr,
        /// The port.
        port: u16,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Every loopback port the sign-in may use is taken by other programs.
    #[error(
        "every loopback port Tessera may listen on is in use ({ports} on {ip}); close what holds one, or list \
         other ports in the loopback_ports setting (LOOPBACK_PORTS), each registered at the provider as \
         http://127.0.0.1:PORT/callback"
    )]
    PortsInUse {
        /// The address family's loopback address.
        ip: std::net::IpAddr,
        /// The ports tried, as the setting lists them.
        ports: String,
    },
    /// The loopback listener could not be opened for another reason.
    #[error("cannot listen on {addr} for the browser's redirect")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Accepting the browser's connection failed.
    #[error("the loopback listener failed")]
    Listener(#[source] std::io::Error),
    /// Nobody came back from the browser in time.
    #[error("the sign-in timed out after {} s; try again", after.as_secs())]
    TimedOut {
        /// The time waited.
        after: Duration,
    },
    /// The sign-in was cancelled.
    #[error("the sign-in was cancelled")]
    Cancelled,
    /// The redirect had no `state` (RFC 8252 §8.9).
    #[error("the provider's answer has no state parameter; the sign-in was refused for safety")]
    MissingState,
    /// The redirect's `state` differs from the one sent (RFC 8252 §8.9).
    #[error("the provider's answer does not belong to this sign-in (state mismatch); please try again")]
    StateMismatch,
    /// The redirect's `iss` differs from the issuer the request went to (RFC 9207 §2.4).
    #[error("the answer came from {got}, not from {expected} (possible mix-up attack); the sign-in was refused")]
    IssuerMismatch {
        /// The issuer the request went to.
        expected: String,
        /// The `iss` in the answer.
        got: String,
    },
    /// The provider announces `iss` in responses but this one had none (RFC 9207 §2.4).
    #[error("the provider's answer has no iss parameter although the provider promises one; the sign-in was refused")]
    MissingIssuer,
    /// The provider answered the authorization request with an error (RFC 6749 §4.1.2.1).
    #[error("{}", provider_error_message(error, description.as_deref()))]
    Provider {
        /// The error code, e.g. `access_denied`.
        error: String,
        /// The provider's description.
        description: Option<String>,
    },
    /// The provider refused the pushed authorization request (RFC 9126 §2.3).
    #[error("{}", provider_error_message(error, description.as_deref()))]
    PushRefused {
        /// The error code, e.g. `invalid_request`.
        error: String,
        /// The provider's description.
        description: Option<String>,
    },
    /// The authorization request could not be pushed (network, an answer
    /// that is not RFC 9126's), or the provider requires pushed requests
    /// without saying where to push them.
    #[error("cannot push the sign-in request to the provider")]
    Push(#[source] BoxError),
    /// A DPoP key could not be made, or the one stored with a refresh token
    /// is damaged.
    #[error("the key that binds the sign-in to this device could not be made or read")]
    Dpop(#[source] BoxError),
    /// The redirect has neither a code nor an error.
    #[error("the provider's answer has no authorization code")]
    MissingCode,
    /// The token endpoint refused the request (RFC 6749 §5.2).
    #[error("{}", token_error_message(error, description.as_deref()))]
    TokenEndpoint {
        /// The error code, e.g. `invalid_grant`.
        error: String,
        /// The provider's description.
        description: Option<String>,
    },
    /// The token response could not be read. Only the parser's message is
    /// kept, never the response body (it holds tokens).
    #[error("the provider's token response is malformed: {detail}")]
    MalformedTokenResponse {
        /// Where parsing failed and why.
        detail: String,
    },
    /// The provider answered with a server error (HTTP 5xx) at its token,
    /// pushed-request, device, revocation, userinfo or discovery endpoint.
    #[error(transparent)]
    ProviderFailed(super::http::ProviderFailure),
    /// The provider is limiting requests (HTTP 429) at its token,
    /// device, pushed-request or discovery endpoint; the message says when
    /// to try again.
    #[error(transparent)]
    RateLimited(super::rate_limit::RateLimited),
    /// The provider refused a service's credentials at its token endpoint
    /// (client credentials: `invalid_client` or `unauthorized_client`): a
    /// wrong client id, secret or key, or a client not allowed the grant.
    #[error(
        "the provider refused the credentials of the service {client_id} (a wrong client id, secret or key, or a \
         client not allowed the client_credentials grant) ({error}{})",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    ClientRefused {
        /// The service's client id.
        client_id: String,
        /// `invalid_client` or `unauthorized_client`.
        error: String,
        /// The provider's description.
        description: Option<String>,
    },
    /// A service's private key (`private_key_jwt`) cannot be read or used.
    #[error("the private key {path} cannot be used: {problem}")]
    PrivateKey {
        /// The key file.
        path: String,
        /// Why.
        problem: String,
    },
    /// The token request failed (network, unexpected answer).
    #[error("the token request failed")]
    TokenRequest(#[source] BoxError),
    /// The token response has no ID token although `openid` was asked for.
    #[error("the provider sent no ID token")]
    MissingIdToken,
    /// The ID token failed a check of OIDC Core §3.1.3.7.
    #[error("the provider's ID token was rejected: {0}")]
    InvalidIdToken(#[source] openidconnect::ClaimsVerificationError),
    /// The ID token's `azp` (authorized party) is another client than ours
    /// (OIDC Core §3.1.3.7 step 5): it was issued to another app.
    #[error("the provider's ID token was rejected: it was issued to another app (azp {got}, expected {expected})")]
    AuthorizedPartyMismatch {
        /// Our client id.
        expected: String,
        /// The `azp` in the token.
        got: String,
    },
    /// The ID token's `at_hash` does not match the access token (OIDC Core §3.1.3.8).
    #[error("the provider's ID token was rejected: at_hash does not match the access token")]
    AccessTokenHashMismatch,
    /// The UserInfo request failed.
    #[error("cannot read the person's profile (userinfo)")]
    UserInfo(#[source] BoxError),
    /// The UserInfo `sub` is not the ID token's (OIDC Core §5.3.2).
    #[error("the userinfo answer is about someone else than the ID token; the sign-in was refused")]
    UserInfoSubjectMismatch,
    /// The refresh token was refused (`invalid_grant`: expired, revoked or
    /// reused); the account needs an interactive sign-in (RFC 6749 §5.2).
    #[error("the saved sign-in is no longer valid; please sign in again")]
    RefreshTokenRejected {
        /// The provider's description.
        description: Option<String>,
    },
    /// A refreshed ID token names another issuer or person (OIDC Core §12.2).
    #[error("the refreshed ID token is not about the same account; the refresh was refused")]
    IdentityChanged,
    /// A deep link arrived for a sign-in that is not (or no longer) pending.
    #[error("no sign-in is waiting for this link; it may have been used already. Please sign in again")]
    UnknownState,
    /// The callback URL could not be understood.
    #[error("the callback URL is not valid: {0}")]
    BadCallback(String),
    /// The provider does not offer the device grant.
    #[error("the provider does not support signing in with a code on another device")]
    DeviceNotSupported,
    /// The person refused the device on the verification page (RFC 8628 §3.5).
    #[error("the device sign-in was refused on the verification page")]
    DeviceDenied,
    /// The device code expired before anyone approved it (RFC 8628 §3.5).
    #[error("the code expired before the sign-in was approved; please start again")]
    DeviceExpired,
}

fn provider_error_message(error: &str, description: Option<&str>) -> String {
    let plain = match error {
        "access_denied" => "the sign-in was cancelled or access was not allowed at the provider",
        "login_required" => "the provider needs you to sign in again",
        "consent_required" => "the provider needs you to allow Tessera's access again",
        "interaction_required" => "the provider needs you to interact with its sign-in page",
        "invalid_request" => "the provider refused the sign-in request as invalid",
        "invalid_scope" => "the provider refused the requested permissions (scopes)",
        "unauthorized_client" => "this app is not allowed to sign in this way at the provider",
        "server_error" | "temporarily_unavailable" => "the provider had a problem; try again later",
        _ => "the provider refused the sign-in",
    };
    match description {
        Some(description) => format!("{plain} ({error}: {description})"),
        None => format!("{plain} ({error})"),
    }
}

fn token_error_message(error: &str, description: Option<&str>) -> String {
    let plain = match error {
        "invalid_grant" => "the provider refused the authorization (expired or already used); please sign in again",
        "invalid_client" | "unauthorized_client" => "the provider does not accept this app's client id",
        _ => "the provider refused to issue tokens",
    };
    match description {
        Some(description) => format!("{plain} ({error}: {description})"),
        None => format!("{plain} ({error})"),
    }
}
