//! Resources: `memory://short_term` and `memory://long_term` (a page of the newest active
//! memories of that type, `?cursor=` for the next), `memory://stats`, `memory://tags`, and each
//! memory as `memory://memories/{id}` (markdown with frontmatter). `resources/list` pages
//! through the account's memories with MCP cursors, so a large account never floods a client.

use crate::errors::Failure;
use crate::server::WhiteMagicMcp;
use rmcp::ErrorData;
use rmcp::model::{Extensions, ListResourcesResult, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde::Serialize;
use uuid::Uuid;
use wm_core::memories::{ListRequest, preview};
use wm_core::{CoreError, CoreResult};
use wm_domain::ids::UserId;
use wm_domain::memory::{MemoryType, render_markdown};
use wm_domain::usage::EndpointGroup;

/// Memories per `resources/list` page and per type-resource page.
pub const PAGE: u32 = 50;
/// The template of one memory's URI.
pub const MEMORY_TEMPLATE: &str = "memory://memories/{id}";

const JSON: &str = "application/json";
const MARKDOWN: &str = "text/markdown";

/// The fixed resources: (uri, name, description).
const FIXED: [(&str, &str, &str); 4] = [
    ("memory://short_term", "short_term", "The newest active short-term memories (a page; follow next_uri for more)."),
    ("memory://long_term", "long_term", "The newest active long-term memories (a page; follow next_uri for more)."),
    ("memory://stats", "stats", "Counts by type and status, tags, storage used."),
    ("memory://tags", "tags", "Every tag with its count, most used first."),
];

/// One memory in a type page: enough to choose which to read in full.
#[derive(Debug, Serialize)]
struct Entry {
    uri: String,
    id: Uuid,
    title: String,
    tags: Vec<String>,
    scope: Option<String>,
    updated_at: chrono::DateTime<chrono::Utc>,
    size_bytes: u64,
    preview: String,
}

/// A page of one type's memories.
#[derive(Debug, Serialize)]
struct TypePage {
    #[serde(rename = "type")]
    memory_type: MemoryType,
    memories: Vec<Entry>,
    next_uri: Option<String>,
}

/// The resource template for single memories.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(MEMORY_TEMPLATE, "memory")
            .with_title("A memory")
            .with_description("One memory as markdown with a YAML frontmatter of its fields.")
            .with_mime_type(MARKDOWN),
    ]
}

fn memory_uri(id: Uuid) -> String {
    format!("memory://memories/{id}")
}

impl WhiteMagicMcp {
    /// `resources/list`: the fixed resources, then the account's active memories, newest
    /// first, [`PAGE`] at a time.
    pub(crate) async fn resource_page(
        &self,
        ext: &Extensions,
        cursor: Option<String>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let first = cursor.is_none();
        let user = self.principal(ext).await.map_err(|f| f.protocol_error())?.user_id;
        let req = ListRequest { limit: Some(PAGE), cursor, ..ListRequest::default() };
        let page = self.core.memories.list(user, &req).await.map_err(|e| Failure::from(e).protocol_error())?;
        let mut resources: Vec<Resource> = if first {
            FIXED
                .iter()
                .map(|(uri, name, about)| Resource::new(*uri, *name).with_description(*about).with_mime_type(JSON))
                .collect()
        } else {
            Vec::new()
        };
        resources.extend(page.memories.iter().map(|m| {
            Resource::new(memory_uri(m.id), m.id.to_string())
                .with_title(m.title.clone())
                .with_description(format!("{} memory; tags: {}", m.memory_type.as_str(), m.tags.join(", ")))
                .with_mime_type(MARKDOWN)
                .with_size(m.size_bytes)
        }));
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = page.next_cursor;
        Ok(result)
    }

    /// `resources/read`. A read is one request of the account, admitted and metered like a
    /// tool call (see [`WhiteMagicMcp::admit`]).
    pub(crate) async fn read(&self, ext: &Extensions, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let who = self.principal(ext).await.map_err(|f| f.protocol_error())?;
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let group = if matches!(path, "memory://stats" | "memory://tags") {
            EndpointGroup::Stats
        } else {
            EndpointGroup::Memories
        };
        self.admit(&who, group).await.map_err(|f| f.protocol_error())?;
        let outcome = self.read_path(who.user_id, uri, path, query).await;
        self.record(&who, group, outcome.as_ref().map_or_else(Failure::status, |_| 200));
        outcome.map_err(|f| f.protocol_error())
    }

    async fn read_path(&self, user: UserId, uri: &str, path: &str, query: &str) -> Result<ReadResourceResult, Failure> {
        let cursor = query.strip_prefix("cursor=").map(str::to_owned);
        let (text, mime) = match path {
            "memory://short_term" => (self.type_page(user, MemoryType::ShortTerm, path, cursor).await?, JSON),
            "memory://long_term" => (self.type_page(user, MemoryType::LongTerm, path, cursor).await?, JSON),
            "memory://stats" => (json(self.core.memories.stats(user).await?)?, JSON),
            "memory://tags" => (json(self.core.memories.tags(user).await?)?, JSON),
            _ => {
                let id = path.strip_prefix("memory://memories/").and_then(|id| Uuid::parse_str(id).ok());
                let id = id.ok_or(CoreError::NotFound("resource"))?;
                (render_markdown(&self.core.memories.get(user, id).await?), MARKDOWN)
            }
        };
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri).with_mime_type(mime)]))
    }

    async fn type_page(
        &self,
        user: UserId,
        memory_type: MemoryType,
        base: &str,
        cursor: Option<String>,
    ) -> CoreResult<String> {
        let req = ListRequest { memory_type: Some(memory_type), limit: Some(PAGE), cursor, ..ListRequest::default() };
        let page = self.core.memories.list(user, &req).await?;
        let memories = page
            .memories
            .into_iter()
            .map(|m| Entry {
                uri: memory_uri(m.id),
                preview: preview(&m.content, None),
                id: m.id,
                title: m.title,
                tags: m.tags,
                scope: m.scope,
                updated_at: m.updated_at,
                size_bytes: m.size_bytes,
            })
            .collect();
        let next_uri = page.next_cursor.map(|c| format!("{base}?cursor={c}"));
        json(TypePage { memory_type, memories, next_uri })
    }
}

fn json<T: Serialize>(value: T) -> CoreResult<String> {
    serde_json::to_string_pretty(&value)
        .map_err(|e| CoreError::Store(wm_store::StoreError::Corrupt(format!("serialising a resource: {e}"))))
}
