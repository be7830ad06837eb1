//! Protocol tests: a dev-idp on 127.0.0.1 port 0, driven over real HTTP by a
//! test browser and by back-channel requests, as a client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod authorize;
mod client_assertion;
mod device;
mod discovery;
mod dpop;
mod exact_redirect;
mod host;
mod interop;
mod introspection;
mod keys;
mod limits;
mod logout;
mod org_server;
mod par;
mod rate_limits;
mod refresh;
mod token;
