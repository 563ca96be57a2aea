use super::fixtures::*;
use crate::memory::{MemoryLimits, MemoryStatus, MemoryType, parse_legacy_v2};
use chrono::{TimeZone, Utc};

fn parse(path: &str, text: &str) -> crate::memory::LegacyMemory {
    parse_legacy_v2(path, text, &MemoryLimits::default()).unwrap()
}

#[test]
fn typical_short_term_file() {
    let text = "---\ntitle: Debugging tip: check logs\ncreated: 2025-11-12T12:00:00Z\ntags: Heuristic, debugging , heuristic\n---\n\nAlways read the logs first.\n";
    let l = parse("memory/short_term/20251112_120000_debugging_tip.md", text);
    let m = &l.memory;
    assert_eq!(m.title(), "Debugging tip: check logs");
    assert_eq!(m.content(), "Always read the logs first.");
    assert_eq!(m.memory_type(), MemoryType::ShortTerm);
    assert_eq!(m.tags(), ["heuristic", "debugging"]);
    assert_eq!(l.status, MemoryStatus::Active);
    assert_eq!(l.created_at, Some(Utc.with_ymd_and_hms(2025, 11, 12, 12, 0, 0).unwrap()));
    assert_eq!(m.metadata()["legacy"]["path"], "memory/short_term/20251112_120000_debugging_tip.md");
    let stored = l.clone().into_memory(id(7), t0());
    assert_eq!((stored.id, stored.created_at, stored.status), (id(7), l.created_at.unwrap(), MemoryStatus::Active));
    assert_eq!(stored.archived_at, None);
}

#[test]
fn bracket_tags_type_line_and_extra_fields() {
    let text = "---\ntitle: \"Quoted\"\ncreated: 2025-11-12T08:30:00\ntags: [\"a b\", 'c', ]\ntype: long_term\npromoted_from: 20251101_000000_x.md\n---\nBody\n";
    let l = parse("memory/short_term/whatever.md", text);
    assert_eq!(l.memory.title(), "Quoted");
    assert_eq!(l.memory.tags(), ["a_b", "c"]);
    assert_eq!(l.memory.memory_type(), MemoryType::LongTerm, "type line wins over folder");
    assert_eq!(l.memory.metadata()["legacy"]["promoted_from"], "20251101_000000_x.md");
    assert_eq!(l.created_at, Some(Utc.with_ymd_and_hms(2025, 11, 12, 8, 30, 0).unwrap()));
}

#[test]
fn missing_title_from_heading_or_file_name() {
    let l = parse("memory/long_term/20250102_030405_my_great_idea.md", "# The Idea\n\nDetails.");
    assert_eq!(l.memory.title(), "The Idea");
    assert_eq!(l.memory.memory_type(), MemoryType::LongTerm);
    assert_eq!(l.created_at, Some(Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap()), "from the file name");
    assert_eq!(l.memory.content(), "# The Idea\n\nDetails.");

    let l = parse("memory/short_term/20250102_030405_my_great_idea.md", "---\ntags: x\n---\nno heading");
    assert_eq!(l.memory.title(), "my great idea");
    assert_eq!(l.memory.tags(), ["x"]);
    let l = parse("notes.md", "");
    assert_eq!((l.memory.title(), l.created_at), ("notes", None));
}

#[test]
fn archive_folder_and_lenient_bits() {
    let text = format!("---\ntitle: {}\ntags: ok, , {}\n---\nbody", "t".repeat(600), "x".repeat(100));
    let l = parse("memory/archive/20251112_120000_old.md", &text);
    assert_eq!(l.status, MemoryStatus::Archived);
    assert_eq!(l.memory.title().chars().count(), 500, "over-long title cut");
    assert_eq!(l.memory.tags(), ["ok"], "invalid tags dropped");
    let m = l.into_memory(id(1), t0());
    assert_eq!((m.status, m.archived_at), (MemoryStatus::Archived, Some(t0())));
    let l = parse("C:\\wm\\memory\\long_term\\a.md", "---\nstatus: archived\narchived_at: 2025-12-01\n---\nx");
    assert_eq!((l.memory.memory_type(), l.status), (MemoryType::LongTerm, MemoryStatus::Archived));
    assert_eq!(l.archived_at, Some(Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap()));
}

#[test]
fn dashes_inside_values_do_not_split() {
    // 2.x split on the first "---" anywhere; we only accept a whole `---` line.
    let l = parse("memory/short_term/a.md", "---\ntitle: before---after\n---\nbody --- with dashes\n---\nand a rule");
    assert_eq!(l.memory.title(), "before---after");
    assert_eq!(l.memory.content(), "body --- with dashes\n---\nand a rule");
}

#[test]
fn content_limit_still_applies() {
    let small = MemoryLimits { max_content_bytes: 4, ..Default::default() };
    let e = parse_legacy_v2("memory/short_term/a.md", "---\ntitle: t\n---\ntoo long", &small).unwrap_err();
    assert_eq!(e.field, "content");
}
