//! Memory CRUD over HTTP on both backends: create, batch, get, patch/put, archive, restore,
//! delete, and the 404/409/422 rules.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    create_returns_201_with_location_and_every_field,
    create_validation_names_the_field,
    batch_is_all_or_nothing,
    get_touches_accessed_at,
    patch_and_put_update_fields_and_tags,
    archive_restore_delete_rules,
    unknown_and_malformed_ids_are_404,
);

async fn create_returns_201_with_location_and_every_field(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("crud@example.com").await;
    let r = app
        .post(
            "/api/v1/memories",
            &key,
            json!({ "title": "  Deploy checklist ", "content": "# Steps\n\n1. build\n", "tags": ["Ops", " deploy  notes", "ops"],
                    "metadata": { "source": "chat" }, "scope": "user:42" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let m = &r.body;
    let id = m["id"].as_str().unwrap();
    assert_eq!(r.headers["location"], format!("/api/v1/memories/{id}").as_str());
    assert_eq!(m["title"], "Deploy checklist");
    assert_eq!(m["content"], "# Steps\n\n1. build\n");
    assert_eq!(m["type"], "short_term");
    assert_eq!(m["status"], "active");
    assert_eq!(m["tags"], json!(["ops", "deploy_notes"]));
    assert_eq!(m["metadata"], json!({ "source": "chat" }));
    assert_eq!(m["scope"], "user:42");
    assert_eq!(m["created_at"], "2026-11-23T12:00:00Z");
    assert_eq!(m["updated_at"], m["created_at"]);
    assert_eq!(m["accessed_at"], m["created_at"]);
    assert_eq!(m["archived_at"], Value::Null);
    assert_eq!(m["size_bytes"], ("Deploy checklist".len() + "# Steps\n\n1. build\n".len()) as u64);
    assert_eq!(m["content_hash"].as_str().unwrap().len(), 64);
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    // What was returned is what is stored.
    let g = app.get(&format!("/api/v1/memories/{id}"), &key).await;
    assert_eq!(g.body, r.body);
    let lt = app.memory(&key, json!({ "title": "t", "content": "", "type": "long_term" })).await;
    assert_eq!(
        (lt["type"].as_str(), lt["metadata"].clone(), lt["scope"].clone()),
        (Some("long_term"), json!({}), Value::Null)
    );
    app.stop().await;
}

async fn create_validation_names_the_field(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("val@example.com").await;
    let cases = [
        (json!({ "title": "", "content": "x" }), "title"),
        (json!({ "title": "a\nb", "content": "x" }), "title"),
        (json!({ "title": "x".repeat(501), "content": "x" }), "title"),
        (json!({ "title": "t", "content": "x", "tags": ["ok", "  "] }), "tags[1]"),
        (json!({ "title": "t", "content": "x", "tags": ["x".repeat(65)] }), "tags[0]"),
        (json!({ "title": "t", "content": "x", "metadata": [1, 2] }), "metadata"),
        (json!({ "title": "t", "content": "x", "scope": "has space" }), "scope"),
        (json!({ "title": "t", "content": "a\u{0}b" }), "content"),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/memories", &key, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.text);
    }
    // Unknown fields, wrong types and a missing title are refused too (never stored).
    for body in [
        json!({ "title": "t", "content": "x", "colour": 1 }),
        json!({ "content": "x" }),
        json!({ "title": 5, "content": "x" }),
    ] {
        let r = app.post("/api/v1/memories", &key, body).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    let r = app.send(Method::POST, "/api/v1/memories", Some(&key), None).await;
    assert!(r.status.is_client_error(), "{}", r.text);
    assert_eq!(app.all_memories(&key).await.len(), 0);
    app.stop().await;
}

async fn batch_is_all_or_nothing(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("batch@example.com").await;
    let items: Vec<Value> = (0..100).map(|i| json!({ "title": format!("m{i}"), "content": "c" })).collect();
    let r = app.post("/api/v1/memories/batch", &key, json!({ "memories": items })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["memories"].as_array().unwrap().len(), 100);
    assert_eq!(r.body["memories"][7]["title"], "m7");

    let too_many: Vec<Value> = (0..101).map(|i| json!({ "title": format!("m{i}"), "content": "c" })).collect();
    let r = app.post("/api/v1/memories/batch", &key, json!({ "memories": too_many })).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r.body["error"]["details"]["field"], "memories");
    let r = app.post("/api/v1/memories/batch", &key, json!({ "memories": [] })).await;
    assert_eq!(r.body["error"]["details"]["field"], "memories");

    let bad = json!({ "memories": [{ "title": "fine", "content": "" }, { "title": " ", "content": "" }] });
    let r = app.post("/api/v1/memories/batch", &key, bad).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r.body["error"]["details"]["field"], "memories[1].title");
    assert_eq!(app.all_memories(&key).await.len(), 100, "nothing of the bad batch was stored");
    app.stop().await;
}

async fn get_touches_accessed_at(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("get@example.com").await;
    let m = app.memory(&key, json!({ "title": "t", "content": "c" })).await;
    let id = m["id"].as_str().unwrap();
    app.advance(3600);
    let g = app.get(&format!("/api/v1/memories/{id}"), &key).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body["accessed_at"], "2026-11-23T13:00:00Z");
    assert_eq!(g.body["updated_at"], m["updated_at"], "a read is not a change");
    // Listing and searching do not touch.
    app.advance(3600);
    let l = app.get("/api/v1/memories", &key).await;
    assert_eq!(l.body["memories"][0]["accessed_at"], "2026-11-23T13:00:00Z");
    let s = app.post("/api/v1/search", &key, json!({})).await;
    assert_eq!(s.body["results"][0]["memory"]["accessed_at"], "2026-11-23T13:00:00Z");
    let l = app.get("/api/v1/memories", &key).await;
    assert_eq!(l.body["memories"][0]["accessed_at"], "2026-11-23T13:00:00Z");
    app.stop().await;
}

async fn patch_and_put_update_fields_and_tags(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("patch@example.com").await;
    let m = app.memory(&key, json!({ "title": "t", "content": "c", "tags": ["a", "b"], "metadata": { "k": 1 } })).await;
    let path = format!("/api/v1/memories/{}", m["id"].as_str().unwrap());
    app.advance(60);
    let r = app
        .call(
            Method::PATCH,
            &path,
            &key,
            Some(json!({ "title": "New", "add_tags": ["C", "a"], "remove_tags": ["b"], "type": "long_term" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["title"], "New");
    assert_eq!(r.body["tags"], json!(["a", "c"]));
    assert_eq!(r.body["type"], "long_term");
    assert_eq!(r.body["content"], "c");
    assert_eq!(r.body["metadata"], json!({ "k": 1 }));
    assert_eq!(r.body["updated_at"], "2026-11-23T12:01:00Z");
    assert_eq!(r.body["created_at"], m["created_at"]);
    assert_eq!(r.body["size_bytes"], 4);

    app.advance(60);
    let r =
        app.call(Method::PUT, &path, &key, Some(json!({ "content": "longer", "tags": ["z"], "metadata": {} }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["content"].as_str(), r.body["tags"].clone(), r.body["metadata"].clone()),
        (Some("longer"), json!(["z"]), json!({}))
    );
    assert_eq!(r.body["title"], "New", "PUT leaves absent fields as they are");
    assert_ne!(r.body["content_hash"], m["content_hash"]);
    assert_eq!(app.get(&path, &key).await.body["content"], "longer");

    // A patch that changes nothing does not move updated_at.
    app.advance(60);
    let r = app.call(Method::PATCH, &path, &key, Some(json!({ "title": "New" }))).await;
    assert_eq!(r.body["updated_at"], "2026-11-23T12:02:00Z");
    for (body, field) in [
        (json!({ "title": "" }), "title"),
        (json!({ "add_tags": ["ok", ""] }), "add_tags[1]"),
        (json!({ "metadata": 3 }), "metadata"),
    ] {
        let r = app.call(Method::PATCH, &path, &key, Some(body)).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(r.body["error"]["details"]["field"], field);
    }
    app.stop().await;
}

async fn archive_restore_delete_rules(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("arch@example.com").await;
    let m = app.memory(&key, json!({ "title": "t", "content": "c" })).await;
    let id = m["id"].as_str().unwrap();
    let path = format!("/api/v1/memories/{id}");
    let restore = format!("{path}/restore");

    let r = app.post(&restore, &key, json!({})).await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    app.advance(10);
    let r = app.call(Method::DELETE, &path, &key, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let g = app.get(&path, &key).await;
    assert_eq!(
        (g.body["status"].as_str(), g.body["archived_at"].as_str()),
        (Some("archived"), Some("2026-11-23T12:00:10Z"))
    );
    let r = app.call(Method::DELETE, &path, &key, None).await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    assert_eq!(
        app.get("/api/v1/memories", &key).await.body["memories"],
        json!([]),
        "archived memories leave the default list"
    );

    let r = app.post(&restore, &key, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["status"].as_str(), r.body["archived_at"].clone()), (Some("active"), Value::Null));

    let r = app.call(Method::DELETE, &format!("{path}?permanent=maybe"), &key, None).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let r = app.call(Method::DELETE, &format!("{path}?permanent=true"), &key, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_error(&app.get(&path, &key).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        &app.call(Method::DELETE, &format!("{path}?permanent=true"), &key, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(&app.post(&restore, &key, json!({})).await, StatusCode::NOT_FOUND, "not_found");

    // Archived memories can be deleted for good too.
    let m = app.memory(&key, json!({ "title": "t2", "content": "c" })).await;
    let path = format!("/api/v1/memories/{}", m["id"].as_str().unwrap());
    assert_eq!(app.call(Method::DELETE, &path, &key, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::DELETE, &format!("{path}?permanent=true"), &key, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.all_memories(&key).await.len(), 0);
    app.stop().await;
}

async fn unknown_and_malformed_ids_are_404(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("404@example.com").await;
    for id in [uuid::Uuid::now_v7().to_string(), "not-a-uuid".to_owned()] {
        let path = format!("/api/v1/memories/{id}");
        assert_error(&app.get(&path, &key).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(
            &app.call(Method::PATCH, &path, &key, Some(json!({ "title": "x" }))).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &app.call(Method::PUT, &path, &key, Some(json!({ "title": "x" }))).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(&app.call(Method::DELETE, &path, &key, None).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&app.post(&format!("{path}/restore"), &key, json!({})).await, StatusCode::NOT_FOUND, "not_found");
    }
    // No key, no access.
    let r = app.send(Method::GET, "/api/v1/memories", None, None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    app.stop().await;
}
