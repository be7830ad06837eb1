//! Storage of items: SQLite (default) or PostgreSQL through sqlx.
//!
//! One [`Store`] holds a pool for either database. On a SQLite file, reads
//! go through read-only rusqlite connections instead, on the calling thread
//! (module `reader`: no hop to a connection's worker thread per statement);
//! writes keep sqlx's pool. The SQL is written once
//! (module `sql`, with `$n` placeholders, which both accept) and run through a
//! `Transaction` that dispatches to the concrete driver, so no query needs a
//! database at compile time and no code is written twice.
//!
//! Items are listed newest first, keyset-paginated by `(created_at, id)`
//! descending: an item created while someone walks the pages is newer than
//! their cursor, so it never shifts the pages they have not read yet.
//!
//! The database URL may hold a password: it never appears in an error or a log.

mod demo;
mod json;
mod reader;
mod replay;
mod sql;
mod transaction;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use time::OffsetDateTime;

use crate::model::{
    Cursor, Item, ItemPatch, ListQuery, MAX_LIMIT, NewItem, Owner, Page, ValidationError, Visibility, micros,
};
use sql::{Dialect, NewRow};
use transaction::{ItemRow, Transaction};

pub use replay::DatabaseReplays;

/// Migrations for SQLite (`migrations/sqlite`).
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
/// Migrations for PostgreSQL (`migrations/postgres`).
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite writer waits for another one to finish before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections to a SQLite file (readers run side by side in WAL mode).
const SQLITE_MAX_CONNECTIONS: u32 = 8;
/// Connections to PostgreSQL.
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a connection: for the database to come up when
/// connecting, or for a free connection from a busy pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not one we support.
    #[error("unsupported DATABASE_URL (use sqlite://… or postgres://…)")]
    UnsupportedUrl,
    /// The database URL could not be read (the message never repeats it).
    #[error("invalid DATABASE_URL")]
    InvalidUrl(#[source] sqlx::Error),
    /// The directory for a SQLite file could not be created.
    #[error("could not create the directory {} for the SQLite database", path.display())]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be reached.
    #[error("could not connect to the database")]
    Connect(#[source] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("could not migrate the database")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A read on SQLite's read path failed.
    #[error("database error")]
    Read(#[source] rusqlite::Error),
    /// A page could not be written as JSON.
    #[error("could not write the items as JSON")]
    Serialize(#[source] serde_json::Error),
    /// The task running the operation failed (it panicked or the runtime is
    /// shutting down).
    #[error("the storage task failed")]
    Task(#[source] tokio::task::JoinError),
    /// The caller already used this idempotency key for another request.
    #[error("this Idempotency-Key was already used for another item")]
    KeyReused,
    /// The item the caller made with this idempotency key has been deleted.
    #[error("the item made with this Idempotency-Key has been deleted since")]
    KeyItemDeleted,
    /// A stored item breaks the model's rules (written by something else?).
    #[error("stored item {id} is invalid")]
    InvalidItem {
        /// The item's id.
        id: String,
        /// What is wrong with it.
        #[source]
        source: ValidationError,
    },
}

impl StoreError {
    /// Whether the database cannot serve now but may soon, through no fault
    /// of the request: it cannot be reached, it is busy or locked, its disk
    /// is full or read-only, or it failed to read or write. The API answers
    /// 503 with `Retry-After` for these; a committed change is never lost.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        let error = match self {
            Self::Database(error) | Self::Connect(error) => error,
            Self::Read(rusqlite::Error::SqliteFailure(error, _)) => {
                return sqlite_unavailable(error.extended_code);
            }
            _ => return false,
        };
        match error {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                true
            }
            sqlx::Error::Database(db) => {
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    return sqlite_unavailable(db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0));
                }
                // PostgreSQL: a read-only transaction, insufficient
                // resources (disk full, out of memory, too many
                // connections), an operator intervention (shutting down,
                // starting up), a connection exception, a system error.
                db.code().is_some_and(|code| {
                    code == "25006" || ["53", "57", "08", "58"].iter().any(|class| code.starts_with(class))
                })
            }
            _ => false,
        }
    }
}

