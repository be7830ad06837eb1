//! The `tessera` binary: the CLI's entry point alone (the desktop binary
//! carries the same one, see the library's documentation).

fn main() -> std::process::ExitCode {
    tessera_cli::main(std::env::args())
}
