//! Tag normalisation.
//!
//! A tag is trimmed, lowercased (Unicode-aware), and every run of inner whitespace becomes one
//! `_`. Empty tags (after trimming) and tags containing control characters are rejected, as are
//! tags longer than [`MemoryLimits::max_tag_len`](super::MemoryLimits) characters. Lists are
//! de-duplicated keeping the first occurrence, and the de-duplicated count is bounded by
//! [`MemoryLimits::max_tags`](super::MemoryLimits).

use super::MemoryLimits;
use crate::ValidationError;
use std::collections::HashSet;
use std::fmt;

/// Why a single tag was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagError {
    /// Nothing left after trimming.
    Empty,
    /// Longer than the limit (in characters, after normalisation).
    TooLong {
        /// The limit that was exceeded.
        max: usize,
    },
    /// Contains a control character (NUL, escape, ...).
    ControlChar,
}

impl fmt::Display for TagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagError::Empty => f.write_str("must not be empty"),
            TagError::TooLong { max } => write!(f, "must be at most {max} characters"),
            TagError::ControlChar => f.write_str("must not contain control characters"),
        }
    }
}

impl std::error::Error for TagError {}

/// Normalises one tag: trim, Unicode lowercase, whitespace runs → `_`.
///
/// `max_len` is counted in characters of the normalised tag.
pub fn normalize_tag(raw: &str, max_len: usize) -> Result<String, TagError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(TagError::Empty);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut in_space = false;
    for c in trimmed.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push('_');
                in_space = true;
            }
            continue;
        }
        if c.is_control() {
            return Err(TagError::ControlChar);
        }
        in_space = false;
        out.extend(c.to_lowercase());
    }
    if out.chars().count() > max_len {
        return Err(TagError::TooLong { max: max_len });
    }
    Ok(out)
}

/// Normalises a list of tags (see the module docs).
///
/// Errors name the field as `{field}[i]` for a bad tag (index into the input) or `{field}` when
/// there are more than `limits.max_tags` distinct tags.
pub fn normalize_tags_field<S: AsRef<str>>(
    field: &str,
    raw: &[S],
    limits: &MemoryLimits,
) -> Result<Vec<String>, ValidationError> {
    let mut seen = HashSet::with_capacity(raw.len());
    let mut out = Vec::with_capacity(raw.len().min(limits.max_tags));
    for (i, tag) in raw.iter().enumerate() {
        let tag = normalize_tag(tag.as_ref(), limits.max_tag_len)
            .map_err(|e| ValidationError::new(format!("{field}[{i}]"), e.to_string()))?;
        if seen.insert(tag.clone()) {
            out.push(tag);
            if out.len() > limits.max_tags {
                return Err(too_many(field, limits.max_tags));
            }
        }
    }
    Ok(out)
}

/// [`normalize_tags_field`] for the `tags` field.
pub fn normalize_tags<S: AsRef<str>>(raw: &[S], limits: &MemoryLimits) -> Result<Vec<String>, ValidationError> {
    normalize_tags_field("tags", raw, limits)
}

pub(crate) fn too_many(field: &str, max: usize) -> ValidationError {
    ValidationError::new(field, format!("at most {max} distinct tags are allowed"))
}

/// Appends `extra` to `tags` keeping first-seen order and skipping duplicates.
pub(crate) fn union_into(tags: &mut Vec<String>, extra: &[String]) {
    for t in extra {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
}
