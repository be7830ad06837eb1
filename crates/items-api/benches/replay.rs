//! What the replay check of a DPoP proof costs per request (RFC 9449
//! §11.1), in the process and shared through PostgreSQL (issue 22):
//!
//! - `replay/memory`: the process's cache (`dpop::ReplayCache`, SQLite's
//!   and `DPOP_REPLAY=memory`'s), a new `jti` each time (a new cache every
//!   100 000: one holds at most 200 000 and then refuses, failing closed);
//! - `replay/postgres`: one `INSERT … ON CONFLICT DO NOTHING` into the
//!   `dpop_replays` table of a fresh database on the server at
//!   `BENCH_DATABASE_URL` (else `TEST_DATABASE_URL`), over loopback, through
//!   the store's pool: what `DPOP_REPLAY=database` adds to each request.
//!   Left out, with a note, when neither variable is set.
//!
//! Both go through the `ReplayStore` trait the proof checker calls.
//!
//! Run with `cargo bench -p tessera-items-api --bench replay`.

// A benchmark set-up that cannot start is a bug to see at once.
#![allow(clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use items_api::dpop::ReplayStore;
use items_api::store::Store;
use sqlx::{Connection as _, Executor as _};

/// A thumbprint's length and shape (43 base64url characters).
const JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A fresh database on the server at `server_url`.
async fn fresh_database(server_url: &str) -> String {
    let name = format!("tessera_bench_{}", uuid::Uuid::now_v7().simple());
    let mut server = sqlx::PgConnection::connect(server_url).await.expect("the PostgreSQL server answers");
    server.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("a database made");
    server.close().await.expect("closed");
    let mut url = url::Url::parse(server_url).expect("a URL");
    url.set_path(&name);
    url.into()
}

fn bench(c: &mut Criterion, runtime: &tokio::runtime::Runtime, name: &str, replays: &dyn ReplayStore) {
    let counter = AtomicU64::new(0);
    c.bench_function(name, |b| {
        b.iter(|| {
            let jti = format!("bench-{}", counter.fetch_add(1, Ordering::Relaxed));
            runtime.block_on(replays.remember(JKT, &jti, now())).expect("a new proof is taken");
        });
    });
}

/// Proofs remembered by one in-process cache before the bench starts a new
/// one: the cache holds at most 200 000 and refuses more (fails closed)
/// until they expire, and criterion's millions of iterations would fill it.
const PER_CACHE: u64 = 100_000;

/// `replay/memory`: a fresh cache every [`PER_CACHE`] proofs (made outside
/// the timed part), so every proof is a new one the cache takes, in a cache
/// holding up to that many.
fn bench_memory(c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    c.bench_function("replay/memory", |b| {
        b.iter_custom(|iters| {
            let (mut timed, mut done) = (Duration::ZERO, 0);
            while done < iters {
                let memory = dpop::ReplayCache::new(Duration::from_secs(60), Duration::from_secs(5));
                let replays: &dyn ReplayStore = &memory;
                let chunk = (iters - done).min(PER_CACHE);
                let started = Instant::now();
                for n in 0..chunk {
                    let jti = format!("bench-{n}");
                    runtime.block_on(replays.remember(JKT, &jti, now())).expect("a new proof is taken");
                }
                timed += started.elapsed();
                done += chunk;
            }
            timed
        });
    });
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    bench_memory(c, &runtime);

    let server = std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL"));
    let Ok(server) = server else {
        eprintln!("replay/postgres left out: set BENCH_DATABASE_URL or TEST_DATABASE_URL");
        return;
    };
    let (_store, database) = runtime.block_on(async {
        let store = Store::connect(&fresh_database(&server).await).await.expect("the store opens");
        let clock: Arc<dyn clock::Clock> = Arc::new(clock::SystemClock);
        let replays = store.database_replays(Duration::from_secs(65), clock).expect("PostgreSQL");
        (store, replays)
    });
    bench(c, &runtime, "replay/postgres", &database);
    // A replay is refused, not taken: the bench measured real inserts.
    let refused = runtime.block_on(async {
        database.remember(JKT, "bench-0", now()).await.err().map(|e| e.to_string()).unwrap_or_default()
    });
    assert_eq!(refused, "this DPoP proof was already used");
}

criterion_group!(replay_cost, benches);
criterion_main!(replay_cost);
