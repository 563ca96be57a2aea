//! HTTP protocol behaviour on both backends: the error envelope for framework errors, bad input
//! never producing a 5xx, headers, health, and the OpenAPI document matching the router.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::json;
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    health_endpoints,
    request_ids_and_security_headers,
    bad_input_is_4xx_in_the_envelope,
    openapi_lists_every_route
);

async fn health_endpoints(b: Backend) {
    let app = TestApp::start(b).await;
    for (path, key, want) in [
        ("/health", "status", json!("healthy")),
        ("/health/ready", "ready", json!(true)),
        ("/health/live", "live", json!(true)),
        ("/version", "name", json!("whitemagic")),
    ] {
        let r = app.send(Method::GET, path, None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.body[key], want, "{path}: {}", r.text);
        assert_eq!(r.headers.get("cache-control").unwrap(), "no-store", "{path}");
    }
    let h = app.send(Method::GET, "/health", None, None).await;
    assert_eq!(h.body["database"], "connected");
    assert_eq!(h.body["version"], env!("CARGO_PKG_VERSION"));
    let m = app.send(Method::GET, "/metrics", None, None).await;
    assert!(m.text.contains("whitemagic_requests_total"), "{}", m.text);

    // With the database gone, readiness says so with a 503 (and health is unhealthy).
    app.core.store.close().await;
    let r = app.send(Method::GET, "/health/ready", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["ready"], false);
    let h = app.send(Method::GET, "/health", None, None).await;
    assert_eq!(h.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h.body["status"], "unhealthy");
    assert_eq!(h.body["database"], "disconnected");
    // An authenticated call with an uncached key cannot reach the database: 503, never 500.
    let r = app.get("/api/v1/user/me", "wm_dev_0123456789abcdefghijABCDEFGHIJ99").await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

async fn request_ids_and_security_headers(b: Backend) {
    let app = TestApp::start(b).await;
    let r = app.http.get(format!("{}/health", app.base)).header("x-request-id", "abc-123.def").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123.def", "a valid incoming id is echoed");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let r =
        app.http.get(format!("{}/health", app.base)).header("x-request-id", "bad id with spaces").send().await.unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "an invalid id is replaced: {id}");
    let long = "a".repeat(300);
    let r = app.http.get(format!("{}/health", app.base)).header("x-request-id", &long).send().await.unwrap();
    assert_ne!(r.headers()["x-request-id"], long.as_str());
    app.stop().await;
}

async fn bad_input_is_4xx_in_the_envelope(b: Backend) {
    let app = TestApp::start(b).await;
    let key = app.admin_key.clone();
    let url = |p: &str| format!("{}{}", app.base, p);
    let send = |req: reqwest::RequestBuilder| async { TestApp::read(req.send().await.unwrap()).await };

    let r = send(
        app.http
            .post(url("/api/v1/user/keys"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body("{\"name\": "),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_json");
    let r = send(
        app.http.post(url("/api/v1/user/keys")).bearer_auth(&key).header("content-type", "text/plain").body("name=x"),
    )
    .await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let r = send(app.http.post(url("/api/v1/user/keys")).bearer_auth(&key).body("{\"name\":\"x\"}")).await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let huge = json!({ "name": "x".repeat(200 * 1024) });
    let r = send(app.http.post(url("/api/v1/user/keys")).bearer_auth(&key).json(&huge)).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let r = send(app.http.post(url("/api/v1/user/keys")).bearer_auth(&key).json(&json!({ "name": 5 }))).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(r.text.contains("name"), "names the field: {}", r.text);
    let r = send(app.http.post(url("/api/v1/user/keys")).bearer_auth(&key).json(&json!([1, 2]))).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let r = send(app.http.get(url("/no/such/route"))).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = send(app.http.put(url("/api/v1/user/me")).bearer_auth(&key)).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let r = send(app.http.get(url("/api/v1/admin/users/%ZZ")).bearer_auth(&key)).await;
    assert!(r.status.is_client_error(), "{}", r.text);
    // Nothing above created a key.
    let keys = app.get("/api/v1/user/keys", &key).await;
    assert_eq!(keys.body["keys"].as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn openapi_lists_every_route(b: Backend) {
    let app = TestApp::start(b).await;
    let r = app.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"), "{}", r.body["openapi"]);
    let paths = r.body["paths"].as_object().unwrap();
    for required in [
        "/health",
        "/health/ready",
        "/health/live",
        "/version",
        "/api/v1/user/me",
        "/api/v1/user/keys",
        "/api/v1/user/keys/{id}",
        "/api/v1/user/keys/{id}/rotate",
        "/api/v1/admin/users",
        "/api/v1/admin/users/{id}",
        "/api/v1/admin/users/{id}/keys",
        "/openapi.json",
        "/docs",
    ] {
        assert!(paths.contains_key(required), "{required} missing from the spec");
    }
    // Every documented operation is served: calling it never hits the router's 404/405 fallback.
    let id = uuid::Uuid::now_v7().to_string();
    for (path, item) in paths {
        let concrete = path.replace("{id}", &id).replace("{file}", "init.js");
        for method in item.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app.send(m.clone(), &concrete, Some(&app.admin_key), Some(json!({}))).await;
            let fallback =
                res.body["error"]["message"] == "no such route" || res.status == StatusCode::METHOD_NOT_ALLOWED;
            assert!(!fallback, "{m} {path} is documented but not served: {}", res.text);
            assert!(!res.status.is_server_error(), "{m} {path}: {}", res.text);
        }
    }
    let docs = app.send(Method::GET, "/docs", None, None).await;
    assert!(docs.text.contains("swagger-ui"));
    assert!(!docs.text.contains("https://"), "docs load nothing from the internet");
    app.stop().await;
}
