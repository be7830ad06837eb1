//! Retried creates and a database that cannot be written: idempotency keys
//! over HTTP, and the API on a SQLite file whose disk fills up (a real tmpfs,
//! mounted for the test). (A file system cannot be remounted read-only while
//! SQLite holds the file open for writing, so "read-only" is not a fault a
//! running API meets; it meets a full disk or failing I/O, which SQLite
//! reports alike.)

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ALICE, Answer, BOB, Harness, Options, start, start_with};

const RW: &str = "openid profile items:read items:write";

async fn create(h: &Harness, token: &str, body: Value, key: &str) -> Answer {
    h.send_with(Method::POST, "/v1/items", Some(token), Some(body), &[("idempotency-key", key)]).await
}

#[tokio::test]
async fn a_create_retried_with_its_idempotency_key_is_made_once() {
    let h = start().await;
    let alice = h.token(ALICE, RW).await;
    let lamp = json!({ "name": "Lamp", "price": 12.5, "tags": ["home"] });

    let first = create(&h, &alice, lamp.clone(), "\"01JD-lamp\"").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // The retry (the answer was lost on the way): the same item, said so.
    let again = create(&h, &alice, lamp.clone(), "\"01JD-lamp\"").await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.json);
    assert_eq!(again.json, first.json);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["location"], first.headers["location"]);
    // The key without quotes is the same key.
    let bare = create(&h, &alice, lamp.clone(), "01JD-lamp").await;
    assert_eq!(bare.json["id"], first.json["id"]);
    // Bob's key of the same name is his own.
    let bob = h.token(BOB, RW).await;
    let bobs = create(&h, &bob, lamp.clone(), "\"01JD-lamp\"").await;
    assert_eq!(bobs.status, StatusCode::CREATED);
    assert_ne!(bobs.json["id"], first.json["id"]);
    let listed = h.get("/v1/items", &alice).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 1, "{}", listed.json);

    // The key for another item: refused, nothing made.
    let other = create(&h, &alice, json!({ "name": "Kettle", "price": 30 }), "\"01JD-lamp\"").await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.json);
    assert_eq!(other.json["error"], "idempotency_key_reused");
    // Its item deleted: the retry is told, not answered with a new item.
    let path = first.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(h.send(Method::DELETE, &path, Some(&alice), None).await.status, StatusCode::NO_CONTENT);
    let gone = create(&h, &alice, lamp, "\"01JD-lamp\"").await;
    assert_eq!(gone.status, StatusCode::CONFLICT, "{}", gone.json);
    assert_eq!(gone.json["error"], "conflict");
    assert_eq!(h.get("/v1/items", &alice).await.json["items"], json!([]));
}

#[tokio::test]
async fn bad_idempotency_keys_are_refused_before_anything_is_made() {
    let h = start().await;
    let alice = h.token(ALICE, RW).await;
    let item = json!({ "name": "Lamp", "price": 1 });
    let long = "k".repeat(256);
    for key in ["", "\"\"", "with space", "tab\there", long.as_str(), "\"quoted\"inside\""] {
        let answer = create(&h, &alice, item.clone(), key).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{key:?}: {}", answer.json);
        assert_eq!(answer.json["error"], "invalid_request", "{key:?}");
    }
    let twice = h
        .send_with(
            Method::POST,
            "/v1/items",
            Some(&alice),
            Some(item),
            &[("idempotency-key", "one"), ("idempotency-key", "two")],
        )
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "{}", twice.json);
    assert_eq!(h.get("/v1/items", &alice).await.json["items"], json!([]));
    // The longest key is fine.
    let longest = create(&h, &alice, json!({ "name": "Lamp", "price": 1 }), &"k".repeat(255)).await;
    assert_eq!(longest.status, StatusCode::CREATED, "{}", longest.json);
}

