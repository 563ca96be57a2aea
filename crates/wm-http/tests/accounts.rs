//! Accounts over HTTP, on both backends: authentication, keys, admin routes.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::json;
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    me_shows_the_account,
    every_bad_key_is_a_401,
    key_lifecycle_create_list_revoke,
    rotated_key_works_until_grace_ends,
    expired_key_is_refused,
    other_users_keys_are_404,
    admin_routes_need_admin,
    admin_manages_users,
    suspended_account_is_refused,
);

async fn me_shows_the_account(b: Backend) {
    let app = TestApp::start(b).await;
    let (id, key) = app.user("Me@Example.com").await;
    let r = app.get("/api/v1/user/me", &key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], id);
    assert_eq!(r.body["email"], "me@example.com");
    assert_eq!(r.body["role"], "user");
    assert_eq!(r.body["plan"], "free");
    assert!(r.body["created_at"].is_string());
    app.stop().await;
}

async fn every_bad_key_is_a_401(b: Backend) {
    let app = TestApp::start(b).await;
    let unknown = "wm_dev_0123456789abcdefghijABCDEFGHIJ01";
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("wrong scheme", Some(format!("Basic {unknown}"))),
        ("no scheme", Some(unknown.to_owned())),
        ("malformed", Some("Bearer not-a-key".into())),
        ("too short", Some("Bearer wm_dev_abc".into())),
        ("bad env", Some("Bearer wm_xxx_0123456789abcdefghijABCDEFGHIJ01".into())),
        ("unknown", Some(format!("Bearer {unknown}"))),
        ("non-ascii", Some("Bearer wm_dev_é123456789abcdefghijABCDEFGHIJ0".into())),
    ];
    for (what, header) in cases {
        let mut req = app.http.get(format!("{}/api/v1/user/me", app.base));
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let r = TestApp::read(req.send().await.unwrap()).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer", "{what}");
    }
    // The unknown key stays unknown the second time (negative cache) and never 500s.
    let r = app.get("/api/v1/user/me", unknown).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    app.stop().await;
}

