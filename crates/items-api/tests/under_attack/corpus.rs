//! The hostile corpus: one table of requests and tokens (SECURITY.md,
//! "Resource server"), each row with the exact status and `WWW-Authenticate`
//! challenge (RFC 6750 §3) the API must answer in each validation mode, and
//! whether the row may make the API talk to the issuer.
//!
//! One test per mode walks every row against a running API and reports every
//! mismatch at once; `load` sends the same rows as the hostile half of its
//! traffic.
//!
//! `tests/auth.rs` tries the same attacks (and more spellings of each) on the
//! validator alone; here they go over HTTP, through the bearer extraction
//! and the error mapping, with the exact answer a client sees.

use std::fmt::Write as _;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use items_api::auth::Refusal;
use items_api::dpop::ProofRefusal;
use items_api::error::CredentialsRefusal;
use serde_json::{Value, json};

use crate::harness::{self, Answer, Kit, ONE_AT_A_TIME, Probe, Validation};
use crate::tokens::{AUDIENCE, claims_of, jwt_part};

// The `error_description`s of a request the API refuses before looking at
// its token are `CredentialsRefusal`s; a token's are `Refusal`s, a DPoP
// proof's `ProofRefusal`s: each one's text is the description.

/// Whether (and how) a request may make the API talk to the issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// Never: refused (or served) from what the API already has.
    None,
    /// An unknown `kid` may cause one JWKS refetch, rate-limited to one per
    /// refetch interval whatever the number of such tokens (introspection
    /// mode checks JWTs against the keys first too: issue 14, item 6).
    KeyRefetch,
    /// Introspection mode: an opaque token, or a JWT the issuer signed,
    /// posted to the issuer, which refuses it; the refusal is then
    /// remembered for 30 s (at most the cache's lifetime).
    Asks,
    /// Introspection mode: posted once; the active answer is then cached.
    AsksOnce,
}

/// The answer a row must get in one mode.
#[derive(Debug, Clone)]
pub struct Expect {
    pub status: u16,
    /// The first `WWW-Authenticate` value, or none at all.
    pub challenge: Option<String>,
    /// A second value: the DPoP challenge beside the bare Bearer one.
    pub dpop_too: bool,
    pub upstream: Upstream,
}

impl Expect {
    fn new(status: u16, challenge: Option<String>) -> Self {
        Self { status, challenge, dpop_too: false, upstream: Upstream::None }
    }

    fn with(mut self, upstream: Upstream) -> Self {
        self.upstream = upstream;
        self
    }

    /// Whether `answer` is this, exactly.
    pub fn matches(&self, answer: &Answer) -> bool {
        answer.status == self.status && answer.challenges == self.challenges()
    }

    /// Every `WWW-Authenticate` value expected, in order.
    fn challenges(&self) -> Vec<String> {
        let mut all: Vec<String> = self.challenge.iter().cloned().collect();
        if self.dpop_too {
            all.push(DPOP_CHALLENGE.to_owned());
        }
        all
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.challenge {
            Some(challenge) if self.dpop_too => write!(f, "{} with `{challenge}` and `{DPOP_CHALLENGE}`", self.status),
            Some(challenge) => write!(f, "{} with `{challenge}`", self.status),
            None => write!(f, "{} without a challenge", self.status),
        }
    }
}

/// 200, the items.
fn ok() -> Expect {
    Expect::new(200, None)
}

/// The bare DPoP challenge that goes beside the Bearer one (RFC 9449 §7.1).
const DPOP_CHALLENGE: &str = "DPoP algs=\"ES256\"";

/// 401 with the bare challenges: no credentials this API understands (RFC
/// 6750 §3.1, RFC 9449 §7.1).
fn no_credentials() -> Expect {
    Expect { dpop_too: true, ..Expect::new(401, Some("Bearer realm=\"items\"".to_owned())) }
}

/// 401 `invalid_dpop_proof`.
fn bad_proof(description: ProofRefusal) -> Expect {
    Expect::new(
        401,
        Some(format!("DPoP algs=\"ES256\", error=\"invalid_dpop_proof\", error_description=\"{description}\"")),
    )
}

