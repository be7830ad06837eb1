//! Why the account book failed.

use std::path::PathBuf;

/// An account book failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsError {
    /// No home or config folder could be determined for this user.
    #[error("no folder for Tessera's account book could be determined (is HOME set?)")]
    NoDataDir,
    /// Reading or writing the file failed.
    #[error("could not {action} the account book {}", path.display())]
    Io {
        /// What was being done: `read`, `write`, ….
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an account book. It was left in place, and a copy
    /// kept at `backup` (when the copy could be made).
    #[error(
        "the account book {} is damaged{}; start over with an empty one to continue",
        path.display(),
        backup.as_ref().map(|b| format!(" (a copy is kept at {})", b.display())).unwrap_or_default()
    )]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Where its copy was kept.
        backup: Option<PathBuf>,
        /// Why it could not be read (position only, never its content).
        #[source]
        source: serde_json::Error,
    },
    /// The file was written by a newer Tessera.
    #[error("the account book {} has format version {version}, newer than this Tessera understands", path.display())]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u32,
    },
    /// No account matches.
    #[error("no account matches \"{query}\"")]
    NoSuchAccount {
        /// What was looked for.
        query: String,
    },
    /// Several accounts match; the person has to say which.
    #[error("\"{query}\" matches several accounts: {}", candidates.join(", "))]
    AmbiguousAccount {
        /// What was looked for.
        query: String,
        /// The matching accounts' ids.
        candidates: Vec<String>,
    },
}
