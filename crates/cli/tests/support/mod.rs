//! What the CLI's test binaries share: `tessera` run as a person's machine
//! would run it, and whether a real keyring session is there.

// Each test binary uses its part.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// The `tessera` binary cargo built for these tests.
pub const TESSERA: &str = env!("CARGO_BIN_EXE_tessera");

/// `tessera args` with a private HOME (its config folder inside) as the
/// working folder, and only `env` and `PATH` in its environment: nothing of
/// the machine running the tests leaks in.
pub fn tessera<'e>(home: &Path, env: impl IntoIterator<Item = (&'e str, &'e str)>, args: &[&str]) -> Command {
    let mut command = Command::new(TESSERA);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .envs(env)
        .current_dir(home);
    command
}

/// What a run of `tessera` did.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

impl Run {
    /// The run of a process that has ended.
    pub fn of(output: std::process::Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// Its stdout as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// Several JSON documents one after the other (a demo's commands).
    pub fn json_stream(&self) -> Vec<serde_json::Value> {
        serde_json::Deserializer::from_str(&self.stdout).into_iter::<serde_json::Value>().map(Result::unwrap).collect()
    }

    /// Fails the test unless it exited with `code`.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code of {self:#?}");
        self
    }
}

/// The items API for `issuer` on a free loopback port over a SQLite file
/// in the returned folder (with the demo's items for alice and bob when
/// `demo`); answers its URL.
pub async fn items_api(issuer: &str, demo: bool) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("items.db").display());
    // Bound first: DPoP proofs name the API's PUBLIC_URL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let config = items_api::Config::load_with(None, |name| match name {
        "DEMO" if demo => Some("1".to_owned()),
        "OKTA_ISSUER" => Some(issuer.to_owned()),
        "DATABASE_URL" => Some(database.clone()),
        "PUBLIC_URL" => Some(api.clone()),
        _ => None,
    })
    .unwrap();
    let state = items_api::build(&config).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, items_api::router(state)).await });
    (api, dir)
}

/// Whether the tests that need a Secret Service can run: inside
/// `scripts/keyring-session.sh`. Where `TESSERA_REQUIRE_KEYRING=1` (CI),
/// its absence fails instead of skipping.
pub fn keyring_session() -> bool {
    if std::env::var("TESSERA_KEYRING_SESSION").is_ok_and(|v| v == "1") {
        return true;
    }
    let required = std::env::var("TESSERA_REQUIRE_KEYRING").is_ok_and(|v| v == "1");
    assert!(!required, "TESSERA_REQUIRE_KEYRING=1 but no keyring session (run inside scripts/keyring-session.sh)");
    eprintln!("skipped: needs a Secret Service (run inside scripts/keyring-session.sh)");
    false
}
