//! Plan quotas enforced by the writes themselves: atomic under concurrency, all or nothing.

use super::fixtures::{all, archived, long, mem, owner, put, t};
use crate::conformance::join_all;
use crate::{ConsolidationRun, ConsolidationWrite, ImportOutcome, Quota, QuotaKind, Store, StoreError};
use uuid::Uuid;
use wm_domain::memory::{Memory, MemoryStatus};

/// Plenty of room in the limit a case does not exercise.
const ROOMY: u64 = 1 << 40;

/// A memory quota of `max` memories (bytes unlimited in practice).
fn memories_quota(max: u64) -> Option<Quota> {
    Some(Quota { max_memories: max, max_storage_bytes: ROOMY })
}

/// A storage quota of `max` bytes (memory count unlimited in practice).
fn bytes_quota(max: u64) -> Option<Quota> {
    Some(Quota { max_memories: ROOMY, max_storage_bytes: max })
}

/// `count` memories titled `{prefix} {i}` with a body of `body`.
fn many(prefix: &str, count: usize, body: &str) -> Vec<Memory> {
    (0..count).map(|i| mem(&format!("{prefix} {i}"), body, i as i64)).collect()
}

fn assert_refused<T: std::fmt::Debug>(
    res: Result<T, StoreError>,
    kind: QuotaKind,
    max: u64,
    current: u64,
    requested: u64,
) {
    match res {
        Err(StoreError::QuotaExceeded { kind: k, max: m, current: c, requested: r }) => {
            assert_eq!((k, m, c, r), (kind, max, current, requested), "the refusal's numbers");
        }
        other => panic!("expected QuotaExceeded {{ {kind:?}, {max}, {current}, {requested} }}, got {other:?}"),
    }
}

/// 16 creates racing for the last 2 places: exactly 2 succeed, the rest are refused with the
/// limit reached, and the account ends exactly at its limit — for an account already holding
/// memories and for a brand-new one (whose totals do not exist yet).
pub async fn memories_quota_concurrent_creates_stop_at_the_limit(s: &dyn Store) {
    const MAX: u64 = 20;
    const RACERS: usize = 16;
    let near = owner(s, "quota-race@example.com").await;
    put(s, near, many("held", MAX as usize - 2, "body")).await;
    let fresh = owner(s, "quota-race-fresh@example.com").await;

    for (u, max) in [(near, MAX), (fresh, 2)] {
        let racers: Vec<Memory> = many("racer", RACERS, "concurrent create");
        let results = join_all(
            racers.iter().map(|m| s.insert_memories(u, std::slice::from_ref(m), memories_quota(max))).collect(),
        )
        .await;
        let created = results.iter().filter(|r| r.is_ok()).count();
        for r in results.into_iter().filter(Result::is_err) {
            assert_refused(r, QuotaKind::Memories, max, max, 1);
        }
        assert_eq!(created, 2, "exactly the 2 creates that fit succeed (limit {max})");
        assert_eq!(s.memory_stats(u).await.unwrap().total(), max, "the account ends exactly at its limit");
        assert_eq!(s.list_memories(u, &all()).await.unwrap().len() as u64, max);
    }
}

/// A batch that would cross the memory limit is refused whole and changes nothing; one that
/// fits exactly is accepted; at the limit, writes that add nothing still pass.
pub async fn memories_quota_batch_is_all_or_nothing(s: &dyn Store) {
    let u = owner(s, "quota-batch@example.com").await;
    let held = put(s, u, many("held", 8, "body")).await;
    let before = s.memory_stats(u).await.unwrap();

    let res = s.insert_memories(u, &many("over", 3, "body"), memories_quota(10)).await;
    assert_refused(res, QuotaKind::Memories, 10, 8, 3);
    assert_eq!(s.memory_stats(u).await.unwrap(), before, "nothing inserted");
    assert_eq!(s.list_memories(u, &all()).await.unwrap().len(), 8);

    s.insert_memories(u, &many("fits", 2, "body"), memories_quota(10)).await.unwrap();
    assert_eq!(s.memory_stats(u).await.unwrap().total(), 10, "a batch that fits exactly");
    assert_refused(
        s.insert_memories(u, &many("one", 1, "body"), memories_quota(10)).await,
        QuotaKind::Memories,
        10,
        10,
        1,
    );
    s.insert_memories(u, &[], memories_quota(10)).await.unwrap();

    // At the limit: an update that does not grow, an archive and a delete are allowed.
    let mut same_size = held[0].clone();
    same_size.title = "HELD 0".into();
    same_size.refresh_derived();
    assert!(s.update_memory(u, &same_size, memories_quota(10)).await.unwrap());
    assert!(s.update_memory(u, &archived(held[1].clone(), 30), memories_quota(10)).await.unwrap());
    assert!(s.delete_memory(u, held[2].id).await.unwrap());
    s.insert_memories(u, &many("after delete", 1, "body"), memories_quota(10)).await.unwrap();
    assert_eq!(s.memory_stats(u).await.unwrap().total(), 10, "archived memories still count");
    assert!(!s.update_memory(u, &mem("ghost", "grows a lot", 1), memories_quota(10)).await.unwrap());
    s.insert_memories(u, &many("unchecked", 1, "body"), None).await.unwrap();
    assert_eq!(s.memory_stats(u).await.unwrap().total(), 11, "no quota: no check");
}

