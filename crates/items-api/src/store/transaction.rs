//! A transaction on either database, running [`Statement`]s.
//!
//! Each method matches on the database and runs the same line for both: the
//! code is written once, and type-checked against each concrete driver.

use sqlx::{Database, Encode, FromRow, Postgres, Sqlite, Type};

use super::StoreError;
use super::sql::{Arg, Dialect, Statement};
use crate::model::{Item, Price, from_micros};

/// A row of `items`.
#[derive(Debug, Clone, FromRow)]
pub(super) struct ItemRow {
    /// `id`.
    pub(super) id: String,
    /// `name`.
    pub(super) name: String,
    /// `description`.
    pub(super) description: String,
    /// `price_cents`.
    pub(super) price_cents: i64,
    /// `owner`.
    pub(super) owner: String,
    /// `created_at`, microseconds since the epoch.
    pub(super) created_at: i64,
    /// `updated_at`, microseconds since the epoch.
    pub(super) updated_at: i64,
}

impl ItemRow {
    /// The item, with its tags.
    pub(super) fn into_item(self, tags: Vec<String>) -> Result<Item, StoreError> {
        let price = Price::from_cents(self.price_cents)
            .map_err(|source| StoreError::InvalidItem { id: self.id.clone(), source })?;
        Ok(Item {
            id: self.id,
            name: self.name,
            description: self.description,
            price,
            tags,
            owner: self.owner,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

/// A row of `items` with its tags joined by U+001F (see `sql::list`).
#[derive(Debug, Clone, FromRow)]
pub(super) struct TaggedRow {
    /// The item's columns.
    #[sqlx(flatten)]
    pub(super) item: ItemRow,
    /// Its tags in order, joined by U+001F; `NULL` when it has none.
    pub(super) tags: Option<String>,
}

impl TaggedRow {
    /// The item.
    pub(super) fn into_item(self) -> Result<Item, StoreError> {
        let tags = self.tags.map(|joined| joined.split('\u{1f}').map(str::to_owned).collect()).unwrap_or_default();
        self.item.into_item(tags)
    }
}

/// An open transaction. Dropping it without [`Transaction::commit`] rolls it back.
pub(super) enum Transaction {
    /// On SQLite.
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// `statement` as an sqlx query with its values bound.
pub(super) fn query<'q, DB>(statement: &'q Statement) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
{
    statement.args.iter().fold(sqlx::query(&statement.sql), |query, arg| match arg {
        Arg::Int(value) => query.bind(*value),
        Arg::Text(value) => query.bind(value.as_str()),
    })
}

impl Transaction {
    /// The database's dialect.
    pub(super) fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `statement`; returns how many rows it changed.
    pub(super) async fn execute(&mut self, statement: &Statement) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(tx) => query(statement).execute(&mut **tx).await?.rows_affected(),
            Self::Postgres(tx) => query(statement).execute(&mut **tx).await?.rows_affected(),
        })
    }

    /// Runs `statement` and reads its rows as `T`.
    async fn fetch<T>(&mut self, statement: &Statement) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> FromRow<'r, sqlx::postgres::PgRow>,
    {
        match self {
            Self::Sqlite(tx) => query(statement).fetch_all(&mut **tx).await?.iter().map(T::from_row).collect(),
            Self::Postgres(tx) => query(statement).fetch_all(&mut **tx).await?.iter().map(T::from_row).collect(),
        }
    }

    /// Runs `statement`, which selects or returns the columns of `items`.
    pub(super) async fn fetch_items(&mut self, statement: &Statement) -> Result<Vec<ItemRow>, sqlx::Error> {
        self.fetch(statement).await
    }

    /// Runs `statement`, which selects two text columns.
    pub(super) async fn fetch_pairs(&mut self, statement: &Statement) -> Result<Vec<(String, String)>, sqlx::Error> {
        self.fetch(statement).await
    }

    /// Runs `statement`, which selects one text column.
    pub(super) async fn fetch_texts(&mut self, statement: &Statement) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String,)> = self.fetch(statement).await?;
        Ok(rows.into_iter().map(|(text,)| text).collect())
    }

    /// Commits.
    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(tx) => tx.commit().await,
            Self::Postgres(tx) => tx.commit().await,
        }
    }
}
