//! The redirect back from the provider, read (RFC 6749 §4.1.2, §4.1.2.1;
//! RFC 9207 §2).

use openidconnect::AuthorizationCode;
use url::Url;

use super::error::SigninError;

/// The parameters of the redirect back from the provider (RFC 6749 §4.1.2,
/// §4.1.2.1; RFC 9207 §2). `Debug` does not print the code.
#[derive(Clone, Default)]
pub struct Callback {
    pub(super) code: Option<AuthorizationCode>,
    pub(super) state: Option<String>,
    pub(super) iss: Option<String>,
    pub(super) error: Option<String>,
    pub(super) error_description: Option<String>,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish_non_exhaustive()
    }
}

impl Callback {
    /// Reads the query string of a redirect. A parameter given twice is
    /// refused (RFC 6749 §3.1).
    ///
    /// # Errors
    /// [`SigninError::BadCallback`] on a repeated parameter.
    pub fn from_query(query: &str) -> Result<Self, SigninError> {
        let mut callback = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => {
                    if callback.code.is_some() {
                        return Err(SigninError::BadCallback("the parameter code appears twice".to_owned()));
                    }
                    callback.code = Some(AuthorizationCode::new(value.into_owned()));
                    continue;
                }
                "state" => &mut callback.state,
                "iss" => &mut callback.iss,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                _ => continue,
            };
            if slot.is_some() {
                return Err(SigninError::BadCallback(format!("the parameter {name} appears twice")));
            }
            *slot = Some(value.into_owned());
        }
        Ok(callback)
    }

    /// Reads a redirect URL's query.
    ///
    /// # Errors
    /// As [`Callback::from_query`].
    pub fn from_url(url: &Url) -> Result<Self, SigninError> {
        Self::from_query(url.query().unwrap_or(""))
    }

    /// The `state` parameter.
    #[must_use]
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The fields read, as a query string again (fuzzing checks the reading).
    #[doc(hidden)]
    #[must_use]
    pub fn to_query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.fields() {
            if let Some(value) = value {
                query.append_pair(name, &value);
            }
        }
        query.finish()
    }

    /// Every field read, the code's value included (fuzzing compares them).
    #[doc(hidden)]
    #[must_use]
    pub fn fields(&self) -> [(&'static str, Option<String>); 5] {
        [
            ("code", self.code.as_ref().map(|c| c.secret().clone())),
            ("state", self.state.clone()),
            ("iss", self.iss.clone()),
            ("error", self.error.clone()),
            ("error_description", self.error_description.clone()),
        ]
    }

    /// Whether this looks like an authorization response at all (it has a
    /// code or an error).
    #[must_use]
    pub fn is_response(&self) -> bool {
        self.code.is_some() || self.error.is_some()
    }
}
