//! Unit tests of the parts that need no issuer: token shape, header rules,
//! claim checks, JWKS parsing, `Cache-Control`, the answer cache. The
//! end-to-end tests against dev-idp are in `tests/auth.rs`.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use reqwest::header::{CACHE_CONTROL, HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

use super::cache::{TokenCache, TokenHash};
use super::claims::{self, Expected};
use super::introspection::{REFUSAL_TTL, remember_active, remember_refusal};
use super::refusal::Refusal;
use super::{AuthError, Claims, http, jwt, keys};

const ISSUER: &str = "https://example.okta.com/oauth2/default";
const AUDIENCE: &str = "api://default";
const NOW: i64 = 1_700_000_000;

fn expected() -> Expected<'static> {
    Expected { issuer: ISSUER, audience: AUDIENCE, leeway: 30, now: NOW, clients: &[] }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn access_claims() -> Map<String, Value> {
    object(json!({
        "ver": 1, "jti": "AT.1", "iss": ISSUER, "aud": AUDIENCE, "iat": NOW - 10, "exp": NOW + 3600,
        "cid": "tessera-desktop", "uid": "00u1", "scp": ["openid", "items:read"], "sub": "alice@example.com",
    }))
}

fn with(mut claims: Map<String, Value>, name: &str, value: Value) -> Map<String, Value> {
    claims.insert(name.to_owned(), value);
    claims
}

fn without(mut claims: Map<String, Value>, name: &str) -> Map<String, Value> {
    claims.remove(name);
    claims
}

