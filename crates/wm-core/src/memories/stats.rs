//! Tag statistics (`GET /tags`) and account statistics (`GET /stats`).

use super::Memories;
use crate::CoreResult;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use wm_domain::ids::UserId;
use wm_domain::memory::MemoryType;

/// How many tags `top_tags` lists.
pub const TOP_TAGS: usize = 10;

/// One tag's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagView {
    /// The normalised tag.
    pub tag: String,
    /// Memories carrying it (active and archived).
    pub count: u64,
    /// Types of those memories, by name (`long_term` before `short_term`).
    pub types: Vec<MemoryType>,
}

/// Every tag of the account, most used first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagsView {
    /// The tags.
    pub tags: Vec<TagView>,
}

/// Active / archived counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    /// Active memories.
    pub active: u64,
    /// Archived memories.
    pub archived: u64,
    /// Both.
    pub total: u64,
}

impl StatusCounts {
    fn new(active: u64, archived: u64) -> Self {
        Self { active, archived, total: active + archived }
    }
}

/// Counts per type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypeCounts {
    /// Short-term memories.
    pub short_term: StatusCounts,
    /// Long-term memories.
    pub long_term: StatusCounts,
}

/// Tag totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagStats {
    /// Distinct tags.
    pub distinct: u64,
    /// Tag uses summed over memories.
    pub uses: u64,
}

/// Statistics of one account's memories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsView {
    /// All memories.
    pub total: u64,
    /// By status, any type.
    pub by_status: StatusCounts,
    /// By type and status.
    pub by_type: TypeCounts,
    /// Tag totals.
    pub tags: TagStats,
    /// The most used tags (up to 10).
    pub top_tags: Vec<TagView>,
    /// Sum of `size_bytes` (title + content) over all memories.
    pub storage_bytes: u64,
    /// Oldest `created_at`.
    pub oldest: Option<DateTime<Utc>>,
    /// Newest `created_at`.
    pub newest: Option<DateTime<Utc>>,
}

impl Memories {
    /// Every tag with its count and types, most used first, then by name.
    pub async fn tags(&self, owner: UserId) -> CoreResult<TagsView> {
        let tags = self
            .store
            .tag_counts(owner)
            .await?
            .into_iter()
            .map(|mut t| {
                t.types.sort_by_key(|ty| ty.as_str());
                t.types.dedup();
                TagView { tag: t.tag, count: t.count, types: t.types }
            })
            .collect();
        Ok(TagsView { tags })
    }

    /// Counts by type and status, tag totals, top tags, storage, oldest and newest.
    pub async fn stats(&self, owner: UserId) -> CoreResult<StatsView> {
        let s = self.store.memory_stats(owner).await?;
        let tags = self.tags(owner).await?.tags;
        let by_type = TypeCounts {
            short_term: StatusCounts::new(s.short_term_active, s.short_term_archived),
            long_term: StatusCounts::new(s.long_term_active, s.long_term_archived),
        };
        Ok(StatsView {
            total: s.total(),
            by_status: StatusCounts::new(
                s.short_term_active + s.long_term_active,
                s.short_term_archived + s.long_term_archived,
            ),
            by_type,
            tags: TagStats { distinct: tags.len() as u64, uses: tags.iter().map(|t| t.count).sum() },
            top_tags: tags.into_iter().take(TOP_TAGS).collect(),
            storage_bytes: s.storage_bytes,
            oldest: s.oldest,
            newest: s.newest,
        })
    }
}
