//! One way to layer settings for Tessera's programs (the apps, the items
//! API, dev-idp): built-in defaults < a TOML file < the environment.
//!
//! Each program keeps its own settings, names and error type; this crate
//! holds what they share: the environment lookup ([`Environment`], where a
//! blank value counts as unset), the file reader ([`read_toml`]), one
//! layered read ([`Environment::layer`]) and the parsers of the shared kinds
//! ([`parse`]: numbers, seconds, booleans, URLs, socket addresses), whose
//! errors ([`Invalid`]) name the setting.
//!
//! ```
//! let env = settings::Environment::new(|name| (name == "PORT").then(|| "8080".to_owned()));
//! let file_value = Some(9090);
//! let port = env.layer("PORT", file_value, settings::parse::number)?.unwrap_or(80);
//! assert_eq!(port, 8080);
//! # Ok::<(), settings::Invalid>(())
//! ```

use std::path::{Path, PathBuf};

pub mod parse;

/// A setting with a value that cannot be used; names the setting (its
/// environment name or file key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct Invalid {
    /// The setting's environment name or file key.
    pub setting: &'static str,
    /// What is wrong with the value.
    pub problem: String,
}

impl Invalid {
    /// `setting` has a bad value: `problem`.
    #[must_use]
    pub fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        Self { setting, problem: problem.into() }
    }
}

/// Why a settings file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read the configuration file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or holds a key or value the program
    /// does not take.
    #[error("the configuration file {} is invalid", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        #[source]
        source: Box<toml::de::Error>,
    },
}

/// Reads the TOML file at `path` as a `T`; `None` when it does not exist
/// (a program for which a named file must exist says so itself).
///
/// # Errors
/// [`FileError::Read`] when it exists but cannot be read,
/// [`FileError::Parse`] when it is not a valid `T`.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, FileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_toml(&text).map(Some).map_err(|source| FileError::Parse { path: path.to_owned(), source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(FileError::Read { path: path.to_owned(), source }),
    }
}

/// Parses TOML text as a `T`.
///
/// # Errors
/// The parser's error, with line and column.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Box<toml::de::Error>> {
    toml::from_str(text).map_err(Box::new)
}

/// The environment layer: a lookup by name (the process environment, or a
/// test's map) in which an empty or blank value counts as unset.
pub struct Environment<F> {
    lookup: F,
}

impl<F> std::fmt::Debug for Environment<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment").finish_non_exhaustive()
    }
}

impl Environment<fn(&str) -> Option<String>> {
    /// The process environment.
    #[must_use]
    pub fn process() -> Self {
        Self { lookup: |name| std::env::var(name).ok() }
    }
}

impl<F: Fn(&str) -> Option<String>> Environment<F> {
    /// The environment `lookup` answers for.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The value of `name`; `None` when it is unset or blank.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    /// Whether `name` has a value that is not blank.
    #[must_use]
    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// One setting over its layers: the environment's `name`, read with
    /// `parse`, over `file`'s value (already typed by the file's reader);
    /// `None` when neither sets it (the caller has the default).
    ///
    /// # Errors
    /// [`Invalid`] naming `name` when its value does not parse.
    pub fn layer<T>(
        &self,
        name: &'static str,
        file: Option<T>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Invalid> {
        match self.get(name) {
            Some(value) => parse(&value).map(Some).map_err(|problem| Invalid::new(name, problem)),
            None => Ok(file),
        }
    }
}

#[cfg(test)]
mod tests;
