//! Authorization policy: an optional Rego policy evaluated in-process with
//! `regorus`, or an external Open Policy Agent server. Either way the input
//! is the already-validated claims, the method and the path (as segments and
//! as one string), and the access token itself, in two shapes: the items
//! API's own (`claims`, `scopes`, `subject`, `owner`, `method`, `path`) and
//! the OPA tutorials' (`method`, `api`, `jwt`, the token decoded in Rego
//! with `io.jwt.decode`). The rules read are `allow` and `see_all` in the
//! package `POLICY_QUERY` names (`data.items` unless set), and anything but
//! an explicit `allow = true` denies.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use crate::auth::Claims;

/// The rule that must be `true` for a request to go on, in the default package.
pub const ALLOW_RULE: &str = "data.items.allow";
/// An optional rule that, when `true`, lets the caller see everyone's items
/// (in the default package).
pub const SEE_ALL_RULE: &str = "data.items.see_all";
/// The package whose `allow` and `see_all` decide unless `POLICY_QUERY` names another.
pub const DEFAULT_PACKAGE: &str = "data.items";

/// The Rego package whose rules decide (`POLICY_QUERY`, e.g.
/// `data.httpapi.authz`): a dotted reference under `data`, each part a Rego
/// identifier. Its `allow` must be `true` for a request to go on; its
/// optional `see_all` lets the caller see everyone's items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyPackage {
    /// `data.` and the parts, e.g. `data.httpapi.authz`.
    reference: String,
}

/// Why a `POLICY_QUERY` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// Not `data.` followed by dot-separated identifiers.
    #[error(
        "{0:?} is not a Rego package reference such as data.httpapi.authz (data. and then names of letters, \
         digits and _, separated by dots)"
    )]
    NotAReference(String),
    /// It names the `allow` rule rather than its package.
    #[error("{given:?} names the allow rule; name its package: {package}")]
    NamesTheRule {
        /// What was given.
        given: String,
        /// The package to name instead.
        package: String,
    },
}

impl Default for PolicyPackage {
    fn default() -> Self {
        Self { reference: DEFAULT_PACKAGE.to_owned() }
    }
}

impl PolicyPackage {
    /// Checks `text` (surrounding spaces ignored).
    ///
    /// # Errors
    /// [`PackageError`] for anything but `data.` and dot-separated identifiers,
    /// and for a reference ending in `.allow` (the rule, not its package).
    pub fn parse(text: &str) -> Result<Self, PackageError> {
        let text = text.trim();
        let identifier = |part: &str| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let parts = text.strip_prefix("data.").map(|rest| rest.split('.').collect::<Vec<_>>());
        let Some(parts) = parts.filter(|parts| parts.iter().all(|part| identifier(part))) else {
            return Err(PackageError::NotAReference(text.to_owned()));
        };
        if parts.len() > 1 && parts.last() == Some(&"allow") {
            let package = text.strip_suffix(".allow").unwrap_or(text).to_owned();
            return Err(PackageError::NamesTheRule { given: text.to_owned(), package });
        }
        Ok(Self { reference: text.to_owned() })
    }

    /// The reference, e.g. `data.httpapi.authz`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.reference
    }

    /// The package as a Rego file declares it, e.g. `httpapi.authz`.
    #[must_use]
    pub fn name(&self) -> &str {
        self.reference.strip_prefix("data.").unwrap_or(&self.reference)
    }

    /// A rule of the package, e.g. `data.httpapi.authz.allow`.
    fn rule(&self, rule: &str) -> String {
        format!("{}.{rule}", self.reference)
    }

    /// OPA's data API URL for the package at `server` (OPA's address, e.g.
    /// `http://127.0.0.1:8181`, any path prefix kept): `…/v1/data/httpapi/authz`.
    #[must_use]
    pub fn opa_url(&self, server: &Url) -> Url {
        let mut url = server.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/v1/data/{}", self.name().replace('.', "/")));
        url
    }

    /// Whether an OPA data API URL asks for this package (or its `allow`
    /// rule), judging only URLs whose path starts with `/v1/data/`: `None`
    /// for other URLs (a proxy in front of OPA may map paths its own way).
    #[must_use]
    pub fn matches_opa_url(&self, url: &Url) -> Option<bool> {
        let asked = url.path().strip_prefix("/v1/data/")?.trim_end_matches('/');
        let package = self.name().replace('.', "/");
        Some(asked == package || asked.strip_suffix("/allow") == Some(package.as_str()))
    }
}

