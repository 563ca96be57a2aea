//! Consolidation over HTTP with a fixed clock, on both backends: the dry run reports exactly
//! what the real run then does (merges, archiving, promotions, digest), and runs are logged.

mod common;

use common::{TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wm_testkit::{Backend, backend_tests};

backend_tests!(dry_run_and_real_run_agree, consolidation_options_and_log);

fn by_title<'a>(all: &'a [Value], title: &str) -> Vec<&'a Value> {
    all.iter().filter(|m| m["title"] == title).collect()
}

async fn dry_run_and_real_run_agree(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("consolidate@example.com").await;
    let insight = app.memory(&key, json!({ "title": "Retry with jitter", "content": "Use capped backoff.", "tags": ["insight", "net"], "metadata": { "src": "chat" } })).await;
    let plain = app.memory(&key, json!({ "title": "Lunch order", "content": "Pizza.", "tags": ["misc"] })).await;
    let dup1 = app.memory(&key, json!({ "title": "Dup one", "content": "Same text.", "tags": ["a"] })).await;
    app.advance(1);
    let dup2 = app.memory(&key, json!({ "title": "Dup two", "content": "Same text.", "tags": ["b", "a"] })).await;
    let scoped = app.memory(&key, json!({ "title": "Scoped note", "content": "Same text.", "scope": "user:7" })).await;
    let long = app.memory(&key, json!({ "title": "Durable", "content": "Long-term fact.", "type": "long_term" })).await;
    app.advance(10 * 86_400);
    let fresh = app.memory(&key, json!({ "title": "Fresh", "content": "New.", "tags": ["insight"] })).await;
    let before = app.all_memories(&key).await;

    let dry = app.post("/api/v1/consolidate", &key, json!({})).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    let report = &dry.body["report"];
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(report["cutoff"], "2026-11-26T12:00:01Z");
    assert_eq!(report["merged_groups"], 1);
    assert_eq!(report["duplicates_archived"], 1);
    assert_eq!(report["merges"][0]["keep"]["id"], dup1["id"]);
    assert_eq!(report["merges"][0]["archived"][0]["id"], dup2["id"]);
    assert_eq!(report["merges"][0]["tags"], json!(["a", "b"]));
    let archived: Vec<&Value> = report["archived"].as_array().unwrap().iter().map(|i| &i["id"]).collect();
    assert_eq!(archived, [&insight["id"], &plain["id"], &dup1["id"], &scoped["id"]]);
    assert_eq!(report["promoted_count"], 1);
    assert_eq!(report["promoted"][0]["id"], insight["id"]);
    assert_eq!(report["digest_count"], 2, "one digest per scope");
    assert_eq!(app.all_memories(&key).await, before, "a dry run changes nothing");

    let real = app.post("/api/v1/consolidate", &key, json!({ "dry_run": false })).await;
    assert_eq!(real.status, StatusCode::OK, "{}", real.text);
    assert_eq!(real.body["dry_run"], false);
    let mut same = real.body["report"].clone();
    same["dry_run"] = json!(true);
    assert_eq!(&same, report, "the real run did exactly what the dry run said");

    let after = app.all_memories(&key).await;
    assert_eq!(after.len(), before.len() + 3, "one promotion and two digests");
    let status = |m: &Value| {
        let m = after.iter().find(|x| x["id"] == m["id"]).unwrap();
        (m["status"].as_str().unwrap().to_owned(), m["archived_at"].clone())
    };
    for m in [&insight, &plain, &dup1, &dup2, &scoped] {
        assert_eq!(status(m), ("archived".into(), json!("2026-12-03T12:00:01Z")), "{}", m["title"]);
    }
    for m in [&long, &fresh] {
        assert_eq!(status(m).0, "active");
    }
    let keeper = after.iter().find(|x| x["id"] == dup1["id"]).unwrap();
    assert_eq!(keeper["tags"], json!(["a", "b"]), "the keeper got the union of tags");
    let promoted = by_title(&after, "Retry with jitter").into_iter().find(|m| m["type"] == "long_term").unwrap();
    assert_eq!(promoted["status"], "active");
    assert_eq!(promoted["content"], insight["content"]);
    assert_eq!(promoted["tags"], insight["tags"]);
    assert_eq!(promoted["metadata"], json!({ "src": "chat", "promoted_from": insight["id"] }));
    assert_eq!(promoted["created_at"], "2026-12-03T12:00:01Z");
    let digests: Vec<&Value> = after.iter().filter(|m| m["tags"] == json!(["digest", "consolidation"])).collect();
    assert_eq!(digests.len(), 2);
    let unscoped = digests.iter().find(|d| d["scope"].is_null()).unwrap();
    assert_eq!(unscoped["type"], "long_term");
    let text = unscoped["content"].as_str().unwrap();
    for t in ["Retry with jitter", "Lunch order", "Dup one"] {
        assert!(text.contains(t), "{t} in {text}");
    }
    assert!(!text.contains("Scoped note") && !text.contains("Dup two") && !text.contains("Fresh"), "{text}");
    assert!(digests.iter().any(|d| d["scope"] == "user:7" && d["content"].as_str().unwrap().contains("Scoped note")));

    // Nothing left to do now.
    let again = app.post("/api/v1/consolidate", &key, json!({ "dry_run": false })).await;
    assert_eq!(
        (again.body["report"]["archived_count"].as_u64(), again.body["report"]["digest_count"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(app.all_memories(&key).await.len(), after.len());

    let log = app.get("/api/v1/consolidations", &key).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let runs = log.body["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for r in [&dry.body, &real.body, &again.body] {
        let logged = runs.iter().find(|x| x["id"] == r["id"]).unwrap();
        assert_eq!(logged, r, "the log holds the run as answered");
    }
    app.stop().await;
}

async fn consolidation_options_and_log(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("options@example.com").await;
    let m = app.memory(&key, json!({ "title": "Decision", "content": "Chose SQLite.", "tags": ["choice"] })).await;
    app.memory(&key, json!({ "title": "Dup", "content": "x" })).await;
    app.memory(&key, json!({ "title": "Dup", "content": "x" })).await;
    app.advance(2 * 86_400);
    let r = app
        .post(
            "/api/v1/consolidate",
            &key,
            json!({ "min_age_days": 1, "promote_tags": ["Choice"], "merge_duplicates": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rep = &r.body["report"];
    assert_eq!(
        (rep["merged_groups"].as_u64(), rep["archived_count"].as_u64(), rep["promoted_count"].as_u64()),
        (Some(0), Some(3), Some(1))
    );
    assert_eq!(rep["promoted"][0]["id"], m["id"]);
    let r = app.post("/api/v1/consolidate", &key, json!({ "min_age_days": 3 })).await;
    assert_eq!(r.body["report"]["archived_count"], 0);
    // No body at all is a dry run with the defaults.
    let r = app.send(reqwest::Method::POST, "/api/v1/consolidate", Some(&key), None).await;
    assert_eq!((r.status, r.body["dry_run"].as_bool()), (StatusCode::OK, Some(true)), "{}", r.text);
    for (body, field) in [
        (json!({ "min_age_days": 100000 }), "min_age_days"),
        (json!({ "promote_tags": ["ok", " "] }), "promote_tags[1]"),
    ] {
        let r = app.post("/api/v1/consolidate", &key, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(r.body["error"]["details"]["field"], field);
    }
    let r = app.post("/api/v1/consolidate", &key, json!({ "dry_run": "yes" })).await;
    assert!(r.status.is_client_error());
    assert_eq!(app.get("/api/v1/consolidations", &key).await.body["runs"].as_array().unwrap().len(), 3);
    assert_eq!(app.get("/api/v1/consolidations?limit=2", &key).await.body["runs"].as_array().unwrap().len(), 2);
    assert_error(
        &app.get("/api/v1/consolidations?limit=0", &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    app.stop().await;
}