/// Whether a SQLite (extended) result code says the database cannot serve
/// now: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
fn sqlite_unavailable(extended_code: i32) -> bool {
    // The primary result code is the low byte of the extended one.
    matches!(extended_code & 0xff, 5 | 6 | 8 | 10 | 13 | 14)
}

/// A create with an idempotency key: the item, and whether an earlier
/// request with the same key made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// The item.
    pub item: Item,
    /// `true` when this is the item an earlier request with the key made.
    pub replayed: bool,
}

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// Runs a storage operation on a task of its own, so that a caller who stops
/// waiting (a client hanging up mid-request) cannot cancel it halfway: sqlx
/// leaves a connection whose `BEGIN` was interrupted marked as inside a
/// transaction, and the next `BEGIN` on it fails (`InvalidSavePointStatement`).
async fn detached<T, F>(operation: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
{
    tokio::spawn(operation).await.map_err(StoreError::Task)?
}

/// [`Owner`] without the borrow, to move into a task.
struct OwnedOwner {
    issuer: String,
    id: String,
}

impl From<Owner<'_>> for OwnedOwner {
    fn from(owner: Owner<'_>) -> Self {
        Self { issuer: owner.issuer.to_owned(), id: owner.id.to_owned() }
    }
}

impl OwnedOwner {
    fn as_owner(&self) -> Owner<'_> {
        Owner { issuer: &self.issuer, id: &self.id }
    }
}

/// [`Visibility`] without the borrow, to move into a task.
enum OwnedVisibility {
    Owner(OwnedOwner),
    All,
}

impl From<Visibility<'_>> for OwnedVisibility {
    fn from(who: Visibility<'_>) -> Self {
        match who {
            Visibility::Owner(owner) => Self::Owner(owner.into()),
            Visibility::All => Self::All,
        }
    }
}

impl OwnedVisibility {
    fn as_visibility(&self) -> Visibility<'_> {
        match self {
            Self::Owner(owner) => Visibility::Owner(owner.as_owner()),
            Self::All => Visibility::All,
        }
    }
}

/// Most `sub`s remembered as having no rows left to claim.
const MAX_CLAIM_CHECKS: usize = 10_000;

/// What the store knows of rows from before owners had issuers (the
/// migration `owner_ids`), so that once none are left, or a `sub` has none,
/// requests stop asking the database.
#[derive(Debug, Default)]
struct Unclaimed {
    /// Whether any such rows may be left.
    any: AtomicBool,
    /// `sub`s known to have none (none can be added, so this stays true).
    checked: Mutex<HashSet<String>>,
}

/// A connection pool to either database.
#[derive(Clone)]
enum Pool {
    /// A SQLite file (or memory).
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

/// The item store: a pool of connections to SQLite or PostgreSQL (and, on a
/// SQLite file, the read-only connections of the read path). Cloning is
/// cheap and shares them.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    unclaimed: Arc<Unclaimed>,
    /// Reads on a SQLite file; `None` on PostgreSQL and in-memory SQLite,
    /// whose reads go through `pool`.
    readers: Option<Arc<reader::Readers>>,
}

