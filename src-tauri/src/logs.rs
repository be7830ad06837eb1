//! Where the app's logs go: standard error and a file per day in the
//! platform's log folder, the last [`KEEP_FILES`] days kept, every line
//! through [`signin::redact`] first (no token, code or secret reaches
//! either, whatever logged it).

use std::path::PathBuf;

use signin::redact::RedactingWriter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Days of logs kept (one file per day).
pub const KEEP_FILES: usize = 7;

/// The log files' names: `tessera.<date>.log`.
const PREFIX: &str = "tessera";
const SUFFIX: &str = "log";

/// The variable naming another log folder (tests; a portable install).
pub const LOG_DIR_VAR: &str = "TESSERA_LOG_DIR";

/// The platform's folder for the app's logs: `$XDG_STATE_HOME/tessera/logs`
/// on Linux (`~/.local/state/tessera/logs`), the local data folder's `logs`
/// elsewhere; `$TESSERA_LOG_DIR` when set.
#[must_use]
pub fn log_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(LOG_DIR_VAR).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let dirs = directories::ProjectDirs::from("com", "example", "tessera")?;
    Some(dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).join("logs"))
}

/// Wraps each writer a formatter makes in a [`RedactingWriter`].
#[derive(Debug, Clone)]
pub struct Redacted<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacted<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

/// Keeps the file writer's thread running; drop it last (it flushes).
#[derive(Debug)]
pub struct LogGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// The daily file writer in `dir`, pruning all but the newest
/// [`KEEP_FILES`] files.
///
/// # Errors
/// When the folder cannot be created or its newest file opened.
pub fn file_writer(
    dir: &std::path::Path,
) -> Result<tracing_appender::rolling::RollingFileAppender, tracing_appender::rolling::InitError> {
    tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEEP_FILES)
        .build(dir)
}

/// Sends logs to standard error and to the log folder's file, filtered by
/// `RUST_LOG` (default `info`). Without a usable log folder, logs go to
/// standard error only (and say why).
#[must_use]
pub fn init() -> LogGuard {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = tracing_subscriber::fmt::layer().with_writer(Redacted(std::io::stderr)).with_filter(filter());
    let dir = log_dir();
    let file = dir.as_deref().map(file_writer);
    match file {
        Some(Ok(appender)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file_layer =
                tracing_subscriber::fmt::layer().with_ansi(false).with_writer(Redacted(writer)).with_filter(filter());
            tracing_subscriber::registry().with(stderr).with(file_layer).init();
            LogGuard { _file: Some(guard) }
        }
        other => {
            tracing_subscriber::registry().with(stderr).init();
            if let Some(Err(error)) = other {
                tracing::warn!(%error, dir = ?dir, "logging to standard error only");
            }
            LogGuard { _file: None }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The log files in `dir`, sorted by name (by date).
    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn lines_reach_the_file_without_their_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, guard) = tracing_appender::non_blocking(file_writer(dir.path()).unwrap());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(Redacted(writer)));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(account = "acct-1", "signed in");
            tracing::warn!(url = "http://127.0.0.1:4000/callback?code=SECRET-CODE&state=s1", "stray request");
            tracing::error!("token endpoint said {{\"refresh_token\":\"SECRET-RT\",\"token_type\":\"Bearer\"}}");
            tracing::info!(header = "Bearer SECRET-ACCESS-TOKEN-123", "retrying");
        });
        drop(guard);
        let names = files(dir.path());
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with("tessera.") && names[0].ends_with(".log"), "{names:?}");
        let text = std::fs::read_to_string(dir.path().join(&names[0])).unwrap();
        assert!(text.contains("signed in") && text.contains("account=\"acct-1\""), "{text}");
        assert!(text.contains("stray request") && text.contains("state=s1"), "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(!text.contains("SECRET"), "{text}");
        assert_eq!(text.matches(signin::redact::REDACTED).count(), 3, "{text}");
    }

    #[test]
    fn only_the_newest_days_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=10 {
            std::fs::write(dir.path().join(format!("tessera.2026-10-{day:02}.log")), "old\n").unwrap();
            // Creation times decide which go: give each its own.
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::fs::write(dir.path().join("notes.txt"), "not a log\n").unwrap();
        let appender = file_writer(dir.path()).unwrap();
        drop(appender);
        let names = files(dir.path());
        let logs: Vec<&String> = names.iter().filter(|n| n.ends_with(".log")).collect();
        // The six newest old days and today's.
        assert_eq!(logs.len(), KEEP_FILES, "{names:?}");
        assert!(!names.contains(&"tessera.2026-10-04.log".to_owned()), "{names:?}");
        assert!(names.contains(&"tessera.2026-10-05.log".to_owned()), "{names:?}");
        assert!(names.contains(&"notes.txt".to_owned()), "other files are left alone: {names:?}");
    }
}
