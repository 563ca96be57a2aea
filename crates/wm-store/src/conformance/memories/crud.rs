//! CRUD, batch atomicity, import, touch and owner isolation.

use super::fixtures::{all, archived, long, mem, owner, put, scoped, t, tagged};
use crate::{ConsolidationRun, ImportOutcome, MemoryQuery, MemoryStats, SearchQuery, StatusFilter, Store, StoreError};
use serde_json::json;
use wm_domain::memory::{Memory, MemoryStatus, MemoryType};

/// A memory exercising every field: unicode, nested metadata, tag order, odd microseconds.
fn rich() -> Memory {
    let mut m = tagged(
        mem("Ünïcödé 日本語 title — “quotes” 🎉", "# Heading\n\nBody with\ttabs\nand ' \" \\ chars", 1),
        &["zeta", "alpha", "mid_dle"],
    );
    m.metadata = json!({"nested": {"list": [1, 2.5, "x", null, true], "deep": {"k": "v"}}, "emoji": "🦀", "n": -7})
        .as_object()
        .unwrap()
        .clone();
    m.created_at = t(1) + chrono::Duration::microseconds(1);
    m.updated_at = t(2) + chrono::Duration::microseconds(3);
    m.accessed_at = t(3) + chrono::Duration::microseconds(7);
    m.refresh_derived();
    m
}

/// Insert, get, update and delete keep every field exactly (unicode, metadata, microseconds).
pub async fn memories_crud_round_trip(s: &dyn Store) {
    let u = owner(s, "crud@example.com").await;
    let plain = rich();
    let other = scoped(archived(long(mem("Second", "two", 5)), 9), "user:42");
    s.insert_memories(u, &[plain.clone(), other.clone()], None).await.unwrap();
    assert_eq!(s.get_memory(u, plain.id).await.unwrap(), Some(plain.clone()), "every field survives");
    assert_eq!(s.get_memory(u, other.id).await.unwrap(), Some(other.clone()));
    assert_eq!(s.get_memory(u, uuid::Uuid::now_v7()).await.unwrap(), None);

    let mut changed = plain.clone();
    changed.title = "New title".into();
    changed.content = "new content".into();
    changed.memory_type = MemoryType::LongTerm;
    changed.tags = vec!["b".into(), "a".into()];
    changed.metadata = json!({"v": 2}).as_object().unwrap().clone();
    changed.scope = Some("agent:7".into());
    changed.updated_at = t(50);
    changed.accessed_at = t(51);
    changed.archive(t(52));
    changed.refresh_derived();
    assert!(s.update_memory(u, &changed, None).await.unwrap());
    assert_eq!(s.get_memory(u, plain.id).await.unwrap(), Some(changed.clone()));
    changed.restore(t(60));
    changed.scope = None;
    assert!(s.update_memory(u, &changed, None).await.unwrap());
    assert_eq!(s.get_memory(u, plain.id).await.unwrap(), Some(changed.clone()), "scope back to null");

    let ghost = mem("Ghost", "", 1);
    assert!(!s.update_memory(u, &ghost, None).await.unwrap(), "update of a missing memory");
    assert!(s.delete_memory(u, plain.id).await.unwrap());
    assert_eq!(s.get_memory(u, plain.id).await.unwrap(), None);
    assert!(!s.delete_memory(u, plain.id).await.unwrap(), "second delete finds nothing");
    assert_eq!(s.memory_stats(u).await.unwrap().total(), 1);
}

/// A batch with a taken or repeated id is a `Conflict` and inserts nothing.
pub async fn memories_batch_insert_is_all_or_nothing(s: &dyn Store) {
    let u = owner(s, "batch@example.com").await;
    let a = mem("A", "a", 1);
    let mut dup = mem("A again", "a2", 2);
    dup.id = a.id;
    let res = s.insert_memories(u, &[a.clone(), mem("B", "b", 3), dup], None).await;
    assert!(matches!(res, Err(StoreError::Conflict(_))), "{res:?}");
    assert_eq!(s.memory_stats(u).await.unwrap(), MemoryStats::default(), "nothing inserted");
    assert!(s.list_memories(u, &all()).await.unwrap().is_empty());

    put(s, u, vec![a.clone()]).await;
    let again = s.insert_memories(u, &[mem("C", "c", 4), a.clone()], None).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(s.memory_stats(u).await.unwrap().total(), 1, "C rolled back");
    s.insert_memories(u, &[], None).await.unwrap();
}

