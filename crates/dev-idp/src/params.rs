//! Request parameters from a query string or a form body, read the way
//! RFC 6749 §3.1 asks: no parameter twice, an empty value counts as absent.

use axum::http::{HeaderMap, header};

use crate::error::OAuthError;

/// Parsed `application/x-www-form-urlencoded` parameters.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub(crate) fn parse(raw: &[u8]) -> Self {
        Self { pairs: form_urlencoded::parse(raw).into_owned().collect() }
    }

    /// Reads a form body, refusing other content types.
    pub(crate) fn from_form(headers: &HeaderMap, body: &[u8]) -> Result<Self, &'static str> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err("the request body must be application/x-www-form-urlencoded");
        }
        Ok(Self::parse(body))
    }

    /// The first parameter that appears more than once.
    pub(crate) fn repeated(&self) -> Option<&str> {
        self.pairs.iter().enumerate().find_map(|(i, (name, _))| {
            self.pairs[..i].iter().any(|(earlier, _)| earlier == name).then_some(name.as_str())
        })
    }

    /// Whether `name` appears more than once.
    pub(crate) fn is_repeated(&self, name: &str) -> bool {
        self.pairs.iter().filter(|(n, _)| n == name).count() > 1
    }

    /// The value of `name`; empty counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The value of `name`, required.
    ///
    /// # Errors
    /// `invalid_request` (RFC 6749 §5.2) naming the missing parameter.
    pub(crate) fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("The {name} parameter is required.")))
    }

    /// Whether `name` is present with a value.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every parameter as received, in order.
    #[cfg(feature = "testing")]
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// Splits a `scope` value (RFC 6749 §3.3) into distinct scopes, in order.
pub(crate) fn split_scope(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|known| known == s) {
            scopes.push(s.to_owned());
        }
    }
    scopes
}
