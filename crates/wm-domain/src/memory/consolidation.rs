//! Consolidation planning (pure): which memories to merge, archive, promote and digest.
//!
//! # Phases, in the order a run applies them
//!
//! 1. **Merge exact duplicates** (when `merge_duplicates`): active memories with the same
//!    `content_hash`, type and scope form a group; the oldest (by `created_at`, then id) is kept
//!    and gets the union of the group's tags (keeper's first, capped at `max_tags`); the others
//!    are archived.
//! 2. **Archive aged short-term memories**: active short-term memories still active after phase 1
//!    whose `created_at` is strictly before `now - min_age_days`. A kept duplicate can be aged out
//!    here (with its united tags); a merged-away duplicate is never aged, promoted or digested, so
//!    **no memory is archived twice** and each id appears in exactly one archive list.
//! 3. **Promote**: each memory archived in phase 2 that carries a promote tag is copied to a new
//!    active long-term memory (title, content, tags, metadata + `promoted_from`, scope) — unless an
//!    active long-term memory with the same content and scope exists (or was already promoted in
//!    this plan); those ids are listed in `skipped_promotions`.
//! 4. **Digest**: when phase 2 archived anything, one long-term digest memory **per scope**
//!    (scopes are the customer's separate end-users, so one digest must not list another's
//!    titles), listing each archived memory's title, date and tags.
//!
//! Everything is deterministic: the input is sorted by (`created_at`, id) first.

use super::model::{Memory, MemoryLimits, MemoryStatus, MemoryType, Metadata, NewMemory};
use super::tags::{normalize_tags_field, union_into};
use crate::ValidationError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// Tags that make an aged-out memory worth keeping in long-term.
pub const DEFAULT_PROMOTE_TAGS: [&str; 5] = ["heuristic", "pattern", "proven", "decision", "insight"];
/// Default minimum age (days) before a short-term memory is archived.
pub const DEFAULT_MIN_AGE_DAYS: u32 = 7;
/// Upper bound for `min_age_days`.
pub const MAX_MIN_AGE_DAYS: u32 = 3_650;
/// Tags of a digest memory.
pub const DIGEST_TAGS: [&str; 2] = ["digest", "consolidation"];

/// Raw consolidation request (`POST /consolidate`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsolidateRequest {
    /// Only report (default true).
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// Archive short-term memories older than this many days (default 7, max 3650).
    #[serde(default)]
    pub min_age_days: Option<u32>,
    /// Tags that promote an archived memory to long-term (default heuristic, pattern, proven,
    /// decision, insight).
    #[serde(default)]
    pub promote_tags: Option<Vec<String>>,
    /// Merge exact duplicates (default true).
    #[serde(default)]
    pub merge_duplicates: Option<bool>,
}

impl ConsolidateRequest {
    /// Validates into options; errors name `min_age_days` or `promote_tags[i]`.
    pub fn validate(&self, limits: &MemoryLimits) -> Result<ConsolidationOptions, ValidationError> {
        let d = ConsolidationOptions::default();
        let min_age_days = self.min_age_days.unwrap_or(d.min_age_days);
        if min_age_days > MAX_MIN_AGE_DAYS {
            return Err(ValidationError::new("min_age_days", format!("must be at most {MAX_MIN_AGE_DAYS}")));
        }
        let promote_tags = match &self.promote_tags {
            Some(t) => normalize_tags_field("promote_tags", t, limits)?,
            None => d.promote_tags,
        };
        Ok(ConsolidationOptions {
            dry_run: self.dry_run.unwrap_or(d.dry_run),
            min_age_days,
            promote_tags,
            merge_duplicates: self.merge_duplicates.unwrap_or(d.merge_duplicates),
        })
    }
}

/// Validated consolidation options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsolidationOptions {
    /// Only report; the plan is the same either way.
    pub dry_run: bool,
    /// Age threshold in days.
    pub min_age_days: u32,
    /// Normalised promote tags.
    pub promote_tags: Vec<String>,
    /// Whether phase 1 runs.
    pub merge_duplicates: bool,
}

impl Default for ConsolidationOptions {
    fn default() -> Self {
        Self {
            dry_run: true,
            min_age_days: DEFAULT_MIN_AGE_DAYS,
            promote_tags: DEFAULT_PROMOTE_TAGS.iter().map(|s| s.to_string()).collect(),
            merge_duplicates: true,
        }
    }
}

/// One duplicate group: `keep` survives with `tags_union`, `archive` are archived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merge {
    /// The oldest memory of the group.
    pub keep: Uuid,
    /// The other members, oldest first.
    pub archive: Vec<Uuid>,
    /// The keeper's new tag list.
    pub tags_union: Vec<String>,
}

/// A long-term copy of an archived memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Promotion {
    /// The archived source.
    pub source: Uuid,
    /// The long-term memory to create.
    pub memory: NewMemory,
}

