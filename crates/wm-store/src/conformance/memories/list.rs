//! Listing: filters, sorts, keyset pagination.

use super::fixtures::{all, archived, list_titles, long, mem, owner, put, scoped, t, tagged};
use crate::{ListCursor, MemoryQuery, SortField, SortOrder, StatusFilter, Store};
use std::collections::HashSet;
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::{Memory, MemoryType};

/// Listing filters: status, type, all-of tags, scope, limit.
pub async fn memories_list_filters(s: &dyn Store) {
    let u = owner(s, "filters@example.com").await;
    put(
        s,
        u,
        vec![
            tagged(mem("s1", "", 1), &["rust", "db"]),
            long(tagged(mem("l1", "", 2), &["rust"])),
            scoped(tagged(mem("s2", "", 3), &["db", "rust", "x"]), "user:1"),
            archived(tagged(mem("a1", "", 4), &["rust", "db"]), 5),
            long(scoped(mem("l2", "", 6), "user:2")),
        ],
    )
    .await;
    let q = |f: fn(&mut MemoryQuery)| {
        let mut q = all();
        f(&mut q);
        q
    };
    assert_eq!(list_titles(s, u, all()).await, ["l2", "s2", "l1", "s1"], "active, newest first");
    assert_eq!(list_titles(s, u, q(|q| q.status = StatusFilter::Archived)).await, ["a1"]);
    assert_eq!(list_titles(s, u, q(|q| q.status = StatusFilter::All)).await, ["l2", "a1", "s2", "l1", "s1"]);
    assert_eq!(list_titles(s, u, q(|q| q.memory_type = Some(MemoryType::LongTerm))).await, ["l2", "l1"]);
    assert_eq!(list_titles(s, u, q(|q| q.memory_type = Some(MemoryType::ShortTerm))).await, ["s2", "s1"]);
    assert_eq!(list_titles(s, u, q(|q| q.tags = vec!["rust".into()])).await, ["s2", "l1", "s1"]);
    assert_eq!(list_titles(s, u, q(|q| q.tags = vec!["rust".into(), "db".into()])).await, ["s2", "s1"], "all tags");
    assert_eq!(list_titles(s, u, q(|q| q.tags = vec!["rust".into(), "nope".into()])).await, Vec::<String>::new());
    assert_eq!(list_titles(s, u, q(|q| q.scope = Some("user:1".into()))).await, ["s2"]);
    let combined = q(|q| {
        q.tags = vec!["db".into()];
        q.status = StatusFilter::All;
        q.memory_type = Some(MemoryType::ShortTerm);
    });
    assert_eq!(list_titles(s, u, combined).await, ["a1", "s2", "s1"]);
    assert_eq!(list_titles(s, u, q(|q| q.limit = 2)).await, ["l2", "s2"]);
}

/// Listing sorts by created/updated/accessed in both directions, ties broken by id.
pub async fn memories_list_sorts(s: &dyn Store) {
    let u = owner(s, "sorts@example.com").await;
    let stamp = |title: &str, c: i64, up: i64, acc: i64| {
        let mut m = mem(title, "", c);
        m.updated_at = t(up);
        m.accessed_at = t(acc);
        m
    };
    put(s, u, vec![stamp("m1", 1, 30, 20), stamp("m2", 2, 10, 30), stamp("m3", 3, 20, 10)]).await;
    let cases = [
        (SortField::Created, ["m1", "m2", "m3"]),
        (SortField::Updated, ["m2", "m3", "m1"]),
        (SortField::Accessed, ["m3", "m1", "m2"]),
    ];
    for (sort, asc) in cases {
        let q = MemoryQuery { sort, order: SortOrder::Asc, ..all() };
        assert_eq!(list_titles(s, u, q).await, asc, "{sort:?} asc");
        let q = MemoryQuery { sort, order: SortOrder::Desc, ..all() };
        let desc: Vec<_> = asc.iter().rev().copied().collect();
        assert_eq!(list_titles(s, u, q).await, desc, "{sort:?} desc");
    }

    let v = owner(s, "ties@example.com").await;
    let tied = put(s, v, (0..4).map(|i| mem(&format!("t{i}"), "", 7)).collect()).await;
    let mut by_id: Vec<Uuid> = tied.iter().map(|m| m.id).collect();
    by_id.sort();
    let ids = |ms: Vec<Memory>| ms.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let asc = MemoryQuery { order: SortOrder::Asc, ..all() };
    assert_eq!(ids(s.list_memories(v, &asc).await.unwrap()), by_id, "ties broken by id");
    by_id.reverse();
    assert_eq!(ids(s.list_memories(v, &all()).await.unwrap()), by_id, "ties broken by id, descending");
}

/// Pages through a listing with keyset cursors, running `between` after the first page.
async fn page_all(s: &dyn Store, u: UserId, base: MemoryQuery, between: Vec<Memory>) -> Vec<Memory> {
    let mut out: Vec<Memory> = Vec::new();
    let mut after = None;
    let mut pending = Some(between);
    loop {
        let page = s.list_memories(u, &MemoryQuery { after, ..base.clone() }).await.unwrap();
        let Some(last) = page.last() else { break };
        let at = match base.sort {
            SortField::Created => last.created_at,
            SortField::Updated => last.updated_at,
            SortField::Accessed => last.accessed_at,
        };
        after = Some(ListCursor { at, id: last.id });
        out.extend(page);
        if let Some(new) = pending.take() {
            s.insert_memories(u, &new, None).await.unwrap();
        }
        assert!(out.len() < 1_000, "pagination terminates");
    }
    out
}

/// Keyset pages have no duplicates or gaps even when rows are inserted between pages.
pub async fn memories_list_pagination_is_stable(s: &dyn Store) {
    let u = owner(s, "pages@example.com").await;
    // Ten rows; three share a timestamp so the id tie-break is exercised across page edges.
    let originals =
        put(s, u, (0..10).map(|i| mem(&format!("o{i}"), "", [0, 1, 2, 3, 3, 3, 4, 5, 6, 7][i])).collect()).await;
    let want: HashSet<Uuid> = originals.iter().map(|m| m.id).collect();
    for order in [SortOrder::Desc, SortOrder::Asc] {
        let newer: Vec<Memory> = (0..3).map(|i| mem(&format!("new{i}"), "", 100 + i)).collect();
        let new_ids: HashSet<Uuid> = newer.iter().map(|m| m.id).collect();
        let base = MemoryQuery { order, limit: 3, ..all() };
        let seen = page_all(s, u, base, newer).await;
        let ids: Vec<Uuid> = seen.iter().map(|m| m.id).collect();
        let unique: HashSet<Uuid> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{order:?}: no duplicates");
        let old: HashSet<Uuid> = unique.difference(&new_ids).copied().collect();
        let seen_orig: HashSet<Uuid> = old.intersection(&want).copied().collect();
        assert_eq!(seen_orig, want, "{order:?}: no gaps among the original rows");
        let keys: Vec<_> = seen.iter().map(|m| (m.created_at, m.id)).collect();
        let sorted = keys.windows(2).all(|w| if order == SortOrder::Asc { w[0] < w[1] } else { w[0] > w[1] });
        assert!(sorted, "{order:?}: strictly ordered across pages");
    }
    let updated = MemoryQuery { sort: SortField::Updated, limit: 4, status: StatusFilter::All, ..all() };
    assert_eq!(page_all(s, u, updated, vec![]).await.len(), 16, "every row once by updated_at");
}
