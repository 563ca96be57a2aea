//! Full-text search (`POST /search`) and context packages (`POST /context`).

use super::list::check_limit;
use super::{Memories, preview};
use crate::CoreResult;
use serde::{Deserialize, Serialize};
use wm_domain::ValidationError;
use wm_domain::ids::UserId;
use wm_domain::memory::context::MAX_QUERY_CHARS;
use wm_domain::memory::model::validate_scope;
use wm_domain::memory::tags::normalize_tags_field;
use wm_domain::memory::{ContextCandidates, ContextPackage, ContextRequest, Memory, MemoryType, pack_context};
use wm_store::{MemoryQuery, SearchQuery, SortField, SortOrder, StatusFilter};

/// Default number of search results.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Most search results.
pub const MAX_SEARCH_LIMIT: u32 = 100;

/// A search (`POST /search`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchRequest {
    /// Words (all must match), `"quoted phrases"`, a trailing `prefix*`. Any text is safe;
    /// at most 1,000 characters. Absent or blank: newest first.
    #[serde(default)]
    pub query: Option<String>,
    /// All of these tags must be present.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Only this type.
    #[serde(rename = "type", default)]
    pub memory_type: Option<MemoryType>,
    /// Only this scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Include archived memories (default false).
    #[serde(default)]
    pub include_archived: bool,
    /// 1–100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The filters a search applied, after normalisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchFilters {
    /// The trimmed query, if any.
    pub query: Option<String>,
    /// Normalised tags.
    pub tags: Vec<String>,
    /// Type filter.
    #[serde(rename = "type")]
    pub memory_type: Option<MemoryType>,
    /// Scope filter.
    pub scope: Option<String>,
    /// Whether archived memories were searched.
    pub include_archived: bool,
    /// Result limit.
    pub limit: u32,
}

/// One hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResult {
    /// The memory.
    pub memory: Memory,
    /// Relevance, higher is better (0 without a query). Compare within one response only.
    pub score: f64,
    /// About 200 characters of the content around the first match.
    pub preview: String,
}

/// Search results, most relevant first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    /// Ranked hits.
    pub results: Vec<SearchResult>,
    /// Number of hits returned.
    pub count: usize,
    /// What was applied.
    pub filters: SearchFilters,
}

/// Trims a query; blank → `None`; too long or holding NUL → error on `field`.
fn check_query(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(q) = raw.map(str::trim).filter(|q| !q.is_empty()) else { return Ok(None) };
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ValidationError::new("query", format!("must be at most {MAX_QUERY_CHARS} characters")));
    }
    if q.contains('\0') {
        return Err(ValidationError::new("query", "must not contain NUL characters"));
    }
    Ok(Some(q.to_owned()))
}

// The configured bound is validated against the largest limit (`MemoryLimits::validate`).
const _: () = assert!(MAX_SEARCH_LIMIT <= wm_domain::memory::MIN_SEARCH_CANDIDATES);

impl Memories {
    /// How many matches a search of `limit` results ranks: the configured
    /// `MemoryLimits::search_candidates`, never fewer than `limit` (so a page is never cut short,
    /// even by an unvalidated configuration).
    fn search_candidates(&self, limit: u32) -> u32 {
        self.limits.search_candidates.max(limit)
    }

    /// Ranked full-text search. Never touches `accessed_at`. When the query matches more than
    /// `MemoryLimits::search_candidates` memories, only that many of the most recent are ranked.
    pub async fn search(&self, owner: UserId, req: &SearchRequest) -> CoreResult<SearchResponse> {
        let filters = SearchFilters {
            query: check_query(req.query.as_deref())?,
            tags: normalize_tags_field("tags", &req.tags, &self.limits)?,
            memory_type: req.memory_type,
            scope: validate_scope(req.scope.as_deref())?,
            include_archived: req.include_archived,
            limit: check_limit(req.limit, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT)?,
        };
        let query = SearchQuery {
            text: filters.query.clone(),
            tags: filters.tags.clone(),
            memory_type: filters.memory_type,
            scope: filters.scope.clone(),
            include_archived: filters.include_archived,
            limit: filters.limit,
            candidates: self.search_candidates(filters.limit),
        };
        let hits = self.store.search_memories(owner, &query).await?;
        let results: Vec<SearchResult> = hits
            .into_iter()
            .map(|h| SearchResult {
                preview: preview(&h.memory.content, filters.query.as_deref()),
                memory: h.memory,
                score: h.score,
            })
            .collect();
        Ok(SearchResponse { count: results.len(), results, filters })
    }

    /// A prompt-ready context package under a hard token budget. Memories included in the
    /// text get `accessed_at` moved to now.
    pub async fn context(&self, owner: UserId, req: &ContextRequest) -> CoreResult<ContextPackage> {
        let params = req.validate()?;
        check_query(params.query.as_deref())?;
        let rules = params.tier.rules();
        let package = match &params.query {
            Some(q) => {
                let query = SearchQuery {
                    text: Some(q.clone()),
                    scope: params.scope.clone(),
                    limit: params.tier.ranked_limit() as u32,
                    candidates: self.search_candidates(params.tier.ranked_limit() as u32),
                    ..SearchQuery::default()
                };
                let hits = self.store.search_memories(owner, &query).await?;
                let ranked: Vec<Memory> = hits.into_iter().map(|h| h.memory).collect();
                pack_context(&params, ContextCandidates::Ranked(&ranked))
            }
            None => {
                let newest = |t: MemoryType, n: usize| MemoryQuery {
                    memory_type: Some(t),
                    scope: params.scope.clone(),
                    status: StatusFilter::Active,
                    sort: SortField::Created,
                    order: SortOrder::Desc,
                    limit: n as u32,
                    ..MemoryQuery::default()
                };
                let short_term =
                    self.store.list_memories(owner, &newest(MemoryType::ShortTerm, rules.short_term)).await?;
                let long_term = match rules.long_term {
                    0 => Vec::new(),
                    n => self.store.list_memories(owner, &newest(MemoryType::LongTerm, n)).await?,
                };
                pack_context(&params, ContextCandidates::Recent { short_term: &short_term, long_term: &long_term })
            }
        };
        if !package.included_ids.is_empty() {
            self.store.touch_memories(owner, &package.included_ids, self.now()).await?;
        }
        Ok(package)
    }
}
