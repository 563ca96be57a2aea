//! The export file format: markdown with a YAML frontmatter block, one file per memory, plus a
//! manifest.
//!
//! ```text
//! ---
//! id: 01936f5e-...
//! title: My title
//! type: short_term
//! status: active
//! tags: []
//! metadata: {}
//! scope: null
//! created_at: 2026-11-23T10:00:00Z
//! updated_at: ...
//! accessed_at: ...
//! archived_at: null
//! content_hash: 9f86d0...
//! ---
//! <content, byte for byte, up to the end of the file>
//! ```
//!
//! The frontmatter ends at the first line that is exactly `---`; the YAML emitter never writes
//! such a line inside a value, and everything after it is the content, so content may contain
//! `---` lines, leading/trailing newlines, anything.

use super::model::{
    Memory, MemoryLimits, MemoryStatus, MemoryType, Metadata, check_metadata_map, content_hash, size_bytes,
    validate_content, validate_scope, validate_title,
};
use super::tags::normalize_tags;
use crate::ValidationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Name of the manifest file in an export archive.
pub const MANIFEST_PATH: &str = "manifest.json";
/// Value of [`Manifest::format`].
pub const EXPORT_FORMAT: &str = "whitemagic-export";
/// Current [`Manifest::version`].
pub const EXPORT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Frontmatter {
    id: Uuid,
    title: String,
    #[serde(rename = "type")]
    memory_type: MemoryType,
    status: MemoryStatus,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    scope: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    accessed_at: DateTime<Utc>,
    #[serde(default)]
    archived_at: Option<DateTime<Utc>>,
    #[serde(default)]
    content_hash: Option<String>,
}

/// Renders a memory as markdown with a frontmatter block holding every field.
pub fn render_markdown(m: &Memory) -> String {
    let fm = Frontmatter {
        id: m.id,
        title: m.title.clone(),
        memory_type: m.memory_type,
        status: m.status,
        tags: m.tags.clone(),
        metadata: m.metadata.clone(),
        scope: m.scope.clone(),
        created_at: m.created_at,
        updated_at: m.updated_at,
        accessed_at: m.accessed_at,
        archived_at: m.archived_at,
        content_hash: Some(content_hash(&m.content)),
    };
    let yaml = serde_norway::to_string(&fm).expect("frontmatter serializes to YAML");
    format!("---\n{yaml}---\n{}", m.content)
}

/// Splits `---\n<frontmatter>---\n<content>`; tolerates a BOM and CRLF delimiters.
pub(crate) fn split_frontmatter(text: &str) -> Option<(&str, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n"))?;
    let mut pos = 0;
    for line in rest.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" {
            return Some((&rest[..pos], &rest[pos + line.len()..]));
        }
        pos += line.len();
    }
    None
}

/// Parses a file written by [`render_markdown`] back into the identical memory.
///
/// Fields are validated against `limits` (title, tags, scope, metadata, content). When
/// `content_hash` is present it must match the content (error field `content_hash`; delete the
/// line to import edited content). An inconsistent `status`/`archived_at` pair is repaired
/// (`archived` without `archived_at` takes `updated_at`; `active` drops `archived_at`).
pub fn parse_markdown(text: &str, limits: &MemoryLimits) -> Result<Memory, ValidationError> {
    let (yaml, content) = split_frontmatter(text)
        .ok_or_else(|| ValidationError::new("frontmatter", "file must start with a `---` frontmatter block"))?;
    let fm: Frontmatter =
        serde_norway::from_str(yaml).map_err(|e| ValidationError::new("frontmatter", e.to_string()))?;
    let hash = content_hash(content);
    if fm.content_hash.as_ref().is_some_and(|h| !h.eq_ignore_ascii_case(&hash)) {
        return Err(ValidationError::new(
            "content_hash",
            "does not match the content (remove the line to import edited content)",
        ));
    }
    check_metadata_map(&fm.metadata, limits)?;
    let title = validate_title(&fm.title)?;
    let content = validate_content(content, limits)?;
    let archived_at = match fm.status {
        MemoryStatus::Active => None,
        MemoryStatus::Archived => Some(fm.archived_at.unwrap_or(fm.updated_at)),
    };
    Ok(Memory {
        id: fm.id,
        size_bytes: size_bytes(&title, &content),
        title,
        content,
        memory_type: fm.memory_type,
        status: fm.status,
        tags: normalize_tags(&fm.tags, limits)?,
        metadata: fm.metadata,
        scope: validate_scope(fm.scope.as_deref())?,
        created_at: fm.created_at,
        updated_at: fm.updated_at,
        accessed_at: fm.accessed_at,
        archived_at,
        content_hash: hash,
    })
}

/// Path of a memory inside an export: `short_term/<id>.md`, `long_term/<id>.md`, or
/// `archive/<id>.md` for archived memories of either type.
pub fn export_path(m: &Memory) -> String {
    let dir = match (m.status, m.memory_type) {
        (MemoryStatus::Archived, _) => "archive",
        (_, t) => t.as_str(),
    };
    format!("{dir}/{}.md", m.id)
}

/// Counts in a manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ManifestCounts {
    /// All memories.
    pub total: usize,
    /// Active short-term.
    pub short_term: usize,
    /// Active long-term.
    pub long_term: usize,
    /// Archived (either type).
    pub archived: usize,
}

/// One exported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ManifestFile {
    /// Path inside the archive ([`export_path`]).
    pub path: String,
    /// Memory id.
    pub id: Uuid,
    /// File size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file bytes, lowercase hex.
    pub sha256: String,
}

impl ManifestFile {
    /// True when `bytes` are this file's exact contents.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.bytes == bytes.len() as u64 && self.sha256 == hex::encode(Sha256::digest(bytes))
    }
}

/// `manifest.json` of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Manifest {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// Format version ([`EXPORT_VERSION`]).
    pub version: u32,
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// Counts by kind.
    pub counts: ManifestCounts,
    /// Every memory file, in the order added.
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    /// An empty manifest.
    pub fn new(exported_at: DateTime<Utc>) -> Self {
        Self {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            exported_at,
            counts: ManifestCounts::default(),
            files: Vec::new(),
        }
    }

    /// Renders `m`, records it, and returns `(path, file text)` to write into the archive.
    pub fn add(&mut self, m: &Memory) -> (String, String) {
        let text = render_markdown(m);
        let path = export_path(m);
        self.counts.total += 1;
        match (m.status, m.memory_type) {
            (MemoryStatus::Archived, _) => self.counts.archived += 1,
            (_, MemoryType::ShortTerm) => self.counts.short_term += 1,
            (_, MemoryType::LongTerm) => self.counts.long_term += 1,
        }
        self.files.push(ManifestFile {
            path: path.clone(),
            id: m.id,
            bytes: text.len() as u64,
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        });
        (path, text)
    }

    /// The entry for `path`, if listed.
    pub fn file(&self, path: &str) -> Option<&ManifestFile> {
        self.files.iter().find(|f| f.path == path)
    }
}
