use super::fixtures::*;
use crate::memory::{
    ConsolidateRequest, ConsolidationOptions, Memory, MemoryLimits, MemoryStatus, MemoryType, plan_consolidation,
};
use chrono::Duration;
use std::collections::HashSet;

fn days_ago(d: i64) -> chrono::DateTime<chrono::Utc> {
    t0() - Duration::days(d)
}

fn plan(ms: &[Memory]) -> crate::memory::ConsolidationPlan {
    plan_consolidation(ms, &ConsolidationOptions::default(), &MemoryLimits::default(), t0())
}

#[test]
fn aging_cutoff_is_strict() {
    let st = MemoryType::ShortTerm;
    let ms = [
        mem(1, "exactly 7 days", "a", st, &[], days_ago(7)),
        mem(2, "7 days + 1s", "b", st, &[], days_ago(7) - Duration::seconds(1)),
        mem(3, "6 days", "c", st, &[], days_ago(6)),
        mem(4, "old long-term", "d", MemoryType::LongTerm, &[], days_ago(30)),
    ];
    let mut archived = ms[1].clone();
    archived.archive(days_ago(1));
    archived.id = id(5);
    let mut all = ms.to_vec();
    all.push(archived);
    let p = plan(&all);
    assert_eq!(p.cutoff, days_ago(7));
    assert_eq!(p.archive, [id(2)], "only strictly older, short-term, active");
    let p = plan_consolidation(
        &all,
        &ConsolidationOptions { min_age_days: 0, ..Default::default() },
        &MemoryLimits::default(),
        t0(),
    );
    assert_eq!(p.archive, [id(2), id(1), id(3)], "oldest first");
}

#[test]
fn promotion_copies_and_digest() {
    let st = MemoryType::ShortTerm;
    let mut a = mem(1, "Use retries", "Always retry 429s.", st, &["insight", "http"], days_ago(10));
    a.metadata.insert("k".into(), serde_json::json!({"nested": [1]}));
    a.scope = Some("user:42".into());
    let b = mem(2, "Lunch", "Pizza.", st, &[], days_ago(9));
    let p = plan(&[a.clone(), b.clone()]);
    assert_eq!(p.archive, [id(1), id(2)]);
    assert_eq!(p.promote.len(), 1);
    let pr = &p.promote[0];
    assert_eq!(pr.source, id(1));
    let n = &pr.memory;
    assert_eq!((n.title(), n.content(), n.memory_type()), (a.title.as_str(), a.content.as_str(), MemoryType::LongTerm));
    assert_eq!(n.tags(), a.tags.as_slice());
    assert_eq!(n.scope(), Some("user:42"));
    assert_eq!(n.metadata()["k"], a.metadata["k"]);
    assert_eq!(n.metadata()["promoted_from"], id(1).to_string());

    // One digest per scope: unscoped first.
    assert_eq!(p.digests.len(), 2);
    let (d0, d1) = (&p.digests[0], &p.digests[1]);
    assert_eq!(d0.scope(), None);
    assert_eq!(d0.title(), "Consolidation digest 2026-11-23 (1 memory)");
    assert!(d0.content().contains("- **Lunch** — 2026-11-14 — no tags\n"), "{}", d0.content());
    assert_eq!(d1.scope(), Some("user:42"));
    assert!(d1.content().contains("- **Use retries** — 2026-11-13 — tags: insight, http — promoted to long-term\n"));
    assert_eq!(d1.tags(), ["digest", "consolidation"]);
    assert_eq!(d1.memory_type(), MemoryType::LongTerm);

    let r = p.report();
    assert_eq!((r.archived_count, r.promoted_count, r.digest_count), (2, 1, 2));
    assert_eq!(r.archived[0].title, "Use retries");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["promoted"][0]["title"], "Use retries");
    assert!(r.dry_run);
}

#[test]
fn nothing_aged_means_no_digest() {
    let p = plan(&[mem(1, "fresh", "x", MemoryType::ShortTerm, &["insight"], days_ago(1))]);
    assert!(p.is_empty() && p.digests.is_empty() && p.promote.is_empty());
}

#[test]
fn duplicates_merge_into_oldest_with_tags_union() {
    let lt = MemoryType::LongTerm;
    let ms = [
        mem(3, "copy b", "same", lt, &["c", "a"], days_ago(1)),
        mem(1, "original", "same", lt, &["a", "b"], days_ago(3)),
        mem(2, "copy a", "same", lt, &["b", "d"], days_ago(2)),
        mem(4, "other type", "same", MemoryType::ShortTerm, &[], days_ago(2)),
        mem(5, "different", "not same", lt, &[], days_ago(2)),
    ];
    let mut scoped = mem(6, "scoped", "same", lt, &[], days_ago(5));
    scoped.scope = Some("user:1".into());
    let mut all = ms.to_vec();
    all.push(scoped);
    let p = plan(&all);
    assert_eq!(p.merges.len(), 1);
    let m = &p.merges[0];
    assert_eq!(m.keep, id(1));
    assert_eq!(m.archive, [id(2), id(3)]);
    assert_eq!(m.tags_union, ["a", "b", "d", "c"]);
    assert!(p.archive.is_empty());
    assert_eq!(p.report().merges[0].archived[1].title, "copy b");

    let off = ConsolidationOptions { merge_duplicates: false, ..Default::default() };
    assert!(plan_consolidation(&all, &off, &MemoryLimits::default(), t0()).merges.is_empty());
}

