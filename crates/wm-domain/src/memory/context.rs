//! Context packing: turn candidate memories into prompt-ready markdown under a hard token budget.
//!
//! The caller fetches the candidates (see [`Tier::rules`] for how many) and this module renders
//! them. Tiers (no query):
//!
//! | tier | short-term | long-term | default `max_tokens` |
//! |---|---|---|---|
//! | 0 | 2 newest, [`RenderMode::Summary`] | none | 500 |
//! | 1 | 5 newest, [`RenderMode::Detailed`] | 2 newest, [`RenderMode::Summary`] | 2,000 |
//! | 2 | 10 newest, [`RenderMode::Full`] | 5 newest, [`RenderMode::Full`] | 8,000 |
//!
//! With a query the caller passes the search-ranked list; the first `short + long` of the tier are
//! rendered, most relevant first, each in its type's mode for the tier.
//!
//! The budget is measured with cl100k_base ([`count_tokens`]). Memories are added in order while
//! they fit; the first one that does not fit is cut to fit when at least
//! [`MIN_TRUNCATED_BODY_CHARS`] of its body would remain, and packing stops there.

use super::model::{Memory, MemoryType, validate_scope};
use super::tokens::{count_tokens, token_ends};
use crate::ValidationError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Summary: first paragraph (leading heading-only paragraphs skipped), whitespace collapsed,
/// at most this many characters.
pub const SUMMARY_CHARS: usize = 200;
/// Detailed: trimmed content, at most this many characters.
pub const DETAILED_CHARS: usize = 1_500;
/// Full: trimmed content, at most this many characters.
pub const FULL_CHARS: usize = 6_000;
/// Default `max_tokens` for tiers 0, 1, 2.
pub const DEFAULT_MAX_TOKENS: [usize; 3] = [500, 2_000, 8_000];
/// Upper bound for `max_tokens`.
pub const MAX_CONTEXT_TOKENS: usize = 100_000;
/// A memory cut to fit the budget keeps at least this many characters of its body, else it is
/// left out.
pub const MIN_TRUNCATED_BODY_CHARS: usize = 80;
/// Maximum query length in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Appended to a body that was cut.
pub const ELLIPSIS: &str = "…";

/// Context tier: 0 (minimal), 1 (standard), 2 (full). Serialized as the integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Tier {
    /// Tier 0.
    Zero,
    /// Tier 1.
    One,
    /// Tier 2.
    Two,
}

impl TryFrom<u8> for Tier {
    type Error = ValidationError;
    fn try_from(n: u8) -> Result<Self, ValidationError> {
        match n {
            0 => Ok(Tier::Zero),
            1 => Ok(Tier::One),
            2 => Ok(Tier::Two),
            _ => Err(ValidationError::new("tier", "must be 0, 1 or 2")),
        }
    }
}

impl From<Tier> for u8 {
    fn from(t: Tier) -> u8 {
        t as u8
    }
}

/// How a memory's body is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderMode {
    /// First paragraph, at most [`SUMMARY_CHARS`].
    Summary,
    /// Content, at most [`DETAILED_CHARS`].
    Detailed,
    /// Content, at most [`FULL_CHARS`].
    Full,
}

/// How many memories of each type a tier takes, and how it renders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierRules {
    /// Newest short-term memories to fetch (no query).
    pub short_term: usize,
    /// Newest long-term memories to fetch (no query).
    pub long_term: usize,
    /// Rendering of short-term memories.
    pub short_term_mode: RenderMode,
    /// Rendering of long-term memories.
    pub long_term_mode: RenderMode,
}

impl Tier {
    /// The tier's rules (see the module table).
    pub fn rules(self) -> TierRules {
        use RenderMode::*;
        let (short_term, long_term, short_term_mode, long_term_mode) = match self {
            Tier::Zero => (2, 0, Summary, Summary),
            Tier::One => (5, 2, Detailed, Summary),
            Tier::Two => (10, 5, Full, Full),
        };
        TierRules { short_term, long_term, short_term_mode, long_term_mode }
    }

    /// How many search results to fetch with a query.
    pub fn ranked_limit(self) -> usize {
        let r = self.rules();
        r.short_term + r.long_term
    }

    /// Default token budget.
    pub fn default_max_tokens(self) -> usize {
        DEFAULT_MAX_TOKENS[self as usize]
    }

