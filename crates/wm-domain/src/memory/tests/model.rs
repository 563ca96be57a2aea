use super::fixtures::*;
use crate::memory::{CreateMemoryRequest, MemoryLimits, MemoryStatus, MemoryType, UpdateMemoryRequest, content_hash};
use serde_json::json;

fn req(title: &str, content: &str) -> CreateMemoryRequest {
    CreateMemoryRequest { title: title.into(), content: content.into(), ..Default::default() }
}

#[test]
fn create_defaults_and_derived_fields() {
    let l = MemoryLimits::default();
    let m = req("  Hello  ", "body").validate(&l).unwrap().into_memory(id(1), t0());
    assert_eq!(m.title, "Hello");
    assert_eq!(m.memory_type, MemoryType::ShortTerm);
    assert_eq!(m.status, MemoryStatus::Active);
    assert_eq!(m.size_bytes, 9);
    assert_eq!(m.content_hash, "230d8358dc8e8890b4c58deeb62912ee2f20357ae92a5cc861b98e68fe31acb5");
    assert_eq!(m.content_hash, content_hash("body"));
    assert_eq!((m.created_at, m.updated_at, m.accessed_at, m.archived_at), (t0(), t0(), t0(), None));
    assert!(m.metadata.is_empty());
}

#[test]
fn title_boundaries() {
    let l = MemoryLimits::default();
    assert!(req(&"a".repeat(500), "").validate(&l).is_ok());
    assert!(req(&"é".repeat(500), "").validate(&l).is_ok(), "counted in characters");
    assert!(req(&format!("  {}  ", "a".repeat(500)), "").validate(&l).is_ok(), "trimmed first");
    for bad in ["a".repeat(501), String::new(), "   ".into(), "two\nlines".into(), "nul\0".into()] {
        assert_eq!(req(&bad, "").validate(&l).unwrap_err().field, "title", "{bad:?}");
    }
}

#[test]
fn content_limit_and_nul() {
    let l = MemoryLimits { max_content_bytes: 10, ..Default::default() };
    assert!(req("t", &"a".repeat(10)).validate(&l).is_ok());
    assert_eq!(req("t", &"a".repeat(11)).validate(&l).unwrap_err().field, "content");
    assert_eq!(req("t", "ééééé!").validate(&l).unwrap_err().field, "content", "bytes, not chars");
    assert_eq!(req("t", "a\0b").validate(&l).unwrap_err().field, "content");
    let d = MemoryLimits::default();
    assert!(req("t", &"a".repeat(256 * 1024)).validate(&d).is_ok());
    assert!(req("t", &"a".repeat(256 * 1024 + 1)).validate(&d).is_err());
    assert!(req("t", "").validate(&d).is_ok(), "empty content is allowed");
}

#[test]
fn metadata_rules() {
    let l = MemoryLimits { max_metadata_bytes: 20, ..Default::default() };
    let with = |v| CreateMemoryRequest { metadata: Some(v), ..req("t", "") }.validate(&l);
    assert_eq!(with(json!({"a": {"b": [1, 2]}})).unwrap().metadata()["a"]["b"][1], 2);
    assert!(with(json!(null)).unwrap().metadata().is_empty());
    for bad in [json!([1]), json!("s"), json!(3), json!({"k": "x".repeat(20)}), json!({"k": "\u{0}"})] {
        assert_eq!(with(bad).unwrap_err().field, "metadata");
    }
    // {"k":"123456789012"} is exactly 20 bytes.
    assert!(with(json!({"k": "123456789012"})).is_ok());
    assert!(with(json!({"k": "1234567890123"})).is_err());
}

#[test]
fn scope_rules() {
    let l = MemoryLimits::default();
    let with = |s: &str| CreateMemoryRequest { scope: Some(s.into()), ..req("t", "") }.validate(&l);
    assert_eq!(with(" user:42 ").unwrap().scope(), Some("user:42"));
    assert!(with(&"s".repeat(200)).is_ok());
    for bad in ["", "  ", "a b", "ü", "tab\there", &"s".repeat(201)] {
        assert_eq!(with(bad).unwrap_err().field, "scope", "{bad:?}");
    }
}

#[test]
fn tag_errors_name_index_on_create() {
    let l = MemoryLimits::default();
    let r = CreateMemoryRequest { tags: vec!["a".into(), "b".into(), "c".into(), " ".into()], ..req("t", "") };
    assert_eq!(r.validate(&l).unwrap_err().field, "tags[3]");
}

#[test]
fn deserialize_denies_unknown_and_reads_type() {
    let r: CreateMemoryRequest =
        serde_json::from_value(json!({"title": "t", "content": "c", "type": "long_term"})).unwrap();
    assert_eq!(r.memory_type, Some(MemoryType::LongTerm));
    assert!(serde_json::from_value::<CreateMemoryRequest>(json!({"title": "t", "content": "c", "x": 1})).is_err());
    assert!(
        serde_json::from_value::<CreateMemoryRequest>(json!({"title": "t", "content": "c", "type": "mid"})).is_err()
    );
    let m = mem(1, "t", "c", MemoryType::LongTerm, &[], t0());
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(v["type"], "long_term");
    assert_eq!(v["status"], "active");
}

