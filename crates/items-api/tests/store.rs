//! The item store against real databases, no mocks.
//!
//! Every behaviour runs twice: `sqlite::*` on a fresh file in a temporary
//! directory, `postgres::*` on a fresh database made for the test in the server
//! at `TEST_DATABASE_URL` (start one with
//! `export TEST_DATABASE_URL=$(scripts/postgres.sh)`). Without that variable the
//! PostgreSQL tests print "skipped: TEST_DATABASE_URL not set" and pass, unless
//! `TESSERA_REQUIRE_POSTGRES=1`, which makes them fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/postgres.rs"]
mod postgres_db;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use items_api::model::{Cursor, Item, ItemPatch, ListQuery, NewItem, Owner, Price, Visibility};
use items_api::store::{Store, StoreError};
use sqlx::{Connection as _, Executor as _};
use wait::{within, within_limit};

use testkit as wait;

/// How long one behaviour below may take on one database before the test
/// fails (a lost wake-up or a lock never released must not hang it).
const BEHAVIOUR_LIMIT: Duration = Duration::from_secs(120);

const ISSUER: &str = "https://idp.example/oauth2/default";
/// Alice and bob as the demo seed owns items for them (their user ids at dev-idp).
const ALICE: Owner<'static> = Owner { issuer: ISSUER, id: "00u1alice0000000001" };
const BOB: Owner<'static> = Owner { issuer: ISSUER, id: "00u2bob00000000002" };

// ---------------------------------------------------------------------------
// Databases

/// A store on a new SQLite file, deleted with the directory when dropped.
struct SqliteDb {
    store: Store,
    _dir: tempfile::TempDir,
}

impl SqliteDb {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = within("opening a SQLite store", Store::connect(&sqlite_url(&dir, "items.db"))).await.unwrap();
        Self { store, _dir: dir }
    }
}

fn sqlite_url(dir: &tempfile::TempDir, file: &str) -> String {
    format!("sqlite://{}", dir.path().join(file).display())
}

/// A store on a new PostgreSQL database, made for one test so that tests can
/// run side by side.
struct PostgresDb {
    store: Store,
    server_url: String,
    name: String,
}

impl PostgresDb {
    /// `None` (after saying so) when no server is configured and none is required.
    async fn new(test: &str) -> Option<Self> {
        let url = postgres_db::fresh_database("test", &format!("postgres::{test}")).await?;
        let store = within("opening a PostgreSQL store", Store::connect(&url)).await.unwrap();
        let server_url = std::env::var("TEST_DATABASE_URL").expect("set: the database was made there");
        let name = url.rsplit('/').next().expect("a path").to_owned();
        Some(Self { store, server_url, name })
    }

    /// Drops the test's database (left behind when the test fails, for a look).
    async fn drop_database(self) {
        drop(self.store);
        within("dropping the test's database", async {
            let mut server = sqlx::PgConnection::connect(&self.server_url).await.unwrap();
            server.execute(format!("DROP DATABASE {} WITH (FORCE)", self.name).as_str()).await.unwrap();
            server.close().await.unwrap();
        })
        .await;
    }
}

/// Runs each named behaviour (an `async fn(&Store)` below) on SQLite and on
/// PostgreSQL, each on a database of its own.
macro_rules! on_both_databases {
    ($($behaviour:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $behaviour() {
                    let db = super::SqliteDb::new().await;
                    let what = concat!("sqlite::", stringify!($behaviour));
                    super::within_limit(super::BEHAVIOUR_LIMIT, what, super::$behaviour(&db.store)).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $behaviour() {
                    let Some(db) = super::PostgresDb::new(stringify!($behaviour)).await else { return };
                    let what = concat!("postgres::", stringify!($behaviour));
                    super::within_limit(super::BEHAVIOUR_LIMIT, what, super::$behaviour(&db.store)).await;
                    db.drop_database().await;
                }
            )+
        }
    };
}

on_both_databases!(
    ping_answers,
    created_items_read_back_exactly,
    owners_cannot_see_or_change_each_others_items,
    owners_are_scoped_by_their_issuer,
    pages_walk_every_item_once_newest_first,
    pages_stay_stable_while_items_are_added,
    search_finds_name_or_description_ignoring_case,
    search_matches_percent_underscore_and_backslash_literally,
    tag_filter_combines_with_owner_search_and_cursor,
    updates_move_updated_at_and_replace_tags,
    concurrent_updates_leave_one_whole_patch,
    deleting_removes_the_item_and_its_tags,
    seed_demo_fills_an_empty_store_once,
    seed_demo_leaves_a_store_with_items_alone,
    concurrent_writes_are_all_stored,
    an_idempotency_key_makes_one_item_and_answers_it_again,
    an_idempotency_key_for_another_item_or_a_deleted_one_is_refused,
    concurrent_creates_with_one_key_make_one_item,
    list_json_answers_the_page_list_answers,
);

// ---------------------------------------------------------------------------
// Helpers

fn new_item(name: &str, description: &str, cents: i64, tags: &[&str]) -> NewItem {
    NewItem {
        name: name.into(),
        description: description.into(),
        price: Price::from_cents(cents).unwrap(),
        tags: tags.iter().map(|&tag| tag.to_owned()).collect(),
    }
    .validated()
    .unwrap()
}

fn named(name: &str) -> NewItem {
    new_item(name, "", 100, &[])
}

