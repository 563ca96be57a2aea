//! `whitemagic memory ...` as an operator runs it, on a SQLite file: add → search → export →
//! import into another account, and importing a 2.x `memory/` directory.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wm-memory-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `whitemagic <args>` against `db`; returns stdout, asserting success.
fn wm(dir: &Path, args: &[&str]) -> String {
    let db = dir.join("wm.db");
    if !db.exists() {
        std::fs::File::create(&db).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_whitemagic"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("LOG_LEVEL", "warn")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "whitemagic {args:?} failed:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn add_search_export_import() {
    let dir = workdir();
    let a = ["--user", "cli@example.com"];
    let added = json(&wm(
        &dir,
        &[
            "memory",
            "add",
            a[0],
            a[1],
            "--title",
            "Backup strategy",
            "--content",
            "Nightly pg_dump, weekly restore drill.",
            "--tag",
            "Ops",
            "--type",
            "long_term",
        ],
    ));
    let id = added["id"].as_str().unwrap().to_owned();
    assert_eq!((added["tags"].clone(), added["type"].as_str()), (serde_json::json!(["ops"]), Some("long_term")));
    wm(&dir, &["memory", "add", a[0], a[1], "--title", "Other", "--content", "unrelated"]);

    let found = json(&wm(&dir, &["memory", "search", a[0], a[1], "restore drill"]));
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["results"][0]["memory"]["id"], id.as_str());
    let got = json(&wm(&dir, &["memory", "get", a[0], a[1], &id]));
    assert_eq!(got["title"], "Backup strategy");
    let listed = json(&wm(&dir, &["memory", "list", a[0], a[1], "--tag", "ops"]));
    assert_eq!(listed["memories"].as_array().unwrap().len(), 1);
    let ctx = wm(&dir, &["memory", "context", a[0], a[1], "--tier", "2"]);
    assert!(ctx.contains("### Backup strategy"), "{ctx}");
    let report = json(&wm(&dir, &["memory", "consolidate", a[0], a[1]]));
    assert_eq!(report["dry_run"], true);

    let zip = dir.join("out.zip");
    let counts = json(&wm(&dir, &["memory", "export", a[0], a[1], "--out", zip.to_str().unwrap()]));
    assert_eq!(counts["total"], 2);
    assert!(std::fs::metadata(&zip).unwrap().len() > 100);

    let b = ["--user", "copy@example.com"];
    let imported = json(&wm(&dir, &["memory", "import", b[0], b[1], zip.to_str().unwrap()]));
    assert_eq!((imported["created"].as_u64(), imported["failed"].as_u64()), (Some(2), Some(0)), "{imported}");
    let copy = json(&wm(&dir, &["memory", "search", b[0], b[1], "restore drill"]));
    let m = &copy["results"][0]["memory"];
    assert_eq!(
        (m["title"].clone(), m["content"].clone(), m["created_at"].clone()),
        (got["title"].clone(), got["content"].clone(), got["created_at"].clone())
    );
    let again = json(&wm(&dir, &["memory", "import", b[0], b[1], zip.to_str().unwrap()]));
    assert_eq!((again["created"].as_u64(), again["skipped"].as_u64()), (Some(0), Some(2)));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn import_legacy_directory_and_errors() {
    let dir = workdir();
    let legacy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wm-http/tests/fixtures/legacy_v2/memory");
    let u = ["--user", "legacy@example.com"];
    let r = json(&wm(&dir, &["memory", "import", u[0], u[1], legacy.to_str().unwrap()]));
    assert_eq!(
        (r["created"].as_u64(), r["skipped"].as_u64(), r["failed"].as_u64()),
        (Some(5), Some(1), Some(0)),
        "{r}"
    );
    assert!(
        r["files"].as_array().unwrap().iter().any(|f| f["path"] == "memory/archive/20251001_080000_old_api_notes.md")
    );
    let all = json(&wm(&dir, &["memory", "list", u[0], u[1], "--all"]));
    assert_eq!(all["memories"].as_array().unwrap().len(), 5);

    // Reads of an unknown account fail cleanly; so does bad input.
    let out = Command::new(env!("CARGO_BIN_EXE_whitemagic"))
        .current_dir(&dir)
        .env_clear()
        .env("DATABASE_URL", format!("sqlite://{}", dir.join("wm.db").display()))
        .args(["memory", "list", "--user", "nobody@example.com"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn content_size_limit_is_configurable() {
    let dir = workdir();
    let db = dir.join("wm.db");
    std::fs::File::create(&db).unwrap();
    let add = |limit: &str, content: &str| {
        Command::new(env!("CARGO_BIN_EXE_whitemagic"))
            .current_dir(&dir)
            .env_clear()
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            .env("LOG_LEVEL", "warn")
            .env("WM_MAX_CONTENT_BYTES", limit)
            .args(["memory", "add", "--user", "cli@example.com", "--title", "t", "--content", content])
            .output()
            .unwrap()
    };
    let fits = add("100", &"x".repeat(100));
    assert!(fits.status.success(), "{}", String::from_utf8_lossy(&fits.stderr));
    let over = add("100", &"x".repeat(101));
    assert!(!over.status.success());
    let err = String::from_utf8_lossy(&over.stderr);
    assert!(err.contains("content") && err.contains("at most 100 bytes"), "{err}");
    let bad = add("0", "x");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("WM_MAX_CONTENT_BYTES"), "a bad value is a clear error");
}
