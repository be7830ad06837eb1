//! Unit tests of the SQL the store writes (the behaviour is tested against
//! real databases in `tests/store.rs`).

use super::is_sqlite_memory;
use super::sql::{self, Arg, Dialect, contains_pattern};
use crate::model::{Cursor, ItemPatch, ListQuery, Owner, Price, Visibility};

const BOB: Owner<'static> = Owner { issuer: "https://idp.example/oauth2/default", id: "bob" };

#[test]
fn like_patterns_match_wildcards_literally() {
    assert_eq!(contains_pattern("tea"), "%tea%");
    assert_eq!(contains_pattern("50%"), "%50\\%%");
    assert_eq!(contains_pattern("a_b"), "%a\\_b%");
    assert_eq!(contains_pattern("c:\\dir"), "%c:\\\\dir%");
    assert_eq!(contains_pattern(""), "%%");
}

#[test]
fn placeholders_are_numbered_in_the_order_of_their_values() {
    let query = ListQuery {
        limit: 10,
        cursor: Some(Cursor { created_at_micros: 42, id: "0190-ab".into() }),
        q: Some("Tea".into()),
        tag: Some("Drinks".into()),
    };
    let alice = Owner { issuer: "https://idp.example/oauth2/default", id: "00u1alice" };
    let st = sql::list(Dialect::Postgres, Visibility::Owner(alice), &query, 11);
    for n in 1..=st.args.len() {
        assert!(st.sql.contains(&format!("${n}")), "${n} missing from {}", st.sql);
    }
    assert!(!st.sql.contains(&format!("${}", st.args.len() + 1)));
    assert_eq!(
        st.args,
        [
            Arg::Text("https://idp.example/oauth2/default".into()),
            Arg::Text("00u1alice".into()),
            Arg::Int(42),
            Arg::Text("0190-ab".into()),
            Arg::Text("%Tea%".into()),
            Arg::Text("%Tea%".into()),
            Arg::Text("drinks".into()),
            Arg::Int(11),
        ]
    );
    assert!(st.sql.contains("owner_issuer = $1 AND owner = $2"));
    assert!(st.sql.contains("(created_at, id) < ($3, $4)"));
    assert!(st.sql.ends_with("ORDER BY created_at DESC, id DESC LIMIT $8"));
}

#[test]
fn search_ignores_case_in_each_dialect() {
    let query = ListQuery { q: Some("x".into()), ..ListQuery::default() };
    let postgres = sql::list(Dialect::Postgres, Visibility::All, &query, 21).sql;
    let sqlite = sql::list(Dialect::Sqlite, Visibility::All, &query, 21).sql;
    assert!(postgres.contains("name ILIKE $1 ESCAPE '\\'"), "{postgres}");
    assert!(sqlite.contains("name LIKE $1 ESCAPE '\\'"), "{sqlite}");
    assert!(!sqlite.contains("ILIKE"));
}

#[test]
fn everyone_filter_adds_no_owner_condition() {
    let all = sql::get(Dialect::Postgres, Visibility::All, "id-1");
    assert!(all.sql.ends_with("WHERE id = $1"), "{}", all.sql);
    let own = sql::delete_item(Visibility::Owner(BOB), "id-1");
    assert!(own.sql.ends_with("WHERE id = $1 AND owner_issuer = $2 AND owner = $3"), "{}", own.sql);
}

#[test]
fn updates_set_only_the_patched_columns() {
    let patch = ItemPatch { price: Some(Price::from_cents(150).unwrap()), ..ItemPatch::default() };
    let st = sql::update_item(Visibility::Owner(BOB), "id-1", &patch, 1_000);
    assert!(st.sql.contains("price_cents = $3"), "{}", st.sql);
    assert!(!st.sql.contains("name ="));
    assert!(!st.sql.contains("description ="));
    assert_eq!(
        st.args,
        [
            Arg::Int(1_000),
            Arg::Int(1_000),
            Arg::Int(150),
            Arg::Text("id-1".into()),
            Arg::Text(BOB.issuer.into()),
            Arg::Text("bob".into())
        ]
    );
}

/// Issue 14, item 8: rows from before owners had issuers are re-keyed by
/// their old `sub`, and only those (an owner's query never matches them).
#[test]
fn claiming_re_keys_only_rows_without_an_issuer() {
    let st = sql::claim(BOB, "bob@example.com");
    assert_eq!(st.sql, "UPDATE items SET owner_issuer = $1, owner = $2 WHERE owner_issuer IS NULL AND owner = $3");
    assert_eq!(st.args, [Arg::Text(BOB.issuer.into()), Arg::Text("bob".into()), Arg::Text("bob@example.com".into())]);
}