/// The storage quota: inserts and growing updates must fit (checked against the stored size),
/// shrinking is always allowed; a refused write changes nothing. Concurrent growth stops at the
/// limit too.
pub async fn memories_quota_storage_bytes(s: &dyn Store) {
    let u = owner(s, "quota-bytes@example.com").await;
    let big = mem("a", &"x".repeat(599), 1);
    assert_eq!(big.size_bytes, 600);
    s.insert_memories(u, std::slice::from_ref(&big), bytes_quota(1000)).await.unwrap();

    let res = s.insert_memories(u, &[mem("b", &"y".repeat(400), 2)], bytes_quota(1000)).await;
    assert_refused(res, QuotaKind::StorageBytes, 1000, 600, 401);
    let res = s.insert_memories(u, &many("two", 2, &"z".repeat(199)), bytes_quota(1000)).await;
    assert_refused(res, QuotaKind::StorageBytes, 1000, 600, 2 * (5 + 199));
    assert_eq!(s.memory_stats(u).await.unwrap().storage_bytes, 600, "nothing inserted");
    s.insert_memories(u, &[mem("c", &"z".repeat(399), 3)], bytes_quota(1000)).await.unwrap();
    assert_eq!(s.memory_stats(u).await.unwrap().storage_bytes, 1000, "exactly at the limit");

    let mut grown = big.clone();
    grown.content = "x".repeat(600);
    grown.refresh_derived();
    assert_refused(s.update_memory(u, &grown, bytes_quota(1000)).await, QuotaKind::StorageBytes, 1000, 1000, 1);
    assert_eq!(s.get_memory(u, big.id).await.unwrap(), Some(big.clone()), "a refused update changes nothing");

    let mut shrunk = big.clone();
    shrunk.content = "short".into();
    shrunk.refresh_derived();
    assert!(s.update_memory(u, &shrunk, bytes_quota(1000)).await.unwrap(), "shrinking is always allowed");
    assert_eq!(s.memory_stats(u).await.unwrap().storage_bytes, 406);
    // Growth is measured against the stored size (6 bytes now).
    let mut regrown = big.clone();
    regrown.content = "x".repeat(300);
    regrown.refresh_derived();
    assert!(s.update_memory(u, &regrown, bytes_quota(1000)).await.unwrap(), "growth that fits");
    assert_eq!(s.memory_stats(u).await.unwrap().storage_bytes, 701);

    // 8 concurrent inserts of 100 bytes with 299 left: exactly 2 fit.
    let racers = many("r", 8, &"w".repeat(97));
    assert!(racers.iter().all(|m| m.size_bytes == 100));
    let results =
        join_all(racers.iter().map(|m| s.insert_memories(u, std::slice::from_ref(m), bytes_quota(1000))).collect())
            .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    for r in results.into_iter().filter(Result::is_err) {
        assert_refused(r, QuotaKind::StorageBytes, 1000, 901, 100);
    }
    assert_eq!(s.memory_stats(u).await.unwrap().storage_bytes, 901);
}

/// Import counts only what it creates (skipped ids add nothing) and is refused whole when that
/// does not fit; a consolidation whose inserts do not fit applies nothing and logs nothing.
pub async fn memories_quota_import_and_consolidation(s: &dyn Store) {
    let u = owner(s, "quota-import@example.com").await;
    let held = put(s, u, many("held", 3, "body")).await;

    let fresh = mem("fresh", "imported", 5);
    let out = s.import_memories(u, &[held[0].clone(), fresh.clone()], memories_quota(4)).await.unwrap();
    assert_eq!(out, vec![ImportOutcome::Skipped, ImportOutcome::Created], "the skipped id adds nothing");
    let res = s.import_memories(u, &[held[1].clone(), mem("one", "", 6), mem("two", "", 7)], memories_quota(5)).await;
    assert_refused(res, QuotaKind::Memories, 5, 4, 2);
    assert_eq!(s.memory_stats(u).await.unwrap().total(), 4, "nothing imported");
    let out = s.import_memories(u, &[held[1].clone(), fresh.clone()], memories_quota(4)).await.unwrap();
    assert_eq!(out, vec![ImportOutcome::Skipped, ImportOutcome::Skipped], "nothing added: allowed at the limit");

    let before: Vec<Memory> = s.list_memories(u, &all()).await.unwrap();
    let log =
        |at| ConsolidationRun { id: Uuid::now_v7(), ran_at: t(at), dry_run: false, report: serde_json::json!({}) };
    let write = |at, insert: Vec<Memory>| ConsolidationWrite {
        retag: vec![(held[0].id, vec!["merged".into()])],
        archive: vec![held[1].id],
        insert,
        at: t(at),
        log: log(at),
    };
    let res = s
        .apply_consolidation(u, &write(50, vec![long(mem("digest", "of the held ones", 50))]), memories_quota(4))
        .await;
    assert_refused(res, QuotaKind::Memories, 4, 4, 1);
    assert_eq!(s.list_memories(u, &all()).await.unwrap(), before, "nothing retagged or archived");
    assert!(s.list_consolidations(u, 10).await.unwrap().is_empty(), "no log for a refused run");

    s.apply_consolidation(u, &write(60, Vec::new()), memories_quota(4)).await.unwrap();
    let archived_one = s.get_memory(u, held[1].id).await.unwrap().unwrap();
    assert_eq!(archived_one.status, MemoryStatus::Archived, "a run adding nothing is allowed at the limit");
    s.apply_consolidation(u, &write(70, vec![long(mem("digest", "fits", 70))]), memories_quota(5)).await.unwrap();
    assert_eq!(s.memory_stats(u).await.unwrap().total(), 5);
    assert_eq!(s.list_consolidations(u, 10).await.unwrap().len(), 2);
}
