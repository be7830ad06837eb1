//! The items API end to end: dev-idp on port 0 issues real tokens, the API
//! runs on port 0 over a real SQLite file, and requests go over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../shared/postgres.rs"]
mod postgres_db;
mod support;
use testkit as wait;

mod crud;
mod docs;
mod dpop;
mod errors;
mod faults;
mod modes;
mod owners;
mod policy;
mod postgres;
mod settings;
mod tutorial_policy;
mod tutorials;
