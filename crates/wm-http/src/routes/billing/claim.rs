//! The page that reveals a purchased key, exactly once: `GET /claim/{token}` only asks the
//! visitor to confirm (mail scanners and link previews fetch links, and must not use them up);
//! the button `POST`s to the same URL, which reveals the key.

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
    OpenApiRouter::new().routes(routes!(confirm, claim))
}

/// The claim page (auto-escaped).
#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage<'a> {
    title: &'a str,
    /// The confirmation step (`GET`): a button, nothing used yet.
    confirm: bool,
    key: Option<&'a str>,
    email: &'a str,
    plan: &'a str,
    message: &'a str,
}

/// The claim link's page: a button that reveals the key (a `POST` to the same URL). Opening the
/// link uses nothing up, so a mail scanner or link preview that fetches it leaves it working.
/// A malformed token is answered at once as an unknown link.
#[utoipa::path(get, path = "/claim/{token}", tag = "billing",
    params(("token" = String, Path, description = "The token from the claim link")),
    responses((status = 200, description = "HTML page: the button that reveals the key", content_type = "text/html")))]
async fn confirm(Path(token): Path<String>) -> Result<Response, crate::ApiError> {
    if !wm_core::billing::claim_token_well_formed(&token) {
        return page(ClaimPage {
            title: UNKNOWN.0,
            confirm: false,
            key: None,
            email: "",
            plan: "",
            message: UNKNOWN.1,
        });
    }
    page(ClaimPage { title: "Your API key", confirm: true, key: None, email: "", plan: "", message: "" })
}

const UNKNOWN: (&str, &str) = ("Unknown link", "This claim link is not valid. Check that you copied all of it.");

/// Reveal a purchased API key. The first call shows it; later ones say it was already claimed;
/// expired or unknown links say so. Always `Cache-Control: no-store`.
#[utoipa::path(post, path = "/claim/{token}", tag = "billing",
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
        ClaimResult::NotFound => UNKNOWN,
    };
    let page_of = match &result {
        ClaimResult::Revealed { key, email, plan } => ClaimPage {
            title,
            confirm: false,
            key: Some(key.expose()),
            email: email.as_str(),
            plan: plan.as_str(),
            message,
        },
        _ => ClaimPage { title, confirm: false, key: None, email: "", plan: "", message },
    };
    page(page_of)
}

/// The rendered page with the headers every claim page carries.
fn page(page: ClaimPage<'_>) -> Result<Response, crate::ApiError> {
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
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    Ok(res)
}
