//! CORS for browser front ends (the Fetch standard's CORS protocol): off
//! unless `CORS_ORIGINS` names the origins allowed to call the API. Exact
//! origins only (`https://app.example.com`), or `*` for any; never with
//! credentials (the API reads its access token from the `Authorization`
//! header, never from a cookie, so a browser sends none). A preflight is
//! answered before authentication, the `Authorization`, `DPoP`,
//! `Content-Type` and `Idempotency-Key` request headers are allowed, and
//! `WWW-Authenticate` (the RFC 6750 challenge), `DPoP-Nonce`, `Location`,
//! `Retry-After` and `Idempotent-Replayed` are exposed to the page.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};
use url::Url;

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// Any origin (`*`).
    AnyOrigin,
    /// These origins exactly (their ASCII serialization, as browsers send
    /// `Origin`).
    Origins(Vec<String>),
}

impl Cors {
    /// Parses `value` (origins separated by commas or spaces, or `*`);
    /// `None` when it names none (CORS off).
    ///
    /// # Errors
    /// What is wrong with an entry, for the setting's message: not an
    /// `http`/`https` origin, one with a path, query, fragment or user
    /// name, `null`, or `*` beside origins.
    pub fn parse(value: &str) -> Result<Option<Self>, String> {
        let entries: Vec<&str> = value.split([',', ' ']).map(str::trim).filter(|e| !e.is_empty()).collect();
        if entries.is_empty() {
            return Ok(None);
        }
        if entries.contains(&"*") {
            return if entries.len() == 1 {
                Ok(Some(Self::AnyOrigin))
            } else {
                Err("`*` allows every origin: give it alone, or list origins".to_owned())
            };
        }
        let origins = entries.into_iter().map(origin).collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Self::Origins(origins)))
    }

    /// The layer answering preflights and adding the CORS headers.
    pub fn layer(&self) -> CorsLayer {
        let allow_origin = match self {
            Self::AnyOrigin => AllowOrigin::any(),
            Self::Origins(origins) => AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok())),
        };
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("dpop"),
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                header::WWW_AUTHENTICATE,
                header::LOCATION,
                header::RETRY_AFTER,
                HeaderName::from_static("dpop-nonce"),
                HeaderName::from_static("idempotent-replayed"),
            ])
            .allow_credentials(false)
            .max_age(PREFLIGHT_MAX_AGE)
    }
}

/// One origin, as a browser serializes it: `scheme://host[:port]`, the
/// host in lower case, no default port.
fn origin(entry: &str) -> Result<String, String> {
    if entry.eq_ignore_ascii_case("null") {
        return Err("the `null` origin (sandboxed frames, files) cannot be allowed".to_owned());
    }
    let url = Url::parse(entry).map_err(|e| format!("{entry:?} is not an origin ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{entry:?} is not an http or https origin"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{entry:?} holds a user name; an origin is scheme://host[:port]"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{entry:?} has a path, query or fragment; an origin is scheme://host[:port]"));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact_and_serialized_as_browsers_send_them() {
        assert_eq!(Cors::parse("").unwrap(), None);
        assert_eq!(Cors::parse(" , ").unwrap(), None);
        assert_eq!(Cors::parse("*").unwrap(), Some(Cors::AnyOrigin));
        assert_eq!(
            Cors::parse("https://App.Example.com, http://127.0.0.1:3000/ https://a.example:443").unwrap(),
            Some(Cors::Origins(vec![
                "https://app.example.com".into(),
                "http://127.0.0.1:3000".into(),
                "https://a.example".into()
            ]))
        );
        for bad in [
            "*, https://a.example",
            "null",
            "ftp://a.example",
            "https://a.example/app",
            "https://a.example?x=1",
            "https://user@a.example",
            "a.example",
            "file:///tmp/x",
        ] {
            assert!(Cors::parse(bad).is_err(), "{bad:?} was taken");
        }
    }
}
