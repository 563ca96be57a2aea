//! Rate limits shared through Redis: two instances over one database and one Redis admit at
//! most one allowance in total; losing Redis degrades to per-instance limits without errors,
//! and the Redis limiter is used again once it is back; neither losing Redis's data, nor
//! getting back older data, nor counting in process meanwhile hands out a new allowance. Both
//! storage backends.

mod common;
mod limits_support;

use common::{TestApp, TestOptions};
use limits_support::{another_key, set_plan, unix_now, user_on_plan};
use redis::AsyncCommands;
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use wm_limits::RedisKeys;
use wm_testkit::{Backend, RedisServer, backend_tests};

backend_tests!(
    two_instances_share_one_allowance,
    redis_outage_degrades_then_recovers,
    losing_redis_data_hands_out_no_new_allowance,
    a_redis_restored_from_an_older_snapshot_hands_out_no_new_allowance,
    instances_apart_count_each_others_written_requests,
    requests_counted_during_an_outage_count_in_redis_after_it
);

async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap()
}

async fn with_redis(b: Backend, redis_url: &str, database_url: Option<String>) -> TestApp {
    with_redis_options(b, redis_url, TestOptions { database_url, ..TestOptions::limited() }).await
}

async fn with_redis_options(b: Backend, redis_url: &str, options: TestOptions) -> TestApp {
    TestApp::start_with_options(b, TestOptions { redis_url: Some(redis_url.to_owned()), ..options }).await
}

/// A private Redis (the test kills, pauses or restarts it) and an app on it whose day is
/// Redis's day, as in production.
async fn app_on_private_redis(b: Backend) -> (RedisServer, TestApp) {
    let server = RedisServer::start().await;
    let options = TestOptions { real_date: true, ..TestOptions::limited() };
    let app = with_redis_options(b, &server.url(), options).await;
    (server, app)
}

/// Redis's daily and monthly counters of the user `id`.
async fn day_and_month(url: &str, id: &str) -> (Option<u64>, Option<u64>) {
    let keys = RedisKeys::new(id.parse().expect("a user id is a UUID"), unix_now());
    redis_conn(url).await.mget(&[&keys.day, &keys.month]).await.unwrap()
}

