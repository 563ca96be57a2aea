//! Authentication as extractors: `Auth` for any valid key, `AdminAuth` for admins.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::sync::Arc;
use wm_core::AuthFailure;
use wm_domain::account::Principal;

/// The authenticated caller. Rejects with 401 (missing, malformed, unknown, expired, revoked
/// key) or 403 (suspended account). Shared, so the admission middleware and the handler
/// use one value.
#[derive(Debug, Clone)]
pub struct Auth(pub Arc<Principal>);

/// An authenticated admin; others get 403.
#[derive(Debug, Clone)]
pub struct AdminAuth(pub Arc<Principal>);

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts.headers.get(AUTHORIZATION).ok_or(ApiError::unauthorized(AuthFailure::Missing))?;
    let value = value.to_str().map_err(|_| ApiError::unauthorized(AuthFailure::Malformed))?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::unauthorized(AuthFailure::Malformed))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(AuthFailure::Malformed));
    }
    Ok(token.trim())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(p) = parts.extensions.get::<Arc<Principal>>() {
            return Ok(Self(p.clone()));
        }
        let principal = Arc::new(state.core.accounts.authenticate(bearer(parts)?).await?);
        tracing::Span::current().record("user.id", tracing::field::display(principal.user_id));
        parts.extensions.insert(principal.clone());
        Ok(Self(principal))
    }
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Auth(p) = Auth::from_request_parts(parts, state).await?;
        if !p.is_admin() {
            return Err(ApiError::forbidden("this route is for administrators"));
        }
        Ok(Self(p))
    }
}
