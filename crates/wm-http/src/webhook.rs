//! The verified-webhook extractor: limit the body, read the raw bytes, authenticate them with the
//! provider's scheme and the current time, then parse. A rejection stores nothing: it is one log
//! line, one `whitemagic_webhooks_total{outcome="rejected_..."}` increment and a 4xx.

use crate::error::ApiError;
use crate::state::{AppState, WebhookSettings};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use std::marker::PhantomData;
use wm_billing::{
    BillingEvent, ParseError, Provider, VerifyError, parse_revenuecat, parse_stripe, parse_whop, verify_revenuecat,
    verify_standard, verify_stripe, verify_whop_legacy,
};

/// Largest webhook body read, in bytes (or the general body limit, when that is smaller).
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

/// One provider's webhook scheme.
pub trait WebhookProvider: Send + Sync + 'static {
    const PROVIDER: Provider;
    /// The configured secret; `None` disables the endpoint.
    fn secret(s: &WebhookSettings) -> Option<&SecretString>;
    /// Authenticate the raw body.
    fn verify(h: &HeaderMap, body: &[u8], secret: &str, now: i64, s: &WebhookSettings) -> Result<(), VerifyError>;
    /// Normalise the authenticated body.
    fn parse(h: &HeaderMap, body: &[u8], now: i64) -> Result<BillingEvent, ParseError>;
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Stripe: `Stripe-Signature`.
pub struct Stripe;
/// Whop: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
pub struct Whop;
/// RevenueCat: the configured `Authorization` value.
pub struct RevenueCat;

impl WebhookProvider for Stripe {
    const PROVIDER: Provider = Provider::Stripe;
    fn secret(s: &WebhookSettings) -> Option<&SecretString> {
        s.stripe_secret.as_ref()
    }
    fn verify(h: &HeaderMap, body: &[u8], secret: &str, now: i64, _: &WebhookSettings) -> Result<(), VerifyError> {
        verify_stripe(header(h, "stripe-signature"), body, secret, now)
    }
    fn parse(_: &HeaderMap, body: &[u8], _: i64) -> Result<BillingEvent, ParseError> {
        parse_stripe(body)
    }
}

impl WebhookProvider for Whop {
    const PROVIDER: Provider = Provider::Whop;
    fn secret(s: &WebhookSettings) -> Option<&SecretString> {
        s.whop_secret.as_ref()
    }
    fn verify(h: &HeaderMap, body: &[u8], secret: &str, now: i64, s: &WebhookSettings) -> Result<(), VerifyError> {
        let legacy = header(h, "x-whop-signature");
        if s.whop_legacy_signature && legacy.is_some() && header(h, "webhook-signature").is_none() {
            return verify_whop_legacy(legacy, body, secret);
        }
        verify_standard(
            header(h, "webhook-id"),
            header(h, "webhook-timestamp"),
            header(h, "webhook-signature"),
            body,
            secret,
            now,
        )
    }
    fn parse(h: &HeaderMap, body: &[u8], now: i64) -> Result<BillingEvent, ParseError> {
        let sent_at = header(h, "webhook-timestamp").and_then(|t| t.trim().parse().ok()).unwrap_or(now);
        parse_whop(body, header(h, "webhook-id"), sent_at)
    }
}

impl WebhookProvider for RevenueCat {
    const PROVIDER: Provider = Provider::RevenueCat;
    fn secret(s: &WebhookSettings) -> Option<&SecretString> {
        s.revenuecat_secret.as_ref()
    }
    fn verify(h: &HeaderMap, _: &[u8], secret: &str, _: i64, _: &WebhookSettings) -> Result<(), VerifyError> {
        verify_revenuecat(header(h, "authorization"), secret)
    }
    fn parse(_: &HeaderMap, body: &[u8], now: i64) -> Result<BillingEvent, ParseError> {
        parse_revenuecat(body, now)
    }
}

/// An authenticated, parsed webhook and its raw body.
pub struct VerifiedWebhook<P> {
    pub event: BillingEvent,
    pub raw: Bytes,
    provider: PhantomData<P>,
}

/// Count one webhook by provider, event type and outcome.
pub fn count(provider: Provider, event_type: &str, outcome: &'static str) {
    let labels =
        [("provider", provider.as_str().to_owned()), ("type", event_type.to_owned()), ("outcome", outcome.into())];
    metrics::counter!("whitemagic_webhooks_total", &labels).increment(1);
}

fn reject(provider: Provider, outcome: &'static str, err: ApiError) -> ApiError {
    tracing::warn!(webhook.provider = provider.as_str(), outcome, reason = %err.message, "webhook rejected");
    count(provider, "unknown", outcome);
    err
}

fn verify_rejection(e: &VerifyError) -> (&'static str, ApiError) {
    let bad = |code, m: String| ApiError::new(StatusCode::BAD_REQUEST, code, m);
    match e {
        VerifyError::MissingHeader(h) => ("rejected_headers", bad("invalid_webhook", format!("missing header `{h}`"))),
        VerifyError::MalformedHeader(h) | VerifyError::NoSupportedSignature(h) => {
            ("rejected_headers", bad("invalid_webhook", format!("malformed header `{h}`")))
        }
        VerifyError::StaleTimestamp { .. } => {
            ("rejected_stale", bad("stale_webhook", "the webhook's timestamp is more than 5 minutes from now".into()))
        }
        VerifyError::BadSignature | VerifyError::BadAuthorization => (
            "rejected_signature",
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", "the webhook signature does not match"),
        ),
        VerifyError::InvalidSecret(why) => {
            tracing::error!(reason = why, "the configured webhook secret is unusable");
            (
                "misconfigured",
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "webhook verification is misconfigured"),
            )
        }
    }
}

impl<P: WebhookProvider> FromRequest<AppState> for VerifiedWebhook<P> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let provider = P::PROVIDER;
        let settings = &state.settings.webhooks;
        let Some(secret) = P::secret(settings) else {
            count(provider, "unknown", "disabled");
            let message = format!("{provider} webhooks are not enabled on this server");
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", message));
        };
        let (parts, body) = req.into_parts();
        let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "webhook body too large");
        let limit = WEBHOOK_BODY_LIMIT.min(state.settings.body_limit);
        let declared = header(&parts.headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(reject(provider, "rejected_size", too_large()));
        }
        let raw =
            axum::body::to_bytes(body, limit).await.map_err(|_| reject(provider, "rejected_size", too_large()))?;
        let now = state.core.clock.now().timestamp();
        if let Err(e) = P::verify(&parts.headers, &raw, secret.expose_secret(), now, settings) {
            let (outcome, err) = verify_rejection(&e);
            return Err(reject(provider, outcome, err));
        }
        let event = P::parse(&parts.headers, &raw, now).map_err(|e| {
            let err =
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_payload", format!("unusable webhook payload: {e}"));
            reject(provider, "rejected_payload", err)
        })?;
        Ok(Self { event, raw, provider: PhantomData })
    }
}
