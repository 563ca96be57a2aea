//! One behaviour suite, run against `LocalLimiter` and `RedisLimiter`: the same
//! request sequences must give the same decisions.
//!
//! Only `sleeps_past_retry_after` depends on time passing (that is what it tests);
//! every other case finishes well within one emission interval.

mod common;

use std::time::Duration;

use ::redis::AsyncCommands;
use chrono::{Datelike, TimeZone, Utc};
use common::{account, assert_denied, limits, raw_connection, remaining};
use wm_limits::{Checked, Decision, LimitKind, Limiter, Limits, RateLimitHeaders, RedisKeys, Seed};

macro_rules! behaviour_suite {
    ($($case:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&wm_limits::LocalLimiter::new()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&crate::common::redis_limiter().await).await;
                }
            )*
        }
    };
}

behaviour_suite!(
    burst_of_exactly_per_minute_then_denied,
    remaining_counts_down_by_one,
    daily_denial_consumes_no_per_minute_or_monthly,
    per_minute_denial_consumes_no_daily_or_monthly,
    daily_and_monthly_retry_after_is_the_period_rollover,
    accounts_are_independent,
    lower_limits_apply_at_once,
    blocked_limits_deny_everything,
    reset_forgets_the_account,
    huge_limits_are_effectively_unlimited,
    sleeps_past_retry_after,
);

async fn burst_of_exactly_per_minute_then_denied(l: &dyn Limiter) {
    let (a, lim) = (account(), limits(5, 1000, 10_000));
    for _ in 0..5 {
        assert!(l.check(a, &lim).await.unwrap().is_allowed());
    }
    for _ in 0..3 {
        let d = l.check(a, &lim).await.unwrap();
        assert_denied(&d, LimitKind::PerMinute);
        // 5/min: one request every 12 s.
        assert!((11..=12).contains(&d.denial.unwrap().retry_after), "{d:?}");
        assert_eq!(remaining(&d), (0, 995, 9995));
    }
}

async fn remaining_counts_down_by_one(l: &dyn Limiter) {
    let (a, lim) = (account(), limits(10, 20, 30));
    for i in 1..=10 {
        let d = l.check(a, &lim).await.unwrap();
        assert!(d.is_allowed());
        assert_eq!(remaining(&d), (10 - i, 20 - i, 30 - i));
        let headers = RateLimitHeaders::new(&d);
        assert_eq!((headers.limit, headers.remaining), (10, 10 - i));
        assert!(headers.rate_limit.starts_with(&format!("\"per_minute\";r={};t=6,", 10 - i)));
        assert_eq!(headers.retry_after, None);
    }
}

async fn daily_denial_consumes_no_per_minute_or_monthly(l: &dyn Limiter) {
    let (a, lim) = (account(), limits(10, 3, 100));
    for _ in 0..3 {
        assert!(l.check(a, &lim).await.unwrap().is_allowed());
    }
    for _ in 0..5 {
        let d = l.check(a, &lim).await.unwrap();
        assert_denied(&d, LimitKind::Daily);
        assert_eq!(remaining(&d), (7, 0, 97));
    }
    // A bigger daily limit takes effect at once; the denied requests used nothing.
    let d = l.check(a, &limits(10, 10, 100)).await.unwrap();
    assert!(d.is_allowed());
    assert_eq!(remaining(&d), (6, 6, 96));
}

async fn per_minute_denial_consumes_no_daily_or_monthly(l: &dyn Limiter) {
    let (a, lim) = (account(), limits(2, 100, 1000));
    for _ in 0..2 {
        assert!(l.check(a, &lim).await.unwrap().is_allowed());
    }
    for _ in 0..5 {
        let d = l.check(a, &lim).await.unwrap();
        assert_denied(&d, LimitKind::PerMinute);
        assert_eq!(remaining(&d), (0, 98, 998));
    }
    // A bigger per-minute limit takes effect at once, counting the 2 requests made.
    let d = l.check(a, &limits(60, 100, 1000)).await.unwrap();
    assert!(d.is_allowed());
    assert_eq!(remaining(&d), (57, 97, 997));
}

