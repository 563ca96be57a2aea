use super::fixtures::*;
use crate::memory::context::{DETAILED_CHARS, FULL_CHARS, MAX_CONTEXT_TOKENS, SUMMARY_CHARS, render_body};
use crate::memory::{
    ContextCandidates, ContextPackage, ContextParams, ContextRequest, Memory, MemoryType, RenderMode, Tier,
    count_tokens, pack_context,
};
use chrono::Duration;

/// Short and long memories with varied sizes, unicode, headings and odd whitespace.
fn corpus() -> (Vec<Memory>, Vec<Memory>) {
    let bodies = [
        "Short note.".to_string(),
        "# Heading only\n\nThe real first paragraph talks about **deploys** and `cargo`.\n\nSecond.".into(),
        "Ünïcödé — 日本語のテキスト 🚀 ".repeat(40),
        "word ".repeat(900),
        "line\n".repeat(300),
        "".into(),
        "x".repeat(1500),
        "- item one\n- item two\n\n```rust\nfn main() {}\n```\n".repeat(20),
        "<|endoftext|> special-looking text ".repeat(10),
        "    indented code\n\n\n\n   spaced    out   ".repeat(30),
        "Ends here.".into(),
    ];
    let mk = |t: MemoryType, off: u128| -> Vec<Memory> {
        bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let title = format!("{} memory {i} — ✓", t.as_str());
                let tags: &[&str] = if i % 2 == 0 { &["alpha", "beta gamma"] } else { &[] };
                mem(off + i as u128, &title, b, t, tags, t0() - Duration::hours(i as i64))
            })
            .collect()
    };
    (mk(MemoryType::ShortTerm, 100), mk(MemoryType::LongTerm, 200))
}

fn params(tier: u8, query: Option<&str>, max_tokens: usize) -> ContextParams {
    ContextRequest { tier: Some(tier), query: query.map(Into::into), max_tokens: Some(max_tokens), scope: None }
        .validate()
        .unwrap()
}

fn check(p: &ContextPackage, max: usize, all: &[Memory]) {
    assert!(p.token_count <= max, "budget {max} exceeded: {}", p.token_count);
    assert_eq!(p.token_count, count_tokens(&p.context), "token_count is exact");
    assert_eq!(p.memories_included, p.included_ids.len());
    assert_eq!(p.context.matches("\n### ").count(), p.memories_included, "one section per memory");
    for id in &p.included_ids {
        let m = all.iter().find(|m| m.id == *id).unwrap();
        assert!(p.context.contains(&format!("\n### {}\n", m.title)));
    }
}

/// Every budget from 1 to 150, then sweeps up to past the tier-2 default.
fn budget_sweep(tier: u8) {
    let (short, long) = corpus();
    let all: Vec<Memory> = short.iter().chain(&long).cloned().collect();
    let ranked: Vec<Memory> = all.iter().rev().cloned().collect();
    for max in (1..=150).chain((151..=1_000).step_by(11)).chain((1_000..=9_000).step_by(257)) {
        let p =
            pack_context(&params(tier, None, max), ContextCandidates::Recent { short_term: &short, long_term: &long });
        check(&p, max, &all);
        let p = pack_context(&params(tier, Some("deploy cargo"), max), ContextCandidates::Ranked(&ranked));
        check(&p, max, &all);
    }
}

#[test]
fn budget_never_exceeded_tier0() {
    budget_sweep(0);
}

#[test]
fn budget_never_exceeded_tier1() {
    budget_sweep(1);
}

#[test]
fn budget_never_exceeded_tier2() {
    budget_sweep(2);
}

#[test]
fn tier_rules_pick_counts() {
    let (short, long) = corpus();
    let all: Vec<Memory> = short.iter().chain(&long).cloned().collect();
    let want = [(2, 0), (5, 2), (10, 5)];
    for (tier, (s, l)) in want.into_iter().enumerate() {
        let p = pack_context(
            &params(tier as u8, None, MAX_CONTEXT_TOKENS),
            ContextCandidates::Recent { short_term: &short, long_term: &long },
        );
        check(&p, MAX_CONTEXT_TOKENS, &all);
        let expect: Vec<_> = short.iter().take(s).chain(long.iter().take(l)).map(|m| m.id).collect();
        assert_eq!(p.included_ids, expect, "tier {tier}");
        assert!(!p.truncated);
        assert_eq!(p.tier, tier as u8);
        assert_eq!(p.context.contains("## Long-term memories"), l > 0);
        assert_eq!(Tier::try_from(tier as u8).unwrap().ranked_limit(), s + l);
    }
}

#[test]
fn ranked_keeps_order_and_renders_by_type() {
    let (short, long) = corpus();
    let ranked = vec![long[1].clone(), short[1].clone(), long[3].clone()];
    let p = pack_context(&params(0, Some("deploys"), 2_000), ContextCandidates::Ranked(&ranked));
    assert_eq!(p.included_ids, [long[1].id, short[1].id], "tier 0 takes 2");
    assert!(p.context.contains("Query: deploys"));
    assert!(p.context.contains("## Relevant memories"));
    let i = p.context.find(&long[1].title).unwrap();
    let j = p.context.find(&short[1].title).unwrap();
    assert!(i < j, "most relevant first");
}