fn query(limit: u32) -> ListQuery {
    ListQuery { limit, ..ListQuery::default() }
}

/// Every page of a listing, checking each: at most `limit` items, newest
/// first, `next` on every page but the last (which may be the first).
async fn walk(store: &Store, who: Visibility<'_>, mut query: ListQuery) -> Vec<Vec<Item>> {
    let mut pages = Vec::new();
    loop {
        let page = store.list(who, &query).await.unwrap();
        assert!(page.items.len() <= query.limit as usize, "page longer than the limit");
        assert_newest_first(&page.items);
        if let Some(next) = &page.next {
            assert_eq!(page.items.len(), query.limit as usize, "a page before the last is full");
            assert_eq!(next, &Cursor::after(page.items.last().unwrap()));
        }
        let next = page.next.clone();
        pages.push(page.items);
        assert!(pages.len() < 1000, "the listing does not end");
        match next {
            Some(cursor) => query.cursor = Some(cursor),
            None => return pages,
        }
    }
}

/// All the items of a listing, one page after the other.
async fn walk_all(store: &Store, who: Visibility<'_>, query: ListQuery) -> Vec<Item> {
    walk(store, who, query).await.into_iter().flatten().collect()
}

fn ids(items: &[Item]) -> Vec<String> {
    items.iter().map(|item| item.id.clone()).collect()
}

fn names(items: &[Item]) -> BTreeSet<String> {
    items.iter().map(|item| item.name.clone()).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|&name| name.to_owned()).collect()
}

fn assert_newest_first(items: &[Item]) {
    for pair in items.windows(2) {
        let (a, b) = (Cursor::after(&pair[0]), Cursor::after(&pair[1]));
        assert!(
            (a.created_at_micros, &a.id) > (b.created_at_micros, &b.id),
            "not strictly newest first: {a:?} then {b:?}"
        );
    }
}

fn assert_unique(ids: &[String]) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an item was listed twice");
}

/// Items `q` finds, for everyone.
async fn search(store: &Store, q: &str) -> BTreeSet<String> {
    names(&walk_all(store, Visibility::All, ListQuery { q: Some(q.into()), ..query(100) }).await)
}

// ---------------------------------------------------------------------------
// Behaviours, on both databases

async fn ping_answers(store: &Store) {
    store.ping().await.unwrap();
}

async fn created_items_read_back_exactly(store: &Store) {
    let before = time::OffsetDateTime::now_utc();
    let item = store
        .create(ALICE, new_item("Desk lamp", "Brass, with a linen shade", 4_550, &["home", "desk", "brass"]))
        .await
        .unwrap();
    assert_eq!(item.name, "Desk lamp");
    assert_eq!(item.description, "Brass, with a linen shade");
    assert_eq!(item.price.cents(), 4_550);
    assert_eq!(item.tags, ["home", "desk", "brass"], "tags keep their order");
    assert_eq!(item.owner, ALICE.id);
    assert_eq!(item.created_at, item.updated_at);
    assert!(item.created_at >= before - Duration::from_secs(1) && item.created_at <= time::OffsetDateTime::now_utc());
    let id = uuid::Uuid::parse_str(&item.id).unwrap();
    assert_eq!(id.get_version_num(), 7);
    assert_eq!(item.id, id.to_string(), "ids are lower-case hyphenated UUIDs");

    assert_eq!(store.get(Visibility::Owner(ALICE), &item.id).await.unwrap().as_ref(), Some(&item));
    assert_eq!(store.get(Visibility::All, &item.id).await.unwrap().as_ref(), Some(&item));
    let page = store.list(Visibility::Owner(ALICE), &query(10)).await.unwrap();
    assert_eq!(page.items, std::slice::from_ref(&item));
    assert_eq!(page.next, None);

    let plain = store.create(ALICE, new_item("Pebble", "", 0, &[])).await.unwrap();
    assert!(plain.tags.is_empty());
    assert_eq!(store.get(Visibility::All, &plain.id).await.unwrap(), Some(plain));
    assert_eq!(store.get(Visibility::All, "0190b3c4-0000-7000-8000-000000000000").await.unwrap(), None);
}

