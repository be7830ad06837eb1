//! Build script of the desktop shell: the package root is the repository root
//! (where `tauri.conf.json` lives), the shell's own files are in `src-tauri/`.

fn main() {
    let attributes = tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*");
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; print the whole chain first.
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