/// Import creates free ids exactly, skips the owner's own ids and reports other owners' as taken.
pub async fn memories_import_outcomes(s: &dyn Store) {
    let a = owner(s, "imp-a@example.com").await;
    let b = owner(s, "imp-b@example.com").await;
    let m1 = rich();
    let m2 = scoped(archived(long(tagged(mem("Two", "second", 7), &["x"])), 8), "s:1");
    let out = s.import_memories(a, &[m1.clone(), m2.clone()], None).await.unwrap();
    assert_eq!(out, vec![ImportOutcome::Created, ImportOutcome::Created]);
    assert_eq!(s.get_memory(a, m1.id).await.unwrap(), Some(m1.clone()), "imported exactly");
    assert_eq!(s.get_memory(a, m2.id).await.unwrap(), Some(m2.clone()));

    let mut edited = m1.clone();
    edited.title = "Changed elsewhere".into();
    let again = s.import_memories(a, &[edited, m2.clone()], None).await.unwrap();
    assert_eq!(again, vec![ImportOutcome::Skipped, ImportOutcome::Skipped]);
    assert_eq!(s.get_memory(a, m1.id).await.unwrap(), Some(m1.clone()), "skipped rows are untouched");

    let m3 = mem("Three", "third", 9);
    let theirs = s.import_memories(b, &[m1.clone(), m3.clone()], None).await.unwrap();
    assert_eq!(theirs, vec![ImportOutcome::IdTaken, ImportOutcome::Created]);
    assert_eq!(s.get_memory(b, m1.id).await.unwrap(), None);
    assert_eq!(s.get_memory(b, m3.id).await.unwrap(), Some(m3));
    assert_eq!(s.memory_stats(a).await.unwrap().total(), 2);
}

/// `touch_memories` only moves `accessed_at` forward and leaves `updated_at` alone.
pub async fn memories_touch_moves_forward_only(s: &dyn Store) {
    let u = owner(s, "touch@example.com").await;
    let [m1, m2, m3] =
        <[Memory; 3]>::try_from(put(s, u, vec![mem("One", "1", 10), mem("Two", "2", 10), mem("Three", "3", 30)]).await)
            .unwrap();
    s.touch_memories(u, &[m1.id, m3.id], t(20)).await.unwrap();
    let got = |id| async move { s.get_memory(u, id).await.unwrap().unwrap() };
    assert_eq!(got(m1.id).await.accessed_at, t(20));
    assert_eq!(got(m1.id).await.updated_at, t(10), "touch is not an update");
    assert_eq!(got(m2.id).await.accessed_at, t(10), "not touched");
    assert_eq!(got(m3.id).await.accessed_at, t(30), "never moves backwards");
    s.touch_memories(u, &[], t(40)).await.unwrap();
    let many: Vec<_> = (0..700).map(|_| uuid::Uuid::now_v7()).chain([m2.id]).collect();
    s.touch_memories(u, &many, t(40)).await.unwrap();
    assert_eq!(got(m2.id).await.accessed_at, t(40), "large id lists work");
}

