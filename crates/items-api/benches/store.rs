//! Listing five items through the store on a SQLite file, old path against
//! new, side by side in one run (the page `GET /v1/items` answers: one
//! owner's five items, two tags each, newest first):
//!
//! - `list_five/sqlx_then_serde`: the old path, a read through sqlx's pool
//!   (its per-connection worker thread) into `Item`s, then `serde_json` of
//!   the `ItemList` as axum's `Json` writes it;
//! - `list_five/reader_then_serde`: the read path (`store::reader`: a
//!   read-only rusqlite connection, its cached statement, on the calling
//!   thread) into `Item`s, then the same `serde_json`;
//! - `list_five/reader_json`: the read path writing the JSON body straight
//!   from SQLite's buffers (`Store::list_json`), what the API now runs;
//! - `list_five/reader_json_on_blocking_pool`: the same sent to Tokio's
//!   blocking pool (`spawn_blocking`) and awaited, the design with a pool of
//!   reading threads;
//! - `hop/spawn_blocking`: that hop alone, with nothing to do.
//!
//! Each iteration is one `block_on` from the benchmark's thread, the same
//! for every row. Run with `cargo bench -p tessera-items-api --bench store`.

// A benchmark set-up that cannot start is a bug to see at once.
#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use items_api::api::ItemList;
use items_api::model::{ListQuery, NewItem, Owner, Price, Visibility};
use items_api::store::Store;

const ALICE: Owner<'static> = Owner { issuer: "https://idp.example/oauth2/default", id: "00u1alice0000000001" };

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("a folder");
    let url = format!("sqlite://{}", dir.path().join("items.db").display());
    let store = runtime.block_on(async {
        let store = Store::connect(&url).await.expect("store");
        for (i, name) in ["Lamp", "Kettle", "Tea (green, 100 g)", "Notebook", "Pen \"fine\""].iter().enumerate() {
            let item = NewItem {
                name: (*name).to_owned(),
                description: format!("Item {i}: something to list, with a description of ordinary length."),
                price: Price::from_cents(1250 + i64::try_from(i).expect("small")).expect("price"),
                tags: vec!["home".to_owned(), format!("tag-{i}")],
            };
            store.create(ALICE, item).await.expect("create");
        }
        store
    });
    let old = store.with_sqlx_reads();
    let query = ListQuery::default();
    let who = Visibility::Owner(ALICE);
    let serde = |page: items_api::model::Page| {
        let list = ItemList { items: page.items, next_cursor: page.next.map(|c| c.encode()) };
        serde_json::to_vec(&list).expect("JSON")
    };
    // Both paths answer the same body.
    let before = serde(runtime.block_on(old.list(who, &query)).expect("list"));
    let after = runtime.block_on(store.list_json(who, &query)).expect("list");
    assert_eq!(before, after);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&after).expect("JSON")["items"].as_array().map(Vec::len),
        Some(5)
    );

    let mut group = c.benchmark_group("list_five");
    group.bench_function("sqlx_then_serde", |b| {
        b.iter(|| serde(runtime.block_on(old.list(who, black_box(&query))).expect("list")));
    });
    group.bench_function("reader_then_serde", |b| {
        b.iter(|| serde(runtime.block_on(store.list(who, black_box(&query))).expect("list")));
    });
    group.bench_function("reader_json", |b| {
        b.iter(|| runtime.block_on(store.list_json(who, black_box(&query))).expect("list"));
    });
    group.bench_function("reader_json_on_blocking_pool", |b| {
        b.iter(|| {
            let (store, query, handle) = (store.clone(), query.clone(), runtime.handle().clone());
            runtime
                .block_on(tokio::task::spawn_blocking(move || {
                    handle.block_on(store.list_json(Visibility::Owner(ALICE), &query))
                }))
                .expect("task")
                .expect("list")
        });
    });
    group.finish();
    c.bench_function("hop/spawn_blocking", |b| {
        b.iter(|| runtime.block_on(tokio::task::spawn_blocking(|| black_box(1))).expect("task"));
    });
}

criterion_group!(store_reads, benches);
criterion_main!(store_reads);
