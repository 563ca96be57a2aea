//! Key verification cost: parse + SHA-256 + cache hit (the per-request path), and the parts alone.

use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;
use wm_core::{AccountsConfig, Core};
use wm_domain::SystemClock;
use wm_domain::api_key::ApiKey;
use wm_domain::email::Email;
use wm_store::Backend;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("wm-bench-{}", std::process::id()));
    let url = format!("sqlite://{}/bench.db", dir.display());
    let (core, raw) = rt.block_on(async {
        let store = wm_store_sqlite::SqliteStore::connect(&url).await.unwrap();
        store.migrate_up().await.unwrap();
        let core = Core::new(Arc::new(store), Arc::new(SystemClock), AccountsConfig::default());
        let key = core.accounts.create_admin_key(&Email::parse("bench@example.com").unwrap(), "bench").await.unwrap();
        let raw = key.key.expose().to_owned();
        core.accounts.authenticate(&raw).await.unwrap();
        (core, raw)
    });

    c.bench_function("auth/parse_key", |b| b.iter(|| ApiKey::parse(std::hint::black_box(&raw)).unwrap()));
    let key = ApiKey::parse(&raw).unwrap();
    c.bench_function("auth/sha256_key", |b| b.iter(|| std::hint::black_box(&key).hash()));
    c.bench_function("auth/authenticate_cache_hit", |b| {
        b.to_async(&rt).iter(|| async { core.accounts.authenticate(std::hint::black_box(&raw)).await.unwrap() })
    });
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
