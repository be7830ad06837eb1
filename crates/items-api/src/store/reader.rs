//! The SQLite read path: read-only connections (rusqlite) running the
//! store's read statements, prepared once per connection and kept
//! (`prepare_cached`), on the thread that asks.
//!
//! sqlx's SQLite driver gives each connection a worker thread of its own and
//! sends it every statement over a channel; on a read of five rows that hop
//! (and the pool's async bookkeeping around it) cost more than the read
//! itself (BENCHMARKS.md, "Items API: the SQLite read path"). A read here is
//! one uncontended lock to take an idle connection, the statement from the
//! connection's cache, a few microseconds inside SQLite, and the lock again
//! to give the connection back. It blocks the calling thread for that time,
//! like any short computation a handler does: a reader in WAL mode never
//! waits for writers (each statement reads the last commit as of its start),
//! so nothing makes it wait but the disk.
//!
//! Because the whole read runs inside one poll of the caller's future, a
//! caller that stops waiting cannot leave a read halfway: there is nothing
//! to detach. Writes keep sqlx's pool (one writer at a time, `BEGIN
//! IMMEDIATE`). An in-memory database has no file to share with other
//! connections, so it keeps sqlx's path for reads too.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::types::{FromSqlError, Type, ValueRef};
use rusqlite::{Connection, OpenFlags, Row};

use super::StoreError;
use super::json::{Columns, ItemView, PageWriter};
use super::sql::{Arg, Statement};
use super::transaction::{ItemRow, TaggedRow};
use crate::model::Item;

/// Idle connections kept for later reads (more are opened while more
/// threads read at once, and closed once given back beyond this).
const MAX_IDLE: usize = 16;
/// Prepared statements kept per connection: the list's filters make up to
/// 16 forms of it, `get` and the claim checks a few more.
const STATEMENT_CACHE: usize = 64;
/// How long a read waits on a lock (only while SQLite recovers a WAL index
/// after a crash, or a writer runs a truncating checkpoint: never in normal
/// work). Short, since the read blocks its thread.
const READ_BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// Read-only connections to one SQLite file.
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Opens a first read-only connection to `path` (a file that exists,
    /// already in WAL mode and migrated).
    pub(super) fn open(path: &Path) -> Result<Self, StoreError> {
        let readers = Self { path: path.to_owned(), idle: Mutex::new(Vec::new()) };
        let first = readers.connect()?;
        readers.give_back(first);
        Ok(readers)
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags).map_err(StoreError::Read)?;
        connection.busy_timeout(READ_BUSY_TIMEOUT).map_err(StoreError::Read)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    }

    fn give_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    /// Runs `read` on an idle connection (a new one when none is idle).
    fn with<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.connect()?,
        };
        let result = read(&connection);
        self.give_back(connection);
        result
    }

    /// Runs `statement` and hands each row to `each`; stops early when it
    /// answers `false`.
    fn each_row(
        &self,
        statement: &Statement,
        mut each: impl FnMut(&Row<'_>) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        self.with(|connection| {
            let mut prepared = connection.prepare_cached(&statement.sql).map_err(StoreError::Read)?;
            // `$1, $2, …` each appear once, in order: SQLite numbers them so.
            for (index, arg) in (1..).zip(&statement.args) {
                match arg {
                    Arg::Int(value) => prepared.raw_bind_parameter(index, value),
                    Arg::Text(value) => prepared.raw_bind_parameter(index, value.as_str()),
                }
                .map_err(StoreError::Read)?;
            }
            let mut rows = prepared.raw_query();
            while let Some(row) = rows.next().map_err(StoreError::Read)? {
                if !each(row)? {
                    break;
                }
            }
            Ok(())
            // Dropping `rows` resets the statement (ending its read
            // transaction) and the cache keeps it for the next read.
        })
    }

    /// Runs `statement`, which selects items with their tags column.
    pub(super) fn items(&self, statement: &Statement) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        self.each_row(statement, |row| {
            let columns = columns(row)?;
            let tagged = TaggedRow {
                item: ItemRow {
                    id: columns.id.to_owned(),
                    name: columns.name.to_owned(),
                    description: columns.description.to_owned(),
                    price_cents: columns.price_cents,
                    owner: columns.owner.to_owned(),
                    created_at: columns.created_at,
                    updated_at: columns.updated_at,
                },
                tags: columns.tags.map(str::to_owned),
            };
            items.push(tagged.into_item()?);
            Ok(true)
        })?;
        Ok(items)
    }

    /// Runs `statement`, which selects one text column.
    pub(super) fn texts(&self, statement: &Statement) -> Result<Vec<String>, StoreError> {
        let mut texts = Vec::new();
        self.each_row(statement, |row| {
            texts.push(text(row, 0)?.to_owned());
            Ok(true)
        })?;
        Ok(texts)
    }

    /// Runs `statement` (a `sql::list` fetching `limit + 1` rows) and writes
    /// the first `limit` rows as the page's JSON body, straight from SQLite's
    /// buffers; `next_cursor` is set when a row beyond them came back.
    pub(super) fn page_json(&self, statement: &Statement, limit: usize) -> Result<Vec<u8>, StoreError> {
        // Most items are a few hundred bytes.
        let mut page = PageWriter::new(64 + limit.min(20) * 320);
        let mut more = false;
        let mut written = 0;
        self.each_row(statement, |row| {
            if written == limit {
                more = true;
                return Ok(false);
            }
            page.push(&ItemView::from_columns(columns(row)?)?)?;
            written += 1;
            Ok(true)
        })?;
        Ok(page.finish(more))
    }
}

/// The columns of a row that selects items with their tags column.
fn columns<'r>(row: &'r Row<'_>) -> Result<Columns<'r>, StoreError> {
    Ok(Columns {
        id: text(row, 0)?,
        name: text(row, 1)?,
        description: text(row, 2)?,
        price_cents: int(row, 3)?,
        owner: text(row, 4)?,
        created_at: int(row, 5)?,
        updated_at: int(row, 6)?,
        tags: match value(row, 7)? {
            ValueRef::Null => None,
            other => Some(other.as_str().map_err(|e| conversion(7, Type::Text, e))?),
        },
    })
}

fn value<'r>(row: &'r Row<'_>, index: usize) -> Result<ValueRef<'r>, StoreError> {
    row.get_ref(index).map_err(StoreError::Read)
}

fn text<'r>(row: &'r Row<'_>, index: usize) -> Result<&'r str, StoreError> {
    value(row, index)?.as_str().map_err(|e| conversion(index, Type::Text, e))
}

fn int(row: &Row<'_>, index: usize) -> Result<i64, StoreError> {
    value(row, index)?.as_i64().map_err(|e| conversion(index, Type::Integer, e))
}

/// A column of the wrong type (or text that is not UTF-8).
fn conversion(index: usize, expected: Type, error: FromSqlError) -> StoreError {
    StoreError::Read(rusqlite::Error::FromSqlConversionFailure(index, expected, Box::new(error)))
}
