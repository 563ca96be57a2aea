//! Memories: per-account CRUD, filtered listing with keyset pagination, full-text search,
//! tag and size statistics, and the consolidation write-set.
//!
//! Every method takes the owning account: one account's rows are never visible to another.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::{DEFAULT_SEARCH_CANDIDATES, Memory, MemoryType};

/// Which statuses a listing includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Active,
    Archived,
    All,
}

/// The timestamp a listing is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    #[default]
    Created,
    Updated,
    Accessed,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

/// Keyset position: the sort timestamp and id of the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// A filtered, ordered page of memories. Ties on the timestamp are broken by id (same direction).
#[derive(Debug, Clone, Default)]
pub struct MemoryQuery {
    pub memory_type: Option<MemoryType>,
    /// All of these tags must be present (already normalised).
    pub tags: Vec<String>,
    pub scope: Option<String>,
    pub status: StatusFilter,
    pub sort: SortField,
    pub order: SortOrder,
    /// Rows to return (the caller asks for one more than it shows to detect a next page).
    pub limit: u32,
    pub after: Option<ListCursor>,
}

/// A full-text search. `text` is the user's raw query: the backend turns it into safe FTS
/// syntax (words AND-ed, `"quoted phrases"`, a trailing `*` prefix), so no input can cause a
/// syntax error. No usable text → newest first with score 0.
///
/// **Bounded ranking.** Of the memories that match the text and pass every filter (owner,
/// status, type, scope, tags), only the `candidates` most recent are scored; the best `limit`
/// of those are returned. "Most recent" is creation order: `created_at` then id (a UUIDv7 of
/// the same instant) on PostgreSQL, the order rows were stored on SQLite (the same for
/// memories created through the API; an import stores memories created earlier last). When a
/// query matches at most `candidates` memories, ranking is exact. Other accounts' memories
/// never use up the bound.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub tags: Vec<String>,
    pub memory_type: Option<MemoryType>,
    pub scope: Option<String>,
    pub include_archived: bool,
    pub limit: u32,
    /// Most matches ranked (see above); default [`DEFAULT_SEARCH_CANDIDATES`]. At least `limit`
    /// for a full page: fewer candidates than `limit` return at most `candidates` hits.
    pub candidates: u32,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            text: None,
            tags: Vec::new(),
            memory_type: None,
            scope: None,
            include_archived: false,
            limit: 0,
            candidates: DEFAULT_SEARCH_CANDIDATES,
        }
    }
}

/// A search result: higher `score` is more relevant (backends' scales differ; only order matters).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub memory: Memory,
    pub score: f64,
}

/// Usage of one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub tag: String,
    /// Memories carrying it (active and archived).
    pub count: u64,
    /// Types of those memories, sorted (`long_term` before `short_term`).
    pub types: Vec<MemoryType>,
}

/// Counts and sizes of one account's memories.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemoryStats {
    pub short_term_active: u64,
    pub short_term_archived: u64,
    pub long_term_active: u64,
    pub long_term_archived: u64,
    /// Sum of `size_bytes` over all memories.
    pub storage_bytes: u64,
    pub oldest: Option<DateTime<Utc>>,
    pub newest: Option<DateTime<Utc>>,
}

impl MemoryStats {
    /// All memories, any type and status.
    pub fn total(&self) -> u64 {
        self.short_term_active + self.short_term_archived + self.long_term_active + self.long_term_archived
    }
}

/// What a consolidation run writes, applied in one transaction.
#[derive(Debug, Clone)]
pub struct ConsolidationWrite {
    /// Memories whose tags change (merge keepers): id → new tags; `updated_at` = `at`.
    pub retag: Vec<(Uuid, Vec<String>)>,
    /// Memories to archive at `at` (skipped if already archived).
    pub archive: Vec<Uuid>,
    /// New memories (promotions, digests).
    pub insert: Vec<Memory>,
    pub at: DateTime<Utc>,
    /// The run's log entry (the report, as JSON).
    pub log: ConsolidationRun,
}

/// One logged consolidation run.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsolidationRun {
    pub id: Uuid,
    pub ran_at: DateTime<Utc>,
    pub dry_run: bool,
    pub report: serde_json::Value,
}

/// Outcome of inserting one memory by id during an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Created,
    /// This account already has a memory with that id.
    Skipped,
    /// The id belongs to another account.
    IdTaken,
}

/// Which plan quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    /// Number of memories (active and archived).
    Memories,
    /// Sum of the memories' sizes in bytes.
    StorageBytes,
}