/// Runs `each` (requests: checks start the reconnection probe) until `/health` says Redis is
/// connected again; that health reply. Panics after 15 s.
async fn until_redis_is_back(app: &TestApp, mut each: impl AsyncFnMut()) -> common::Reply {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        each().await;
        let h = app.send(reqwest::Method::GET, "/health", None, None).await;
        if h.body["redis"] == "connected" {
            return h;
        }
        assert!(Instant::now() < deadline, "Redis limiter not back: {}", h.text);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn two_instances_share_one_allowance(b: Backend) {
    const PER_MINUTE: usize = 20; // one more every 3 s
    const REQUESTS: usize = 120;
    let redis_url = wm_testkit::redis_url();
    let one = with_redis(b, &redis_url, None).await;
    let two = with_redis(b, &redis_url, Some(one.db_url.clone())).await;
    set_plan(&one, "hammer", PER_MINUTE as u64, 1_000, 100_000).await;
    let (id, key_one) = user_on_plan(&one, "hammer@example.com", "hammer").await;
    let key_two = another_key(&two, &id).await; // all keys of an account share its limits

    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..REQUESTS {
        let (app, key) = if i % 2 == 0 { (&one, &key_one) } else { (&two, &key_two) };
        let (http, url, key) = (app.http.clone(), format!("{}/api/v1/user/me", app.base), key.clone());
        calls.spawn(async move { http.get(url).bearer_auth(key).send().await.unwrap().status() });
    }
    let statuses = calls.join_all().await;
    let elapsed = started.elapsed();
    let ok = statuses.iter().filter(|s| s.is_success()).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(ok + limited, REQUESTS, "only 2xx and 429: {statuses:?}");
    // GCRA: the full burst at once, then one more per 3 s of the run.
    let refills = (elapsed.as_secs_f64() / 3.0).floor() as usize + 1;
    assert!(ok >= PER_MINUTE, "the whole allowance was available: {ok}");
    assert!(ok <= PER_MINUTE + refills, "{ok} admitted in {elapsed:?} across two instances");

    // The daily counter (in Redis) counted every admitted request exactly once.
    let day_key = RedisKeys::new(id.parse().expect("a user id is a UUID"), unix_now()).day;
    let day_count: u64 = redis_conn(&redis_url).await.get(&day_key).await.unwrap();
    assert_eq!(day_count, ok as u64, "daily counter is exact");

    // And so is the usage both instances metered, once flushed.
    one.core.flush().await;
    two.core.flush().await;
    let usage = two.get(&format!("/api/v1/admin/users/{id}/usage?days=1"), &two.admin_key).await;
    assert_eq!(usage.status, StatusCode::OK, "{}", usage.text);
    assert_eq!(usage.body["today"]["requests"], ok as u64, "{}", usage.body);
    one.stop().await;
    two.stop().await;
}

async fn redis_outage_degrades_then_recovers(b: Backend) {
    let mut server = RedisServer::start().await;
    let url = server.url();
    let app = with_redis(b, &url, None).await;
    set_plan(&app, "roomy", 1_000, 100_000, 1_000_000).await;
    let (id, key) = user_on_plan(&app, "outage@example.com", "roomy").await;
    let minute_key = RedisKeys::new(id.parse().expect("a user id is a UUID"), unix_now()).minute;

    let health = app.send(reqwest::Method::GET, "/health", None, None).await;
    assert_eq!((health.body["status"].as_str(), health.body["redis"].as_str()), (Some("healthy"), Some("connected")));
    assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK);
    let exists: bool = redis_conn(&url).await.exists(&minute_key).await.unwrap();
    assert!(exists, "the check went to Redis");

    server.kill().await;
    for i in 0..20 {
        let r = if i % 2 == 0 {
            app.get("/api/v1/user/me", &key).await
        } else {
            app.post("/api/v1/memories", &key, serde_json::json!({ "title": format!("t{i}"), "content": "c" })).await
        };
        assert!(r.status.is_success(), "request {i} during the outage: {} {}", r.status, r.text);
        assert!(r.headers.contains_key("x-ratelimit-remaining"), "limited in-process meanwhile");
    }
    let health = app.send(reqwest::Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK, "degraded is still 200");
    assert_eq!(health.body["status"], "degraded", "{}", health.text);
    assert_eq!(health.body["redis"], "disconnected");
    assert_eq!(health.body["database"], "connected");

    server.restart().await; // empty: the old keys are gone
    let h = until_redis_is_back(&app, async || {
        let r = app.get("/api/v1/user/me", &key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    })
    .await;
    assert_eq!(h.body["status"], "healthy");
    assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK);
    let exists: bool = redis_conn(&url).await.exists(&minute_key).await.unwrap();
    assert!(exists, "requests are limited through Redis again");
    app.stop().await;
}

/// A 429 naming the daily limit.
fn assert_refused_for_the_day(r: &common::Reply, when: &str) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{when}: {}", r.text);
    assert_eq!(r.body["error"]["details"]["limit"], "daily", "{when}: {}", r.text);
}

async fn losing_redis_data_hands_out_no_new_allowance(b: Backend) {
    let (mut server, app) = app_on_private_redis(b).await;
    let url = server.url();
    set_plan(&app, "five-a-day", 1_000, 5, 1_000).await;
    let (id, key) = user_on_plan(&app, "forgotten@example.com", "five-a-day").await;
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK);
    }
    assert_refused_for_the_day(&app.get("/api/v1/user/me", &key).await, "the sixth request");
    let counts = || day_and_month(&url, &id);
    assert_eq!(counts().await, (Some(5), Some(5)));

    // Redis restarts without its data: the in-process limiter refuses while it reconnects, and
    // Redis, back, starts the account from its recorded usage instead of from zero.
    server.restart().await;
    until_redis_is_back(&app, async || {
        assert_refused_for_the_day(&app.get("/api/v1/user/me", &key).await, "while Redis reconnects");
    })
    .await;
    assert_refused_for_the_day(&app.get("/api/v1/user/me", &key).await, "Redis is back");
    assert_eq!(counts().await, (Some(5), Some(5)), "Redis counts again from the recorded usage");

    // Data lost without the connection noticing (flushed, or failed over to an empty replica).
    let () = redis::cmd("FLUSHALL").query_async(&mut redis_conn(&url).await).await.unwrap();
    assert_refused_for_the_day(&app.get("/api/v1/user/me", &key).await, "after FLUSHALL");
    assert_eq!(counts().await, (Some(5), Some(5)));

    app.core.flush().await;
    let usage = app.get(&format!("/api/v1/admin/users/{id}/usage?days=1"), &app.admin_key).await;
    assert_eq!(usage.body["today"]["requests"], 5, "{}", usage.text);
    app.stop().await;
}

