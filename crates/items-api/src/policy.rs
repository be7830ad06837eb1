//! Authorization policy: an optional Rego policy evaluated in-process with
//! `regorus`, or an external Open Policy Agent server. Either way the input
//! is the already-validated claims, the method and the path segments, and
//! anything but an explicit `allow = true` denies.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use crate::auth::Claims;

/// The rule that must be `true` for a request to go on.
pub const ALLOW_RULE: &str = "data.items.allow";
/// An optional rule that, when `true`, lets the caller see everyone's items.
pub const SEE_ALL_RULE: &str = "data.items.see_all";

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
    /// A Rego policy evaluated in-process.
    Rego(Box<regorus::Engine>),
    /// An OPA server: `POST {url}` with `{"input": …}`; the answer's
    /// `result.allow` and `result.see_all` are read.
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

/// The policy input: `{claims, scopes, subject, owner, method, path}`,
/// `owner` being the immutable user id items are owned by (Okta's `uid`, else
/// `sub`: rules about people should name it, not the renamable `subject`),
/// `path` the decoded segments (the values the handlers use, never the raw path).
#[must_use]
pub fn input(claims: &Claims, method: &str, path: &CanonicalPath) -> Value {
    json!({
        "claims": claims.all,
        "scopes": claims.scopes,
        "subject": claims.subject,
        "owner": crate::model::Owner::of(claims).id,
        "method": method,
        "path": path.segments(),
    })
}

impl Policy {
    /// Compiles a Rego file.
    ///
    /// # Errors
    /// When the file cannot be read or does not compile.
    pub fn rego_file(path: &Path) -> Result<Self, PolicyError> {
        let load = |message: String| PolicyError::Load { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| load(e.to_string()))?;
        Self::rego(&path.display().to_string(), &text).map_err(|e| match e {
            PolicyError::Load { message, .. } => load(message),
            other => other,
        })
    }

    /// Compiles Rego text.
    ///
    /// # Errors
    /// When it does not compile.
    pub fn rego(name: &str, text: &str) -> Result<Self, PolicyError> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(name.to_owned(), text.to_owned())
            .map_err(|e| PolicyError::Load { path: name.to_owned(), message: e.to_string() })?;
        Ok(Self::Rego(Box::new(engine)))
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
            Self::Rego(engine) => rego_decide(engine, input),
            Self::Opa { url, http } => opa_decide(url, http, input).await,
        }
    }
}

fn rego_decide(engine: &regorus::Engine, input: &Value) -> Decision {
    // Cloning shares the compiled policy; each request gets its own input.
    let mut engine = engine.clone();
    let Ok(input) = regorus::Value::from_json_str(&input.to_string()) else {
        return Decision::DENY;
    };
    engine.set_input(input);
    let mut rule_is_true = |rule: &str| match engine.eval_rule(rule.to_owned()) {
        Ok(regorus::Value::Bool(value)) => value,
        Ok(_) => false,
        Err(error) => {
            // A missing optional rule is an error in regorus: log only real failures.
            if rule == ALLOW_RULE {
                tracing::warn!(%error, "policy evaluation failed: denying");
            }
            false
        }
    };
    let allow = rule_is_true(ALLOW_RULE);
    let see_all = allow && rule_is_true(SEE_ALL_RULE);
    Decision { allow, see_all }
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
    let flag = |name: &str| answer.pointer(&format!("/result/{name}")) == Some(&Value::Bool(true));
    let allow = flag("allow");
    Decision { allow, see_all: allow && flag("see_all") }
}

#[cfg(test)]
mod tests;
