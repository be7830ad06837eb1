//! Items over HTTP: ownership, validation, pagination, the admin scope.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ALICE, ALICE_ID, BOB, BOB_ID, start};
use crate::wait::within;

const RW: &str = "openid profile items:read items:write";

#[tokio::test]
async fn people_create_read_change_and_delete_their_own_items_only() {
    let h = start().await;
    let alice = h.token(ALICE, RW).await;
    let bob = h.token(BOB, RW).await;

    let created =
        h.post("/v1/items", &alice, json!({ "name": " Desk lamp ", "price": 24.5, "tags": ["Home", "light"] })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let item = created.json;
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(created.headers["location"], format!("/v1/items/{id}").as_str());
    assert_eq!(item["name"], "Desk lamp");
    assert_eq!(item["price"], 24.5);
    assert_eq!(item["tags"], json!(["home", "light"]));
    // Owned by her user id (the token's `uid`), not her login (issue 14, item 8).
    assert_eq!(item["owner"], ALICE_ID);
    assert_eq!(item["description"], "");

    let path = format!("/v1/items/{id}");
    assert_eq!(h.get(&path, &alice).await.json, item);
    // Bob cannot see, change or delete it: to him it does not exist.
    assert_eq!(h.get(&path, &bob).await.status, StatusCode::NOT_FOUND);
    let patch = h.send(Method::PATCH, &path, Some(&bob), Some(json!({ "name": "mine now" }))).await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
    assert_eq!(h.send(Method::DELETE, &path, Some(&bob), None).await.status, StatusCode::NOT_FOUND);
    let bobs = h.get("/v1/items", &bob).await;
    assert_eq!(bobs.json["items"], json!([]));

    let changed = h.send(Method::PATCH, &path, Some(&alice), Some(json!({ "price": 20, "tags": ["office"] }))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    assert_eq!(changed.json["price"], 20.0);
    assert_eq!(changed.json["tags"], json!(["office"]));
    assert_eq!(changed.json["name"], "Desk lamp");
    assert_eq!(changed.json["created_at"], item["created_at"]);
    assert_ne!(changed.json["updated_at"], item["updated_at"]);

    assert_eq!(h.send(Method::DELETE, &path, Some(&alice), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get(&path, &alice).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.send(Method::DELETE, &path, Some(&alice), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_bodies_and_queries_are_refused_by_field_and_nothing_is_stored() {
    let h = start().await;
    let alice = h.token(ALICE, RW).await;
    for (body, field) in [
        (json!({ "name": "", "price": 1 }), "name"),
        (json!({ "name": "x", "price": -1 }), "price"),
        (json!({ "name": "x", "price": 1.005 }), "price"),
        (json!({ "name": "x", "price": 1, "tags": ["a b"] }), "tags"),
        (json!({ "name": "x".repeat(201), "price": 1 }), "name"),
        (json!({ "name": "x", "price": 1, "owner": "bob@example.com" }), ""),
        (json!({ "price": 1 }), ""),
    ] {
        let answer = h.post("/v1/items", &alice, body.clone()).await;
        assert!(
            answer.status == StatusCode::UNPROCESSABLE_ENTITY || answer.status == StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.status
        );
        if !field.is_empty() {
            assert_eq!(answer.json["field"], field, "{body}");
        }
    }
    let not_json = h.http.post(h.url("/v1/items")).bearer_auth(&alice).body("name=x").send().await.unwrap();
    assert!(not_json.status().is_client_error());
    let huge = json!({ "name": "x", "price": 1, "description": "y".repeat(20_000) });
    assert_eq!(h.post("/v1/items", &alice, huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(h.get("/v1/items", &alice).await.json["items"], json!([]), "nothing stored");

    for query in ["limit=0", "limit=101", "limit=x", "cursor=not-a-cursor", "tag=a%20b"] {
        let answer = h.get(&format!("/v1/items?{query}"), &alice).await;
        assert!(answer.status.is_client_error(), "{query}: {}", answer.status);
    }
    let empty_patch =
        h.send(Method::PATCH, "/v1/items/0192f0c1-7a2b-7cde-8f01-23456789abcd", Some(&alice), Some(json!({}))).await;
    assert_eq!(empty_patch.status, StatusCode::BAD_REQUEST);
    // An encoded `/` is refused before routing (issue 14, item 5); a path
    // that only looks like one is simply not an item.
    assert_eq!(h.get("/v1/items/..%2F..%2Fetc", &alice).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(h.get("/v1/items/..%252F..%252Fetc", &alice).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listing_pages_search_and_tags() {
    let h = start().await;
    let alice = h.token(ALICE, RW).await;
    for i in 0..7 {
        let tags = if i % 2 == 0 { json!(["even"]) } else { json!(["odd"]) };
        let answer = h.post("/v1/items", &alice, json!({ "name": format!("Thing {i}"), "price": i, "tags": tags, "description": if i == 3 { "100% wool" } else { "" } })).await;
        assert_eq!(answer.status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/items?limit=3".to_owned();
    loop {
        let page = h.get(&path, &alice).await.json;
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/items?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("Thing {i}")).collect();
    assert_eq!(seen, expected, "newest first, each once");
    let evens = h.get("/v1/items?tag=even", &alice).await.json;
    assert_eq!(evens["items"].as_array().unwrap().len(), 4);
    let wool = h.get("/v1/items?q=WOOL", &alice).await.json;
    assert_eq!(wool["items"].as_array().unwrap().len(), 1);
    let percent = h.get("/v1/items?q=%25", &alice).await.json;
    assert_eq!(percent["items"].as_array().unwrap().len(), 1, "% is literal");
}

#[tokio::test]
async fn items_admin_sees_and_changes_everyones_items() {
    let h = start().await;
    let alice = h.token(ALICE, RW).await;
    let bob = h.token(BOB, RW).await;
    let a = h.post("/v1/items", &alice, json!({ "name": "A", "price": 1 })).await.json;
    h.post("/v1/items", &bob, json!({ "name": "B", "price": 2 })).await;
    let admin = h.machine_token("items:read items:write items:admin").await;
    let all = h.get("/v1/items", &admin).await.json;
    let owners: Vec<&str> = all["items"].as_array().unwrap().iter().map(|i| i["owner"].as_str().unwrap()).collect();
    assert_eq!(owners, [BOB_ID, ALICE_ID]);
    let path = format!("/v1/items/{}", a["id"].as_str().unwrap());
    assert_eq!(h.send(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    // Without items:admin the same client sees only its own (none).
    let plain = h.machine_token("items:read").await;
    assert_eq!(h.get("/v1/items", &plain).await.json["items"], json!([]));
}

#[tokio::test]
async fn me_answers_the_callers_validated_claims() {
    let h = start().await;
    let alice = h.token(ALICE, RW).await;
    let me: Value = h.get("/v1/me", &alice).await.json;
    assert_eq!(me["sub"], "alice@example.com");
    assert_eq!(me["owner"], json!({ "issuer": h.idp.issuer(), "id": ALICE_ID }));
    assert_eq!(me["client_id"], "tessera-desktop");
    assert_eq!(me["claims"]["uid"], "00u1alice0000000001");
    assert_eq!(me["sees_all_items"], false);
    assert!(me["scopes"].as_array().unwrap().contains(&json!("items:write")));
}

#[tokio::test]
async fn concurrent_writes_lose_nothing() {
    let h = std::sync::Arc::new(start().await);
    let alice = h.token(ALICE, RW).await;
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (h, alice) = (h.clone(), alice.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for i in 0..25 {
                let answer = h.post("/v1/items", &alice, json!({ "name": format!("w{worker}-{i}"), "price": 1 })).await;
                if answer.status == StatusCode::CREATED {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += within("a writer's 25 requests", task).await.unwrap();
    }
    assert_eq!(created, 200, "every write answered 201");
    let mut stored = 0;
    let mut path = "/v1/items?limit=100".to_owned();
    loop {
        let page = h.get(&path, &alice).await.json;
        stored += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/items?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(stored, 200, "every item is there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_hang_up_mid_request_do_not_break_the_store() {
    let h = std::sync::Arc::new(start().await);
    let alice = h.token(ALICE, RW).await;
    for i in 0..20 {
        h.post("/v1/items", &alice, json!({ "name": format!("Item {i}"), "price": 1, "tags": ["t"] })).await;
    }
    // Many requests abandoned at random points, as wrk does when it stops.
    let mut tasks = Vec::new();
    for i in 0..2000u64 {
        let (h, alice) = (h.clone(), alice.clone());
        tasks.push(tokio::spawn(async move {
            let request = h.http.get(h.url("/v1/items?limit=20")).bearer_auth(&alice).send();
            let _ = tokio::time::timeout(std::time::Duration::from_micros(100 + (i * 37) % 20_000), request).await;
        }));
    }
    for task in tasks {
        within("an abandoned request", task).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for _ in 0..100 {
        let answer = h.get("/v1/items?limit=20", &alice).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    }
}