async fn owners_cannot_see_or_change_each_others_items(store: &Store) {
    let alices = store.create(ALICE, new_item("Alice's bike", "", 30_000, &["bike"])).await.unwrap();
    let bobs = store.create(BOB, new_item("Bob's kettle", "", 2_500, &["kitchen"])).await.unwrap();
    let (alice, bob) = (Visibility::Owner(ALICE), Visibility::Owner(BOB));

    // Bob can neither see nor change Alice's item…
    assert_eq!(store.get(bob, &alices.id).await.unwrap(), None);
    let patch = ItemPatch { name: Some("Stolen bike".into()), tags: Some(vec![]), ..ItemPatch::default() };
    assert_eq!(store.update(bob, &alices.id, patch.clone()).await.unwrap(), None);
    assert!(!store.delete(bob, &alices.id).await.unwrap());
    assert_eq!(store.get(alice, &alices.id).await.unwrap().as_ref(), Some(&alices), "unchanged");
    // …nor list it.
    assert_eq!(ids(&walk_all(store, bob, query(10)).await), [bobs.id.as_str()]);
    assert_eq!(ids(&walk_all(store, alice, query(10)).await), [alices.id.as_str()]);
    // Everyone (admin) sees both, newest first.
    assert_eq!(ids(&walk_all(store, Visibility::All, query(10)).await), [bobs.id.clone(), alices.id.clone()]);

    // Alice changes and deletes her own.
    let renamed = store.update(alice, &alices.id, patch).await.unwrap().unwrap();
    assert_eq!(renamed.name, "Stolen bike");
    assert!(store.delete(alice, &alices.id).await.unwrap());
    assert_eq!(store.get(alice, &alices.id).await.unwrap(), None);
    assert!(!store.delete(alice, &alices.id).await.unwrap(), "deleting twice finds nothing");
    assert_eq!(store.update(alice, &alices.id, ItemPatch::default()).await.unwrap(), None);

    // The admin may change and delete anyone's.
    let patch = ItemPatch { price: Some(Price::from_cents(1).unwrap()), ..ItemPatch::default() };
    let cheap = store.update(Visibility::All, &bobs.id, patch).await.unwrap().unwrap();
    assert_eq!((cheap.price.cents(), cheap.owner.as_str()), (1, BOB.id));
    assert!(store.delete(Visibility::All, &bobs.id).await.unwrap());
    assert!(walk_all(store, Visibility::All, query(10)).await.is_empty());
}

/// Issue 14, item 8: one user id at two issuers is two owners, for items
/// and idempotency keys alike.
async fn owners_are_scoped_by_their_issuer(store: &Store) {
    let here = ALICE;
    let there = Owner { issuer: "https://other.example/oauth2/default", id: ALICE.id };
    let mine = store.create_once(here, named("Here"), "k").await.unwrap();
    let theirs = store.create_once(there, named("There"), "k").await.unwrap();
    assert!(!theirs.replayed, "the same key at another issuer is another key");
    assert_ne!(mine.item.id, theirs.item.id);
    let (here_v, there_v) = (Visibility::Owner(here), Visibility::Owner(there));
    assert_eq!(ids(&walk_all(store, here_v, query(10)).await), [mine.item.id.as_str()]);
    assert_eq!(ids(&walk_all(store, there_v, query(10)).await), [theirs.item.id.as_str()]);
    assert_eq!(store.get(there_v, &mine.item.id).await.unwrap(), None);
    assert_eq!(
        store
            .update(there_v, &mine.item.id, ItemPatch { name: Some("x".into()), ..ItemPatch::default() })
            .await
            .unwrap(),
        None
    );
    assert!(!store.delete(there_v, &mine.item.id).await.unwrap());
    assert_eq!(store.get(here_v, &mine.item.id).await.unwrap().map(|i| i.name), Some("Here".to_owned()));
    // Nothing is left from before owner ids: claiming changes nothing.
    assert_eq!(store.claim(here, "alice@example.com").await.unwrap(), 0);
}

async fn pages_walk_every_item_once_newest_first(store: &Store) {
    let mut alices = Vec::new();
    let mut bobs = Vec::new();
    for i in 0..23 {
        alices.push(store.create(ALICE, named(&format!("alice {i}"))).await.unwrap());
        if i % 4 == 0 {
            bobs.push(store.create(BOB, named(&format!("bob {i}"))).await.unwrap());
        }
    }
    let newest_first = |items: &[Item]| ids(items).into_iter().rev().collect::<Vec<_>>();

    let pages = walk(store, Visibility::Owner(ALICE), query(5)).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 5, 5, 3]);
    assert_eq!(ids(&pages.concat()), newest_first(&alices));

    // A limit that divides the count: the last full page says there is no more.
    let pages = walk(store, Visibility::Owner(BOB), query(3)).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3]);
    assert_eq!(ids(&pages.concat()), newest_first(&bobs));
    let pages = walk(store, Visibility::Owner(BOB), query(6)).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [6]);

    for limit in [1, 7, 29, 100] {
        let all = walk_all(store, Visibility::All, query(limit)).await;
        assert_eq!(all.len(), 29, "limit {limit}");
        assert_unique(&ids(&all));
        assert_newest_first(&all);
    }

    // A cursor stays valid when the item it names is deleted.
    let first = store.list(Visibility::Owner(ALICE), &query(5)).await.unwrap();
    let cursor = first.next.unwrap();
    assert!(store.delete(Visibility::All, &cursor.id).await.unwrap());
    let rest = walk_all(store, Visibility::Owner(ALICE), ListQuery { cursor: Some(cursor), ..query(5) }).await;
    assert_eq!(ids(&rest), newest_first(&alices)[5..]);
}

