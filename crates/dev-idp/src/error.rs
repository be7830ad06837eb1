//! OAuth 2.0 error responses (RFC 6749 §4.1.2.1, §5.2; RFC 8628 §3.5; RFC 6750 §3).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The `error` codes this provider returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    LoginRequired,
    ConsentRequired,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    InvalidToken,
    InsufficientScope,
    ServerError,
    /// RFC 9449 §5: the DPoP proof is missing or invalid.
    InvalidDpopProof,
    /// RFC 9449 §8: the proof must carry the nonce given in `DPoP-Nonce`.
    UseDpopNonce,
    /// Past an Okta-style rate limit (answered 429; not an RFC code).
    TooManyRequests,
}

impl ErrorCode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::ServerError => "server_error",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::TooManyRequests => "too_many_requests",
        }
    }
}

/// An error answered as JSON by a back-channel endpoint (token, introspect,
/// revoke, device authorization).
#[derive(Debug)]
pub(crate) struct OAuthError {
    pub(crate) code: ErrorCode,
    pub(crate) description: String,
    /// Client authentication with HTTP Basic failed: answer 401 with a challenge
    /// (RFC 6749 §5.2).
    pub(crate) basic_challenge: bool,
    /// A DPoP nonce to hand the client (RFC 9449 §8), in `DPoP-Nonce`.
    pub(crate) dpop_nonce: Option<String>,
}

impl OAuthError {
    pub(crate) fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), basic_challenge: false, dpop_nonce: None }
    }

    /// The same error with a `DPoP-Nonce` for the client.
    pub(crate) fn with_dpop_nonce(mut self, nonce: Option<String>) -> Self {
        self.dpop_nonce = nonce;
        self
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub(crate) fn invalid_client(description: impl Into<String>, basic: bool) -> Self {
        Self { basic_challenge: basic, ..Self::new(ErrorCode::InvalidClient, description) }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match self.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = serde_json::json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        });
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.basic_challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="dev-idp""#));
        }
        if let Some(value) = self.dpop_nonce.and_then(|nonce| HeaderValue::from_str(&nonce).ok()) {
            headers.insert("dpop-nonce", value);
        }
        response
    }
}

/// A failed bearer-token request (RFC 6750 §3), for userinfo.
#[derive(Debug)]
pub(crate) struct BearerError {
    pub(crate) code: Option<ErrorCode>,
    pub(crate) description: &'static str,
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let (status, challenge) = match self.code {
            None => (StatusCode::UNAUTHORIZED, r#"Bearer realm="dev-idp""#.to_owned()),
            Some(code) => {
                let status = match code {
                    ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
                    ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
                    _ => StatusCode::UNAUTHORIZED,
                };
                let scope = if code == ErrorCode::InsufficientScope { r#", scope="openid""# } else { "" };
                (
                    status,
                    format!(
                        r#"Bearer realm="dev-idp", error="{}", error_description="{}"{scope}"#,
                        code.as_str(),
                        self.description
                    ),
                )
            }
        };
        let mut response = status.into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
