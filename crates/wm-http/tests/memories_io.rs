//! Export and import over HTTP on both backends: the zip layout and manifest, a round trip
//! into a fresh account (same server: new ids; another server: same ids) reproducing every
//! field, idempotent re-imports, the 2.x layout fixture, and bad archives.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use wm_testkit::{Backend, backend_tests};

backend_tests!(export_round_trips_into_fresh_accounts, legacy_v2_layout_imports, bad_archives_are_refused);

fn unzip(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            (f.name().to_owned(), buf)
        })
        .collect()
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        z.start_file(name.as_str(), o).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// A varied account: every type/status, tags, metadata, scope, edits, reads, tricky content.
async fn seed(app: &TestApp, key: &str) {
    let contents =
        ["plain", "---\nnot: frontmatter\n---\n", "\n\nleading and trailing newlines\n\n", "unicode ✓ 🎉 ñ", ""];
    for (i, c) in contents.iter().enumerate() {
        app.advance(37);
        let m = app
            .memory(key, json!({ "title": format!("memory {i}: «quoted» #tag"), "content": c, "tags": ["t", format!("n{i}")],
                "metadata": { "i": i, "nested": { "list": [1, "two", null] } }, "scope": if i % 2 == 0 { Value::Null } else { json!("user:42") },
                "type": if i < 3 { "short_term" } else { "long_term" } }))
            .await;
        let path = format!("/api/v1/memories/{}", m["id"].as_str().unwrap());
        app.advance(5);
        match i {
            1 => assert_eq!(
                app.call(Method::PATCH, &path, key, Some(json!({ "add_tags": ["edited"] }))).await.status,
                StatusCode::OK
            ),
            2 => assert_eq!(app.call(Method::DELETE, &path, key, None).await.status, StatusCode::NO_CONTENT),
            3 => assert_eq!(app.get(&path, key).await.status, StatusCode::OK),
            _ => {}
        }
    }
}

fn without_id(m: &Value) -> Value {
    let mut m = m.clone();
    m.as_object_mut().unwrap().remove("id");
    m
}

async fn export_round_trips_into_fresh_accounts(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, a) = app.user("exporter@example.com").await;
    seed(&app, &a).await;
    let original = app.all_memories(&a).await;
    assert_eq!(original.len(), 5);

    let r = app.raw(Method::GET, "/api/v1/export", &a, None, Vec::new()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/zip");
    let disposition = r.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"whitemagic-export-") && disposition.ends_with(".zip\""),
        "{disposition}"
    );
    let files = unzip(&r.bytes);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["format"], "whitemagic-export");
    assert_eq!(manifest["counts"], json!({ "total": 5, "short_term": 2, "long_term": 2, "archived": 1 }));
    for f in manifest["files"].as_array().unwrap() {
        let bytes = &files[f["path"].as_str().unwrap()];
        assert_eq!(f["sha256"], hex(&Sha256::digest(bytes)));
        assert_eq!(f["bytes"], bytes.len());
    }
    let archived = original.iter().find(|m| m["status"] == "archived").unwrap();
    assert!(files.contains_key(&format!("archive/{}.md", archived["id"].as_str().unwrap())));
    assert_eq!(files.keys().filter(|k| k.starts_with("short_term/")).count(), 2);
    assert_eq!(files.keys().filter(|k| k.starts_with("long_term/")).count(), 2);
    let after_export = app.all_memories(&a).await;
    assert_eq!(after_export, original, "exporting touches nothing");

    // Same server, fresh account: the ids belong to A, so each memory gets a new one.
    app.advance(1000);
    let (_, b_key) = app.user("importer@example.com").await;
    let rep = app.import_zip(&b_key, r.bytes.clone()).await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.text);
    assert_eq!(
        (rep.body["created"].as_u64(), rep.body["skipped"].as_u64(), rep.body["failed"].as_u64()),
        (Some(5), Some(0), Some(0)),
        "{}",
        rep.text
    );
    let imported = app.all_memories(&b_key).await;
    for f in rep.body["files"].as_array().unwrap() {
        assert_eq!(f["format"], "export");
        let orig = original.iter().find(|m| m["id"] == f["original_id"]).expect("original id reported");
        let new = imported.iter().find(|m| m["id"] == f["id"]).unwrap();
        assert_eq!(without_id(new), without_id(orig), "every field and timestamp equal");
    }
    assert_eq!(app.all_memories(&a).await, original, "A's memories are untouched");
    // Importing again changes nothing, for B and for A.
    let again = app.import_zip(&b_key, r.bytes.clone()).await;
    assert_eq!((again.body["created"].as_u64(), again.body["skipped"].as_u64()), (Some(0), Some(5)), "{}", again.text);
    let into_a = app.import_zip(&a, r.bytes.clone()).await;
    assert_eq!(
        (into_a.body["created"].as_u64(), into_a.body["skipped"].as_u64()),
        (Some(0), Some(5)),
        "{}",
        into_a.text
    );
    assert_eq!(app.all_memories(&b_key).await.len(), 5);

    // Another server, fresh account: ids are kept too.
    let other = TestApp::start(b).await;
    let (_, c) = other.user("elsewhere@example.com").await;
    let rep = other.import_zip(&c, r.bytes.clone()).await;
    assert_eq!(rep.body["created"], 5, "{}", rep.text);
    assert_eq!(other.all_memories(&c).await, original, "identical, ids included");
    other.stop().await;
    app.stop().await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every file under `dir`, with its path relative to `root` (`/`-separated).
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, std::fs::read(&p).unwrap()));
        }
    }
}

