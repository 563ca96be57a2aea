use super::fixtures::*;
use crate::memory::{
    Manifest, Memory, MemoryLimits, MemoryType, content_hash, export_path, parse_markdown, render_markdown,
};
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

fn roundtrip(m: &Memory) {
    let text = render_markdown(m);
    let back = parse_markdown(&text, &MemoryLimits::default()).unwrap_or_else(|e| panic!("{e}\n--- file ---\n{text}"));
    assert_eq!(&back, m, "--- file ---\n{text}");
    assert_eq!(back.content.as_bytes(), m.content.as_bytes());
    assert_eq!(render_markdown(&back), text, "stable");
}

#[test]
fn roundtrip_tricky_content() {
    let contents = [
        "",
        "plain",
        "---\n",
        "---\ntitle: fake\n---\nbody\n",
        "\n\n\nleading newlines and trailing\n\n\n",
        "line\r\nwindows\r\n---\r\n",
        "text\n---\nmore\n---",
        "...\n--- \n ---\n",
        "ünïcödé 日本語 🚀 \u{feff} \u{2028} \u{85}",
        "```yaml\n---\nkey: value\n---\n```\n",
        "no trailing newline",
    ];
    for (i, c) in contents.iter().enumerate() {
        roundtrip(&mem(i as u128, "Title", c, MemoryType::ShortTerm, &[], t0()));
    }
}

#[test]
fn roundtrip_tricky_fields() {
    let titles = [
        "key: value",
        "- dash",
        "# hash",
        "'single'",
        "\"double\"",
        "yes",
        "no",
        "null",
        "~",
        "123",
        "1.5",
        "true",
        "[not, a, list]",
        "{a: b}",
        "&anchor",
        "*alias",
        "!tag",
        "%percent",
        "@at",
        "`tick`",
        "trailing colon:",
        "ünïcödé 🚀",
        "a\u{200b}b",
        "a\u{2028}b",
        "tab\u{a0}nbsp",
        "---",
        "...",
    ];
    let later = t0() + Duration::nanoseconds(123_456_789);
    for (i, t) in titles.iter().enumerate() {
        let mut m = mem(i as u128, t, "c", MemoryType::LongTerm, &["a", "yes", "null", "ünï"], t0());
        m.scope = Some("user:42#x'\"".into());
        m.metadata = json!({
            "nested": {"deep": [1, 2.5, -3, 1e300, true, null, "---\n", "\u{85}\u{feff}\u{fffe}"]},
            "": "empty key",
            "yes": "no",
            "big": u64::MAX,
            "neg": i64::MIN,
            "multi\nline key": "multi\nline\n---\nvalue\n",
            "🚀": {},
            "list": [],
        })
        .as_object()
        .unwrap()
        .clone();
        m.updated_at = later;
        m.accessed_at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap() + Duration::microseconds(7);
        roundtrip(&m);
        m.archive(later + Duration::days(1));
        roundtrip(&m);
    }
}

#[test]
fn roundtrip_generated() {
    // Deterministic pseudo-random strings from an awkward alphabet.
    let alphabet: Vec<char> =
        "ab -:#'\"\n\r\t\\{}[],&*!|>%@`~?ü日🚀\u{85}\u{feff}\u{2028}\u{7f}\u{1}0.".chars().collect();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut s =
        |n: u64| -> String { (0..next() % n).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect() };
    for i in 0..300u128 {
        let title: String = s(40).chars().filter(|c| !c.is_control()).collect();
        let title = if title.trim().is_empty() { "t".into() } else { title };
        let mut m = mem(i, &title, &s(200), MemoryType::ShortTerm, &[], t0());
        m.metadata.insert(s(10), json!(s(30)));
        m.metadata.insert("arr".into(), json!([s(10), {"k": s(10)}]));
        roundtrip(&m);
    }
}

