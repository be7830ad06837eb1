//! `tessera`: sign in and browse items from a terminal.
//!
//! Skeleton: the work is tracked in issue 4.

fn main() -> std::process::ExitCode {
    eprintln!("tessera: the command-line client is not built yet (issue 4)");
    std::process::ExitCode::from(2)
}
