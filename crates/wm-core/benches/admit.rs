//! Per-request cost of plan enforcement (what the HTTP middleware adds to a metered request):
//! plan lookup + in-process limiter check + usage count, and rendering the rate-limit headers.
//!
//! `cargo bench -p wm-core --bench admit`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use wm_core::{AccountsConfig, Core};
use wm_domain::SystemClock;
use wm_domain::account::Principal;
use wm_domain::email::Email;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanFeatures;
use wm_domain::usage::EndpointGroup;
use wm_limits::RateLimitHeaders;
use wm_store::Backend;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("wm-bench-admit-{}", std::process::id()));
    let url = format!("sqlite://{}/bench.db", dir.display());
    let (core, who) = rt.block_on(async {
        let store = wm_store_sqlite::SqliteStore::connect(&url).await.unwrap();
        store.migrate_up().await.unwrap();
        let core = Core::new(Arc::new(store), Arc::new(SystemClock), AccountsConfig::default());
        let key = core.accounts.create_admin_key(&Email::parse("bench@example.com").unwrap(), "bench").await.unwrap();
        let who = core.accounts.authenticate(key.key.expose()).await.unwrap();
        let open = serde_json::json!({ "per_minute": 60_000_000u64, "daily": 1u64 << 50, "monthly": 1u64 << 50, "memories": 1, "storage_bytes": 1 });
        let input = serde_json::from_value(open).unwrap();
        core.limits.put_plan(&who.plan, &input).await.unwrap();
        (core, who)
    });

    c.bench_function("admit/plan_lookup", |b| {
        b.to_async(&rt).iter(|| async { black_box(core.limits.plan(&who.plan).await.unwrap()) })
    });
    c.bench_function("admit/admit_and_record", |b| {
        b.to_async(&rt).iter(|| async {
            let d = core.admit(&who, PlanFeatures::REST_API, EndpointGroup::Account).await.unwrap();
            core.limits.record(&who, EndpointGroup::Account, 200);
            black_box(d)
        })
    });
    let decision = rt.block_on(core.admit(&who, PlanFeatures::REST_API, EndpointGroup::Account)).unwrap().unwrap();
    c.bench_function("admit/headers", |b| b.iter(|| black_box(RateLimitHeaders::new(black_box(&decision)).pairs())));
    // A usage report (what a limiter's seed reads too) while 20,000 other accounts' counts wait
    // for the next flush.
    rt.block_on(core.flush());
    for _ in 0..20_000 {
        let other = Principal { user_id: UserId::new(), ..who.clone() };
        core.limits.record(&other, EndpointGroup::Account, 200);
    }
    c.bench_function("admit/usage_among_20k_pending", |b| {
        b.to_async(&rt).iter(|| async { black_box(core.limits.usage(who.user_id, 1).await.unwrap()) })
    });
    rt.block_on(core.flush());
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
