//! Usage metering and plan administration: `/user/usage` equals the requests made, after a
//! flush; the daily and monthly limits count on from that usage after a restart; admins edit
//! plans and read anyone's usage; feature flags; metrics and OpenAPI.

mod common;
mod limits_support;

use common::{TestApp, TestOptions, assert_error};
use limits_support::{header_u64, move_to_plan, set_plan, set_plan_full, user_on_plan};
use reqwest::{Method, StatusCode};
use serde_json::json;
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    usage_equals_the_requests_made,
    a_restart_hands_out_no_new_allowance,
    admins_manage_plans,
    plans_without_the_rest_api_refuse_it,
    metrics_and_openapi_cover_limits
);

async fn usage_equals_the_requests_made(b: Backend) {
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    let (id, key) = user_on_plan(&app, "metered@example.com", "starter").await;

    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK);
    }
    app.memory(&key, json!({ "title": "one", "content": "c" })).await;
    app.memory(&key, json!({ "title": "two", "content": "c" })).await;
    let missing = app.get(&format!("/api/v1/memories/{}", uuid::Uuid::now_v7()), &key).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post("/api/v1/search", &key, json!({ "query": "one" })).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/user/keys", &key).await.status, StatusCode::OK);
    let bad = app.get("/api/v1/user/me", "wm_dev_0123456789abcdefghijABCDEFGHIJ99").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "not counted");
    app.core.flush().await;

    let usage = app.get("/api/v1/user/usage?days=7", &key).await;
    assert_eq!(usage.status, StatusCode::OK, "{}", usage.text);
    let u = &usage.body;
    assert_eq!(u["user_id"], id.as_str());
    assert_eq!(u["plan"], "starter");
    let days = u["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[0]["date"], "2026-11-17");
    assert!(days[..6].iter().all(|d| d["requests"] == 0), "{u}");
    let today = &days[6];
    assert_eq!(today["date"], "2026-11-23", "the UTC day of the core clock");
    assert_eq!(today["requests"], 8, "{u}");
    assert_eq!(today["by_group"], json!({ "account": 3, "memories": 3, "search": 1, "keys": 1 }));
    assert_eq!(today["by_status"], json!({ "2xx": 7, "4xx": 1 }));
    assert_eq!(u["today"], json!({ "requests": 8, "limit": 5000, "remaining": 4992 }));
    assert_eq!(u["month"], json!({ "requests": 8, "limit": 100_000, "remaining": 99_992 }));
    assert_eq!(u["memories"], json!({ "used": 2, "limit": 500 }));
    assert_eq!(u["storage_bytes"]["used"], 8);

    // Not yet flushed counts of this instance are included too; admins see the same report.
    let admin_view = app.get(&format!("/api/v1/admin/users/{id}/usage?days=1"), &app.admin_key).await;
    assert_eq!(admin_view.status, StatusCode::OK, "{}", admin_view.text);
    assert_eq!(admin_view.body["today"]["requests"], 9, "the usage request itself");
    assert_eq!(admin_view.body["days"].as_array().unwrap().len(), 1);
    app.core.flush().await;
    assert_eq!(app.get("/api/v1/user/usage?days=1", &key).await.body["today"]["requests"], 9);

    // A new UTC day starts from zero; the month keeps counting.
    app.advance(86_400);
    let next_day = app.get(&format!("/api/v1/admin/users/{id}/usage?days=2"), &app.admin_key).await;
    assert_eq!(next_day.body["today"]["requests"], 0);
    assert_eq!(next_day.body["days"][0]["requests"], 10);
    assert_eq!(next_day.body["month"]["requests"], 10);

    for q in ["days=0", "days=91", "days=x", "weeks=2"] {
        let r = app.get(&format!("/api/v1/user/usage?{q}"), &key).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    let nobody = app.get(&format!("/api/v1/admin/users/{}/usage", uuid::Uuid::now_v7()), &app.admin_key).await;
    assert_error(&nobody, StatusCode::NOT_FOUND, "not_found");
    assert_error(&app.get(&format!("/api/v1/admin/users/{id}/usage"), &key).await, StatusCode::FORBIDDEN, "forbidden");
    app.stop().await;
}

async fn a_restart_hands_out_no_new_allowance(b: Backend) {
    let options = TestOptions { limiter_on_app_clock: true, ..TestOptions::limited() };
    let app = TestApp::start_with_options(b, options.clone()).await;
    set_plan(&app, "starter", 100, 3, 5).await;
    let (_, key) = user_on_plan(&app, "restarted@example.com", "starter").await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK);
    }
    let refused = app.get("/api/v1/user/me", &key).await;
    assert_error(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    app.core.flush_on_shutdown().await; // as `serve` does
    let db_url = app.db_url.clone();
    app.stop().await;

    // The same database, a new process: today's three requests still count.
    let app = TestApp::start_with_options(b, TestOptions { database_url: Some(db_url), ..options }).await;
    let refused = app.get("/api/v1/user/me", &key).await;
    assert_error(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(refused.body["error"]["details"]["limit"], "daily", "{}", refused.text);
    assert_eq!(header_u64(&refused, "x-ratelimit-remaining"), 0);

    // The next day has a new daily allowance; the month keeps its 3 of 5.
    app.advance(86_400);
    let next_day = app.get("/api/v1/user/me", &key).await;
    assert_eq!(next_day.status, StatusCode::OK, "{}", next_day.text);
    assert_eq!(header_u64(&next_day, "x-ratelimit-limit"), 5, "the month is the tightest now");
    assert_eq!(header_u64(&next_day, "x-ratelimit-remaining"), 1);
    assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK);
    let refused = app.get("/api/v1/user/me", &key).await;
    assert_error(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(refused.body["error"]["details"]["limit"], "monthly", "{}", refused.text);
    app.stop().await;
}

async fn admins_manage_plans(b: Backend) {
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    let list = app.get("/api/v1/admin/plans", &app.admin_key).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let plans = list.body["plans"].as_array().unwrap();
    let names: Vec<_> = plans.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["free", "starter", "pro", "enterprise"]);
    let free = &plans[0];
    assert_eq!(
        (&free["per_minute"], &free["daily"], &free["monthly"], &free["memories"], &free["storage_bytes"]),
        (&json!(10), &json!(100), &json!(1000), &json!(50), &json!(10_485_760))
    );
    assert_eq!(free["features"], json!({ "mcp": true, "rest_api": true }));

    let body = json!({ "per_minute": 7, "daily": 70, "monthly": 700, "memories": 3, "storage_bytes": 300, "features": { "mcp": false } });
    let team = set_plan_full(&app, "Team", body).await;
    assert_eq!(team["name"], "team", "plan names are normalised");
    assert_eq!(team["features"], json!({ "mcp": false }));
    assert!(team["updated_at"].as_str().unwrap().starts_with("2026-11-23T12:00:00"));
    let listed = app.get("/api/v1/admin/plans", &app.admin_key).await;
    assert_eq!(listed.body["plans"].as_array().unwrap().len(), 5);
    let (id, key) = user_on_plan(&app, "team@example.com", "team").await;
    assert_eq!(app.get("/api/v1/user/me", &key).await.headers["x-ratelimit-limit"], "7");

    let valid = json!({ "per_minute": 1, "daily": 1, "monthly": 1, "memories": 1, "storage_bytes": 1 });
    for (name, body) in [
        ("bad name!", valid.clone()),
        ("x", json!({ "per_minute": -1, "daily": 1, "monthly": 1, "memories": 1, "storage_bytes": 1 })),
        ("x", json!({ "per_minute": 1, "daily": 1, "monthly": 1, "memories": 1 })),
        ("x", json!({ "per_minute": 1, "daily": 1, "monthly": 1, "memories": 1, "storage_bytes": 1, "price": 5 })),
        (
            "x",
            json!({ "per_minute": 1, "daily": 1, "monthly": 1, "memories": 1, "storage_bytes": 1, "features": { "mcp": "yes" } }),
        ),
        (
            "x",
            json!({ "per_minute": 1, "daily": 18_446_744_073_709_551_615u64, "monthly": 1, "memories": 1, "storage_bytes": 1 }),
        ),
    ] {
        let r = app.send(Method::PUT, &format!("/api/v1/admin/plans/{name}"), Some(&app.admin_key), Some(body)).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    let r = app.send(Method::PUT, "/api/v1/admin/plans/x", Some(&key), Some(valid)).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&app.get("/api/v1/admin/plans", &key).await, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        app.get("/api/v1/admin/plans", &app.admin_key).await.body["plans"].as_array().unwrap().len(),
        5,
        "nothing changed"
    );

    let unknown = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}"),
            Some(&app.admin_key),
            Some(json!({ "plan": "gold" })),
        )
        .await;
    assert_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("team"), "lists the plans: {}", unknown.text);
    move_to_plan(&app, &id, "pro").await;
    assert_eq!(
        app.get("/api/v1/user/me", &key).await.headers["x-ratelimit-limit"],
        "300",
        "a plan change applies at once"
    );
    app.stop().await;
}

