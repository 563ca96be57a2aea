//! Import of WhiteMagic 2.x memory files.
//!
//! 2.x kept one markdown file per memory under `memory/short_term/`, `memory/long_term/` and
//! `memory/archive/`, named `YYYYMMDD_HHMMSS_<slug>.md`, with a simple line-based frontmatter:
//!
//! ```text
//! ---
//! title: Some title
//! created: 2025-11-12T12:00:00Z
//! tags: heuristic, debugging        (or: tags: [a, b])
//! promoted_from: ...                (any extra `key: value` lines)
//! ---
//! body
//! ```
//!
//! Parsing is lenient: a missing title comes from the first `# heading` or the file name, the
//! type from a `type:` line or else the folder, the creation time from `created:` or else the
//! file name's timestamp. Unknown keys are kept in metadata under `legacy`. Invalid tags are
//! dropped; an over-long title is cut to 500 characters.

use super::model::{
    MAX_TITLE_CHARS, Memory, MemoryLimits, MemoryStatus, MemoryType, Metadata, NewMemory, check_metadata_map,
    validate_content, validate_title,
};
use super::tags::normalize_tag;
use crate::ValidationError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

/// A parsed 2.x memory, ready to store with [`LegacyMemory::into_memory`].
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyMemory {
    /// The validated memory input.
    pub memory: NewMemory,
    /// `archived` for files under `archive/` or with `status: archived`.
    pub status: MemoryStatus,
    /// From `created:` or the file name.
    pub created_at: Option<DateTime<Utc>>,
    /// From `updated:`/`last_updated:`.
    pub updated_at: Option<DateTime<Utc>>,
    /// From `archived_at:`.
    pub archived_at: Option<DateTime<Utc>>,
}

impl LegacyMemory {
    /// The stored memory; missing times default to `created_at`, then `now`.
    pub fn into_memory(self, id: Uuid, now: DateTime<Utc>) -> Memory {
        let created = self.created_at.unwrap_or(now);
        let updated = self.updated_at.unwrap_or(created).max(created);
        let mut m = self.memory.into_memory(id, created);
        m.updated_at = updated;
        m.accessed_at = updated;
        m.status = self.status;
        if self.status == MemoryStatus::Archived {
            m.archived_at = Some(self.archived_at.unwrap_or(now));
        }
        m
    }
}

/// Parses one 2.x file. `path_hint` is its path (e.g. `memory/archive/20251112_120000_x.md`).
pub fn parse_legacy_v2(path_hint: &str, text: &str, limits: &MemoryLimits) -> Result<LegacyMemory, ValidationError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (fields, body) = match super::export::split_frontmatter(text) {
        Some((fm, body)) => (parse_fields(fm), body),
        None => (Vec::new(), text),
    };
    let content = validate_content(body.trim(), limits)?;
    let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());

    let parts: Vec<&str> = path_hint.split(['/', '\\']).collect();
    let file_name = parts.last().copied().unwrap_or("");
    let stem = file_name.strip_suffix(".md").unwrap_or(file_name);

    let title = get("title")
        .filter(|t| !t.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| first_heading(&content))
        .unwrap_or_else(|| title_from_stem(stem));
    let title = title.chars().filter(|c| !c.is_control()).take(MAX_TITLE_CHARS).collect::<String>();
    let title = validate_title(&title).or_else(|_| validate_title("Untitled memory"))?;

    let memory_type = match get("type") {
        Some("long_term") => MemoryType::LongTerm,
        Some("short_term") => MemoryType::ShortTerm,
        _ if parts.contains(&"long_term") => MemoryType::LongTerm,
        _ => MemoryType::ShortTerm,
    };
    let archived = parts.contains(&"archive") || get("status") == Some("archived");

    let mut tags: Vec<String> = Vec::new();
    let raw_tags = get("tags").map(split_list).unwrap_or_default();
    for t in raw_tags.iter().filter_map(|r| normalize_tag(r, limits.max_tag_len).ok()) {
        if !tags.contains(&t) && tags.len() < limits.max_tags {
            tags.push(t);
        }
    }

    const KNOWN: [&str; 9] =
        ["title", "created", "tags", "type", "status", "updated", "last_updated", "archived_at", "accessed"];
    let mut legacy = Metadata::new();
    legacy.insert("path".into(), Value::String(path_hint.to_owned()));
    for (k, v) in fields.iter().filter(|(k, _)| !KNOWN.contains(&k.as_str())) {
        legacy.insert(k.clone(), Value::String(v.clone()));
    }
    let mut metadata = Metadata::new();
    metadata.insert("legacy".into(), Value::Object(legacy));
    if check_metadata_map(&metadata, limits).is_err() {
        metadata = Metadata::new();
    }

    Ok(LegacyMemory {
        memory: NewMemory { title, content, memory_type, tags, metadata, scope: None },
        status: if archived { MemoryStatus::Archived } else { MemoryStatus::Active },
        created_at: get("created").and_then(parse_time).or_else(|| stem_time(stem)),
        updated_at: get("updated").or(get("last_updated")).and_then(parse_time),
        archived_at: get("archived_at").and_then(parse_time),
    })
}

/// `key: value` lines (quotes around the value stripped); other lines ignored.
fn parse_fields(block: &str) -> Vec<(String, String)> {
    block
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once(':')?;
            let k = k.trim();
            if k.is_empty() || k.contains(char::is_whitespace) {
                return None;
            }
            Some((k.to_ascii_lowercase(), unquote(v.trim()).to_owned()))
        })
        .collect()
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// `[a, "b"]` or `a, b` → items.
fn split_list(v: &str) -> Vec<String> {
    let v = v.trim();
    let v = v.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(v);
    v.split(',').map(|s| unquote(s.trim()).to_owned()).filter(|s| !s.is_empty()).collect()
}

fn first_heading(content: &str) -> Option<String> {
    content.lines().find_map(|l| {
        let h = l.trim().strip_prefix("# ")?.trim();
        (!h.is_empty()).then(|| h.to_owned())
    })
}

fn title_from_stem(stem: &str) -> String {
    let rest = match stem_time(stem) {
        Some(_) => stem.get(16..).unwrap_or(""),
        None => stem,
    };
    let words: Vec<&str> = rest.split(['_', '-']).filter(|w| !w.is_empty()).collect();
    if words.is_empty() { "Untitled memory".to_owned() } else { words.join(" ") }
}

/// `YYYYMMDD_HHMMSS_...` file-name prefix.
fn stem_time(stem: &str) -> Option<DateTime<Utc>> {
    let prefix = stem.get(..15)?;
    NaiveDateTime::parse_from_str(prefix, "%Y%m%d_%H%M%S").ok().map(|t| t.and_utc())
}

/// RFC 3339, or a naive ISO date-time / date (taken as UTC, like 2.x wrote them).
fn parse_time(v: &str) -> Option<DateTime<Utc>> {
    let v = v.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = v.trim_end_matches('Z');
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, f) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}