async fn daily_and_monthly_retry_after_is_the_period_rollover(l: &dyn Limiter) {
    let a = account();
    assert!(l.check(a, &limits(10, 1, 1)).await.unwrap().is_allowed());
    let now = Utc::now();
    let tomorrow = (now.date_naive() + chrono::Days::new(1)).and_hms_opt(0, 0, 0).unwrap();
    let first = now.date_naive().with_day(1).unwrap();
    let next_month = (first + chrono::Months::new(1)).and_hms_opt(0, 0, 0).unwrap();
    let to_tomorrow = (Utc.from_utc_datetime(&tomorrow) - now).num_seconds();
    let to_next_month = (Utc.from_utc_datetime(&next_month) - now).num_seconds();

    let d = l.check(a, &limits(10, 1, 100)).await.unwrap();
    assert_denied(&d, LimitKind::Daily);
    let retry = i64::try_from(d.denial.unwrap().retry_after).unwrap();
    assert!((retry - to_tomorrow).abs() <= 5, "{retry} vs {to_tomorrow}");

    let d = l.check(a, &limits(10, 100, 1)).await.unwrap();
    assert_denied(&d, LimitKind::Monthly);
    let retry = i64::try_from(d.denial.unwrap().retry_after).unwrap();
    assert!((retry - to_next_month).abs() <= 5, "{retry} vs {to_next_month}");

    // Exhausted everywhere: the denial names the limit that lifts last.
    let d = l.check(a, &limits(1, 1, 1)).await.unwrap();
    assert_denied(&d, LimitKind::Monthly);
}

async fn accounts_are_independent(l: &dyn Limiter) {
    let (a, b, lim) = (account(), account(), limits(2, 100, 100));
    for _ in 0..2 {
        assert!(l.check(a, &lim).await.unwrap().is_allowed());
    }
    assert_denied(&l.check(a, &lim).await.unwrap(), LimitKind::PerMinute);
    for expected in [1, 0] {
        let d = l.check(b, &lim).await.unwrap();
        assert!(d.is_allowed());
        assert_eq!(remaining(&d), (expected, 98 + expected, 98 + expected));
    }
    assert_denied(&l.check(b, &lim).await.unwrap(), LimitKind::PerMinute);
}

async fn lower_limits_apply_at_once(l: &dyn Limiter) {
    let a = account();
    for _ in 0..6 {
        assert!(l.check(a, &limits(10, 10, 100)).await.unwrap().is_allowed());
    }
    // 6 made, the plan now allows 5 per minute: denied until one interval (12 s) passes.
    let d = l.check(a, &limits(5, 10, 100)).await.unwrap();
    assert_denied(&d, LimitKind::PerMinute);
    assert!((11..=12).contains(&d.denial.unwrap().retry_after), "{d:?}");
    // 6 made today, the plan now allows 6 per day.
    assert_denied(&l.check(a, &limits(10, 6, 100)).await.unwrap(), LimitKind::Daily);
    // Back to the original plan: 4 more per minute.
    let d = l.check(a, &limits(10, 10, 100)).await.unwrap();
    assert_eq!(remaining(&d), (3, 3, 93));
}

async fn blocked_limits_deny_everything(l: &dyn Limiter) {
    let a = account();
    let d = l.check(a, &limits(0, 10, 10)).await.unwrap();
    assert_denied(&d, LimitKind::PerMinute);
    assert_eq!(d.denial.unwrap().retry_after, 60);
    assert_denied(&l.check(a, &limits(10, 0, 10)).await.unwrap(), LimitKind::Daily);
    assert_denied(&l.check(a, &limits(10, 10, 0)).await.unwrap(), LimitKind::Monthly);
    // Nothing was consumed by the blocked attempts.
    let d = l.check(a, &limits(10, 10, 10)).await.unwrap();
    assert_eq!(remaining(&d), (9, 9, 9));
}

async fn reset_forgets_the_account(l: &dyn Limiter) {
    let (a, lim) = (account(), limits(3, 3, 3));
    for _ in 0..3 {
        assert!(l.check(a, &lim).await.unwrap().is_allowed());
    }
    assert!(!l.check(a, &lim).await.unwrap().is_allowed());
    l.reset(a).await.unwrap();
    let d = l.check(a, &lim).await.unwrap();
    assert_eq!(remaining(&d), (2, 2, 2));
}

async fn huge_limits_are_effectively_unlimited(l: &dyn Limiter) {
    let (a, lim) = (account(), limits(u64::MAX, u64::MAX, u64::MAX));
    for _ in 0..3 {
        let d = l.check(a, &lim).await.unwrap();
        assert!(d.is_allowed());
        let (m, d_left, mo) = remaining(&d);
        assert!(m > 1 << 20 && d_left > 1 << 50 && mo > 1 << 50, "{d:?}");
        assert_eq!(d.status(LimitKind::Daily).limit, u64::MAX);
    }
}

async fn sleeps_past_retry_after(l: &dyn Limiter) {
    let (a, lim) = (account(), limits(60, 1000, 1000));
    let mut admitted = 0;
    let denied = loop {
        let d = l.check(a, &lim).await.unwrap();
        if !d.is_allowed() {
            break d;
        }
        admitted += 1;
        assert!(admitted <= 61, "the burst is per_minute requests");
    };
    assert!(admitted >= 60);
    assert_denied(&denied, LimitKind::PerMinute);
    assert_eq!(denied.denial.unwrap().retry_after, 1);
    let wait = denied.status(LimitKind::PerMinute).reset_after;
    assert!(wait <= Duration::from_secs(1));
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    assert!(l.check(a, &lim).await.unwrap().is_allowed());
}