impl fmt::Debug for Store {
    // Only the kind of database: its options hold the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let database = match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        };
        f.debug_struct("Store").field("database", &database).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects and brings the schema up to date.
    ///
    /// `sqlite://path/to/items.db` (or `sqlite:…`) opens a SQLite file, creating
    /// it and its directory if missing, in WAL mode with foreign keys on and a
    /// busy timeout, so that concurrent writers wait for each other.
    /// `sqlite::memory:` keeps the items in memory for as long as the store lives.
    /// `postgres://user:password@host:port/database` (or `postgresql://…`)
    /// connects to PostgreSQL.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`] for another scheme, [`StoreError::InvalidUrl`],
    /// [`StoreError::CreateDirectory`], [`StoreError::Connect`] and [`StoreError::Migrate`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
        let (pool, file) = match scheme.as_deref() {
            Some("sqlite") => {
                let (pool, file) = connect_sqlite(url).await?;
                (Pool::Sqlite(pool), file)
            }
            Some("postgres" | "postgresql") => (Pool::Postgres(connect_postgres(url).await?), None),
            _ => return Err(StoreError::UnsupportedUrl),
        };
        match &pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .map_err(StoreError::Migrate)?;
        // Opened once the file is in WAL mode and migrated.
        let readers = file.map(|file| reader::Readers::open(&file)).transpose()?.map(Arc::new);
        let store = Self { pool, unclaimed: Arc::default(), readers };
        let any = !store.read_texts(&sql::unclaimed(None)).await?.is_empty();
        if any {
            tracing::info!("the store holds items from before owner ids: each is re-keyed at its owner's next request");
        }
        store.unclaimed.any.store(any, Ordering::Relaxed);
        tracing::debug!(?store, "item store ready");
        Ok(store)
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// [`StoreError::Database`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }?;
        Ok(())
    }

    /// One page of the items `who` may see, newest first (see the module docs).
    /// Runs to completion even if the caller stops waiting ([`detached`]).
    ///
    /// # Errors
    /// [`StoreError::Database`], [`StoreError::InvalidItem`], [`StoreError::Task`].
    pub async fn list(&self, who: Visibility<'_>, query: &ListQuery) -> Result<Page, StoreError> {
        if self.readers.is_some() {
            // Done within this poll: nothing a caller can abandon halfway.
            return self.list_now(who, query).await;
        }
        let (store, who, query) = (self.clone(), OwnedVisibility::from(who), query.clone());
        detached(async move { store.list_now(who.as_visibility(), &query).await }).await
    }

    /// The same page as [`Store::list`], as the JSON body `GET /v1/items`
    /// answers (`{"items": [...], "next_cursor": ...}`, see
    /// [`crate::api::ItemList`]). On a SQLite file each row is written
    /// straight from SQLite's buffers into the body, without an [`Item`] in
    /// between; elsewhere the page is read as [`Store::list`] reads it.
    ///
    /// # Errors
    /// Those of [`Store::list`], and [`StoreError::Serialize`].
    pub async fn list_json(&self, who: Visibility<'_>, query: &ListQuery) -> Result<Vec<u8>, StoreError> {
        let limit = query.limit.clamp(1, MAX_LIMIT);
        if let Some(readers) = &self.readers {
            let statement = sql::list(self.dialect(), who, query, i64::from(limit) + 1);
            return readers.page_json(&statement, limit as usize);
        }
        let page = self.list(who, query).await?;
        let mut body = json::PageWriter::new(64 + page.items.len() * 320);
        for item in &page.items {
            body.push(&json::ItemView::of(item))?;
        }
        Ok(body.finish(page.next.is_some()))
    }

    /// This store with SQLite reads through sqlx's pool, as before the read
    /// path (`reader`): for benchmarks that compare the two.
    #[doc(hidden)]
    #[must_use]
    pub fn with_sqlx_reads(&self) -> Self {
        Self { readers: None, ..self.clone() }
    }

    /// One item, if `who` may see it. Runs to completion even if the caller
    /// stops waiting.
    ///
    /// # Errors
    /// [`StoreError::Database`], [`StoreError::InvalidItem`], [`StoreError::Task`].
    pub async fn get(&self, who: Visibility<'_>, id: &str) -> Result<Option<Item>, StoreError> {
        if self.readers.is_some() {
            // Done within this poll: nothing a caller can abandon halfway.
            return self.get_now(who, id).await;
        }
        let (store, who, id) = (self.clone(), OwnedVisibility::from(who), id.to_owned());
        detached(async move { store.get_now(who.as_visibility(), &id).await }).await
    }

    /// Stores a new (already validated) item for `owner`. Runs to completion
    /// even if the caller stops waiting.
    ///
    /// # Errors
    /// [`StoreError::Database`], [`StoreError::InvalidItem`], [`StoreError::Task`].
    pub async fn create(&self, owner: Owner<'_>, item: NewItem) -> Result<Item, StoreError> {
        let (store, owner) = (self.clone(), OwnedOwner::from(owner));
        detached(async move { store.create_now(owner.as_owner(), item).await }).await
    }

    /// Issue 14, item 8: items stored before owners were (issuer, user id)
    /// are keyed by the `sub` of the token that made them, with no issuer.
    /// Called with a token's owner and `sub` both known at once, this re-keys
    /// that `sub`'s rows to `owner` and answers how many there were; later
    /// requests under the same `sub` find nothing to claim. The first person
    /// to present a `sub` after the upgrade takes its rows: a login renamed
    /// or given to someone else before its owner's first request cannot be
    /// told apart (the API never saw the old user id). Cheap once nothing is
    /// left: no query at all, or none for a `sub` already looked at.
    /// Runs to completion even if the caller stops waiting.
    ///
    /// # Errors
    /// [`StoreError::Database`], [`StoreError::Task`].
    pub async fn claim(&self, owner: Owner<'_>, sub: &str) -> Result<u64, StoreError> {
        if !self.unclaimed.any.load(Ordering::Relaxed)
            || self.unclaimed.checked.lock().unwrap_or_else(PoisonError::into_inner).contains(sub)
        {
            return Ok(0);
        }
        let (store, owner, sub) = (self.clone(), OwnedOwner::from(owner), sub.to_owned());
        detached(async move { store.claim_now(owner.as_owner(), &sub).await }).await
    }

    async fn claim_now(&self, owner: Owner<'_>, sub: &str) -> Result<u64, StoreError> {
        let claimed = if self.read_texts(&sql::unclaimed(Some(sub))).await?.is_empty() {
            0
        } else {
            let mut tx = self.begin().await?;
            let claimed = tx.execute(&sql::claim(owner, sub)).await?;
            tx.commit().await?;
            tracing::info!(claimed, "items re-keyed from their owner's sub to the issuer's user id");
            if self.read_texts(&sql::unclaimed(None)).await?.is_empty() {
                self.unclaimed.any.store(false, Ordering::Relaxed);
            }
            claimed
        };
        let mut checked = self.unclaimed.checked.lock().unwrap_or_else(PoisonError::into_inner);
        if checked.len() < MAX_CLAIM_CHECKS {
            checked.insert(sub.to_owned());
        }
        Ok(claimed)
    }

    /// Stores a new (already validated) item for `owner` once per idempotency
    /// `key`: the same key with the same item again answers the item made the
    /// first time (for [`IDEMPOTENCY_KEY_LIFETIME`]), also when both requests
    /// arrive at once. Runs to completion even if the caller stops waiting.
    ///
    /// # Errors
    /// [`StoreError::KeyReused`] for the same key with another item,
    /// [`StoreError::KeyItemDeleted`], and those of [`Store::create`].
    pub async fn create_once(&self, owner: Owner<'_>, item: NewItem, key: &str) -> Result<Created, StoreError> {
        let (store, owner, key) = (self.clone(), OwnedOwner::from(owner), key.to_owned());
        detached(async move { store.create_once_now(owner.as_owner(), item, &key).await }).await
    }

    /// Applies a (validated) patch to an item `who` may change; `None` when
    /// there is no such item. Runs to completion even if the caller stops waiting.
    ///
    /// # Errors
    /// [`StoreError::Database`], [`StoreError::InvalidItem`], [`StoreError::Task`].
    pub async fn update(&self, who: Visibility<'_>, id: &str, patch: ItemPatch) -> Result<Option<Item>, StoreError> {
        let (store, who, id) = (self.clone(), OwnedVisibility::from(who), id.to_owned());
        detached(async move { store.update_now(who.as_visibility(), &id, patch).await }).await
    }

    /// Deletes an item `who` may change; `false` when there is no such item.
    /// Runs to completion even if the caller stops waiting.
    ///
    /// # Errors
    /// [`StoreError::Database`], [`StoreError::Task`].
    pub async fn delete(&self, who: Visibility<'_>, id: &str) -> Result<bool, StoreError> {
        let (store, who, id) = (self.clone(), OwnedVisibility::from(who), id.to_owned());
        detached(async move { store.delete_now(who.as_visibility(), &id).await }).await
    }

    /// One page of the items `who` may see, newest first: those after
    /// `query.cursor`, whose name or description contains `query.q` (ignoring
    /// case; `%` and `_` match themselves) and that have the tag `query.tag`.
    /// `next` is set only when more items follow.
    ///
    /// # Errors
    /// [`StoreError::Database`] and [`StoreError::InvalidItem`].
    async fn list_now(&self, who: Visibility<'_>, query: &ListQuery) -> Result<Page, StoreError> {
        let limit = query.limit.clamp(1, MAX_LIMIT);
        // One more than asked, to know whether another page follows.
        let mut items = self.read_items(&sql::list(self.dialect(), who, query, i64::from(limit) + 1)).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = if more { items.last().map(Cursor::after) } else { None };
        Ok(Page { items, next })
    }

    /// One item, if `who` may see it.
    ///
    /// # Errors
    /// [`StoreError::Database`] and [`StoreError::InvalidItem`].
    async fn get_now(&self, who: Visibility<'_>, id: &str) -> Result<Option<Item>, StoreError> {
        Ok(self.read_items(&sql::get(self.dialect(), who, id)).await?.pop())
    }

    /// Stores a new (already validated) item for `owner`, with a new UUIDv7 id,
    /// `created_at` and `updated_at` now. Returns it as [`Store::get`] would.
    ///
    /// # Errors
    /// [`StoreError::Database`] and [`StoreError::InvalidItem`].
    async fn create_now(&self, owner: Owner<'_>, item: NewItem) -> Result<Item, StoreError> {
        let fresh = Fresh::new(owner, item);
        let mut tx = self.begin().await?;
        insert(&mut tx, &fresh.row(), &fresh.tags).await?;
        tx.commit().await?;
        fresh.into_item()
    }

    /// See [`Store::create_once`]. The key is remembered in the transaction
    /// that inserts the item, so both are kept or neither; a second request
    /// with the key finds it (on PostgreSQL after waiting for the first to
    /// commit; SQLite's writers take turns) and answers that item.
    async fn create_once_now(&self, owner: Owner<'_>, item: NewItem, key: &str) -> Result<Created, StoreError> {
        let fresh = Fresh::new(owner, item);
        let now = fresh.now;
        let fingerprint = fingerprint(&fresh.name, &fresh.description, fresh.price_cents, &fresh.tags);
        let lifetime = i64::try_from(IDEMPOTENCY_KEY_LIFETIME.as_micros()).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        tx.execute(&sql::forget_keys(now.saturating_sub(lifetime))).await?;
        let key_row = sql::KeyRow { owner, key, fingerprint: &fingerprint, item_id: &fresh.id, created_at: now };
        if tx.execute(&sql::remember_key(&key_row)).await? == 0 {
            let Some((earlier, item_id)) = tx.fetch_pairs(&sql::find_key(owner, key)).await?.pop() else {
                // Forgotten in between: cannot happen inside the transaction.
                return Err(StoreError::KeyItemDeleted);
            };
            drop(tx);
            if earlier != fingerprint {
                return Err(StoreError::KeyReused);
            }
            let item = self.get_now(Visibility::Owner(owner), &item_id).await?.ok_or(StoreError::KeyItemDeleted)?;
            return Ok(Created { item, replayed: true });
        }
        insert(&mut tx, &fresh.row(), &fresh.tags).await?;
        tx.commit().await?;
        Ok(Created { item: fresh.into_item()?, replayed: false })
    }

    /// Applies a (validated) patch to an item `who` may change; `None` when
    /// there is no such item. Tags in the patch replace the old ones;
    /// `updated_at` moves forward, `created_at` stays. An empty patch changes
    /// nothing and returns the item as it is.
    ///
    /// # Errors
    /// [`StoreError::Database`] and [`StoreError::InvalidItem`].
    async fn update_now(&self, who: Visibility<'_>, id: &str, patch: ItemPatch) -> Result<Option<Item>, StoreError> {
        if patch.is_empty() {
            return self.get(who, id).await;
        }
        let mut tx = self.begin().await?;
        let rows = tx.fetch_items(&sql::update_item(who, id, &patch, now_micros())).await?;
        if rows.is_empty() {
            // Not there, or not theirs: dropping `tx` rolls it back.
            return Ok(None);
        }
        if let Some(tags) = patch.tags {
            tx.execute(&sql::delete_tags(id)).await?;
            if let Some(insert) = sql::insert_tags(id, &unique(tags)) {
                tx.execute(&insert).await?;
            }
        }
        let item = with_tags(&mut tx, rows).await?.pop();
        tx.commit().await?;
        Ok(item)
    }

    /// Deletes an item `who` may change, and its tags; `false` when there is
    /// no such item.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn delete_now(&self, who: Visibility<'_>, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let deleted = tx.execute(&sql::delete_item(who, id)).await?;
        tx.commit().await?;
        Ok(deleted > 0)
    }

    /// Demo mode: when the store is empty, adds a few items for alice and
    /// bob, owned by their user ids at dev-idp (`issuer`, the demo issuer).
    /// Returns how many were added: none when there were items already, so
    /// calling it again is harmless (also concurrently).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn seed_demo(&self, issuer: &str) -> Result<usize, StoreError> {
        let mut tx = self.begin().await?;
        if let Some(lock) = sql::lock_for_seed(tx.dialect()) {
            tx.execute(&lock).await?;
        }
        if !tx.fetch_texts(&sql::any_item()).await?.is_empty() {
            return Ok(0);
        }
        // Oldest first, a second apart, ending now.
        let now = now_micros();
        for (age, demo) in (0_i64..).zip(demo::ITEMS.iter().rev()) {
            let id = uuid::Uuid::now_v7().to_string();
            let row = NewRow {
                id: &id,
                name: demo.name,
                description: demo.description,
                price_cents: demo.price_cents,
                owner: Owner { issuer, id: demo.owner },
                created_at: now - age * 1_000_000,
            };
            let tags: Vec<String> = demo.tags.iter().map(|&tag| tag.to_owned()).collect();
            insert(&mut tx, &row, &tags).await?;
        }
        tx.commit().await?;
        tracing::info!(items = demo::ITEMS.len(), "added the demo items");
        Ok(demo::ITEMS.len())
    }

    /// Begins a transaction.
    /// The database's dialect.
    fn dialect(&self) -> Dialect {
        match &self.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs one read statement that selects items with their tags column: a
    /// single statement sees one snapshot, so reads need no transaction (one
    /// round trip instead of four).
    async fn read_items(&self, statement: &sql::Statement) -> Result<Vec<Item>, StoreError> {
        if let Some(readers) = &self.readers {
            return readers.items(statement);
        }
        let rows: Vec<transaction::TaggedRow> = self.read_rows(statement).await?;
        rows.into_iter().map(transaction::TaggedRow::into_item).collect()
    }

    /// Runs one read statement that selects one text column.
    async fn read_texts(&self, statement: &sql::Statement) -> Result<Vec<String>, StoreError> {
        if let Some(readers) = &self.readers {
            return readers.texts(statement);
        }
        let rows: Vec<(String,)> = self.read_rows(statement).await?;
        Ok(rows.into_iter().map(|(text,)| text).collect())
    }

    /// Runs one read statement on whichever database this is, each row
    /// decoded as `T`.
    async fn read_rows<T>(&self, statement: &sql::Statement) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => transaction::query(statement)
                .fetch_all(pool)
                .await?
                .iter()
                .map(sqlx::FromRow::from_row)
                .collect::<Result<_, _>>()?,
            Pool::Postgres(pool) => transaction::query(statement)
                .fetch_all(pool)
                .await?
                .iter()
                .map(sqlx::FromRow::from_row)
                .collect::<Result<_, _>>()?,
        })
    }

    async fn begin(&self) -> Result<Transaction, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Transaction::Sqlite(pool.begin_with(Dialect::Sqlite.begin()).await?),
            Pool::Postgres(pool) => Transaction::Postgres(pool.begin_with(Dialect::Postgres.begin()).await?),
        })
    }
}

