//! The memory model, its limits, and validation of create input.

use super::tags::normalize_tags;
use crate::ValidationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Maximum title length in characters (after trimming).
pub const MAX_TITLE_CHARS: usize = 500;
/// Maximum scope length in characters.
pub const MAX_SCOPE_CHARS: usize = 200;

/// JSON object holding a memory's free-form metadata.
pub type Metadata = Map<String, Value>;

/// `short_term` (default) or `long_term`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MemoryType {
    /// Recent, working memory; aged out by consolidation.
    #[default]
    ShortTerm,
    /// Durable knowledge.
    LongTerm,
}

impl MemoryType {
    /// The wire name (`short_term` / `long_term`).
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryType::ShortTerm => "short_term",
            MemoryType::LongTerm => "long_term",
        }
    }
}

/// `active` or `archived`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MemoryStatus {
    /// Visible in lists, search and context.
    #[default]
    Active,
    /// Soft-deleted; kept for review and export.
    Archived,
}

/// Default of [`MemoryLimits::search_candidates`].
pub const DEFAULT_SEARCH_CANDIDATES: u32 = 1_000;
/// Smallest allowed [`MemoryLimits::search_candidates`]: the largest number of results one search
/// may ask for (`POST /search` `limit` ≤ 100), so a page is never cut short by the bound.
pub const MIN_SEARCH_CANDIDATES: u32 = 100;

/// Size limits for memory input, and the search ranking bound. Configurable; [`Default`] gives
/// the documented defaults; [`MemoryLimits::validate`] checks a configured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryLimits {
    /// Maximum content size in bytes (default 256 KiB).
    pub max_content_bytes: usize,
    /// Maximum number of distinct tags (default 50).
    pub max_tags: usize,
    /// Maximum tag length in characters (default 64).
    pub max_tag_len: usize,
    /// Maximum serialized (compact JSON) metadata size in bytes (default 16 KiB).
    pub max_metadata_bytes: usize,
    /// How many matches a full-text search ranks at most (default 1,000, at least 100): when a
    /// query matches more of the account's memories (after its filters), only this many of the
    /// most recent (by creation order) are scored and the best of them returned. Below
    /// it, ranking is exact. Bounds the cost of broad queries in large accounts.
    pub search_candidates: u32,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self {
            max_content_bytes: 256 * 1024,
            max_tags: 50,
            max_tag_len: 64,
            max_metadata_bytes: 16 * 1024,
            search_candidates: DEFAULT_SEARCH_CANDIDATES,
        }
    }
}

impl MemoryLimits {
    /// Checks a configured value: `search_candidates` must be at least [`MIN_SEARCH_CANDIDATES`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.search_candidates < MIN_SEARCH_CANDIDATES {
            return Err(ValidationError::new(
                "search_candidates",
                format!("must be at least {MIN_SEARCH_CANDIDATES} (the largest search limit)"),
            ));
        }
        Ok(())
    }
}

/// A stored memory.
///
/// Invariants (kept by the constructors in this module): `size_bytes` and `content_hash` match
/// `title`/`content`, and `archived_at` is `Some` exactly when `status` is `archived`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Memory {
    /// UUIDv7.
    pub id: Uuid,
    /// 1–500 characters, trimmed, single line.
    pub title: String,
    /// Markdown.
    pub content: String,
    /// `short_term` or `long_term`.
    #[serde(rename = "type")]
    pub memory_type: MemoryType,
    /// `active` or `archived`.
    pub status: MemoryStatus,
    /// Normalised tags, first-seen order.
    pub tags: Vec<String>,
    /// Free-form JSON object.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Metadata,
    /// The customer's own end-user/agent/session this memory belongs to, e.g. `user:42`.
    pub scope: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of title, content, type, tags, metadata or status.
    pub updated_at: DateTime<Utc>,
    /// Last read.
    pub accessed_at: DateTime<Utc>,
    /// When archived; `None` while active.
    pub archived_at: Option<DateTime<Utc>>,
    /// Bytes of title + content (UTF-8).
    pub size_bytes: u64,
    /// SHA-256 of the content, lowercase hex.
    pub content_hash: String,
}

impl Memory {
    /// Recomputes `size_bytes` and `content_hash` from title and content.
    pub fn refresh_derived(&mut self) {
        self.size_bytes = size_bytes(&self.title, &self.content);
        self.content_hash = content_hash(&self.content);
    }

    /// Archives an active memory (no-op when already archived).
    pub fn archive(&mut self, now: DateTime<Utc>) {
        if self.status == MemoryStatus::Active {
            self.status = MemoryStatus::Archived;
            self.archived_at = Some(now);
            self.updated_at = now;
        }
    }

    /// Restores an archived memory (no-op when active).
    pub fn restore(&mut self, now: DateTime<Utc>) {
        if self.status == MemoryStatus::Archived {
            self.status = MemoryStatus::Active;
            self.archived_at = None;
            self.updated_at = now;
        }
    }
}