impl fmt::Display for PolicyPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reference)
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The Rego file could not be read or compiled.
    #[error("cannot load the policy {path}: {message}")]
    Load {
        /// The file.
        path: String,
        /// regorus's message.
        message: String,
    },
    /// The Rego file has no rules in the package that decides.
    #[error(
        "the policy {path} has no package {package} (POLICY_QUERY=data.{package}); it has {found}: name one of \
         them in POLICY_QUERY, or change the file's package line"
    )]
    NoPackage {
        /// The file.
        path: String,
        /// The package asked for, e.g. `httpapi.authz`.
        package: String,
        /// The packages the file has, e.g. `data.items`.
        found: String,
    },
    /// The HTTP client for OPA could not be built.
    #[error("cannot build the HTTP client for OPA")]
    Client(#[source] reqwest::Error),
}

/// What the policy decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The request may go on.
    pub allow: bool,
    /// The caller sees and changes everyone's items.
    pub see_all: bool,
}

impl Decision {
    const DENY: Self = Self { allow: false, see_all: false };
}

/// The configured policy.
#[derive(Debug, Clone)]
pub enum Policy {
    /// No policy: scopes alone decide.
    None,
    /// A Rego policy evaluated in-process, `io.jwt.decode` included.
    Rego {
        /// The compiled policy.
        engine: Box<regorus::Engine>,
        /// The package whose `allow` and `see_all` decide.
        package: PolicyPackage,
    },
    /// An OPA server: `POST {url}` with `{"input": …}`; the answer's
    /// `result` is either a boolean (the URL names the `allow` rule, as in
    /// `…/v1/data/httpapi/authz/allow`) or an object whose `allow` and
    /// `see_all` are read (the URL names the package).
    Opa {
        /// The data API URL, e.g. `http://127.0.0.1:8181/v1/data/items`.
        url: Url,
        /// A client with a timeout and no redirects.
        http: reqwest::Client,
    },
}

/// A request's path as the handlers see it: its segments percent-decoded
/// (RFC 3986 §2.1), as axum decodes the route parameters the handlers take.
///
/// Only one spelling of each path is taken, so that a policy rule about an
/// item cannot be stepped around with another spelling of its id
/// (`/v1/items/%30193…` for `/v1/items/0193…`): a percent-encoded
/// character that needs no encoding (an unreserved one, RFC 3986 §2.3) or
/// an encoded `/` (which would make one segment look like two, or two like
/// one), a `%` not followed by two hex digits, and segments that do not
/// decode to UTF-8 are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath {
    segments: Vec<String>,
}

/// Why a path was refused by [`CanonicalPath::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// `%` not followed by two hex digits (RFC 3986 §2.1).
    #[error("the path has a % that is not followed by two hex digits")]
    BadEscape,
    /// A percent-encoded unreserved character (RFC 3986 §2.3: such URIs are
    /// equivalent to the decoded one and should not be produced).
    #[error("the path percent-encodes a character that needs no encoding")]
    NeedlessEscape,
    /// A percent-encoded `/` (`%2F`), which would be taken as part of a segment.
    #[error("the path has an encoded /")]
    EncodedSlash,
    /// A segment that does not decode to UTF-8.
    #[error("the path is not UTF-8 once decoded")]
    NotUtf8,
}

impl CanonicalPath {
    /// Decodes `raw`, a request target's path (without its query).
    ///
    /// # Errors
    /// A [`PathError`] for a spelling that is not the canonical one.
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        let segments =
            raw.split('/').filter(|segment| !segment.is_empty()).map(decode_segment).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { segments })
    }

    /// The decoded segments, empty ones left out.
    #[must_use]
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The decoded path as one string, `/` and the segments joined by `/`
    /// (`/v1/items/0193…`; `/` for the root). Unambiguous: no segment holds
    /// a `/` (an encoded one is refused).
    #[must_use]
    pub fn to_path_string(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }
}

