use crate::memory::tags::normalize_tags_field;
use crate::memory::{MemoryLimits, TagError, normalize_tag, normalize_tags};

#[test]
fn trims_lowercases_and_joins_whitespace_runs() {
    assert_eq!(normalize_tag("  Rust  Lang \t Tips ", 64).unwrap(), "rust_lang_tips");
    assert_eq!(normalize_tag("a\u{00a0}\u{2003}b", 64).unwrap(), "a_b");
    assert_eq!(normalize_tag("already_ok", 64).unwrap(), "already_ok");
}

#[test]
fn unicode_lowercase() {
    assert_eq!(normalize_tag("ÄÖÜ Straße", 64).unwrap(), "äöü_straße");
    assert_eq!(normalize_tag("ΣΟΦΙΑ", 64).unwrap(), "σοφια");
    assert_eq!(normalize_tag("日本語", 64).unwrap(), "日本語");
}

#[test]
fn rejects_empty_control_and_long() {
    assert_eq!(normalize_tag("   \t\n", 64), Err(TagError::Empty));
    assert_eq!(normalize_tag("", 64), Err(TagError::Empty));
    assert_eq!(normalize_tag("a\u{0}b", 64), Err(TagError::ControlChar));
    assert_eq!(normalize_tag("a\u{1b}b", 64), Err(TagError::ControlChar));
    let max = "é".repeat(64);
    assert_eq!(normalize_tag(&max, 64).unwrap(), max);
    assert_eq!(normalize_tag(&"é".repeat(65), 64), Err(TagError::TooLong { max: 64 }));
    // Length counts the normalised form: collapsed whitespace counts once.
    assert!(normalize_tag(&format!("{}     {}", "a".repeat(31), "b".repeat(32)), 64).is_ok());
}

#[test]
fn dedupe_keeps_first_seen_order() {
    let l = MemoryLimits::default();
    let got = normalize_tags(&["B", "a", " b ", "C d", "c   D", "A"], &l).unwrap();
    assert_eq!(got, ["b", "a", "c_d"]);
    assert!(normalize_tags::<&str>(&[], &l).unwrap().is_empty());
}

#[test]
fn errors_name_the_index() {
    let l = MemoryLimits::default();
    let e = normalize_tags(&["ok", "fine", "also", "  "], &l).unwrap_err();
    assert_eq!(e.field, "tags[3]");
    let e = normalize_tags(&["ok".to_string(), "x".repeat(65)], &l).unwrap_err();
    assert_eq!(e.field, "tags[1]");
    let e = normalize_tags_field("add_tags", &["", "x"], &l).unwrap_err();
    assert_eq!(e.field, "add_tags[0]");
}

#[test]
fn count_limit_applies_after_dedupe() {
    let l = MemoryLimits { max_tags: 3, ..Default::default() };
    assert_eq!(normalize_tags(&["a", "A", "b", "B", "c", "c"], &l).unwrap().len(), 3);
    let e = normalize_tags(&["a", "b", "c", "d"], &l).unwrap_err();
    assert_eq!(e.field, "tags");
    let fifty: Vec<String> = (0..50).map(|i| format!("t{i}")).collect();
    assert_eq!(normalize_tags(&fifty, &MemoryLimits::default()).unwrap().len(), 50);
    let fifty_one: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    assert!(normalize_tags(&fifty_one, &MemoryLimits::default()).is_err());
}
