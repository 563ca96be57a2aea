//! Shared test helpers.

use crate::memory::{CreateMemoryRequest, Memory, MemoryLimits, MemoryType};
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

/// 2026-11-23T12:00:00Z.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

/// A deterministic id.
pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A valid memory created at `at`.
pub fn mem(n: u128, title: &str, content: &str, t: MemoryType, tags: &[&str], at: DateTime<Utc>) -> Memory {
    CreateMemoryRequest {
        title: title.into(),
        content: content.into(),
        memory_type: Some(t),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
    .validate(&MemoryLimits::default())
    .expect("valid fixture")
    .into_memory(id(n), at)
}
