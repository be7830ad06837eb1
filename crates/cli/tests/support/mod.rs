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
