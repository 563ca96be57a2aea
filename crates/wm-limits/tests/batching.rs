//! Group commit in `RedisLimiter`: checks arriving while a script call is in flight
//! go out together as the next call. Each must get exactly the decision it would
//! have got alone, in some sequential order: the same as the `LocalLimiter`'s.

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{
    account, command_calls, counters, decided_at, join_all, limits, raw_connection, redis_limiter, remaining,
};
use uuid::Uuid;
use wm_limits::{
    Decision, FallbackLimiter, LimitError, LimitKind, Limiter, Limits, LocalLimiter, ManualClock, RedisKeys,
    RedisLimiter, RedisStatus,
};
use wm_testkit::RedisServer;

type Check<'a> = Pin<Box<dyn Future<Output = Result<Decision, LimitError>> + Send + 'a>>;

/// `count` checks of each `(account, limits)`, interleaved, each in its own task on
/// a multi-threaded runtime; returns the decisions per account, in completion order.
async fn concurrent(l: &Arc<RedisLimiter>, plan: &[(Uuid, Limits, usize)]) -> BTreeMap<Uuid, Vec<Decision>> {
    let mut tasks = tokio::task::JoinSet::new();
    let most = plan.iter().map(|p| p.2).max().unwrap_or(0);
    for i in 0..most {
        for (a, lim, count) in plan {
            if i < *count {
                let (l, a, lim) = (Arc::clone(l), *a, *lim);
                tasks.spawn(async move { (a, l.check(a, &lim).await.expect("Redis answers")) });
            }
        }
    }
    let mut out: BTreeMap<Uuid, Vec<Decision>> = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (a, d) = joined.expect("task completes");
        out.entry(a).or_default().push(d);
    }
    out
}

fn admitted(decisions: &[Decision]) -> usize {
    decisions.iter().filter(|d| d.is_allowed()).count()
}

/// The remaining values of `kind` over the admitted decisions, sorted.
fn remaining_of_admitted(decisions: &[Decision], kind: LimitKind) -> Vec<u64> {
    let mut values: Vec<u64> = decisions.iter().filter(|d| d.is_allowed()).map(|d| d.status(kind).remaining).collect();
    values.sort_unstable();
    values
}