fn invalid(result: Result<impl std::fmt::Debug, AuthError>) -> Refusal {
    match result {
        Err(AuthError::Invalid(reason)) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn token(header: &Value, payload: &str) -> String {
    format!("{}.{}.c2ln", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload))
}

#[test]
fn the_shape_check_caps_size_and_characters_before_parsing() {
    assert_eq!(invalid(claims::check_token_shape("", 8)), Refusal::Empty);
    assert_eq!(invalid(claims::check_token_shape("abcdefghi", 8)), Refusal::TooLarge);
    assert!(claims::check_token_shape("abcdefgh", 8).is_ok());
    for bad in ["a b", "a\"b", "a,b", "ä", "a\nb", "===", "a=b"] {
        assert_eq!(invalid(claims::check_token_shape(bad, 64)), Refusal::Malformed, "{bad:?}");
    }
    assert!(claims::check_token_shape("aZ09-._~+/==", 64).is_ok());
}

#[test]
fn headers_without_an_allowed_algorithm_are_refused() {
    let rs256 = [Algorithm::RS256];
    for none in ["none", "None", "NONE", "nOnE"] {
        assert_eq!(invalid(jwt::parse(&token(&json!({"alg": none, "kid": "k"}), "{}"), &rs256)), Refusal::Unsigned);
    }
    for other in ["HS256", "HS512", "rs256", "RS 256", "ES256", "PS256"] {
        assert_eq!(
            invalid(jwt::parse(&token(&json!({"alg": other, "kid": "k"}), "{}"), &rs256)),
            Refusal::BadAlgorithm,
            "{other}"
        );
    }
    assert_eq!(invalid(jwt::parse(&token(&json!({"kid": "k"}), "{}"), &rs256)), Refusal::NoAlgorithm);
    assert_eq!(invalid(jwt::parse(&token(&json!({"alg": 256, "kid": "k"}), "{}"), &rs256)), Refusal::Malformed);
}

#[test]
fn crit_typ_and_kid_are_checked_and_key_urls_ignored() {
    let rs256 = [Algorithm::RS256];
    let parse = |header: Value| {
        let token = token(&header, "{}");
        jwt::parse(&token, &rs256).map(|parsed| (parsed.kid.clone(), parsed.alg))
    };
    assert_eq!(invalid(parse(json!({"alg": "RS256", "kid": "k", "crit": ["exp"], "exp": 1}))), Refusal::Critical);
    assert_eq!(invalid(parse(json!({"alg": "RS256", "kid": "k", "crit": []}))), Refusal::Critical);
    assert_eq!(invalid(parse(json!({"alg": "RS256", "kid": "k", "typ": "id_token+jwt"}))), Refusal::WrongType);
    assert_eq!(invalid(parse(json!({"alg": "RS256", "kid": "k", "typ": "logout+jwt"}))), Refusal::WrongType);
    assert_eq!(invalid(parse(json!({"alg": "RS256"}))), Refusal::NoKeyId);
    assert_eq!(invalid(parse(json!({"alg": "RS256", "kid": ""}))), Refusal::NoKeyId);
    assert_eq!(invalid(parse(json!({"alg": "RS256", "kid": 7}))), Refusal::Malformed);
    for typ in ["at+jwt", "application/at+JWT", "JWT", "jwt"] {
        assert!(parse(json!({"alg": "RS256", "kid": "k", "typ": typ})).is_ok(), "{typ}");
    }
    let (kid, alg) = parse(json!({
        "alg": "RS256", "kid": "../../etc/passwd", "jku": "https://evil.example/keys",
        "x5u": "https://evil.example/cert", "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
    }))
    .expect("key URLs are ignored, not refused");
    assert_eq!(kid, "../../etc/passwd");
    assert_eq!(alg, Algorithm::RS256);
}

#[test]
fn only_compact_jws_with_json_parts_is_parsed() {
    let rs256 = [Algorithm::RS256];
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k"}"#);
    for bad in [
        "abc".to_owned(),
        "a.b".to_owned(),
        format!("{header}.e30.sig.x.y"),
        format!("{header}.e30.sig.x"),
        ".e30.sig".to_owned(),
        format!("{header}..sig"),
        "!!!.e30.sig".to_owned(),
        format!("{}.e30.sig", URL_SAFE_NO_PAD.encode("[1,2]")),
        format!("{}.e30.sig", URL_SAFE_NO_PAD.encode("not json")),
        format!("{header}=.e30.sig"),
    ] {
        assert_eq!(invalid(jwt::parse(&bad, &rs256)), Refusal::Malformed, "{bad}");
    }
}

#[test]
fn okta_access_tokens_pass_and_give_their_claims() {
    let claims = claims::from_jwt(access_claims(), &expected()).expect("valid");
    assert_eq!(claims.subject, "alice@example.com");
    assert_eq!(claims.client_id.as_deref(), Some("tessera-desktop"));
    assert_eq!(claims.user_id.as_deref(), Some("00u1"));
    assert_eq!(claims.scopes, ["openid", "items:read"]);
    assert_eq!(claims.issuer, ISSUER);
    assert_eq!(claims.expires_at, NOW + 3600);
    assert_eq!(claims.all["jti"], "AT.1");
}

#[test]
fn rfc_9068_access_tokens_pass_too() {
    let rfc = object(json!({
        "iss": ISSUER, "aud": ["api://other", AUDIENCE], "exp": NOW + 60, "iat": NOW, "jti": "x",
        "client_id": "s6BhdRkqt3", "scope": "items:read  items:write", "sub": "5ba552d67",
    }));
    let claims = claims::from_jwt(rfc, &expected()).expect("valid");
    assert_eq!(claims.client_id.as_deref(), Some("s6BhdRkqt3"));
    assert_eq!(claims.scopes, ["items:read", "items:write"]);
    assert_eq!(claims.user_id, None);
}

#[test]
fn issuer_audience_and_id_token_claims_are_checked() {
    let check = |claims| claims::from_jwt(claims, &expected());
    assert_eq!(invalid(check(without(access_claims(), "iss"))), Refusal::NoIssuer);
    for iss in ["https://evil.example/oauth2/default", "https://example.okta.com/oauth2/default/", ""] {
        assert_eq!(invalid(check(with(access_claims(), "iss", json!(iss)))), Refusal::WrongIssuer, "{iss}");
    }
    assert_eq!(invalid(check(without(access_claims(), "aud"))), Refusal::WrongAudience);
    assert_eq!(invalid(check(with(access_claims(), "aud", json!("tessera-desktop")))), Refusal::WrongAudience);
    assert_eq!(invalid(check(with(access_claims(), "aud", json!(["a", "b"])))), Refusal::WrongAudience);
    assert_eq!(invalid(check(with(access_claims(), "aud", json!([AUDIENCE, 1])))), Refusal::MalformedClaims);
    for marker in ["nonce", "at_hash", "c_hash"] {
        assert_eq!(invalid(check(with(access_claims(), marker, json!("x")))), Refusal::IdToken, "{marker}");
    }
    assert_eq!(invalid(check(without(access_claims(), "sub"))), Refusal::NoSubject);
    assert_eq!(invalid(check(with(access_claims(), "sub", json!(42)))), Refusal::MalformedClaims);
    assert_eq!(invalid(check(with(access_claims(), "scp", json!([1])))), Refusal::MalformedClaims);
    assert_eq!(invalid(check(with(access_claims(), "cid", json!({})))), Refusal::MalformedClaims);
}

#[test]
fn times_are_checked_with_the_leeway() {
    let check = |claims| claims::from_jwt(claims, &expected());
    assert_eq!(invalid(check(without(access_claims(), "exp"))), Refusal::NoExpiry);
    assert_eq!(invalid(check(with(access_claims(), "exp", json!(NOW - 30)))), Refusal::Expired);
    assert!(check(with(access_claims(), "exp", json!(NOW - 29))).is_ok(), "within the leeway");
    assert_eq!(invalid(check(with(access_claims(), "exp", json!("soon")))), Refusal::MalformedClaims);
    assert_eq!(invalid(check(with(access_claims(), "exp", json!(1e300)))), Refusal::MalformedClaims);
    assert_eq!(
        check(with(access_claims(), "exp", json!(NOW as f64 + 0.5 + 60.0))).expect("fractional").expires_at,
        NOW + 60
    );
    assert_eq!(invalid(check(with(access_claims(), "nbf", json!(NOW + 31)))), Refusal::NotYetValid);
    assert!(check(with(access_claims(), "nbf", json!(NOW + 30))).is_ok(), "within the leeway");
    assert_eq!(invalid(check(with(access_claims(), "iat", json!(NOW + 31)))), Refusal::IssuedInFuture);
    assert!(check(with(access_claims(), "iat", json!(NOW + 30))).is_ok(), "within the leeway");
    assert!(check(without(access_claims(), "iat")).is_ok(), "iat is optional");
}

fn answer(value: Value) -> Map<String, Value> {
    object(value)
}

fn active_answer() -> Map<String, Value> {
    answer(json!({
        "active": true, "token_type": "Bearer", "scope": "openid items:read", "client_id": "tessera-desktop",
        "username": "alice@example.com", "exp": NOW + 600, "iat": NOW, "sub": "alice@example.com",
        "aud": AUDIENCE, "iss": ISSUER, "jti": "AT.1", "uid": "00u1",
    }))
}

#[test]
fn introspection_answers_are_checked_like_tokens() {
    let check = |answer| claims::from_introspection(answer, &expected());
    let claims = check(active_answer()).expect("active");
    assert_eq!(claims.scopes, ["openid", "items:read"]);
    assert_eq!(claims.client_id.as_deref(), Some("tessera-desktop"));
    assert!(!claims.all.contains_key("active"));
    assert_eq!(invalid(check(answer(json!({"active": false})))), Refusal::Inactive);
    assert_eq!(invalid(check(with(active_answer(), "token_type", json!("refresh_token")))), Refusal::NotAccessToken);
    assert_eq!(
        invalid(check(with(active_answer(), "token_type", json!("urn:ietf:params:oauth:token-type:refresh_token")))),
        Refusal::NotAccessToken
    );
    assert!(check(with(active_answer(), "token_type", json!("access_token"))).is_ok());
    assert!(check(without(active_answer(), "token_type")).is_ok());
    assert_eq!(invalid(check(with(active_answer(), "iss", json!("https://evil.example")))), Refusal::WrongIssuer);
    assert_eq!(invalid(check(with(active_answer(), "aud", json!("api://other")))), Refusal::WrongAudience);
    assert!(check(without(active_answer(), "iss")).is_ok(), "iss only when present");
    assert_eq!(invalid(check(without(active_answer(), "aud"))), Refusal::WrongAudience, "aud is required");
    assert_eq!(invalid(check(with(active_answer(), "aud", Value::Null))), Refusal::WrongAudience);
    assert_eq!(invalid(check(with(active_answer(), "aud", json!([])))), Refusal::WrongAudience);
    assert_eq!(invalid(check(without(without(active_answer(), "iss"), "aud"))), Refusal::WrongAudience);
    let client = check(with(active_answer(), "uid", Value::Null)).expect("null counts as absent");
    assert_eq!(client.user_id, None);
    assert_eq!(invalid(check(with(active_answer(), "exp", json!(NOW - 31)))), Refusal::Expired);
    assert_eq!(invalid(check(without(active_answer(), "exp"))), Refusal::NoExpiry);
    assert_eq!(invalid(check(without(active_answer(), "sub"))), Refusal::NoSubject);
}

#[test]
fn malformed_introspection_answers_are_unavailable_not_invalid() {
    let check = |answer| claims::from_introspection(answer, &expected());
    for bad in [
        answer(json!({})),
        answer(json!({"active": "true"})),
        with(active_answer(), "exp", json!("later")),
        with(active_answer(), "aud", json!(7)),
        with(active_answer(), "token_type", json!(1)),
    ] {
        assert!(matches!(check(bad), Err(AuthError::Unavailable(_))));
    }
}

fn rsa_jwk(kid: &str) -> Value {
    json!({"kty": "RSA", "kid": kid, "n": URL_SAFE_NO_PAD.encode([0xc5_u8; 256]), "e": "AQAB"})
}

#[test]
fn jwks_parsing_binds_one_algorithm_per_key_and_skips_the_rest() {
    let mut alg_rs = rsa_jwk("rs");
    alg_rs["alg"] = json!("RS256");
    let mut alg_ps = rsa_jwk("ps");
    alg_ps["alg"] = json!("PS256");
    let mut enc = rsa_jwk("enc");
    enc["use"] = json!("enc");
    let mut ops = rsa_jwk("ops");
    ops["key_ops"] = json!(["encrypt"]);
    let mut hs = rsa_jwk("hs");
    hs["alg"] = json!("HS256");
    let short = json!({"kty": "RSA", "kid": "short", "n": URL_SAFE_NO_PAD.encode([0xc5_u8; 128]), "e": "AQAB"});
    let oct = json!({"kty": "oct", "kid": "oct", "k": "c2VjcmV0"});
    let mut first = rsa_jwk("dup");
    first["alg"] = json!("RS256");
    let mut second = rsa_jwk("dup");
    second["alg"] = json!("PS256");
    let jwks = json!({"keys": [rsa_jwk("plain"), alg_rs, alg_ps, enc, ops, hs, short, oct, first, second, "junk",
        {"kty": "RSA"}]});
    let keys = keys::parse_jwks(jwks.to_string().as_bytes(), &[Algorithm::RS256]).expect("parses");
    let mut kids: Vec<_> = keys.keys().cloned().collect();
    kids.sort();
    assert_eq!(kids, ["dup", "plain", "rs"]);
    assert!(keys.values().all(|key| key.alg == Algorithm::RS256));

    // With PS256 allowed first, an alg-less key is bound to PS256 alone.
    let keys = keys::parse_jwks(jwks.to_string().as_bytes(), &[Algorithm::PS256, Algorithm::RS256]).expect("parses");
    assert_eq!(keys["plain"].alg, Algorithm::PS256);
    assert_eq!(keys["rs"].alg, Algorithm::RS256);
    assert_eq!(keys["ps"].alg, Algorithm::PS256);
    assert!(matches!(keys["plain"].check_alg(Algorithm::RS256), Err(AuthError::Invalid(Refusal::KeyAlgorithm))));

    assert!(keys::parse_jwks(b"{}", &[Algorithm::RS256]).is_err());
    assert!(keys::parse_jwks(b"not json", &[Algorithm::RS256]).is_err());
}

#[test]
fn cache_control_gives_the_max_age() {
    let headers = |values: &[&str]| {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(CACHE_CONTROL, HeaderValue::from_str(value).expect("header"));
        }
        map
    };
    assert_eq!(http::max_age(&headers(&[])), None);
    assert_eq!(http::max_age(&headers(&["public"])), None);
    assert_eq!(http::max_age(&headers(&["max-age=3600, must-revalidate"])), Some(Duration::from_secs(3600)));
    assert_eq!(http::max_age(&headers(&["public", "Max-Age=\"60\""])), Some(Duration::from_secs(60)));
    assert_eq!(http::max_age(&headers(&["max-age=60, no-cache"])), Some(Duration::ZERO));
    assert_eq!(http::max_age(&headers(&["no-store"])), Some(Duration::ZERO));
    assert_eq!(http::max_age(&headers(&["max-age=soon"])), None);
}

