//! Issue 14, item 8: items are owned by the immutable user id (Okta's `uid`,
//! else `sub`) scoped by the issuer, not by the access token's `sub`, which
//! on Okta's custom authorization servers is the person's login: renamable,
//! and later given to someone else. On SQLite and PostgreSQL (the latter
//! with `TEST_DATABASE_URL`, e.g. `export TEST_DATABASE_URL=$(scripts/postgres.sh)`).
//!
//! The people here are Okta-shaped access tokens signed by the running
//! dev-idp's own key (so validated as any other), with the `sub` and `uid`
//! each case needs; alice and bob also sign in for real.

use std::future::Future;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Executor as _;

use crate::support::{ALICE, ALICE_ID, BOB, BOB_ID, Harness, Options, start_with};

/// Every test here is over within this, or fails.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
const RW: &str = "openid items:read items:write";
/// The login alice had when her items were made.
const OLD_LOGIN: &str = "alice@example.com";

/// Runs `test`, failing it when it takes longer than [`TEST_TIMEOUT`].
async fn within_timeout(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, test).await.expect("the test finished within its timeout");
}

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty database's URL: a file in `dir`, or a database made for
/// the test on the server at `TEST_DATABASE_URL` (`None`, after saying so,
/// when there is none and none is required).
async fn fresh_database(db: Db, dir: &Path, test: &str) -> Option<String> {
    match db {
        Db::Sqlite => Some(format!("sqlite://{}", dir.join("items.db").display())),
        Db::Postgres => crate::postgres_db::fresh_database("owners", &format!("api::owners::{test}")).await,
    }
}

impl Harness {
    /// An Okta-shaped access token (RS256, dev-idp's key) for a person with
    /// this login (`sub`) and user id (`uid`), for the desktop client.
    fn person(&self, login: &str, uid: &str) -> String {
        let provider = self.idp.provider();
        let now = provider.now_unix();
        provider.sign_raw(
            &json!({ "alg": "RS256", "kid": provider.active_kid() }),
            &json!({
                "ver": 1, "jti": format!("AT.{}", uuid::Uuid::now_v7().simple()), "iss": self.idp.issuer(),
                "aud": "api://default", "iat": now, "exp": now + 3600, "cid": "tessera-desktop", "uid": uid,
                "scp": ["openid", "items:read", "items:write"], "sub": login,
            }),
        )
    }

    /// The names of the items `token` lists, newest first.
    async fn names(&self, token: &str) -> Vec<String> {
        let answer = self.get("/v1/items", token).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        answer.json["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
    }
}

/// A renamed login keeps its items; a new person given the old login (a new
/// `uid`) sees, changes and deletes none of them, and their items are theirs.
async fn a_renamed_login_keeps_its_items_and_the_next_holder_of_the_login_gets_none(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let Some(database) = fresh_database(db, dir.path(), "renamed_login").await else { return };
    let h = start_with(Options { database: Some(database), ..Options::default() }).await;

    let alice = h.token(ALICE, RW).await;
    let made = h.post("/v1/items", &alice, json!({ "name": "Alice's lamp", "price": 10 })).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    assert_eq!(made.json["owner"], ALICE_ID, "owned by the user id, not the login");
    let path = format!("/v1/items/{}", made.json["id"].as_str().unwrap());

    // Alice's login is renamed: a new `sub`, the same `uid`.
    let renamed = h.person("alice.smith@example.com", ALICE_ID);
    assert_eq!(h.names(&renamed).await, ["Alice's lamp"]);
    assert_eq!(h.get(&path, &renamed).await.status, StatusCode::OK);
    let patched = h.send(Method::PATCH, &path, Some(&renamed), Some(json!({ "price": 11 }))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);

    // Her old login goes to someone else: the old `sub`, a new `uid`.
    let newcomer = h.person(OLD_LOGIN, "00u9newcomer00000009");
    assert!(h.names(&newcomer).await.is_empty(), "the next holder of the login sees none of alice's items");
    assert_eq!(h.get(&path, &newcomer).await.status, StatusCode::NOT_FOUND);
    let theft = h.send(Method::PATCH, &path, Some(&newcomer), Some(json!({ "price": 1 }))).await;
    assert_eq!(theft.status, StatusCode::NOT_FOUND);
    assert_eq!(h.send(Method::DELETE, &path, Some(&newcomer), None).await.status, StatusCode::NOT_FOUND);
    let theirs = h.post("/v1/items", &newcomer, json!({ "name": "Newcomer's mug", "price": 3 })).await;
    assert_eq!(theirs.json["owner"], "00u9newcomer00000009");

    // Alice (real sign-in, and renamed) still has exactly hers, unchanged by
    // the newcomer; the newcomer exactly theirs.
    assert_eq!(h.names(&alice).await, ["Alice's lamp"]);
    assert_eq!(h.get(&path, &renamed).await.json["price"], 11.0);
    assert_eq!(h.names(&newcomer).await, ["Newcomer's mug"]);
    // Without `uid` (a client for itself, or another issuer's tokens), the
    // owner is `sub`: alice's login alone is nobody's key to her items.
    let login_only = h.person(OLD_LOGIN, "");
    assert!(h.names(&login_only).await.is_empty());
}

#[tokio::test]
async fn sqlite_a_renamed_login_keeps_its_items_and_the_next_holder_of_the_login_gets_none() {
    within_timeout(a_renamed_login_keeps_its_items_and_the_next_holder_of_the_login_gets_none(Db::Sqlite)).await;
}

#[tokio::test]
async fn postgres_a_renamed_login_keeps_its_items_and_the_next_holder_of_the_login_gets_none() {
    within_timeout(a_renamed_login_keeps_its_items_and_the_next_holder_of_the_login_gets_none(Db::Postgres)).await;
}

/// Brings an empty database to the schema before owner ids (the first two
/// migrations, as shipped, so their checksums are the ones the store finds)
/// and fills it as the old API did: items and an idempotency key keyed by `sub`.
async fn an_old_database(db: Db, url: &str, dir: &Path) {
    let kind = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(kind);
    let old = dir.join(format!("old-{kind}-migrations"));
    std::fs::create_dir_all(&old).unwrap();
    for name in ["20251124000000_items.sql", "20251125000000_idempotency_keys.sql"] {
        std::fs::copy(source.join(name), old.join(name)).unwrap();
    }
    let migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
    let statements = [
        "INSERT INTO items (id, name, description, price_cents, owner, created_at, updated_at) VALUES \
         ('0190a000-0000-7000-8000-000000000001', 'Old desk', '', 5000, 'alice@example.com', 1000, 1000), \
         ('0190a000-0000-7000-8000-000000000002', 'Old chair', 'oak', 2500, 'alice@example.com', 2000, 2000), \
         ('0190a000-0000-7000-8000-000000000003', 'Old bike', '', 9000, 'bob@example.com', 3000, 3000), \
         ('0190a000-0000-7000-8000-000000000004', 'Old robot', '', 100, 'items-api', 4000, 4000)",
        "INSERT INTO item_tags (item_id, tag, position) VALUES \
         ('0190a000-0000-7000-8000-000000000002', 'wood', 0)",
        "INSERT INTO idempotency_keys (owner, key, fingerprint, item_id, created_at) VALUES \
         ('alice@example.com', 'k1', 'f', '0190a000-0000-7000-8000-000000000001', 1000)",
    ];
    match db {
        Db::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).unwrap().create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run(&pool).await.unwrap();
            for statement in statements {
                pool.execute(statement).await.unwrap();
            }
            pool.close().await;
        }
        Db::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            for statement in statements {
                pool.execute(statement).await.unwrap();
            }
            pool.close().await;
        }
    }
}

