//! `GET /claim/{token}`: the page that reveals a purchased key, exactly once.

use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wm_core::Core;
use wm_core::billing::ClaimResult;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(claim))
}

/// The claim page (auto-escaped).
#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage<'a> {
    title: &'a str,
    key: Option<&'a str>,
    email: &'a str,
    plan: &'a str,
    message: &'a str,
}

/// Reveal a purchased API key. The first visit shows it; later visits say it was already
/// claimed; expired or unknown links say so. Always `Cache-Control: no-store`.
#[utoipa::path(get, path = "/claim/{token}", tag = "billing",
    params(("token" = String, Path, description = "The token from the claim link")),
    responses((status = 200, description = "HTML page: the key, or why it cannot be shown", content_type = "text/html")))]
async fn claim(State(core): State<Core>, Path(token): Path<String>) -> Result<Response, crate::ApiError> {
    let result = core.billing.claim(&token).await?;
    let (title, message) = match &result {
        ClaimResult::Revealed { .. } => ("Your API key", ""),
        ClaimResult::AlreadyClaimed => (
            "Already claimed",
            "This key was already claimed: a claim link shows its key only once. If that was not you, ask support for a new link.",
        ),
        ClaimResult::Expired => {
            ("Link expired", "This claim link has expired (links work for 7 days). Ask support for a new one.")
        }
        ClaimResult::Revoked => ("Key revoked", "The key behind this link has been revoked."),
        ClaimResult::NotFound => ("Unknown link", "This claim link is not valid. Check that you copied all of it."),
    };
    let page = match &result {
        ClaimResult::Revealed { key, email, plan } => {
            ClaimPage { title, key: Some(key.expose()), email: email.as_str(), plan: plan.as_str(), message }
        }
        _ => ClaimPage { title, key: None, email: "", plan: "", message },
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "claim page failed to render");
        crate::ApiError::internal()
    })?;
    let mut res = Html(html).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    Ok(res)
}
