//! Memory CRUD: create (one or a batch), list, get, update, archive/delete, restore.
//! Search, context, consolidation and statistics are in `memory_ops`, export/import in
//! `memories_io`. Handlers only translate; the rules live in `wm_core::memories`.

use super::memory_query::{DeleteQuery, ListQueryDoc, parse_list_query};
use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use wm_core::Core;
use wm_core::memories::{BatchCreateRequest, BatchCreated, MemoryPage};
use wm_domain::memory::{CreateMemoryRequest, Memory, UpdateMemoryRequest};

/// Every memory route (CRUD, operations, export/import).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_memories, create_memory))
        .routes(routes!(create_batch))
        .routes(routes!(get_memory, patch_memory, put_memory, delete_memory))
        .routes(routes!(restore_memory))
        .merge(super::memory_ops::router())
        .merge(super::memories_io::router())
}

/// Create a memory. Answers 201 with the memory and its `Location`.
#[utoipa::path(post, path = "/api/v1/memories", tag = "memories", security(("bearer" = [])), request_body = CreateMemoryRequest,
    responses((status = 201, body = Memory, headers(("Location" = String, description = "URL of the new memory"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_memory(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiJson(req): ApiJson<CreateMemoryRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let memory = core.memories.create(who.user_id, &req).await?;
    let location =
        HeaderValue::from_str(&format!("/api/v1/memories/{}", memory.id)).map_err(|_| ApiError::internal())?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(memory)))
}

/// Create 1–100 memories in one transaction (all or none).
#[utoipa::path(post, path = "/api/v1/memories/batch", tag = "memories", security(("bearer" = [])), request_body = BatchCreateRequest,
    responses((status = 201, body = BatchCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_batch(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiJson(req): ApiJson<BatchCreateRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let memories = core.memories.create_batch(who.user_id, &req).await?;
    Ok((StatusCode::CREATED, Json(BatchCreated { memories })))
}

/// List memories: filter, sort, and page with `next_cursor`.
#[utoipa::path(get, path = "/api/v1/memories", tag = "memories", security(("bearer" = [])), params(ListQueryDoc),
    responses((status = 200, body = MemoryPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_memories(
    State(core): State<Core>,
    Auth(who): Auth,
    RawQuery(q): RawQuery,
) -> Result<Json<MemoryPage>, ApiError> {
    let req = parse_list_query(q.as_deref())?;
    Ok(Json(core.memories.list(who.user_id, &req).await?))
}

/// Get one memory. Reading it moves its `accessed_at` to now.
#[utoipa::path(get, path = "/api/v1/memories/{id}", tag = "memories", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Memory id")),
    responses((status = 200, body = Memory), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_memory(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Memory>, ApiError> {
    Ok(Json(core.memories.get(who.user_id, id).await?))
}

/// Change a memory: any of title, content, type, metadata (replaced), `tags` (replace), then
/// `add_tags`, then `remove_tags`. Absent fields stay as they are.
#[utoipa::path(patch, path = "/api/v1/memories/{id}", tag = "memories", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Memory id")), request_body = UpdateMemoryRequest,
    responses((status = 200, body = Memory), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn patch_memory(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateMemoryRequest>,
) -> Result<Json<Memory>, ApiError> {
    Ok(Json(core.memories.update(who.user_id, id, &req).await?))
}

/// Same as `PATCH` (accepted for clients of the 2.x API): absent fields stay as they are.
#[utoipa::path(put, path = "/api/v1/memories/{id}", tag = "memories", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Memory id")), request_body = UpdateMemoryRequest,
    responses((status = 200, body = Memory), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_memory(
    core: State<Core>,
    who: Auth,
    id: ApiPath<Uuid>,
    req: ApiJson<UpdateMemoryRequest>,
) -> Result<Json<Memory>, ApiError> {
    patch_memory(core, who, id, req).await
}

/// Archive a memory (204), or with `?permanent=true` delete it for good (204). Archiving an
/// archived memory is a 409.
#[utoipa::path(delete, path = "/api/v1/memories/{id}", tag = "memories", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Memory id"), DeleteQuery),
    responses((status = 204, description = "Archived or deleted"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn delete_memory(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    if q.permanent.unwrap_or(false) {
        core.memories.delete(who.user_id, id).await?;
    } else {
        core.memories.archive(who.user_id, id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Restore an archived memory; restoring an active one is a 409.
#[utoipa::path(post, path = "/api/v1/memories/{id}/restore", tag = "memories", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Memory id")),
    responses((status = 200, body = Memory), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn restore_memory(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Memory>, ApiError> {
    Ok(Json(core.memories.restore(who.user_id, id).await?))
}