/// Replays `requests` (one account, in the order they were queued) on a
/// `LocalLimiter` whose clock shows each Redis decision's instant, and asserts the
/// same multiset of decisions at every instant. Within an instant, requests with
/// the same limits form one script entry, in order of first appearance.
fn assert_same_as_local(requests: &[(Limits, Decision)]) {
    let mut instants: BTreeMap<u64, Vec<(Limits, Vec<Decision>)>> = BTreeMap::new();
    for (lim, d) in requests {
        let entries = instants.entry(decided_at(d)).or_default();
        match entries.iter_mut().find(|(l, _)| l == lim) {
            Some((_, ds)) => ds.push(d.clone()),
            None => entries.push((*lim, vec![d.clone()])),
        }
    }
    let clock = Arc::new(ManualClock::new(0));
    let local = LocalLimiter::with_clock(clock.clone());
    let key = |d: &Decision| format!("{d:?}");
    for (at, entries) in instants {
        clock.set(at);
        for (lim, mut got) in entries {
            let mut expected: Vec<Decision> = got.iter().map(|_| local.decide(Uuid::nil(), &lim)).collect();
            got.sort_by_key(key);
            expected.sort_by_key(key);
            assert_eq!(got, expected, "at {at} with {lim:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checks_of_one_account_admit_exactly_the_allowance() {
    const ALLOWANCE: u64 = 30; // one more every 2 s: the burst is over long before
    const CHECKS: usize = 120;
    let l = Arc::new(redis_limiter().await);
    let (a, lim) = (account(), limits(ALLOWANCE, 10_000, 100_000));
    let decisions = concurrent(&l, &[(a, lim, CHECKS)]).await.remove(&a).unwrap();

    assert_eq!(decisions.len(), CHECKS);
    assert_eq!(admitted(&decisions), ALLOWANCE as usize);
    assert_eq!(remaining_of_admitted(&decisions, LimitKind::PerMinute), (0..ALLOWANCE).collect::<Vec<_>>());
    assert_eq!(remaining_of_admitted(&decisions, LimitKind::Daily), (10_000 - ALLOWANCE..10_000).collect::<Vec<_>>());
    for d in decisions.iter().filter(|d| !d.is_allowed()) {
        common::assert_denied(d, LimitKind::PerMinute);
        assert_eq!(remaining(d), (0, 10_000 - ALLOWANCE, 100_000 - ALLOWANCE));
        assert!((1..=2).contains(&d.denial.unwrap().retry_after), "{d:?}");
    }
    assert_eq!(counters(&wm_testkit::redis_url(), a).await, (ALLOWANCE, ALLOWANCE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checks_over_several_accounts_are_exact() {
    let l = Arc::new(redis_limiter().await);
    let plan: Vec<(Uuid, Limits, usize)> = [1u64, 3, 7, 12, 20, 30]
        .into_iter()
        .map(|allowance| (account(), limits(allowance, 1_000, 1_000), 2 * allowance as usize + 5))
        .collect();
    let results = concurrent(&l, &plan).await;
    for (a, lim, count) in &plan {
        let decisions = &results[a];
        assert_eq!(decisions.len(), *count);
        assert_eq!(admitted(decisions), lim.per_minute as usize, "{a}");
        assert_eq!(remaining_of_admitted(decisions, LimitKind::PerMinute), (0..lim.per_minute).collect::<Vec<_>>());
        assert_eq!(counters(&wm_testkit::redis_url(), *a).await, (lim.per_minute, lim.per_minute));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_and_monthly_counters_are_exact_after_a_concurrent_burst() {
    let url = wm_testkit::redis_url();
    let l = Arc::new(redis_limiter().await);
    let (daily, monthly) = (account(), account());
    let (daily_lim, monthly_lim) = (limits(1_000, 30, 1_000), limits(1_000, 1_000, 25));
    let results = concurrent(&l, &[(daily, daily_lim, 100), (monthly, monthly_lim, 100)]).await;

    let d = &results[&daily];
    assert_eq!(admitted(d), 30);
    assert_eq!(remaining_of_admitted(d, LimitKind::Daily), (0..30).collect::<Vec<_>>());
    assert_eq!(remaining_of_admitted(d, LimitKind::Monthly), (970..1_000).collect::<Vec<_>>());
    d.iter().filter(|d| !d.is_allowed()).for_each(|d| common::assert_denied(d, LimitKind::Daily));
    assert_eq!(counters(&url, daily).await, (30, 30));

    let m = &results[&monthly];
    assert_eq!(admitted(m), 25);
    assert_eq!(remaining_of_admitted(m, LimitKind::Monthly), (0..25).collect::<Vec<_>>());
    m.iter().filter(|d| !d.is_allowed()).for_each(|d| common::assert_denied(d, LimitKind::Monthly));
    assert_eq!(counters(&url, monthly).await, (25, 25));

    // A bigger daily limit: exactly the difference more, counted once.
    let more = concurrent(&l, &[(daily, limits(1_000, 50, 1_000), 40)]).await;
    assert_eq!(admitted(&more[&daily]), 20);
    assert_eq!(remaining_of_admitted(&more[&daily], LimitKind::Daily), (0..20).collect::<Vec<_>>());
    assert_eq!(counters(&url, daily).await, (50, 50));
}

/// Everything started in one poll pass: the first check takes the turn and yields once,
/// the others queue meanwhile, and all go out together (at most 256 per call).
#[tokio::test]
async fn concurrent_checks_go_out_together_in_calls_of_at_most_256() {
    let server = RedisServer::start().await;
    let url = server.url();
    let l = RedisLimiter::connect(&url).await.unwrap();
    l.check(account(), &limits(1, 1, 1)).await.unwrap(); // loads the script
    let mut admin = raw_connection(&url).await;
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query_async(&mut admin).await.unwrap();

    for (checks, calls) in [(1, 1), (2, 1), (200, 1), (256, 1), (257, 2), (513, 3)] {
        let (a, lim) = (account(), limits(100, 1_000, 1_000));
        let before = command_calls(&url, "evalsha").await;
        let futures: Vec<Check<'_>> = (0..checks).map(|_| Box::pin(l.check(a, &lim)) as Check<'_>).collect();
        let decisions: Vec<Decision> = join_all(futures).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(command_calls(&url, "evalsha").await - before, calls, "{checks} checks");
        assert_eq!(admitted(&decisions), checks.min(100));
        let requests: Vec<(Limits, Decision)> = decisions.into_iter().map(|d| (lim, d)).collect();
        assert_same_as_local(&requests);
    }
}

#[tokio::test]
async fn one_account_under_two_plans_in_one_call_matches_the_local_limiter() {
    let l = redis_limiter().await;
    let a = account();
    let (small, big) = (limits(10, 100, 100), limits(20, 25, 100));
    let plans: Vec<Limits> = (0..40).map(|i| if i % 2 == 0 { small } else { big }).collect();
    let futures: Vec<Check<'_>> = plans.iter().map(|lim| Box::pin(l.check(a, lim)) as Check<'_>).collect();
    let decisions = join_all(futures).await;
    let requests: Vec<(Limits, Decision)> = plans.into_iter().zip(decisions.into_iter().map(Result::unwrap)).collect();
    // 10 of the small plan, then 10 more of the big one (20 per minute, 10 used).
    assert_eq!(requests.iter().filter(|(_, d)| d.is_allowed()).count(), 20);
    assert_same_as_local(&requests);
}

/// Rounds of concurrent checks over accounts with different plans, with pauses in
/// between that let some of the per-minute allowance come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_decisions_equal_the_local_limiters() {
    let l = Arc::new(redis_limiter().await);
    let plan: Vec<(Uuid, Limits, usize)> = vec![
        (account(), limits(600, 1_000, 1_000), 40), // one more every 100 ms
        (account(), limits(20, 45, 1_000), 15),     // the daily limit ends it
        (account(), limits(10, 1_000, 25), 12),     // the monthly limit ends it
        (account(), limits(0, 10, 10), 3),          // blocked
        (account(), limits(u64::MAX, u64::MAX, u64::MAX), 20),
    ];
    let mut all: BTreeMap<Uuid, Vec<Decision>> = BTreeMap::new();
    for _round in 0..4 {
        for (a, ds) in concurrent(&l, &plan).await {
            all.entry(a).or_default().extend(ds);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    for (a, lim, _) in &plan {
        let requests: Vec<(Limits, Decision)> = all[a].iter().map(|d| (*lim, d.clone())).collect();
        assert_same_as_local(&requests);
    }
}

/// Checks queued behind a call that fails get the error too (the fallback then
/// decides them locally), and the queue is usable again once Redis is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_fails_every_check_of_it_and_the_next_checks_work() {
    let mut server = RedisServer::start().await;
    let url = server.url();
    let l = Arc::new(RedisLimiter::connect(&url).await.unwrap());
    let lim = limits(100, 1_000, 1_000);
    l.check(account(), &lim).await.unwrap();

    // Hold the first call in Redis so that the others queue behind it, then kill Redis.
    let mut admin = raw_connection(&url).await;
    let _: () = redis::cmd("CLIENT").arg(&["PAUSE", "5000", "ALL"]).query_async(&mut admin).await.unwrap();
    let a = account();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (l, a) = (Arc::clone(&l), a);
        tasks.spawn(async move { l.check(a, &lim).await });
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.kill().await;
    let results = tasks.join_all().await;
    assert!(results.iter().all(Result::is_err), "{results:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());

    server.restart().await;
    // The connection manager reconnects on the call after a failed one.
    let mut attempts = 0;
    while l.check(account(), &lim).await.is_err() {
        attempts += 1;
        assert!(attempts < 5, "still failing after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let b = account();
    let decisions = concurrent(&l, &[(b, limits(30, 1_000, 1_000), 60)]).await.remove(&b).unwrap();
    assert_eq!(admitted(&decisions), 30);
    assert_eq!(counters(&url, b).await, (30, 30));
}

/// A call Redis does not answer: every check waiting for it gives up after the call
/// timeout (counted from when it was made), and later checks work again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_call_times_out_every_check_and_does_not_wedge_the_queue() {
    let server = RedisServer::start().await;
    let url = server.url();
    let l = Arc::new(RedisLimiter::connect(&url).await.unwrap());
    let lim = limits(1_000, 10_000, 10_000);
    l.check(account(), &lim).await.unwrap();

    let mut admin = raw_connection(&url).await;
    let _: () = redis::cmd("CLIENT").arg(&["PAUSE", "1500", "ALL"]).query_async(&mut admin).await.unwrap();
    let a = account();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (l, a) = (Arc::clone(&l), a);
        tasks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 10)).await; // some queue behind a hung call
            let started = Instant::now();
            (l.check(a, &lim).await, started.elapsed())
        });
    }
    for (result, took) in tasks.join_all().await {
        assert!(result.is_err(), "{result:?}");
        assert!(took < Duration::from_millis(700), "{took:?}");
    }

    tokio::time::sleep(Duration::from_millis(1_500)).await; // the pause is over
    let b = account();
    let decisions = concurrent(&l, &[(b, limits(30, 1_000, 1_000), 60)]).await.remove(&b).unwrap();
    assert_eq!(admitted(&decisions), 30);
    assert_eq!(counters(&url, b).await, (30, 30));
}

/// A check dropped while its call is in flight (e.g. the client went away) does not
/// take the call down with it: the checks queued behind it are answered by Redis.
#[tokio::test]
async fn a_cancelled_check_does_not_lose_the_call_it_started() {
    let url = wm_testkit::redis_url();
    let l = redis_limiter().await;
    let (a, lim) = (account(), limits(100, 1_000, 1_000));
    let mut first: Check<'_> = Box::pin(l.check(a, &lim));
    std::future::poll_fn(|cx| {
        assert!(first.as_mut().poll(cx).is_pending(), "the call is in flight");
        Poll::Ready(())
    })
    .await;
    let queued: Vec<Check<'_>> = (0..9).map(|_| Box::pin(l.check(a, &lim)) as Check<'_>).collect();
    let mut queued = Box::pin(join_all(queued));
    // Queue them, then drop the first check with its call still in flight.
    std::future::poll_fn(|cx| {
        let _ = queued.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await;
    drop(first);
    let decisions: Vec<Decision> = queued.await.into_iter().map(Result::unwrap).collect();
    // The dropped check had reached Redis, so it counts (as a dropped single call would).
    assert_eq!(remaining_of_admitted(&decisions, LimitKind::PerMinute), (90..99).collect::<Vec<_>>());
    assert_eq!(counters(&url, a).await, (10, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_answers_a_failed_call_locally_and_comes_back() {
    let mut server = RedisServer::start().await;
    let url = server.url();
    let limiter = Arc::new(FallbackLimiter::connect(&url, LocalLimiter::new()).await.unwrap());
    let lim = limits(100, 1_000, 1_000);
    assert!(limiter.check(account(), &lim).await.unwrap().is_allowed());

    let mut admin = raw_connection(&url).await;
    let _: () = redis::cmd("CLIENT").arg(&["PAUSE", "5000", "ALL"]).query_async(&mut admin).await.unwrap();
    let a = account();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (limiter, a) = (Arc::clone(&limiter), a);
        tasks.spawn(async move { limiter.check(a, &lim).await });
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.kill().await;
    for result in tasks.join_all().await {
        assert!(result.expect("never fails for a Redis outage").is_allowed());
    }
    assert_eq!(limiter.status(), RedisStatus::Disconnected);
    // All 50 were answered by the local limiter (the in-flight call never returned).
    assert_eq!(remaining(&limiter.local().decide(a, &lim)), (49, 949, 949));

    server.restart().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while limiter.status() != RedisStatus::Connected {
        assert!(Instant::now() < deadline, "not reconnected");
        limiter.check(account(), &lim).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let b = account();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (limiter, b) = (Arc::clone(&limiter), b);
        tasks.spawn(async move { limiter.check(b, &limits(10, 100, 100)).await.unwrap().is_allowed() });
    }
    assert_eq!(tasks.join_all().await.into_iter().filter(|ok| *ok).count(), 10);
    assert_eq!(counters(&url, b).await, (10, 10));
    let minute: bool =
        redis::AsyncCommands::exists(&mut raw_connection(&url).await, RedisKeys::new(b, 0).minute).await.unwrap();
    assert!(minute, "decided by Redis again");
    assert_eq!(limiter.status(), RedisStatus::Connected);
}