/// 400 `invalid_request`.
fn bad_request(description: CredentialsRefusal) -> Expect {
    Expect::new(
        400,
        Some(format!("Bearer realm=\"items\", error=\"invalid_request\", error_description=\"{description}\"")),
    )
}

/// 401 `invalid_token`.
fn invalid(description: impl std::fmt::Display) -> Expect {
    Expect::new(
        401,
        Some(format!("Bearer realm=\"items\", error=\"invalid_token\", error_description=\"{description}\"")),
    )
}

/// 403 `insufficient_scope`.
fn forbidden(scope: &str) -> Expect {
    Expect::new(403, Some(format!("Bearer realm=\"items\", error=\"insufficient_scope\", scope=\"{scope}\"")))
}

/// Refused by the HTTP server before the API sees it: no challenge.
fn refused_by_http(status: u16) -> Expect {
    Expect::new(status, None)
}

/// Introspection mode: an opaque token (not shaped like a JWT, so not
/// checked locally first), and dev-idp says `active: false`.
fn inactive() -> Expect {
    invalid(Refusal::Inactive).with(Upstream::Asks)
}

/// Local mode: refused for its unknown `kid` (after at most one refetch).
fn unknown_key() -> Expect {
    invalid(Refusal::UnknownKey).with(Upstream::KeyRefetch)
}

/// One row: what is sent, and what each mode must answer.
pub struct Attack {
    pub name: &'static str,
    pub make: fn(&Kit) -> Probe,
    pub local: Expect,
    pub introspection: Expect,
}

impl Attack {
    pub fn expect(&self, validation: Validation) -> &Expect {
        match validation {
            Validation::Local => &self.local,
            Validation::Introspection => &self.introspection,
        }
    }
}

/// A row answered alike in both modes.
fn both(name: &'static str, make: fn(&Kit) -> Probe, expect: Expect) -> Attack {
    Attack { name, make, local: expect.clone(), introspection: expect }
}

/// A row with an answer per mode.
fn each(name: &'static str, make: fn(&Kit) -> Probe, local: Expect, introspection: Expect) -> Attack {
    Attack { name, make, local, introspection }
}

/// The good token with another `sub` in its payload, its signature kept.
fn tampered(token: &str) -> String {
    let mut claims = claims_of(token);
    claims["sub"] = json!("admin@example.com");
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], jwt_part(&claims), parts[2])
}

/// `header.claims.` with the header and claims of a good token.
fn header_and_claims(kit: &Kit, header: &Value) -> (String, String) {
    (jwt_part(header), jwt_part(&claims_of(&kit.good)))
}

