//! Tag counts, statistics and consolidation.

use super::fixtures::{archived, long, mem, owner, put, t, tagged};
use crate::{ConsolidationRun, ConsolidationWrite, MemoryStats, Store, StoreError, TagCount};
use serde_json::json;
use uuid::Uuid;
use wm_domain::memory::{MemoryStatus, MemoryType};

/// Tag counts: per tag, count and sorted types; most used first, then by name.
pub async fn memories_tag_counts(s: &dyn Store) {
    let u = owner(s, "tags@example.com").await;
    assert!(s.tag_counts(u).await.unwrap().is_empty());
    put(
        s,
        u,
        vec![
            tagged(mem("1", "", 1), &["rust", "db"]),
            long(tagged(mem("2", "", 2), &["rust"])),
            archived(tagged(mem("3", "", 3), &["db", "zeta"]), 4),
            tagged(mem("4", "", 5), &["rust", "alpha"]),
            mem("5", "", 6),
        ],
    )
    .await;
    let tc = |tag: &str, count: u64, types: &[MemoryType]| TagCount { tag: tag.into(), count, types: types.to_vec() };
    let (st, lt) = (MemoryType::ShortTerm, MemoryType::LongTerm);
    assert_eq!(
        s.tag_counts(u).await.unwrap(),
        vec![tc("rust", 3, &[lt, st]), tc("db", 2, &[st]), tc("alpha", 1, &[st]), tc("zeta", 1, &[st]),]
    );
}

/// Stats: counts by type and status, UTF-8 storage bytes, oldest and newest.
pub async fn memories_stats_counts(s: &dyn Store) {
    let u = owner(s, "stats@example.com").await;
    assert_eq!(s.memory_stats(u).await.unwrap(), MemoryStats::default());
    let ms = put(
        s,
        u,
        vec![
            mem("a", "12345", 5),
            mem("bb", "", 1),
            archived(mem("c", "xyz", 9), 10),
            long(mem("d", "ünï", 3)),
            archived(long(mem("e", "", 7)), 8),
            archived(long(mem("f", "", 2)), 8),
        ],
    )
    .await;
    let stats = s.memory_stats(u).await.unwrap();
    assert_eq!(
        stats,
        MemoryStats {
            short_term_active: 2,
            short_term_archived: 1,
            long_term_active: 1,
            long_term_archived: 2,
            storage_bytes: ms.iter().map(|m| m.size_bytes).sum(),
            oldest: Some(t(1)),
            newest: Some(t(9)),
        }
    );
    assert_eq!(stats.storage_bytes, 6 + 2 + 4 + 6 + 1 + 1, "UTF-8 bytes of title + content");
    assert_eq!(stats.total(), 6);
}

/// Stats recounted from a full listing: what `memory_stats` must report.
async fn recount(s: &dyn Store, u: wm_domain::ids::UserId) -> MemoryStats {
    let q = crate::MemoryQuery { limit: 100, status: crate::StatusFilter::All, ..Default::default() };
    let mut st = MemoryStats::default();
    for m in s.list_memories(u, &q).await.unwrap() {
        match (m.memory_type, m.status) {
            (MemoryType::ShortTerm, MemoryStatus::Active) => st.short_term_active += 1,
            (MemoryType::ShortTerm, MemoryStatus::Archived) => st.short_term_archived += 1,
            (MemoryType::LongTerm, MemoryStatus::Active) => st.long_term_active += 1,
            (MemoryType::LongTerm, MemoryStatus::Archived) => st.long_term_archived += 1,
        }
        st.storage_bytes += m.size_bytes;
        st.oldest = Some(st.oldest.map_or(m.created_at, |o| o.min(m.created_at)));
        st.newest = Some(st.newest.map_or(m.created_at, |n| n.max(m.created_at)));
    }
    st
}