/// SHA-256 of `content`, lowercase hex.
pub fn content_hash(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// Stored size of a memory: UTF-8 bytes of title + content.
pub fn size_bytes(title: &str, content: &str) -> u64 {
    (title.len() + content.len()) as u64
}

/// Raw create input (`POST /memories`). Validate with [`CreateMemoryRequest::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateMemoryRequest {
    /// 1–500 characters after trimming; no control characters.
    pub title: String,
    /// Markdown; at most the configured size (default 256 KiB).
    pub content: String,
    /// Defaults to `short_term`.
    #[serde(rename = "type", default)]
    pub memory_type: Option<MemoryType>,
    /// Normalised: trimmed, lowercased, whitespace → `_`, de-duplicated.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A JSON object (default `{}`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Value>,
    /// 1–200 printable non-space ASCII characters, e.g. `user:42`.
    #[serde(default)]
    pub scope: Option<String>,
}

impl CreateMemoryRequest {
    /// Validates and normalises every field; the error names the first bad field.
    pub fn validate(&self, limits: &MemoryLimits) -> Result<NewMemory, ValidationError> {
        Ok(NewMemory {
            title: validate_title(&self.title)?,
            content: validate_content(&self.content, limits)?,
            memory_type: self.memory_type.unwrap_or_default(),
            tags: normalize_tags(&self.tags, limits)?,
            metadata: validate_metadata(self.metadata.as_ref(), limits)?,
            scope: validate_scope(self.scope.as_deref())?,
        })
    }
}

/// Validated input for creating a memory. Only obtainable through validation (or the planners
/// in this module), so its fields are always within limits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewMemory {
    pub(crate) title: String,
    pub(crate) content: String,
    #[serde(rename = "type")]
    pub(crate) memory_type: MemoryType,
    pub(crate) tags: Vec<String>,
    pub(crate) metadata: Metadata,
    pub(crate) scope: Option<String>,
}

impl NewMemory {
    /// The trimmed title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The content, unchanged.
    pub fn content(&self) -> &str {
        &self.content
    }
    /// The memory type.
    pub fn memory_type(&self) -> MemoryType {
        self.memory_type
    }
    /// Normalised tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    /// Metadata object.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
    /// Scope, if any.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// Builds the stored memory: active, all timestamps `now`, derived fields computed.
    pub fn into_memory(self, id: Uuid, now: DateTime<Utc>) -> Memory {
        let mut m = Memory {
            id,
            title: self.title,
            content: self.content,
            memory_type: self.memory_type,
            status: MemoryStatus::Active,
            tags: self.tags,
            metadata: self.metadata,
            scope: self.scope,
            created_at: now,
            updated_at: now,
            accessed_at: now,
            archived_at: None,
            size_bytes: 0,
            content_hash: String::new(),
        };
        m.refresh_derived();
        m
    }
}

/// Trims and checks a title: 1–500 characters, no control characters (so no newlines).
pub fn validate_title(raw: &str) -> Result<String, ValidationError> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 || n > MAX_TITLE_CHARS {
        return Err(ValidationError::new(
            "title",
            format!("must be 1-{MAX_TITLE_CHARS} characters after trimming (got {n})"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(ValidationError::new("title", "must be a single line without control characters"));
    }
    Ok(t.to_owned())
}

/// Checks content: at most `max_content_bytes` bytes, no NUL (PostgreSQL text cannot hold it).
pub fn validate_content(raw: &str, limits: &MemoryLimits) -> Result<String, ValidationError> {
    if raw.len() > limits.max_content_bytes {
        return Err(ValidationError::new(
            "content",
            format!("must be at most {} bytes (got {})", limits.max_content_bytes, raw.len()),
        ));
    }
    if raw.contains('\0') {
        return Err(ValidationError::new("content", "must not contain NUL characters"));
    }
    Ok(raw.to_owned())
}

/// Checks metadata: a JSON object (absent/null → `{}`), compact JSON at most
/// `max_metadata_bytes`, no NUL in any key or string.
pub fn validate_metadata(raw: Option<&Value>, limits: &MemoryLimits) -> Result<Metadata, ValidationError> {
    let map = match raw {
        None | Some(Value::Null) => return Ok(Metadata::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(ValidationError::new("metadata", "must be a JSON object")),
    };
    check_metadata_map(map, limits)?;
    Ok(map.clone())
}

pub(crate) fn check_metadata_map(map: &Metadata, limits: &MemoryLimits) -> Result<(), ValidationError> {
    let len = serde_json::to_string(map).map(|s| s.len()).unwrap_or(usize::MAX);
    if len > limits.max_metadata_bytes {
        return Err(ValidationError::new(
            "metadata",
            format!("must be at most {} bytes as JSON (got {len})", limits.max_metadata_bytes),
        ));
    }
    if map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)) {
        return Err(ValidationError::new("metadata", "must not contain NUL characters"));
    }
    Ok(())
}

fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Checks a scope: trimmed, 1–200 characters of printable non-space ASCII (`!`..=`~`).
pub fn validate_scope(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(raw) = raw else { return Ok(None) };
    let s = raw.trim();
    if s.is_empty() || s.len() > MAX_SCOPE_CHARS || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ValidationError::new(
            "scope",
            format!("must be 1-{MAX_SCOPE_CHARS} printable ASCII characters without spaces"),
        ));
    }
    Ok(Some(s.to_owned()))
}
