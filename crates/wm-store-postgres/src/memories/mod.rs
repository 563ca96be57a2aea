//! `MemoryStore` for PostgreSQL: memories with a `TEXT[]` of tags (GIN-indexed) and a stored,
//! weighted `tsvector` (title A > tags B > content C, GIN-indexed) ranked by `ts_rank`
//! (see `migrations/0002_memories.up.sql`). A write given a plan quota checks it in its own
//! transaction against the account's `memory_counts` row, locked `FOR UPDATE` (see
//! `crud::check_quota`, run after the inserts), so concurrent writes near a limit queue on that
//! row.

mod crud;
mod query;
mod row;
mod stats;

use crate::PostgresStore;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::Memory;
use wm_store::{
    ConsolidationRun, ConsolidationWrite, ImportOutcome, MemoryQuery, MemoryStats, MemoryStore, Quota, SearchHit,
    SearchQuery, StoreResult, TagCount,
};

#[async_trait::async_trait]
impl MemoryStore for PostgresStore {
    async fn insert_memories(&self, owner: UserId, memories: &[Memory], quota: Option<Quota>) -> StoreResult<()> {
        crud::insert(&self.pool, owner, memories, quota).await
    }
    async fn import_memories(
        &self,
        owner: UserId,
        memories: &[Memory],
        quota: Option<Quota>,
    ) -> StoreResult<Vec<ImportOutcome>> {
        crud::import(&self.pool, owner, memories, quota).await
    }
    async fn get_memory(&self, owner: UserId, id: Uuid) -> StoreResult<Option<Memory>> {
        crud::get(&self.pool, owner, id).await
    }
    async fn update_memory(&self, owner: UserId, memory: &Memory, quota: Option<Quota>) -> StoreResult<bool> {
        crud::update(&self.pool, owner, memory, quota).await
    }
    async fn delete_memory(&self, owner: UserId, id: Uuid) -> StoreResult<bool> {
        crud::delete(&self.pool, owner, id).await
    }
    async fn list_memories(&self, owner: UserId, query: &MemoryQuery) -> StoreResult<Vec<Memory>> {
        query::list(&self.pool, owner, query).await
    }
    async fn search_memories(&self, owner: UserId, query: &SearchQuery) -> StoreResult<Vec<SearchHit>> {
        query::search(&self.search_pool, owner, query).await
    }
    async fn touch_memories(&self, owner: UserId, ids: &[Uuid], at: DateTime<Utc>) -> StoreResult<()> {
        crud::touch(&self.pool, owner, ids, at).await
    }
    async fn tag_counts(&self, owner: UserId) -> StoreResult<Vec<TagCount>> {
        stats::tag_counts(&self.pool, owner).await
    }
    async fn memory_stats(&self, owner: UserId) -> StoreResult<MemoryStats> {
        stats::stats(&self.pool, owner).await
    }
    async fn apply_consolidation(
        &self,
        owner: UserId,
        write: &ConsolidationWrite,
        quota: Option<Quota>,
    ) -> StoreResult<()> {
        stats::apply(&self.pool, owner, write, quota).await
    }
    async fn log_consolidation(&self, owner: UserId, run: &ConsolidationRun) -> StoreResult<()> {
        stats::log_run(&self.pool, owner, run).await
    }
    async fn list_consolidations(&self, owner: UserId, limit: u32) -> StoreResult<Vec<ConsolidationRun>> {
        stats::list_runs(&self.pool, owner, limit).await
    }
}