fn decode_segment(segment: &str) -> Result<String, PathError> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            decoded.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
            return Err(PathError::BadEscape);
        };
        let byte = u8::try_from(high * 16 + low).map_err(|_| PathError::BadEscape)?;
        if byte == b'/' {
            return Err(PathError::EncodedSlash);
        }
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            return Err(PathError::NeedlessEscape);
        }
        decoded.push(byte);
        i += 3;
    }
    String::from_utf8(decoded).map_err(|_| PathError::NotUtf8)
}

/// The policy input: `{claims, scopes, subject, owner, method, path, api, jwt}`,
/// `owner` being the immutable user id items are owned by (Okta's `uid`, else
/// `sub`: rules about people should name it, not the renamable `subject`),
/// `path` the decoded segments and `api` the same decoded path as one string
/// (the values the handlers use, never the raw path, so that no other
/// spelling steps around a rule), and `jwt` the access token as the request
/// presented it, for policies written for OPA's tutorials that decode it
/// with `io.jwt.decode`. Only a token that passed validation gets here.
#[must_use]
pub fn input(claims: &Claims, token: &str, method: &str, path: &CanonicalPath) -> Value {
    json!({
        "claims": claims.all,
        "scopes": claims.scopes,
        "subject": claims.subject,
        "owner": crate::model::Owner::of(claims).id,
        "method": method,
        "path": path.segments(),
        "api": path.to_path_string(),
        "jwt": token,
    })
}

impl Policy {
    /// Compiles a Rego file whose `package` decides.
    ///
    /// # Errors
    /// When the file cannot be read, does not compile or has no rules in `package`.
    pub fn rego_file(path: &Path, package: &PolicyPackage) -> Result<Self, PolicyError> {
        let load = |message: String| PolicyError::Load { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| load(e.to_string()))?;
        Self::rego_in(&path.display().to_string(), &text, package)
    }

    /// Compiles Rego text whose package `items` decides.
    ///
    /// # Errors
    /// When it does not compile or has no package `items`.
    pub fn rego(name: &str, text: &str) -> Result<Self, PolicyError> {
        Self::rego_in(name, text, &PolicyPackage::default())
    }

    /// Compiles Rego text whose `package` decides.
    ///
    /// # Errors
    /// When it does not compile or has no rules in `package`.
    pub fn rego_in(name: &str, text: &str, package: &PolicyPackage) -> Result<Self, PolicyError> {
        let load = |message: String| PolicyError::Load { path: name.to_owned(), message };
        let mut engine = regorus::Engine::new();
        engine.add_policy(name.to_owned(), text.to_owned()).map_err(|e| load(e.to_string()))?;
        // Not among regorus's builtins: the tutorials' policies decode the token with it.
        engine.add_extension("io.jwt.decode".to_owned(), 1, Box::new(jwt_decode)).map_err(|e| load(e.to_string()))?;
        let found = engine.get_packages().map_err(|e| load(e.to_string()))?;
        if !found.iter().any(|p| p == package.as_str()) {
            return Err(PolicyError::NoPackage {
                path: name.to_owned(),
                package: package.name().to_owned(),
                found: if found.is_empty() { "none".to_owned() } else { found.join(", ") },
            });
        }
        Ok(Self::Rego { engine: Box::new(engine), package: package.clone() })
    }

    /// An external OPA server, reached trusting and proxying as `net` says.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn opa(url: Url, timeout: Duration, net: &net::NetSettings) -> Result<Self, PolicyError> {
        let http = net
            .client_builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(PolicyError::Client)?;
        Ok(Self::Opa { url, http })
    }

    /// Decides a request. Errors and undefined results deny.
    pub async fn decide(&self, input: &Value) -> Decision {
        match self {
            Self::None => Decision { allow: true, see_all: false },
            Self::Rego { engine, package } => rego_decide(engine, package, input),
            Self::Opa { url, http } => opa_decide(url, http, input).await,
        }
    }
}

