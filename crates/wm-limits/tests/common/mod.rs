//! Helpers shared by the integration tests.
#![allow(dead_code)]

use uuid::Uuid;
use wm_limits::{Decision, LimitKind, Limits, RedisLimiter};

/// A fresh account id, so tests can share one Redis and run in parallel.
pub fn account() -> Uuid {
    Uuid::new_v4()
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

/// Polls all `futures` from one task until every one is done (so they are all
/// started in the same poll pass: the first leads a script call, the rest queue).
pub async fn join_all<T>(futures: Vec<std::pin::Pin<Box<dyn Future<Output = T> + Send + '_>>>) -> Vec<T> {
    let mut slots: Vec<_> = futures.into_iter().map(|f| (f, None)).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, out) in &mut slots {
            if out.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *out = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    slots.into_iter().map(|(_, out)| out.expect("finished")).collect()
}

/// The instant (Unix µs) a decision was made at: the daily status resets at the
/// next UTC midnight, exactly `reset_after` later.
pub fn decided_at(decision: &Decision) -> u64 {
    const DAY_US: u64 = 86_400_000_000;
    let reset = u64::try_from(decision.status(LimitKind::Daily).reset_after.as_micros()).unwrap();
    let wall =
        u64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros()).unwrap();
    // The midnight following the decision: the one after now, or the one before it
    // when the test ran across midnight.
    let next_midnight = (wall / DAY_US + 1) * DAY_US;
    [next_midnight, next_midnight - DAY_US]
        .into_iter()
        .map(|midnight| midnight - reset)
        .find(|at| at.abs_diff(wall) < 60_000_000)
        .unwrap_or_else(|| panic!("cannot place {decision:?} in time"))
}

/// `calls` of one command in `INFO commandstats` (0 when never called).
pub async fn command_calls(url: &str, command: &str) -> u64 {
    let mut conn = raw_connection(url).await;
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(&mut conn).await.unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

/// Sums the daily and monthly counters of `account` in Redis (over all keys, in
/// case a test straddles midnight), asserting each expires with its period.
pub async fn counters(url: &str, account: Uuid) -> (u64, u64) {
    use redis::AsyncCommands as _;
    let mut conn = raw_connection(url).await;
    let mut totals = [0u64; 2];
    for (total, pattern) in
        totals.iter_mut().zip([format!("wm:rl:{{{account}}}:d:*"), format!("wm:rl:{{{account}}}:mo:*")])
    {
        let keys: Vec<String> = conn.keys(&pattern).await.unwrap();
        for key in keys {
            let count: u64 = conn.get(&key).await.unwrap();
            let ttl: i64 = conn.ttl(&key).await.unwrap();
            assert!(ttl > 0, "{key} expires with its period");
            *total += count;
        }
    }
    (totals[0], totals[1])
}
