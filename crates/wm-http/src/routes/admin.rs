//! Operator routes: users and their keys. Admins only (others get 403).

use crate::auth::AdminAuth;
use crate::dto::{
    AdminCreateKeyRequest, CreateUserRequest, CreatedKeyView, PatchUserRequest, UserList, UserListQuery, UserView,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use wm_core::Core;
use wm_core::accounts::{AdminUserPatch, NewAccount};
use wm_domain::email::Email;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanName;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(create_user_key))
}

fn plan(raw: Option<String>) -> Result<Option<PlanName>, ApiError> {
    raw.map(|p| PlanName::parse(&p)).transpose().map_err(|e| ApiError::validation(&e.field, e.message))
}

/// List users, optionally filtered by an email substring; cursor-paginated.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(UserListQuery),
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_users(
    State(core): State<Core>,
    _: AdminAuth,
    ApiQuery(q): ApiQuery<UserListQuery>,
) -> Result<Json<UserList>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation("limit", "must be between 1 and 100"));
    }
    let page = core.accounts.list_users(q.q.filter(|s| !s.is_empty()), limit, q.cursor.map(UserId)).await?;
    Ok(Json(UserList {
        users: page.users.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor.map(|c| c.0),
    }))
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(core): State<Core>,
    _: AdminAuth,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let email = Email::parse(&req.email).map_err(|e| ApiError::validation(&e.field, e.message))?;
    let user = core.accounts.create_user(NewAccount { email, plan: plan(req.plan)?, role: req.role }).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(user))))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(core): State<Core>,
    _: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(core.accounts.get_user(UserId(id)).await?.into()))
}

/// Change a user's plan, role or suspension; effective on their next request.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = PatchUserRequest,
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn patch_user(
    State(core): State<Core>,
    _: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<PatchUserRequest>,
) -> Result<Json<UserView>, ApiError> {
    let patch = AdminUserPatch { plan: plan(req.plan)?, role: req.role, suspended: req.suspended };
    Ok(Json(core.accounts.update_user(UserId(id), patch).await?.into()))
}

/// Issue an API key for a user. The raw key is in this response only.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/keys", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = AdminCreateKeyRequest,
    responses((status = 201, body = CreatedKeyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user_key(
    State(core): State<Core>,
    _: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<AdminCreateKeyRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let created = core.accounts.create_key_for(UserId(id), &req.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedKeyView::from(created))))
}
