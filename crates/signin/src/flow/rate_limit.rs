//! The provider limiting requests (HTTP 429, RFC 6585 §4): when it may be
//! asked again. Okta answers with `X-Rate-Limit-Limit`,
//! `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (the window's end, Unix
//! seconds); other servers with `Retry-After` (RFC 9110 §10.2.3: seconds,
//! or an HTTP date). A reset or a date is measured against the provider's
//! own `Date` header when it sends one, so that a clock on this machine that
//! is off does not change the wait.

use std::time::{Duration, SystemTime};

use reqwest::header::{DATE, HeaderMap, RETRY_AFTER};

/// The longest wait a 429 is taken to ask for: a larger one (or a reset
/// hours away) is capped, so that a wrong header cannot park a sign-in for
/// days.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// The wait when a 429 says nothing usable about it: Okta's windows are a
/// minute long.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// The shortest wait: a reset already past (or `Retry-After: 0`) still
/// waits this long, so that a client does not hammer a limiting provider.
pub const MIN_WAIT: Duration = Duration::from_secs(1);

/// The provider answered 429: it is limiting requests, and may be asked
/// again after `wait` (counted from when the answer arrived).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the provider is limiting requests; try again in {}", in_words(*wait))]
pub struct RateLimited {
    /// How long to wait before asking again, from [`MIN_WAIT`] to
    /// [`MAX_WAIT`].
    pub wait: Duration,
}

impl RateLimited {
    /// The wait a 429's `headers` ask for ([`wait_from_headers`]), or
    /// [`DEFAULT_WAIT`] when they say nothing usable.
    #[must_use]
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Self {
        Self { wait: wait_from_headers(headers, now).unwrap_or(DEFAULT_WAIT) }
    }
}

/// The wait a 429's `headers` ask for: `Retry-After` (seconds, or an HTTP
/// date), else `X-Rate-Limit-Reset` (Unix seconds); a date or a reset is
/// measured from the answer's `Date` when it has one, else from `now` (this
/// machine's clock). Between [`MIN_WAIT`] and [`MAX_WAIT`]; `None` when
/// neither header is there or readable.
#[must_use]
pub fn wait_from_headers(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let provider_now = text(DATE.as_str()).and_then(|d| httpdate::parse_http_date(d).ok()).unwrap_or(now);
    let until = |at: SystemTime| at.duration_since(provider_now).unwrap_or(Duration::ZERO);
    let wait = text(RETRY_AFTER.as_str())
        .and_then(|value| match seconds(value) {
            Some(seconds) => Some(Duration::from_secs(seconds)),
            None => httpdate::parse_http_date(value).ok().map(until),
        })
        .or_else(|| {
            let reset = seconds(text("x-rate-limit-reset")?)?;
            Some(until(SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(reset))?))
        })
        // A reset too far for the clock is the cap.
        .or_else(|| text("x-rate-limit-reset").and_then(seconds).map(|_| MAX_WAIT))?;
    Some(wait.clamp(MIN_WAIT, MAX_WAIT))
}

/// A whole number of seconds (digits only); one too large for `u64` is
/// `u64::MAX` (the cap takes it).
fn seconds(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// `42 s`, or `3 min` for two minutes and more (rounded up: never `0 s`).
#[must_use]
pub fn in_words(wait: Duration) -> String {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if seconds < 120 { format!("{} s", seconds.max(1)) } else { format!("{} min", seconds.div_ceil(60)) }
}

#[cfg(test)]
mod tests;
