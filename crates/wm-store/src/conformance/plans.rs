use crate::{Store, UsageIncrement, UsageKey};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;
use wm_domain::ids::UserId;
use wm_domain::plan::{Plan, PlanFeatures, PlanName};
use wm_domain::usage::{EndpointGroup, StatusClass};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap() + Duration::microseconds(654_321)
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn inc(user: UserId, d: u32, group: EndpointGroup, status: u16, count: u64) -> UsageIncrement {
    UsageIncrement { key: UsageKey { user_id: user, day: day(d), group, class: StatusClass::of(status) }, count }
}

/// The four built-in plans are seeded with the design's numbers.
pub async fn plans_are_seeded(s: &dyn Store) {
    let plans = s.list_plans().await.unwrap();
    let names: Vec<_> = plans.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["free", "starter", "pro", "enterprise"], "ordered by monthly limit");
    let defaults = Plan::defaults(t0());
    for (stored, want) in plans.iter().zip(&defaults) {
        assert_eq!(Plan { updated_at: t0(), ..stored.clone() }, *want);
        assert!(stored.features.allows(PlanFeatures::REST_API) && stored.features.allows(PlanFeatures::MCP));
    }
    let free = s.get_plan(&PlanName::free()).await.unwrap().unwrap();
    assert_eq!((free.per_minute, free.max_memories, free.max_storage_bytes), (10, 50, 10 * 1024 * 1024));
    assert_eq!(s.get_plan(&PlanName::parse("gold").unwrap()).await.unwrap(), None);
}

/// Upsert creates a plan, then replaces every field; large values and flags survive.
pub async fn plans_upsert_creates_and_replaces(s: &dyn Store) {
    let name = PlanName::parse("team").unwrap();
    let mut plan = Plan {
        name: name.clone(),
        per_minute: 5,
        daily: 6,
        monthly: 7,
        max_memories: 8,
        max_storage_bytes: 9,
        features: PlanFeatures::parse(&json!({ "rest_api": false, "mcp": true })).unwrap(),
        updated_at: t0(),
    };
    s.upsert_plan(&plan).await.unwrap();
    assert_eq!(s.get_plan(&name).await.unwrap(), Some(plan.clone()), "timestamps keep microseconds");

    plan.per_minute = 0;
    plan.monthly = i64::MAX as u64;
    plan.max_storage_bytes = 10 * 1024 * 1024 * 1024 * 1024;
    plan.features = PlanFeatures::default();
    plan.updated_at = t0() + Duration::seconds(1);
    s.upsert_plan(&plan).await.unwrap();
    let stored = s.get_plan(&name).await.unwrap().unwrap();
    assert_eq!(stored, plan);
    assert!(stored.features.allows(PlanFeatures::REST_API), "no flags: everything allowed");
    assert_eq!(s.list_plans().await.unwrap().len(), 5);
    assert_eq!(s.list_plans().await.unwrap().last().unwrap().name, name, "largest monthly limit last");
}

/// Increments add up across batches and within one; a read covers exactly the range asked.
pub async fn usage_batches_add_up(s: &dyn Store) {
    let (a, b) = (UserId::new(), UserId::new());
    s.add_usage(&[]).await.unwrap();
    s.add_usage(&[
        inc(a, 1, EndpointGroup::Memories, 201, 2),
        inc(a, 1, EndpointGroup::Memories, 200, 3), // same counter as the line above
        inc(a, 1, EndpointGroup::Search, 404, 1),
        inc(a, 2, EndpointGroup::Memories, 200, 1),
        inc(b, 1, EndpointGroup::Memories, 200, 9),
        inc(a, 3, EndpointGroup::Admin, 500, 0),
    ])
    .await
    .unwrap();
    s.add_usage(&[inc(a, 1, EndpointGroup::Memories, 204, 10), inc(a, 5, EndpointGroup::Keys, 200, 4)]).await.unwrap();

    let rows = s.usage_between(a, day(1), day(4)).await.unwrap();
    let got: Vec<_> = rows.iter().map(|r| (r.day.to_string(), r.group.as_str(), r.class.as_str(), r.count)).collect();
    assert_eq!(
        got,
        [
            ("2026-03-01".to_owned(), "memories", "2xx", 15),
            ("2026-03-01".to_owned(), "search", "4xx", 1),
            ("2026-03-02".to_owned(), "memories", "2xx", 1),
        ],
        "zero increments write nothing; day 5 is outside the range"
    );
    assert_eq!(s.usage_between(a, day(5), day(5)).await.unwrap().len(), 1);
    let other = s.usage_between(b, day(1), day(31)).await.unwrap();
    assert_eq!(other.iter().map(|r| r.count).sum::<u64>(), 9, "accounts are separate");
    assert!(s.usage_between(UserId::new(), day(1), day(31)).await.unwrap().is_empty());
}