#[test]
fn the_answer_cache_keeps_hashes_until_the_earlier_of_exp_and_ttl() {
    let cache: TokenCache<Arc<Claims>> = TokenCache::new(2);
    let now = UNIX_EPOCH + Duration::from_secs(u64::try_from(NOW).expect("positive"));
    let claims = claims::from_introspection(active_answer(), &expected()).expect("active"); // exp = NOW + 600
    let key = TokenHash::of("token-a");
    let get = |key: &TokenHash, at| cache.get(key, at, |_| true).map(|claims| Claims::clone(&claims));
    remember_active(&cache, key, &claims, now, Duration::from_secs(60));
    assert_eq!(get(&key, now + Duration::from_secs(59)), Some(claims.clone()));
    assert_eq!(get(&key, now + Duration::from_secs(60)), None, "ttl ends it");

    remember_active(&cache, key, &claims, now, Duration::from_secs(3600));
    assert!(get(&key, now + Duration::from_secs(599)).is_some());
    assert!(get(&key, now + Duration::from_secs(600)).is_none(), "exp ends it");

    remember_active(&cache, key, &claims, now, Duration::ZERO);
    assert!(get(&key, now).is_none(), "a zero ttl caches nothing");

    // Bounded: a full cache drops ended entries, then the one ending soonest.
    remember_active(&cache, TokenHash::of("a"), &claims, now, Duration::from_secs(10));
    remember_active(&cache, TokenHash::of("b"), &claims, now, Duration::from_secs(100));
    remember_active(&cache, TokenHash::of("c"), &claims, now, Duration::from_secs(200));
    assert_eq!(cache.len(), 2);
    assert!(get(&TokenHash::of("a"), now).is_none(), "the entry ending soonest went");
    assert!(get(&TokenHash::of("b"), now).is_some());
    assert!(get(&TokenHash::of("c"), now).is_some());
    remember_active(&cache, TokenHash::of("d"), &claims, now + Duration::from_secs(150), Duration::from_secs(100));
    assert!(get(&TokenHash::of("b"), now + Duration::from_secs(150)).is_none(), "ended, dropped first");
    assert!(get(&TokenHash::of("c"), now + Duration::from_secs(150)).is_some());
    assert!(get(&TokenHash::of("d"), now + Duration::from_secs(150)).is_some());
    assert_eq!(cache.len(), 2);

    // Refusals: at most REFUSAL_TTL, whatever the ttl.
    let refusals: TokenCache<Refusal> = TokenCache::new(10);
    remember_refusal(&refusals, key, Refusal::Inactive, now, Duration::from_secs(3600));
    assert_eq!(refusals.get(&key, now + REFUSAL_TTL - Duration::from_secs(1), |_| true), Some(Refusal::Inactive));
    assert_eq!(refusals.get(&key, now + REFUSAL_TTL, |_| true), None);
}

