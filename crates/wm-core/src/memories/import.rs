//! Import (`POST /import`, `whitemagic memory import`): our export zip (idempotent on `id`) and
//! the WhiteMagic 2.x layout (`memory/short_term/*.md`, `memory/long_term/*.md`,
//! `memory/archive/*.md` with simple frontmatter), zipped or as a directory (CLI).
//!
//! Every file gets a line in the report: `created`, `skipped` (already there, not a memory file,
//! or a duplicate within the import) or `failed` (with the reason). Nothing is written until
//! every file has been read and parsed.
//!
//! Bounds ([`super::ImportLimits`], applied in [`super::read_zip`]) defeat zip bombs: the entry count is checked before reading, each
//! entry is decompressed through a `take()` of at most `max_file_bytes + 1` bytes (declared
//! sizes are not trusted), and the bytes actually decompressed — oversized entries included —
//! count against `max_total_bytes`, which aborts the whole import (422) when exceeded.
//!
//! Ids: an export file keeps its `id`. When that id belongs to *another* account (importing a
//! copy of someone's export on the same server), the memory gets a deterministic replacement
//! id derived from (account, original id), so importing the same archive again still skips it.
//! A 2.x file has no id: it gets a UUIDv7 whose time is the memory's creation time and whose
//! other bits come from SHA-256 of (account, file name, file bytes) — re-imports skip it too.

use super::archive::{archive_error, is_manifest, is_memory_file, read_zip};
use super::{ImportFile, Memories, QuotaDelta};
use crate::{CoreError, CoreResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::export::{EXPORT_FORMAT, MANIFEST_PATH};
use wm_domain::memory::{Manifest, Memory, MemoryLimits, parse_legacy_v2, parse_markdown};
use wm_store::{ImportOutcome, StoreError};

/// Memories written per store call.
const CHUNK: usize = 500;

/// Which format a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ImportFormat {
    /// A file of our export (frontmatter with every field).
    Export,
    /// A WhiteMagic 2.x memory file.
    LegacyV2,
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ImportFileStatus {
    /// A memory was created.
    Created,
    /// Nothing to do (already imported, not a memory file, duplicate).
    Skipped,
    /// The file could not be imported; see `message`.
    Failed,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportFileResult {
    /// Path inside the archive.
    pub path: String,
    /// Outcome.
    pub status: ImportFileStatus,
    /// Format the file was read as, when it was a memory file.
    pub format: Option<ImportFormat>,
    /// Id of the memory (created or already present).
    pub id: Option<Uuid>,
    /// The id in the file when it had to be replaced (it belongs to another account).
    pub original_id: Option<Uuid>,
    /// Why it was skipped or failed.
    pub message: Option<String>,
}

/// The import report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Files that created a memory.
    pub created: usize,
    /// Files skipped.
    pub skipped: usize,
    /// Files that failed.
    pub failed: usize,
    /// One entry per file, in archive order (the manifest is not listed).
    pub files: Vec<ImportFileResult>,
}

/// The export manifest, if the import has a valid one: (its folder prefix, manifest).
fn find_manifest(files: &[ImportFile]) -> Option<(String, Manifest)> {
    files.iter().filter(|f| is_manifest(&f.path)).find_map(|f| {
        let m: Manifest = serde_json::from_slice(f.data.as_deref().ok()?).ok()?;
        let prefix = f.path.strip_suffix(MANIFEST_PATH)?.to_owned();
        (m.format == EXPORT_FORMAT).then_some((prefix, m))
    })
}

/// A UUIDv7 at `at` whose other bits are SHA-256 of `parts`.
fn derived_id(at: DateTime<Utc>, parts: &[&[u8]]) -> Uuid {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    let digest = h.finalize();
    let mut rand = [0u8; 10];
    rand.copy_from_slice(&digest[..10]);
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rand).into_uuid()
}

struct Prepared {
    results: Vec<ImportFileResult>,
    /// (index into `results`, memory to insert).
    memories: Vec<(usize, Memory)>,
}