/// Exactly what a real run does, in order: `merges`, `archive`, `promote`, `digests`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsolidationPlan {
    /// Echo of the option.
    pub dry_run: bool,
    /// Memories created before this instant were aged out.
    pub cutoff: DateTime<Utc>,
    /// Phase 1.
    pub merges: Vec<Merge>,
    /// Phase 2: aged short-term memories to archive.
    pub archive: Vec<Uuid>,
    /// Phase 3.
    pub promote: Vec<Promotion>,
    /// Phase 3: aged memories with a promote tag whose content already is in long-term.
    pub skipped_promotions: Vec<Uuid>,
    /// Phase 4: one per scope with archived memories (unscoped first, then by scope).
    pub digests: Vec<NewMemory>,
    #[serde(skip)]
    titles: HashMap<Uuid, String>,
}

/// An id with its title, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportItem {
    /// Memory id.
    pub id: Uuid,
    /// Memory title.
    pub title: String,
}

/// A merge, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportMerge {
    /// The kept memory.
    pub keep: ReportItem,
    /// The duplicates archived into it.
    pub archived: Vec<ReportItem>,
    /// The keeper's tags afterwards.
    pub tags: Vec<String>,
}

/// What a consolidation does (dry run) or did; the API response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsolidationReport {
    /// True when nothing was changed.
    pub dry_run: bool,
    /// Short-term memories created before this were aged out.
    pub cutoff: DateTime<Utc>,
    /// Aged short-term memories archived.
    pub archived_count: usize,
    /// Long-term copies created.
    pub promoted_count: usize,
    /// Duplicate groups merged.
    pub merged_groups: usize,
    /// Duplicates archived by merging.
    pub duplicates_archived: usize,
    /// Digest memories created.
    pub digest_count: usize,
    /// Aged memories archived.
    pub archived: Vec<ReportItem>,
    /// Sources promoted to long-term.
    pub promoted: Vec<ReportItem>,
    /// Sources not promoted because their content already is in long-term.
    pub skipped_promotions: Vec<ReportItem>,
    /// Duplicate merges.
    pub merges: Vec<ReportMerge>,
    /// Titles of the digests.
    pub digests: Vec<String>,
}

impl ConsolidationPlan {
    /// True when a run would change nothing.
    pub fn is_empty(&self) -> bool {
        self.merges.is_empty() && self.archive.is_empty()
    }

    /// Every id the plan archives (merges first, then aged), each exactly once.
    pub fn archived_ids(&self) -> Vec<Uuid> {
        let merged = self.merges.iter().flat_map(|m| m.archive.iter().copied());
        merged.chain(self.archive.iter().copied()).collect()
    }

    /// The serializable report.
    pub fn report(&self) -> ConsolidationReport {
        let item = |id: &Uuid| ReportItem { id: *id, title: self.titles.get(id).cloned().unwrap_or_default() };
        ConsolidationReport {
            dry_run: self.dry_run,
            cutoff: self.cutoff,
            archived_count: self.archive.len(),
            promoted_count: self.promote.len(),
            merged_groups: self.merges.len(),
            duplicates_archived: self.merges.iter().map(|m| m.archive.len()).sum(),
            digest_count: self.digests.len(),
            archived: self.archive.iter().map(item).collect(),
            promoted: self.promote.iter().map(|p| item(&p.source)).collect(),
            skipped_promotions: self.skipped_promotions.iter().map(item).collect(),
            merges: self
                .merges
                .iter()
                .map(|m| ReportMerge {
                    keep: item(&m.keep),
                    archived: m.archive.iter().map(item).collect(),
                    tags: m.tags_union.clone(),
                })
                .collect(),
            digests: self.digests.iter().map(|d| d.title.clone()).collect(),
        }
    }
}

