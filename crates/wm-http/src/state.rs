//! Shared state: one `Clone` value over `Arc`s; handlers extract only the part they use.

use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::Duration;
use wm_core::Core;

/// How the HTTP layer behaves; built by the binary from the typed config.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Requests taking longer get 408.
    pub request_timeout: Duration,
    /// CORS origins; `["*"]` allows any (refused in production by the binary).
    pub allowed_origins: Vec<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self { body_limit: 2 * 1024 * 1024, request_timeout: Duration::from_secs(30), allowed_origins: Vec::new() }
    }
}

/// Everything handlers can reach.
#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub settings: Arc<HttpSettings>,
    pub metrics: PrometheusHandle,
}

impl FromRef<AppState> for Core {
    fn from_ref(s: &AppState) -> Core {
        s.core.clone()
    }
}

impl FromRef<AppState> for PrometheusHandle {
    fn from_ref(s: &AppState) -> PrometheusHandle {
        s.metrics.clone()
    }
}