/// Opens the SQLite database at `url`; answers its file too, unless it is
/// in memory.
async fn connect_sqlite(url: &str) -> Result<(SqlitePool, Option<PathBuf>), StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(StoreError::InvalidUrl)?
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(SQLITE_MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // A COMMIT that fails (disk full, I/O error) makes SQLite roll the
        // transaction back itself; sqlx still counts it open, its ROLLBACK
        // then fails, and the connection would refuse every later BEGIN.
        // Such a connection is closed instead of going back to the pool. (The
        // ping first lets a rollback still queued on the connection finish;
        // this runs once the request is done with the connection, off its
        // path.)
        .after_release(|connection, _| {
            Box::pin(async move {
                connection.ping().await?;
                Ok(!connection.is_in_transaction())
            })
        });
    let (options, pool, file) = if is_sqlite_memory(url) {
        // The database lives as long as one connection to it: keep one open.
        (options, pool.min_connections(1).idle_timeout(None).max_lifetime(None), None)
    } else {
        create_parent(options.get_filename())?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Safe with WAL: a power cut may lose the last commits, never corrupt.
            .synchronous(SqliteSynchronous::Normal);
        let file = options.get_filename().to_owned();
        (options, pool, Some(file))
    };
    Ok((pool.connect_with(options).await.map_err(StoreError::Connect)?, file))
}

