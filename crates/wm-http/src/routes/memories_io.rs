//! Export (`GET /export`, a zip) and import (`POST /import`, the zip as the raw body).
//!
//! Import takes the archive as the request body with `Content-Type: application/zip` (also
//! `application/x-zip-compressed` or `application/octet-stream`); multipart is not accepted.
//! The route allows bodies up to [`IMPORT_BODY_LIMIT`]; the decompressed size and entry count
//! are bounded by `wm_core::memories::ImportLimits`.

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wm_core::Core;
use wm_core::memories::ImportReport;

/// Largest import body (the compressed zip): 64 MiB.
pub const IMPORT_BODY_LIMIT: usize = 64 * 1024 * 1024;

pub(super) fn router() -> OpenApiRouter<AppState> {
    let import = OpenApiRouter::new().routes(routes!(import)).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT));
    OpenApiRouter::new().routes(routes!(export)).merge(import)
}

/// Download every memory (active and archived) as a zip: `short_term/`, `long_term/`,
/// `archive/` with one markdown file per memory (YAML frontmatter holding every field), and
/// `manifest.json` (counts, SHA-256 of every file).
#[utoipa::path(get, path = "/api/v1/export", tag = "memories", security(("bearer" = [])),
    responses((status = 200, description = "The zip archive", content_type = "application/zip", body = Vec<u8>,
        headers(("Content-Disposition" = String, description = "attachment; filename=\"whitemagic-export-....zip\""))),
        (status = 401, body = ErrorBody)))]
async fn export(State(core): State<Core>, Auth(who): Auth) -> Result<impl IntoResponse, ApiError> {
    let export = core.memories.export(who.user_id).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", export.filename))
        .map_err(|_| ApiError::internal())?;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/zip")),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    Ok((headers, export.bytes))
}

/// Import a zip: our export (idempotent on `id`) or the WhiteMagic 2.x layout
/// (`memory/short_term/*.md`, `memory/long_term/*.md`, `memory/archive/*.md`). Send the zip
/// as the raw body (`Content-Type: application/zip`, at most 64 MiB). Reports every file as
/// created, skipped or failed.
#[utoipa::path(post, path = "/api/v1/import", tag = "memories", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/zip", description = "The zip archive, as raw bytes"),
    responses((status = 200, body = ImportReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import(
    State(core): State<Core>,
    Auth(who): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportReport>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !matches!(mime.as_str(), "application/zip" | "application/x-zip-compressed" | "application/octet-stream") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the zip as the raw body with 'Content-Type: application/zip'",
        ));
    }
    let body = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the archive must be at most {IMPORT_BODY_LIMIT} bytes"),
        ),
        s => ApiError::new(s, "bad_request", "could not read the request body"),
    })?;
    Ok(Json(core.memories.import_zip(who.user_id, body.to_vec()).await?))
}
