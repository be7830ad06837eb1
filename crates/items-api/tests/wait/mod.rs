//! Time limits for the waits in these tests: a broken check must fail a
//! test with a message, not hang it (issue 24, item 4). The same shape as
//! the sign-in tests' `wait` module.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

/// How long any one wait on a listener, a browser, the provider, a database
/// or a spawned task may take before the test fails. Generous: CI machines
/// are slow.
pub const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// How long any one of the tests' own HTTP requests may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test with `what` if it takes longer than
/// [`WAIT_LIMIT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    within_limit(WAIT_LIMIT, what, future).await
}

/// Awaits `future`, failing the test with `what` if it takes longer than
/// `limit`.
pub async fn within_limit<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future).await.unwrap_or_else(|_| panic!("timed out after {limit:?}: {what}"))
}

/// An HTTP client for the tests' own requests: each bounded by
/// [`REQUEST_TIMEOUT`], redirects not followed.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client")
}