fn result(path: &str, status: ImportFileStatus, message: Option<String>) -> ImportFileResult {
    ImportFileResult { path: path.to_owned(), status, format: None, id: None, original_id: None, message }
}

/// Parses every file (pure; no IO).
fn prepare(owner: UserId, files: &[ImportFile], limits: &MemoryLimits, now: DateTime<Utc>) -> Prepared {
    use ImportFileStatus::*;
    let manifest = find_manifest(files);
    let mut out = Prepared { results: Vec::new(), memories: Vec::new() };
    let mut seen = HashSet::new();
    for f in files.iter().filter(|f| !is_manifest(&f.path)) {
        if !is_memory_file(&f.path) {
            out.results.push(result(&f.path, Skipped, Some("not a memory file (.md)".into())));
            continue;
        }
        let parsed = f
            .data
            .as_deref()
            .map_err(Clone::clone)
            .and_then(|b| std::str::from_utf8(b).map(|t| (b, t)).map_err(|_| "not UTF-8 text".to_owned()))
            .and_then(|(bytes, text)| {
                if let Some((prefix, m)) = &manifest {
                    let rel = f.path.strip_prefix(prefix.as_str()).unwrap_or(&f.path);
                    if m.file(rel).is_some_and(|entry| !entry.matches(bytes)) {
                        return Err("does not match its SHA-256 in manifest.json".to_owned());
                    }
                }
                parse_file(owner, &f.path, text, manifest.is_some(), limits, now)
            });
        let i = out.results.len();
        match parsed {
            Err(message) => out.results.push(result(&f.path, Failed, Some(message))),
            Ok((format, memory)) => {
                let mut r = result(&f.path, Created, None);
                r.format = Some(format);
                r.id = Some(memory.id);
                if seen.insert(memory.id) {
                    out.memories.push((i, memory));
                } else {
                    r.status = Skipped;
                    r.message = Some("same memory as an earlier file of this import".into());
                }
                out.results.push(r);
            }
        }
    }
    out
}

fn parse_file(
    owner: UserId,
    path: &str,
    text: &str,
    has_manifest: bool,
    limits: &MemoryLimits,
    now: DateTime<Utc>,
) -> Result<(ImportFormat, Memory), String> {
    let legacy_path = path.split('/').any(|p| p == "memory");
    if has_manifest || !legacy_path {
        match parse_markdown(text, limits) {
            Ok(m) => return Ok((ImportFormat::Export, m)),
            Err(e) if has_manifest || e.field != "frontmatter" => return Err(e.to_string()),
            Err(_) => {}
        }
    }
    let legacy = parse_legacy_v2(path, text, limits).map_err(|e| e.to_string())?;
    let name = path.rsplit('/').next().unwrap_or(path);
    let at = legacy.created_at.unwrap_or(DateTime::UNIX_EPOCH);
    let id = derived_id(at, &[b"legacy-v2", owner.0.as_bytes(), name.as_bytes(), text.as_bytes()]);
    Ok((ImportFormat::LegacyV2, legacy.into_memory(id, now)))
}

/// What inserting these memories would add at most.
fn delta_of(memories: &[(usize, Memory)]) -> QuotaDelta {
    QuotaDelta { memories: memories.len() as u64, bytes: memories.iter().map(|(_, m)| m.size_bytes).sum() }
}

impl Memories {
    /// Import a zip archive (our export or a zipped 2.x `memory/` tree).
    pub async fn import_zip(&self, owner: UserId, bytes: Vec<u8>) -> CoreResult<ImportReport> {
        let limits = self.import_limits;
        let files = tokio::task::spawn_blocking(move || read_zip(&bytes, &limits))
            .await
            .map_err(|e| CoreError::Store(StoreError::Database(format!("import task: {e}"))))??;
        self.import_files(owner, files).await
    }

