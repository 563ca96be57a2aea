//! Shared builders for the memory cases: fixed timestamps, owners and memories.

use crate::{MemoryQuery, Store};
use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;
use wm_domain::account::Role;
use wm_domain::email::Email;
use wm_domain::ids::UserId;
use wm_domain::memory::{Memory, MemoryStatus, MemoryType, Metadata};
use wm_domain::plan::PlanName;

/// A fixed instant `secs` seconds after the base time, with microseconds set.
pub(super) fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap() + Duration::seconds(secs) + Duration::microseconds(654_321)
}

/// A fresh account.
pub(super) async fn owner(s: &dyn Store, email: &str) -> UserId {
    let user = s
        .create_user(crate::NewUser {
            id: UserId::new(),
            email: Email::parse(email).unwrap(),
            role: Role::User,
            plan: PlanName::free(),
            now: t(0),
        })
        .await
        .unwrap();
    user.id
}

/// An active short-term memory created (and updated, accessed) at `t(at)`.
pub(super) fn mem(title: &str, content: &str, at: i64) -> Memory {
    let mut m = Memory {
        id: Uuid::now_v7(),
        title: title.into(),
        content: content.into(),
        memory_type: MemoryType::ShortTerm,
        status: MemoryStatus::Active,
        tags: Vec::new(),
        metadata: Metadata::new(),
        scope: None,
        created_at: t(at),
        updated_at: t(at),
        accessed_at: t(at),
        archived_at: None,
        size_bytes: 0,
        content_hash: String::new(),
    };
    m.refresh_derived();
    m
}

/// `m` with these tags.
pub(super) fn tagged(mut m: Memory, tags: &[&str]) -> Memory {
    m.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    m
}

/// `m` as a long-term memory.
pub(super) fn long(mut m: Memory) -> Memory {
    m.memory_type = MemoryType::LongTerm;
    m
}

/// `m` archived at `t(at)`.
pub(super) fn archived(mut m: Memory, at: i64) -> Memory {
    m.archive(t(at));
    m
}

/// `m` with a scope.
pub(super) fn scoped(mut m: Memory, scope: &str) -> Memory {
    m.scope = Some(scope.into());
    m
}

/// Insert and return the memories.
pub(super) async fn put(s: &dyn Store, user: UserId, ms: Vec<Memory>) -> Vec<Memory> {
    s.insert_memories(user, &ms, None).await.unwrap();
    ms
}

/// Titles of a listing, in order.
pub(super) async fn list_titles(s: &dyn Store, user: UserId, q: MemoryQuery) -> Vec<String> {
    s.list_memories(user, &q).await.unwrap().into_iter().map(|m| m.title).collect()
}

/// A listing query with a generous limit and everything else default.
pub(super) fn all() -> MemoryQuery {
    MemoryQuery { limit: 100, ..MemoryQuery::default() }
}