/// Concurrent batches touching the same counters lose nothing.
pub async fn usage_concurrent_batches_are_exact(s: &dyn Store) {
    let user = UserId::new();
    let batch: Vec<_> = EndpointGroup::ALL.iter().map(|g| inc(user, 7, *g, 200, 1)).collect();
    let tasks = (0..8).map(|_| s.add_usage(&batch));
    for r in futures_join(tasks).await {
        r.unwrap();
    }
    let rows = s.usage_between(user, day(7), day(7)).await.unwrap();
    assert_eq!(rows.len(), EndpointGroup::ALL.len());
    assert!(rows.iter().all(|r| r.count == 8), "{rows:?}");
}

/// Per-account sums over a period and its last day; accounts without requests in it are absent.
pub async fn usage_by_account_sums_each_account(s: &dyn Store) {
    assert!(s.usage_by_account(day(1), day(31)).await.unwrap().is_empty());
    let (a, b, later) = (UserId::new(), UserId::new(), UserId::new());
    s.add_usage(&[
        inc(a, 1, EndpointGroup::Memories, 200, 2),
        inc(a, 9, EndpointGroup::Search, 404, 3),
        inc(a, 9, EndpointGroup::Memories, 201, 4),
        inc(a, 10, EndpointGroup::Memories, 200, 100), // after the period
        inc(b, 5, EndpointGroup::Keys, 200, 7),
        inc(later, 28, EndpointGroup::Keys, 200, 1),
    ])
    .await
    .unwrap();
    s.add_usage(&[inc(b, 9, EndpointGroup::Keys, 500, 1)]).await.unwrap();
    let sums = async |from, to| {
        let mut sums: Vec<_> = s
            .usage_by_account(day(from), day(to))
            .await
            .unwrap()
            .into_iter()
            .map(|u| (u.user_id, u.last_day, u.total))
            .collect();
        sums.sort();
        sums
    };
    let mut want = vec![(a, 7, 9), (b, 1, 8)];
    want.sort();
    assert_eq!(sums(1, 9).await, want);
    assert_eq!(sums(28, 31).await, [(later, 0, 1)], "the last day is the 31st");
    assert_eq!(sums(10, 10).await, [(a, 100, 100)]);
}

/// Platform counts: memories of everyone, users active on a day.
pub async fn usage_platform_counts(s: &dyn Store) {
    let empty = s.platform_counts(day(1)).await.unwrap();
    assert_eq!((empty.memories, empty.active_users), (0, 0));
    let (a, b) = (UserId::new(), UserId::new());
    s.add_usage(&[inc(a, 1, EndpointGroup::Memories, 200, 2), inc(a, 1, EndpointGroup::Search, 200, 1)]).await.unwrap();
    s.add_usage(&[inc(b, 1, EndpointGroup::Keys, 401, 1), inc(b, 2, EndpointGroup::Keys, 200, 1)]).await.unwrap();
    assert_eq!(s.platform_counts(day(1)).await.unwrap().active_users, 2);
    assert_eq!(s.platform_counts(day(2)).await.unwrap().active_users, 1);

    let owner = s
        .create_user(crate::NewUser {
            id: UserId::new(),
            email: wm_domain::email::Email::parse("counted@example.com").unwrap(),
            role: wm_domain::account::Role::User,
            plan: PlanName::free(),
            now: t0(),
        })
        .await
        .unwrap();
    let memories: Vec<_> = (0..3).map(|i| memory(&format!("m{i}"))).collect();
    s.insert_memories(owner.id, &memories, None).await.unwrap();
    assert_eq!(s.platform_counts(day(1)).await.unwrap().memories, 3);
}

fn memory(title: &str) -> wm_domain::memory::Memory {
    use wm_domain::memory::{Memory, MemoryStatus, MemoryType, Metadata};
    let mut m = Memory {
        id: uuid::Uuid::now_v7(),
        title: title.into(),
        content: "body".into(),
        memory_type: MemoryType::ShortTerm,
        status: MemoryStatus::Active,
        tags: Vec::new(),
        metadata: Metadata::new(),
        scope: None,
        created_at: t0(),
        updated_at: t0(),
        accessed_at: t0(),
        archived_at: None,
        size_bytes: 0,
        content_hash: String::new(),
    };
    m.refresh_derived();
    m
}

/// Runs the futures concurrently (no extra dependency): each is polled in turn until all finish.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.map(|f| Some(Box::pin(f))).collect();
    let mut out: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(out.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    out.into_iter().flatten().collect()
}