async fn pages_stay_stable_while_items_are_added(store: &Store) {
    let mut existing = Vec::new();
    for i in 0..40 {
        existing.push(store.create(ALICE, named(&format!("old {i}"))).await.unwrap().id);
    }

    // Someone keeps adding items while we read page after page.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (store, stop) = (store.clone(), Arc::clone(&stop));
        async move {
            let mut added = 0;
            while !stop.load(Ordering::Relaxed) {
                store.create(ALICE, named(&format!("new {added}"))).await.unwrap();
                added += 1;
                tokio::task::yield_now().await;
            }
            added
        }
    });

    let mut seen = Vec::new();
    let mut query = query(6);
    let mut added_between_pages = 0;
    loop {
        let page = store.list(Visibility::Owner(ALICE), &query).await.unwrap();
        seen.extend(page.items);
        // And a few more, for certain, between two pages.
        for _ in 0..2 {
            store.create(ALICE, named("between pages")).await.unwrap();
            added_between_pages += 1;
        }
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let added_by_writer = writer.await.unwrap();

    let seen_ids = ids(&seen);
    assert_unique(&seen_ids);
    assert_newest_first(&seen);
    let seen_set: HashSet<&String> = seen_ids.iter().collect();
    let skipped: Vec<&String> = existing.iter().filter(|id| !seen_set.contains(id)).collect();
    assert!(skipped.is_empty(), "items that existed before the walk were skipped: {skipped:?}");
    // Only items added before the first page was read can be on it; none after.
    assert!(seen.len() <= existing.len() + added_by_writer);
    let total = walk_all(store, Visibility::All, ListQuery::default()).await.len();
    assert_eq!(total, existing.len() + added_by_writer + added_between_pages);
    assert!(added_between_pages >= 14);
}

async fn search_finds_name_or_description_ignoring_case(store: &Store) {
    store.create(ALICE, new_item("Espresso Machine", "Dual boiler", 24_900, &[])).await.unwrap();
    store.create(BOB, new_item("Teapot", "Brews ESPRESSO-strength tea", 1_900, &[])).await.unwrap();
    store.create(BOB, new_item("Lamp", "Reading light", 1_500, &[])).await.unwrap();

    assert_eq!(search(store, "espresso").await, set(&["Espresso Machine", "Teapot"]));
    assert_eq!(search(store, "EsPrEsSo").await, set(&["Espresso Machine", "Teapot"]));
    assert_eq!(search(store, "boiler").await, set(&["Espresso Machine"]), "description");
    assert_eq!(search(store, "LIGHT").await, set(&["Lamp"]));
    assert_eq!(search(store, "pot").await, set(&["Teapot"]), "inside a word");
    assert!(search(store, "cappuccino").await.is_empty());

    // Search respects visibility.
    let bobs = walk_all(store, Visibility::Owner(BOB), ListQuery { q: Some("espresso".into()), ..query(10) }).await;
    assert_eq!(names(&bobs), set(&["Teapot"]));
}

async fn search_matches_percent_underscore_and_backslash_literally(store: &Store) {
    for name in ["50% off voucher", "500 sheets of paper", "snake_case guide", "snakeXcase guide", "C:\\temp", "C:temp"]
    {
        store.create(ALICE, named(name)).await.unwrap();
    }
    assert_eq!(search(store, "50%").await, set(&["50% off voucher"]));
    assert_eq!(search(store, "%").await, set(&["50% off voucher"]));
    assert_eq!(search(store, "e_c").await, set(&["snake_case guide"]));
    assert_eq!(search(store, "_").await, set(&["snake_case guide"]));
    assert_eq!(search(store, "%_").await, BTreeSet::new());
    assert_eq!(search(store, ":\\").await, set(&["C:\\temp"]));
    assert_eq!(search(store, "\\").await, set(&["C:\\temp"]));
    assert_eq!(search(store, "'").await, BTreeSet::new(), "quotes are values, not SQL");
}

async fn tag_filter_combines_with_owner_search_and_cursor(store: &Store) {
    for i in 0..5 {
        store.create(ALICE, new_item(&format!("pan {i}"), "cast iron", 3_000, &["kitchen", "iron"])).await.unwrap();
        store.create(ALICE, new_item(&format!("mug {i}"), "", 800, &["kitchen"])).await.unwrap();
        store.create(ALICE, new_item(&format!("rope {i}"), "", 1_200, &["outdoor"])).await.unwrap();
        store.create(BOB, new_item(&format!("bowl {i}"), "", 900, &["kitchen"])).await.unwrap();
    }
    let tagged = |tag: &str, limit| ListQuery { tag: Some(tag.into()), ..query(limit) };

    let pages = walk(store, Visibility::Owner(ALICE), tagged("kitchen", 3)).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 3, 1]);
    let kitchen = pages.concat();
    assert_unique(&ids(&kitchen));
    assert!(kitchen.iter().all(|item| item.owner == ALICE.id && item.tags.contains(&"kitchen".to_owned())));
    assert_eq!(kitchen.len(), 10);
    // Every tag of an item comes back, not only the one asked for.
    assert!(kitchen.iter().filter(|item| item.name.starts_with("pan")).all(|item| item.tags == ["kitchen", "iron"]));

    assert_eq!(walk_all(store, Visibility::All, tagged("kitchen", 4)).await.len(), 15);
    assert_eq!(walk_all(store, Visibility::Owner(BOB), tagged("outdoor", 4)).await.len(), 0);
    assert_eq!(walk_all(store, Visibility::All, tagged("KITCHEN", 100)).await.len(), 15, "tags are lower case");
    assert!(walk_all(store, Visibility::All, tagged("kitch", 100)).await.is_empty(), "tags match whole");

    let iron_pans = ListQuery { q: Some("CAST".into()), ..tagged("iron", 2) };
    let found = walk_all(store, Visibility::Owner(ALICE), iron_pans).await;
    assert_eq!(names(&found), set(&["pan 0", "pan 1", "pan 2", "pan 3", "pan 4"]));
    let no_mugs = ListQuery { q: Some("mug".into()), ..tagged("iron", 2) };
    assert!(walk_all(store, Visibility::All, no_mugs).await.is_empty());
}