async fn legacy_v2_layout_imports(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("legacy@example.com").await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/legacy_v2");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    assert!(files.iter().any(|(p, _)| p == "memory/short_term/20251112_143000_async_deadlock_debugging.md"));
    let zip = zip_of(&files);
    let rep = app.import_zip(&key, zip.clone()).await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.text);
    assert_eq!(
        (rep.body["created"].as_u64(), rep.body["skipped"].as_u64(), rep.body["failed"].as_u64()),
        (Some(5), Some(1), Some(0)),
        "{}",
        rep.text
    );
    let readme = rep.body["files"].as_array().unwrap().iter().find(|f| f["path"] == "memory/README.txt").unwrap();
    assert_eq!(readme["status"], "skipped");

    let all = app.all_memories(&key).await;
    let get = |title: &str| all.iter().find(|m| m["title"] == title).unwrap_or_else(|| panic!("{title} in {all:?}"));
    let m = get("Debugging an async deadlock in the worker pool");
    assert_eq!((m["type"].as_str(), m["status"].as_str()), (Some("short_term"), Some("active")));
    assert_eq!(m["tags"], json!(["debugging", "async", "heuristic"]));
    assert_eq!(m["created_at"], "2025-11-12T14:30:00Z");
    assert!(m["content"].as_str().unwrap().starts_with("# Debugging an async deadlock"));
    assert_eq!(m["metadata"]["legacy"]["path"], "memory/short_term/20251112_143000_async_deadlock_debugging.md");
    assert_eq!(uuid::Uuid::parse_str(m["id"].as_str().unwrap()).unwrap().get_version_num(), 7);
    let m = get("User prefers concise answers");
    assert_eq!(
        (m["tags"].clone(), m["created_at"].as_str()),
        (json!(["preference", "communication"]), Some("2025-11-14T09:15:00Z"))
    );
    let m = get("Deployment checklist");
    assert_eq!(
        (m["type"].as_str(), m["tags"].clone()),
        (Some("long_term"), json!(["deployment", "proven", "release_process"]))
    );
    let m = get("Pattern: invalidate caches by publishing events");
    assert_eq!((m["type"].as_str(), m["updated_at"].as_str()), (Some("long_term"), Some("2025-11-10T08:00:00Z")));
    assert_eq!(m["metadata"]["legacy"]["promoted_from"], "20251101_120000_cache_bug.md");
    let m = get("Notes on the v1 API (superseded)");
    assert_eq!((m["status"].as_str(), m["archived_at"].as_str()), (Some("archived"), Some("2025-11-01T00:00:00Z")));

    // The same archive again: nothing new.
    let again = app.import_zip(&key, zip).await;
    assert_eq!((again.body["created"].as_u64(), again.body["skipped"].as_u64()), (Some(0), Some(6)), "{}", again.text);
    assert_eq!(app.all_memories(&key).await.len(), 5);
    // Searchable like any memory.
    let s = app.post("/api/v1/search", &key, json!({ "query": "deadlock" })).await;
    assert_eq!(s.body["count"], 1, "{}", s.text);
    app.stop().await;
}

