//! ResilientClient / WhopApi against a local axum server that fails on purpose.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use wm_billing::{BreakerState, ClientConfig, ClientError, ResilientClient, WhopApi};

const KEY: &str = "whop_test_key_123";

#[derive(Clone, Default)]
struct Ctx {
    hits: Arc<AtomicUsize>,
    healthy: Arc<AtomicBool>,
}

/// Per-id behaviour: `flaky` 500 twice then 200; `throttled` 429 (Retry-After: 1) then 200;
/// `throttled-long` 429 with Retry-After: 3600 then 200; `down` 500 until `healthy` is set;
/// `slow` sleeps past the client timeout; anything else 200. Wrong bearer → 401.
async fn membership(State(ctx): State<Ctx>, Path(id): Path<String>, h: HeaderMap) -> Response {
    let n = ctx.hits.fetch_add(1, Ordering::SeqCst);
    let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {KEY}")) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let fail = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    match id.as_str() {
        "mem_flaky" if n < 2 => return fail,
        "mem_down" if !ctx.healthy.load(Ordering::SeqCst) => return fail,
        "mem_throttled" if n == 0 => {
            return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response();
        }
        "mem_throttled-long" if n == 0 => {
            return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "3600")]).into_response();
        }
        "mem_slow" => tokio::time::sleep(Duration::from_secs(5)).await,
        _ => {}
    }
    axum::Json(json!({
        "id": id, "status": "active", "cancel_at_period_end": false,
        "renewal_period_end": "2025-02-01T00:00:00.000Z",
        "plan": {"id": "plan_abc"}, "product": {"id": "prod_xyz", "title": "Pro"},
        "user": {"id": "user_1", "username": "ada", "email": "ada@example.com"}
    }))
    .into_response()
}

async fn start() -> (String, Ctx) {
    let ctx = Ctx::default();
    let app = Router::new().route("/api/v1/memberships/{id}", get(membership)).with_state(ctx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, ctx)
}

/// Fast test settings: tiny backoff, short cool-down. No sleeps in the client path.
fn config(base: &str) -> ClientConfig {
    let mut c = ClientConfig::new(base);
    c.timeout = Duration::from_secs(2);
    c.max_retries = 3;
    c.backoff_base = Duration::from_millis(1);
    c.backoff_max = Duration::from_millis(5);
    c.failure_threshold = 3;
    c.cooldown = Duration::from_millis(200);
    c
}

fn api(cfg: ClientConfig, key: &str) -> WhopApi {
    WhopApi::new(ResilientClient::new("whop", cfg).unwrap(), key)
}

#[tokio::test]
async fn retries_5xx_then_succeeds() {
    let (base, ctx) = start().await;
    let whop = api(config(&base), KEY);
    let m = whop.membership("mem_flaky").await.unwrap();
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 3);
    assert_eq!(m.id, "mem_flaky");
    assert_eq!(m.status.as_deref(), Some("active"));
    assert_eq!(m.plan_id.as_deref(), Some("plan_abc"));
    assert_eq!(m.product_id.as_deref(), Some("prod_xyz"));
    assert_eq!(m.user_id.as_deref(), Some("user_1"));
    assert_eq!(m.email.as_deref(), Some("ada@example.com"));
    assert_eq!(m.cancel_at_period_end, Some(false));
    assert!(m.renewal_period_end.is_some());
    assert_eq!(whop.breaker_state(), BreakerState::Closed);
    assert_eq!(whop.client().breaker().consecutive_failures(), 0);
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let (base, ctx) = start().await;
    let mut cfg = config(&base);
    cfg.retry_after_max = Duration::from_secs(2);
    let started = Instant::now();
    api(cfg, KEY).membership("mem_throttled").await.unwrap();
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 2);
    // Lower bound only: the client waited for the server's Retry-After (1 s).
    assert!(started.elapsed() >= Duration::from_millis(950));
}

#[tokio::test]
async fn retry_after_is_capped() {
    let (base, ctx) = start().await;
    let mut cfg = config(&base);
    cfg.retry_after_max = Duration::from_millis(10);
    let started = Instant::now();
    api(cfg, KEY).membership("mem_throttled-long").await.unwrap();
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 2);
    // Generous bound: an uncapped Retry-After would wait an hour.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
async fn other_4xx_is_not_retried_and_keeps_breaker_closed() {
    let (base, ctx) = start().await;
    let whop = api(config(&base), "wrong_key");
    assert_eq!(whop.membership("mem_ok").await, Err(ClientError::Status(401)));
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 1);
    assert_eq!(whop.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn breaker_opens_fails_fast_and_recovers() {
    let (base, ctx) = start().await;
    let mut cfg = config(&base);
    cfg.max_retries = 5;
    let whop = api(cfg, KEY);

    // Three failed attempts open the breaker; the fourth attempt is refused locally.
    assert_eq!(whop.membership("mem_down").await, Err(ClientError::BreakerOpen));
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 3);
    assert_eq!(whop.breaker_state(), BreakerState::Open);
    assert_eq!(whop.breaker_state().as_metric_value(), 1);

    // Further calls fail fast without reaching the server.
    for _ in 0..5 {
        assert_eq!(whop.membership("mem_down").await, Err(ClientError::BreakerOpen));
    }
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 3);

    // After the cool-down a half-open probe goes through and closes the breaker.
    ctx.healthy.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(whop.breaker_state(), BreakerState::HalfOpen);
    assert_eq!(whop.breaker_state().as_metric_value(), 2);
    whop.membership("mem_down").await.unwrap();
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 4);
    assert_eq!(whop.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn failed_probe_reopens() {
    let (base, ctx) = start().await;
    let mut cfg = config(&base);
    cfg.max_retries = 0;
    cfg.failure_threshold = 1;
    let whop = api(cfg, KEY);
    assert_eq!(whop.membership("mem_down").await, Err(ClientError::Status(500)));
    assert_eq!(whop.breaker_state(), BreakerState::Open);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(whop.membership("mem_down").await, Err(ClientError::Status(500)));
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 2);
    assert_eq!(whop.breaker_state(), BreakerState::Open);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let (base, ctx) = start().await;
    let mut cfg = config(&base);
    cfg.timeout = Duration::from_millis(100);
    cfg.max_retries = 1;
    let whop = api(cfg, KEY);
    assert_eq!(whop.membership("mem_slow").await, Err(ClientError::Timeout));
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 2);
    assert_eq!(whop.client().breaker().consecutive_failures(), 2);
}

#[tokio::test]
async fn network_errors_are_retried_then_reported() {
    // A port that was just free: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut cfg = config(&base);
    cfg.max_retries = 1;
    let whop = api(cfg, KEY);
    let err = whop.membership("mem_x").await.unwrap_err();
    assert!(matches!(err, ClientError::Network(_)), "{err:?}");
    assert_eq!(whop.client().breaker().consecutive_failures(), 2);
}

#[tokio::test]
async fn rejects_path_injection_and_hides_key() {
    let (base, ctx) = start().await;
    let whop = api(config(&base), KEY);
    let err = whop.membership("../admin").await.unwrap_err();
    assert!(matches!(err, ClientError::InvalidRequest(_)));
    assert_eq!(ctx.hits.load(Ordering::SeqCst), 0);
    let debug = format!("{whop:?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(debug.contains("[redacted]"));
}
