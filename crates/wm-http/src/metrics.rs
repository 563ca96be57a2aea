//! Prometheus metrics: the recorder (installed once per process) and the request metrics.

use axum::extract::MatchedPath;
use axum::http::{Method, StatusCode};
use metrics::SharedString;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// The process-wide recorder handle (the first call installs it).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("whitemagic_request_duration_seconds".into()),
                    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0],
                )
                .expect("valid buckets")
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// The labels of one request's `whitemagic_requests_total` and
/// `whitemagic_request_duration_seconds` (method, route template, status).
pub(crate) struct RequestMetrics {
    method: &'static str,
    route: SharedString,
}

impl RequestMetrics {
    pub fn new(method: &Method, route: Option<&MatchedPath>) -> Self {
        let method = match *method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::HEAD => "HEAD",
            Method::OPTIONS => "OPTIONS",
            _ => "other",
        };
        let route = route.map_or(SharedString::const_str("unmatched"), |p| SharedString::from(p.as_str().to_owned()));
        Self { method, route }
    }

    /// Count the request with its final status and time it from `start`.
    pub fn record(self, status: StatusCode, start: Instant) {
        let seconds = start.elapsed().as_secs_f64();
        let status = SharedString::from(status.as_str().to_owned());
        metrics::histogram!("whitemagic_request_duration_seconds", "method" => self.method, "route" => self.route.clone())
            .record(seconds);
        metrics::counter!("whitemagic_requests_total", "method" => self.method, "route" => self.route, "status" => status)
            .increment(1);
    }
}