impl QuotaKind {
    /// `memories` or `storage_bytes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memories => "memories",
            Self::StorageBytes => "storage_bytes",
        }
    }
}

/// What storing `memories` adds to an account: (count, bytes of `size_bytes`).
pub fn footprint(memories: &[Memory]) -> (u64, u64) {
    (memories.len() as u64, memories.iter().map(|m| m.size_bytes).sum())
}

/// The most an account may hold, enforced by a write that adds memories or bytes: the backend
/// compares the account's totals, read under a lock inside the write's own transaction, plus
/// what the write adds, and refuses with [`StoreError::QuotaExceeded`](crate::StoreError::QuotaExceeded)
/// (writing nothing) when a limit would be passed. So concurrent writes near a limit cannot
/// pass it together. A write that adds nothing is never refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Most memories (active and archived).
    pub max_memories: u64,
    /// Most bytes (sum of `size_bytes`).
    pub max_storage_bytes: u64,
}

impl Quota {
    /// The refusal of adding `memories` and `bytes` to an account holding `held_memories` and
    /// `held_bytes`, if any: the memory count is checked first, and a limit is passed only when
    /// the write adds to it (`requested > 0`) and the sum exceeds the maximum. Shared by the
    /// backends so both decide alike.
    pub fn check(&self, held_memories: u64, held_bytes: u64, memories: u64, bytes: u64) -> StoreResult<()> {
        let over = |kind, max, current: u64, requested: u64| {
            (requested > 0 && current.saturating_add(requested) > max).then_some(crate::StoreError::QuotaExceeded {
                kind,
                max,
                current,
                requested,
            })
        };
        match over(QuotaKind::Memories, self.max_memories, held_memories, memories)
            .or_else(|| over(QuotaKind::StorageBytes, self.max_storage_bytes, held_bytes, bytes))
        {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }
}

/// Per-account memory storage.
///
/// The writes that can add memories or bytes take an optional [`Quota`], checked atomically
/// with the write (see there); `None` writes without a check.
#[async_trait::async_trait]
pub trait MemoryStore: Send + Sync {
    /// Insert all of `memories` in one transaction (all or none); `Conflict` on a taken id.
    /// With a quota, the whole insert (their count and bytes) must fit, or nothing is inserted.
    async fn insert_memories(&self, owner: UserId, memories: &[Memory], quota: Option<Quota>) -> StoreResult<()>;
    /// Insert each memory unless its id exists (idempotent import), one outcome per input, in one
    /// transaction. With a quota, the memories actually created must fit, or nothing is created.
    async fn import_memories(
        &self,
        owner: UserId,
        memories: &[Memory],
        quota: Option<Quota>,
    ) -> StoreResult<Vec<ImportOutcome>>;
    async fn get_memory(&self, owner: UserId, id: Uuid) -> StoreResult<Option<Memory>>;
    /// Replace every stored field of an existing memory with `memory`'s; `false` if no such memory.
    /// With a quota, growth (the new `size_bytes` over the stored one) must fit, or nothing changes.
    async fn update_memory(&self, owner: UserId, memory: &Memory, quota: Option<Quota>) -> StoreResult<bool>;
    /// Delete for good; `false` if no such memory.
    async fn delete_memory(&self, owner: UserId, id: Uuid) -> StoreResult<bool>;
    async fn list_memories(&self, owner: UserId, query: &MemoryQuery) -> StoreResult<Vec<Memory>>;
    async fn search_memories(&self, owner: UserId, query: &SearchQuery) -> StoreResult<Vec<SearchHit>>;
    /// Set `accessed_at = at` on these memories (never moving it backwards).
    async fn touch_memories(&self, owner: UserId, ids: &[Uuid], at: DateTime<Utc>) -> StoreResult<()>;
    /// Every tag of the account with counts, most used first, then by name.
    async fn tag_counts(&self, owner: UserId) -> StoreResult<Vec<TagCount>>;
    async fn memory_stats(&self, owner: UserId) -> StoreResult<MemoryStats>;
    /// Apply a consolidation's writes and log it, atomically. With a quota, its inserts must
    /// fit, or nothing is applied (and nothing logged).
    async fn apply_consolidation(
        &self,
        owner: UserId,
        write: &ConsolidationWrite,
        quota: Option<Quota>,
    ) -> StoreResult<()>;
    /// Log a dry run (nothing else changes).
    async fn log_consolidation(&self, owner: UserId, run: &ConsolidationRun) -> StoreResult<()>;
    /// Logged runs, newest first.
    async fn list_consolidations(&self, owner: UserId, limit: u32) -> StoreResult<Vec<ConsolidationRun>>;
}
