//! RevenueCat: no signature, a shared `Authorization` header value.

use super::{AUTHORIZATION_HEADER, VerifyError, ct_eq, required};

/// Checks RevenueCat's `Authorization` header against the configured value, in constant time.
///
/// Accepts either exactly `configured` or `Bearer <configured>` (the dashboard sends whatever
/// value was entered; setups commonly enter `Bearer <secret>`).
pub fn verify_revenuecat(authorization: Option<&str>, configured: &str) -> Result<(), VerifyError> {
    if configured.is_empty() {
        return Err(VerifyError::InvalidSecret("empty secret"));
    }
    let header = required(authorization, AUTHORIZATION_HEADER)?;
    let exact = ct_eq(header.as_bytes(), configured.as_bytes());
    let bearer =
        header.strip_prefix("Bearer ").is_some_and(|token| ct_eq(token.trim().as_bytes(), configured.as_bytes()));
    if exact | bearer { Ok(()) } else { Err(VerifyError::BadAuthorization) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "rc_webhook_s3cret";

    #[test]
    fn accepts_plain_and_bearer() {
        assert_eq!(verify_revenuecat(Some(SECRET), SECRET), Ok(()));
        assert_eq!(verify_revenuecat(Some("Bearer rc_webhook_s3cret"), SECRET), Ok(()));
        // Configured value that itself includes the scheme matches exactly.
        assert_eq!(verify_revenuecat(Some("Bearer rc_webhook_s3cret"), "Bearer rc_webhook_s3cret"), Ok(()));
    }

    #[test]
    fn rejects_wrong_and_missing() {
        for bad in ["rc_webhook_s3cre", "Bearer nope", "Basic rc_webhook_s3cret", "Bearer"] {
            assert_eq!(verify_revenuecat(Some(bad), SECRET), Err(VerifyError::BadAuthorization), "{bad}");
        }
        assert_eq!(verify_revenuecat(None, SECRET), Err(VerifyError::MissingHeader("authorization")));
        assert_eq!(verify_revenuecat(Some(""), SECRET), Err(VerifyError::MissingHeader("authorization")));
    }

    #[test]
    fn empty_configured_value_never_matches() {
        assert_eq!(verify_revenuecat(Some(""), ""), Err(VerifyError::InvalidSecret("empty secret")));
    }
}