#[test]
fn same_created_at_breaks_ties_by_id() {
    let lt = MemoryType::LongTerm;
    let p = plan(&[mem(9, "b", "x", lt, &[], days_ago(1)), mem(4, "a", "x", lt, &[], days_ago(1))]);
    assert_eq!((p.merges[0].keep, p.merges[0].archive.as_slice()), (id(4), &[id(9)][..]));
}

#[test]
fn memory_in_two_roles_is_archived_once() {
    let st = MemoryType::ShortTerm;
    // Old duplicate pair: the keeper ages out with the united tags (so it is promoted thanks to
    // the younger copy's tag); the copy is archived by the merge only.
    let ms = [
        mem(1, "keeper", "dup", st, &["x"], days_ago(20)),
        mem(2, "old copy", "dup", st, &["decision"], days_ago(15)),
        mem(3, "young copy", "dup", st, &[], days_ago(1)),
        mem(4, "plain old", "solo", st, &[], days_ago(9)),
    ];
    let p = plan(&ms);
    assert_eq!(p.merges[0].keep, id(1));
    assert_eq!(p.merges[0].archive, [id(2), id(3)]);
    assert_eq!(p.archive, [id(1), id(4)]);
    let all = p.archived_ids();
    assert_eq!(all.len(), all.iter().collect::<HashSet<_>>().len(), "no id archived twice");
    assert_eq!(all.len(), 4);
    assert_eq!(p.promote.len(), 1);
    assert_eq!(p.promote[0].source, id(1));
    assert_eq!(p.promote[0].memory.tags(), ["x", "decision"]);
    assert_eq!(p.digests.len(), 1);
    assert!(p.digests[0].title().ends_with("(2 memories)"));
    assert!(!p.digests[0].content().contains("old copy"), "merged copies are not digested");
}

#[test]
fn promotion_skipped_when_already_long_term() {
    let ms = [
        mem(1, "insight", "known", MemoryType::ShortTerm, &["insight"], days_ago(10)),
        mem(2, "already", "known", MemoryType::LongTerm, &[], days_ago(30)),
    ];
    let p = plan(&ms);
    assert_eq!(p.archive, [id(1)]);
    assert!(p.promote.is_empty());
    assert_eq!(p.skipped_promotions, [id(1)]);
}

#[test]
fn deterministic_regardless_of_input_order() {
    let st = MemoryType::ShortTerm;
    let ms: Vec<Memory> = (0..30u128)
        .map(|i| {
            let tags: &[&str] = if i % 3 == 0 { &["pattern"] } else { &["misc"] };
            mem(i + 1, &format!("m{i}"), &format!("c{}", i % 7), st, tags, days_ago((i % 12) as i64))
        })
        .collect();
    let a = plan(&ms);
    let mut rev = ms.clone();
    rev.reverse();
    let b = plan(&rev);
    assert_eq!(a, b);
    assert_eq!(serde_json::to_string(&a.report()).unwrap(), serde_json::to_string(&b.report()).unwrap());
}

#[test]
fn request_validation() {
    let l = MemoryLimits::default();
    let o = ConsolidateRequest::default().validate(&l).unwrap();
    assert_eq!(o, ConsolidationOptions::default());
    assert!(o.dry_run && o.merge_duplicates && o.min_age_days == 7);
    assert_eq!(o.promote_tags, ["heuristic", "pattern", "proven", "decision", "insight"]);
    let r =
        ConsolidateRequest { promote_tags: Some(vec!["Big Idea".into()]), dry_run: Some(false), ..Default::default() };
    let o = r.validate(&l).unwrap();
    assert_eq!((o.promote_tags.as_slice(), o.dry_run), (&["big_idea".to_string()][..], false));
    let e = ConsolidateRequest { promote_tags: Some(vec!["a".into(), " ".into()]), ..Default::default() };
    assert_eq!(e.validate(&l).unwrap_err().field, "promote_tags[1]");
    let e = ConsolidateRequest { min_age_days: Some(3651), ..Default::default() };
    assert_eq!(e.validate(&l).unwrap_err().field, "min_age_days");
    assert!(serde_json::from_str::<ConsolidateRequest>(r#"{"dryrun":true}"#).is_err());
}

#[test]
fn archived_input_is_ignored() {
    let mut m = mem(1, "gone", "x", MemoryType::ShortTerm, &[], days_ago(30));
    m.archive(days_ago(2));
    assert_eq!(m.status, MemoryStatus::Archived);
    let p = plan(&[m.clone(), {
        let mut c = m.clone();
        c.id = id(2);
        c
    }]);
    assert!(p.is_empty() && p.merges.is_empty());
}
