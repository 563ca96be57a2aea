//! The HTTP surface of WhiteMagic (axum): router, extractors, handlers, OpenAPI, health.
//!
//! [`launch`] takes settings, a bound listener and a shutdown future, so tests bind port 0 and
//! shut down cleanly.

pub mod auth;
pub mod dto;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod webhook;

pub use error::ApiError;
pub use state::{AppState, HttpSettings, WebhookSettings};

use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::{Json, Router};
use std::future::Future;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use wm_core::Core;

/// Build the application state (installs the metrics recorder on first use).
pub fn state(core: Core, settings: HttpSettings) -> AppState {
    AppState { core, settings: Arc::new(settings), metrics: metrics::handle() }
}

/// Every route with its OpenAPI description, before middleware.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(routes::health::router())
        .merge(routes::user::router())
        .merge(routes::admin::router())
        .merge(routes::billing::router())
        .merge(routes::plans::router())
        .merge(routes::memories::router())
        .merge(routes::docs::router())
        .routes(utoipa_axum::routes!(openapi_json));
    let (router, mut doc) = router.split_for_parts();
    openapi::document_common_errors(&mut doc);
    (router, doc)
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(|| api().1).clone())
}

/// The complete application: routes, fallback and middleware.
///
/// The middleware is one stack applied once to every route and both fallbacks (so it sees the
/// route template), outermost first: CORS (only when origins are configured), request context
/// (id, span, metrics, envelope, headers), timeout, panic catcher, body limit, admission.
pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let (routes, _) = api();
    let cors = (!settings.allowed_origins.is_empty()).then(|| cors(&settings.allowed_origins));
    let stack = tower::ServiceBuilder::new()
        .option_layer(cors)
        .layer(middleware::RequestContextLayer)
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, settings.request_timeout))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::extract::DefaultBodyLimit::max(settings.body_limit))
        .layer(limits::AdmitLayer(state.clone()));
    routes
        .merge(crate::routes::mcp::router(&state))
        .fallback(|| async { ApiError::from_status(axum::http::StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(|| async { ApiError::from_status(axum::http::StatusCode::METHOD_NOT_ALLOWED) })
        .layer(stack)
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-request-id")])
        .expose_headers(
            [
                "x-request-id",
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
                "ratelimit-policy",
                "ratelimit",
                "retry-after",
            ]
            .map(HeaderName::from_static),
        )
}

/// Serve `state` on `listener` until `shutdown` resolves; in-flight requests finish first.
pub async fn launch(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    // Streamed responses (MCP's event streams) are written in several small pieces; with Nagle
    // on, each later piece waits for the client's delayed ACK (~40 ms a call).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