    fn mode_for(self, t: MemoryType) -> RenderMode {
        let r = self.rules();
        match t {
            MemoryType::ShortTerm => r.short_term_mode,
            MemoryType::LongTerm => r.long_term_mode,
        }
    }
}

/// Raw context request (`POST /context`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContextRequest {
    /// 0, 1 or 2 (default 1).
    #[serde(default)]
    pub tier: Option<u8>,
    /// Optional search query; blank means none.
    #[serde(default)]
    pub query: Option<String>,
    /// Hard token budget, 1..=100000 (default 500 / 2000 / 8000 by tier).
    #[serde(default)]
    pub max_tokens: Option<usize>,
    /// Only memories of this scope.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Validated context parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextParams {
    /// The tier.
    pub tier: Tier,
    /// Trimmed, non-empty query.
    pub query: Option<String>,
    /// Hard token budget.
    pub max_tokens: usize,
    /// Scope filter for the caller's fetch.
    pub scope: Option<String>,
}

impl ContextRequest {
    /// Validates tier, query, budget and scope.
    pub fn validate(&self) -> Result<ContextParams, ValidationError> {
        let tier = Tier::try_from(self.tier.unwrap_or(1))?;
        let query = self.query.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if query.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            return Err(ValidationError::new("query", format!("must be at most {MAX_QUERY_CHARS} characters")));
        }
        let max_tokens = self.max_tokens.unwrap_or(tier.default_max_tokens());
        if !(1..=MAX_CONTEXT_TOKENS).contains(&max_tokens) {
            return Err(ValidationError::new("max_tokens", format!("must be between 1 and {MAX_CONTEXT_TOKENS}")));
        }
        Ok(ContextParams {
            tier,
            query: query.map(str::to_owned),
            max_tokens,
            scope: validate_scope(self.scope.as_deref())?,
        })
    }
}

/// Candidates fetched by the caller.
#[derive(Debug, Clone, Copy)]
pub enum ContextCandidates<'a> {
    /// No query: newest first, per type.
    Recent {
        /// Newest short-term memories.
        short_term: &'a [Memory],
        /// Newest long-term memories.
        long_term: &'a [Memory],
    },
    /// With a query: search-ranked, most relevant first.
    Ranked(&'a [Memory]),
}

/// The packed context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContextPackage {
    /// Markdown, at most `max_tokens` cl100k_base tokens (empty when even the header won't fit).
    pub context: String,
    /// The tier used.
    pub tier: u8,
    /// Memories present in `context` (fully or cut).
    pub memories_included: usize,
    /// Exact cl100k_base token count of `context`.
    pub token_count: usize,
    /// Ids of the included memories, in order.
    pub included_ids: Vec<Uuid>,
    /// True when a candidate was cut or left out for lack of budget.
    pub truncated: bool,
}

/// Packs the candidates into markdown under `params.max_tokens`.
pub fn pack_context(params: &ContextParams, candidates: ContextCandidates<'_>) -> ContextPackage {
    let tier = params.tier;
    let rules = tier.rules();
    let picks: Vec<(&str, &Memory, RenderMode)> = match candidates {
        ContextCandidates::Recent { short_term, long_term } => short_term
            .iter()
            .take(rules.short_term)
            .map(|m| ("Short-term memories", m, rules.short_term_mode))
            .chain(long_term.iter().take(rules.long_term).map(|m| ("Long-term memories", m, rules.long_term_mode)))
            .collect(),
        ContextCandidates::Ranked(ranked) => ranked
            .iter()
            .take(tier.ranked_limit())
            .map(|m| ("Relevant memories", m, tier.mode_for(m.memory_type)))
            .collect(),
    };

    let max = params.max_tokens;
    let mut text = header(params);
    let header_len = text.len();
    let mut used = count_tokens(&text);
    if used > max {
        return package(tier, String::new(), 0, Vec::new(), !picks.is_empty());
    }
    // (start offset in `text`, id) of each section, to drop the last one if the exact recount
    // of the joined text ever comes out above the per-section sum.
    let mut sections: Vec<(usize, Uuid)> = Vec::new();
    let mut group = "";
    let mut truncated = false;
    for (g, memory, mode) in &picks {
        let prefix = if *g != group { format!("\n## {g}\n") } else { String::new() };
        let body = render_body(&memory.content, *mode);
        let section = format!("{prefix}{}", render_section(memory, &body));
        let cost = count_tokens(&section);
        let section = if used + cost <= max {
            used += cost;
            Some(section)
        } else {
            truncated = true;
            cut_to_fit(&prefix, memory, &body, max - used)
        };
        let Some(section) = section else { break };
        sections.push((text.len(), memory.id));
        text.push_str(&section);
        group = g;
        if truncated {
            break;
        }
    }
    truncated |= sections.len() < picks.len();
    if picks.is_empty() {
        let note = "\nNo memories found.\n";
        if used + count_tokens(note) <= max {
            text.push_str(note);
        }
    }
    let mut token_count = count_tokens(&text);
    while token_count > max {
        // The header alone was counted exactly, so this ends at the latest with the header.
        let start = sections.pop().map_or(header_len, |(start, _)| start);
        text.truncate(start);
        truncated = true;
        token_count = count_tokens(&text);
    }
    let ids = sections.into_iter().map(|(_, id)| id).collect();
    package(tier, text, token_count, ids, truncated)
}

