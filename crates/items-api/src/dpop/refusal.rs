//! Why a DPoP request was refused: the reasons sent back to clients as the
//! `error_description` of the DPoP scheme's challenges (RFC 9449 §7.1).
//! Each reason's `Display` is its sentence, never the token.

/// Why a DPoP proof was refused: the `error_description` of an
/// `invalid_dpop_proof` challenge (RFC 9449 §7.1). Each reason's `Display`
/// is its sentence, as [`crate::auth::Refusal`]'s is for tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofRefusal {
    /// A token sent with the DPoP scheme without a `DPoP` header (§7.1).
    #[error("a DPoP proof is required")]
    Missing,
    /// More than one `DPoP` header (§4.3 point 1).
    #[error("send one DPoP header, not several")]
    Several,
    /// The `DPoP` header is not visible ASCII, so not a JWT (§4.3 point 2).
    #[error("the DPoP proof is not a JWT")]
    NotText,
    /// No public URL is configured, so no proof's `htu` can be checked
    /// (§4.3 point 9): DPoP is not accepted at all.
    #[error("this API does not accept DPoP-bound tokens")]
    NotAccepted,
    /// The proof fails a check of §4.3; the sentence is the check's.
    #[error(transparent)]
    Check(dpop::ProofError),
    /// The proof's `jti` was taken before, or too many proofs are
    /// remembered to take another now (§11.1).
    #[error(transparent)]
    Replay(dpop::ReplayError),
}

/// Why a token was refused for its DPoP binding (RFC 9449 §7.1, §7.2): the
/// `error_description` of the DPoP scheme's `invalid_token` challenge. Each
/// reason's `Display` is its sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum BindingRefusal {
    /// A token bound to a key (`cnf.jkt`) sent as a bearer token (§7.2).
    #[error("the token is DPoP-bound: send it with the DPoP scheme and a proof")]
    SentAsBearer,
    /// A token bound to no key sent with the DPoP scheme.
    #[error("the token is not DPoP-bound")]
    NotBound,
    /// The proof's key is not the one the token is bound to (§7.1).
    #[error("the DPoP proof is from another key than the token's")]
    OtherKey,
}
