//! The desktop binary's command line: `--version` and `--help` answer
//! without a display, a bus or a window.

use std::process::Command;

fn run(arg: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tessera-desktop"))
        .arg(arg)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap_or_else(|e| panic!("cannot run tessera-desktop: {e}"))
}

#[test]
fn version_prints_the_package_version() {
    for arg in ["--version", "-V"] {
        let out = run(arg);
        assert!(out.status.success(), "{arg}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("Tessera {}\n", env!("CARGO_PKG_VERSION")));
        assert!(out.stderr.is_empty(), "{arg}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn help_describes_the_link_argument_and_the_logs() {
    let out = run("--help");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Tessera: sign in"), "{text}");
    for expected in ["--version", "com.example.tessera:/callback", "TESSERA_LOG_DIR", "demo mode"] {
        assert!(text.contains(expected), "no {expected} in:\n{text}");
    }
}

/// The packages' `/usr/bin/tessera` runs `tessera-desktop --cli …`: the
/// same CLI as the `tessera` binary, with no display, bus or window.
#[test]
fn the_desktop_binary_is_the_cli_after_cli() {
    let home = tempfile::tempdir().unwrap();
    let cli = |program: &std::path::Path, args: &[&str]| {
        Command::new(program)
            .args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env_remove("OKTA_DOMAIN")
            .env_remove("OKTA_ISSUER")
            .env_remove("CLIENT_ID")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
    };
    let desktop = std::path::Path::new(env!("CARGO_BIN_EXE_tessera-desktop"));

    let version = cli(desktop, &["--cli", "--version"]);
    assert!(version.status.success(), "{version:?}");
    assert_eq!(String::from_utf8_lossy(&version.stdout), format!("tessera {}\n", env!("CARGO_PKG_VERSION")));

    let accounts = cli(desktop, &["--cli", "accounts", "--json"]);
    assert!(accounts.status.success(), "{accounts:?}");
    assert_eq!(String::from_utf8_lossy(&accounts.stdout).trim(), "[]");

    // An error is the CLI's, with its exit code (2: not configured) and hint.
    let whoami = cli(desktop, &["--cli", "whoami"]);
    assert_eq!(whoami.status.code(), Some(2), "{whoami:?}");
    let said = String::from_utf8_lossy(&whoami.stderr);
    assert!(said.starts_with("tessera: no sign-in provider is configured"), "{said}");

    // Started under the name `tessera` (a link), it is the CLI too.
    #[cfg(unix)]
    {
        let link = home.path().join("tessera");
        std::os::unix::fs::symlink(desktop, &link).unwrap();
        let help = cli(&link, &["--help"]);
        assert!(help.status.success(), "{help:?}");
        assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: tessera [OPTIONS] <COMMAND>"), "{help:?}");
    }
}
