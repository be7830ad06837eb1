//! The store's SQL, written once for both databases.
//!
//! Statements use `$1, $2, …` placeholders, which PostgreSQL and SQLite (through
//! sqlx) both accept, so only a few things depend on the [`Dialect`]: how a
//! writing transaction begins, the aggregated tags column of reads, the
//! case-insensitive `LIKE`, and the lock taken while seeding.

use std::fmt::Write as _;

use crate::model::{ItemPatch, ListQuery, Owner, Visibility};

/// The columns of `items`, in the order of [`super::transaction::ItemRow`].
const ITEM_COLUMNS: &str = "id, name, description, price_cents, owner, created_at, updated_at";

/// Which SQL the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// SQLite 3.35 or later (sqlx bundles a recent one).
    Sqlite,
    /// PostgreSQL 13 or later.
    Postgres,
}

impl Dialect {
    /// The statement that begins a (writing) transaction. Reads are single
    /// statements and need none.
    pub(super) fn begin(self) -> &'static str {
        match self {
            // Take the write lock up front, so the busy timeout applies to it; a
            // deferred transaction that reads and then writes can fail with
            // SQLITE_BUSY at once when another connection wrote in between.
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }

    /// A column with an item's tags in their order, joined by U+001F (which a
    /// tag cannot contain): reads need one statement, so no transaction.
    fn tags_column(self) -> &'static str {
        match self {
            Self::Sqlite => {
                ", (SELECT group_concat(tag, char(31) ORDER BY position) FROM item_tags \
                 WHERE item_tags.item_id = items.id) AS tags"
            }
            Self::Postgres => {
                ", (SELECT string_agg(tag, chr(31) ORDER BY position) FROM item_tags \
                 WHERE item_tags.item_id = items.id) AS tags"
            }
        }
    }

    /// Case-insensitive `LIKE`. SQLite's `LIKE` ignores case, for ASCII letters only.
    fn like(self) -> &'static str {
        match self {
            Self::Sqlite => "LIKE",
            Self::Postgres => "ILIKE",
        }
    }
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Arg {
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

/// SQL text and the values of its placeholders (`$1` is `args[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Statement {
    /// The SQL.
    pub(super) sql: String,
    /// The values of `$1, $2, …`.
    pub(super) args: Vec<Arg>,
}

impl Statement {
    /// A statement starting with `sql`.
    fn new(sql: &str) -> Self {
        Self { sql: sql.to_owned(), args: Vec::new() }
    }

    /// Appends SQL text.
    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder for `value`.
    fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        // Writing to a String cannot fail.
        let _ = write!(self.sql, "${}", self.args.len());
        self
    }

    /// Appends `AND owner_issuer = $n AND owner = $m` when `who` sees only
    /// their own items (never rows without an issuer: those wait for [`claim`]).
    fn visible_to(&mut self, who: Visibility<'_>) -> &mut Self {
        if let Visibility::Owner(owner) = who {
            self.push(" AND owner_issuer = ").bind(owner.issuer);
            self.push(" AND owner = ").bind(owner.id);
        }
        self
    }
}

/// A `LIKE` pattern matching text that contains `text` literally: `\`, `%` and
/// `_` are escaped with `\` (used with `ESCAPE '\'`).
pub(super) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Up to `fetch` items `who` may see, matching `query`, newest first, strictly
/// after `query.cursor`.
pub(super) fn list(dialect: Dialect, who: Visibility<'_>, query: &ListQuery, fetch: i64) -> Statement {
    let mut st = Statement::new("SELECT ");
    st.push(ITEM_COLUMNS).push(dialect.tags_column()).push(" FROM items WHERE 1 = 1");
    st.visible_to(who);
    if let Some(cursor) = &query.cursor {
        // Keyset: (created_at, id) descending, so "after" is "smaller".
        // A row-value comparison, which both databases answer from the indexes.
        st.push(" AND (created_at, id) < (").bind(cursor.created_at_micros);
        st.push(", ").bind(cursor.id.as_str()).push(")");
    }
    if let Some(q) = &query.q {
        let like = dialect.like();
        let pattern = contains_pattern(q);
        st.push(" AND (name ").push(like).push(" ").bind(pattern.as_str()).push(" ESCAPE '\\'");
        st.push(" OR description ").push(like).push(" ").bind(pattern).push(" ESCAPE '\\')");
    }
    if let Some(tag) = &query.tag {
        st.push(" AND EXISTS (SELECT 1 FROM item_tags WHERE item_tags.item_id = items.id AND item_tags.tag = ");
        st.bind(tag.trim().to_lowercase()).push(")");
    }
    st.push(" ORDER BY created_at DESC, id DESC LIMIT ").bind(fetch);
    st
}

