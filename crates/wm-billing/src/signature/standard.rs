//! Standard Webhooks (Whop v1): `webhook-id`, `webhook-timestamp`, `webhook-signature`, plus the
//! opt-in legacy Whop `X-Whop-Signature` check.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::{
    VerifyError, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, WHOP_LEGACY_SIGNATURE_HEADER,
    check_timestamp, ct_eq, hmac_sha256, required,
};

const WHSEC_PREFIX: &str = "whsec_";

/// Verifies a Standard Webhooks request (Whop v1 webhooks).
///
/// Signed content is `"<id>.<timestamp>.<raw body>"`, HMAC-SHA256, base64 (standard alphabet).
/// `webhook-signature` is a space-separated list of `<version>,<base64>`; only `v1` entries are
/// checked and any match is enough. Key: a secret starting with `whsec_` is base64-decoded after
/// the prefix (Standard Webhooks spec); any other secret is used as raw UTF-8 bytes (what Whop's
/// SDKs do with the dashboard secret). Tolerance is ±[`super::TIMESTAMP_TOLERANCE_SECS`];
/// the signature is checked before the timestamp.
pub fn verify_standard(
    webhook_id: Option<&str>,
    webhook_timestamp: Option<&str>,
    webhook_signature: Option<&str>,
    body: &[u8],
    secret: &str,
    now: i64,
) -> Result<(), VerifyError> {
    let key = standard_key(secret)?;
    let id = required(webhook_id, WEBHOOK_ID_HEADER)?;
    let ts_raw = required(webhook_timestamp, WEBHOOK_TIMESTAMP_HEADER)?;
    let sig_header = required(webhook_signature, WEBHOOK_SIGNATURE_HEADER)?;
    let timestamp = ts_raw.parse::<i64>().map_err(|_| VerifyError::MalformedHeader(WEBHOOK_TIMESTAMP_HEADER))?;

    let mut candidates: Vec<Vec<u8>> = Vec::new();
    let mut saw_v1 = false;
    for entry in sig_header.split_ascii_whitespace() {
        let Some((version, sig)) = entry.split_once(',') else {
            return Err(VerifyError::MalformedHeader(WEBHOOK_SIGNATURE_HEADER));
        };
        if version == "v1" {
            saw_v1 = true;
            if let Ok(bytes) = B64.decode(sig) {
                candidates.push(bytes);
            }
        }
    }
    if !saw_v1 {
        return Err(VerifyError::NoSupportedSignature(WEBHOOK_SIGNATURE_HEADER));
    }
    let expected = compute(&key, id, ts_raw, body);
    let matched = candidates.iter().fold(false, |acc, c| acc | ct_eq(c, &expected));
    if !matched {
        return Err(VerifyError::BadSignature);
    }
    check_timestamp(timestamp, now)
}

/// Builds a `webhook-signature` header value (`v1,<base64>`) for tests and benchmarks.
///
/// Fails only when `secret` is unusable (see [`verify_standard`] for the key rules).
pub fn sign_standard(id: &str, ts: i64, body: &[u8], secret: &str) -> Result<String, VerifyError> {
    let key = standard_key(secret)?;
    Ok(format!("v1,{}", B64.encode(compute(&key, id, &ts.to_string(), body))))
}

/// Verifies the legacy `X-Whop-Signature` header: lower- or upper-case hex HMAC-SHA256 of the raw
/// body, keyed with the secret's UTF-8 bytes. It has no timestamp, so it cannot stop replays: the
/// caller must enable it explicitly and rely on event-id deduplication.
pub fn verify_whop_legacy(signature: Option<&str>, body: &[u8], secret: &str) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(VerifyError::InvalidSecret("empty secret"));
    }
    let sig = required(signature, WHOP_LEGACY_SIGNATURE_HEADER)?;
    let provided = hex::decode(sig).map_err(|_| VerifyError::MalformedHeader(WHOP_LEGACY_SIGNATURE_HEADER))?;
    let expected = hmac_sha256(secret.as_bytes(), &[body]);
    if ct_eq(&provided, &expected) { Ok(()) } else { Err(VerifyError::BadSignature) }
}

/// Builds a legacy `X-Whop-Signature` value (lower-case hex) for tests.
pub fn sign_whop_legacy(body: &[u8], secret: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), &[body]))
}

/// The HMAC key for a Standard Webhooks secret.
fn standard_key(secret: &str) -> Result<Vec<u8>, VerifyError> {
    let key = match secret.strip_prefix(WHSEC_PREFIX) {
        Some(encoded) => {
            B64.decode(encoded).map_err(|_| VerifyError::InvalidSecret("whsec_ secret is not valid base64"))?
        }
        None => secret.as_bytes().to_vec(),
    };
    if key.is_empty() {
        return Err(VerifyError::InvalidSecret("empty secret"));
    }
    Ok(key)
}

