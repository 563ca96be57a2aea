//! Admission for metered routes: every `/api/v1/...` route that needs an API key (not health,
//! docs, metrics or webhooks).
//!
//! For each metered request: authenticate (a 401 is answered as before and not counted), put
//! the [`Principal`] in the request extensions (the [`Auth`] extractor reuses it), refuse
//! plans without the REST API, then — when request limits are on — admit it against the
//! plan's limits. A refused request gets 429 with `Retry-After` and an error naming the limit;
//! every admitted or refused response carries the `X-RateLimit-*` and `RateLimit-Policy` /
//! `RateLimit` headers; every admitted one is counted by endpoint group and status class.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use wm_domain::plan::PlanFeatures;
use wm_domain::usage::EndpointGroup;
use wm_limits::Decision;

/// Installs [`Admit`] around every route.
#[derive(Clone)]
pub struct AdmitLayer(pub AppState);

impl<S> Layer<S> for AdmitLayer {
    type Service = Admit<S>;
    fn layer(&self, inner: S) -> Admit<S> {
        Admit { inner, state: self.0.clone() }
    }
}

/// The admission middleware (see the module docs).
#[derive(Clone)]
pub struct Admit<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for Admit<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let Some(group) = req.extensions().get::<MatchedPath>().and_then(|p| metered_group(p.as_str())) else {
            return Box::pin(self.inner.call(req));
        };
        // The ready service handles this request; a fresh clone waits for the next one.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(admit(self.state.clone(), inner, req, group))
    }
}

async fn admit<S>(state: AppState, mut inner: S, req: Request, group: EndpointGroup) -> Result<Response, Infallible>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let (mut parts, body) = req.into_parts();
    let who = match Auth::from_request_parts(&mut parts, &state).await {
        Ok(Auth(who)) => who,
        Err(e) => return Ok(e.into_response()),
    };
    let core = &state.core;
    let decision = match core.admit(&who, PlanFeatures::REST_API, group).await {
        Ok(Some(d)) => d,
        Ok(None) => return inner.call(Request::from_parts(parts, body)).await,
        Err(e) => return Ok(ApiError::from(e).into_response()),
    };
    let mut res = match decision.denial {
        Some(_) => rate_limited(&decision).into_response(),
        None => {
            let Ok(res) = inner.call(Request::from_parts(parts, body)).await;
            core.limits.record(&who, group, res.status().as_u16());
            res
        }
    };
    write_headers(res.headers_mut(), &decision);
    Ok(res)
}

const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// `X-RateLimit-*` for the tightest limit, `RateLimit-Policy` / `RateLimit` for all of them,
/// and `Retry-After` on denial (see [`wm_limits::RateLimitHeaders`] for the formats). The four
/// per-request values are rendered into one buffer and share it.
fn write_headers(headers: &mut HeaderMap, decision: &Decision) {
    let tightest = decision.tightest();
    let mut buf = Vec::with_capacity(128);
    let mut ends = [0usize; 4];
    for (end, n) in ends.iter_mut().zip([tightest.limit, tightest.remaining, tightest.reset_at]) {
        buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        *end = buf.len();
    }
    wm_limits::write_rate_limit_header(&mut buf, decision);
    ends[3] = buf.len();
    let buf = Bytes::from(buf);
    let value = |i: usize| {
        let start = if i == 0 { 0 } else { ends[i - 1] };
        HeaderValue::from_maybe_shared(buf.slice(start..ends[i])).ok()
    };
    headers.reserve(6);
    let names = [X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING, X_RATELIMIT_RESET];
    for (i, name) in names.into_iter().enumerate() {
        if let Some(v) = value(i) {
            headers.insert(name, v);
        }
    }
    if let Some(policy) = policy(decision) {
        headers.insert(RATELIMIT_POLICY, policy);
    }
    if let Some(v) = value(3) {
        headers.insert(RATELIMIT, v);
    }
    if let Some(denial) = decision.denial {
        headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(denial.retry_after));
    }
}

/// `RateLimit-Policy` depends only on the plan's limits: each worker thread keeps the last one
/// it rendered (a clone shares the bytes).
fn policy(decision: &Decision) -> Option<HeaderValue> {
    thread_local! {
        static LAST: RefCell<Option<([u64; 3], HeaderValue)>> = const { RefCell::new(None) };
    }
    let limits = wm_limits::LimitKind::ALL.map(|k| decision.status(k).limit);
    LAST.with_borrow_mut(|last| {
        if let Some((l, value)) = last.as_ref()
            && *l == limits
        {
            return Some(value.clone());
        }
        let value = HeaderValue::from_maybe_shared(Bytes::from(wm_limits::policy_header(decision))).ok()?;
        *last = Some((limits, value.clone()));
        Some(value)
    })
}

/// 429 naming the limit that refused the request (`per_minute`, `daily` or `monthly`).
fn rate_limited(decision: &Decision) -> ApiError {
    let Some(denial) = decision.denial else { return ApiError::internal() };
    let limit = denial.limit.as_str();
    let status = decision.status(denial.limit);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("{limit} rate limit of {} requests reached; retry in {} s", status.limit, denial.retry_after),
    )
    .with_details(serde_json::json!({ "limit": limit, "max": status.limit, "retry_after": denial.retry_after }))
}

/// The endpoint group of a metered route template, `None` for routes that are not metered.
pub fn metered_group(route: &str) -> Option<EndpointGroup> {
    let rest = route.strip_prefix("/api/v1/")?;
    let mut segments = rest.split('/');
    let group = match segments.next()? {
        "webhooks" => return None, // signed by the provider, no API key
        "memories" => EndpointGroup::Memories,
        "search" => EndpointGroup::Search,
        "context" => EndpointGroup::Context,
        "consolidate" | "consolidations" => EndpointGroup::Consolidate,
        "tags" | "stats" => EndpointGroup::Stats,
        "export" | "import" => EndpointGroup::Io,
        "admin" => EndpointGroup::Admin,
        "user" => match segments.next() {
            Some("keys") => EndpointGroup::Keys,
            _ => EndpointGroup::Account,
        },
        _ => EndpointGroup::Other,
    };
    Some(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_follow_the_route_template() {
        let cases = [
            ("/api/v1/memories/{id}", Some(EndpointGroup::Memories)),
            ("/api/v1/search", Some(EndpointGroup::Search)),
            ("/api/v1/user/keys/{id}/rotate", Some(EndpointGroup::Keys)),
            ("/api/v1/user/me", Some(EndpointGroup::Account)),
            ("/api/v1/user/usage", Some(EndpointGroup::Account)),
            ("/api/v1/admin/plans/{name}", Some(EndpointGroup::Admin)),
            ("/api/v1/export", Some(EndpointGroup::Io)),
            ("/api/v1/webhooks/whop", None),
            ("/webhooks/stripe", None),
            ("/health", None),
            ("/docs", None),
        ];
        for (route, want) in cases {
            assert_eq!(metered_group(route), want, "{route}");
        }
    }
}
