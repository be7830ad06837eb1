//! Checks of the claims of an access token, from a verified JWT (RFC 7519
//! §4.1, RFC 9068 §2.2, §4) or an introspection answer (RFC 7662 §2.2), and
//! the token-shape check both modes do before anything else.

use serde_json::{Map, Value};

use super::http::FetchError;
use super::refusal::Refusal;
use super::{AuthError, Claims};

/// What the claims are checked against.
#[derive(Debug, Clone, Copy)]
pub(super) struct Expected<'a> {
    /// The issuer, compared exactly (RFC 7519 §4.1.1, RFC 9068 §4 step 3).
    pub(super) issuer: &'a str,
    /// Our audience (RFC 7519 §4.1.3, RFC 9068 §4 step 4).
    pub(super) audience: &'a str,
    /// Allowed clock skew, seconds (RFC 7519 §4.1.4, §4.1.5).
    pub(super) leeway: i64,
    /// Now, seconds since the epoch.
    pub(super) now: i64,
    /// The clients whose tokens are accepted (`cid` / `client_id`); empty:
    /// any client's.
    pub(super) clients: &'a [String],
}

/// RFC 6750 §2.1: a bearer token is a `b64token`
/// (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`). Checked
/// with the size cap before any parsing or network use.
pub(super) fn check_token_shape(token: &str, max_bytes: usize) -> Result<(), AuthError> {
    if token.is_empty() {
        return Err(AuthError::Invalid(Refusal::Empty));
    }
    if token.len() > max_bytes {
        return Err(AuthError::Invalid(Refusal::TooLarge));
    }
    let body = token.trim_end_matches('=');
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
    if body.is_empty() || !body.bytes().all(allowed) {
        return Err(AuthError::Invalid(Refusal::Malformed));
    }
    Ok(())
}

/// Why claims were refused: invalid (the token's fault) or malformed (whose
/// fault depends on where they came from).
enum Fault {
    Invalid(Refusal),
    Malformed(&'static str),
}

type Checked<T> = Result<T, Fault>;

/// The claims of a verified JWT access token.
pub(super) fn from_jwt(all: Map<String, Value>, expected: &Expected<'_>) -> Result<Claims, AuthError> {
    check_jwt(all, expected).map_err(|refusal| match refusal {
        Fault::Invalid(reason) => AuthError::Invalid(reason),
        Fault::Malformed(_) => AuthError::Invalid(Refusal::MalformedClaims),
    })
}

fn check_jwt(all: Map<String, Value>, expected: &Expected<'_>) -> Checked<Claims> {
    let issuer = string(&all, "iss")?.ok_or(Fault::Invalid(Refusal::NoIssuer))?.to_owned();
    if issuer != expected.issuer {
        return Err(Fault::Invalid(Refusal::WrongIssuer));
    }
    if !audience_contains(&all, expected.audience)?.unwrap_or(false) {
        return Err(Fault::Invalid(Refusal::WrongAudience));
    }
    // An ID token (OIDC Core §2, §3.1.3.6) presented as an access token: its
    // audience is normally the client, but refuse it by its claims as well.
    if ["nonce", "at_hash", "c_hash"].iter().any(|name| all.contains_key(*name)) {
        return Err(Fault::Invalid(Refusal::IdToken));
    }
    check_times(&all, expected)?;
    finish(all, issuer, expected.clients)
}

/// The claims of an introspection answer (RFC 7662 §2.2), `active` removed.
/// Wrongly typed members make the answer malformed: `Unavailable`.
pub(super) fn from_introspection(mut all: Map<String, Value>, expected: &Expected<'_>) -> Result<Claims, AuthError> {
    let malformed = |reason| AuthError::Unavailable(Box::new(FetchError::Malformed { what: "introspection", reason }));
    match all.remove("active") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => return Err(AuthError::Invalid(Refusal::Inactive)),
        Some(_) => return Err(malformed("active is not a boolean")),
        None => return Err(malformed("no active member")),
    }
    check_introspection(all, expected).map_err(|refusal| match refusal {
        Fault::Invalid(reason) => AuthError::Invalid(reason),
        Fault::Malformed(reason) => malformed(reason),
    })
}

fn check_introspection(all: Map<String, Value>, expected: &Expected<'_>) -> Checked<Claims> {
    // Never accept a refresh token (or anything but an access token) as a
    // bearer token. Okta answers `Bearer` for access tokens and
    // `refresh_token` for refresh tokens, and `DPoP` for access tokens bound
    // to a key (RFC 9449 §6.2; the binding is checked by the caller).
    if let Some(kind) = string(&all, "token_type")? {
        let access = ["bearer", "dpop", "access_token", "urn:ietf:params:oauth:token-type:access_token"]
            .iter()
            .any(|name| kind.eq_ignore_ascii_case(name));
        if !access {
            return Err(Fault::Invalid(Refusal::NotAccessToken));
        }
    }
    // RFC 7662 §2.2 makes `iss` and `aud` optional, but an answer that does
    // not say the token is meant for us could be for any API the issuer
    // serves (RFC 9068 §4 step 4 for JWTs; Okta answers a refresh token with
    // neither): `aud` must name ours, and `iss`, when present, be ours.
    let issuer = match string(&all, "iss")? {
        Some(issuer) if issuer != expected.issuer => return Err(Fault::Invalid(Refusal::WrongIssuer)),
        Some(issuer) => issuer.to_owned(),
        None => expected.issuer.to_owned(),
    };
    if audience_contains(&all, expected.audience)? != Some(true) {
        return Err(Fault::Invalid(Refusal::WrongAudience));
    }
    check_times(&all, expected)?;
    finish(all, issuer, expected.clients)
}