fn rego_decide(engine: &regorus::Engine, package: &PolicyPackage, input: &Value) -> Decision {
    // Cloning shares the compiled policy; each request gets its own input.
    let mut engine = engine.clone();
    let Ok(rego_input) = regorus::Value::from_json_str(&input.to_string()) else {
        return Decision::DENY;
    };
    engine.set_input(rego_input);
    let allow_rule = package.rule("allow");
    let mut rule_is_true = |rule: &str| match engine.eval_rule(rule.to_owned()) {
        Ok(regorus::Value::Bool(value)) => value,
        Ok(_) => false,
        Err(error) => {
            // A missing optional rule is an error in regorus: log only real
            // failures, and never the token (a message may quote a value).
            if rule == allow_rule {
                let error = redact_token(&error.to_string(), input);
                tracing::warn!(%error, "policy evaluation failed: denying");
            }
            false
        }
    };
    let allow = rule_is_true(&allow_rule);
    let see_all = allow && rule_is_true(&package.rule("see_all"));
    Decision { allow, see_all }
}

/// `message` with the input's token, if it quotes it, replaced.
fn redact_token(message: &str, input: &Value) -> String {
    match input.get("jwt").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => message.replace(token, "[token]"),
        _ => message.to_owned(),
    }
}

/// Rego's `io.jwt.decode(token)` as OPA defines it: `[header, payload,
/// signature]`, the header and payload JSON objects, the signature in
/// lowercase hex, nothing verified (here the token was, before the policy
/// runs). A token that is not a JWS compact serialization (RFC 7515 §7.1) of
/// JSON objects, or an encrypted one (a JWE, RFC 7516), is an error, which
/// denies.
fn jwt_decode(params: Vec<regorus::Value>) -> anyhow::Result<regorus::Value> {
    let Some(token) = params.first() else { anyhow::bail!("io.jwt.decode takes one argument") };
    let token = token.as_string().map_err(|_| anyhow::anyhow!("io.jwt.decode: the token must be a string"))?;
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        anyhow::bail!("io.jwt.decode: not a JWT (a JWS in compact form has three parts)");
    };
    let bytes = |part: &str, what: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| anyhow::anyhow!("io.jwt.decode: the {what} is not base64url"))
    };
    let object = |part: &str, what: &str| -> anyhow::Result<regorus::Value> {
        let json: Value = serde_json::from_slice(&bytes(part, what)?)
            .map_err(|_| anyhow::anyhow!("io.jwt.decode: the {what} is not JSON"))?;
        if !json.is_object() {
            anyhow::bail!("io.jwt.decode: the {what} is not a JSON object");
        }
        regorus::Value::from_json_str(&json.to_string())
    };
    let header = object(header, "header")?;
    if header["enc"] != regorus::Value::Undefined {
        anyhow::bail!("io.jwt.decode: the token is encrypted (a JWE), which is not supported");
    }
    let payload = object(payload, "payload")?;
    let signature: String = bytes(signature, "signature")?.iter().map(|b| format!("{b:02x}")).collect();
    Ok(regorus::Value::from(vec![header, payload, regorus::Value::from(signature)]))
}

async fn opa_decide(url: &Url, http: &reqwest::Client, input: &Value) -> Decision {
    let response = match http.post(url.clone()).json(&json!({ "input": input })).send().await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => {
            tracing::warn!(status = %response.status(), "OPA refused the query: denying");
            return Decision::DENY;
        }
        Err(error) => {
            tracing::warn!(%error, "OPA unreachable: denying");
            return Decision::DENY;
        }
    };
    let Ok(answer) = response.json::<Value>().await else {
        tracing::warn!("OPA answered something other than JSON: denying");
        return Decision::DENY;
    };
    opa_answer(&answer)
}

/// The decision in OPA's answer: `result` a boolean (the URL named the
/// `allow` rule) or an object with `allow` (and `see_all`) (the URL named
/// the package); anything else, an undefined `result` included, denies.
fn opa_answer(answer: &Value) -> Decision {
    match answer.get("result") {
        Some(Value::Bool(allow)) => Decision { allow: *allow, see_all: false },
        Some(result @ Value::Object(_)) => {
            let flag = |name: &str| result.get(name) == Some(&Value::Bool(true));
            let allow = flag("allow");
            Decision { allow, see_all: allow && flag("see_all") }
        }
        _ => {
            tracing::warn!("OPA's answer has neither a boolean result nor one with allow: denying");
            Decision::DENY
        }
    }
}

#[cfg(test)]
mod tests;