/// No method lets one account see or change another account's memories.
pub async fn memories_are_isolated_by_owner(s: &dyn Store) {
    let a = owner(s, "iso-a@example.com").await;
    let b = owner(s, "iso-b@example.com").await;
    let m = tagged(mem("Secret zebra plans", "zebra content", 5), &["private"]);
    put(s, a, vec![m.clone()]).await;
    s.log_consolidation(
        a,
        &ConsolidationRun { id: uuid::Uuid::now_v7(), ran_at: t(6), dry_run: true, report: json!({}) },
    )
    .await
    .unwrap();

    assert_eq!(s.get_memory(b, m.id).await.unwrap(), None);
    let mut hijack = m.clone();
    hijack.title = "Owned".into();
    assert!(!s.update_memory(b, &hijack, None).await.unwrap());
    assert!(!s.delete_memory(b, m.id).await.unwrap());
    s.touch_memories(b, &[m.id], t(99)).await.unwrap();
    let all_statuses = MemoryQuery { status: StatusFilter::All, ..all() };
    assert!(s.list_memories(b, &all_statuses).await.unwrap().is_empty());
    for text in [Some("zebra"), None] {
        let q = SearchQuery { text: text.map(Into::into), include_archived: true, limit: 10, ..Default::default() };
        assert!(s.search_memories(b, &q).await.unwrap().is_empty(), "{text:?}");
    }
    assert!(s.tag_counts(b).await.unwrap().is_empty());
    assert_eq!(s.memory_stats(b).await.unwrap(), MemoryStats::default());
    assert!(s.list_consolidations(b, 10).await.unwrap().is_empty());
    let w = crate::ConsolidationWrite {
        retag: vec![(m.id, vec!["pwned".into()])],
        archive: vec![m.id],
        insert: vec![],
        at: t(100),
        log: ConsolidationRun { id: uuid::Uuid::now_v7(), ran_at: t(100), dry_run: false, report: json!({}) },
    };
    s.apply_consolidation(b, &w, None).await.unwrap();
    let taken = s.insert_memories(b, std::slice::from_ref(&m), None).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "ids are global: {taken:?}");

    assert_eq!(s.get_memory(a, m.id).await.unwrap(), Some(m.clone()), "A's memory is untouched");
    assert_eq!(s.get_memory(a, m.id).await.unwrap().unwrap().status, MemoryStatus::Active);
    assert_eq!(s.list_consolidations(a, 10).await.unwrap().len(), 1);
}

/// Concurrent batch inserts into one account all succeed: writers wait for each other instead of
/// failing (SQLite: a deferred transaction upgraded from a stale read snapshot fails at once).
pub async fn memories_concurrent_batches_all_succeed(s: &dyn Store) {
    let u = owner(s, "concurrent@example.com").await;
    for round in 0..3 {
        let batches: Vec<Vec<Memory>> = (0..8)
            .map(|b| (0..25).map(|i| mem(&format!("r{round} b{b} m{i}"), "concurrent body text", i)).collect())
            .collect();
        let results =
            crate::conformance::join_all(batches.iter().map(|ms| s.insert_memories(u, ms, None)).collect()).await;
        for r in results {
            r.unwrap_or_else(|e| panic!("round {round}: a concurrent batch failed: {e}"));
        }
    }
    let stats = s.memory_stats(u).await.unwrap();
    assert_eq!(stats.total(), 3 * 8 * 25);
    assert_eq!(
        s.search_memories(u, &SearchQuery { text: Some("concurrent".into()), limit: 5, ..Default::default() })
            .await
            .unwrap()
            .len(),
        5
    );
}

/// Creates that run together succeed or fail one by one (SQLite writes creates that wait together
/// in one transaction): a create reusing an id fails alone with `Conflict`, a batch holding such
/// a create fails whole, and every other create is stored.
pub async fn memories_concurrent_creates_fail_alone(s: &dyn Store) {
    let u = owner(s, "together@example.com").await;
    let taken = put(s, u, vec![mem("already here", "body", 0)]).await.remove(0);
    let mut creates: Vec<Vec<Memory>> =
        (0..10).map(|i| vec![mem(&format!("single {i}"), "together body", i)]).collect();
    let mut reused = mem("reuses an id", "body", 20);
    reused.id = taken.id;
    creates.insert(3, vec![reused.clone()]);
    creates.insert(7, vec![mem("batch ok", "body", 21), reused]);
    let results = crate::conformance::join_all(creates.iter().map(|ms| s.insert_memories(u, ms, None)).collect()).await;
    for (i, (ms, r)) in creates.iter().zip(&results).enumerate() {
        if i == 3 || i == 7 {
            assert!(matches!(r, Err(StoreError::Conflict(_))), "create {i} reuses an id: {r:?}");
            for m in ms.iter().filter(|m| m.id != taken.id) {
                assert_eq!(s.get_memory(u, m.id).await.unwrap(), None, "create {i} failed whole");
            }
        } else {
            r.as_ref().unwrap_or_else(|e| panic!("create {i} failed: {e}"));
            assert_eq!(s.get_memory(u, ms[0].id).await.unwrap().as_ref(), Some(&ms[0]), "create {i}");
        }
    }
    assert_eq!(s.get_memory(u, taken.id).await.unwrap(), Some(taken), "the existing memory is untouched");
    assert_eq!(s.memory_stats(u).await.unwrap().total(), 11);
}
