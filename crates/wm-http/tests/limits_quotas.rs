//! Plan quotas: a write that would exceed the memory count or storage gets 403
//! `plan_limit_reached` with the limit and current usage; reads, deletes and export stay
//! allowed, so an account at its limit can free space.

mod common;
mod limits_support;

use common::{TestApp, TestOptions, assert_error};
use limits_support::{move_to_plan, set_plan_full, user_on_plan};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    a_free_account_at_fifty_memories_can_only_free_space,
    storage_quota_blocks_growth_not_shrinking,
    concurrent_creates_at_the_limit_never_overshoot,
    a_plan_change_moves_the_quota_on_the_next_request,
);

fn memories(n: usize) -> Value {
    json!({ "memories": (0..n).map(|i| json!({ "title": format!("note {i}"), "content": "x" })).collect::<Vec<_>>() })
}

async fn a_free_account_at_fifty_memories_can_only_free_space(b: Backend) {
    // Production limits: the free plan also allows only 10 requests a minute, so this test
    // makes fewer.
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    let (_, key) = app.user("free@example.com").await;
    assert_eq!(app.get("/api/v1/user/me", &key).await.body["plan"], "free");

    let batch = app.post("/api/v1/memories/batch", &key, memories(50)).await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.text);
    let first = batch.body["memories"][0]["id"].as_str().unwrap().to_owned();

    let refused = app.post("/api/v1/memories", &key, json!({ "title": "one more", "content": "x" })).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "plan_limit_reached");
    let details = &refused.body["error"]["details"];
    assert_eq!(details["limit"], "memories");
    assert_eq!(
        (details["max"].as_u64(), details["current"].as_u64(), details["requested"].as_u64()),
        (Some(50), Some(50), Some(1))
    );
    assert_eq!(details["plan"], "free");
    assert_error(
        &app.post("/api/v1/memories/batch", &key, memories(1)).await,
        StatusCode::FORBIDDEN,
        "plan_limit_reached",
    );

    let list = app.get("/api/v1/memories?limit=100", &key).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["memories"].as_array().unwrap().len(), 50, "reads stay allowed");
    let export = app.raw(Method::GET, "/api/v1/export", &key, None, Vec::new()).await;
    assert_eq!(export.status, StatusCode::OK, "export stays allowed");
    let deleted = app.call(Method::DELETE, &format!("/api/v1/memories/{first}?permanent=true"), &key, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);

    let created = app.post("/api/v1/memories", &key, json!({ "title": "fits again", "content": "x" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "after deleting one, create works: {}", created.text);
    assert_eq!(app.get("/api/v1/user/usage?days=1", &key).await.body["memories"], json!({ "used": 50, "limit": 50 }));
    app.stop().await;
}

async fn storage_quota_blocks_growth_not_shrinking(b: Backend) {
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    let plan =
        json!({ "per_minute": 1000, "daily": 10_000, "monthly": 100_000, "memories": 100, "storage_bytes": 1000 });
    set_plan_full(&app, "small-store", plan).await;
    let (_, key) = user_on_plan(&app, "small@example.com", "small-store").await;

    // A memory's size is its title plus its content, in bytes.
    let big = app.memory(&key, json!({ "title": "a", "content": "x".repeat(599) })).await;
    let refused = app.post("/api/v1/memories", &key, json!({ "title": "b", "content": "y".repeat(400) })).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "plan_limit_reached");
    let details = &refused.body["error"]["details"];
    assert_eq!(details["limit"], "storage_bytes");
    assert_eq!(
        (details["max"].as_u64(), details["current"].as_u64(), details["requested"].as_u64()),
        (Some(1000), Some(600), Some(401))
    );
    app.memory(&key, json!({ "title": "c", "content": "z".repeat(399) })).await; // exactly 1000 bytes now

    let path = format!("/api/v1/memories/{}", big["id"].as_str().unwrap());
    let grow = app.call(Method::PATCH, &path, &key, Some(json!({ "content": "x".repeat(600) }))).await;
    assert_error(&grow, StatusCode::FORBIDDEN, "plan_limit_reached");
    let shrink = app.call(Method::PATCH, &path, &key, Some(json!({ "content": "short" }))).await;
    assert_eq!(shrink.status, StatusCode::OK, "shrinking is always allowed: {}", shrink.text);
    let grow = app.call(Method::PATCH, &path, &key, Some(json!({ "content": "x".repeat(300) }))).await;
    assert_eq!(grow.status, StatusCode::OK, "growth that fits is allowed: {}", grow.text);

    // A raised quota applies to the next request.
    let raised =
        json!({ "per_minute": 1000, "daily": 10_000, "monthly": 100_000, "memories": 100, "storage_bytes": 5000 });
    set_plan_full(&app, "small-store", raised).await;
    app.memory(&key, json!({ "title": "d", "content": "y".repeat(2000) })).await;
    let usage = app.get("/api/v1/user/usage?days=1", &key).await;
    assert_eq!(usage.body["storage_bytes"]["limit"], 5000);
    assert_eq!(usage.body["memories"]["used"], 3);
    app.stop().await;
}

/// The complaint this guards against: an agent holding 48 of 50 memories fires 10 creates at
/// once. The quota is checked in the same transaction as the insert, so exactly 2 fit.
async fn concurrent_creates_at_the_limit_never_overshoot(b: Backend) {
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    let plan =
        json!({ "per_minute": 1000, "daily": 10_000, "monthly": 100_000, "memories": 50, "storage_bytes": 1_000_000 });
    set_plan_full(&app, "fifty", plan).await;
    let (_, key) = user_on_plan(&app, "racer@example.com", "fifty").await;
    let batch = app.post("/api/v1/memories/batch", &key, memories(48)).await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.text);

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (http, url, key) = (app.http.clone(), format!("{}/api/v1/memories", app.base), key.clone());
        tasks.spawn(async move {
            let body = json!({ "title": format!("racer {i}"), "content": "x" });
            TestApp::read(http.post(url).bearer_auth(key).json(&body).send().await.unwrap()).await
        });
    }
    let replies = tasks.join_all().await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_error(r, StatusCode::FORBIDDEN, "plan_limit_reached");
        let details = &r.body["error"]["details"];
        assert_eq!((details["max"].as_u64(), details["current"].as_u64()), (Some(50), Some(50)), "{}", r.text);
    }
    assert_eq!(created, 2, "exactly the two that fit are created");
    assert_eq!(app.get("/api/v1/user/usage?days=1", &key).await.body["memories"], json!({ "used": 50, "limit": 50 }));
    app.stop().await;
}

async fn a_plan_change_moves_the_quota_on_the_next_request(b: Backend) {
    // The quota follows the plan of the account whose key was just verified (cached with the
    // key): an upgrade or downgrade must still apply to the very next write.
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    let (id, key) = app.user("mover@example.com").await;
    assert_eq!(app.post("/api/v1/memories/batch", &key, memories(50)).await.status, StatusCode::CREATED);
    let one = || json!({ "title": "one more", "content": "x" });
    assert_error(&app.post("/api/v1/memories", &key, one()).await, StatusCode::FORBIDDEN, "plan_limit_reached");

    move_to_plan(&app, &id, "starter").await;
    let created = app.post("/api/v1/memories", &key, one()).await;
    assert_eq!(created.status, StatusCode::CREATED, "upgraded: {}", created.text);

    move_to_plan(&app, &id, "free").await;
    let refused = app.post("/api/v1/memories", &key, one()).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "plan_limit_reached");
    assert_eq!(refused.body["error"]["details"]["plan"], "free");
    assert_eq!(refused.body["error"]["details"]["current"], 51);
    app.stop().await;
}
