//! Helpers shared by the integration tests.
#![allow(dead_code)]

use wm_limits::{Decision, LimitKind, Limits, RedisLimiter};

/// A fresh account id, so tests can share one Redis and run in parallel.
pub fn account() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn limits(per_minute: u64, daily: u64, monthly: u64) -> Limits {
    Limits { per_minute, daily, monthly }
}

/// A limiter on the shared test Redis (`WM_TEST_REDIS_URL`).
pub async fn redis_limiter() -> RedisLimiter {
    RedisLimiter::connect(&wm_testkit::redis_url()).await.expect("connect to the test Redis")
}

/// A plain connection to `url`, to look at the keys directly.
pub async fn raw_connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url).expect("valid URL").get_multiplexed_async_connection().await.expect("connect to Redis")
}

/// Asserts a denial by `kind`, with the invariants every denial has.
pub fn assert_denied(decision: &Decision, kind: LimitKind) {
    let denial = decision.denial.unwrap_or_else(|| panic!("expected a denial by {kind}, got {decision:?}"));
    assert_eq!(denial.limit, kind, "{decision:?}");
    assert!(denial.retry_after >= 1, "{decision:?}");
    assert_eq!(decision.status(kind).remaining, 0, "{decision:?}");
    assert_eq!(decision.tightest().kind, kind);
}

/// `(per_minute, daily, monthly)` remaining.
pub fn remaining(decision: &Decision) -> (u64, u64, u64) {
    (
        decision.status(LimitKind::PerMinute).remaining,
        decision.status(LimitKind::Daily).remaining,
        decision.status(LimitKind::Monthly).remaining,
    )
}
