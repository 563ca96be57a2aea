//! Partial updates of a memory.

use super::model::{Memory, MemoryLimits, MemoryType, Metadata, validate_content, validate_metadata, validate_title};
use super::tags::{normalize_tags_field, too_many, union_into};
use crate::ValidationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Raw update input (`PATCH /memories/{id}`). Every field is optional; validate with
/// [`UpdateMemoryRequest::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateMemoryRequest {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New content.
    #[serde(default)]
    pub content: Option<String>,
    /// New type.
    #[serde(rename = "type", default)]
    pub memory_type: Option<MemoryType>,
    /// Replaces the whole metadata object (`{}` clears it; `null`/absent leaves it).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Value>,
    /// Replaces all tags (applied first).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Tags to add (applied second).
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Tags to remove (applied last; normalised before matching).
    #[serde(default)]
    pub remove_tags: Vec<String>,
}

impl UpdateMemoryRequest {
    /// Validates every present field; errors name the field (`title`, `tags[2]`, `add_tags[0]`...).
    pub fn validate(&self, limits: &MemoryLimits) -> Result<MemoryPatch, ValidationError> {
        let metadata = match &self.metadata {
            None | Some(Value::Null) => None,
            Some(v) => Some(validate_metadata(Some(v), limits)?),
        };
        Ok(MemoryPatch {
            title: self.title.as_deref().map(validate_title).transpose()?,
            content: self.content.as_deref().map(|c| validate_content(c, limits)).transpose()?,
            memory_type: self.memory_type,
            metadata,
            tags: self.tags.as_ref().map(|t| normalize_tags_field("tags", t, limits)).transpose()?,
            add_tags: normalize_tags_field("add_tags", &self.add_tags, limits)?,
            remove_tags: normalize_tags_field("remove_tags", &self.remove_tags, limits)?,
        })
    }
}

/// A validated partial update. Apply with [`MemoryPatch::apply`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryPatch {
    /// New (validated) title.
    pub title: Option<String>,
    /// New (validated) content.
    pub content: Option<String>,
    /// New type.
    pub memory_type: Option<MemoryType>,
    /// Replacement metadata.
    pub metadata: Option<Metadata>,
    /// Replacement tag list (normalised).
    pub tags: Option<Vec<String>>,
    /// Tags to add (normalised).
    pub add_tags: Vec<String>,
    /// Tags to remove (normalised).
    pub remove_tags: Vec<String>,
}

impl MemoryPatch {
    /// True when the patch names no change at all.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.content.is_none()
            && self.memory_type.is_none()
            && self.metadata.is_none()
            && self.tags.is_none()
            && self.add_tags.is_empty()
            && self.remove_tags.is_empty()
    }

    /// Applies the patch to `memory`.
    ///
    /// Tags: `tags` replaces the list, then `add_tags` are appended (skipping ones present),
    /// then `remove_tags` are removed; the resulting count must stay within `limits.max_tags`
    /// (error field `tags`) unless it does not grow (a list already over a since-lowered limit
    /// may still be edited). Nothing is changed when an error is returned.
    ///
    /// Returns whether anything actually changed; only then are `updated_at` (= `now`),
    /// `size_bytes` and `content_hash` updated.
    pub fn apply(
        &self,
        memory: &mut Memory,
        limits: &MemoryLimits,
        now: DateTime<Utc>,
    ) -> Result<bool, ValidationError> {
        let mut tags = self.tags.clone().unwrap_or_else(|| memory.tags.clone());
        union_into(&mut tags, &self.add_tags);
        tags.retain(|t| !self.remove_tags.contains(t));
        if tags.len() > limits.max_tags && tags.len() > memory.tags.len() {
            return Err(too_many("tags", limits.max_tags));
        }

        let mut changed = false;
        if tags != memory.tags {
            memory.tags = tags;
            changed = true;
        }
        changed |= set(&mut memory.title, &self.title);
        changed |= set(&mut memory.content, &self.content);
        changed |= set(&mut memory.memory_type, &self.memory_type);
        changed |= set(&mut memory.metadata, &self.metadata);
        if changed {
            memory.updated_at = now;
            memory.refresh_derived();
        }
        Ok(changed)
    }
}

fn set<T: PartialEq + Clone>(slot: &mut T, new: &Option<T>) -> bool {
    match new {
        Some(v) if v != slot => {
            *slot = v.clone();
            true
        }
        _ => false,
    }
}