/// Stats stay exact through every kind of write: insert, update (type, status, size), delete,
/// import, consolidation — and another account's writes never count.
pub async fn memories_stats_follow_every_write(s: &dyn Store) {
    let u = owner(s, "statswrites@example.com").await;
    let other = owner(s, "statsother@example.com").await;
    let check = |step: &'static str| async move {
        assert_eq!(s.memory_stats(u).await.unwrap(), recount(s, u).await, "after {step}");
    };
    let [a, b, c] = <[_; 3]>::try_from(
        put(s, u, vec![mem("a", "first body", 5), mem("b", "second", 2), long(mem("c", "third ünï", 8))]).await,
    )
    .unwrap();
    put(s, other, vec![mem("x", "someone else", 1)]).await;
    check("insert").await;
    let mut changed = a.clone();
    changed.memory_type = MemoryType::LongTerm;
    changed.content = "a much longer body than before".into();
    changed.refresh_derived();
    assert!(s.update_memory(u, &changed, None).await.unwrap());
    check("update of type and size").await;
    assert!(s.update_memory(u, &archived(b.clone(), 9), None).await.unwrap());
    check("archive").await;
    assert!(s.update_memory(u, &b, None).await.unwrap());
    check("restore").await;
    s.touch_memories(u, &[b.id, c.id], t(50)).await.unwrap();
    check("touch").await;
    assert!(s.delete_memory(u, c.id).await.unwrap());
    check("delete").await;
    assert!(s.delete_memory(u, c.id).await.is_ok_and(|d| !d), "deleted once");
    s.import_memories(u, &[mem("imported", "from a zip", 1), b.clone()], None).await.unwrap();
    check("import (one new, one skipped)").await;
    s.apply_consolidation(
        u,
        &ConsolidationWrite {
            retag: vec![(b.id, vec!["kept".into()])],
            archive: vec![b.id, a.id],
            insert: vec![long(mem("digest", "digest of the batch", 20))],
            at: t(21),
            log: run(21, false),
        },
        None,
    )
    .await
    .unwrap();
    check("consolidation").await;
    assert_eq!(s.memory_stats(other).await.unwrap().total(), 1, "the other account is untouched");
    for m in s
        .list_memories(u, &crate::MemoryQuery { limit: 100, status: crate::StatusFilter::All, ..Default::default() })
        .await
        .unwrap()
    {
        assert!(s.delete_memory(u, m.id).await.unwrap());
    }
    assert_eq!(s.memory_stats(u).await.unwrap(), MemoryStats::default(), "empty again");
}

fn run(at: i64, dry_run: bool) -> ConsolidationRun {
    ConsolidationRun {
        id: Uuid::now_v7(),
        ran_at: t(at),
        dry_run,
        report: json!({"archived": at, "items": [{"k": "v"}]}),
    }
}

/// Consolidation applies retag/archive/insert and its log atomically; runs list newest first.
pub async fn memories_consolidation_apply_and_log(s: &dyn Store) {
    let u = owner(s, "consol@example.com").await;
    let [old, insight, keeper, done] = <[_; 4]>::try_from(
        put(
            s,
            u,
            vec![
                mem("old", "same", 1),
                tagged(mem("insight", "learned", 2), &["insight"]),
                tagged(mem("keeper", "same", 0), &["a"]),
                archived(mem("done", "", 1), 3),
            ],
        )
        .await,
    )
    .unwrap();
    let dry = run(50, true);
    s.log_consolidation(u, &dry).await.unwrap();
    assert_eq!(s.get_memory(u, old.id).await.unwrap(), Some(old.clone()), "a dry run changes nothing");

    let promoted = long(tagged(mem("insight (promoted)", "learned", 100), &["insight"]));
    let real = run(100, false);
    let write = ConsolidationWrite {
        retag: vec![(keeper.id, vec!["a".into(), "b".into()])],
        archive: vec![old.id, insight.id, done.id],
        insert: vec![promoted.clone()],
        at: t(100),
        log: real.clone(),
    };
    s.apply_consolidation(u, &write, None).await.unwrap();
    let get = |id| async move { s.get_memory(u, id).await.unwrap().unwrap() };
    for id in [old.id, insight.id] {
        let m = get(id).await;
        assert_eq!((m.status, m.archived_at, m.updated_at), (MemoryStatus::Archived, Some(t(100)), t(100)));
    }
    assert_eq!(get(done.id).await, done, "already archived: untouched");
    let k = get(keeper.id).await;
    assert_eq!(
        (k.tags, k.updated_at, k.status),
        (vec!["a".to_string(), "b".to_string()], t(100), MemoryStatus::Active)
    );
    assert_eq!(get(promoted.id).await, promoted);
    assert_eq!(s.list_consolidations(u, 10).await.unwrap(), vec![real.clone(), dry.clone()], "newest first");
    assert_eq!(s.list_consolidations(u, 1).await.unwrap(), vec![real.clone()]);
    let tags = s.tag_counts(u).await.unwrap();
    assert!(tags.iter().any(|t| t.tag == "b" && t.count == 1), "retag updates tag stats: {tags:?}");

    // A failing write (the insert's id is taken) leaves everything as it was.
    let bad = ConsolidationWrite {
        retag: vec![(keeper.id, vec!["zzz".into()])],
        archive: vec![keeper.id],
        insert: vec![promoted.clone()],
        at: t(200),
        log: run(200, false),
    };
    let res = s.apply_consolidation(u, &bad, None).await;
    assert!(matches!(res, Err(StoreError::Conflict(_))), "{res:?}");
    let k = get(keeper.id).await;
    assert_eq!((k.tags.len(), k.status), (2, MemoryStatus::Active), "rolled back");
    assert_eq!(s.list_consolidations(u, 10).await.unwrap().len(), 2, "no log for a failed run");
}