async fn key_lifecycle_create_list_revoke(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("keys@example.com").await;
    let c = app.post("/api/v1/user/keys", &key, json!({ "name": "ci" })).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let new_key = c.body["key"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with("wm_dev_") && new_key.len() == 39);
    assert_eq!(c.body["prefix"], &new_key[..16]);
    for f in ["id", "name", "created_at"] {
        assert!(!c.body[f].is_null(), "{f} in {}", c.text);
    }
    assert_eq!(app.get("/api/v1/user/me", &new_key).await.status, StatusCode::OK);

    let l = app.get("/api/v1/user/keys", &key).await;
    let keys = l.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(!l.text.contains(&new_key[16..]), "listing never shows a raw key");
    assert!(keys.iter().all(|k| k["status"] == "active" && k["prefix"].is_string()));

    let id = c.body["id"].as_str().unwrap();
    let d = app.send(Method::DELETE, &format!("/api/v1/user/keys/{id}"), Some(&key), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_error(&app.get("/api/v1/user/me", &new_key).await, StatusCode::UNAUTHORIZED, "unauthorized");
    let l = app.get("/api/v1/user/keys", &key).await;
    assert!(l.body["keys"].as_array().unwrap().iter().any(|k| k["status"] == "revoked"));
    // Invalid fields: clear 422 naming the field, nothing created.
    let bad = app.post("/api/v1/user/keys", &key, json!({ "name": "   " })).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(bad.text.contains("name"));
    let past = app.post("/api/v1/user/keys", &key, json!({ "name": "x", "expires_at": "2020-01-01T00:00:00Z" })).await;
    assert_error(&past, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let extra = app.post("/api/v1/user/keys", &key, json!({ "name": "x", "admin": true })).await;
    assert_error(&extra, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(app.get("/api/v1/user/keys", &key).await.body["keys"].as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn rotated_key_works_until_grace_ends(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("rotate@example.com").await;
    let keys = app.get("/api/v1/user/keys", &key).await;
    let id = keys.body["keys"][0]["id"].as_str().unwrap().to_owned();
    let r = app.post(&format!("/api/v1/user/keys/{id}/rotate"), &key, json!({ "grace_seconds": 60 })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let new_key = r.body["key"].as_str().unwrap().to_owned();
    assert_eq!(r.body["name"], "main");
    assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK, "old key inside grace");
    assert_eq!(app.get("/api/v1/user/me", &new_key).await.status, StatusCode::OK);
    app.advance(61);
    assert_error(&app.get("/api/v1/user/me", &key).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(app.get("/api/v1/user/me", &new_key).await.status, StatusCode::OK);

    // Without a body: no grace at all.
    let id2 = r.body["id"].as_str().unwrap();
    let r2 = app.send(Method::POST, &format!("/api/v1/user/keys/{id2}/rotate"), Some(&new_key), None).await;
    assert_eq!(r2.status, StatusCode::CREATED, "{}", r2.text);
    assert_error(&app.get("/api/v1/user/me", &new_key).await, StatusCode::UNAUTHORIZED, "unauthorized");
    let newest = r2.body["key"].as_str().unwrap();
    let bad = app
        .post(
            &format!("/api/v1/user/keys/{}/rotate", r2.body["id"].as_str().unwrap()),
            newest,
            json!({ "grace_seconds": -1 }),
        )
        .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.stop().await;
}

async fn expired_key_is_refused(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("exp@example.com").await;
    let at = (app.clock_now() + chrono::Duration::seconds(30)).to_rfc3339();
    let c = app.post("/api/v1/user/keys", &key, json!({ "name": "short", "expires_at": at })).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let short = c.body["key"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/user/me", short).await.status, StatusCode::OK);
    app.advance(31);
    let r = app.get("/api/v1/user/me", short).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(r.text.contains("expired"));
    app.stop().await;
}

async fn other_users_keys_are_404(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, alice) = app.user("alice@example.com").await;
    let (_, bob) = app.user("bob@example.com").await;
    let alice_key_id = app.get("/api/v1/user/keys", &alice).await.body["keys"][0]["id"].as_str().unwrap().to_owned();
    let d = app.send(Method::DELETE, &format!("/api/v1/user/keys/{alice_key_id}"), Some(&bob), None).await;
    assert_error(&d, StatusCode::NOT_FOUND, "not_found");
    let r = app.post(&format!("/api/v1/user/keys/{alice_key_id}/rotate"), &bob, json!({})).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let l = app.get("/api/v1/user/keys", &bob).await;
    assert!(!l.text.contains(&alice_key_id));
    assert_eq!(app.get("/api/v1/user/me", &alice).await.status, StatusCode::OK, "alice's key untouched");
    let junk = app.send(Method::DELETE, "/api/v1/user/keys/not-a-uuid", Some(&bob), None).await;
    assert_error(&junk, StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

async fn admin_routes_need_admin(b: Backend) {
    let app = TestApp::start(b).await;
    let (id, key) = app.user("plain@example.com").await;
    for (m, path) in [
        (Method::GET, "/api/v1/admin/users".to_owned()),
        (Method::GET, format!("/api/v1/admin/users/{id}")),
        (Method::POST, "/api/v1/admin/users".to_owned()),
        (Method::PATCH, format!("/api/v1/admin/users/{id}")),
        (Method::POST, format!("/api/v1/admin/users/{id}/keys")),
    ] {
        let r = app.send(m, &path, Some(&key), Some(json!({ "email": "x@y.io", "name": "n" }))).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    }
    let r = app.send(Method::GET, "/api/v1/admin/users", None, None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    app.stop().await;
}

async fn admin_manages_users(b: Backend) {
    let app = TestApp::start(b).await;
    let admin = app.admin_key.clone();
    for i in 0..4 {
        app.user(&format!("team{i}@corp.io")).await;
    }
    let c =
        app.post("/api/v1/admin/users", &admin, json!({ "email": "pro@corp.io", "plan": "pro", "role": "user" })).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    assert_eq!(c.body["plan"], "pro");
    assert_error(
        &app.post("/api/v1/admin/users", &admin, json!({ "email": "PRO@corp.io" })).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        &app.post("/api/v1/admin/users", &admin, json!({ "email": "nope" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_error(
        &app.post("/api/v1/admin/users", &admin, json!({ "email": "a@b.io", "plan": "gold" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_error(
        &app.post("/api/v1/admin/users", &admin, json!({ "email": "a@b.io", "role": "root" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    // Paging through everyone (admin + 4 team + pro = 6) two at a time, filtered and not.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/users?limit=2&cursor={c}"),
            None => "/api/v1/admin/users?limit=2".to_owned(),
        };
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        seen.extend(page.body["users"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    let corp = app.get("/api/v1/admin/users?q=CORP&limit=100", &admin).await;
    assert_eq!(corp.body["users"].as_array().unwrap().len(), 5);
    assert_error(
        &app.get("/api/v1/admin/users?limit=0", &admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_error(
        &app.get("/api/v1/admin/users?limit=abc", &admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    // Plan change takes effect on the user's next request.
    let (id, key) = app.user("upgrade@corp.io").await;
    assert_eq!(app.get("/api/v1/user/me", &key).await.body["plan"], "free");
    let p = app
        .send(Method::PATCH, &format!("/api/v1/admin/users/{id}"), Some(&admin), Some(json!({ "plan": "starter" })))
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(app.get("/api/v1/user/me", &key).await.body["plan"], "starter");
    assert_eq!(app.get(&format!("/api/v1/admin/users/{id}"), &admin).await.body["plan"], "starter");
    let missing = uuid::Uuid::now_v7();
    assert_error(&app.get(&format!("/api/v1/admin/users/{missing}"), &admin).await, StatusCode::NOT_FOUND, "not_found");
    let k = app.post(&format!("/api/v1/admin/users/{missing}/keys"), &admin, json!({ "name": "x" })).await;
    assert_error(&k, StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

async fn suspended_account_is_refused(b: Backend) {
    let app = TestApp::start(b).await;
    let (id, key) = app.user("sus@example.com").await;
    let p = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}"),
            Some(&app.admin_key),
            Some(json!({ "suspended": true })),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert_error(&app.get("/api/v1/user/me", &key).await, StatusCode::FORBIDDEN, "account_suspended");
    app.send(
        Method::PATCH,
        &format!("/api/v1/admin/users/{id}"),
        Some(&app.admin_key),
        Some(json!({ "suspended": false })),
    )
    .await;
    assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK);
    app.stop().await;
}

trait ClockNow {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl ClockNow for TestApp {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use wm_domain::Clock;
        self.clock.now()
    }
}
