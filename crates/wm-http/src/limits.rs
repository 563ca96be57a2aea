//! Admission for metered routes: every `/api/v1/...` route that needs an API key (not health,
//! docs, metrics or webhooks).
//!
//! For each metered request: authenticate (a 401 is answered as before and not counted), put
//! the [`Principal`](wm_domain::account::Principal) in the request extensions (the [`Auth`]
//! extractor reuses it), refuse plans without the REST API, then — when request limits are on —
//! admit it against the plan's limits. A refused request gets 429 with `Retry-After` and an
//! error naming the limit; every admitted or refused response carries the `X-RateLimit-*` and
//! `RateLimit-Policy` / `RateLimit` headers (unless the operator hides them:
//! [`HttpSettings::rate_limit_headers`](crate::HttpSettings::rate_limit_headers)); every
//! admitted one is counted by endpoint group and status class.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use wm_domain::plan::PlanFeatures;
use wm_domain::usage::EndpointGroup;
use wm_limits::{Decision, Denial, LimitKind};

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
    if state.settings.rate_limit_headers {
        write_headers(res.headers_mut(), &decision);
    } else {
        retry_after(res.headers_mut(), decision.denial);
    }
    Ok(res)
}

const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// `X-RateLimit-*` for the tightest limit, `RateLimit-Policy` / `RateLimit` for all of them,
/// and `Retry-After` on denial (see [`wm_limits::RateLimitHeaders`] for the formats).
fn write_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.reserve(6);
    WORKER_HEADERS.with_borrow_mut(|w| w.write(headers, decision));
    retry_after(headers, decision.denial);
}

/// `Retry-After` on a refusal: sent even when the other rate-limit headers are hidden.
fn retry_after(headers: &mut HeaderMap, denial: Option<Denial>) {
    if let Some(denial) = denial {
        headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(denial.retry_after));
    }
}

thread_local! {
    static WORKER_HEADERS: RefCell<WorkerHeaders> = RefCell::new(WorkerHeaders::default());
}

/// What each worker thread keeps between responses: the buffer that the per-request values are
/// rendered into (responses share it; its memory is reused once they have been written) and
/// the values that depend only on the plan's limits, for the last plan it saw.
#[derive(Default)]
struct WorkerHeaders {
    buf: BytesMut,
    /// The limits, their `RateLimit-Policy`, and each limit as an `X-RateLimit-Limit`.
    plan: Option<([u64; 3], HeaderValue, [HeaderValue; 3])>,
}

impl WorkerHeaders {
    /// Room for a few dozen responses' values per allocation.
    const BUF_SIZE: usize = 8 * 1024;
    /// More than the longest values take: three `RateLimit` items of two 15-digit integers
    /// each, plus two 20-digit integers.
    const MAX_VALUES_LEN: usize = 256;

    fn write(&mut self, headers: &mut HeaderMap, decision: &Decision) {
        let limits = LimitKind::ALL.map(|k| decision.status(k).limit);
        if !matches!(&self.plan, Some((l, ..)) if *l == limits) {
            let policy = HeaderValue::from_maybe_shared(Bytes::from(wm_limits::policy_header(decision)))
                .unwrap_or_else(|_| HeaderValue::from_static(""));
            self.plan = Some((limits, policy, limits.map(HeaderValue::from)));
        }
        let tightest = decision.tightest();
        if let Some((_, policy, values)) = &self.plan {
            insert(headers, X_RATELIMIT_LIMIT, values[tightest.kind.index()].clone());
            insert(headers, RATELIMIT_POLICY, policy.clone());
        }

        // The other three values, rendered into one buffer and inserted as slices of it.
        let buf = &mut self.buf;
        if buf.capacity() < Self::MAX_VALUES_LEN {
            buf.reserve(Self::BUF_SIZE);
        }
        put_u64(buf, tightest.remaining);
        let remaining_end = buf.len();
        put_u64(buf, tightest.reset_at);
        let reset_end = buf.len();
        wm_limits::write_rate_limit_header(decision, |b| buf.put_slice(b));
        let rendered = buf.split().freeze();
        let slices = [
            (X_RATELIMIT_REMAINING, 0..remaining_end),
            (X_RATELIMIT_RESET, remaining_end..reset_end),
            (RATELIMIT, reset_end..rendered.len()),
        ];
        for (name, range) in slices {
            if let Ok(value) = HeaderValue::from_maybe_shared(rendered.slice(range)) {
                insert(headers, name, value);
            }
        }
    }
}

// The helpers below keep one copy of their code for all the values: the request path is bound
// by instruction-cache misses more than by instructions (docs/PERFORMANCE.md).

#[inline(never)]
fn put_u64(buf: &mut BytesMut, value: u64) {
    buf.put_slice(itoa::Buffer::new().format(value).as_bytes());
}

#[inline(never)]
fn insert(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    headers.insert(name, value);
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
    use std::time::Duration;
    use wm_limits::{LimitStatus, RateLimitHeaders};

    fn decision(limits: [u64; 3], remaining: [u64; 3], denial: Option<Denial>) -> Decision {
        let resets = [Duration::from_millis(400), Duration::from_secs(36_000), Duration::from_secs(600_000)];
        let statuses = [0, 1, 2].map(|i| LimitStatus {
            kind: LimitKind::ALL[i],
            limit: limits[i],
            remaining: remaining[i],
            reset_after: resets[i],
            reset_at: 1_795_459_771 + resets[i].as_secs(),
        });
        Decision { statuses, denial }
    }

    /// What [`RateLimitHeaders`] renders, as written into a response.
    fn expected(d: &Decision) -> Vec<(String, String)> {
        RateLimitHeaders::new(d).pairs().into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
    }

    fn written(d: &Decision) -> Vec<(String, String)> {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        write_headers(&mut headers, d);
        let mut pairs: Vec<_> = headers
            .iter()
            .filter(|(name, _)| *name != "content-type")
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let order = |name: &str| expected(d).iter().position(|(n, _)| n == name);
        pairs.sort_by_key(|(n, _)| order(n));
        pairs
    }

    #[test]
    fn written_headers_match_the_reference_rendering_as_plans_and_limits_change() {
        // One thread, so the remembered plan values and the shared buffer are reused and
        // replaced between these responses.
        let starter = [60, 5_000, 100_000];
        let cases = [
            decision(starter, [59, 4_999, 99_999], None),
            decision(starter, [58, 4_998, 99_998], None),
            decision(starter, [40, 3, 90_000], None), // daily is the tightest
            decision([1_000, 1_000_000, 10_000_000], [999, 999_999, 9_999_999], None),
            decision(starter, [0, 2, 89_000], Some(Denial { limit: LimitKind::PerMinute, retry_after: 1 })),
            decision([u64::MAX; 3], [u64::MAX - 1; 3], None),
        ];
        for _ in 0..100 {
            for d in &cases {
                assert_eq!(written(d), expected(d), "{d:?}");
            }
        }
    }

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