async fn plans_without_the_rest_api_refuse_it(b: Backend) {
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    let body = json!({ "per_minute": 100, "daily": 100, "monthly": 100, "memories": 10, "storage_bytes": 1000, "features": { "rest_api": false } });
    set_plan_full(&app, "mcp-only", body).await;
    let (_, key) = user_on_plan(&app, "agent@example.com", "mcp-only").await;
    let r = app.get("/api/v1/user/me", &key).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("REST API"), "{}", r.text);
    app.stop().await;
}

async fn metrics_and_openapi_cover_limits(b: Backend) {
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    let (_, key) = app.user("counted@example.com").await; // free: 10 a minute
    for _ in 0..11 {
        app.get("/api/v1/user/me", &key).await;
    }
    // Request counters are counted per thread and published by the scrape itself, before any flush.
    let metrics = app.send(Method::GET, "/metrics", None, None).await.text;
    assert!(metrics.contains(r#"whitemagic_rate_limit_hits_total{plan="free",limit="per_minute"}"#), "{metrics}");
    // At least: tests that share this process (plain `cargo test`) count free users too.
    assert!(series(&metrics, r#"whitemagic_plan_requests_total{plan="free",outcome="admitted"}"#) >= 10.0, "{metrics}");
    assert!(series(&metrics, r#"whitemagic_plan_requests_total{plan="free",outcome="limited"}"#) >= 1.0, "{metrics}");
    app.core.flush().await;
    let metrics = app.send(Method::GET, "/metrics", None, None).await.text;
    assert!(metrics.contains("whitemagic_active_users"), "{metrics}");
    assert!(metrics.contains("whitemagic_memories_total"), "{metrics}");

    let doc = app.send(Method::GET, "/openapi.json", None, None).await.body;
    let me = &doc["paths"]["/api/v1/user/me"]["get"]["responses"];
    assert!(me["429"]["headers"]["Retry-After"].is_object(), "{}", me["429"]);
    assert!(me["200"]["headers"]["X-RateLimit-Remaining"].is_object(), "{}", me["200"]);
    for path in
        ["/api/v1/admin/plans", "/api/v1/admin/plans/{name}", "/api/v1/user/usage", "/api/v1/admin/users/{id}/usage"]
    {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["paths"]["/health"]["get"]["responses"].get("429").is_none(), "health is not metered");
    app.stop().await;
}

/// The value of one series in a Prometheus text rendering (0 when absent).
fn series(metrics: &str, name: &str) -> f64 {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()).unwrap_or(0.0)
}
