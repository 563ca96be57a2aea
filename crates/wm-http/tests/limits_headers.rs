//! Rate-limit headers and decisions: the same request sequence gets the same answers from
//! the in-process and the Redis limiter; `Remaining` counts down one per admitted request;
//! 401s are not counted; `Retry-After` is honest; a plan change applies to the next request;
//! an operator can hide the headers without lifting the limits.

mod common;
mod limits_support;

use common::{Reply, TestApp, TestOptions, assert_error};
use limits_support::{another_key, header, header_u64, set_plan, unix_now, user_on_plan};
use reqwest::{Method, StatusCode};
use std::time::Duration;
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    local_and_redis_give_the_same_answers,
    remaining_counts_down_and_retry_after_is_honest,
    limits_off_sends_no_headers,
    hidden_headers_still_enforce_limits
);

/// What one response said, for comparing two limiters (times may differ by a second).
#[derive(Debug, PartialEq)]
struct Step {
    status: u16,
    limit: u64,
    remaining: u64,
    policy: String,
    refused_by: Option<String>,
}

fn step(r: &Reply) -> Step {
    assert!(!r.status.is_server_error(), "{}", r.text);
    Step {
        status: r.status.as_u16(),
        limit: header_u64(r, "x-ratelimit-limit"),
        remaining: header_u64(r, "x-ratelimit-remaining"),
        policy: header(r, "ratelimit-policy"),
        refused_by: r.body["error"]["details"]["limit"].as_str().map(str::to_owned),
    }
}