fn compute(key: &[u8], id: &str, ts: &str, body: &[u8]) -> [u8; 32] {
    hmac_sha256(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed independently with the official `standardwebhooks` Python package:
    //   Webhook(secret).sign("msg_2abc", datetime.fromtimestamp(1700000000, utc), body)
    // WHSEC = "whsec_" + base64(b"standard-secret-key-bytes-0001").
    // For the raw secret, Whop's SDK convention was used: Webhook(base64(raw.encode())), and
    // cross-checked with base64(hmac.new(raw.encode(), b"msg_2abc.1700000000." + body, sha256)).
    // LEGACY = hmac.new(b"ws_rawsecret_abc", body, sha256).hexdigest().
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    const ID: &str = "msg_2abc";
    const TS: &str = "1700000000";
    const NOW: i64 = 1_700_000_000;
    const WHSEC: &str = "whsec_c3RhbmRhcmQtc2VjcmV0LWtleS1ieXRlcy0wMDAx";
    const SIG_WHSEC: &str = "v1,ungmGBZ4hoDfbV2Div9fjqkfINCP/QyeKSHIRy4ySdI=";
    const RAW: &str = "ws_rawsecret_abc";
    const SIG_RAW: &str = "v1,a9+ElBKzOX/kJZdkYu4S6du/AG11SiijLv2GpHlWecw=";
    const LEGACY: &str = "15ecfa7464e676f90ffa65d76944c167796bce223af5fe63e98b43dba7ab8a24";

    fn verify(sig: &str, body: &[u8], secret: &str, now: i64) -> Result<(), VerifyError> {
        verify_standard(Some(ID), Some(TS), Some(sig), body, secret, now)
    }

    #[test]
    fn whsec_secret_is_base64_decoded() {
        assert_eq!(sign_standard(ID, NOW, BODY, WHSEC).unwrap(), SIG_WHSEC);
        assert_eq!(verify(SIG_WHSEC, BODY, WHSEC, NOW), Ok(()));
    }

    #[test]
    fn plain_secret_is_raw_utf8() {
        assert_eq!(sign_standard(ID, NOW, BODY, RAW).unwrap(), SIG_RAW);
        assert_eq!(verify(SIG_RAW, BODY, RAW, NOW + 299), Ok(()));
        // The same bytes used the other way round must not verify.
        assert_eq!(verify(SIG_WHSEC, BODY, RAW, NOW), Err(VerifyError::BadSignature));
    }

    #[test]
    fn rejects_wrong_secret_tampered_body_and_other_id() {
        assert_eq!(verify(SIG_RAW, BODY, "ws_other", NOW), Err(VerifyError::BadSignature));
        assert_eq!(verify(SIG_RAW, b"{}", RAW, NOW), Err(VerifyError::BadSignature));
        let other_id = verify_standard(Some("msg_x"), Some(TS), Some(SIG_RAW), BODY, RAW, NOW);
        assert_eq!(other_id, Err(VerifyError::BadSignature));
    }

    #[test]
    fn timestamp_tolerance_both_ways() {
        assert_eq!(verify(SIG_RAW, BODY, RAW, NOW + 301), Err(VerifyError::StaleTimestamp { skew_secs: 301 }));
        assert_eq!(verify(SIG_RAW, BODY, RAW, NOW - 301), Err(VerifyError::StaleTimestamp { skew_secs: -301 }));
    }

    #[test]
    fn multiple_signatures_second_matches() {
        let header = format!("v1,AAAA v1a,ignored v1,{}", &SIG_RAW[3..]);
        assert_eq!(verify(&header, BODY, RAW, NOW), Ok(()));
    }

    #[test]
    fn missing_and_malformed_headers() {
        let v = |id, ts, sig| verify_standard(id, ts, sig, BODY, RAW, NOW);
        assert_eq!(v(None, Some(TS), Some(SIG_RAW)), Err(VerifyError::MissingHeader("webhook-id")));
        assert_eq!(v(Some(ID), None, Some(SIG_RAW)), Err(VerifyError::MissingHeader("webhook-timestamp")));
        assert_eq!(v(Some(ID), Some(TS), None), Err(VerifyError::MissingHeader("webhook-signature")));
        assert_eq!(v(Some(ID), Some("soon"), Some(SIG_RAW)), Err(VerifyError::MalformedHeader("webhook-timestamp")));
        assert_eq!(v(Some(ID), Some(TS), Some("garbage")), Err(VerifyError::MalformedHeader("webhook-signature")));
        assert_eq!(v(Some(ID), Some(TS), Some("v2,AAAA")), Err(VerifyError::NoSupportedSignature("webhook-signature")));
    }

    #[test]
    fn invalid_secrets() {
        assert_eq!(
            verify(SIG_RAW, BODY, "whsec_!!!", NOW),
            Err(VerifyError::InvalidSecret("whsec_ secret is not valid base64"))
        );
        assert_eq!(verify(SIG_RAW, BODY, "", NOW), Err(VerifyError::InvalidSecret("empty secret")));
    }

    #[test]
    fn legacy_hex_signature() {
        assert_eq!(sign_whop_legacy(BODY, RAW), LEGACY);
        assert_eq!(verify_whop_legacy(Some(LEGACY), BODY, RAW), Ok(()));
        let upper = LEGACY.to_uppercase();
        assert_eq!(verify_whop_legacy(Some(&upper), BODY, RAW), Ok(()));
        assert_eq!(verify_whop_legacy(Some(LEGACY), b"{}", RAW), Err(VerifyError::BadSignature));
        assert_eq!(
            verify_whop_legacy(Some("test_signature"), BODY, RAW),
            Err(VerifyError::MalformedHeader("x-whop-signature"))
        );
        assert_eq!(verify_whop_legacy(None, BODY, RAW), Err(VerifyError::MissingHeader("x-whop-signature")));
    }
}