/// A tmpfs mounted on a new folder for one test, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (after saying so) when this machine does not let the test mount
    /// one (it needs root), unless `TESSERA_REQUIRE_MOUNT=1`.
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tessera-test"])
            .arg(&path)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Self { path, _dir: dir }),
            other => {
                assert!(
                    std::env::var("TESSERA_REQUIRE_MOUNT").as_deref() != Ok("1"),
                    "TESSERA_REQUIRE_MOUNT=1 but a tmpfs cannot be mounted: {other:?}"
                );
                use std::io::Write as _;
                let _ = writeln!(std::io::stderr(), "skipped: cannot mount a tmpfs here (needs root): {other:?}");
                None
            }
        }
    }

    /// Fills the disk with one file; returns its path.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0_u8; 64 * 1024];
        loop {
            use std::io::Write as _;
            if let Err(error) = file.write_all(&block).and_then(|()| file.sync_all()) {
                assert_eq!(error.raw_os_error(), Some(28), "ENOSPC expected: {error}");
                return filler;
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }
}

fn names(answer: &Answer) -> Vec<String> {
    answer.json["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
}

fn assert_unavailable(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {}", answer.json);
    assert_eq!(answer.json["error"], "temporarily_unavailable", "{what}");
    assert!(answer.json["message"].as_str().unwrap().contains("nothing was changed"), "{what}: {}", answer.json);
    assert_eq!(answer.headers["retry-after"], "5", "{what}");
    // Never the database's own words.
    let said = answer.json.to_string().to_lowercase();
    assert!(!said.contains("sqlite") && !said.contains("readonly") && !said.contains("disk"), "{what}: {said}");
}

#[tokio::test]
async fn an_unwritable_database_answers_503_and_loses_nothing_committed() {
    let Some(disk) = SmallDisk::mount("4m") else { return };
    let database = format!("sqlite://{}", disk.path.join("items.db").display());
    let h = start_with(Options { database: Some(database), ..Options::default() }).await;
    let alice = h.token(ALICE, RW).await;
    for name in ["One", "Two"] {
        let made = h.post("/v1/items", &alice, json!({ "name": name, "price": 1 })).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    }
    let one = h.get("/v1/items", &alice).await;
    let path = format!("/v1/items/{}", one.json["items"][1]["id"].as_str().unwrap());

    // The disk fills up: every write is refused with 503, nothing changes,
    // reads go on.
    let filler = disk.fill();
    let big = json!({ "name": "Big", "description": "x".repeat(2000), "price": 1, "tags": ["a", "b", "c"] });
    let mut refused = None;
    // SQLite may still fit a few rows in pages it already has.
    for _ in 0..200 {
        let answer = h.post("/v1/items", &alice, big.clone()).await;
        if answer.status != StatusCode::CREATED {
            refused = Some(answer);
            break;
        }
    }
    assert_unavailable(&refused.expect("a full disk refuses writes"), "create on a full disk");
    assert_unavailable(&create(&h, &alice, big.clone(), "k3").await, "keyed create on a full disk");
    let patch = h.send(Method::PATCH, &path, Some(&alice), Some(json!({ "description": "y".repeat(2000) }))).await;
    assert_unavailable(&patch, "update on a full disk");
    let before = h.get("/v1/items?limit=100", &alice).await;
    assert_eq!(before.status, StatusCode::OK, "reads go on: {}", before.json);
    assert_eq!(&names(&before)[names(&before).len() - 2..], ["Two", "One"]);

    // Space again: writes work, and everything committed is there.
    std::fs::remove_file(&filler).unwrap();
    let after_fix = h.post("/v1/items", &alice, json!({ "name": "Four", "price": 1 })).await;
    assert_eq!(after_fix.status, StatusCode::CREATED, "{}", after_fix.json);
    let all = names(&h.get("/v1/items?limit=100", &alice).await);
    assert_eq!(all.first().map(String::as_str), Some("Four"));
    assert_eq!(&all[all.len() - 2..], ["Two", "One"]);
    assert_eq!(all.len(), names(&before).len() + 1, "{all:?}");
    drop(h);
    assert!(Path::new(&disk.path).join("items.db").exists());
}
