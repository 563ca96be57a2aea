//! Memory operations over a whole account: search, context, consolidation, tags, stats.

use super::memory_query::RunsQuery;
use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wm_core::Core;
use wm_core::memories::{ConsolidationRunView, SearchRequest, SearchResponse, StatsView, TagsView};
use wm_domain::memory::{ConsolidateRequest, ContextPackage, ContextRequest};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(context))
        .routes(routes!(consolidate))
        .routes(routes!(list_consolidations))
        .routes(routes!(tags))
        .routes(routes!(stats))
}

/// Logged consolidation runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsolidationList {
    /// The runs.
    pub runs: Vec<ConsolidationRunView>,
}

/// Full-text search, ranked by relevance (title > tags > content). Any query text is safe.
/// Without a query: newest first.
#[utoipa::path(post, path = "/api/v1/search", tag = "memories", security(("bearer" = [])), request_body = SearchRequest,
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn search(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiJson(req): ApiJson<SearchRequest>,
) -> Result<Json<SearchResponse>, ApiError> {
    Ok(Json(core.memories.search(who.user_id, &req).await?))
}

/// A prompt-ready markdown context package under a hard token budget (cl100k_base).
/// Tier 0: 2 newest short-term summaries; 1: 5 short-term detailed + 2 long-term summaries;
/// 2: 10 short-term + 5 long-term in full. With `query`: the most relevant first.
/// Included memories get `accessed_at` updated. The body is optional (tier 1, no query).
#[utoipa::path(post, path = "/api/v1/context", tag = "memories", security(("bearer" = [])),
    request_body(content = ContextRequest, description = "Optional"),
    responses((status = 200, body = ContextPackage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn context(
    State(core): State<Core>,
    Auth(who): Auth,
    OptionalJson(req): OptionalJson<ContextRequest>,
) -> Result<Json<ContextPackage>, ApiError> {
    Ok(Json(core.memories.context(who.user_id, &req).await?))
}

/// Consolidate: merge exact duplicates, archive short-term memories older than
/// `min_age_days`, copy those with a promote tag to long-term, and write one digest per scope.
/// `dry_run` (the default) only reports — exactly what a real run would do. Every run is logged.
#[utoipa::path(post, path = "/api/v1/consolidate", tag = "memories", security(("bearer" = [])),
    request_body(content = ConsolidateRequest, description = "Optional; defaults: dry run, 7 days"),
    responses((status = 200, body = ConsolidationRunView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn consolidate(
    State(core): State<Core>,
    Auth(who): Auth,
    OptionalJson(req): OptionalJson<ConsolidateRequest>,
) -> Result<Json<ConsolidationRunView>, ApiError> {
    Ok(Json(core.memories.consolidate(who.user_id, &req).await?))
}

/// The consolidation log, newest first.
#[utoipa::path(get, path = "/api/v1/consolidations", tag = "memories", security(("bearer" = [])), params(RunsQuery),
    responses((status = 200, body = ConsolidationList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_consolidations(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> Result<Json<ConsolidationList>, ApiError> {
    Ok(Json(ConsolidationList { runs: core.memories.list_consolidations(who.user_id, q.limit).await? }))
}

/// Every tag with the number of memories carrying it and their types, most used first.
#[utoipa::path(get, path = "/api/v1/tags", tag = "memories", security(("bearer" = [])),
    responses((status = 200, body = TagsView), (status = 401, body = ErrorBody)))]
async fn tags(State(core): State<Core>, Auth(who): Auth) -> Result<Json<TagsView>, ApiError> {
    Ok(Json(core.memories.tags(who.user_id).await?))
}

/// Counts by type and status, tag totals, top tags, storage bytes, oldest and newest.
#[utoipa::path(get, path = "/api/v1/stats", tag = "memories", security(("bearer" = [])),
    responses((status = 200, body = StatsView), (status = 401, body = ErrorBody)))]
async fn stats(State(core): State<Core>, Auth(who): Auth) -> Result<Json<StatsView>, ApiError> {
    Ok(Json(core.memories.stats(who.user_id).await?))
}