/// Per minute 4 then 60, daily 6: exhausts the minute, changes the plan, exhausts the day.
/// Returns the steps and the `Retry-After` of both refusals.
async fn sequence(app: &TestApp) -> (Vec<Step>, [u64; 2]) {
    set_plan(app, "seq", 4, 6, 1_000).await;
    let (_, key) = user_on_plan(app, "seq@example.com", "seq").await;
    let mut steps = Vec::new();
    for _ in 0..4 {
        steps.push(step(&app.get("/api/v1/user/me", &key).await));
    }
    let minute = app.get("/api/v1/user/me", &key).await;
    assert_error(&minute, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    steps.push(step(&minute));
    set_plan(app, "seq", 60, 6, 1_000).await; // effective on the next request
    for _ in 0..3 {
        steps.push(step(&app.get("/api/v1/user/me", &key).await));
    }
    let day = steps.last().unwrap();
    assert_eq!(day.refused_by.as_deref(), Some("daily"));
    let daily_retry = {
        let r = app.get("/api/v1/user/me", &key).await;
        header_u64(&r, "retry-after")
    };
    (steps, [header_u64(&minute, "retry-after"), daily_retry])
}

async fn local_and_redis_give_the_same_answers(b: Backend) {
    let local = TestApp::start_with_options(b, TestOptions::limited()).await;
    let redis_options = TestOptions { redis_url: Some(wm_testkit::redis_url()), ..TestOptions::limited() };
    let shared = TestApp::start_with_options(b, redis_options).await;
    let (local_steps, local_retry) = sequence(&local).await;
    let (redis_steps, redis_retry) = sequence(&shared).await;
    assert_eq!(local_steps, redis_steps);
    for (l, r) in local_retry.iter().zip(&redis_retry) {
        assert!(l.abs_diff(*r) <= 1, "Retry-After {local_retry:?} vs {redis_retry:?}");
    }

    // And the answers are the right ones.
    let policy_4 = r#""per_minute";q=4;w=60, "daily";q=6;w=86400, "monthly";q=1000;w=2592000"#;
    let policy_60 = r#""per_minute";q=60;w=60, "daily";q=6;w=86400, "monthly";q=1000;w=2592000"#;
    let want = |status, limit, remaining, policy: &str, refused_by: Option<&str>| Step {
        status,
        limit,
        remaining,
        policy: policy.into(),
        refused_by: refused_by.map(Into::into),
    };
    let expected = vec![
        want(200, 4, 3, policy_4, None),
        want(200, 4, 2, policy_4, None),
        want(200, 4, 1, policy_4, None),
        want(200, 4, 0, policy_4, None),
        want(429, 4, 0, policy_4, Some("per_minute")),
        want(200, 6, 1, policy_60, None), // the daily limit is now the tightest
        want(200, 6, 0, policy_60, None),
        want(429, 6, 0, policy_60, Some("daily")),
    ];
    assert_eq!(local_steps, expected);
    assert!((14..=15).contains(&local_retry[0]), "60 s / 4, rounded up: {local_retry:?}");
    let to_midnight = 86_400 - unix_now() % 86_400;
    assert!(local_retry[1].abs_diff(to_midnight) <= 2, "daily resets at 00:00 UTC: {local_retry:?}");
    local.stop().await;
    shared.stop().await;
}

async fn remaining_counts_down_and_retry_after_is_honest(b: Backend) {
    let app = TestApp::start_with_options(b, TestOptions::limited()).await;
    set_plan(&app, "tiny", 20, 1_000, 10_000).await; // one more every 3 s
    let (id, key) = user_on_plan(&app, "tiny@example.com", "tiny").await;
    let revoked = another_key(&app, &id).await;
    let keys = app.get("/api/v1/user/keys", &key).await;
    let revoked_id = keys.body["keys"].as_array().unwrap().iter().find(|k| k["name"] == "second").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.call(Method::DELETE, &format!("/api/v1/user/keys/{revoked_id}"), &key, None).await.status,
        StatusCode::NO_CONTENT
    );

    // Two requests spent above; the rest of the burst counts down one by one, and requests
    // that fail authentication in between are not counted.
    let mut expected = 17;
    for i in 0..18 {
        let r = app.get("/api/v1/user/me", &key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(header_u64(&r, "x-ratelimit-remaining"), expected, "request {i}");
        assert_eq!(header_u64(&r, "x-ratelimit-limit"), 20);
        assert!(header_u64(&r, "x-ratelimit-reset") >= unix_now());
        assert!(
            header(&r, "ratelimit").starts_with(&format!("\"per_minute\";r={expected};t=")),
            "{}",
            header(&r, "ratelimit")
        );
        expected = expected.saturating_sub(1);
        let unauthorized = if i % 2 == 0 {
            app.get("/api/v1/user/me", &revoked).await
        } else {
            app.get("/api/v1/memories", "wm_dev_0123456789abcdefghijABCDEFGHIJ99").await
        };
        assert_error(&unauthorized, StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(!unauthorized.headers.contains_key("x-ratelimit-remaining"), "401s are not metered");
    }

    let refused = app.get("/api/v1/memories", &key).await;
    assert_error(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(refused.body["error"]["details"]["limit"], "per_minute");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("per_minute"));
    assert_eq!(header_u64(&refused, "x-ratelimit-remaining"), 0);
    let retry_after = header_u64(&refused, "retry-after");
    assert!((1..=3).contains(&retry_after), "{retry_after}");

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let again = app.get("/api/v1/user/me", &key).await;
    assert_eq!(again.status, StatusCode::OK, "a request after Retry-After succeeds: {}", again.text);
    assert_eq!(header_u64(&again, "x-ratelimit-remaining"), 0);
    app.stop().await;
}

async fn limits_off_sends_no_headers(b: Backend) {
    let app = TestApp::start(b).await; // request limits off
    let (_, key) = app.user("free@example.com").await;
    for _ in 0..15 {
        let r = app.get("/api/v1/user/me", &key).await;
        assert_eq!(r.status, StatusCode::OK, "a free account is not limited when limits are off");
        assert!(!r.headers.contains_key("x-ratelimit-limit"));
    }
    let health = app.send(Method::GET, "/health", None, None).await;
    assert_eq!(health.body["redis"], "not_configured");
    assert_eq!(health.body["status"], "healthy");
    app.stop().await;
}

const RATE_LIMIT_HEADERS: [&str; 5] =
    ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit-policy", "ratelimit"];

async fn hidden_headers_still_enforce_limits(b: Backend) {
    let mut options = TestOptions::limited();
    options.settings.rate_limit_headers = false;
    let app = TestApp::start_with_options(b, options).await;
    set_plan(&app, "quiet", 3, 1_000, 10_000).await;
    let (_, key) = user_on_plan(&app, "quiet@example.com", "quiet").await;
    for i in 0..3 {
        let r = app.get("/api/v1/user/me", &key).await;
        assert_eq!(r.status, StatusCode::OK, "request {i}: {}", r.text);
        for name in RATE_LIMIT_HEADERS {
            assert!(!r.headers.contains_key(name), "request {i} carries {name}");
        }
    }
    let refused = app.get("/api/v1/user/me", &key).await;
    assert_error(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(refused.body["error"]["details"]["limit"], "per_minute");
    assert!((1..=20).contains(&header_u64(&refused, "retry-after")), "a refusal still says when to retry");
    for name in RATE_LIMIT_HEADERS {
        assert!(!refused.headers.contains_key(name), "the refusal carries {name}");
    }
    app.stop().await;
}
