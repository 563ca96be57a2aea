//! Fresh SQLite database files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

const DIR_PREFIX: &str = "wm-testkit-";

/// URL (`sqlite:///abs/path.db`) of a brand-new, empty SQLite database file.
///
/// The file is created empty (a valid empty database, so no `mode=rwc` is
/// needed) in a temp dir private to this test process, which lives as long as
/// the process. Directories left by finished processes are swept on first use.
/// (`scripts/test` also points `TMPDIR` into its own temp dir, removed on exit.)
pub fn fresh_sqlite_url() -> String {
    let path = process_dir().join(format!("{}.db", uuid::Uuid::new_v4().simple()));
    std::fs::File::create_new(&path).unwrap_or_else(|e| panic!("wm-testkit: cannot create {}: {e}", path.display()));
    format!("sqlite://{}", path.display())
}

fn process_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = std::env::temp_dir();
        sweep_stale_dirs(&tmp);
        let dir = tmp.join(format!("{DIR_PREFIX}{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("wm-testkit: cannot create {}: {e}", dir.display()));
        dir
    })
}

/// Removes `wm-testkit-<pid>-*` dirs whose process is gone (per `/proc`) and
/// which have not changed for an hour. Best effort, Linux only.
fn sweep_stale_dirs(tmp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if !alive && old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