/// The item `id` with its tags, if `who` may see it.
pub(super) fn get(dialect: Dialect, who: Visibility<'_>, id: &str) -> Statement {
    let mut st = Statement::new("SELECT ");
    st.push(ITEM_COLUMNS).push(dialect.tags_column()).push(" FROM items WHERE id = ").bind(id);
    st.visible_to(who);
    st
}

/// The tags of the items `ids` as `(item_id, tag)`, each item's in their order.
pub(super) fn tags_of(ids: &[&str]) -> Statement {
    let mut st = Statement::new("SELECT item_id, tag FROM item_tags WHERE item_id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            st.push(", ");
        }
        st.bind(*id);
    }
    st.push(") ORDER BY item_id, position");
    st
}

/// The values of a new `items` row.
pub(super) struct NewRow<'a> {
    /// Its id.
    pub(super) id: &'a str,
    /// Its name.
    pub(super) name: &'a str,
    /// Its description.
    pub(super) description: &'a str,
    /// Its price.
    pub(super) price_cents: i64,
    /// Its owner.
    pub(super) owner: Owner<'a>,
    /// Its creation time, also its update time.
    pub(super) created_at: i64,
}

/// Inserts an item row (not its tags).
pub(super) fn insert_item(row: &NewRow<'_>) -> Statement {
    let mut st = Statement::new("INSERT INTO items (");
    st.push(ITEM_COLUMNS).push(", owner_issuer) VALUES (").bind(row.id);
    st.push(", ").bind(row.name);
    st.push(", ").bind(row.description);
    st.push(", ").bind(row.price_cents);
    st.push(", ").bind(row.owner.id);
    st.push(", ").bind(row.created_at);
    st.push(", ").bind(row.created_at);
    st.push(", ").bind(row.owner.issuer).push(")");
    st
}

/// Inserts the tags of item `id`, in order; `None` when there are none.
pub(super) fn insert_tags(id: &str, tags: &[String]) -> Option<Statement> {
    if tags.is_empty() {
        return None;
    }
    let mut st = Statement::new("INSERT INTO item_tags (item_id, tag, position) VALUES ");
    for (position, tag) in (0_i64..).zip(tags) {
        if position > 0 {
            st.push(", ");
        }
        st.push("(").bind(id).push(", ").bind(tag.as_str()).push(", ").bind(position).push(")");
    }
    Some(st)
}

/// Deletes the tags of item `id`.
pub(super) fn delete_tags(id: &str) -> Statement {
    let mut st = Statement::new("DELETE FROM item_tags WHERE item_id = ");
    st.bind(id);
    st
}

/// Applies `patch` (its tags apart) to item `id` if `who` may change it, moves
/// `updated_at` forward, and returns the row. `updated_at` becomes `now`, or one
/// microsecond after its old value if the clock has not moved past it, so that
/// every update changes it.
pub(super) fn update_item(who: Visibility<'_>, id: &str, patch: &ItemPatch, now: i64) -> Statement {
    let mut st = Statement::new("UPDATE items SET updated_at = CASE WHEN updated_at < ");
    st.bind(now).push(" THEN ").bind(now).push(" ELSE updated_at + 1 END");
    if let Some(name) = &patch.name {
        st.push(", name = ").bind(name.as_str());
    }
    if let Some(description) = &patch.description {
        st.push(", description = ").bind(description.as_str());
    }
    if let Some(price) = patch.price {
        st.push(", price_cents = ").bind(price.cents());
    }
    st.push(" WHERE id = ").bind(id);
    st.visible_to(who);
    st.push(" RETURNING ").push(ITEM_COLUMNS);
    st
}