async fn updates_move_updated_at_and_replace_tags(store: &Store) {
    let who = Visibility::Owner(ALICE);
    let item = store.create(ALICE, new_item("Chair", "Oak", 12_000, &["home", "wood"])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    let renamed = store
        .update(who, &item.id, ItemPatch { name: Some("Oak chair".into()), ..ItemPatch::default() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Oak chair");
    assert_eq!((renamed.description.as_str(), renamed.price, &renamed.tags), ("Oak", item.price, &item.tags));
    assert_eq!(renamed.created_at, item.created_at, "created_at never changes");
    assert!(renamed.updated_at >= item.updated_at + Duration::from_millis(5), "updated_at moves with the clock");
    assert_eq!(store.get(who, &item.id).await.unwrap().as_ref(), Some(&renamed));

    // New tags replace the old ones.
    let patch = ItemPatch { tags: Some(vec!["garden".into(), "sale".into()]), ..ItemPatch::default() };
    let retagged = store.update(who, &item.id, patch).await.unwrap().unwrap();
    assert_eq!(retagged.tags, ["garden", "sale"]);
    assert!(retagged.updated_at > renamed.updated_at);
    assert_eq!(store.get(who, &item.id).await.unwrap().as_ref(), Some(&retagged));
    let with = |tag: &str| ListQuery { tag: Some(tag.into()), ..ListQuery::default() };
    assert!(walk_all(store, who, with("wood")).await.is_empty());
    assert_eq!(ids(&walk_all(store, who, with("sale")).await), [item.id.as_str()]);

    // Several fields at once, twice within the clock's resolution: updated_at still moves.
    let patch = ItemPatch {
        description: Some("Oak, restored".into()),
        price: Some(Price::from_cents(9_900).unwrap()),
        tags: Some(vec![]),
        ..ItemPatch::default()
    };
    let first = store.update(who, &item.id, patch.clone()).await.unwrap().unwrap();
    let second = store.update(who, &item.id, patch).await.unwrap().unwrap();
    assert_eq!((first.description.as_str(), first.price.cents()), ("Oak, restored", 9_900));
    assert!(first.tags.is_empty());
    assert!(first.updated_at > retagged.updated_at && second.updated_at > first.updated_at);
    assert_eq!(second.created_at, item.created_at);

    // An empty patch changes nothing, not even updated_at.
    let same = store.update(who, &item.id, ItemPatch::default()).await.unwrap().unwrap();
    assert_eq!(same, second);
    // Listing order follows created_at, not updated_at.
    let newer = store.create(ALICE, named("Table")).await.unwrap();
    store.update(who, &item.id, ItemPatch { name: Some("Chair".into()), ..ItemPatch::default() }).await.unwrap();
    assert_eq!(ids(&walk_all(store, who, query(10)).await), [newer.id, item.id]);
}

async fn concurrent_updates_leave_one_whole_patch(store: &Store) {
    let item = store.create(ALICE, new_item("Shelf", "", 5_000, &["start"])).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (store, id) = (store.clone(), item.id.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..5 {
                let tags = (0..3).map(|k| format!("t{t}-r{round}-{k}")).collect();
                let patch =
                    ItemPatch { name: Some(format!("t{t}-r{round}")), tags: Some(tags), ..ItemPatch::default() };
                store.update(Visibility::Owner(ALICE), &id, patch).await.unwrap().unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let last = store.get(Visibility::All, &item.id).await.unwrap().unwrap();
    let expected: Vec<String> = (0..3).map(|k| format!("{}-{k}", last.name)).collect();
    assert_eq!(last.tags, expected, "the tags of one patch, whole");
}

async fn deleting_removes_the_item_and_its_tags(store: &Store) {
    let gone = store.create(ALICE, new_item("Vase", "", 2_000, &["fragile"])).await.unwrap();
    let kept = store.create(ALICE, new_item("Plate", "", 1_000, &["fragile"])).await.unwrap();
    assert!(store.delete(Visibility::Owner(ALICE), &gone.id).await.unwrap());
    let fragile = ListQuery { tag: Some("fragile".into()), ..ListQuery::default() };
    assert_eq!(ids(&walk_all(store, Visibility::All, fragile).await), [kept.id.as_str()]);
    assert_eq!(store.get(Visibility::All, &gone.id).await.unwrap(), None);
    assert_eq!(store.get(Visibility::All, &kept.id).await.unwrap(), Some(kept));
}

async fn seed_demo_fills_an_empty_store_once(store: &Store) {
    // Several at once still seed once.
    let start = Arc::new(tokio::sync::Barrier::new(8));
    let mut seeders = Vec::new();
    for _ in 0..8 {
        let (store, start) = (store.clone(), Arc::clone(&start));
        seeders.push(tokio::spawn(async move {
            start.wait().await;
            store.seed_demo(ISSUER).await.unwrap()
        }));
    }
    let mut added = 0;
    for seeder in seeders {
        added += seeder.await.unwrap();
    }
    assert_eq!(added, 7, "seeded once, by one of them");
    assert_eq!(store.seed_demo(ISSUER).await.unwrap(), 0);

    let all = walk_all(store, Visibility::All, ListQuery::default()).await;
    assert_eq!(all.len(), added);
    assert_unique(&ids(&all));
    let alices = walk_all(store, Visibility::Owner(ALICE), ListQuery::default()).await;
    let bobs = walk_all(store, Visibility::Owner(BOB), ListQuery::default()).await;
    assert_eq!((alices.len(), bobs.len()), (4, 3));
    for item in &all {
        assert!(!item.name.is_empty() && !item.tags.is_empty() && item.price.cents() > 0, "{item:?}");
        let checked = new_item(&item.name, &item.description, item.price.cents(), &[]);
        assert_eq!(checked.name, item.name, "demo names are valid");
        assert_eq!(
            store.get(Visibility::Owner(Owner { issuer: ISSUER, id: &item.owner }), &item.id).await.unwrap().as_ref(),
            Some(item)
        );
    }
}

async fn seed_demo_leaves_a_store_with_items_alone(store: &Store) {
    store.create(BOB, named("Only item")).await.unwrap();
    assert_eq!(store.seed_demo(ISSUER).await.unwrap(), 0);
    assert_eq!(walk_all(store, Visibility::All, ListQuery::default()).await.len(), 1);
}

async fn concurrent_writes_are_all_stored(store: &Store) {
    const TASKS: usize = 8;
    const EACH: usize = 50;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("writer-{t}@example.com");
            let mut ids = Vec::new();
            for i in 0..EACH {
                let item = new_item(&format!("item {t}/{i}"), "", 100, &["load", &format!("task-{t}")]);
                ids.push(store.create(Owner { issuer: ISSUER, id: &owner }, item).await.unwrap().id);
            }
            ids
        }));
    }
    let mut created = Vec::new();
    for task in tasks {
        created.extend(task.await.unwrap());
    }
    assert_eq!(created.len(), TASKS * EACH);
    assert_unique(&created);

    let stored = walk_all(store, Visibility::All, query(100)).await;
    assert_eq!(stored.len(), TASKS * EACH, "count in = count stored");
    let stored_ids: HashSet<String> = ids(&stored).into_iter().collect();
    assert!(created.iter().all(|id| stored_ids.contains(id)));
    for t in 0..TASKS {
        let owner = format!("writer-{t}@example.com");
        let mine = walk_all(store, Visibility::Owner(Owner { issuer: ISSUER, id: &owner }), query(100)).await;
        assert_eq!(mine.len(), EACH);
        let tagged = ListQuery { tag: Some(format!("task-{t}")), ..query(100) };
        assert_eq!(walk_all(store, Visibility::All, tagged).await.len(), EACH);
    }
}

async fn an_idempotency_key_makes_one_item_and_answers_it_again(store: &Store) {
    let lamp = new_item("Lamp", "desk", 1250, &["home", "light"]);
    let first = store.create_once(ALICE, lamp.clone(), "key-1").await.unwrap();
    assert!(!first.replayed);
    let again = store.create_once(ALICE, lamp.clone(), "key-1").await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.item, first.item, "the same item, as it was made");
    // Keys are per caller: bob's "key-1" is another key.
    let bobs = store.create_once(BOB, lamp.clone(), "key-1").await.unwrap();
    assert!(!bobs.replayed);
    assert_ne!(bobs.item.id, first.item.id);
    // A new key is a new item.
    let other = store.create_once(ALICE, lamp, "key-2").await.unwrap();
    assert!(!other.replayed);
    let alices = walk_all(store, Visibility::Owner(ALICE), ListQuery::default()).await;
    assert_eq!(alices.len(), 2, "{alices:?}");
}

