//! The API's one error type: every failure becomes a status, a JSON body and,
//! for authentication failures, the RFC 6750 §3 `WWW-Authenticate` challenge.
//! Internals never leak.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{AuthError, Refusal};
use crate::dpop::refusal::{BindingRefusal, ProofRefusal};
use crate::model::ValidationError;

/// The realm named in challenges.
pub const REALM: &str = "items";

/// The DPoP proof algorithms the API takes (the `algs` of its challenges).
pub const DPOP_ALGS: &str = "ES256";

/// Why a request's credentials were refused before its token was looked at:
/// the `error_description` of its `invalid_request` challenge (RFC 6750
/// §3.1). Each reason's `Display` is its sentence, as
/// [`Refusal`]'s is for tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsRefusal {
    /// An `access_token` query parameter (RFC 6750 §2.3, RFC 9700 §4.3.2).
    #[error("send the access token in the Authorization header, not the URL")]
    InUrl,
    /// More than one `Authorization` header.
    #[error("more than one Authorization header")]
    SeveralHeaders,
    /// An `Authorization` header that is not visible ASCII.
    #[error("the Authorization header is not text")]
    NotText,
    /// A Bearer or DPoP scheme without a `b64token` (RFC 6750 §2.1).
    #[error("the Authorization header is not a bearer token")]
    NotBearerToken,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No credentials (RFC 6750 §3.1: no error code).
    #[error("authentication required")]
    Unauthenticated,
    /// A malformed request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Credentials sent the wrong way.
    #[error("invalid request: {0}")]
    BadCredentials(CredentialsRefusal),
    /// The token was refused.
    #[error("invalid token: {0}")]
    InvalidToken(Refusal),
    /// A DPoP proof is missing, invalid or replayed (RFC 9449 §7.1).
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(ProofRefusal),
    /// A DPoP proof without the API's current nonce (RFC 9449 §9); the
    /// answer carries it in `DPoP-Nonce`.
    #[error("the DPoP proof must carry the API's nonce")]
    UseDpopNonce,
    /// A token refused for its DPoP binding: bound but sent as a bearer
    /// token or with another key's proof, or not bound but sent as DPoP.
    #[error("invalid token: {0}")]
    DpopInvalidToken(BindingRefusal),
    /// The token lacks a scope.
    #[error("insufficient scope: {0} is required")]
    InsufficientScope(String),
    /// The policy said no.
    #[error("the policy does not allow this request")]
    PolicyDenied,
    /// The body is larger than the API accepts.
    #[error("the request body is too large")]
    TooLarge,
    /// No such item (or not the caller's).
    #[error("no such item")]
    NotFound,
    /// The body failed validation.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The token could not be checked now (issuer unreachable).
    #[error("the token cannot be checked right now")]
    Unavailable,
    /// The database cannot serve now (unreachable, busy, disk full or
    /// read-only); nothing was changed. Details are logged, not sent.
    #[error("the item store is unavailable right now; nothing was changed, try again shortly")]
    StoreUnavailable,
    /// An `Idempotency-Key` already used for another item.
    #[error("this Idempotency-Key was already used for another item")]
    KeyReused,
    /// The item made with this `Idempotency-Key` has been deleted since.
    #[error("the item made with this Idempotency-Key has been deleted since")]
    KeyItemDeleted,
    /// Storage failed; details are logged, not sent.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated
            | Self::InvalidToken(_)
            | Self::InvalidDpopProof(_)
            | Self::UseDpopNonce
            | Self::DpopInvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) | Self::BadCredentials(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope(_) | Self::PolicyDenied => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable | Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::KeyItemDeleted => StatusCode::CONFLICT,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `WWW-Authenticate` value, for the errors RFC 6750 covers.
    fn challenge(&self) -> Option<String> {
        let quote = |text: &str| text.replace(['"', '\\'], "'");
        match self {
            Self::Unauthenticated => Some(format!("Bearer realm=\"{REALM}\"")),
            Self::InvalidRequest(description) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_request\", error_description=\"{}\"",
                quote(description)
            )),
            Self::BadCredentials(refusal) => {
                Some(format!("Bearer realm=\"{REALM}\", error=\"invalid_request\", error_description=\"{refusal}\""))
            }
            Self::InvalidToken(refusal) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                quote(&refusal.to_string())
            )),
            Self::InsufficientScope(scope) => {
                Some(format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\""))
            }
            Self::InvalidDpopProof(refusal) => Some(format!(
                "DPoP algs=\"{DPOP_ALGS}\", error=\"invalid_dpop_proof\", error_description=\"{}\"",
                quote(&refusal.to_string())
            )),
            Self::UseDpopNonce => Some(format!(
                "DPoP algs=\"{DPOP_ALGS}\", error=\"use_dpop_nonce\", error_description=\"put the nonce of DPoP-Nonce in the proof\""
            )),
            Self::DpopInvalidToken(refusal) => Some(format!(
                "DPoP algs=\"{DPOP_ALGS}\", error=\"invalid_token\", error_description=\"{}\"",
                quote(&refusal.to_string())
            )),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidRequest(_) | Self::BadCredentials(_) => "invalid_request",
            Self::InvalidToken(_) | Self::DpopInvalidToken(_) => "invalid_token",
            Self::InvalidDpopProof(_) => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::PolicyDenied => "access_denied",
            Self::NotFound => "not_found",
            Self::TooLarge => "too_large",
            Self::Invalid(_) => "invalid_item",
            Self::Unavailable | Self::StoreUnavailable => "temporarily_unavailable",
            Self::KeyReused => "idempotency_key_reused",
            Self::KeyItemDeleted => "conflict",
            Self::Internal => "internal_error",
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Invalid(refusal) => Self::InvalidToken(refusal),
            AuthError::Unavailable(source) => {
                tracing::warn!(error = %source, "token validation unavailable");
                Self::Unavailable
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let Self::Invalid(error) = &self {
            body["field"] = json!(error.field);
        }
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(value) = self.challenge().and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        if matches!(self, Self::Unauthenticated) {
            // Either scheme will do (RFC 9449 §7.1): a second challenge.
            response
                .headers_mut()
                .append(header::WWW_AUTHENTICATE, HeaderValue::from_static(concat!("DPoP algs=\"", "ES256", "\"")));
        }
        if matches!(self, Self::Unavailable | Self::StoreUnavailable) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}