/// Whether a SQLite URL names an in-memory database.
fn is_sqlite_memory(url: &str) -> bool {
    let rest = url.split_once(':').map_or("", |(_, rest)| rest);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.starts_with(":memory:") || rest.split_once('?').is_some_and(|(_, params)| params.contains("mode=memory"))
}

/// Creates the directory that will hold the SQLite file `file`.
fn create_parent(file: &Path) -> Result<(), StoreError> {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !parent.exists() => std::fs::create_dir_all(parent)
            .map_err(|source| StoreError::CreateDirectory { path: parent.to_owned(), source }),
        _ => Ok(()),
    }
}

/// Connects to the PostgreSQL database at `url`.
async fn connect_postgres(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(StoreError::InvalidUrl)?;
    PgPoolOptions::new()
        .max_connections(POSTGRES_MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)
}

/// A new item about to be stored: a new UUIDv7 id, `created_at` (and
/// `updated_at`) now, its tags without repeats.
struct Fresh<'a> {
    id: String,
    now: i64,
    owner: Owner<'a>,
    name: String,
    description: String,
    price_cents: i64,
    tags: Vec<String>,
}

impl<'a> Fresh<'a> {
    fn new(owner: Owner<'a>, item: NewItem) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            now: now_micros(),
            owner,
            price_cents: item.price.cents(),
            name: item.name,
            description: item.description,
            tags: unique(item.tags),
        }
    }

    /// The row to insert.
    fn row(&self) -> NewRow<'_> {
        NewRow {
            id: &self.id,
            name: &self.name,
            description: &self.description,
            price_cents: self.price_cents,
            owner: self.owner,
            created_at: self.now,
        }
    }

    /// The item as [`Store::get`] answers it once stored.
    fn into_item(self) -> Result<Item, StoreError> {
        ItemRow {
            id: self.id,
            name: self.name,
            description: self.description,
            price_cents: self.price_cents,
            owner: self.owner.id.to_owned(),
            created_at: self.now,
            updated_at: self.now,
        }
        .into_item(self.tags)
    }
}