/// Deletes item `id` (its tags go with it) if `who` may change it.
pub(super) fn delete_item(who: Visibility<'_>, id: &str) -> Statement {
    let mut st = Statement::new("DELETE FROM items WHERE id = ");
    st.bind(id);
    st.visible_to(who);
    st
}

/// Rows from before owners had issuers (see the migration `owner_ids`)
/// whose `sub` was `sub`: re-keyed to `owner`.
pub(super) fn claim(owner: Owner<'_>, sub: &str) -> Statement {
    let mut st = Statement::new("UPDATE items SET owner_issuer = ");
    st.bind(owner.issuer).push(", owner = ").bind(owner.id);
    st.push(" WHERE owner_issuer IS NULL AND owner = ").bind(sub);
    st
}

/// The id of some row from before owners had issuers whose `sub` was `sub`
/// (any such row, without `sub`).
pub(super) fn unclaimed(sub: Option<&str>) -> Statement {
    let mut st = Statement::new("SELECT id FROM items WHERE owner_issuer IS NULL");
    if let Some(sub) = sub {
        st.push(" AND owner = ").bind(sub);
    }
    st.push(" LIMIT 1");
    st
}

/// The id of some item, if there is any.
pub(super) fn any_item() -> Statement {
    Statement::new("SELECT id FROM items LIMIT 1")
}

/// A lock that makes concurrent seeders wait for each other, where `BEGIN`
/// does not already: SQLite's `BEGIN IMMEDIATE` does.
pub(super) fn lock_for_seed(dialect: Dialect) -> Option<Statement> {
    match dialect {
        Dialect::Sqlite => None,
        // Conflicts with itself and with writers, not with readers.
        Dialect::Postgres => Some(Statement::new("LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE")),
    }
}

/// Forgets the idempotency keys made before `before` (microseconds).
pub(super) fn forget_keys(before: i64) -> Statement {
    let mut st = Statement::new("DELETE FROM idempotency_keys WHERE created_at < ");
    st.bind(before);
    st
}

/// A create's idempotency key, as stored.
pub(super) struct KeyRow<'a> {
    /// The caller: keys are per owner.
    pub(super) owner: Owner<'a>,
    /// The key.
    pub(super) key: &'a str,
    /// The request's fingerprint.
    pub(super) fingerprint: &'a str,
    /// The item the request makes.
    pub(super) item_id: &'a str,
    /// When (microseconds).
    pub(super) created_at: i64,
}

/// Remembers an idempotency key unless the caller has it already (then it
/// changes no row). On PostgreSQL it waits for a concurrent request with the
/// same key to finish, and then changes nothing if that one committed.
pub(super) fn remember_key(row: &KeyRow<'_>) -> Statement {
    let mut st = Statement::new(
        "INSERT INTO idempotency_keys (owner_issuer, owner, key, fingerprint, item_id, created_at) VALUES (",
    );
    st.bind(row.owner.issuer).push(", ").bind(row.owner.id).push(", ").bind(row.key);
    st.push(", ").bind(row.fingerprint).push(", ").bind(row.item_id).push(", ").bind(row.created_at);
    st.push(") ON CONFLICT (owner_issuer, owner, key) DO NOTHING");
    st
}

/// The fingerprint and item of the caller's idempotency key.
pub(super) fn find_key(owner: Owner<'_>, key: &str) -> Statement {
    let mut st = Statement::new("SELECT fingerprint, item_id FROM idempotency_keys WHERE owner_issuer = ");
    st.bind(owner.issuer).push(" AND owner = ").bind(owner.id).push(" AND key = ").bind(key);
    st
}