#[test]
fn frontmatter_has_all_fields() {
    let m = mem(1, "T", "body", MemoryType::ShortTerm, &[], t0());
    let text = render_markdown(&m);
    assert!(text.starts_with("---\nid: 00000000-0000-0000-0000-000000000001\n"), "{text}");
    for key in [
        "title",
        "type",
        "status",
        "tags",
        "metadata",
        "scope",
        "created_at",
        "updated_at",
        "accessed_at",
        "archived_at",
        "content_hash",
    ] {
        assert!(text.contains(&format!("\n{key}:")), "{key} missing:\n{text}");
    }
    assert!(text.ends_with("---\nbody"));
    assert!(text.contains(&content_hash("body")));
}

#[test]
fn parse_errors_and_hash_check() {
    let l = MemoryLimits::default();
    let m = mem(1, "T", "body", MemoryType::ShortTerm, &[], t0());
    let text = render_markdown(&m);
    assert_eq!(parse_markdown("no frontmatter", &l).unwrap_err().field, "frontmatter");
    assert_eq!(parse_markdown("---\nid: 1\n", &l).unwrap_err().field, "frontmatter");
    assert_eq!(parse_markdown("---\nid: nope\n---\n", &l).unwrap_err().field, "frontmatter");
    let edited = format!("{text} edited");
    assert_eq!(parse_markdown(&edited, &l).unwrap_err().field, "content_hash");
    let no_hash: String = edited.lines().filter(|l| !l.starts_with("content_hash:")).collect::<Vec<_>>().join("\n");
    let back = parse_markdown(&no_hash, &l).unwrap();
    assert_eq!(back.content, "body edited");
    assert_eq!(back.content_hash, content_hash("body edited"));
    let bad_title = text.replace("title: T", "title: ''");
    assert_eq!(parse_markdown(&bad_title, &l).unwrap_err().field, "title");
    let bad_tags = text.replace("tags: []", "tags: ['  ']");
    assert_eq!(parse_markdown(&bad_tags, &l).unwrap_err().field, "tags[0]");
    let small = MemoryLimits { max_content_bytes: 3, ..Default::default() };
    assert_eq!(parse_markdown(&text, &small).unwrap_err().field, "content");
    // Hand-written frontmatter with CRLF and a BOM.
    let hand = "\u{feff}---\r\nid: 00000000-0000-0000-0000-000000000009\r\ntitle: Hand made\r\ntype: long_term\r\nstatus: archived\r\ncreated_at: 2026-01-01T00:00:00Z\r\nupdated_at: 2026-01-02T00:00:00Z\r\naccessed_at: 2026-01-02T00:00:00Z\r\n---\r\nBody\r\n";
    let h = parse_markdown(hand, &l).unwrap();
    assert_eq!((h.title.as_str(), h.content.as_str()), ("Hand made", "Body\r\n"));
    assert_eq!(h.archived_at, Some(h.updated_at), "archived without archived_at is repaired");
}

#[test]
fn paths_and_manifest() {
    let mut a = mem(1, "a", "x", MemoryType::ShortTerm, &[], t0());
    let b = mem(2, "b", "y", MemoryType::LongTerm, &[], t0());
    let mut c = mem(3, "c", "z", MemoryType::LongTerm, &[], t0());
    c.archive(t0());
    assert_eq!(export_path(&a), "short_term/00000000-0000-0000-0000-000000000001.md");
    assert_eq!(export_path(&b), "long_term/00000000-0000-0000-0000-000000000002.md");
    assert_eq!(export_path(&c), "archive/00000000-0000-0000-0000-000000000003.md");
    let mut man = Manifest::new(t0());
    let (path, text) = man.add(&a);
    man.add(&b);
    man.add(&c);
    assert_eq!((man.counts.total, man.counts.short_term, man.counts.long_term, man.counts.archived), (3, 1, 1, 1));
    let f = man.file(&path).unwrap();
    assert!(f.matches(text.as_bytes()));
    a.content.push('!');
    assert!(!f.matches(render_markdown(&a).as_bytes()));
    let json = serde_json::to_string(&man).unwrap();
    assert_eq!(serde_json::from_str::<Manifest>(&json).unwrap(), man);
    assert!(json.contains("\"format\":\"whitemagic-export\""));
}