async fn bad_archives_are_refused(b: Backend) {
    let app = TestApp::start(b).await;
    let (_, key) = app.user("badzip@example.com").await;
    let r = app.import_zip(&key, b"definitely not a zip".to_vec()).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r.body["error"]["details"]["field"], "archive");
    let r = app.raw(Method::POST, "/api/v1/import", &key, Some("application/json"), b"{}".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app.raw(Method::POST, "/api/v1/import", &key, None, zip_of(&[])).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Empty archive: an empty report.
    let r = app.import_zip(&key, zip_of(&[])).await;
    assert_eq!((r.status, r.body["created"].as_u64(), r.body["files"].clone()), (StatusCode::OK, Some(0), json!([])));

    // The import route accepts bodies far above the server's general limit (64 KiB in tests).
    let big: String = (0..6_000).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    let body = zip_of(&[("memory/short_term/20250101_000000_big.md".to_owned(), big.into_bytes())]);
    assert!(body.len() > 100 * 1024);
    let r = app.import_zip(&key, body).await;
    assert_eq!((r.status, r.body["created"].as_u64()), (StatusCode::OK, Some(1)), "{}", r.text);
    let r = app.post("/api/v1/memories", &key, json!({ "title": "t", "content": "x".repeat(100 * 1024) })).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    app.call(
        Method::DELETE,
        &format!("/api/v1/memories/{}?permanent=true", app.all_memories(&key).await[0]["id"].as_str().unwrap()),
        &key,
        None,
    )
    .await;

    // Per-file failures are reported, the good files still import.
    let good = "---\nid: 0195f7a0-0000-7000-8000-000000000001\ntitle: Good\ntype: short_term\nstatus: active\ntags: []\nmetadata: {}\nscope: null\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\naccessed_at: 2026-01-01T00:00:00Z\narchived_at: null\n---\nbody";
    let tampered = good.replace("0001", "0002").replace("body", "edited") + "";
    let tampered = tampered.replace(
        "archived_at: null\n",
        "archived_at: null\ncontent_hash: 0000000000000000000000000000000000000000000000000000000000000000\n",
    );
    let entries = vec![
        ("short_term/good.md".to_owned(), good.as_bytes().to_vec()),
        ("short_term/tampered.md".to_owned(), tampered.into_bytes()),
        ("short_term/binary.md".to_owned(), vec![0xff, 0xfe, 0x00]),
        ("short_term/huge.md".to_owned(), vec![b'a'; 2 * 1024 * 1024]),
        (
            "short_term/empty_title.md".to_owned(),
            good.replace("title: Good", "title: ''").replace("0001", "0003").into_bytes(),
        ),
        ("__MACOSX/short_term/._good.md".to_owned(), vec![0, 1, 2]),
    ];
    let r = app.import_zip(&key, zip_of(&entries)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["created"].as_u64(), r.body["skipped"].as_u64(), r.body["failed"].as_u64()),
        (Some(1), Some(1), Some(4)),
        "{}",
        r.text
    );
    let status: HashMap<&str, &str> = r.body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["status"].as_str().unwrap()))
        .collect();
    assert_eq!(status["short_term/good.md"], "created");
    for f in r.body["files"].as_array().unwrap().iter().filter(|f| f["status"] == "failed") {
        assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()), "{f}");
    }
    let all = app.all_memories(&key).await;
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0]["id"].as_str(), all[0]["created_at"].as_str()),
        (Some("0195f7a0-0000-7000-8000-000000000001"), Some("2026-01-01T00:00:00Z"))
    );
    app.stop().await;
}
