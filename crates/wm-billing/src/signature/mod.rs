//! Webhook authentication on the raw request body.
//!
//! Every check is a pure function: it takes the header values it needs, the body bytes, the
//! configured secret and the current time (unix seconds), so callers and tests control time.
//! Comparisons are constant-time ([`subtle`]). Errors name the failing header or condition but
//! never carry the secret or an expected signature.

mod revenuecat;
mod standard;
mod stripe;

pub use revenuecat::verify_revenuecat;
pub use standard::{sign_standard, sign_whop_legacy, verify_standard, verify_whop_legacy};
pub use stripe::{sign_stripe, verify_stripe};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Maximum allowed distance, in seconds, between a signed timestamp and `now` (both directions).
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 300;

/// Stripe's signature header (`t=<unix>,v1=<hex>[,v1=<hex>...]`), lower-cased.
pub const STRIPE_SIGNATURE_HEADER: &str = "stripe-signature";
/// Standard Webhooks message id header (used by Whop v1 webhooks).
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
/// Standard Webhooks timestamp header (unix seconds).
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// Standard Webhooks signature header (space-separated `v1,<base64>` entries).
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";
/// Legacy Whop header: hex HMAC-SHA256 of the body. Accept only when explicitly enabled.
pub const WHOP_LEGACY_SIGNATURE_HEADER: &str = "x-whop-signature";
/// Header RevenueCat sends the configured authorization value in.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// Why a webhook request failed authentication. Safe to log: no variant carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is absent (the header name, lower-case).
    #[error("missing header `{0}`")]
    MissingHeader(&'static str),
    /// A header is present but cannot be parsed (the header name, lower-case).
    #[error("malformed header `{0}`")]
    MalformedHeader(&'static str),
    /// The header parsed but holds no signature of a scheme we verify (e.g. only `v0` entries).
    #[error("no supported signature scheme in header `{0}`")]
    NoSupportedSignature(&'static str),
    /// The signature is authentic but its timestamp is further than the tolerance from `now`.
    /// `skew_secs` is `now - timestamp`: positive when old, negative when in the future.
    #[error("timestamp outside tolerance (skew {skew_secs} s)")]
    StaleTimestamp {
        /// `now - timestamp`, in seconds.
        skew_secs: i64,
    },
    /// No provided signature matches the body (wrong secret or tampered body).
    #[error("signature mismatch")]
    BadSignature,
    /// The `Authorization` header does not equal the configured value.
    #[error("authorization header mismatch")]
    BadAuthorization,
    /// The configured secret is unusable (empty, or a `whsec_` secret that is not valid base64).
    /// A configuration problem, not the sender's fault.
    #[error("configured webhook secret is invalid: {0}")]
    InvalidSecret(&'static str),
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two byte strings (length differences are not hidden).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// Rejects timestamps further than [`TIMESTAMP_TOLERANCE_SECS`] from `now`.
pub(crate) fn check_timestamp(timestamp: i64, now: i64) -> Result<(), VerifyError> {
    let skew_secs = now.saturating_sub(timestamp);
    if skew_secs.unsigned_abs() > TIMESTAMP_TOLERANCE_SECS.unsigned_abs() {
        return Err(VerifyError::StaleTimestamp { skew_secs });
    }
    Ok(())
}

/// Returns the header value or [`VerifyError::MissingHeader`]; empty values count as missing.
pub(crate) fn required<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, VerifyError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(VerifyError::MissingHeader(name)),
    }
}
