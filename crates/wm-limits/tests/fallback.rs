//! `FallbackLimiter` against a private Redis that the tests kill, pause and restart, and how a
//! new Redis server process is caught up with every account's recorded usage.

mod common;

use std::time::{Duration, Instant};

use chrono::Datelike;
use common::{account, counters, limits, raw_connection};
use redis::AsyncCommands;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use wm_limits::{
    CATCHING_UP_KEY, FallbackLimiter, FallbackOptions, InProcess, LimitError, LimitKind, Limiter, LocalLimiter,
    ManualClock, RedisKeys, RedisLimiter, RedisStatus, Seed, UsageSource,
};
use wm_testkit::RedisServer;

/// Longest a check may take while Redis is down or hung.
const MAX_CHECK: Duration = Duration::from_secs(1);

async fn minute_key_exists(url: &str, account: uuid::Uuid) -> bool {
    let mut conn = raw_connection(url).await;
    let key = RedisKeys::new(account, 0).minute;
    conn.exists(&key).await.unwrap()
}

/// Checks (each must answer Ok, within `MAX_CHECK`) until the limiter reports
/// `Connected` again; panics after `deadline`.
async fn wait_until_connected(limiter: &FallbackLimiter, deadline: Duration) {
    let started = Instant::now();
    while limiter.status() != RedisStatus::Connected {
        assert!(started.elapsed() < deadline, "still {:?}", limiter.status());
        let t = Instant::now();
        limiter.check(account(), &limits(10, 10, 10)).await.unwrap();
        assert!(t.elapsed() < MAX_CHECK);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_when_redis_dies_and_returns_when_it_is_back() {
    let mut server = RedisServer::start().await;
    let url = server.url();
    let limiter = FallbackLimiter::connect(&url, LocalLimiter::new()).await.unwrap();
    let lim = limits(100, 1000, 1000);
    assert_eq!(limiter.status(), RedisStatus::Connected);

    let a = account();
    assert!(limiter.check(a, &lim).await.unwrap().is_allowed());
    assert!(minute_key_exists(&url, a).await, "the check went to Redis");
    assert!(limiter.local().is_empty());

    server.kill().await;
    for i in 0..20 {
        let t = Instant::now();
        let d = limiter.check(a, &lim).await.expect("never fails for a Redis outage");
        assert!(d.is_allowed());
        assert!(t.elapsed() < MAX_CHECK, "check {i} took {:?}", t.elapsed());
        assert_eq!(limiter.status(), RedisStatus::Disconnected);
    }
    assert_eq!(limiter.local().len(), 1, "answered from the local limiter");

    server.restart().await;
    wait_until_connected(&limiter, Duration::from_secs(10)).await;

    let b = account();
    assert!(limiter.check(b, &lim).await.unwrap().is_allowed());
    assert!(minute_key_exists(&url, b).await, "Redis is used again");
    assert_eq!(limiter.status(), RedisStatus::Connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_loss_of_redis_asks_for_fresh_seeds() {
    let mut server = RedisServer::start().await;
    // 2026-11-23T12:00:00Z for the local limiter (Redis keeps its own clock).
    let local = LocalLimiter::with_clock(Arc::new(ManualClock::new(1_795_435_200_000_000)));
    let limiter = FallbackLimiter::connect(&server.url(), local).await.unwrap();
    let lim = limits(100, 1000, 1000);
    let a = account();

    server.kill().await;
    assert!(limiter.check(a, &lim).await.unwrap().is_allowed(), "answered in process");
    assert_eq!(limiter.decide_in_process(a, &lim), InProcess::NeedsSeed);
    // What a caller does then: read the account's recorded usage, seed, decide.
    limiter.local().seed(a, Seed { date: (2026, 11, 23), day_count: 7, month_count: 7 });
    let InProcess::Decided(d) = limiter.decide_in_process(a, &lim) else { panic!("seeded") };
    assert_eq!(d.status(LimitKind::Daily).remaining, 1000 - 8);

    // Redis counts while it is back, so what the local limiter holds goes stale.
    server.restart().await;
    wait_until_connected(&limiter, Duration::from_secs(10)).await;
    assert_eq!(limiter.decide_in_process(a, &lim), InProcess::Shared);
    server.kill().await;
    assert!(limiter.check(a, &lim).await.unwrap().is_allowed(), "the check that finds Redis gone");
    assert_eq!(limiter.status(), RedisStatus::Disconnected);
    assert_eq!(limiter.decide_in_process(a, &lim), InProcess::NeedsSeed, "seeded afresh after each loss");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_times_out_into_the_local_limiter() {
    let server = RedisServer::start().await;
    let url = server.url();
    let limiter = FallbackLimiter::connect(&url, LocalLimiter::new()).await.unwrap();
    let lim = limits(100, 1000, 1000);
    assert!(limiter.check(account(), &lim).await.unwrap().is_allowed());

    // Every client (including ours) gets no answer for 3 s.
    let mut admin = raw_connection(&url).await;
    let _: () = redis::cmd("CLIENT").arg(&["PAUSE", "3000", "ALL"]).query_async(&mut admin).await.unwrap();
    let t = Instant::now();
    assert!(limiter.check(account(), &lim).await.unwrap().is_allowed());
    let first = t.elapsed();
    assert!(first < MAX_CHECK, "{first:?}");
    assert_eq!(limiter.status(), RedisStatus::Disconnected);

    wait_until_connected(&limiter, Duration::from_secs(15)).await;
    let a = account();
    assert!(limiter.check(a, &lim).await.unwrap().is_allowed());
    assert!(minute_key_exists(&url, a).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_degraded_when_redis_is_down_and_connects_later() {
    let mut server = RedisServer::start().await;
    server.kill().await;
    let options = FallbackOptions { probe_interval: Duration::from_millis(300), ..FallbackOptions::default() };
    let limiter = FallbackLimiter::connect_with(&server.url(), LocalLimiter::new(), options)
        .await
        .expect("an unreachable Redis is not a startup error");
    assert_eq!(limiter.status(), RedisStatus::Disconnected);
    assert!(limiter.check(account(), &limits(5, 5, 5)).await.unwrap().is_allowed());
    assert!(limiter.reset(account()).await.is_err(), "a reset that missed Redis says so");

    server.restart().await;
    wait_until_connected(&limiter, Duration::from_secs(5)).await;
    let a = account();
    assert!(limiter.check(a, &limits(5, 5, 5)).await.unwrap().is_allowed());
    assert!(minute_key_exists(&server.url(), a).await);
    limiter.reset(a).await.unwrap();
    assert!(!minute_key_exists(&server.url(), a).await);
}

#[tokio::test]
async fn without_redis_it_is_local_and_says_so() {
    let limiter = FallbackLimiter::local_only(LocalLimiter::new());
    assert_eq!(limiter.status(), RedisStatus::NotConfigured);
    assert_eq!(limiter.status().as_str(), "not_configured");
    assert!(limiter.check(account(), &limits(1, 1, 1)).await.unwrap().is_allowed());
}

#[tokio::test]
async fn an_invalid_url_is_an_error_that_does_not_echo_it() {
    let err = FallbackLimiter::connect("nonsense://:hunter2@host", LocalLimiter::new()).await.unwrap_err();
    assert!(!err.to_string().contains("hunter2"));
    let limiter = FallbackLimiter::connect("redis://:hunter2@127.0.0.1:1/", LocalLimiter::new()).await.unwrap();
    assert!(!format!("{limiter:?}").contains("hunter2"));
}

/// Collects formatted log lines.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Single-threaded runtime: the log subscriber is thread-local, and the probe task
/// runs on the same thread.
#[tokio::test]
async fn transitions_are_logged_once_without_the_password() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut server = RedisServer::start().await;
    let set_password = |url: String| async move {
        let mut admin = raw_connection(&url).await;
        let _: () =
            redis::cmd("CONFIG").arg(&["SET", "requirepass", "s3cr3t-pw"]).query_async(&mut admin).await.unwrap();
    };
    set_password(server.url()).await;
    let url = server.url().replace("redis://", "redis://:s3cr3t-pw@");
    let options = FallbackOptions { probe_interval: Duration::from_millis(300), ..FallbackOptions::default() };
    let limiter = FallbackLimiter::connect_with(&url, LocalLimiter::new(), options).await.unwrap();
    let lim = limits(100, 100, 100);
    assert!(limiter.check(account(), &lim).await.unwrap().is_allowed());
    assert_eq!(limiter.status(), RedisStatus::Connected);

    server.kill().await;
    for _ in 0..10 {
        limiter.check(account(), &lim).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    for _ in 0..10 {
        limiter.check(account(), &lim).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.restart().await;
    set_password(server.url()).await;
    wait_until_connected(&limiter, Duration::from_secs(5)).await;

    let text = logs.text();
    assert_eq!(text.matches(" WARN ").count(), 1, "{text}");
    assert_eq!(text.matches("Redis is back").count(), 1, "{text}");
    assert!(text.contains(server.url()["redis://".len()..].trim_end_matches('/')), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
}

/// Recorded usage with seeds of today (UTC) that a test sets, and can make unreadable.
#[derive(Default)]
struct Recorded {
    seeds: Mutex<Vec<(uuid::Uuid, Seed)>>,
    unreadable: AtomicBool,
    reads: AtomicUsize,
    /// While reading: the catch-up lock expires and another instance takes it (this Redis URL).
    taken_over_on: Mutex<Option<String>>,
}

impl Recorded {
    fn with(accounts: &[(uuid::Uuid, u64, u64)]) -> Self {
        let recorded = Recorded::default();
        for &(account, day, month) in accounts {
            recorded.set(account, day, month);
        }
        recorded
    }

    fn set(&self, account: uuid::Uuid, day_count: u64, month_count: u64) {
        let today = chrono::Utc::now().date_naive();
        let seed = Seed { date: (i64::from(today.year()), today.month(), today.day()), day_count, month_count };
        let mut seeds = self.seeds.lock().unwrap();
        seeds.retain(|(a, _)| *a != account);
        seeds.push((account, seed));
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl UsageSource for Recorded {
    async fn all_seeds(&self) -> Option<Vec<(uuid::Uuid, Seed)>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let taken_over_on = self.taken_over_on.lock().unwrap().clone();
        if let Some(url) = taken_over_on {
            let mut other = raw_connection(&url).await;
            let () = other.del(CATCHING_UP_KEY).await.unwrap();
            let () = other.set(CATCHING_UP_KEY, "successor").await.unwrap();
        }
        (!self.unreadable.load(Ordering::SeqCst)).then(|| self.seeds.lock().unwrap().clone())
    }
}

/// A Redis process that has not had every account's recorded usage (a new server, a restarted
/// one, one restored from an older snapshot) is given it once; counts are raised, never lowered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_redis_process_is_caught_up_with_the_recorded_usage_once() {
    let mut server = RedisServer::start().await;
    let url = server.url();
    let lim = limits(100, 100, 100);
    let (behind, absent, ahead) = (account(), account(), account());
    let redis = RedisLimiter::connect(&url).await.unwrap();
    for _ in 0..2 {
        redis.check(behind, &lim).await.unwrap();
    }
    for _ in 0..9 {
        redis.check(ahead, &lim).await.unwrap();
    }
    let recorded = Recorded::with(&[(behind, 5, 7), (absent, 3, 3), (ahead, 4, 4)]);
    assert_eq!(redis.catch_up(&recorded).await.unwrap(), Some(3));
    assert_eq!(counters(&url, behind).await, (5, 7));
    assert_eq!(counters(&url, absent).await, (3, 3));
    assert_eq!(counters(&url, ahead).await, (9, 9), "Redis counted requests the records lack");
    assert_eq!(redis.catch_up(&recorded).await.unwrap(), None, "once per server process");
    assert_eq!(recorded.reads(), 1);

    // A snapshot (as RDB persistence takes every few minutes), three more requests, then a
    // crash: the server comes back with the snapshot's counts, lower than the records.
    let mut admin = raw_connection(&url).await;
    let () = redis::cmd("SAVE").query_async(&mut admin).await.unwrap();
    for _ in 0..3 {
        redis.check(absent, &lim).await.unwrap();
    }
    recorded.set(absent, 6, 6);
    server.restart().await;
    let redis = RedisLimiter::connect(&url).await.unwrap();
    assert_eq!(counters(&url, absent).await, (3, 3), "the snapshot's counts");
    assert_eq!(redis.catch_up(&recorded).await.unwrap(), Some(3));
    assert_eq!(counters(&url, absent).await, (6, 6));
    assert_eq!(recorded.reads(), 2);
}

/// While one instance catches a server up, the others do not read the usage too: they wait
/// for the mark (deciding in process meanwhile).
#[tokio::test]
async fn one_instance_at_a_time_catches_a_server_up() {
    let server = RedisServer::start().await;
    let url = server.url();
    let a = account();
    let recorded = Recorded::with(&[(a, 2, 2)]);
    let redis = RedisLimiter::connect(&url).await.unwrap();
    let mut other = raw_connection(&url).await;
    let () = other.set(CATCHING_UP_KEY, "another instance").await.unwrap();
    assert!(matches!(redis.catch_up(&recorded).await, Err(LimitError::CatchingUp)));
    assert_eq!((recorded.reads(), counters(&url, a).await), (0, (0, 0)));

    let () = other.del(CATCHING_UP_KEY).await.unwrap();
    assert_eq!(redis.catch_up(&recorded).await.unwrap(), Some(1));
    assert_eq!(counters(&url, a).await, (2, 2));
    let held: bool = other.exists(CATCHING_UP_KEY).await.unwrap();
    assert!(!held, "released once done");
}

/// A catch-up that outlived its lock (another instance took it after the expiry) leaves that
/// instance's lock alone.
#[tokio::test]
async fn a_late_catch_up_does_not_release_a_successors_lock() {
    let mut server = RedisServer::start().await;
    let url = server.url();
    let a = account();
    let recorded = Recorded::with(&[(a, 2, 2)]);
    *recorded.taken_over_on.lock().unwrap() = Some(url.clone());
    let redis = RedisLimiter::connect(&url).await.unwrap();
    assert_eq!(redis.catch_up(&recorded).await.unwrap(), Some(1));
    let mut conn = raw_connection(&url).await;
    let held: Option<String> = conn.get(CATCHING_UP_KEY).await.unwrap();
    assert_eq!(held.as_deref(), Some("successor"));

    // Its own lock it does release.
    *recorded.taken_over_on.lock().unwrap() = None;
    let () = conn.del(CATCHING_UP_KEY).await.unwrap();
    server.restart().await;
    let redis = RedisLimiter::connect(&url).await.unwrap();
    assert_eq!(redis.catch_up(&recorded).await.unwrap(), Some(1));
    let mut conn = raw_connection(&url).await;
    let held: bool = conn.exists(CATCHING_UP_KEY).await.unwrap();
    assert!(!held);
}

/// Until a new Redis process has been caught up, the local limiter decides; when the usage
/// cannot be read, the fallback keeps trying on each probe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_uses_a_new_redis_process_once_it_is_caught_up() {
    let mut server = RedisServer::start().await;
    let url = server.url();
    let options = FallbackOptions { probe_interval: Duration::from_millis(50), ..FallbackOptions::default() };
    let limiter = FallbackLimiter::connect_with(&url, LocalLimiter::new(), options).await.unwrap();
    let a = account();
    let recorded = Arc::new(Recorded::with(&[(a, 4, 4)]));
    let source: std::sync::Weak<Recorded> = Arc::downgrade(&recorded);
    limiter.set_usage_source(source);
    limiter.catch_up().await;
    assert_eq!(counters(&url, a).await, (4, 4), "the server in use is caught up at once");
    assert_eq!(limiter.status(), RedisStatus::Connected);

    recorded.unreadable.store(true, Ordering::SeqCst);
    server.restart().await;
    let lim = limits(100, 100, 100);
    let started = Instant::now();
    while recorded.reads() < 4 {
        assert!(started.elapsed() < Duration::from_secs(10), "no attempt to catch up: {} reads", recorded.reads());
        assert!(limiter.check(account(), &lim).await.unwrap().is_allowed());
        assert_eq!(limiter.status(), RedisStatus::Disconnected, "not used before it is caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(counters(&url, a).await, (0, 0));

    recorded.unreadable.store(false, Ordering::SeqCst);
    wait_until_connected(&limiter, Duration::from_secs(5)).await;
    assert_eq!(counters(&url, a).await, (4, 4));
}

/// A server that refuses `INFO` (an ACL) has no run_id to go by: it is used as before, without
/// catching up.
#[tokio::test]
async fn a_redis_that_refuses_info_is_used_without_catching_up() {
    let server = RedisServer::start().await;
    let mut admin = raw_connection(&server.url()).await;
    let acl = ["SETUSER", "limiter", "on", ">limiter-pw", "~*", "&*", "+@all", "-info"];
    let () = redis::cmd("ACL").arg(&acl).query_async(&mut admin).await.unwrap();
    let url = server.url().replace("redis://", "redis://limiter:limiter-pw@");
    let redis = RedisLimiter::connect(&url).await.unwrap();
    let recorded = Recorded::with(&[(account(), 1, 1)]);
    assert_eq!(redis.run_id().await.unwrap(), None);
    assert_eq!(redis.catch_up(&recorded).await.unwrap(), None);
    assert_eq!(recorded.reads(), 0);
    assert!(redis.check(account(), &limits(1, 1, 1)).await.unwrap().is_allowed());
}