fn package(tier: Tier, context: String, token_count: usize, ids: Vec<Uuid>, truncated: bool) -> ContextPackage {
    ContextPackage {
        token_count,
        context,
        tier: tier.into(),
        memories_included: ids.len(),
        included_ids: ids,
        truncated,
    }
}

fn header(params: &ContextParams) -> String {
    let tier = u8::from(params.tier);
    match &params.query {
        Some(q) => {
            let q: Vec<&str> = q.split_whitespace().collect();
            format!("# Memory context (tier {tier})\n\nQuery: {}\n", q.join(" "))
        }
        None => format!("# Memory context (tier {tier})\n"),
    }
}

fn render_section(m: &Memory, body: &str) -> String {
    let kind = match m.memory_type {
        MemoryType::ShortTerm => "short-term",
        MemoryType::LongTerm => "long-term",
    };
    let date = m.created_at.format("%Y-%m-%d");
    let tags = if m.tags.is_empty() { String::new() } else { format!(" · tags: {}", m.tags.join(", ")) };
    let body = if body.is_empty() { "(empty)" } else { body };
    format!("\n### {}\n*{kind} · {date}{tags}*\n\n{body}\n", m.title)
}

/// Renders a memory body in the given mode (see the constants).
pub fn render_body(content: &str, mode: RenderMode) -> String {
    match mode {
        RenderMode::Summary => cap_chars(&first_paragraph(content), SUMMARY_CHARS),
        RenderMode::Detailed => cap_chars(content.trim(), DETAILED_CHARS),
        RenderMode::Full => cap_chars(content.trim(), FULL_CHARS),
    }
}

fn first_paragraph(content: &str) -> String {
    let paragraphs: Vec<&str> = content.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    let is_heading = |p: &&str| p.lines().all(|l| l.trim_start().starts_with('#'));
    let p = paragraphs.iter().find(|p| !is_heading(p)).or(paragraphs.first()).copied().unwrap_or("");
    p.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts to at most `max` characters (incl. the ellipsis), preferring a word boundary in the
/// last fifth.
fn cap_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut = prefix_chars(s, max - 1);
    let floor = prefix_chars(s, max * 4 / 5).len();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i >= floor => &cut[..i],
        _ => cut,
    };
    format!("{}{ELLIPSIS}", cut.trim_end())
}

fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The section with the body cut to fit `budget`, if at least [`MIN_TRUNCATED_BODY_CHARS`]
/// characters of the body remain. The body is tokenised once; the cut lands on the token that
/// fills the budget and is verified (and moved back if needed) with an exact count.
fn cut_to_fit(prefix: &str, m: &Memory, body: &str, budget: usize) -> Option<String> {
    let render = |cut: &str| {
        let cut = format!("{}{ELLIPSIS}", cut.trim_end());
        format!("{prefix}{}", render_section(m, &cut))
    };
    let overhead = count_tokens(&render(""));
    let ends = token_ends(body);
    let mut n = budget.saturating_sub(overhead).min(ends.len().saturating_sub(1));
    while n > 0 {
        let mut end = ends[n - 1];
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        let cut = &body[..end];
        if cut.trim_end().chars().count() < MIN_TRUNCATED_BODY_CHARS {
            return None;
        }
        let section = render(cut);
        let cost = count_tokens(&section);
        if cost <= budget {
            return Some(section);
        }
        n = n.saturating_sub(cost - budget);
    }
    None
}
