use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

#[test]
fn nonces_are_kept_per_origin() {
    let nonces = ReceivedNonces::default();
    assert_eq!(nonces.for_url(&url("https://idp.example/token")), None);
    nonces.keep(&url("https://idp.example/token"), None, Some("n1"), false);
    nonces.keep(&url("https://api.example/v1/items"), None, Some("n2"), false);
    assert_eq!(nonces.for_url(&url("https://idp.example/userinfo?x=1")).as_deref(), Some("n1"));
    assert_eq!(nonces.for_url(&url("https://api.example/v1/items/7")).as_deref(), Some("n2"));
    assert_eq!(nonces.for_url(&url("https://idp.example:8443/token")), None, "another port, another origin");
    // An answer without a nonce keeps the last one.
    nonces.keep(&url("https://idp.example/token"), Some("n1"), None, true);
    assert_eq!(nonces.for_url(&url("https://idp.example/token")).as_deref(), Some("n1"));
}

#[test]
fn asked_for_a_nonce_a_request_is_tried_again_only_with_another_than_it_sent() {
    let nonces = ReceivedNonces::default();
    let token = url("https://idp.example/token");
    assert_eq!(nonces.keep(&token, None, Some("n1"), true).as_deref(), Some("n1"));
    assert_eq!(nonces.keep(&token, Some("n1"), Some("n1"), true), None, "the same nonce again: no loop");
    assert_eq!(nonces.keep(&token, Some("n1"), Some("n2"), false), None, "not asked");
    assert_eq!(nonces.keep(&token, Some("n1"), None, true), None, "asked, but given none");
    // Compared with the nonce sent, not the one kept since: requests made
    // at once each try again.
    nonces.keep(&token, None, Some("n3"), false);
    assert_eq!(nonces.keep(&token, Some("n2"), Some("n3"), true).as_deref(), Some("n3"));
}

#[test]
fn use_dpop_nonce_is_read_from_a_token_error_or_a_resource_challenge() {
    let body = br#"{"error":"use_dpop_nonce"}"#;
    assert!(asks_for_nonce(400, [], body));
    assert!(!asks_for_nonce(400, [], br#"{"error":"invalid_dpop_proof"}"#));
    assert!(!asks_for_nonce(400, [], b""), "a body not read");
    assert!(!asks_for_nonce(500, [], body));
    let challenge = r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce""#;
    assert!(asks_for_nonce(401, ["Bearer realm=\"items\"", challenge], b""));
    assert!(!asks_for_nonce(403, [challenge], b""));
    for other in [
        r#"DPoP error="invalid_token", error_description="not use_dpop_nonce""#,
        r#"DPoP xerror="use_dpop_nonce""#,
        "DPoP error=use_dpop_nonce_",
    ] {
        assert!(!asks_for_nonce(401, [other], b""), "{other}");
    }
}