async fn an_idempotency_key_for_another_item_or_a_deleted_one_is_refused(store: &Store) {
    let made = store.create_once(ALICE, named("Kettle"), "key").await.unwrap();
    let reused = store.create_once(ALICE, named("Teapot"), "key").await.unwrap_err();
    assert!(matches!(reused, StoreError::KeyReused), "{reused:?}");
    // Tags in another order are another item too (their order is kept).
    let tagged = store.create_once(ALICE, new_item("Cup", "", 100, &["a", "b"]), "tags").await.unwrap();
    assert!(!tagged.replayed);
    let swapped = store.create_once(ALICE, new_item("Cup", "", 100, &["b", "a"]), "tags").await.unwrap_err();
    assert!(matches!(swapped, StoreError::KeyReused), "{swapped:?}");
    // The item is gone: the retry is not answered with a new one.
    assert!(store.delete(Visibility::Owner(ALICE), &made.item.id).await.unwrap());
    let gone = store.create_once(ALICE, named("Kettle"), "key").await.unwrap_err();
    assert!(matches!(gone, StoreError::KeyItemDeleted), "{gone:?}");
    let alices = walk_all(store, Visibility::Owner(ALICE), ListQuery::default()).await;
    assert_eq!(names(&alices), set(&["Cup"]));
}

async fn concurrent_creates_with_one_key_make_one_item(store: &Store) {
    const TASKS: usize = 8;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.create_once(ALICE, named("Once"), "same-key").await.unwrap() }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1, "exactly one request made it");
    assert!(answers.iter().all(|a| a.item == answers[0].item), "all answered the same item");
    assert_eq!(walk_all(store, Visibility::Owner(ALICE), ListQuery::default()).await.len(), 1);
}

