//! Two `RedisLimiter`s (two connection managers, as two instances would have)
//! hammering one account: the script is atomic, so the limit is exact.

mod common;

use std::sync::Arc;

use common::{account, limits, raw_connection, redis_limiter};
use redis::AsyncCommands;
use wm_limits::{Limiter, RedisLimiter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_admit_exactly_per_minute() {
    let instances: [Arc<RedisLimiter>; 2] = [Arc::new(redis_limiter().await), Arc::new(redis_limiter().await)];
    let a = account();
    let lim = limits(50, 10_000, 100_000);

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let limiter = Arc::clone(&instances[i % 2]);
        tasks.spawn(async move { limiter.check(a, &lim).await.expect("Redis answers") });
    }
    let mut admitted = 0u64;
    while let Some(decision) = tasks.join_next().await {
        admitted += u64::from(decision.expect("task completes").is_allowed());
    }
    assert_eq!(admitted, 50);

    // The daily and monthly counters count exactly the admitted requests (summed
    // over keys, in case the test straddles midnight).
    let mut conn = raw_connection(&wm_testkit::redis_url()).await;
    for pattern in [format!("wm:rl:{{{a}}}:d:*"), format!("wm:rl:{{{a}}}:mo:*")] {
        let keys: Vec<String> = conn.keys(&pattern).await.unwrap();
        assert!(!keys.is_empty(), "{pattern}");
        let mut total = 0u64;
        for key in keys {
            let count: u64 = conn.get(&key).await.unwrap();
            let ttl: i64 = conn.ttl(&key).await.unwrap();
            assert!(ttl > 0, "{key} expires with its period");
            total += count;
        }
        assert_eq!(total, admitted, "{pattern}");
    }
}