/// The one cache type: keyed by the whole token's SHA-256 (one character
/// apart is another entry), a refused entry is dropped, never served at or
/// past its end, and bounded however many tokens come, with or without
/// shards.
#[test]
fn the_token_cache_is_keyed_by_the_whole_token_and_bounded() {
    let now = UNIX_EPOCH + Duration::from_secs(u64::try_from(NOW).expect("positive"));
    let until = now + Duration::from_secs(60);
    let cache: TokenCache<u32> = TokenCache::new(100);
    cache.insert(TokenHash::of("header.payload.signature"), 1, now, until);
    assert_eq!(cache.get(&TokenHash::of("header.payload.signature"), now, |_| true), Some(1));
    for other in ["header.payload.signaturf", "header.payload.", "header.payload.signature=", "eader.payload.signature"]
    {
        assert_eq!(cache.get(&TokenHash::of(other), now, |_| true), None, "{other}");
    }
    assert_eq!(cache.get(&TokenHash::of("header.payload.signature"), until, |_| true), None, "ended");
    assert_eq!(cache.len(), 0, "an ended entry is dropped when found");
    cache.insert(TokenHash::of("t"), 2, now, until);
    assert_eq!(cache.get(&TokenHash::of("t"), now, |value| *value != 2), None, "refused");
    assert_eq!(cache.get(&TokenHash::of("t"), now, |_| true), None, "a refused entry is dropped");
    cache.insert(TokenHash::of("t"), 3, now, now);
    assert_eq!(cache.len(), 0, "an entry that ends now is not stored");

    for capacity in [0, 1, 2, 100, 1000, 10_000] {
        let cache: TokenCache<usize> = TokenCache::new(capacity);
        assert!(cache.capacity() <= capacity);
        assert!(capacity == 0 || cache.capacity() * 2 > capacity, "{capacity}: most of the room is used");
        for i in 0..(capacity * 3 + 10) {
            cache.insert(TokenHash::of(&format!("token-{i}")), i, now, until + Duration::from_secs(i as u64));
            assert!(cache.len() <= capacity);
        }
        if capacity > 0 {
            let last = capacity * 3 + 9;
            assert_eq!(cache.get(&TokenHash::of(&format!("token-{last}")), now, |_| true), Some(last));
        }
    }
}

