//! Search and context over HTTP on both backends: ranking, filters, previews, hostile queries,
//! token budgets, tiers, and `accessed_at` updates.

mod common;

use common::{TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wm_domain::memory::count_tokens;
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    ranking_title_over_tags_over_body,
    phrases_prefixes_filters_and_previews,
    hostile_queries_never_5xx,
    context_tiers_without_query,
    context_budget_is_hard_and_counts_are_true,
    context_with_query_ranks_and_touches,
);

fn titles(r: &Value) -> Vec<&str> {
    r["results"].as_array().unwrap().iter().map(|h| h["memory"]["title"].as_str().unwrap()).collect()
}

async fn ranking_title_over_tags_over_body(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("rank@example.com").await;
    app.memory(&key, json!({ "title": "Notes on cooking", "content": "A recipe mentioning kubernetes once among many other words about food." })).await;
    app.memory(&key, json!({ "title": "Weekly notes", "content": "Nothing relevant here.", "tags": ["kubernetes"] }))
        .await;
    app.memory(&key, json!({ "title": "Kubernetes upgrade", "content": "Steps for the cluster." })).await;
    app.memory(&key, json!({ "title": "Unrelated", "content": "Gardening." })).await;
    let r = app.post("/api/v1/search", &key, json!({ "query": "kubernetes" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(titles(&r.body), ["Kubernetes upgrade", "Weekly notes", "Notes on cooking"]);
    let scores: Vec<f64> = r.body["results"].as_array().unwrap().iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert_eq!(r.body["count"], 3);
    assert_eq!(r.body["filters"]["query"], "kubernetes");
    // Several words: all must match.
    let r = app.post("/api/v1/search", &key, json!({ "query": "kubernetes cluster" })).await;
    assert_eq!(titles(&r.body), ["Kubernetes upgrade"]);
    // No query: newest first.
    let r = app.post("/api/v1/search", &key, json!({ "query": "   " })).await;
    assert_eq!(titles(&r.body).len(), 4);
    assert_eq!(r.body["filters"]["query"], Value::Null);
    app.stop().await;
}

async fn phrases_prefixes_filters_and_previews(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("phrase@example.com").await;
    let long = format!(
        "{} The deployment pipeline failed at the migration step. {}",
        "Filler words here. ".repeat(30),
        "More filler. ".repeat(30)
    );
    let a =
        app.memory(&key, json!({ "title": "Incident", "content": long, "tags": ["ops"], "scope": "agent:1" })).await;
    app.memory(
        &key,
        json!({ "title": "Pipeline idea", "content": "migration of the deployment later", "type": "long_term" }),
    )
    .await;
    let r = app.post("/api/v1/search", &key, json!({ "query": "\"pipeline failed\"" })).await;
    assert_eq!(titles(&r.body), ["Incident"]);
    let preview = r.body["results"][0]["preview"].as_str().unwrap();
    assert!(preview.contains("pipeline failed") && preview.starts_with('…'), "{preview}");
    assert!(preview.chars().count() <= 202, "{preview}");
    let r = app.post("/api/v1/search", &key, json!({ "query": "migrat*" })).await;
    assert_eq!(titles(&r.body).len(), 2, "{}", r.text);
    for (filters, want) in [
        (json!({ "tags": ["OPS"] }), vec!["Incident"]),
        (json!({ "type": "long_term" }), vec!["Pipeline idea"]),
        (json!({ "scope": "agent:1" }), vec!["Incident"]),
        (json!({ "scope": "agent:2" }), vec![]),
        (json!({ "limit": 1 }), vec!["Incident"]),
    ] {
        let mut body = filters.clone();
        body["query"] = json!("migration");
        let r = app.post("/api/v1/search", &key, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let mut got = titles(&r.body);
        got.sort();
        let mut want = want;
        want.sort();
        if filters.get("limit").is_some() {
            assert_eq!(got.len(), 1);
        } else {
            assert_eq!(got, want, "{filters}");
        }
    }
    // Archived memories only with include_archived.
    app.call(reqwest::Method::DELETE, &format!("/api/v1/memories/{}", a["id"].as_str().unwrap()), &key, None).await;
    assert_eq!(titles(&app.post("/api/v1/search", &key, json!({ "query": "incident" })).await.body).len(), 0);
    let r = app.post("/api/v1/search", &key, json!({ "query": "incident", "include_archived": true })).await;
    assert_eq!(titles(&r.body), ["Incident"]);
    for (body, field) in [
        (json!({ "limit": 0 }), "limit"),
        (json!({ "limit": 101 }), "limit"),
        (json!({ "tags": [""] }), "tags[0]"),
        (json!({ "scope": "" }), "scope"),
    ] {
        let r = app.post("/api/v1/search", &key, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(r.body["error"]["details"]["field"], field);
    }
    app.stop().await;
}

async fn hostile_queries_never_5xx(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("hostile@example.com").await;
    app.memory(&key, json!({ "title": "Normal memory 🎉", "content": "a AND b OR c; drop table users; NEAR(x y) \"quoted\" * and 'single'" })).await;
    let ten_kb = "x".repeat(10 * 1024);
    let words_10kb = "word ".repeat(2048);
    let queries = [
        "\"unterminated",
        "a AND OR",
        "*",
        "NEAR(",
        "'; DROP TABLE memories; --",
        "🎉",
        "🎉🎉 emoji",
        "OR",
        "AND",
        "NOT",
        "-",
        "-a",
        "+",
        "^",
        "a:b",
        "title:x",
        "(",
        ")",
        "()",
        "\"\"",
        "\"",
        "''",
        "\\",
        "%",
        "_",
        "a*b",
        "**",
        "* *",
        "NEAR(a b, 3)",
        "a NEAR b",
        "{a b}",
        "[x]",
        "col:\"x\"",
        "a | b",
        "a & b",
        "!a",
        "<->",
        "a <-> b",
        ":*",
        "x:*",
        "\u{0301}",
        "ﬁ",
        "İ",
        "\t\n",
        "null",
        "undefined",
        &ten_kb,
        &words_10kb,
        "a\u{0}b",
    ];
    for q in queries {
        for (path, body) in
            [("/api/v1/search", json!({ "query": q })), ("/api/v1/context", json!({ "query": q, "tier": 2 }))]
        {
            let r = app.post(path, &key, body).await;
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {:?} -> {} {}",
                q.chars().take(40).collect::<String>(),
                r.status,
                r.text
            );
        }
    }
    let r = app.post("/api/v1/search", &key, json!({ "query": ten_kb })).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r.body["error"]["details"]["field"], "query");
    // Operators are matched as words, not syntax.
    let r = app.post("/api/v1/search", &key, json!({ "query": "'; DROP TABLE" })).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.all_memories(&key).await.len(), 1, "still there");
    let r = app.post("/api/v1/search", &key, json!({ "query": "🎉" })).await;
    assert_eq!(r.status, StatusCode::OK);
    app.stop().await;
}

/// Sections in a context package start with `### `.
fn sections(context: &str) -> usize {
    context.lines().filter(|l| l.starts_with("### ")).count()
}

async fn context_tiers_without_query(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("tiers@example.com").await;
    let r = app.post("/api/v1/context", &key, json!({ "tier": 0 })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["memories_included"], 0);
    for i in 0..12 {
        app.advance(60);
        app.memory(&key, json!({ "title": format!("short {i}"), "content": format!("First paragraph {i}.\n\nSecond paragraph {i}.") })).await;
    }
    for i in 0..6 {
        app.advance(60);
        app.memory(
            &key,
            json!({ "title": format!("long {i}"), "content": format!("Durable fact {i}."), "type": "long_term" }),
        )
        .await;
    }
    app.memory(&key, json!({ "title": "other scope", "content": "x", "scope": "user:9" })).await;
    for (tier, want) in [(0, 2), (1, 7), (2, 15)] {
        let r = app.post("/api/v1/context", &key, json!({ "tier": tier, "max_tokens": 100000 })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let ctx = r.body["context"].as_str().unwrap();
        assert_eq!(r.body["tier"], tier);
        assert_eq!(r.body["memories_included"], want, "tier {tier}: {ctx}");
        assert_eq!(sections(ctx), want);
        assert_eq!(r.body["token_count"], count_tokens(ctx));
        if tier == 0 {
            assert!(
                ctx.contains("other scope") && ctx.contains("short 11") && !ctx.contains("Second paragraph"),
                "{ctx}"
            );
        }
        if tier == 2 {
            assert!(ctx.contains("Second paragraph 11") && ctx.contains("long 5") && !ctx.contains("long 0"), "{ctx}");
        }
    }
    let r = app.post("/api/v1/context", &key, json!({ "tier": 2, "scope": "user:9" })).await;
    assert_eq!(r.body["memories_included"], 1);
    // No body at all: tier 1.
    let r = app.send(reqwest::Method::POST, "/api/v1/context", Some(&key), None).await;
    assert_eq!((r.status, r.body["tier"].as_u64()), (StatusCode::OK, Some(1)), "{}", r.text);
    for (body, field) in [
        (json!({ "tier": 3 }), "tier"),
        (json!({ "max_tokens": 0 }), "max_tokens"),
        (json!({ "max_tokens": 100001 }), "max_tokens"),
        (json!({ "scope": "a b" }), "scope"),
    ] {
        let r = app.post("/api/v1/context", &key, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.text);
    }
    app.stop().await;
}

async fn context_budget_is_hard_and_counts_are_true(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("budget@example.com").await;
    for i in 0..10 {
        app.advance(1);
        let content = format!("Memory {i}: {}", "lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(40));
        app.memory(&key, json!({ "title": format!("note {i}"), "content": content, "tags": ["t"] })).await;
    }
    for max in [1, 5, 12, 30, 60, 100, 150, 333, 700, 1500, 4000, 8000] {
        let r = app.post("/api/v1/context", &key, json!({ "tier": 2, "max_tokens": max })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let ctx = r.body["context"].as_str().unwrap();
        let tokens = r.body["token_count"].as_u64().unwrap() as usize;
        assert_eq!(tokens, count_tokens(ctx), "max {max}");
        assert!(tokens <= max, "{tokens} > {max}");
        assert_eq!(r.body["memories_included"].as_u64().unwrap() as usize, sections(ctx), "max {max}: {ctx}");
        assert_eq!(r.body["included_ids"].as_array().unwrap().len(), sections(ctx));
    }
    app.stop().await;
}

async fn context_with_query_ranks_and_touches(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("ctxq@example.com").await;
    let a = app.memory(&key, json!({ "title": "Postgres tuning", "content": "shared_buffers and work_mem" })).await;
    let c = app.memory(&key, json!({ "title": "Cooking", "content": "pasta" })).await;
    let d = app.memory(&key, json!({ "title": "Misc", "content": "mentions postgres in passing" })).await;
    app.advance(3600);
    let r = app.post("/api/v1/context", &key, json!({ "query": "postgres", "tier": 1 })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ctx = r.body["context"].as_str().unwrap();
    assert_eq!(r.body["memories_included"], 2, "{ctx}");
    assert!(ctx.find("Postgres tuning").unwrap() < ctx.find("Misc").unwrap(), "most relevant first: {ctx}");
    assert!(!ctx.contains("Cooking"));
    let ids: Vec<&str> = r.body["included_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(ids, [a["id"].as_str().unwrap(), d["id"].as_str().unwrap()]);
    for m in app.all_memories(&key).await {
        let touched = m["id"] != c["id"];
        let want = if touched { "2026-11-23T13:00:00Z" } else { "2026-11-23T12:00:00Z" };
        assert_eq!(m["accessed_at"], want, "{}", m["title"]);
    }
    app.stop().await;
}
