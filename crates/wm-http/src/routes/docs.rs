//! `/openapi.json` and the interactive docs at `/docs` (Swagger UI, vendored: no CDN).

use crate::state::AppState;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const BUNDLE_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const UI_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");
const FAVICON: &[u8] = include_bytes!("../../assets/swagger-ui/favicon-32x32.png");

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>WhiteMagic API</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>"#;

const INIT_JS: &str = "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: true });";

/// The docs routes. `/openapi.json` is added by the router itself (it needs the finished spec).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(docs_page)).routes(routes!(docs_asset))
}

/// Interactive API documentation (Swagger UI).
#[utoipa::path(get, path = "/docs", tag = "meta", responses((status = 200, description = "HTML page", content_type = "text/html")))]
async fn docs_page() -> Html<&'static str> {
    Html(PAGE)
}

/// Static assets of the docs page.
#[utoipa::path(get, path = "/docs/assets/{file}", tag = "meta",
    params(("file" = String, Path, description = "Asset file name")),
    responses((status = 200, description = "The asset"), (status = 404, body = crate::error::ErrorBody)))]
async fn docs_asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match file.as_str() {
        "swagger-ui-bundle.js" => (BUNDLE_JS, "text/javascript; charset=utf-8"),
        "swagger-ui.css" => (UI_CSS, "text/css; charset=utf-8"),
        "favicon-32x32.png" => (FAVICON, "image/png"),
        "init.js" => (INIT_JS.as_bytes(), "text/javascript; charset=utf-8"),
        _ => return crate::error::ApiError::not_found("asset").into_response(),
    };
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_str(ctype).expect("static"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    res
}