/// `list_json` is the body `GET /v1/items` answered when it serialised
/// `list`'s page: on every page of a walk, with every filter.
async fn list_json_answers_the_page_list_answers(store: &Store) {
    for i in 0..7_i64 {
        let tags: &[&str] = if i % 2 == 0 { &["even", "all"] } else { &["all"] };
        store.create(ALICE, new_item(&format!("Tea \"{i}\" é"), "line\nbreak", 100 + i, tags)).await.unwrap();
    }
    store.create(BOB, named("Bob's")).await.unwrap();
    let queries = [
        query(3),
        query(100),
        ListQuery { tag: Some("even".into()), ..query(2) },
        ListQuery { q: Some("TEA".into()), ..query(4) },
    ];
    for who in [Visibility::Owner(ALICE), Visibility::Owner(BOB), Visibility::All] {
        for mut query in queries.clone() {
            loop {
                let page = store.list(who, &query).await.unwrap();
                let expected = items_api::api::ItemList {
                    items: page.items.clone(),
                    next_cursor: page.next.as_ref().map(Cursor::encode),
                };
                let body = store.list_json(who, &query).await.unwrap();
                assert_eq!(
                    String::from_utf8(body).unwrap(),
                    serde_json::to_string(&expected).unwrap(),
                    "{who:?} {query:?}"
                );
                match page.next {
                    Some(next) => query.cursor = Some(next),
                    None => break,
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// SQLite files, URLs and errors

/// The read path's connections see every commit at once (WAL: each read
/// starts from the last commit), this store's and another's on the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_see_each_commit_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir, "items.db");
    let store = within("opening a SQLite store", Store::connect(&url)).await.unwrap();
    let other = within("opening a second store on the file", Store::connect(&url)).await.unwrap();
    let mut journal = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&mut journal).await.unwrap();
    assert_eq!(mode, "wal");
    for i in 0..100 {
        let writer = if i % 2 == 0 { &store } else { &other };
        let made = within("a create", writer.create(ALICE, named(&format!("n{i}")))).await.unwrap();
        for reader in [&store, &other] {
            let first = within("a list", reader.list(Visibility::Owner(ALICE), &query(1))).await.unwrap();
            assert_eq!(first.items.first(), Some(&made), "the newest item, just committed");
            let body = within("a list as JSON", reader.list_json(Visibility::Owner(ALICE), &query(1))).await.unwrap();
            assert!(String::from_utf8(body).unwrap().contains(&made.id));
            assert_eq!(within("a get", reader.get(Visibility::All, &made.id)).await.unwrap().as_ref(), Some(&made));
        }
        if i % 10 == 0 {
            assert!(within("a delete", writer.delete(Visibility::All, &made.id)).await.unwrap());
            for reader in [&store, &other] {
                let gone = within("a get", reader.get(Visibility::All, &made.id)).await.unwrap();
                assert_eq!(gone, None, "deleted at once");
            }
        }
    }
}

/// Reads never wait for a writer: while another connection holds the write
/// lock with an uncommitted row, reads answer at once (the commits before
/// it), and see the row as soon as it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_go_on_while_a_writer_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir, "items.db");
    let store = within("opening a SQLite store", Store::connect(&url)).await.unwrap();
    let kept = within("a create", store.create(ALICE, named("Kept"))).await.unwrap();
    let mut writer = sqlx::SqliteConnection::connect(&url).await.unwrap();
    writer.execute("BEGIN IMMEDIATE").await.unwrap();
    writer
        .execute(
            "INSERT INTO items (id, name, description, price_cents, owner, created_at, updated_at, owner_issuer) \
             VALUES ('0190ffff-0000-7000-8000-000000000001', 'Pending', '', 1, 'x', 9e15, 9e15, 'i')",
        )
        .await
        .unwrap();
    // Far below any busy timeout: reads do not wait for the lock. (Timed
    // by hand: a read blocks its thread, so a timeout could not cut it short.)
    let started = std::time::Instant::now();
    let page = store.list(Visibility::All, &query(10)).await.unwrap();
    assert_eq!(page.items, std::slice::from_ref(&kept));
    let body = store.list_json(Visibility::All, &query(10)).await.unwrap();
    assert!(!String::from_utf8(body).unwrap().contains("Pending"));
    assert_eq!(store.get(Visibility::All, &kept.id).await.unwrap(), Some(kept));
    assert!(started.elapsed() < Duration::from_millis(500), "reads waited {:?}", started.elapsed());
    writer.execute("COMMIT").await.unwrap();
    let page = within("a list after the commit", store.list(Visibility::All, &query(10))).await.unwrap();
    assert_eq!(page.items.iter().map(|item| item.name.as_str()).collect::<Vec<_>>(), ["Pending", "Kept"]);
}

#[tokio::test]
async fn sqlite_file_and_directories_are_created_and_data_persists() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir, "nested/deeper/items.db");
    let store = within("opening a SQLite store", Store::connect(&url)).await.unwrap();
    let item = within("a create", store.create(ALICE, named("Kept"))).await.unwrap();
    assert!(dir.path().join("nested/deeper/items.db").is_file());
    assert!(dir.path().join("nested/deeper/items.db-wal").is_file(), "WAL journal mode");

    // A second store on the same file (as after a restart) migrates nothing new and sees the data.
    let again = within("opening the store again", Store::connect(&url)).await.unwrap();
    assert_eq!(within("a get", again.get(Visibility::All, &item.id)).await.unwrap(), Some(item));
    // Also through the short `sqlite:` form.
    let short = format!("sqlite:{}", dir.path().join("nested/deeper/items.db").display());
    let short = within("opening the store by its short URL", Store::connect(&short)).await;
    assert_eq!(within("a walk", walk_all(&short.unwrap(), Visibility::All, ListQuery::default())).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_sqlite_file_wait_for_each_other() {
    // As two processes would: separate pools, one file, writers contending.
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir, "shared.db");
    let stores = [
        within("opening a SQLite store", Store::connect(&url)).await.unwrap(),
        within("opening a second store on the file", Store::connect(&url)).await.unwrap(),
    ];
    let mut tasks = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for t in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    store.create(ALICE, named(&format!("{s}/{t}/{i}"))).await.unwrap();
                }
            }));
        }
    }
    for task in tasks {
        within("a writer's 25 creates", task).await.unwrap();
    }
    assert_eq!(within("a walk", walk_all(&stores[0], Visibility::All, query(100))).await.len(), 200);
}

