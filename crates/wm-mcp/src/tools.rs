//! The tools: one per memory use-case, each a thin call of the same `wm_core` method the REST
//! route calls, with the REST request type as its input schema and the REST response type as
//! its output schema.

use crate::args::{self, DeleteArgs, IdArgs, ListArgs, NoArgs, UpdateArgs};
use crate::render::{DeleteOutcome, Deleted};
use crate::schema;
use crate::server::WhiteMagicMcp;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, Extensions, JsonObject};
use rmcp::{tool, tool_router};
use std::sync::LazyLock;
use wm_core::memories::{ConsolidationRunView, MemoryPage, SearchRequest, SearchResponse, StatsView, TagsView};
use wm_domain::memory::{
    ConsolidateRequest, ContextPackage, ContextRequest, CreateMemoryRequest, Memory, UpdateMemoryRequest,
};
use wm_domain::usage::EndpointGroup;

/// Every tool, built once (schemas included).
pub(crate) static TOOLS: LazyLock<ToolRouter<WhiteMagicMcp>> = LazyLock::new(WhiteMagicMcp::tool_router);

#[tool_router(vis = "pub(crate)")]
impl WhiteMagicMcp {
    #[tool(
        description = "Store a new memory: a title, markdown content, optional type (short_term, the default, or long_term), tags, metadata (a JSON object) and scope. Returns the memory with its id.",
        input_schema = schema::arc::<CreateMemoryRequest>(),
        output_schema = schema::arc::<Memory>(),
        annotations(title = "Create a memory", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn create_memory(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(
            &ext,
            EndpointGroup::Memories,
            args::parse::<CreateMemoryRequest>(args),
            |core, user, req| async move { core.memories.create(user, &req).await },
        )
        .await
    }

    #[tool(
        description = "Read one memory by id, with its full content.",
        input_schema = schema::arc::<IdArgs>(),
        output_schema = schema::arc::<Memory>(),
        annotations(title = "Get a memory", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_memory(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Memories, args::parse::<IdArgs>(args), |core, user, a| async move {
            core.memories.get(user, a.id).await
        })
        .await
    }

    #[tool(
        description = "Change a memory: any of title, content, type, metadata (replaced), tags (replace all), then add_tags, then remove_tags. Absent fields stay as they are.",
        input_schema = schema::with_id::<UpdateMemoryRequest>(),
        output_schema = schema::arc::<Memory>(),
        annotations(title = "Update a memory", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn update_memory(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Memories, UpdateArgs::parse(args), |core, user, a| async move {
            core.memories.update(user, a.id, &a.patch).await
        })
        .await
    }

    #[tool(
        description = "Archive a memory (it can be restored with restore_memory), or with permanent: true delete it for good.",
        input_schema = schema::arc::<DeleteArgs>(),
        output_schema = schema::arc::<Deleted>(),
        annotations(title = "Delete a memory", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn delete_memory(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Memories, args::parse::<DeleteArgs>(args), |core, user, a| async move {
            if a.permanent {
                core.memories.delete(user, a.id).await?;
                Ok(Deleted { id: a.id, outcome: DeleteOutcome::Deleted, memory: None })
            } else {
                let memory = core.memories.archive(user, a.id).await?;
                Ok(Deleted { id: a.id, outcome: DeleteOutcome::Archived, memory: Some(memory) })
            }
        })
        .await
    }

    #[tool(
        description = "Bring an archived memory back to active.",
        input_schema = schema::arc::<IdArgs>(),
        output_schema = schema::arc::<Memory>(),
        annotations(title = "Restore a memory", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn restore_memory(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Memories, args::parse::<IdArgs>(args), |core, user, a| async move {
            core.memories.restore(user, a.id).await
        })
        .await
    }

    #[tool(
        description = "List memories, newest first by default: filter by type, tags, scope and status; page with limit (1-100) and the next_cursor of the previous page.",
        input_schema = schema::arc::<ListArgs>(),
        output_schema = schema::arc::<MemoryPage>(),
        annotations(title = "List memories", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_memories(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Memories, args::parse::<ListArgs>(args), |core, user, a| async move {
            core.memories.list(user, &a.into()).await
        })
        .await
    }

    #[tool(
        description = "Full-text search ranked by relevance (title > tags > content): all words must match, \"quoted phrases\" and a trailing prefix* work. Filter by tags, type, scope; include_archived to search archived memories too.",
        input_schema = schema::arc::<SearchRequest>(),
        output_schema = schema::arc::<SearchResponse>(),
        annotations(title = "Search memories", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn search_memories(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Search, args::parse::<SearchRequest>(args), |core, user, req| async move {
            core.memories.search(user, &req).await
        })
        .await
    }

    #[tool(
        description = "A prompt-ready markdown context package under a hard token budget. tier 0: 2 newest short-term summaries; 1 (default): 5 short-term + 2 long-term; 2: 10 short-term + 5 long-term in full. With query: the most relevant memories first. max_tokens caps the size.",
        input_schema = schema::arc::<ContextRequest>(),
        output_schema = schema::arc::<ContextPackage>(),
        annotations(title = "Get context", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_context(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Context, args::parse::<ContextRequest>(args), |core, user, req| async move {
            core.memories.context(user, &req).await
        })
        .await
    }

    #[tool(
        description = "Consolidate memories: merge exact duplicates, archive short-term memories older than min_age_days, promote those with a promote tag to long-term, write a digest. A dry run by default (only reports what it would do); dry_run: false applies it.",
        input_schema = schema::arc::<ConsolidateRequest>(),
        output_schema = schema::arc::<ConsolidationRunView>(),
        annotations(title = "Consolidate memories", read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    async fn consolidate(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(
            &ext,
            EndpointGroup::Consolidate,
            args::parse::<ConsolidateRequest>(args),
            |core, user, req| async move { core.memories.consolidate(user, &req).await },
        )
        .await
    }

    #[tool(
        description = "Every tag with the number of memories carrying it, most used first.",
        input_schema = schema::arc::<NoArgs>(),
        output_schema = schema::arc::<TagsView>(),
        annotations(title = "List tags", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_tags(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Stats, args::parse::<NoArgs>(args), |core, user, _| async move {
            core.memories.tags(user).await
        })
        .await
    }

    #[tool(
        description = "Statistics of the account's memories: counts by type and status, tags, storage used, oldest and newest.",
        input_schema = schema::arc::<NoArgs>(),
        output_schema = schema::arc::<StatsView>(),
        annotations(title = "Get statistics", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_stats(&self, args: JsonObject, ext: Extensions) -> CallToolResult {
        self.run(&ext, EndpointGroup::Stats, args::parse::<NoArgs>(args), |core, user, _| async move {
            core.memories.stats(user).await
        })
        .await
    }
}