#[test]
fn patch_tags_replace_add_remove_together() {
    let l = MemoryLimits::default();
    let mut m = mem(1, "t", "c", MemoryType::ShortTerm, &["old", "keep"], t0());
    let p = UpdateMemoryRequest {
        tags: Some(vec!["Keep".into(), "X  Y".into(), "gone".into()]),
        add_tags: vec!["new".into(), "keep".into()],
        remove_tags: vec![" GONE ".into()],
        ..Default::default()
    }
    .validate(&l)
    .unwrap();
    let later = t0() + chrono::Duration::hours(1);
    assert!(p.apply(&mut m, &l, later).unwrap());
    assert_eq!(m.tags, ["keep", "x_y", "new"]);
    assert_eq!(m.updated_at, later);

    // add + remove without replace; removing a tag that is absent is fine.
    let p = UpdateMemoryRequest {
        add_tags: vec!["z".into()],
        remove_tags: vec!["keep".into(), "nope".into()],
        ..Default::default()
    };
    p.validate(&l).unwrap().apply(&mut m, &l, later).unwrap();
    assert_eq!(m.tags, ["x_y", "new", "z"]);
}

#[test]
fn patch_fields_and_no_op() {
    let l = MemoryLimits::default();
    let mut m = mem(1, "t", "c", MemoryType::ShortTerm, &[], t0());
    let later = t0() + chrono::Duration::hours(1);
    let empty = UpdateMemoryRequest::default().validate(&l).unwrap();
    assert!(empty.is_empty());
    assert!(!empty.apply(&mut m, &l, later).unwrap());
    assert_eq!(m.updated_at, t0(), "no change, no bump");
    let same = UpdateMemoryRequest { title: Some(" t ".into()), ..Default::default() };
    assert!(!same.validate(&l).unwrap().apply(&mut m, &l, later).unwrap());

    let p = UpdateMemoryRequest {
        title: Some("New".into()),
        content: Some("new content".into()),
        memory_type: Some(MemoryType::LongTerm),
        metadata: Some(json!({"k": 1})),
        ..Default::default()
    };
    assert!(p.validate(&l).unwrap().apply(&mut m, &l, later).unwrap());
    assert_eq!((m.title.as_str(), m.content.as_str(), m.memory_type), ("New", "new content", MemoryType::LongTerm));
    assert_eq!(m.metadata["k"], 1);
    assert_eq!(m.content_hash, content_hash("new content"));
    assert_eq!(m.size_bytes, 3 + 11);
}

#[test]
fn patch_validation_names_fields_and_tag_count() {
    let l = MemoryLimits { max_tags: 2, ..Default::default() };
    let bad = |r: UpdateMemoryRequest| r.validate(&l).unwrap_err().field;
    assert_eq!(bad(UpdateMemoryRequest { title: Some("".into()), ..Default::default() }), "title");
    assert_eq!(bad(UpdateMemoryRequest { metadata: Some(json!([])), ..Default::default() }), "metadata");
    assert_eq!(bad(UpdateMemoryRequest { add_tags: vec!["a".into(), "".into()], ..Default::default() }), "add_tags[1]");
    assert_eq!(bad(UpdateMemoryRequest { remove_tags: vec![" ".into()], ..Default::default() }), "remove_tags[0]");

    let mut m = mem(1, "t", "c", MemoryType::ShortTerm, &["a", "b"], t0());
    let before = m.clone();
    let p = UpdateMemoryRequest { add_tags: vec!["c".into()], title: Some("changed".into()), ..Default::default() };
    let e = p.validate(&l).unwrap().apply(&mut m, &l, t0()).unwrap_err();
    assert_eq!(e.field, "tags");
    assert_eq!(m, before, "failed patch changes nothing");
    let p = UpdateMemoryRequest { add_tags: vec!["c".into()], remove_tags: vec!["a".into()], ..Default::default() };
    p.validate(&l).unwrap().apply(&mut m, &l, t0()).unwrap();
    assert_eq!(m.tags, ["b", "c"]);
}

#[test]
fn archive_and_restore() {
    let mut m = mem(1, "t", "c", MemoryType::ShortTerm, &[], t0());
    let later = t0() + chrono::Duration::days(1);
    m.archive(later);
    assert_eq!((m.status, m.archived_at, m.updated_at), (MemoryStatus::Archived, Some(later), later));
    m.restore(later);
    assert_eq!((m.status, m.archived_at), (MemoryStatus::Active, None));
}

#[test]
fn search_candidates_default_and_bound() {
    let d = MemoryLimits::default();
    assert_eq!(d.search_candidates, 1_000);
    assert!(d.validate().is_ok());
    assert!(MemoryLimits { search_candidates: 100, ..d }.validate().is_ok(), "the largest search limit");
    let err = MemoryLimits { search_candidates: 99, ..d }.validate().unwrap_err();
    assert_eq!(err.field, "search_candidates");
    let partial: MemoryLimits = serde_json::from_value(json!({"max_tags": 3})).unwrap();
    assert_eq!(partial.search_candidates, 1_000, "absent in config: the default");
}
