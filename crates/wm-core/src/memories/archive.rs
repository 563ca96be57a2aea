//! Reading import archives within bounds (see [`ImportLimits`]).

use std::io::Read;
use wm_domain::ValidationError;
use wm_domain::memory::export::MANIFEST_PATH;

/// Bounds on what one import may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Most entries (files and directories) in an archive or directory (default 60,000).
    pub max_files: usize,
    /// Most bytes decompressed from one entry (default 512 KiB).
    pub max_file_bytes: u64,
    /// Most bytes decompressed in total (default 256 MiB).
    pub max_total_bytes: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self { max_files: 60_000, max_file_bytes: 512 * 1024, max_total_bytes: 256 * 1024 * 1024 }
    }
}

/// One input file: its path inside the archive or directory, and its bytes (or why they could
/// not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFile {
    /// Path with `/` separators.
    pub path: String,
    /// Contents, or the reason they are unavailable.
    pub data: Result<Vec<u8>, String>,
}

pub(super) fn archive_error(message: impl Into<String>) -> ValidationError {
    ValidationError::new("archive", message)
}

/// Reads every entry of a zip archive within `limits` (see the module docs). Errors (field
/// `archive`) for a non-zip, too many entries, or too many bytes in total.
pub fn read_zip(bytes: &[u8], limits: &ImportLimits) -> Result<Vec<ImportFile>, ValidationError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| archive_error(format!("is not a readable zip file ({e})")))?;
    if zip.len() > limits.max_files {
        return Err(archive_error(format!("holds {} entries; at most {} are allowed", zip.len(), limits.max_files)));
    }
    let mut total: u64 = 0;
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let fallback = zip.name_for_index(i).map_or_else(|| format!("#{i}"), str::to_owned);
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                files.push(ImportFile { path: fallback, data: Err(format!("unreadable zip entry: {e}")) });
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let path = entry.name().replace('\\', "/");
        if !wanted(&path) {
            files.push(ImportFile { path, data: Ok(Vec::new()) });
            continue;
        }
        let mut buf = Vec::new();
        let read = (&mut entry).take(limits.max_file_bytes + 1).read_to_end(&mut buf);
        total += buf.len() as u64;
        if total > limits.max_total_bytes {
            return Err(archive_error(format!(
                "expands to more than {} bytes; split it into smaller archives",
                limits.max_total_bytes
            )));
        }
        let data = match read {
            Err(e) => Err(format!("unreadable zip entry: {e}")),
            Ok(_) if buf.len() as u64 > limits.max_file_bytes => {
                Err(format!("larger than {} bytes uncompressed", limits.max_file_bytes))
            }
            Ok(_) => Ok(buf),
        };
        files.push(ImportFile { path, data });
    }
    Ok(files)
}

/// Entries worth reading: markdown files and the manifest, minus macOS/hidden clutter.
fn wanted(path: &str) -> bool {
    is_manifest(path) || is_memory_file(path)
}

pub(super) fn is_manifest(path: &str) -> bool {
    path == MANIFEST_PATH || path.ends_with(&format!("/{MANIFEST_PATH}"))
}

pub(super) fn is_memory_file(path: &str) -> bool {
    let hidden = path.split('/').any(|p| p.starts_with('.') || p == "__MACOSX");
    !hidden && path.to_ascii_lowercase().ends_with(".md")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            z.start_file(*name, o).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn bombs_and_junk_are_bounded() {
        let limits = ImportLimits { max_files: 3, max_file_bytes: 1_000, max_total_bytes: 2_500 };
        assert_eq!(read_zip(b"not a zip", &limits).unwrap_err().field, "archive");
        let four = zip_of(&[("a.md", vec![]), ("b.md", vec![]), ("c.md", vec![]), ("d.md", vec![])]);
        assert!(read_zip(&four, &limits).unwrap_err().message.contains("entries"));
        // One entry declaring little but inflating to 10 MB: read stops after max_file_bytes + 1.
        let bomb = zip_of(&[("big.md", vec![b'a'; 10_000_000]), ("ok.md", b"x".to_vec()), ("n.txt", vec![1; 5])]);
        let files = read_zip(&bomb, &limits).unwrap();
        assert!(files[0].data.as_ref().unwrap_err().contains("larger than"));
        assert_eq!(files[1].data, Ok(b"x".to_vec()));
        assert_eq!(files[2].data, Ok(Vec::new()), "other files are not even read");
        let many = zip_of(&[("a.md", vec![b'a'; 900]), ("b.md", vec![b'b'; 900]), ("c.md", vec![b'c'; 900])]);
        assert!(read_zip(&many, &limits).unwrap_err().message.contains("expands"));
    }
}
