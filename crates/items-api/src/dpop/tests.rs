use super::*;

#[test]
fn nonces_are_handed_out_only_when_asked_for() {
    assert_eq!(DpopChecks::default().current_nonce(), None);
    let checks = DpopChecks::default().with_nonces(Duration::from_secs(60));
    assert!(checks.current_nonce().is_some_and(|n| n.len() == 43));
}

/// The sentences are what clients read in `error_description`: they stay
/// as they were when they were string constants.
#[test]
fn refusals_read_as_their_sentences() {
    let proofs = [
        (ProofRefusal::Missing, "a DPoP proof is required"),
        (ProofRefusal::Several, "send one DPoP header, not several"),
        (ProofRefusal::NotText, "the DPoP proof is not a JWT"),
        (ProofRefusal::NotAccepted, "this API does not accept DPoP-bound tokens"),
        (ProofRefusal::Check(dpop::ProofError::Time), "the DPoP proof was not made just now (iat)"),
        (ProofRefusal::Replay(dpop::ReplayError::Replayed), "this DPoP proof was already used"),
        (ProofRefusal::Replay(dpop::ReplayError::Full), "too many DPoP proofs at once; try again"),
    ];
    for (refusal, sentence) in proofs {
        assert_eq!(refusal.to_string(), sentence);
    }
    let bindings = [
        (BindingRefusal::SentAsBearer, "the token is DPoP-bound: send it with the DPoP scheme and a proof"),
        (BindingRefusal::NotBound, "the token is not DPoP-bound"),
        (BindingRefusal::OtherKey, "the DPoP proof is from another key than the token's"),
    ];
    for (refusal, sentence) in bindings {
        assert_eq!(refusal.to_string(), sentence);
    }
}
