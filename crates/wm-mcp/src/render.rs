//! Readable text renderings of tool results, sent next to the structured content for clients
//! (and models) that read text. The structured content is the authoritative, complete answer.

use serde::Serialize;
use std::fmt::Write as _;
use uuid::Uuid;
use wm_core::memories::{ConsolidationRunView, MemoryPage, SearchResponse, StatsView, TagsView};
use wm_domain::memory::{ContextPackage, Memory};

/// A tool result: structured (JSON) and as text.
pub trait Render: Serialize {
    /// The text rendering.
    fn text(&self) -> String;
}

/// What `delete_memory` did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The memory's id.
    pub id: Uuid,
    /// `archived` (restorable) or `deleted` (gone for good).
    pub outcome: DeleteOutcome,
    /// The archived memory; absent when it was deleted for good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
}

/// How a memory was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeleteOutcome {
    /// Archived: `restore_memory` brings it back.
    Archived,
    /// Deleted for good.
    Deleted,
}

fn line(m: &Memory) -> String {
    let tags = if m.tags.is_empty() { String::new() } else { format!(" [{}]", m.tags.join(", ")) };
    format!("{} (id {}, {}, {}){tags}", m.title, m.id, m.memory_type.as_str(), status(m))
}

fn status(m: &Memory) -> &'static str {
    match m.status {
        wm_domain::memory::MemoryStatus::Active => "active",
        wm_domain::memory::MemoryStatus::Archived => "archived",
    }
}

impl Render for Memory {
    fn text(&self) -> String {
        let mut s = format!(
            "# {}\n\nid: {}\ntype: {}\nstatus: {}\n",
            self.title,
            self.id,
            self.memory_type.as_str(),
            status(self)
        );
        if !self.tags.is_empty() {
            let _ = writeln!(s, "tags: {}", self.tags.join(", "));
        }
        if let Some(scope) = &self.scope {
            let _ = writeln!(s, "scope: {scope}");
        }
        let _ = write!(s, "updated: {}\n\n{}", self.updated_at.to_rfc3339(), self.content);
        s
    }
}

impl Render for MemoryPage {
    fn text(&self) -> String {
        let mut s = format!("{} memories:\n", self.memories.len());
        for m in &self.memories {
            let _ = writeln!(s, "- {}", line(m));
        }
        if let Some(c) = &self.next_cursor {
            let _ = write!(s, "More: call list_memories again with cursor \"{c}\".");
        }
        s
    }
}

impl Render for SearchResponse {
    fn text(&self) -> String {
        let mut s = match &self.filters.query {
            Some(q) => format!("{} results for \"{q}\":\n", self.count),
            None => format!("{} memories, newest first:\n", self.count),
        };
        for (i, r) in self.results.iter().enumerate() {
            let _ = writeln!(s, "{}. {}\n   {}", i + 1, line(&r.memory), r.preview.replace('\n', " "));
        }
        s
    }
}

impl Render for ContextPackage {
    fn text(&self) -> String {
        self.context.clone()
    }
}

impl Render for ConsolidationRunView {
    fn text(&self) -> String {
        let r = &self.report;
        let mode = if self.dry_run { "Dry run (nothing changed): would" } else { "Consolidated:" };
        format!(
            "{mode} archive {} aged short-term memories, promote {} to long-term, merge {} duplicate groups \
             ({} duplicates archived), write {} digests. Run id {}.",
            r.archived_count, r.promoted_count, r.merged_groups, r.duplicates_archived, r.digest_count, self.id
        )
    }
}

impl Render for TagsView {
    fn text(&self) -> String {
        if self.tags.is_empty() {
            return "No tags yet.".into();
        }
        let items: Vec<String> = self.tags.iter().map(|t| format!("{} ({})", t.tag, t.count)).collect();
        format!("{} tags: {}", self.tags.len(), items.join(", "))
    }
}

impl Render for StatsView {
    fn text(&self) -> String {
        let t = &self.by_type;
        format!(
            "{} memories ({} active, {} archived): short-term {} active / {} archived, long-term {} active / {} archived; \
             {} distinct tags; {} bytes stored.",
            self.total,
            self.by_status.active,
            self.by_status.archived,
            t.short_term.active,
            t.short_term.archived,
            t.long_term.active,
            t.long_term.archived,
            self.tags.distinct,
            self.storage_bytes
        )
    }
}

impl Render for Deleted {
    fn text(&self) -> String {
        match self.outcome {
            DeleteOutcome::Archived => format!("Archived memory {} (restore_memory brings it back).", self.id),
            DeleteOutcome::Deleted => format!("Deleted memory {} for good.", self.id),
        }
    }
}
