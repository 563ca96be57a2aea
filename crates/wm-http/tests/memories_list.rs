//! Listing over HTTP on both backends: filters, sorting, cursor pagination, tag and account
//! statistics.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;
use wm_testkit::{Backend, backend_tests};

backend_tests!(filters_combine, pagination_is_stable_under_inserts, sorting_and_bad_parameters, tags_and_stats_numbers);

fn titles(r: &Value) -> Vec<String> {
    r["memories"].as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_owned()).collect()
}

async fn filters_combine(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("filters@example.com").await;
    let specs = [
        ("a", "short_term", vec!["x", "y"], Some("user:1")),
        ("b", "short_term", vec!["x"], None),
        ("c", "long_term", vec!["x", "y"], Some("user:1")),
        ("d", "long_term", vec![], Some("user:2")),
    ];
    let mut ids = Vec::new();
    for (title, t, tags, scope) in specs {
        app.advance(1);
        let m =
            app.memory(&key, json!({ "title": title, "content": "c", "type": t, "tags": tags, "scope": scope })).await;
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    app.call(Method::DELETE, &format!("/api/v1/memories/{}", ids[1]), &key, None).await;

    let cases = [
        ("", vec!["d", "c", "a"]),
        ("?type=long_term", vec!["d", "c"]),
        ("?tag=x", vec!["c", "a"]),
        ("?tag=X&tag=y&type=short_term", vec!["a"]),
        ("?tag=x&tag=nope", vec![]),
        ("?scope=user:1", vec!["c", "a"]),
        ("?scope=user%3A2&tag=x", vec![]),
        ("?status=archived", vec!["b"]),
        ("?status=all&tag=x", vec!["c", "b", "a"]),
        ("?status=all&order=asc", vec!["a", "b", "c", "d"]),
    ];
    for (q, want) in cases {
        let r = app.get(&format!("/api/v1/memories{q}"), &key).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
        assert_eq!(titles(&r.body), want, "{q}");
        assert_eq!(r.body["next_cursor"], Value::Null, "{q}");
    }
    app.stop().await;
}

async fn pagination_is_stable_under_inserts(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("pages@example.com").await;
    // 25 memories, some sharing a timestamp (ties are broken by id).
    for i in 0..25 {
        if i % 3 == 0 {
            app.advance(1);
        }
        app.memory(&key, json!({ "title": format!("m{i}"), "content": "c" })).await;
    }
    let first = app.get("/api/v1/memories", &key).await;
    assert_eq!(first.body["memories"].as_array().unwrap().len(), 20, "default limit");
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = cursor.as_ref().map_or(String::new(), |c| format!("&cursor={c}"));
        let r = app.get(&format!("/api/v1/memories?limit=7{q}"), &key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        seen.extend(r.body["memories"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        pages += 1;
        // Newer memories inserted mid-way never show up in (or disturb) a descending walk.
        app.advance(1);
        app.memory(&key, json!({ "title": format!("late{pages}"), "content": "c" })).await;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25, "no duplicates");
    let all = app.get("/api/v1/memories?limit=100", &key).await;
    let want: Vec<String> = all.body["memories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["title"].as_str().unwrap().starts_with("late"))
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, want, "same order as one big page");
    let r = app.get("/api/v1/memories?limit=100", &key).await;
    assert_eq!(r.body["memories"].as_array().unwrap().len(), 29);
    app.stop().await;
}

async fn sorting_and_bad_parameters(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("sort@example.com").await;
    let a = app.memory(&key, json!({ "title": "a", "content": "c" })).await;
    app.advance(10);
    let b2 = app.memory(&key, json!({ "title": "b", "content": "c" })).await;
    app.advance(10);
    app.call(
        Method::PATCH,
        &format!("/api/v1/memories/{}", a["id"].as_str().unwrap()),
        &key,
        Some(json!({ "title": "a2" })),
    )
    .await;
    app.advance(10);
    app.get(&format!("/api/v1/memories/{}", b2["id"].as_str().unwrap()), &key).await;
    assert_eq!(titles(&app.get("/api/v1/memories?sort=created", &key).await.body), ["b", "a2"]);
    assert_eq!(titles(&app.get("/api/v1/memories?sort=updated", &key).await.body), ["a2", "b"]);
    assert_eq!(titles(&app.get("/api/v1/memories?sort=accessed", &key).await.body), ["b", "a2"]);
    assert_eq!(titles(&app.get("/api/v1/memories?sort=accessed&order=asc", &key).await.body), ["a2", "b"]);

    let page = app.get("/api/v1/memories?limit=1&sort=updated", &key).await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app.get(&format!("/api/v1/memories?limit=1&sort=updated&cursor={cursor}"), &key).await;
    assert_eq!(titles(&next.body), ["b"]);
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("type=medium", "type"),
        ("status=gone", "status"),
        ("sort=title", "sort"),
        ("order=up", "order"),
        ("cursor=garbage", "cursor"),
        (&format!("cursor={cursor}"), "cursor"),
        ("tag=%20", "tag[0]"),
        ("scope=a%20b", "scope"),
        ("colour=red", "colour"),
        ("limit=1&limit=2", "limit"),
    ] {
        let r = app.get(&format!("/api/v1/memories?{q}"), &key).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(r.body["error"]["details"]["field"], field, "{q}: {}", r.text);
    }
    app.stop().await;
}

async fn tags_and_stats_numbers(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("stats@example.com").await;
    let empty = app.get("/api/v1/stats", &key).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert_eq!((empty.body["total"].as_u64(), empty.body["oldest"].clone()), (Some(0), Value::Null));
    assert_eq!(app.get("/api/v1/tags", &key).await.body, json!({ "tags": [] }));

    let specs = [
        ("one", "short_term", vec!["rust", "db"]),
        ("two", "short_term", vec!["rust"]),
        ("three", "long_term", vec!["rust", "ops"]),
        ("four", "long_term", vec!["db"]),
        ("five", "short_term", vec![]),
    ];
    let mut ids = Vec::new();
    let mut bytes = 0;
    for (title, t, tags) in specs {
        app.advance(60);
        let content = format!("content of {title}");
        bytes += title.len() + content.len();
        let m = app.memory(&key, json!({ "title": title, "content": content, "type": t, "tags": tags })).await;
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    app.call(Method::DELETE, &format!("/api/v1/memories/{}", ids[3]), &key, None).await;

    let t = app.get("/api/v1/tags", &key).await;
    assert_eq!(
        t.body,
        json!({ "tags": [
            { "tag": "rust", "count": 3, "types": ["long_term", "short_term"] },
            { "tag": "db", "count": 2, "types": ["long_term", "short_term"] },
            { "tag": "ops", "count": 1, "types": ["long_term"] },
        ] }),
        "{}",
        t.text
    );
    let s = app.get("/api/v1/stats", &key).await.body;
    assert_eq!(s["total"], 5);
    assert_eq!(s["by_status"], json!({ "active": 4, "archived": 1, "total": 5 }));
    assert_eq!(s["by_type"]["short_term"], json!({ "active": 3, "archived": 0, "total": 3 }));
    assert_eq!(s["by_type"]["long_term"], json!({ "active": 1, "archived": 1, "total": 2 }));
    assert_eq!(s["tags"], json!({ "distinct": 3, "uses": 6 }));
    assert_eq!(s["top_tags"][0]["tag"], "rust");
    assert_eq!(s["storage_bytes"], bytes as u64);
    assert_eq!(
        (s["oldest"].as_str(), s["newest"].as_str()),
        (Some("2026-11-23T12:01:00Z"), Some("2026-11-23T12:05:00Z"))
    );
    app.stop().await;
}