    /// Import files already read (a zip's entries, or a directory walked by the CLI).
    pub async fn import_files(&self, owner: UserId, files: Vec<ImportFile>) -> CoreResult<ImportReport> {
        let l = self.import_limits;
        if files.len() > l.max_files {
            return Err(
                archive_error(format!("holds {} files; at most {} are allowed", files.len(), l.max_files)).into()
            );
        }
        let total: u64 = files.iter().map(|f| f.data.as_ref().map_or(0, |d| d.len() as u64)).sum();
        if total > l.max_total_bytes {
            return Err(archive_error(format!("holds more than {} bytes", l.max_total_bytes)).into());
        }
        let (limits, now) = (self.limits, self.now());
        let Prepared { mut results, memories } =
            tokio::task::spawn_blocking(move || prepare(owner, &files, &limits, now))
                .await
                .map_err(|e| CoreError::Store(StoreError::Database(format!("import task: {e}"))))?;
        // Refuse an import that cannot fit before writing any of it; each store call below is
        // then held to the quota atomically (counting only the memories it creates).
        self.check_quota(owner, delta_of(&memories)).await?;

        let mut taken = Vec::new();
        for chunk in memories.chunks(CHUNK) {
            let batch: Vec<Memory> = chunk.iter().map(|(_, m)| m.clone()).collect();
            let outcomes = self
                .with_quota(owner, delta_of(chunk), |quota| self.store.import_memories(owner, &batch, quota))
                .await?;
            for ((i, m), o) in chunk.iter().zip(outcomes) {
                match o {
                    ImportOutcome::Created => {}
                    ImportOutcome::Skipped => {
                        results[*i].status = ImportFileStatus::Skipped;
                        results[*i].message = Some("already imported (same id)".into());
                    }
                    ImportOutcome::IdTaken => {
                        let mut m = m.clone();
                        let original = m.id;
                        m.id = derived_id(m.created_at, &[b"remap", owner.0.as_bytes(), original.as_bytes()]);
                        results[*i].original_id = Some(original);
                        results[*i].id = Some(m.id);
                        taken.push((*i, m));
                    }
                }
            }
        }
        for chunk in taken.chunks(CHUNK) {
            let batch: Vec<Memory> = chunk.iter().map(|(_, m)| m.clone()).collect();
            let outcomes = self
                .with_quota(owner, delta_of(chunk), |quota| self.store.import_memories(owner, &batch, quota))
                .await?;
            for ((i, _), o) in chunk.iter().zip(outcomes) {
                let r = &mut results[*i];
                match o {
                    ImportOutcome::Created => {
                        r.message = Some("its id belongs to another account; imported under a new id".into());
                    }
                    ImportOutcome::Skipped => {
                        r.status = ImportFileStatus::Skipped;
                        r.message = Some("already imported (under a new id)".into());
                    }
                    ImportOutcome::IdTaken => {
                        r.status = ImportFileStatus::Failed;
                        r.message = Some("its id belongs to another account".into());
                    }
                }
            }
        }
        let count = |s| results.iter().filter(|r| r.status == s).count();
        let report = ImportReport {
            created: count(ImportFileStatus::Created),
            skipped: count(ImportFileStatus::Skipped),
            failed: count(ImportFileStatus::Failed),
            files: results,
        };
        tracing::info!(user.id = %owner, import.created = report.created, import.skipped = report.skipped, import.failed = report.failed, "import finished");
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_ids_are_deterministic_v7() {
        let owner = UserId::new();
        let now = Utc::now();
        let text = "---\ntitle: T\ncreated: 2025-11-12T12:00:00Z\n---\nbody";
        let f = |p: &str| ImportFile { path: p.into(), data: Ok(text.as_bytes().to_vec()) };
        let a = prepare(owner, &[f("memory/short_term/x.md")], &MemoryLimits::default(), now);
        let b = prepare(owner, &[f("memory/short_term/x.md")], &MemoryLimits::default(), now);
        let other = prepare(UserId::new(), &[f("memory/short_term/x.md")], &MemoryLimits::default(), now);
        let id = a.memories[0].1.id;
        assert_eq!(id, b.memories[0].1.id);
        assert_ne!(id, other.memories[0].1.id);
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(a.results[0].format, Some(ImportFormat::LegacyV2));
    }
}