/// The whole corpus.
#[allow(clippy::too_many_lines)]
pub fn corpus() -> Vec<Attack> {
    vec![
        // ----- controls --------------------------------------------------------------------------
        both("the good token", |kit| Probe::bearer(&kit.good), ok()),
        both("no Authorization header", |_| Probe::items(vec![]), no_credentials()),
        // ----- how the credentials are sent ------------------------------------------------------
        both(
            "the good token in the query string, no header",
            |kit| Probe { target: format!("/v1/items?access_token={}", kit.good), headers: vec![], token: None },
            bad_request(CredentialsRefusal::InUrl),
        ),
        both(
            "the good token in both the header and the query string",
            |kit| Probe { target: format!("/v1/items?access_token={}", kit.good), ..Probe::bearer(&kit.good) },
            bad_request(CredentialsRefusal::InUrl),
        ),
        both(
            "access_token percent-encoded in the query (access%5Ftoken)",
            |kit| Probe {
                target: format!("/v1/items?limit=5&access%5Ftoken={}", kit.good),
                ..Probe::bearer(&kit.good)
            },
            bad_request(CredentialsRefusal::InUrl),
        ),
        both(
            "two Authorization headers, both the good token",
            |kit| {
                let value = format!("Bearer {}", kit.good).into_bytes();
                Probe::items(vec![("Authorization".into(), value.clone()), ("authorization".into(), value)])
            },
            bad_request(CredentialsRefusal::SeveralHeaders),
        ),
        both(
            "a Bearer and a Basic Authorization header",
            |kit| {
                Probe::items(vec![
                    ("Authorization".into(), format!("Bearer {}", kit.good).into_bytes()),
                    ("Authorization".into(), b"Basic YWxpY2U6cHc=".to_vec()),
                ])
            },
            bad_request(CredentialsRefusal::SeveralHeaders),
        ),
        both(
            "two credentials in one header",
            |kit| Probe::authorization(format!("Bearer {0}, Bearer {0}", kit.good)),
            bad_request(CredentialsRefusal::NotBearerToken),
        ),
        // RFC 9110 §11.1: the scheme is case-insensitive; RFC 6750 §2.1: `1*SP`.
        both(
            "lower-case scheme `bearer`",
            |kit| Probe::authorization(format!("bearer {}", kit.good)).carrying(&kit.good),
            ok(),
        ),
        both(
            "upper-case scheme `BEARER`",
            |kit| Probe::authorization(format!("BEARER {}", kit.good)).carrying(&kit.good),
            ok(),
        ),
        both(
            "two spaces after the scheme",
            |kit| Probe::authorization(format!("Bearer  {}", kit.good)).carrying(&kit.good),
            ok(),
        ),
        both(
            "the scheme alone: `Bearer`",
            |_| Probe::authorization("Bearer"),
            bad_request(CredentialsRefusal::NotBearerToken),
        ),
        both("an empty Authorization header", |_| Probe::authorization(""), no_credentials()),
        both("Basic credentials", |_| Probe::authorization("Basic YWxpY2U6cHc="), no_credentials()),
        both(
            "the DPoP scheme with the good (bearer) token and no proof",
            |kit| Probe::authorization(format!("DPoP {}", kit.good)),
            bad_proof(ProofRefusal::Missing),
        ),
        both(
            "the scheme glued to the token",
            |kit| Probe::authorization(format!("Bearer{}", kit.good)),
            no_credentials(),
        ),
        both(
            "a tab between scheme and token",
            |kit| Probe::authorization(format!("Bearer\t{}", kit.good)),
            no_credentials(),
        ),
        both(
            "a space inside the token",
            |_| Probe::authorization("Bearer abc def"),
            bad_request(CredentialsRefusal::NotBearerToken),
        ),
        both(
            "markup in the token",
            |_| Probe::authorization("Bearer <script>alert(1)</script>"),
            bad_request(CredentialsRefusal::NotBearerToken),
        ),
        both(
            "base64 padding inside the token",
            |kit| Probe::authorization(format!("Bearer {}=.{}", kit.good, kit.good)),
            bad_request(CredentialsRefusal::NotBearerToken),
        ),
        both(
            "non-ASCII (UTF-8) in the header",
            |_| Probe::authorization("Bearer tökén.ü.ü".as_bytes().to_vec()),
            bad_request(CredentialsRefusal::NotText),
        ),
        both(
            "raw bytes 0xFF 0xFE in the header",
            |_| Probe::authorization(b"Bearer \xff\xfe\xfd".to_vec()),
            bad_request(CredentialsRefusal::NotText),
        ),
        both(
            "a NUL byte in the header",
            |kit| Probe::authorization([b"Bearer \0".as_slice(), kit.good.as_bytes()].concat()),
            refused_by_http(400),
        ),
        both(
            "the header folded onto a second line (obs-fold)",
            |kit| Probe::authorization(format!("Bearer\r\n {}", kit.good)),
            refused_by_http(400),
        ),
        both(
            "an Authorization header of 100 KiB",
            |_| Probe::authorization(format!("Bearer {}", "A".repeat(100 * 1024))),
            invalid(Refusal::TooLarge),
        ),
        both(
            "150 extra headers",
            |kit| {
                let mut probe = Probe::bearer(&kit.good);
                probe.headers.extend((0..150).map(|i| (format!("X-Padding-{i}"), b"x".to_vec())));
                probe
            },
            refused_by_http(431),
        ),
        // ----- the token's shape -----------------------------------------------------------------
        each("not a JWT", |_| Probe::bearer("garbage"), invalid(Refusal::Malformed), inactive()),
        each(
            "two parts",
            |kit| Probe::bearer(&kit.good[..kit.good.rfind('.').unwrap()]),
            invalid(Refusal::Malformed),
            inactive(),
        ),
        each(
            "five parts (JWE-shaped)",
            |kit| Probe::bearer(&format!("{}.{}", kit.good, "AAAA.BBBB")),
            invalid(Refusal::Malformed),
            inactive(),
        ),
        each("only dots", |_| Probe::bearer("...."), invalid(Refusal::Malformed), inactive()),
        both(
            "a token of 9 KiB (padded claims)",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "padding": "x".repeat(9 * 1024) }))),
            invalid(Refusal::TooLarge),
        ),
        both(
            "a JWT whose header is 100 KiB",
            |kit| Probe::bearer(&kit.forge(&json!({ "x": "y".repeat(100 * 1024) }), &json!({}))),
            invalid(Refusal::TooLarge),
        ),
        each(
            "the header is not JSON",
            |kit| {
                Probe::bearer(&format!(
                    "{}.{}",
                    URL_SAFE_NO_PAD.encode("not json"),
                    &kit.good[kit.good.find('.').unwrap() + 1..]
                ))
            },
            invalid(Refusal::Malformed),
            inactive(),
        ),
        each(
            "the header is a JSON array",
            |kit| {
                Probe::bearer(&format!(
                    "{}.{}",
                    URL_SAFE_NO_PAD.encode("[1]"),
                    &kit.good[kit.good.find('.').unwrap() + 1..]
                ))
            },
            invalid(Refusal::Malformed),
            inactive(),
        ),
        // ----- signatures and algorithms (RFC 8725 §3.1, §3.10) ----------------------------------
        both(
            "a tampered payload, the signature kept",
            |kit| Probe::bearer(&tampered(&kit.good)),
            invalid(Refusal::BadSignature),
        ),
        both(
            "the signature removed",
            |kit| Probe::bearer(&kit.good[..=kit.good.rfind('.').unwrap()]),
            invalid(Refusal::BadSignature),
        ),
        both(
            "another token's signature",
            |kit| {
                let other = kit.forge(&json!({}), &json!({}));
                let good = &kit.good[..kit.good.rfind('.').unwrap()];
                Probe::bearer(&format!("{good}{}", &other[other.rfind('.').unwrap()..]))
            },
            invalid(Refusal::BadSignature),
        ),
        both(
            "the signature in standard base64 (padded, + and /)",
            |kit| {
                let (message, signature) = kit.good.rsplit_once('.').unwrap();
                let signature = STANDARD.encode(URL_SAFE_NO_PAD.decode(signature).unwrap());
                Probe::bearer(&format!("{message}.{signature}"))
            },
            invalid(Refusal::BadSignature),
        ),
        both(
            "alg none, no signature",
            |kit| {
                let (header, claims) =
                    header_and_claims(kit, &json!({ "alg": "none", "kid": kit.provider.active_kid() }));
                Probe::bearer(&format!("{header}.{claims}."))
            },
            invalid(Refusal::Unsigned),
        ),
        both(
            "alg nOnE, signed anyway",
            |kit| Probe::bearer(&kit.forge(&json!({ "alg": "nOnE" }), &json!({}))),
            invalid(Refusal::Unsigned),
        ),
        both(
            "HS256 keyed with the issuer's public key",
            |kit| {
                let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
                header.kid = Some(kit.provider.active_kid());
                let secret = URL_SAFE_NO_PAD.decode(&kit.public_n).unwrap();
                let claims = claims_of(&kit.good);
                Probe::bearer(
                    &jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(&secret)).unwrap(),
                )
            },
            invalid(Refusal::BadAlgorithm),
        ),
        both(
            "alg RS512, not in the allow-list",
            |kit| Probe::bearer(&kit.forge(&json!({ "alg": "RS512" }), &json!({}))),
            invalid(Refusal::BadAlgorithm),
        ),
        both(
            "no alg",
            |kit| Probe::bearer(&kit.forge(&json!({ "alg": null }), &json!({}))),
            invalid(Refusal::NoAlgorithm),
        ),
        both(
            "an unknown crit extension",
            |kit| Probe::bearer(&kit.forge(&json!({ "crit": ["exp"], "exp": 1 }), &json!({}))),
            invalid(Refusal::Critical),
        ),
        both(
            "a foreign key with its own kid and a jku naming it",
            |kit| Probe::bearer(&kit.forge_by_stranger(&json!({ "jku": "http://127.0.0.1:9/keys" }), &json!({}))),
            unknown_key(),
        ),
        both(
            "a foreign key claiming our kid, with a jwk header",
            |kit| {
                let jwk = json!({ "kty": "RSA", "kid": kit.provider.active_kid(), "n": kit.public_n, "e": "AQAB" });
                Probe::bearer(
                    &kit.forge_by_stranger(&json!({ "kid": kit.provider.active_kid(), "jwk": jwk }), &json!({})),
                )
            },
            invalid(Refusal::BadSignature),
        ),
        both(
            "a token of another issuer (its own key and iss)",
            |kit| Probe::bearer(&kit.forge_by_stranger(&json!({}), &json!({ "iss": kit.stranger.issuer() }))),
            unknown_key(),
        ),
        both(
            "kid with a path",
            |kit| Probe::bearer(&kit.forge(&json!({ "kid": "../../../../etc/passwd" }), &json!({}))),
            unknown_key(),
        ),
        both(
            "kid with SQL",
            |kit| Probe::bearer(&kit.forge(&json!({ "kid": "x' OR '1'='1' --" }), &json!({}))),
            unknown_key(),
        ),
        both(
            "kid with CR LF and NUL",
            |kit| Probe::bearer(&kit.forge(&json!({ "kid": "k\r\nX-Injected: 1\u{0}" }), &json!({}))),
            unknown_key(),
        ),
        both(
            "kid a URL",
            |kit| Probe::bearer(&kit.forge(&json!({ "kid": "http://127.0.0.1:9/keys.json" }), &json!({}))),
            unknown_key(),
        ),
        both("no kid", |kit| Probe::bearer(&kit.forge(&json!({ "kid": null }), &json!({}))), invalid(Refusal::NoKeyId)),
        both(
            "an empty kid",
            |kit| Probe::bearer(&kit.forge(&json!({ "kid": "" }), &json!({}))),
            invalid(Refusal::NoKeyId),
        ),
        both(
            "kid a number",
            |kit| Probe::bearer(&kit.forge(&json!({ "kid": 1 }), &json!({}))),
            invalid(Refusal::Malformed),
        ),
        both(
            "typ logout+jwt",
            |kit| Probe::bearer(&kit.forge(&json!({ "typ": "logout+jwt" }), &json!({}))),
            invalid(Refusal::WrongType),
        ),
        // ----- claims (RFC 9068 §4, RFC 7519 §4.1) -----------------------------------------------
        both(
            "expired an hour ago",
            |kit| {
                let now = kit.provider.now_unix();
                Probe::bearer(&kit.forge(&json!({}), &json!({ "iat": now - 7200, "exp": now - 3600 })))
            },
            invalid(Refusal::Expired),
        ),
        both(
            "not valid for another hour (nbf)",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "nbf": kit.provider.now_unix() + 3600 }))),
            invalid(Refusal::NotYetValid),
        ),
        both(
            "issued tomorrow (iat)",
            |kit| {
                let now = kit.provider.now_unix();
                Probe::bearer(&kit.forge(&json!({}), &json!({ "iat": now + 86_400, "exp": now + 90_000 })))
            },
            invalid(Refusal::IssuedInFuture),
        ),
        both(
            "no exp",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "exp": null }))),
            invalid(Refusal::NoExpiry),
        ),
        both(
            "exp a string",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "exp": "tomorrow" }))),
            invalid(Refusal::MalformedClaims),
        ),
        both(
            "another issuer named in iss",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "iss": "https://evil.example/oauth2/default" }))),
            invalid(Refusal::WrongIssuer),
        ),
        both(
            "our issuer with a trailing slash",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "iss": format!("{}/", kit.issuer) }))),
            invalid(Refusal::WrongIssuer),
        ),
        both(
            "no iss",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "iss": null }))),
            invalid(Refusal::NoIssuer),
        ),
        both(
            "a token for another audience",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "aud": "api://other" }))),
            invalid(Refusal::WrongAudience),
        ),
        both(
            "no sub",
            |kit| Probe::bearer(&kit.forge(&json!({}), &json!({ "sub": null }))),
            invalid(Refusal::NoSubject),
        ),
        both("the ID token of the sign-in", |kit| Probe::bearer(&kit.id_token), invalid(Refusal::WrongAudience)),
        both(
            "ID token claims with our audience",
            |kit| {
                let mut claims = claims_of(&kit.id_token);
                claims["aud"] = json!(AUDIENCE);
                Probe::bearer(
                    &kit.provider.sign_raw(&json!({ "alg": "RS256", "kid": kit.provider.active_kid() }), &claims),
                )
            },
            invalid(Refusal::IdToken),
        ),
        each(
            "the refresh token as a bearer token",
            |kit| Probe::bearer(&kit.refresh_token),
            invalid(Refusal::Malformed),
            invalid(Refusal::NotAccessToken).with(Upstream::Asks),
        ),
        // Local validation cannot see a revocation: the token stays good until
        // its `exp` (SECURITY.md's trade-off); introspection sees it.
        each("an access token revoked at the issuer", |kit| Probe::bearer(&kit.revoked), ok(), inactive()),
        each(
            "a genuine token without items:read",
            |kit| Probe::bearer(&kit.write_only),
            forbidden("items:read"),
            forbidden("items:read").with(Upstream::AsksOnce),
        ),
    ]
}

