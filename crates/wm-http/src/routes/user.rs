//! The caller's own account and API keys.

use crate::auth::Auth;
use crate::dto::{CreateKeyRequest, CreatedKeyView, KeyList, KeyView, RotateKeyRequest, UserView};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use wm_core::Core;
use wm_domain::ids::KeyId;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
        .routes(routes!(rotate_key))
}

/// Who am I: the account behind the key.
#[utoipa::path(get, path = "/api/v1/user/me", tag = "user", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn me(State(core): State<Core>, Auth(who): Auth) -> Result<Json<UserView>, ApiError> {
    Ok(Json(core.accounts.me(&who).await?.as_ref().into()))
}

/// List my API keys (newest first), including revoked and expired ones.
#[utoipa::path(get, path = "/api/v1/user/keys", tag = "user", security(("bearer" = [])),
    responses((status = 200, body = KeyList), (status = 401, body = ErrorBody)))]
async fn list_keys(State(core): State<Core>, Auth(who): Auth) -> Result<Json<KeyList>, ApiError> {
    let now = core.clock.now();
    let keys = core.accounts.list_keys(who.user_id).await?.into_iter().map(|k| KeyView::new(k, now)).collect();
    Ok(Json(KeyList { keys }))
}

/// Create an API key. The raw key is in this response only.
#[utoipa::path(post, path = "/api/v1/user/keys", tag = "user", security(("bearer" = [])), request_body = CreateKeyRequest,
    responses((status = 201, body = CreatedKeyView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_key(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let created = core.accounts.create_key(who.user_id, &req.name, req.expires_at).await?;
    Ok((StatusCode::CREATED, Json(CreatedKeyView::from(created))))
}

/// Revoke one of my keys; it stops working on the next request.
#[utoipa::path(delete, path = "/api/v1/user/keys/{id}", tag = "user", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_key(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    core.accounts.revoke_key(who.user_id, KeyId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace one of my keys with a new one (same name); the old one works for `grace_seconds` more.
#[utoipa::path(post, path = "/api/v1/user/keys/{id}/rotate", tag = "user", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Key id")), request_body(content = RotateKeyRequest, description = "Optional"),
    responses((status = 201, body = CreatedKeyView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rotate_key(
    State(core): State<Core>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<Uuid>,
    OptionalJson(req): OptionalJson<RotateKeyRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let created = core.accounts.rotate_key(who.user_id, KeyId(id), req.grace_seconds.unwrap_or(0)).await?;
    Ok((StatusCode::CREATED, Json(CreatedKeyView::from(created))))
}
