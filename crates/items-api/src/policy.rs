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

/// The policy input: `{claims, scopes, subject, method, path}`.
#[must_use]
pub fn input(claims: &Claims, method: &str, path: &str) -> Value {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    json!({
        "claims": claims.all,
        "scopes": claims.scopes,
        "subject": claims.subject,
        "method": method,
        "path": segments,
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

    /// An external OPA server.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn opa(url: Url, timeout: Duration) -> Result<Self, PolicyError> {
        let http = reqwest::Client::builder()
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
