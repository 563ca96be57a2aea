//! Cost of one rate-limit check.
//!
//! `cargo bench -p wm-limits --bench limiter`. The `redis` group runs only when
//! `WM_TEST_REDIS_URL` points at a Redis (it measures a full round trip).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use uuid::Uuid;
use wm_limits::{Limiter, Limits, LocalLimiter, RedisLimiter};

/// The account every check of the single-account benchmarks is for.
const HOT: Uuid = Uuid::from_u128(0x0193_a7c2_0000_7000_8000_0000_0000_0001);

/// High enough that the hot account is never denied during a run.
const OPEN: Limits = Limits { per_minute: 60_000_000, daily: u64::MAX, monthly: u64::MAX };

/// A real plan (starter), so most checks of a hot account are denials.
const STARTER: Limits = Limits { per_minute: 60, daily: 5_000, monthly: 100_000 };

fn local(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut group = c.benchmark_group("local");

    let limiter = LocalLimiter::new();
    group.bench_function("check/allowed", |b| {
        b.to_async(&runtime).iter(|| async { black_box(limiter.check(black_box(HOT), &OPEN).await) });
    });

    let limiter = LocalLimiter::new();
    group.bench_function("check/denied", |b| {
        b.to_async(&runtime).iter(|| async { black_box(limiter.check(black_box(HOT), &STARTER).await) });
    });

    let limiter = LocalLimiter::new();
    let accounts: Vec<Uuid> = (0..10_000).map(|_| Uuid::new_v4()).collect();
    let mut next = 0;
    group.bench_function("check/10k_accounts", |b| {
        b.to_async(&runtime).iter(|| {
            next = (next + 1) % accounts.len();
            let account = accounts[next];
            let limiter = &limiter;
            async move { black_box(limiter.check(account, &OPEN).await) }
        });
    });

    let limiter = LocalLimiter::new();
    group.bench_function("decide/allowed", |b| {
        b.iter(|| black_box(limiter.decide(black_box(HOT), &OPEN)));
    });
    group.finish();
}

fn redis(c: &mut Criterion) {
    let Some(url) = std::env::var_os("WM_TEST_REDIS_URL") else {
        return;
    };
    let url = url.to_string_lossy().into_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let limiter = runtime.block_on(RedisLimiter::connect(&url)).expect("connect to Redis");
    let account = Uuid::new_v4();
    let mut group = c.benchmark_group("redis");
    group.bench_function("check/allowed", |b| {
        b.to_async(&runtime).iter(|| async { black_box(limiter.check(account, &OPEN).await.expect("redis")) });
    });
    group.finish();
    runtime.block_on(limiter.reset(account)).expect("reset the bench account");
}

criterion_group!(benches, local, redis);
criterion_main!(benches);