/// RFC 7517 §6.2.1, RFC 8037 §2: an elliptic key verifies only with the
/// algorithm of its own type and curve (ES256: EC P-256, ES384: EC P-384,
/// EdDSA: OKP Ed25519); a key that names another type or curve, or none,
/// is skipped, as is an RSA key claiming an EC algorithm.
#[test]
fn elliptic_keys_fit_only_their_own_type_and_curve() {
    // Public points from RFC 7515 A.3 (P-256) and RFC 8037 A.2 (Ed25519).
    let (x, y) = ("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
    let ed = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    let ec = |kid: &str, kty: &str, crv: Option<&str>| {
        let mut jwk = json!({"kty": kty, "kid": kid, "x": x, "y": y});
        if let Some(crv) = crv {
            jwk["crv"] = json!(crv);
        }
        jwk
    };
    let mut rsa_es = rsa_jwk("rsa-es");
    rsa_es["alg"] = json!("ES256");
    let jwks = json!({"keys": [
        ec("p256", "EC", Some("P-256")),
        ec("p384", "EC", Some("P-384")),
        ec("no-curve", "EC", None),
        ec("p256-as-okp", "OKP", Some("P-256")),
        ec("ed-as-ec", "EC", Some("Ed25519")),
        {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": ed},
        {"kty": "OKP", "kid": "x448", "crv": "X448", "x": ed},
        rsa_es,
    ]});
    let allowed = [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA];
    let keys = keys::parse_jwks(jwks.to_string().as_bytes(), &allowed).expect("parses");
    let mut found: Vec<_> = keys.iter().map(|(kid, key)| (kid.as_str(), key.alg)).collect();
    found.sort_by_key(|(kid, _)| *kid);
    assert_eq!(found, [("ed", Algorithm::EdDSA), ("p256", Algorithm::ES256), ("p384", Algorithm::ES384)]);
}

/// `CLIENT_ID_ALLOWLIST`: Okta's `cid` or RFC 9068's `client_id` must be
/// one of the listed clients, in a JWT and in an introspection answer; a
/// token naming no client is refused too; an empty list accepts any.
#[test]
fn only_the_allowed_clients_pass_when_a_list_is_set() {
    let clients = ["tessera-desktop".to_owned(), "0oa-service".to_owned()];
    let listed = Expected { clients: &clients, ..expected() };
    assert!(claims::from_jwt(access_claims(), &listed).is_ok());
    let other = with(access_claims(), "cid", json!("0oa-intruder"));
    assert_eq!(invalid(claims::from_jwt(other.clone(), &listed)), Refusal::OtherClient);
    assert!(claims::from_jwt(other, &expected()).is_ok(), "no list: any client");
    assert_eq!(invalid(claims::from_jwt(without(access_claims(), "cid"), &listed)), Refusal::OtherClient);
    // Case and spelling count: ids are compared exactly.
    let upper = with(access_claims(), "cid", json!("Tessera-Desktop"));
    assert_eq!(invalid(claims::from_jwt(upper, &listed)), Refusal::OtherClient);
    let rfc = with(without(access_claims(), "cid"), "client_id", json!("0oa-service"));
    assert!(claims::from_jwt(rfc, &listed).is_ok());
    assert!(claims::from_introspection(active_answer(), &listed).is_ok());
    let answer = with(active_answer(), "client_id", json!("0oa-intruder"));
    assert_eq!(invalid(claims::from_introspection(answer, &listed)), Refusal::OtherClient);
}
