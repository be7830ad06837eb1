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