/// A limiter with its way of being seeded: the local one is told, Redis asks when it has no
/// count of the account for the month.
enum Seedable {
    Local(wm_limits::LocalLimiter),
    Redis(wm_limits::RedisLimiter),
}

impl Seedable {
    /// The first check of `account`, which starts from `seed`.
    async fn first_check(&self, account: uuid::Uuid, lim: &Limits, seed: Seed) -> Decision {
        match self {
            Seedable::Local(l) => {
                assert_eq!(l.decide_seeded(account, lim), None, "unseeded at first");
                l.seed(account, seed);
                l.decide_seeded(account, lim).expect("seeded")
            }
            Seedable::Redis(r) => {
                let asked = r.check_seeded(account, lim, None).await.unwrap();
                assert_eq!(asked, Checked::NeedsSeed, "no month counter: asks for a seed");
                let key = RedisKeys::new(account, Utc::now().timestamp() as u64);
                let mut conn = raw_connection(&wm_testkit::redis_url()).await;
                let found: usize = conn.exists(&[key.minute, key.day, key.month]).await.unwrap();
                assert_eq!(found, 0, "asking for a seed counts nothing");
                match r.check_seeded(account, lim, Some(seed)).await.unwrap() {
                    Checked::Decided(d) => d,
                    Checked::NeedsSeed => panic!("asked again despite a seed"),
                }
            }
        }
    }

    /// A later check of `account`, which needs no seed.
    async fn check(&self, account: uuid::Uuid, lim: &Limits) -> Decision {
        match self {
            Seedable::Local(l) => l.decide_seeded(account, lim).expect("seeded"),
            Seedable::Redis(r) => match r.check_seeded(account, lim, None).await.unwrap() {
                Checked::Decided(d) => d,
                Checked::NeedsSeed => panic!("asked for a seed twice"),
            },
        }
    }
}

fn seed(date: chrono::NaiveDate, day_count: u64, month_count: u64) -> Seed {
    Seed { date: (i64::from(date.year()), date.month(), date.day()), day_count, month_count }
}

/// Both limiters start an account's daily and monthly counts from its recorded usage (a
/// restart, or a Redis that lost its data, hands out no new allowance), use only the parts of
/// the seed for the current day and month, and never lower a count they already hold.
#[tokio::test]
async fn seeds_start_the_day_and_month_alike() {
    let today = Utc::now().date_naive();
    let same_month_other_day = if today.day() > 1 { today.pred_opt() } else { today.succ_opt() }.unwrap();
    let other_month = today - chrono::Days::new(40);
    let lim = limits(100, 5, 100);
    // (seed, remaining after the first request: (per minute, daily, monthly))
    let cases = [
        (seed(today, 3, 40), (99, 1, 59)),
        (seed(same_month_other_day, 3, 40), (99, 4, 59)),
        (seed(other_month, 3, 40), (99, 4, 99)),
        (Seed::EMPTY, (99, 4, 99)),
    ];
    for limiter in [Seedable::Local(wm_limits::LocalLimiter::new()), Seedable::Redis(common::redis_limiter().await)] {
        let name = match limiter {
            Seedable::Local(_) => "local",
            Seedable::Redis(_) => "redis",
        };
        for (seed, want) in cases {
            let a = account();
            assert_eq!(remaining(&limiter.first_check(a, &lim, seed).await), want, "{name}: {seed:?}");
        }

        // Today's usage of 4 leaves one request, then the day is refused.
        let a = account();
        assert!(limiter.first_check(a, &lim, seed(today, 4, 4)).await.is_allowed(), "{name}");
        assert_denied(&limiter.check(a, &lim).await, LimitKind::Daily);
    }
}

/// A seed raises an account's counts to at least its own and never lowers them: a limiter may
/// hold requests the records do not show yet, and the records requests it did not count (the
/// local limiter's while Redis was unreachable).
#[tokio::test]
async fn a_seed_raises_counts_and_never_lowers_them() {
    let today = Utc::now().date_naive();
    let lim = limits(100, 10, 100);
    let local = wm_limits::LocalLimiter::new();
    let redis = common::redis_limiter().await;
    let (a, b) = (account(), account());
    for _ in 0..3 {
        local.decide(a, &lim);
        redis.check(b, &lim).await.unwrap();
    }
    for (seed, want) in [(seed(today, 1, 1), (96, 6, 96)), (seed(today, 7, 9), (95, 2, 90))] {
        local.seed(a, seed);
        let Checked::Decided(shared) = redis.check_seeded(b, &lim, Some(seed)).await.unwrap() else {
            panic!("decided with a seed");
        };
        assert_eq!(remaining(&local.decide_seeded(a, &lim).unwrap()), want, "local: {seed:?}");
        assert_eq!(remaining(&shared), want, "redis: {seed:?}");
    }
}
