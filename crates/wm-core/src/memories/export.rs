//! Export (`GET /export`): a zip of one markdown file per memory (YAML frontmatter with every
//! field) in `short_term/`, `long_term/` and `archive/`, plus `manifest.json` (counts and the
//! SHA-256 of every file). Built in memory; reads never touch `accessed_at`.

use super::Memories;
use crate::{CoreError, CoreResult};
use std::io::Write;
use wm_domain::ids::UserId;
use wm_domain::memory::export::MANIFEST_PATH;
use wm_domain::memory::{Manifest, Memory};
use wm_store::{MemoryQuery, SortField, SortOrder, StatusFilter, StoreError};
use zip::write::SimpleFileOptions;

/// A finished export.
#[derive(Debug, Clone)]
pub struct Export {
    /// The zip archive.
    pub bytes: Vec<u8>,
    /// Its manifest (also inside the archive).
    pub manifest: Manifest,
    /// A suggested file name, `whitemagic-export-YYYYMMDD-HHMMSS.zip`.
    pub filename: String,
}

impl Memories {
    /// Every memory of the account (active and archived), oldest first, as a zip.
    pub async fn export(&self, owner: UserId) -> CoreResult<Export> {
        let now = self.now();
        let query = MemoryQuery {
            status: StatusFilter::All,
            sort: SortField::Created,
            order: SortOrder::Asc,
            limit: 1_000,
            ..MemoryQuery::default()
        };
        let memories = self.list_all(owner, query).await?;
        let (bytes, manifest) = tokio::task::spawn_blocking(move || build_zip(&memories, Manifest::new(now)))
            .await
            .map_err(|e| CoreError::Store(StoreError::Database(format!("export task: {e}"))))?
            .map_err(|e| CoreError::Store(StoreError::Database(format!("writing the export zip: {e}"))))?;
        tracing::info!(user.id = %owner, export.memories = manifest.counts.total, export.bytes = bytes.len(), "export built");
        let filename = format!("whitemagic-export-{}.zip", now.format("%Y%m%d-%H%M%S"));
        Ok(Export { bytes, manifest, filename })
    }
}

fn build_zip(memories: &[Memory], mut manifest: Manifest) -> zip::result::ZipResult<(Vec<u8>, Manifest)> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip_time(manifest.exported_at));
    for m in memories {
        let (path, text) = manifest.add(m);
        zip.start_file(path, options)?;
        zip.write_all(text.as_bytes())?;
    }
    let json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    zip.start_file(MANIFEST_PATH, options)?;
    zip.write_all(&json)?;
    Ok((zip.finish()?.into_inner(), manifest))
}

fn zip_time(t: chrono::DateTime<chrono::Utc>) -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    zip::DateTime::from_date_and_time(
        t.year().clamp(1980, 2107) as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}
