//! The items API under attack, over real HTTP on loopback, in both
//! validation modes (local JWKS and RFC 7662 introspection): dev-idp on port
//! 0 issues real tokens and signs forged ones with its own key; the API runs
//! on port 0 over a fresh SQLite file.
//!
//! - `corpus`: the hostile corpus (SECURITY.md, "Resource server"), one
//!   table with the exact status and challenge per mode; one test per mode.
//! - `load`: good requests alone, then with as many hostile ones; the p99 of
//!   the good ones, the server's health and the issuer traffic afterwards.
//! - `flood`: 500 different made-up tokens at an API that introspects cost
//!   the issuer at most the introspection bucket (counted at the issuer).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;
mod flood;
mod harness;
mod load;
#[path = "../tokens/mod.rs"]
mod tokens;
use testkit as wait;
