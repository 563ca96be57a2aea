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
    /// Billing webhook secrets; a provider without one has no webhook endpoint (404).
    pub webhooks: WebhookSettings,
    /// Send the `X-RateLimit-*` and `RateLimit-Policy` / `RateLimit` headers on metered
    /// responses. Off, limits are enforced all the same and a 429 still carries `Retry-After`.
    pub rate_limit_headers: bool,
}

/// Secrets the webhook extractor verifies with. `Debug` never shows them.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// `WHOP_WEBHOOK_SECRET` (Standard Webhooks; a `whsec_` secret is base64-decoded).
    pub whop_secret: Option<secrecy::SecretString>,
    /// `STRIPE_WEBHOOK_SECRET` (`whsec_...`).
    pub stripe_secret: Option<secrecy::SecretString>,
    /// `REVENUECAT_WEBHOOK_SECRET`: the `Authorization` value RevenueCat sends (`Bearer <secret>`
    /// or the bare secret).
    pub revenuecat_secret: Option<secrecy::SecretString>,
    /// Also accept Whop's legacy `X-Whop-Signature` (hex HMAC of the body).
    pub whop_legacy_signature: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            allowed_origins: Vec::new(),
            webhooks: WebhookSettings::default(),
            rate_limit_headers: true,
        }
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

impl FromRef<AppState> for Arc<HttpSettings> {
    fn from_ref(s: &AppState) -> Arc<HttpSettings> {
        s.settings.clone()
    }
}
