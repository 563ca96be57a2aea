//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` over `"<t>.<raw body>"`.

use super::{STRIPE_SIGNATURE_HEADER as HEADER, VerifyError, check_timestamp, ct_eq, hmac_sha256, required};

/// Verifies a Stripe webhook.
///
/// `signature_header` is the `Stripe-Signature` value, `secret` the endpoint secret (`whsec_...`)
/// used as UTF-8 bytes. Valid when ANY `v1` entry matches (Stripe sends several while secrets
/// roll); other schemes such as `v0` are ignored. The signature is checked before the timestamp,
/// so [`VerifyError::StaleTimestamp`] means "authentic but too old/new" (a replay), while a
/// forgery reports [`VerifyError::BadSignature`].
pub fn verify_stripe(signature_header: Option<&str>, body: &[u8], secret: &str, now: i64) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(VerifyError::InvalidSecret("empty secret"));
    }
    let header = required(signature_header, HEADER)?;
    let mut timestamp: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    let mut saw_v1 = false;
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            return Err(VerifyError::MalformedHeader(HEADER));
        };
        match key {
            "t" => {
                let t = value.parse::<i64>().map_err(|_| VerifyError::MalformedHeader(HEADER))?;
                if timestamp.replace(t).is_some() {
                    return Err(VerifyError::MalformedHeader(HEADER));
                }
            }
            "v1" => {
                saw_v1 = true;
                // A non-hex entry can never match; skip it rather than fail the whole header.
                if let Ok(bytes) = hex::decode(value) {
                    candidates.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::MalformedHeader(HEADER))?;
    if !saw_v1 {
        return Err(VerifyError::NoSupportedSignature(HEADER));
    }
    let expected = compute(body, secret, timestamp);
    // Compare against every candidate (no early exit) to keep timing independent of position.
    let matched = candidates.iter().fold(false, |acc, c| acc | ct_eq(c, &expected));
    if !matched {
        return Err(VerifyError::BadSignature);
    }
    check_timestamp(timestamp, now)
}

/// Builds a `Stripe-Signature` header value (`t=<t>,v1=<hex>`) for tests and benchmarks.
pub fn sign_stripe(body: &[u8], secret: &str, t: i64) -> String {
    format!("t={t},v1={}", hex::encode(compute(body, secret, t)))
}

fn compute(body: &[u8], secret: &str, t: i64) -> [u8; 32] {
    let t = t.to_string();
    hmac_sha256(secret.as_bytes(), &[t.as_bytes(), b".", body])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vector computed independently with Stripe's own Python SDK (stripe 16.1.0):
    //   stripe.WebhookSignature._compute_signature(f"{t}.{body}", secret)
    // and cross-checked with hmac.new(secret.encode(), b"1700000000." + body, sha256).hexdigest().
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    const SECRET: &str = "whsec_test_secret_123";
    const T: i64 = 1_700_000_000;
    const SIG: &str = "fb65fb792fdc6ce9b89101869b03ebbb61d6d28446d6ecd24f12cd830a7182fb";

    fn header() -> String {
        format!("t={T},v1={SIG}")
    }

    #[test]
    fn signs_like_stripe() {
        assert_eq!(sign_stripe(BODY, SECRET, T), header());
    }

    #[test]
    fn accepts_valid_signature() {
        assert_eq!(verify_stripe(Some(&header()), BODY, SECRET, T + 10), Ok(()));
    }

    #[test]
    fn rejects_wrong_secret_and_tampered_body() {
        let h = header();
        assert_eq!(verify_stripe(Some(&h), BODY, "whsec_other", T), Err(VerifyError::BadSignature));
        let tampered = br#"{"id":"evt_1","type":"invoice.paid "}"#;
        assert_eq!(verify_stripe(Some(&h), tampered, SECRET, T), Err(VerifyError::BadSignature));
    }

    #[test]
    fn rejects_stale_and_future_timestamps() {
        let h = header();
        assert_eq!(verify_stripe(Some(&h), BODY, SECRET, T + 300), Ok(()));
        assert_eq!(verify_stripe(Some(&h), BODY, SECRET, T + 301), Err(VerifyError::StaleTimestamp { skew_secs: 301 }));
        assert_eq!(
            verify_stripe(Some(&h), BODY, SECRET, T - 301),
            Err(VerifyError::StaleTimestamp { skew_secs: -301 })
        );
    }

    #[test]
    fn accepts_when_a_later_v1_matches_and_ignores_v0() {
        let h = format!("t={T},v0=deadbeef,v1={},v1=zz,v1={SIG}", "00".repeat(32));
        assert_eq!(verify_stripe(Some(&h), BODY, SECRET, T), Ok(()));
    }

    #[test]
    fn missing_and_malformed_headers() {
        assert_eq!(verify_stripe(None, BODY, SECRET, T), Err(VerifyError::MissingHeader("stripe-signature")));
        assert_eq!(verify_stripe(Some("  "), BODY, SECRET, T), Err(VerifyError::MissingHeader("stripe-signature")));
        for bad in ["test", "t=abc,v1=00", &format!("v1={SIG}"), "t=1,t=2,v1=00"] {
            assert_eq!(
                verify_stripe(Some(bad), BODY, SECRET, T),
                Err(VerifyError::MalformedHeader("stripe-signature")),
                "{bad}"
            );
        }
        assert_eq!(
            verify_stripe(Some(&format!("t={T},v0={SIG}")), BODY, SECRET, T),
            Err(VerifyError::NoSupportedSignature("stripe-signature"))
        );
    }

    #[test]
    fn empty_secret_is_a_config_error() {
        assert_eq!(verify_stripe(Some(&header()), BODY, "", T), Err(VerifyError::InvalidSecret("empty secret")));
    }

    #[test]
    fn errors_do_not_leak_secret_or_signature() {
        let err = verify_stripe(Some(&header()), BODY, "whsec_other", T).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("whsec") && !text.contains(SIG));
    }
}
