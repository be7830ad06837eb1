//! The `tessera-desktop` binary.
// Hide the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use tessera_desktop::logs;

const HELP: &str = "\
Tessera: sign in with Okta or any OpenID provider and browse your items.

Usage: tessera-desktop [LINK]

  LINK           a sign-in link (com.example.tessera:/callback?…) for the
                 running app; the desktop passes it when you follow one
  -V, --version  print the version and exit
  -h, --help     print this help and exit
  --cli ARGS…    be the `tessera` command-line program instead (the same as
                 running `tessera ARGS…`; see `tessera --help`)

Without a configured provider (tessera.toml, OKTA_ISSUER / OKTA_DOMAIN) the
app starts in demo mode. Logs go to standard error and to the log folder
(TESSERA_LOG_DIR, or ~/.local/state/tessera/logs), tokens removed.
";

#[allow(clippy::print_stdout)] // --version and --help answer on standard output
fn main() -> std::process::ExitCode {
    if let Some(words) = cli_words(std::env::args()) {
        return tessera_cli::main(words);
    }
    match std::env::args().nth(1).as_deref() {
        Some("-V" | "--version") => {
            println!("Tessera {}", tessera_desktop::VERSION);
            return std::process::ExitCode::SUCCESS;
        }
        Some("-h" | "--help") => {
            print!("{HELP}");
            return std::process::ExitCode::SUCCESS;
        }
        _ => {}
    }
    let _logs = logs::init();
    match tessera_desktop::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let message = tessera_desktop::ipc::message_with_causes(error.as_ref());
            tracing::error!("{message}");
            eprintln!("tessera-desktop: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The command line for the `tessera` CLI when this program is to be it:
/// started under the name `tessera` (a link), or as `tessera-desktop --cli
/// ARGS…` (what the Linux packages' `/usr/bin/tessera` runs). One program for
/// both keeps the packages at half the size of two, each with the sign-in
/// core, the demo provider and the items API linked in. `None`: the app.
fn cli_words(mut args: impl Iterator<Item = String>) -> Option<Vec<String>> {
    let program = args.next()?;
    let named_tessera = std::path::Path::new(&program).file_stem().is_some_and(|stem| stem == "tessera");
    let rest: Vec<String> = args.collect();
    let rest = match rest.split_first() {
        _ if named_tessera => rest,
        Some((flag, after)) if flag == "--cli" => after.to_vec(),
        _ => return None,
    };
    Some(std::iter::once("tessera".to_owned()).chain(rest).collect())
}

#[cfg(test)]
mod tests {
    use super::cli_words;

    fn words(line: &[&str]) -> Option<Vec<String>> {
        cli_words(line.iter().map(|word| (*word).to_owned()))
    }

    #[test]
    fn the_app_is_the_app() {
        assert_eq!(words(&["/usr/bin/tessera-desktop"]), None);
        assert_eq!(words(&["tessera-desktop", "com.example.tessera:/callback?code=x"]), None);
        assert_eq!(words(&["tessera-desktop", "--version"]), None);
        // Only the first word chooses: a link that says --cli later is the app's.
        assert_eq!(words(&["tessera-desktop", "link", "--cli"]), None);
    }

    #[test]
    fn the_cli_by_flag_or_by_name() {
        assert_eq!(
            words(&["/usr/bin/tessera-desktop", "--cli", "whoami", "--json"]).unwrap(),
            ["tessera", "whoami", "--json"]
        );
        assert_eq!(words(&["tessera-desktop", "--cli"]).unwrap(), ["tessera"]);
        assert_eq!(words(&["/usr/local/bin/tessera", "login"]).unwrap(), ["tessera", "login"]);
        assert_eq!(words(&["tessera.exe", "--cli"]).unwrap(), ["tessera", "--cli"]);
    }
}
