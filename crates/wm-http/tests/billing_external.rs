//! The outbound provider client in `/health/external` terms, against a local HTTP server that
//! fails on purpose (retries, `Retry-After`, the circuit breaker opening and recovering), and the
//! inbox figures of `/health/webhooks`. Both backends.

mod billing_kit;
mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode as AxStatus};
use axum::response::{IntoResponse, Response};
use billing_kit::{Billing, start, user_by_email};
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wm_billing::{ClientConfig, ResilientClient, WhopApi};
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    failing_provider_api_opens_the_breaker_and_recovers,
    retry_after_is_honoured_then_the_sync_applies,
    webhooks_health_shows_counts_and_the_oldest_pending_event,
);

/// How the fake Whop API answers: the first `failures` requests get `fail_status` (with
/// `Retry-After: 1` on 429), the rest a membership.
struct Fake {
    hits: AtomicUsize,
    failures: AtomicUsize,
    fail_status: u16,
}

async fn membership(State(f): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    let n = f.hits.fetch_add(1, Ordering::SeqCst);
    assert_eq!(headers["authorization"], "Bearer whop_test_api_key", "the API key is sent as a bearer token");
    if n < f.failures.load(Ordering::SeqCst) {
        let mut res = AxStatus::from_u16(f.fail_status).unwrap().into_response();
        if f.fail_status == 429 {
            res.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
        }
        return res;
    }
    axum::Json(json!({
        "id": "mem_sync1", "status": "active", "plan": { "id": "plan_pro" }, "product": { "id": "prod_wm" },
        "user": { "id": "user_sync1", "email": "sync@example.com" },
        "renewal_period_end": "2026-12-23T12:00:00Z", "cancel_at_period_end": false
    }))
    .into_response()
}

async fn fake_whop(failures: usize, fail_status: u16) -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake { hits: AtomicUsize::new(0), failures: AtomicUsize::new(failures), fail_status });
    let app = Router::new().route("/api/v1/memberships/{id}", axum::routing::get(membership)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, fake)
}

async fn app_with_whop(b: Backend, base: &str, cooldown: Duration) -> TestApp {
    let mut config = ClientConfig::new(base);
    config.max_retries = 2;
    config.backoff_base = Duration::from_millis(2);
    config.backoff_max = Duration::from_millis(10);
    config.failure_threshold = 3;
    config.cooldown = cooldown;
    config.timeout = Duration::from_secs(5);
    let whop = WhopApi::new(ResilientClient::new("whop", config).unwrap(), "whop_test_api_key");
    start(b, move |c| c.whop = Some(whop)).await
}

async fn external(app: &TestApp) -> Value {
    let r = app.send(Method::GET, "/health/external", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["cache-control"], "no-store");
    r.body
}

async fn sync(app: &TestApp) -> common::Reply {
    app.post("/api/v1/admin/billing/whop/memberships/mem_sync1/sync", &app.admin_key, json!({})).await
}

async fn failing_provider_api_opens_the_breaker_and_recovers(b: Backend) {
    let (base, fake) = fake_whop(usize::MAX, 503).await;
    let app = app_with_whop(b, &base, Duration::from_secs(1)).await;
    let h = external(&app).await;
    assert_eq!(
        h,
        json!({ "status": "ok", "services": [{ "name": "whop", "state": "closed", "consecutive_failures": 0 }] })
    );

    let r = sync(&app).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("upstream_failed")),
        "{}",
        r.text
    );
    assert_eq!(fake.hits.load(Ordering::SeqCst), 3, "one attempt and two retries");
    let h = external(&app).await;
    assert_eq!((h["status"].as_str(), h["services"][0]["state"].as_str()), (Some("degraded"), Some("open")), "{h}");
    assert_eq!(h["services"][0]["consecutive_failures"], 3);
    assert_eq!(app.metric("whitemagic_circuit_breaker_state", &[("service", "whop")]).await, 1.0);

    let r = sync(&app).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("circuit_open")));
    assert_eq!(fake.hits.load(Ordering::SeqCst), 3, "an open breaker fails fast");

    // The provider recovers; after the cool-down one probe goes through and closes the breaker.
    fake.failures.store(0, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(external(&app).await["services"][0]["state"], "half_open");
    let r = sync(&app).await;
    assert_eq!((r.status, r.body["outcome"].as_str()), (StatusCode::OK, Some("processed")), "{}", r.text);
    let h = external(&app).await;
    assert_eq!((h["status"].as_str(), h["services"][0]["state"].as_str()), (Some("ok"), Some("closed")));
    assert_eq!(user_by_email(&app, "sync@example.com").await.unwrap()["plan"], "pro");
    app.stop().await;
}

async fn retry_after_is_honoured_then_the_sync_applies(b: Backend) {
    let (base, fake) = fake_whop(1, 429).await;
    let app = app_with_whop(b, &base, Duration::from_secs(30)).await;
    let started = Instant::now();
    let r = sync(&app).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(started.elapsed() >= Duration::from_secs(1), "waited the Retry-After second");
    assert_eq!(fake.hits.load(Ordering::SeqCst), 2);
    assert_eq!(r.body["outcome"], "processed");
    assert_eq!(external(&app).await["services"][0]["state"], "closed", "429 does not count against the breaker");
    let user = user_by_email(&app, "sync@example.com").await.unwrap();
    assert_eq!(user["plan"], "pro");
    let events = app.inbox("provider=whop").await;
    assert_eq!(events[0]["event_type"], "membership.sync");

    // Without an API key there is nothing to call.
    let plain = start(b, |_| {}).await;
    let r = sync(&plain).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(external(&plain).await, json!({ "status": "ok", "services": [] }));
    plain.stop().await;
    app.stop().await;
}

async fn webhooks_health_shows_counts_and_the_oldest_pending_event(b: Backend) {
    let app = start(b, |_| {}).await;
    let empty = app.send(Method::GET, "/health/webhooks", None, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["status"], "ok");
    assert_eq!(empty.body["counts"], json!({ "failed": 0, "ignored": 0, "processed": 0, "received": 0 }));
    assert!(empty.body["oldest_pending_at"].is_null() && empty.body["last_processed_at"].is_null());

    let t = app.now_secs();
    let r = app
        .stripe(&billing_kit::payloads::checkout(
            "evt_h1",
            t,
            "cus_h",
            "health@example.com",
            "sub_h",
            Some("price_pro"),
        ))
        .await;
    assert_eq!(r.body["status"], "processed");
    // An event stuck in `received` (e.g. an instance died mid-processing) shows as pending.
    use wm_domain::Clock;
    let stuck = wm_store::NewInboxEvent {
        id: uuid::Uuid::now_v7(),
        provider: "stripe".into(),
        event_id: "evt_stuck".into(),
        event_type: "invoice.paid".into(),
        occurred_at: app.clock.now(),
        received_at: app.clock.now(),
        payload: "{}".into(),
        normalized: "{}".into(),
    };
    app.core.store.record_billing_event(&stuck).await.unwrap();
    app.advance(600);
    let h = app.send(Method::GET, "/health/webhooks", None, None).await;
    assert_eq!(h.body["counts"]["processed"], 1, "{}", h.text);
    assert_eq!(h.body["counts"]["received"], 1);
    assert_eq!(h.body["oldest_pending_age_seconds"], 600);
    assert_eq!(h.body["status"], "degraded", "an event waiting 10 minutes");
    assert!(h.body["last_processed_at"].is_string());
    assert_eq!(h.headers["cache-control"], "no-store");
    app.stop().await;
}
