//! RevenueCat payloads → BillingEvent (shapes from RevenueCat's sample events).

use chrono::DateTime;
use wm_billing::{Access, EventKind, ParseError, PlanMap, Provider, parse_revenuecat};

const RECEIVED: i64 = 1_750_000_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/revenuecat/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn initial_purchase() {
    let ev = parse_revenuecat(&fixture("initial_purchase"), RECEIVED).unwrap();
    assert_eq!(ev.provider, Provider::RevenueCat);
    assert_eq!(ev.event_id, "A1B2C3D4-0001-4E5F-8A9B-000000000001");
    assert_eq!(ev.event_type, "INITIAL_PURCHASE");
    assert_eq!(Some(ev.occurred_at), DateTime::from_timestamp_millis(1_735_689_601_000));
    assert_eq!((ev.kind, ev.access), (EventKind::Purchase, Access::Grant));
    assert_eq!(ev.customer.provider_customer_id.as_deref(), Some("usr_0192f3a4-b5c6-7d8e-9f00-112233445566"));
    assert_eq!(ev.customer.email.as_deref(), Some("ada@example.com"));
    assert_eq!(ev.subscription_ref.as_deref(), Some("2000000812340000"));
    assert_eq!(ev.product_refs, ["wm_pro_monthly", "pro_access"]);
    assert_eq!(ev.period_end, DateTime::from_timestamp(1_738_368_000, 0));
    assert_eq!(ev.livemode, Some(true));
    assert_eq!(ev.cancel_at_period_end, None);

    let by_entitlement = PlanMap::parse("revenuecat:pro_access=pro").unwrap();
    assert_eq!(by_entitlement.resolve(&ev), Some("pro"));
}

#[test]
fn every_documented_type() {
    for (name, kind, access, cancel) in [
        ("renewal", EventKind::Renewal, Access::Grant, None),
        ("cancellation", EventKind::CancellationScheduled, Access::Grant, Some(true)),
        ("uncancellation", EventKind::Uncancelled, Access::Grant, Some(false)),
        ("product_change", EventKind::PlanChange, Access::Grant, None),
        ("billing_issue", EventKind::PaymentFailed, Access::Grace, None),
        ("expiration", EventKind::AccessEnded, Access::Revoke, None),
        ("test", EventKind::Other, Access::Unchanged, None),
        ("subscription_paused", EventKind::Other, Access::Unchanged, None),
    ] {
        let ev = parse_revenuecat(&fixture(name), RECEIVED).unwrap();
        assert_eq!((ev.kind, ev.access, ev.cancel_at_period_end), (kind, access, cancel), "{name}");
    }
}

#[test]
fn cancellation_keeps_access_until_expiration() {
    let ev = parse_revenuecat(&fixture("cancellation"), RECEIVED).unwrap();
    assert_eq!(ev.access, Access::Grant);
    assert_eq!(ev.period_end, DateTime::from_timestamp(1_738_368_000, 0));
}

#[test]
fn product_change_prefers_new_product() {
    let ev = parse_revenuecat(&fixture("product_change"), RECEIVED).unwrap();
    assert_eq!(ev.product_refs, ["wm_enterprise_monthly", "wm_pro_monthly", "pro_access"]);
}

#[test]
fn sandbox_test_event() {
    let ev = parse_revenuecat(&fixture("test"), RECEIVED).unwrap();
    assert_eq!(ev.livemode, Some(false));
    assert!(ev.is_ignored());
}

#[test]
fn seed_minimal_test_event_is_accepted() {
    // The seed's reachability check sends only a type; RevenueCat must get a 200.
    let body = br#"{"event":{"type":"TEST"}}"#;
    let ev = parse_revenuecat(body, RECEIVED).unwrap();
    assert_eq!(ev.kind, EventKind::Other);
    assert!(ev.event_id.starts_with("sha256:"));
    assert_eq!(ev.occurred_at, DateTime::from_timestamp(RECEIVED, 0).unwrap());
}

#[test]
fn missing_fields_are_named() {
    let cases: [(&[u8], &str); 4] = [
        (br#"{"api_version":"1.0"}"#, "event"),
        (br#"{"event":{"id":"e1"}}"#, "event.type"),
        (br#"{"event":{"type":"RENEWAL","app_user_id":"u1"}}"#, "event.id"),
        (br#"{"event":{"type":"EXPIRATION","id":"e1"}}"#, "event.app_user_id"),
    ];
    for (body, field) in cases {
        assert_eq!(
            parse_revenuecat(body, RECEIVED),
            Err(ParseError::MissingField(field.into())),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let bad = br#"{"event":{"type":"RENEWAL","id":"e","app_user_id":"u","expiration_at_ms":"x"}}"#;
    assert_eq!(
        parse_revenuecat(bad, RECEIVED),
        Err(ParseError::InvalidField { field: "event.expiration_at_ms".into(), reason: "expected an integer" })
    );
}
