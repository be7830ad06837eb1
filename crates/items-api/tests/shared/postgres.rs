//! A fresh PostgreSQL database for one test, on the server at
//! `TEST_DATABASE_URL` (`./x test` starts one): shared by the test crates
//! (`#[path = "…/shared/postgres.rs"] mod postgres_db;`).

use std::io::Write as _;

use sqlx::{Connection as _, Executor as _};

/// The URL of a new database `tessera_<prefix>_<uuid>`, or `None` (after
/// saying so, naming `test`) when no server is configured and none is
/// required (`TESSERA_REQUIRE_POSTGRES=1` makes that a failure).
pub async fn fresh_database(prefix: &str, test: &str) -> Option<String> {
    let Ok(server_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var("TESSERA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TESSERA_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set \
             (export TEST_DATABASE_URL=$(scripts/postgres.sh | tail -1))"
        );
        // Straight to stderr, past the test harness's capture, so it shows.
        let _ = writeln!(std::io::stderr(), "skipped: TEST_DATABASE_URL not set ({test})");
        return None;
    };
    let name = format!("tessera_{prefix}_{}", uuid::Uuid::now_v7().simple());
    testkit::within("making a database on the server at TEST_DATABASE_URL", async {
        let mut server = sqlx::PgConnection::connect(&server_url).await.expect("connect to TEST_DATABASE_URL");
        server.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        server.close().await.unwrap();
    })
    .await;
    let mut url = url::Url::parse(&server_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    Some(url.into())
}