#[test]
fn tags_are_inserted_in_order() {
    assert!(sql::insert_tags("id-1", &[]).is_none());
    let st = sql::insert_tags("id-1", &["b".into(), "a".into()]).unwrap();
    assert!(st.sql.ends_with("VALUES ($1, $2, $3), ($4, $5, $6)"), "{}", st.sql);
    assert_eq!(st.args[1], Arg::Text("b".into()));
    assert_eq!(st.args[5], Arg::Int(1));
}

#[test]
fn memory_urls_are_recognised() {
    assert!(is_sqlite_memory("sqlite::memory:"));
    assert!(is_sqlite_memory("sqlite://:memory:"));
    assert!(is_sqlite_memory("sqlite://items.db?mode=memory"));
    assert!(!is_sqlite_memory("sqlite://data/items.db"));
    assert!(!is_sqlite_memory("sqlite:items.db?mode=rwc"));
}

/// Compiled, never run: the store's futures can be spawned and served by axum.
#[allow(dead_code)]
fn store_futures_are_send(store: &super::Store, item: crate::model::NewItem) {
    fn send<T: Send>(_: T) {}
    send(super::Store::connect("sqlite::memory:"));
    send(store.ping());
    send(store.list(Visibility::All, &ListQuery::default()));
    send(store.get(Visibility::All, "id"));
    send(store.create(BOB, item));
    send(store.claim(BOB, "bob@example.com"));
    send(store.update(Visibility::All, "id", ItemPatch::default()));
    send(store.delete(Visibility::All, "id"));
    send(store.seed_demo("https://idp.example"));
}

/// Items whose JSON has something to get wrong: escapes, no tags, one tag,
/// extreme prices, times with and without fractions.
fn awkward_items() -> Vec<crate::model::Item> {
    use crate::model::{Item, from_micros};
    let item = |id: &str, name: &str, description: &str, cents: i64, tags: &[&str], created: i64, updated: i64| Item {
        id: id.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        price: Price::from_cents(cents).unwrap(),
        tags: tags.iter().map(|&t| t.to_owned()).collect(),
        owner: "00u1alice0000000001".to_owned(),
        created_at: from_micros(created),
        updated_at: from_micros(updated),
    };
    vec![
        item(
            "0190-a",
            "Tea \"green\" \\ 100 g",
            "line\nbreak\ttab \u{1} é 日本 🫖",
            1250,
            &["drinks", "tea"],
            1_733_560_000_123_456,
            1_733_560_001_000_000,
        ),
        item("0190-b", "", "", 0, &[], 0, 1),
        item(
            "0190-c",
            "Max",
            "</script>",
            crate::model::MAX_PRICE_CENTS,
            &["x"],
            1_733_560_000_000_000,
            1_733_560_000_000_000,
        ),
        item("0190-d", "Cents", "a\u{7f}b\u{2028}", 1, &["a", "b", "c"], 999, 1_000_001),
    ]
}

/// The body `list_json` writes is byte for byte what axum's `Json` made of
/// `api::ItemList` before, from rows as SQLite hands them and from items.
#[test]
fn pages_are_written_as_the_item_list_serialises() {
    use super::json::{Columns, ItemView, PageWriter};
    use crate::api::ItemList;
    use crate::model::micros;
    let items = awkward_items();
    for (count, more) in [(0, false), (1, false), (4, false), (4, true), (2, true)] {
        let page = &items[..count];
        let next_cursor = if more { page.last().map(|item| Cursor::after(item).encode()) } else { None };
        let expected = serde_json::to_vec(&ItemList { items: page.to_vec(), next_cursor }).unwrap();

        let mut from_items = PageWriter::new(0);
        let mut from_rows = PageWriter::new(0);
        for item in page {
            from_items.push(&ItemView::of(item)).unwrap();
            let joined = item.tags.join("\u{1f}");
            let columns = Columns {
                id: &item.id,
                name: &item.name,
                description: &item.description,
                price_cents: item.price.cents(),
                owner: &item.owner,
                created_at: micros(item.created_at),
                updated_at: micros(item.updated_at),
                tags: (!item.tags.is_empty()).then_some(joined.as_str()),
            };
            from_rows.push(&ItemView::from_columns(columns).unwrap()).unwrap();
        }
        let (from_items, from_rows) = (from_items.finish(more), from_rows.finish(more));
        assert_eq!(String::from_utf8(from_items).unwrap(), String::from_utf8(expected.clone()).unwrap());
        assert_eq!(String::from_utf8(from_rows).unwrap(), String::from_utf8(expected).unwrap());
    }
}

/// A stored price out of range is refused as `get` and `list` refuse it.
#[test]
fn rows_with_an_invalid_price_are_refused() {
    use super::json::{Columns, ItemView};
    let columns = Columns {
        id: "0190-x",
        name: "n",
        description: "",
        price_cents: -1,
        owner: "o",
        created_at: 0,
        updated_at: 0,
        tags: None,
    };
    let error = ItemView::from_columns(columns).err().unwrap();
    assert!(matches!(error, super::StoreError::InvalidItem { ref id, .. } if id == "0190-x"), "{error:?}");
}
