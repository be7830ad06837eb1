//! A page of items written as the JSON body of `GET /v1/items`
//! ([`crate::api::ItemList`]) straight from borrowed values: the SQLite read
//! path hands each row's text as it lies in SQLite's own buffers, so no
//! `String` is made per column nor an [`Item`] per row.
//!
//! The shape is [`Item`]'s serde form (the same field names and order, the
//! same price and time formats); `tests.rs` checks byte for byte that both
//! write the same.

use serde::ser::{Serialize, SerializeSeq, Serializer};
use time::OffsetDateTime;

use super::StoreError;
use crate::model::{Cursor, Item, Price, from_micros, micros};

/// One item, borrowed.
#[derive(serde::Serialize)]
pub(super) struct ItemView<'a> {
    /// See [`Item::id`].
    pub(super) id: &'a str,
    /// See [`Item::name`].
    pub(super) name: &'a str,
    /// See [`Item::description`].
    pub(super) description: &'a str,
    /// See [`Item::price`].
    pub(super) price: Price,
    /// See [`Item::tags`].
    pub(super) tags: Tags<'a>,
    /// See [`Item::owner`].
    pub(super) owner: &'a str,
    /// See [`Item::created_at`].
    #[serde(with = "time::serde::rfc3339")]
    pub(super) created_at: OffsetDateTime,
    /// See [`Item::updated_at`].
    #[serde(with = "time::serde::rfc3339")]
    pub(super) updated_at: OffsetDateTime,
}

impl<'a> ItemView<'a> {
    /// An item's columns as stored (see `sql::list`), checked as
    /// [`super::transaction::ItemRow::into_item`] checks them.
    pub(super) fn from_columns(columns: Columns<'a>) -> Result<Self, StoreError> {
        let price = Price::from_cents(columns.price_cents)
            .map_err(|source| StoreError::InvalidItem { id: columns.id.to_owned(), source })?;
        Ok(Self {
            id: columns.id,
            name: columns.name,
            description: columns.description,
            price,
            tags: Tags::Joined(columns.tags),
            owner: columns.owner,
            created_at: from_micros(columns.created_at),
            updated_at: from_micros(columns.updated_at),
        })
    }

    /// An item already read.
    pub(super) fn of(item: &'a Item) -> Self {
        Self {
            id: &item.id,
            name: &item.name,
            description: &item.description,
            price: item.price,
            tags: Tags::List(&item.tags),
            owner: &item.owner,
            created_at: item.created_at,
            updated_at: item.updated_at,
        }
    }
}

/// The columns of one row of `sql::list`, borrowed from the database's buffers.
pub(super) struct Columns<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) description: &'a str,
    pub(super) price_cents: i64,
    pub(super) owner: &'a str,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    /// The tags joined by U+001F, `None` when there are none.
    pub(super) tags: Option<&'a str>,
}

/// An item's tags: as stored (joined by U+001F) or as a list.
pub(super) enum Tags<'a> {
    /// Joined by U+001F; `None` when there are none.
    Joined(Option<&'a str>),
    /// Already split.
    List(&'a [String]),
}

impl Serialize for Tags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Joined(None) => serializer.serialize_seq(Some(0))?.end(),
            Self::Joined(Some(joined)) => {
                let mut seq = serializer.serialize_seq(None)?;
                for tag in joined.split('\u{1f}') {
                    seq.serialize_element(tag)?;
                }
                seq.end()
            }
            Self::List(tags) => tags.serialize(serializer),
        }
    }
}

/// A page's body being written: `{"items":[` … `],"next_cursor":` … `}`.
pub(super) struct PageWriter {
    body: Vec<u8>,
    items: usize,
    /// The last item's `created_at` (microseconds) and id, for the cursor
    /// (the id's buffer is reused from item to item).
    last_created_at: i64,
    last_id: String,
}

impl PageWriter {
    /// An empty page; `capacity` is a guess of the body's size.
    pub(super) fn new(capacity: usize) -> Self {
        let mut body = Vec::with_capacity(capacity);
        body.extend_from_slice(b"{\"items\":[");
        Self { body, items: 0, last_created_at: 0, last_id: String::new() }
    }

    /// Appends one item.
    pub(super) fn push(&mut self, item: &ItemView<'_>) -> Result<(), StoreError> {
        if self.items > 0 {
            self.body.push(b',');
        }
        serde_json::to_writer(&mut self.body, item).map_err(StoreError::Serialize)?;
        self.items += 1;
        self.last_created_at = micros(item.created_at);
        self.last_id.clear();
        self.last_id.push_str(item.id);
        Ok(())
    }

    /// The body, with `next_cursor` the cursor after the last item when
    /// `more` items follow, else `null`.
    pub(super) fn finish(mut self, more: bool) -> Vec<u8> {
        self.body.extend_from_slice(b"],\"next_cursor\":");
        if more && self.items > 0 {
            let cursor = Cursor { created_at_micros: self.last_created_at, id: self.last_id };
            // A cursor is base64url: nothing to escape.
            self.body.push(b'"');
            self.body.extend_from_slice(cursor.encode().as_bytes());
            self.body.push(b'"');
        } else {
            self.body.extend_from_slice(b"null");
        }
        self.body.push(b'}');
        self.body
    }
}