/// Now, in microseconds since the epoch.
fn now_micros() -> i64 {
    micros(OffsetDateTime::now_utc())
}

/// `tags` without repeats, in their first order (the caller should have done
/// this; a repeat would break the primary key).
fn unique(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

/// A create's fingerprint: SHA-256 over its normalised fields, each
/// length-prefixed so that no two items share one.
fn fingerprint(name: &str, description: &str, price_cents: i64, tags: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for field in [name, description].into_iter().chain(tags.iter().map(String::as_str)) {
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field.as_bytes());
    }
    hash.update(price_cents.to_be_bytes());
    hash.update((tags.len() as u64).to_be_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Inserts an item and its tags.
async fn insert(tx: &mut Transaction, row: &NewRow<'_>, tags: &[String]) -> Result<(), StoreError> {
    tx.execute(&sql::insert_item(row)).await?;
    if let Some(insert) = sql::insert_tags(row.id, tags) {
        tx.execute(&insert).await?;
    }
    Ok(())
}

/// The items of `rows`, in their order, with their tags.
async fn with_tags(tx: &mut Transaction, rows: Vec<ItemRow>) -> Result<Vec<Item>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for (id, tag) in tx.fetch_pairs(&sql::tags_of(&ids)).await? {
        tags.entry(id).or_default().push(tag);
    }
    rows.into_iter()
        .map(|row| {
            let tags = tags.remove(&row.id).unwrap_or_default();
            row.into_item(tags)
        })
        .collect()
}