/// Plans a consolidation of `memories` (an account's memories; archived ones are ignored).
pub fn plan_consolidation(
    memories: &[Memory],
    options: &ConsolidationOptions,
    limits: &MemoryLimits,
    now: DateTime<Utc>,
) -> ConsolidationPlan {
    let mut active: Vec<&Memory> = memories.iter().filter(|m| m.status == MemoryStatus::Active).collect();
    active.sort_by_key(|m| (m.created_at, m.id));
    let cutoff = now - Duration::days(i64::from(options.min_age_days));

    // Phase 1: duplicates. Groups keyed by (hash, type, scope), members oldest first.
    let mut merged_away: HashSet<Uuid> = HashSet::new();
    let mut united: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut merges = Vec::new();
    if options.merge_duplicates {
        let mut groups: BTreeMap<(&str, MemoryType, Option<&str>), Vec<&Memory>> = BTreeMap::new();
        for m in &active {
            groups.entry((&m.content_hash, m.memory_type, m.scope.as_deref())).or_default().push(m);
        }
        let mut groups: Vec<Vec<&Memory>> = groups.into_values().filter(|g| g.len() > 1).collect();
        groups.sort_by_key(|g| (g[0].created_at, g[0].id));
        for g in groups {
            let mut tags = g[0].tags.clone();
            for m in &g[1..] {
                union_into(&mut tags, &m.tags);
            }
            tags.truncate(limits.max_tags.max(g[0].tags.len()));
            merged_away.extend(g[1..].iter().map(|m| m.id));
            united.insert(g[0].id, tags.clone());
            merges.push(Merge { keep: g[0].id, archive: g[1..].iter().map(|m| m.id).collect(), tags_union: tags });
        }
    }

    // Phase 2: aging.
    let aged: Vec<&Memory> = active
        .iter()
        .copied()
        .filter(|m| !merged_away.contains(&m.id))
        .filter(|m| m.memory_type == MemoryType::ShortTerm && m.created_at < cutoff)
        .collect();
    let tags_of = |m: &Memory| united.get(&m.id).cloned().unwrap_or_else(|| m.tags.clone());

    // Phase 3: promotion.
    let mut in_long_term: HashSet<(String, Option<String>)> = active
        .iter()
        .filter(|m| m.memory_type == MemoryType::LongTerm && !merged_away.contains(&m.id))
        .map(|m| (m.content_hash.clone(), m.scope.clone()))
        .collect();
    let (mut promote, mut skipped_promotions) = (Vec::new(), Vec::new());
    for m in &aged {
        let tags = tags_of(m);
        if !tags.iter().any(|t| options.promote_tags.contains(t)) {
            continue;
        }
        if !in_long_term.insert((m.content_hash.clone(), m.scope.clone())) {
            skipped_promotions.push(m.id);
            continue;
        }
        let mut metadata = m.metadata.clone();
        metadata.insert("promoted_from".into(), Value::String(m.id.to_string()));
        let memory = NewMemory {
            title: m.title.clone(),
            content: m.content.clone(),
            memory_type: MemoryType::LongTerm,
            tags,
            metadata,
            scope: m.scope.clone(),
        };
        promote.push(Promotion { source: m.id, memory });
    }
    let promoted: HashSet<Uuid> = promote.iter().map(|p| p.source).collect();

    // Phase 4: digests, one per scope.
    let mut by_scope: BTreeMap<Option<&str>, Vec<&Memory>> = BTreeMap::new();
    for m in &aged {
        by_scope.entry(m.scope.as_deref()).or_default().push(m);
    }
    let digests =
        by_scope.into_iter().map(|(scope, ms)| digest(scope, &ms, &tags_of, &promoted, cutoff, now, limits)).collect();

    let titles = active.iter().map(|m| (m.id, m.title.clone())).collect();
    ConsolidationPlan {
        dry_run: options.dry_run,
        cutoff,
        merges,
        archive: aged.iter().map(|m| m.id).collect(),
        promote,
        skipped_promotions,
        digests,
        titles,
    }
}

fn digest(
    scope: Option<&str>,
    ms: &[&Memory],
    tags_of: &dyn Fn(&Memory) -> Vec<String>,
    promoted: &HashSet<Uuid>,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    limits: &MemoryLimits,
) -> NewMemory {
    let day = now.format("%Y-%m-%d");
    let n = ms.len();
    let noun = if n == 1 { "memory" } else { "memories" };
    let title = format!("Consolidation digest {day} ({n} {noun})");
    let mut content = format!(
        "# Consolidation digest {day}\n\nArchived {n} short-term {noun} created before {}.\n\n",
        cutoff.format("%Y-%m-%d %H:%M UTC")
    );
    for (i, m) in ms.iter().enumerate() {
        let tags = tags_of(m);
        let tags = if tags.is_empty() { "no tags".to_owned() } else { format!("tags: {}", tags.join(", ")) };
        let promo = if promoted.contains(&m.id) { " — promoted to long-term" } else { "" };
        let line = format!("- **{}** — {} — {tags}{promo}\n", m.title, m.created_at.format("%Y-%m-%d"));
        let more = format!("- … and {} more\n", n - i);
        if content.len() + line.len() + more.len() > limits.max_content_bytes {
            content.push_str(&more);
            break;
        }
        content.push_str(&line);
    }
    let mut metadata = Metadata::new();
    metadata.insert("digest_of".into(), Value::from(n));
    metadata.insert("cutoff".into(), Value::String(cutoff.to_rfc3339()));
    NewMemory {
        title,
        content,
        memory_type: MemoryType::LongTerm,
        tags: DIGEST_TAGS.iter().map(|s| s.to_string()).collect(),
        metadata,
        scope: scope.map(str::to_owned),
    }
}