/// The owners of every item, as `items:admin` sees them, by name.
async fn owners(h: &Harness) -> Vec<(String, String)> {
    let admin = h.machine_token("items:read items:admin").await;
    let all = h.get("/v1/items", &admin).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    let mut owners: Vec<(String, String)> = all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap().to_owned(), i["owner"].as_str().unwrap().to_owned()))
        .collect();
    owners.sort();
    owners
}

/// A database the old API filled (items keyed by `sub`) is migrated at
/// start-up and every item stays reachable by its owner: each owner's rows
/// move to (issuer, user id) at their first request, after which the login
/// no longer opens them; rows whose owner has not come back yet stay theirs.
async fn a_migrated_database_keeps_every_item_reachable_by_its_owner(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let Some(database) = fresh_database(db, dir.path(), "migrated").await else { return };
    an_old_database(db, &database, dir.path()).await;
    let h = start_with(Options { database: Some(database), ..Options::default() }).await;
    let row = |name: &str, owner: &str| (name.to_owned(), owner.to_owned());
    // Nobody has come back yet: the old keys, shown as they were (the
    // admin's client token claims what its own `sub` owned: the robot).
    assert_eq!(
        owners(&h).await,
        [
            row("Old bike", "bob@example.com"),
            row("Old chair", OLD_LOGIN),
            row("Old desk", OLD_LOGIN),
            row("Old robot", "items-api"),
        ]
    );

    // Alice comes back (her token has both her login and her user id).
    let alice = h.token(ALICE, RW).await;
    assert_eq!(h.names(&alice).await, ["Old chair", "Old desk"]);
    let chair = h.get("/v1/items/0190a000-0000-7000-8000-000000000002", &alice).await;
    assert_eq!((chair.json["owner"].as_str(), &chair.json["tags"]), (Some(ALICE_ID), &json!(["wood"])));
    // From now on her user id owns them: renamed, she keeps them; the next
    // holder of her old login gets none.
    assert_eq!(h.names(&h.person("alice.smith@example.com", ALICE_ID)).await, ["Old chair", "Old desk"]);
    assert!(h.names(&h.person(OLD_LOGIN, "00u9newcomer00000009")).await.is_empty());
    // She can change and make items as before.
    let desk = "/v1/items/0190a000-0000-7000-8000-000000000001";
    assert_eq!(h.send(Method::DELETE, desk, Some(&alice), None).await.status, StatusCode::NO_CONTENT);
    let made = h
        .send_with(
            Method::POST,
            "/v1/items",
            Some(&alice),
            Some(json!({ "name": "New", "price": 1 })),
            &[("Idempotency-Key", "\"k1\"")],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "the old key is gone, not someone else's: {}", made.json);

    // Bob's row waited for him.
    let bob = h.token(BOB, RW).await;
    assert_eq!(h.names(&bob).await, ["Old bike"]);
    assert_eq!(
        owners(&h).await,
        [row("New", ALICE_ID), row("Old bike", BOB_ID), row("Old chair", ALICE_ID), row("Old robot", "items-api")]
    );
}

#[tokio::test]
async fn sqlite_a_migrated_database_keeps_every_item_reachable_by_its_owner() {
    within_timeout(a_migrated_database_keeps_every_item_reachable_by_its_owner(Db::Sqlite)).await;
}

#[tokio::test]
async fn postgres_a_migrated_database_keeps_every_item_reachable_by_its_owner() {
    within_timeout(a_migrated_database_keeps_every_item_reachable_by_its_owner(Db::Postgres)).await;
}
