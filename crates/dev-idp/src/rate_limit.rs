//! Okta-style rate limits (see [`RateLimitConfig`]): a fixed window of one
//! calendar minute of the provider's clock for each endpoint family, with
//! `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset`
//! (Unix seconds) on every answer and `429 Too Many Requests` past the limit,
//! with `Retry-After` (seconds to the reset) and the provider's `Date`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[cfg(doc)]
use crate::config::RateLimitConfig;
use crate::error::{ErrorCode, OAuthError};
use crate::provider::Provider;

/// Requests counted in the current window of each endpoint family.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    /// Its first second (Unix).
    start: u64,
    used: u64,
}

/// What one request was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Count {
    allowed: bool,
    limit: u64,
    remaining: u64,
    /// The end of the window (Unix seconds).
    reset: u64,
}

impl RateLimiter {
    /// Counts one request of `family` at `now` (Unix seconds) against `limit`
    /// in windows of `window` seconds.
    fn take(&self, family: &str, limit: u64, window: u64, now: u64) -> Count {
        let window_secs = window.max(1);
        let start = now - now % window_secs;
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.entry(family.to_owned()).or_insert(Window { start, used: 0 });
        if window.start != start {
            *window = Window { start, used: 0 };
        }
        let allowed = window.used < limit;
        if allowed {
            window.used += 1;
        }
        Count { allowed, limit, remaining: limit.saturating_sub(window.used), reset: start + window_secs }
    }
}

/// The endpoint family of a request path: the endpoint's name after `/v1/`,
/// `discovery` for the metadata documents, else the page's name; `None` for
/// what is not counted (the testing admin call).
fn family(path: &str) -> Option<&str> {
    if path.starts_with("/admin/") {
        return None;
    }
    if path.contains("/.well-known/") {
        return Some("discovery");
    }
    match path.split_once("/v1/") {
        Some((_, endpoint)) => Some(endpoint),
        None => path.rsplit('/').next().filter(|name| !name.is_empty()),
    }
}

/// The middleware: counts the request when the limits are on, answers 429
/// past the limit, and adds the headers to every counted answer.
pub(crate) async fn limit(State(provider): State<Provider>, request: Request, next: Next) -> Response {
    let limits = &provider.config().rate_limits;
    if !limits.enabled {
        return next.run(request).await;
    }
    let Some(family) = family(request.uri().path()).map(str::to_owned) else {
        return next.run(request).await;
    };
    let now = provider.now_unix();
    let count = provider.rate_limiter().take(&family, limits.limit_of(&family), limits.window_secs, now);
    let mut response = if count.allowed {
        next.run(request).await
    } else {
        tracing::warn!(%family, limit = count.limit, "rate limit reached");
        let mut refusal = OAuthError::new(
            ErrorCode::TooManyRequests,
            format!(
                "Too many requests to {family}: the limit is {} in {} s; try again at {} (X-Rate-Limit-Reset).",
                count.limit, limits.window_secs, count.reset
            ),
        )
        .into_response();
        let headers = refusal.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from(count.reset.saturating_sub(now)));
        // The reset is on the provider's clock (a test's may be moved): its
        // Date too, so that a client measures one against the other.
        let date = httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(now));
        if let Ok(date) = HeaderValue::from_str(&date) {
            headers.insert(header::DATE, date);
        }
        refusal
    };
    add_headers(response.headers_mut(), count);
    response
}

fn add_headers(headers: &mut HeaderMap, count: Count) {
    for (name, value) in [
        ("x-rate-limit-limit", count.limit),
        ("x-rate-limit-remaining", count.remaining),
        ("x-rate-limit-reset", count.reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_down_refuses_past_the_limit_and_starts_again_at_the_next_minute() {
        let limiter = RateLimiter::default();
        let at = 1_700_000_040; // 40 s past a minute
        let first = limiter.take("token", 2, 60, at);
        assert_eq!(first, Count { allowed: true, limit: 2, remaining: 1, reset: 1_700_000_100 });
        assert!(limiter.take("token", 2, 60, at + 1).allowed);
        let refused = limiter.take("token", 2, 60, at + 59);
        assert_eq!(refused, Count { allowed: false, limit: 2, remaining: 0, reset: 1_700_000_100 });
        assert!(limiter.take("keys", 2, 60, at + 59).allowed, "families count apart");
        let next = limiter.take("token", 2, 60, at + 60);
        assert_eq!(next, Count { allowed: true, limit: 2, remaining: 1, reset: 1_700_000_160 });
    }

    #[test]
    fn a_shorter_window_resets_sooner() {
        let limiter = RateLimiter::default();
        let at = 1_700_000_041; // odd: one second into a two-second window
        assert!(limiter.take("token", 1, 2, at - 1).allowed);
        assert_eq!(limiter.take("token", 1, 2, at), Count { allowed: false, limit: 1, remaining: 0, reset: at + 1 });
        assert!(limiter.take("token", 1, 2, at + 1).allowed);
    }

    #[test]
    fn families_are_endpoint_names_pages_or_discovery() {
        assert_eq!(family("/oauth2/default/v1/token"), Some("token"));
        assert_eq!(family("/oauth2/v1/token"), Some("token"));
        assert_eq!(family("/oauth2/default/v1/device/authorize"), Some("device/authorize"));
        assert_eq!(family("/oauth2/default/.well-known/openid-configuration"), Some("discovery"));
        assert_eq!(family("/.well-known/openid-configuration"), Some("discovery"));
        assert_eq!(family("/oauth2/default/sign-in"), Some("sign-in"));
        assert_eq!(family("/activate"), Some("activate"));
        assert_eq!(family("/admin/rotate-keys"), None);
    }
}