/// Redis crashes and comes back with an older snapshot (RDB persistence), in which an account
/// has used 2 of its 5 requests. The account makes no request while Redis is away (another
/// one does), so nothing of it is counted in process: Redis itself is given the recorded usage
/// before it decides again.
async fn a_redis_restored_from_an_older_snapshot_hands_out_no_new_allowance(b: Backend) {
    let (mut server, app) = app_on_private_redis(b).await;
    let url = server.url();
    set_plan(&app, "five-a-day", 1_000, 5, 1_000).await;
    let (id, key) = user_on_plan(&app, "restored@example.com", "five-a-day").await;
    let (_, bystander) = user_on_plan(&app, "bystander@example.com", "enterprise").await;
    let requests = async |n: usize| {
        for _ in 0..n {
            assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK);
        }
    };
    requests(2).await;
    let () = redis::cmd("SAVE").query_async(&mut redis_conn(&url).await).await.unwrap();
    requests(2).await;
    app.core.flush().await; // four requests written, the fifth only counted in memory
    requests(1).await;
    assert_refused_for_the_day(&app.get("/api/v1/user/me", &key).await, "the sixth request");

    server.restart().await;
    until_redis_is_back(&app, async || {
        assert_eq!(app.get("/api/v1/user/me", &bystander).await.status, StatusCode::OK);
    })
    .await;
    assert_eq!(day_and_month(&url, &id).await, (Some(5), Some(5)), "the snapshot's 2 raised to the recorded 5");
    assert_refused_for_the_day(&app.get("/api/v1/user/me", &key).await, "Redis is back");
    app.stop().await;
}

/// While Redis is away each instance limits on its own, from the recorded usage. After each
/// flush it raises its counts to that usage again, which by then holds the other instances'
/// written requests: two instances over one database do not each hand out the whole rest of
/// the day.
async fn instances_apart_count_each_others_written_requests(b: Backend) {
    let (mut server, one) = app_on_private_redis(b).await;
    let url = server.url();
    let database_url = Some(one.db_url.clone());
    let two =
        with_redis_options(b, &url, TestOptions { database_url, real_date: true, ..TestOptions::limited() }).await;
    set_plan(&one, "six-a-day", 1_000, 6, 1_000).await;
    let (_, key) = user_on_plan(&one, "apart@example.com", "six-a-day").await;
    server.kill().await;
    let request = async |app: &TestApp| app.get("/api/v1/user/me", &key).await;
    for app in [&one, &one, &two, &two, &two] {
        assert_eq!(request(app).await.status, StatusCode::OK);
    }
    let h = one.send(reqwest::Method::GET, "/health", None, None).await;
    assert_eq!(h.body["redis"], "disconnected", "{}", h.text);

    two.core.flush().await;
    one.core.flush().await; // one now counts two's three requests too
    assert_eq!(request(&one).await.status, StatusCode::OK, "the sixth request");
    assert_refused_for_the_day(&request(&one).await, "the seventh, on the instance that made two");
    one.stop().await;
    two.stop().await;
}

async fn requests_counted_during_an_outage_count_in_redis_after_it(b: Backend) {
    let (server, app) = app_on_private_redis(b).await;
    let url = server.url();
    set_plan(&app, "roomy-day", 1_000, 1_000, 10_000).await;
    let (id, key) = user_on_plan(&app, "outage-counted@example.com", "roomy-day").await;
    let mut admitted = 0;
    let mut request = async |when: &str| {
        let r = app.get("/api/v1/user/me", &key).await;
        assert_eq!(r.status, StatusCode::OK, "{when}: {}", r.text);
        admitted += 1;
    };
    for _ in 0..3 {
        request("before").await;
    }

    // Redis stops answering for a while but keeps its data; the in-process limiter counts.
    let () = redis::cmd("CLIENT").arg("PAUSE").arg(1_500).query_async(&mut redis_conn(&url).await).await.unwrap();
    for _ in 0..4 {
        request("Redis paused").await;
    }
    let h = app.send(reqwest::Method::GET, "/health", None, None).await;
    assert_eq!(h.body["redis"], "disconnected", "{}", h.text);
    until_redis_is_back(&app, async || request("Redis coming back").await).await;
    request("Redis is back").await;
    request("Redis is back").await;

    // Redis counted every request, including those decided in process while it was away.
    assert_eq!(day_and_month(&url, &id).await, (Some(admitted), Some(admitted)));
    app.stop().await;
}
