//! Why a token was refused: the reasons sent back to clients as the
//! `error_description` of an `invalid_token` challenge (RFC 6750 §3). Each
//! reason's `Display` is its sentence: short, fixed, and free of token
//! contents.

/// Why a token is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No token at all.
    #[error("the token is empty")]
    Empty,
    /// Longer than the API reads (before any parsing).
    #[error("the token is too large")]
    TooLarge,
    /// Not a `b64token` (RFC 6750 §2.1), or not a JWS in compact
    /// serialization (RFC 7515 §7.1).
    #[error("the token is malformed")]
    Malformed,
    /// A JWT claim has the wrong type (RFC 7519 §4.1).
    #[error("the token's claims are malformed")]
    MalformedClaims,
    /// No `iss` (RFC 9068 §2.2).
    #[error("the token names no issuer")]
    NoIssuer,
    /// `iss` is not the configured issuer (RFC 9068 §4 step 3).
    #[error("the token is from another issuer")]
    WrongIssuer,
    /// `aud` does not name this API (RFC 9068 §4 step 4).
    #[error("the token is not meant for this API")]
    WrongAudience,
    /// An ID token (OIDC Core §2) presented as an access token.
    #[error("an ID token is not an access token")]
    IdToken,
    /// Introspection says it is another kind of token (a refresh token).
    #[error("the token is not an access token")]
    NotAccessToken,
    /// No `exp` (RFC 9068 §2.2).
    #[error("the token has no expiry time")]
    NoExpiry,
    /// `exp` has passed (RFC 7519 §4.1.4).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is ahead (RFC 7519 §4.1.5).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is ahead.
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// No `sub` (RFC 9068 §2.2).
    #[error("the token names no subject")]
    NoSubject,
    /// Introspection answered `active: false` (RFC 7662 §2.2).
    #[error("the token is not active")]
    Inactive,
    /// Too many unknown tokens to introspect now (the rate limit).
    #[error("too many unknown tokens to check now; try again later")]
    NotChecked,
    /// `alg: none` (RFC 8725 §3.2).
    #[error("unsigned tokens are not accepted")]
    Unsigned,
    /// An algorithm this API does not accept (RFC 8725 §3.1).
    #[error("the token's signing algorithm is not accepted")]
    BadAlgorithm,
    /// No `alg` in the header (RFC 7515 §4.1.1).
    #[error("the token's header names no algorithm")]
    NoAlgorithm,
    /// A `crit` header (RFC 7515 §4.1.11).
    #[error("the token has a critical header extension this API does not understand")]
    Critical,
    /// No `kid` in the header.
    #[error("the token names no signing key")]
    NoKeyId,
    /// The `kid` is not in the issuer's JWKS.
    #[error("the token's signing key is unknown")]
    UnknownKey,
    /// The key's algorithm is not the token's (RFC 8725 §3.1).
    #[error("the token's algorithm does not match its signing key")]
    KeyAlgorithm,
    /// The signature does not verify (RFC 7515 §5.2).
    #[error("the token's signature is invalid")]
    BadSignature,
    /// The header's `typ` is not an access token's (RFC 9068 §2.1, RFC 8725
    /// §3.11).
    #[error("the token is not an access token")]
    WrongType,
    /// The token was issued to a client (`cid` / `client_id`) that is not
    /// on the configured allow-list (`CLIENT_ID_ALLOWLIST`), or names none.
    #[error("the token was issued to a client this API does not accept")]
    OtherClient,
}