/// Walks every row once, in order; every mismatch (answer or issuer
/// traffic) is reported at the end.
async fn walk(validation: Validation) {
    let _one = ONE_AT_A_TIME.lock().await;
    let api = harness::start(validation).await;
    let kit = api.kit().await;
    let rows = corpus();
    let mut mismatches = String::new();
    let mut refetches = 0;
    let started = Instant::now();
    for row in &rows {
        let probe = (row.make)(&kit);
        let expect = row.expect(validation);
        let before = api.stats();
        let answer = harness::send(api.addr, &probe).await;
        let after = api.stats();
        match &answer {
            Ok(answer) if expect.matches(answer) => {}
            Ok(answer) => {
                let _ = writeln!(
                    mismatches,
                    "- {}: expected {expect}, got {} with {:?}",
                    row.name, answer.status, answer.challenges
                );
            }
            Err(error) => {
                let _ = writeln!(mismatches, "- {}: expected {expect}, got no answer: {error}", row.name);
            }
        }
        let jwks = after.jwks_fetches - before.jwks_fetches;
        let asked = after.introspections - before.introspections;
        let allowed = match expect.upstream {
            Upstream::None => (0, 0),
            Upstream::KeyRefetch => (1, 0),
            Upstream::Asks | Upstream::AsksOnce => (0, 1),
        };
        let exact = expect.upstream == Upstream::Asks;
        if jwks > allowed.0 || asked > allowed.1 || (exact && asked != 1) || after.discovery_fetches != 1 {
            let _ = writeln!(
                mismatches,
                "- {}: expected {:?} issuer traffic, got {jwks} JWKS fetches and {asked} introspections",
                row.name, expect.upstream
            );
        }
        refetches += jwks;
    }
    eprintln!(
        "hostile corpus, {validation} validation: {} rows; {refetches} JWKS refetches, {} introspections, {} cache hits",
        rows.len(),
        api.stats().introspections,
        api.stats().cache_hits
    );
    // One refetch for the first unknown kid, then one per refetch interval (10 s).
    let limit = 1 + started.elapsed().as_secs() / 10;
    assert!(refetches <= limit, "JWKS refetches are rate-limited: {refetches} > {limit}");
    assert!(mismatches.is_empty(), "{validation} validation, rows answered otherwise than expected:\n{mismatches}");
    assert_eq!(api.status_of("/healthz").await, 200);
    let again = harness::send(api.addr, &Probe::bearer(&kit.good)).await.unwrap();
    assert_eq!(again.status, 200, "the good token still works");
}

#[tokio::test]
async fn every_row_gets_its_exact_answer_with_local_validation() {
    walk(Validation::Local).await;
}

#[tokio::test]
async fn every_row_gets_its_exact_answer_with_introspection() {
    walk(Validation::Introspection).await;
}

#[test]
fn rows_have_unique_names() {
    let rows = corpus();
    let mut names: Vec<&str> = rows.iter().map(|row| row.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), rows.len());
}
