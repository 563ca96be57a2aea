//! The baseline for the auth load test: a bare axum route, no middleware, on the same runtime
//! setup as `whitemagic serve`. Usage: `bare_axum 127.0.0.1:9000`.

use axum::{Router, routing::get};

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9000".into());
    let app = Router::new().route("/", get(|| async { "{\"ok\":true}" }));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
