//! The tenant isolation matrix, on both backends: for every memory endpoint, user B gets 404
//! for user A's ids, and nothing B can list, search, pack, count or export contains A's data.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::io::Read;
use wm_testkit::{Backend, backend_tests};

backend_tests!(other_accounts_ids_are_404_everywhere, nothing_of_a_reaches_b);

/// A's secret marker: appears in A's titles, content, tags, scope and metadata only.
const SECRET: &str = "alphasecret";

async fn seed_a(app: &TestApp, key: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, t) in ["short_term", "long_term", "short_term"].iter().enumerate() {
        let m = app
            .memory(
                key,
                json!({ "title": format!("{SECRET} title {i}"), "content": format!("{SECRET} content shared words {i}"),
                "type": t, "tags": [SECRET, "shared"], "scope": format!("{SECRET}:1"), "metadata": { "who": SECRET } }),
            )
            .await;
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    // Same content and tags as B's duplicates would have: consolidation must not merge across accounts.
    let dup = app
        .memory(key, json!({ "title": format!("{SECRET} dup"), "content": "shared words", "tags": ["shared"] }))
        .await;
    ids.push(dup["id"].as_str().unwrap().to_owned());
    let archived = app.memory(key, json!({ "title": format!("{SECRET} archived"), "content": "x" })).await;
    let id = archived["id"].as_str().unwrap().to_owned();
    app.call(Method::DELETE, &format!("/api/v1/memories/{id}"), key, None).await;
    ids.push(id);
    ids
}

async fn other_accounts_ids_are_404_everywhere(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, a) = app.user("a@example.com").await;
    let (_, bk) = app.user("b@example.com").await;
    let ids = seed_a(&app, &a).await;
    let before = app.all_memories(&a).await;
    for id in &ids {
        let path = format!("/api/v1/memories/{id}");
        let calls = [
            app.get(&path, &bk).await,
            app.call(Method::PATCH, &path, &bk, Some(json!({ "title": "hijack" }))).await,
            app.call(Method::PUT, &path, &bk, Some(json!({ "content": "hijack" }))).await,
            app.call(Method::DELETE, &path, &bk, None).await,
            app.call(Method::DELETE, &format!("{path}?permanent=true"), &bk, None).await,
            app.post(&format!("{path}/restore"), &bk, json!({})).await,
        ];
        for r in calls {
            assert_error(&r, StatusCode::NOT_FOUND, "not_found");
            assert!(!r.text.contains(SECRET));
        }
    }
    assert_eq!(app.all_memories(&a).await, before, "nothing of A changed");
    app.stop().await;
}

async fn nothing_of_a_reaches_b(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, a) = app.user("a@example.com").await;
    let (_, bk) = app.user("b@example.com").await;
    let a_ids = seed_a(&app, &a).await;
    let own = app.memory(&bk, json!({ "title": "b title", "content": "shared words", "tags": ["shared"] })).await;
    app.memory(&bk, json!({ "title": "b dup", "content": "shared words", "tags": ["shared"] })).await;
    let clean = |what: &str, text: &str| {
        assert!(!text.contains(SECRET), "{what} leaks A's data: {text}");
        for id in &a_ids {
            assert!(!text.contains(id.as_str()), "{what} leaks A's id {id}");
        }
    };
    for q in
        ["", "?status=all", "?status=archived", "?tag=shared", &format!("?tag={SECRET}"), &format!("?scope={SECRET}:1")]
    {
        let r = app.get(&format!("/api/v1/memories{q}"), &bk).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        clean(&format!("list {q}"), &r.text);
    }
    for body in [
        json!({ "query": SECRET, "include_archived": true }),
        json!({ "query": "shared words" }),
        json!({ "include_archived": true, "limit": 100 }),
        json!({ "tags": ["shared"] }),
    ] {
        let r = app.post("/api/v1/search", &bk, body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // (The echoed filters hold B's own query; the results must hold nothing of A.)
        clean(&format!("search {body}"), &r.body["results"].to_string());
    }
    assert_eq!(app.post("/api/v1/search", &bk, json!({ "query": "shared" })).await.body["count"], 2);
    for body in [
        json!({ "tier": 2, "query": SECRET }),
        json!({ "tier": 2 }),
        json!({ "tier": 2, "query": "shared words" }),
        json!({ "tier": 2, "scope": format!("{SECRET}:1") }),
    ] {
        let r = app.post("/api/v1/context", &bk, body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let text: Vec<&str> =
            r.body["context"].as_str().unwrap().lines().filter(|l| !l.starts_with("Query: ")).collect();
        clean(&format!("context {body}"), &format!("{} {}", text.join("\n"), r.body["included_ids"]));
    }
    let tags = app.get("/api/v1/tags", &bk).await;
    clean("tags", &tags.text);
    assert_eq!(tags.body["tags"], json!([{ "tag": "shared", "count": 2, "types": ["short_term"] }]));
    let stats = app.get("/api/v1/stats", &bk).await;
    clean("stats", &stats.text);
    assert_eq!((stats.body["total"].as_u64(), stats.body["tags"]["uses"].as_u64()), (Some(2), Some(2)));

    let export = app.raw(Method::GET, "/api/v1/export", &bk, None, Vec::new()).await;
    assert_eq!(export.status, StatusCode::OK);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(export.bytes)).unwrap();
    assert_eq!(z.len(), 3, "B's two memories and the manifest");
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        clean(&format!("export {}", f.name()), &format!("{} {text}", f.name()));
    }

    // B's consolidation merges B's duplicates only, and its log is B's alone.
    app.advance(30 * 86_400);
    let dry = app.post("/api/v1/consolidate", &bk, json!({})).await;
    clean("consolidate", &dry.text);
    assert_eq!(dry.body["report"]["merged_groups"], 1, "{}", dry.text);
    assert_eq!(dry.body["report"]["merges"][0]["keep"]["id"], own["id"]);
    let real = app.post("/api/v1/consolidate", &bk, json!({ "dry_run": false })).await;
    clean("consolidate", &real.text);
    clean("consolidations", &app.get("/api/v1/consolidations", &bk).await.text);
    let a_mems = app.all_memories(&a).await;
    assert_eq!(a_mems.iter().filter(|m| m["status"] == "active").count(), 4, "A untouched by B's consolidation");
    assert_eq!(app.get("/api/v1/consolidations", &a).await.body["runs"], json!([]));

    // And A sees none of B's.
    let r = app.get("/api/v1/memories?status=all&limit=100", &a).await;
    assert!(!r.text.contains("b title") && !r.text.contains(own["id"].as_str().unwrap()));
    app.stop().await;
}