/// `exp` (required), `nbf`, `iat`, with the leeway (RFC 7519 §4.1.4–4.1.6,
/// RFC 8725 §3.10 on skew).
fn check_times(all: &Map<String, Value>, expected: &Expected<'_>) -> Checked<()> {
    let now = expected.now;
    let leeway = expected.leeway;
    let exp = numeric_date(all, "exp")?.ok_or(Fault::Invalid(Refusal::NoExpiry))?;
    if now >= exp.saturating_add(leeway) {
        return Err(Fault::Invalid(Refusal::Expired));
    }
    if let Some(nbf) = numeric_date(all, "nbf")?
        && now.saturating_add(leeway) < nbf
    {
        return Err(Fault::Invalid(Refusal::NotYetValid));
    }
    if let Some(iat) = numeric_date(all, "iat")?
        && iat > now.saturating_add(leeway)
    {
        return Err(Fault::Invalid(Refusal::IssuedInFuture));
    }
    Ok(())
}

/// The claims every token must have, and the `Claims` made of them.
fn finish(all: Map<String, Value>, issuer: String, clients: &[String]) -> Checked<Claims> {
    let subject = string(&all, "sub")?.filter(|s| !s.is_empty()).ok_or(Fault::Invalid(Refusal::NoSubject))?.to_owned();
    // Okta: `cid`; RFC 9068 §2.2 and RFC 7662 §2.2: `client_id`.
    let client_id = match string(&all, "cid")? {
        Some(cid) => Some(cid.to_owned()),
        None => string(&all, "client_id")?.map(str::to_owned),
    };
    // The allow-list (okta_jwt_verifier's `client_ids`): a token of another
    // client, or naming none, is refused.
    if !clients.is_empty() && !client_id.as_ref().is_some_and(|id| clients.contains(id)) {
        return Err(Fault::Invalid(Refusal::OtherClient));
    }
    let user_id = string(&all, "uid")?.map(str::to_owned);
    // Okta: `scp`, an array; RFC 9068 §2.2.3 and RFC 7662 §2.2: `scope`, a
    // space-separated string (RFC 6749 §3.3).
    let scopes = match member(&all, "scp") {
        Some(scp) => scope_list(scp)?,
        None => member(&all, "scope").map(scope_list).transpose()?.unwrap_or_default(),
    };
    let expires_at = numeric_date(&all, "exp")?.ok_or(Fault::Invalid(Refusal::NoExpiry))?;
    Ok(Claims { subject, client_id, user_id, scopes, issuer, expires_at, all })
}

/// A member, `null` counting as absent (introspection answers carry
/// `"uid": null` for clients acting for themselves).
fn member<'a>(all: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    all.get(name).filter(|value| !value.is_null())
}

/// A string member; present with another type is malformed.
fn string<'a>(all: &'a Map<String, Value>, name: &str) -> Checked<Option<&'a str>> {
    match member(all, name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(Fault::Malformed("a claim has the wrong type")),
    }
}

/// Whether `aud` (a string or an array of strings, RFC 7519 §4.1.3) names
/// `ours`; `None` when there is no `aud`.
fn audience_contains(all: &Map<String, Value>, ours: &str) -> Checked<Option<bool>> {
    match member(all, "aud") {
        None => Ok(None),
        Some(Value::String(aud)) => Ok(Some(aud == ours)),
        Some(Value::Array(list)) => {
            let mut found = false;
            for aud in list {
                match aud {
                    Value::String(aud) => found |= aud == ours,
                    _ => return Err(Fault::Malformed("aud is not a string or an array of strings")),
                }
            }
            Ok(Some(found))
        }
        Some(_) => Err(Fault::Malformed("aud is not a string or an array of strings")),
    }
}

/// A `NumericDate` (RFC 7519 §2): seconds, possibly fractional (floored).
fn numeric_date(all: &Map<String, Value>, name: &str) -> Checked<Option<i64>> {
    let Some(value) = member(all, name) else {
        return Ok(None);
    };
    let bad = Fault::Malformed("a time claim is not a number");
    let Value::Number(number) = value else {
        return Err(bad);
    };
    if let Some(seconds) = number.as_i64() {
        return Ok(Some(seconds));
    }
    match number.as_f64() {
        #[allow(clippy::cast_possible_truncation)] // range checked just before
        Some(seconds) if seconds.is_finite() && seconds.abs() < 9.0e15 => Ok(Some(seconds.floor() as i64)),
        _ => Err(bad),
    }
}

/// Scopes from an array of strings or a space-separated string.
fn scope_list(value: &Value) -> Checked<Vec<String>> {
    match value {
        Value::String(scope) => Ok(scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()),
        Value::Array(list) => list
            .iter()
            .map(|scope| match scope {
                Value::String(scope) => Ok(scope.clone()),
                _ => Err(Fault::Malformed("a scope is not a string")),
            })
            .collect(),
        _ => Err(Fault::Malformed("the scope is not a string or an array of strings")),
    }
}