#[test]
fn render_modes() {
    let c = "# Title\n\nFirst   paragraph\nwraps here.\n\nSecond paragraph.";
    assert_eq!(render_body(c, RenderMode::Summary), "First paragraph wraps here.");
    assert_eq!(render_body("## a\n\n### b", RenderMode::Summary), "## a");
    let long = "word ".repeat(1000);
    let s = render_body(&long, RenderMode::Summary);
    assert!(s.chars().count() <= SUMMARY_CHARS && s.ends_with('…'), "{s}");
    assert!(!s.contains("wor…"), "cut at a word boundary");
    let d = render_body(&long, RenderMode::Detailed);
    assert!(d.chars().count() <= DETAILED_CHARS && d.ends_with('…'));
    let f = render_body(&"é".repeat(10_000), RenderMode::Full);
    assert_eq!(f.chars().count(), FULL_CHARS);
    assert_eq!(render_body("  short  ", RenderMode::Full), "short");
}

#[test]
fn section_shows_title_type_tags_date() {
    let m = mem(1, "Deploy notes", "Body text.", MemoryType::ShortTerm, &["ops", "Release Day"], t0());
    let p = pack_context(&params(1, None, 500), ContextCandidates::Recent { short_term: &[m], long_term: &[] });
    assert!(p.context.starts_with("# Memory context (tier 1)\n"));
    assert!(
        p.context.contains("### Deploy notes\n*short-term · 2026-11-23 · tags: ops, release_day*\n\nBody text.\n"),
        "{}",
        p.context
    );
}

#[test]
fn cuts_the_first_memory_that_does_not_fit_then_stops() {
    let big = mem(1, "Big", &"alpha beta gamma delta ".repeat(400), MemoryType::ShortTerm, &[], t0());
    let small = mem(2, "Small", "tiny", MemoryType::ShortTerm, &[], t0());
    let list = [big, small];
    let p = pack_context(&params(2, None, 300), ContextCandidates::Recent { short_term: &list, long_term: &[] });
    assert_eq!(p.included_ids, [list[0].id], "big one cut, packing stops");
    assert!(p.truncated);
    assert!(p.context.trim_end().ends_with('…'));
    assert!(p.token_count <= 300 && p.token_count > 250, "uses the budget: {}", p.token_count);
    // Too little room for a useful remainder: left out.
    let p = pack_context(&params(2, None, 40), ContextCandidates::Recent { short_term: &list, long_term: &[] });
    assert_eq!(p.memories_included, 0);
    assert!(p.truncated);
}

#[test]
fn tiny_budgets_and_empty_input() {
    let p = pack_context(&params(1, None, 1), ContextCandidates::Recent { short_term: &[], long_term: &[] });
    assert_eq!((p.context.as_str(), p.token_count, p.memories_included), ("", 0, 0));
    let p = pack_context(&params(1, None, 100), ContextCandidates::Ranked(&[]));
    assert!(p.context.contains("No memories found."));
    assert!(!p.truncated);
}

#[test]
fn request_validation() {
    let v = |r: ContextRequest| r.validate();
    let d = v(ContextRequest::default()).unwrap();
    assert_eq!((d.tier, d.max_tokens, d.query), (Tier::One, 2_000, None));
    assert_eq!(v(ContextRequest { tier: Some(0), ..Default::default() }).unwrap().max_tokens, 500);
    assert_eq!(v(ContextRequest { tier: Some(2), ..Default::default() }).unwrap().max_tokens, 8_000);
    assert_eq!(v(ContextRequest { tier: Some(3), ..Default::default() }).unwrap_err().field, "tier");
    assert_eq!(v(ContextRequest { max_tokens: Some(0), ..Default::default() }).unwrap_err().field, "max_tokens");
    assert_eq!(v(ContextRequest { max_tokens: Some(100_001), ..Default::default() }).unwrap_err().field, "max_tokens");
    assert!(v(ContextRequest { max_tokens: Some(100_000), ..Default::default() }).is_ok());
    assert_eq!(v(ContextRequest { query: Some("   ".into()), ..Default::default() }).unwrap().query, None);
    assert_eq!(v(ContextRequest { query: Some("q".repeat(1001)), ..Default::default() }).unwrap_err().field, "query");
    assert_eq!(v(ContextRequest { scope: Some("a b".into()), ..Default::default() }).unwrap_err().field, "scope");
    assert!(serde_json::from_str::<ContextRequest>(r#"{"tier":1,"bogus":2}"#).is_err());
}

#[test]
fn token_counter_is_cl100k() {
    // Reference values from OpenAI's tiktoken (cl100k_base).
    assert_eq!(count_tokens("hello world"), 2);
    assert_eq!(count_tokens("tiktoken is great!"), 6);
    assert_eq!(count_tokens(""), 0);
    assert_eq!(count_tokens("<|endoftext|>"), 7, "special tokens count as text");
}

#[test]
fn pathological_runs_are_counted() {
    for c in [" ", "\n", "a", "^", "é", "0"] {
        let s = c.repeat(FULL_CHARS + 600);
        assert!(count_tokens(&s) > 0);
    }
}
