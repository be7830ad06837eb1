//! End-to-end tests of the sign-in flows against dev-idp on port 0, over real
//! HTTP, with an HTTP-driver browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod checks;
mod deep_link;
mod device;
mod id_token;
mod loopback;
mod par;
mod refresh;
mod result_pages;
mod signed_out;
mod support;