#[tokio::test]
async fn sqlite_memory_store_works() {
    let store = within("opening an in-memory store", Store::connect("sqlite::memory:")).await.unwrap();
    let item = within("a create", store.create(ALICE, new_item("Ephemeral", "", 1, &["tmp"]))).await.unwrap();
    // Several connections share the one in-memory database.
    let first_five = query(5);
    let both = async { tokio::join!(store.get(Visibility::All, &item.id), store.list(Visibility::All, &first_five)) };
    let (a, b) = within("a get and a list at once", both).await;
    assert_eq!(a.unwrap().as_ref(), Some(&item));
    assert_eq!(b.unwrap().items, [item]);
    assert_eq!(within("seeding", store.seed_demo(ISSUER)).await.unwrap(), 0);
}

#[tokio::test]
async fn other_databases_are_refused() {
    for url in ["mysql://root:pw@localhost/db", "items.db", "", "http://localhost"] {
        let error = within("refusing a database URL", Store::connect(url)).await.unwrap_err();
        assert!(matches!(error, StoreError::UnsupportedUrl), "{url}: {error:?}");
    }
}

/// The error, its sources, and its Debug form.
fn everything_said(error: &StoreError) -> String {
    let mut said = format!("{error:?}");
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(error) = source {
        said.push_str(&format!("\n{error}"));
        source = error.source();
    }
    said
}

#[tokio::test]
async fn errors_never_repeat_the_password() {
    const SECRET: &str = "hunter2-correct-horse";
    // Nothing listens on port 1.
    let refused = format!("postgres://tessera:{SECRET}@127.0.0.1:1/tessera");
    let refused = within("a refused connection", Store::connect(&refused)).await.unwrap_err();
    assert!(matches!(refused, StoreError::Connect(_)), "{refused:?}");
    let bad_port = format!("postgres://tessera:{SECRET}@127.0.0.1:port/tessera");
    let bad_port = within("refusing a bad port", Store::connect(&bad_port)).await.unwrap_err();
    assert!(matches!(bad_port, StoreError::InvalidUrl(_)), "{bad_port:?}");
    for error in [refused, bad_port] {
        let said = everything_said(&error);
        assert!(!said.contains(SECRET), "the password leaked: {said}");
    }
}

#[tokio::test]
async fn postgres_wrong_password_fails_without_repeating_it() {
    let Some(db) = PostgresDb::new("postgres_wrong_password_fails_without_repeating_it").await else { return };
    let mut url = url::Url::parse(&db.server_url).unwrap();
    url.set_password(Some("not-the-password-9f2c")).unwrap();
    let error = within("a connection with a wrong password", Store::connect(url.as_str())).await.unwrap_err();
    let said = everything_said(&error);
    assert!(matches!(error, StoreError::Connect(_)), "{said}");
    assert!(!said.contains("not-the-password-9f2c"), "the password leaked: {said}");
    // Nor does the store's Debug form.
    let real_password = url::Url::parse(&db.server_url).unwrap().password().unwrap_or_default().to_owned();
    let debug = format!("{:?}", db.store);
    assert!(real_password.is_empty() || !debug.contains(&real_password), "{debug}");
    db.drop_database().await;
}

/// A caller that stops waiting (a client hanging up) must not leave a pooled
/// connection half inside a transaction: every later operation still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_abandoned_midway_leave_the_store_working() {
    let dir = tempfile::tempdir().unwrap();
    let store = within("opening a SQLite store", Store::connect(&sqlite_url(&dir, "items.db"))).await.unwrap();
    let item =
        || NewItem { name: "x".into(), description: String::new(), price: Price::default(), tags: vec!["t".into()] };
    for _ in 0..10 {
        within("a create", store.create(ALICE, item())).await.unwrap();
    }
    let query = ListQuery::default();
    for i in 0..2000u64 {
        // Poll the operation for a moment, then drop it, at many different points.
        let abandon = Duration::from_micros(i % 97);
        if i % 3 == 0 {
            let _ = tokio::time::timeout(abandon, store.create(ALICE, item())).await;
        } else {
            let _ = tokio::time::timeout(abandon, store.list(Visibility::All, &query)).await;
        }
    }
    for _ in 0..50 {
        within("a list after the abandoned ones", store.list(Visibility::All, &query))
            .await
            .expect("listing still works");
        within("a create after the abandoned ones", store.create(ALICE, item())).await.expect("writing still works");
    }
}
