//! Whop payloads → BillingEvent: v1 webhooks (shapes from Whop's API reference), the legacy
//! `action` format and the seed's `subscription.*` format.

use chrono::{DateTime, Utc};
use wm_billing::{Access, EventKind, ParseError, PlanMap, Provider, parse_whop, sign_standard, verify_standard};

const RECEIVED: i64 = 1_750_000_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/whop/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rfc3339(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn membership_activated() {
    let ev = parse_whop(&fixture("membership_activated"), Some("msg_hdr_1"), RECEIVED).unwrap();
    assert_eq!(ev.provider, Provider::Whop);
    assert_eq!(ev.event_id, "msg_hdr_1", "the webhook-id header wins");
    assert_eq!(ev.event_type, "membership.activated");
    assert_eq!(ev.occurred_at, rfc3339("2025-01-01T00:00:06Z"));
    assert_eq!((ev.kind, ev.access), (EventKind::Purchase, Access::Grant));
    assert_eq!(ev.customer.provider_customer_id.as_deref(), Some("user_q61ixyl8cVGff"));
    assert_eq!(ev.customer.email.as_deref(), Some("ada@example.com"));
    assert_eq!(ev.subscription_ref.as_deref(), Some("mem_4bCdEfGhIjKlMn"));
    assert_eq!(ev.product_refs, ["plan_nJUM2MyD9lX0Q", "prod_WhiteMagicPro"]);
    assert_eq!(ev.period_end, Some(rfc3339("2025-02-01T00:00:00Z")));
    assert_eq!(ev.cancel_at_period_end, Some(false));
    assert_eq!(ev.status.as_deref(), Some("active"));

    let plans = PlanMap::parse("whop:prod_WhiteMagicPro=pro").unwrap();
    assert_eq!(plans.resolve(&ev), Some("pro"), "falls back to the product id");
}

#[test]
fn payload_id_used_without_header() {
    let ev = parse_whop(&fixture("membership_activated"), None, RECEIVED).unwrap();
    assert_eq!(ev.event_id, "msg_2q0Activated0001");
}

#[test]
fn membership_deactivated() {
    let ev = parse_whop(&fixture("membership_deactivated"), None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::AccessEnded, Access::Revoke));
    assert_eq!(ev.status.as_deref(), Some("canceled"));
}

#[test]
fn cancel_at_period_end_changed_both_ways() {
    let body = fixture("membership_cancel_at_period_end_changed");
    let ev = parse_whop(&body, None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::CancellationScheduled, Access::Grant));
    assert_eq!(ev.cancel_at_period_end, Some(true));
    assert_eq!(ev.period_end, Some(rfc3339("2025-02-01T00:00:00Z")));

    let undone =
        String::from_utf8(body).unwrap().replace(r#""cancel_at_period_end": true"#, r#""cancel_at_period_end": false"#);
    let ev = parse_whop(undone.as_bytes(), None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Uncancelled, Access::Grant));
}

#[test]
fn cancel_flag_is_required_for_the_toggle_event() {
    let body = br#"{"id":"msg_1","type":"membership.cancel_at_period_end_changed",
        "data":{"id":"mem_1","user":{"id":"user_1"}}}"#;
    assert_eq!(parse_whop(body, None, RECEIVED), Err(ParseError::MissingField("data.cancel_at_period_end".into())));
}

#[test]
fn payment_succeeded_cycle_is_renewal() {
    let ev = parse_whop(&fixture("payment_succeeded"), None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Renewal, Access::Grant));
    assert_eq!(ev.subscription_ref.as_deref(), Some("mem_4bCdEfGhIjKlMn"));
    assert_eq!(ev.product_ref(), Some("plan_nJUM2MyD9lX0Q"));
    assert_eq!(ev.customer.email.as_deref(), Some("ada@example.com"));

    let first =
        String::from_utf8(fixture("payment_succeeded")).unwrap().replace("subscription_cycle", "subscription_create");
    let ev = parse_whop(first.as_bytes(), None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::PaymentSucceeded, Access::Grant));
}

#[test]
fn payment_failed_is_grace() {
    let ev = parse_whop(&fixture("payment_failed"), None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::PaymentFailed, Access::Grace));
    assert_eq!(ev.subscription_ref.as_deref(), Some("mem_4bCdEfGhIjKlMn"));
}

#[test]
fn one_off_payment_does_not_change_access() {
    let body = br#"{"id":"msg_1","type":"payment.succeeded","timestamp":"2025-01-01T00:00:00Z",
        "data":{"id":"pay_1","user":{"id":"user_1"},"plan":{"id":"plan_1"}}}"#;
    let ev = parse_whop(body, None, RECEIVED).unwrap();
    assert_eq!(ev.access, Access::Unchanged);
    assert_eq!(ev.subscription_ref, None);
}

#[test]
fn legacy_went_valid_and_invalid() {
    let body = fixture("legacy_membership_went_valid");
    let ev = parse_whop(&body, None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Purchase, Access::Grant));
    assert_eq!(ev.subscription_ref.as_deref(), Some("mem_5l6nvhob7ALjRT"));
    assert_eq!(ev.product_refs, ["plan_nJUM2MyD9lX0Q", "pass_m11FQfj0mJV3p"]);
    assert_eq!(ev.period_end, DateTime::from_timestamp(1_678_235_799, 0));
    assert_eq!(ev.occurred_at, DateTime::from_timestamp(RECEIVED, 0).unwrap());
    assert!(ev.event_id.starts_with("sha256:"), "no id anywhere: body digest");

    let invalid = String::from_utf8(body).unwrap().replace("went_valid", "went_invalid");
    let ev = parse_whop(invalid.as_bytes(), None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::AccessEnded, Access::Revoke));
}

#[test]
fn seed_subscription_events() {
    let body = String::from_utf8(fixture("seed_subscription_created")).unwrap();
    let ev = parse_whop(body.as_bytes(), None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Purchase, Access::Grant));
    assert_eq!(ev.customer.provider_customer_id.as_deref(), Some("user_test123"));
    assert_eq!(ev.customer.email.as_deref(), Some("test@example.com"));
    assert_eq!(ev.product_refs, ["pro"]);
    assert_eq!(ev.subscription_ref, None);
    let again = parse_whop(body.as_bytes(), None, RECEIVED + 5).unwrap();
    assert_eq!(again.event_id, ev.event_id, "identical retries deduplicate");

    for (name, kind, access) in [
        ("subscription.renewed", EventKind::Renewal, Access::Grant),
        ("subscription.canceled", EventKind::AccessEnded, Access::Revoke),
        ("subscription.upgraded", EventKind::PlanChange, Access::Grant),
        ("subscription.downgraded", EventKind::PlanChange, Access::Grant),
    ] {
        let b = body.replace("subscription.created", name);
        let ev = parse_whop(b.as_bytes(), None, RECEIVED).unwrap();
        assert_eq!((ev.kind, ev.access), (kind, access), "{name}");
    }
}

#[test]
fn unknown_types_are_other() {
    let ev = parse_whop(&fixture("membership_updated"), None, RECEIVED).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Other, Access::Unchanged));
    let ev = parse_whop(br#"{"type":"refund.created","data":{}}"#, None, RECEIVED).unwrap();
    assert!(ev.is_ignored());
}

#[test]
fn missing_fields_are_named() {
    let cases: [(&[u8], &str); 4] = [
        (br#"{"id":"msg_1","data":{}}"#, "type"),
        (br#"{"id":"msg_1","type":"membership.activated"}"#, "data"),
        (br#"{"type":"membership.activated","data":{"id":"mem_1"}}"#, "data.user.id"),
        (br#"{"type":"membership.deactivated","data":{"user":{"id":"user_1"}}}"#, "data.id"),
    ];
    for (body, field) in cases {
        assert_eq!(
            parse_whop(body, None, RECEIVED),
            Err(ParseError::MissingField(field.into())),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let bad_time = br#"{"type":"membership.activated","data":{"id":"mem_1",
        "user":{"id":"u"},"renewal_period_end":"soon"}}"#;
    assert_eq!(
        parse_whop(bad_time, None, RECEIVED),
        Err(ParseError::InvalidField {
            field: "data.renewal_period_end".into(),
            reason: "expected an RFC 3339 timestamp"
        })
    );
}

#[test]
fn verify_then_parse_round_trip() {
    let body = fixture("membership_activated");
    let ts = 1_735_689_606;
    let sig = sign_standard("msg_2q0Activated0001", ts, &body, "ws_round_trip").unwrap();
    let ts_s = ts.to_string();
    verify_standard(Some("msg_2q0Activated0001"), Some(&ts_s), Some(&sig), &body, "ws_round_trip", ts + 1).unwrap();
    let ev = parse_whop(&body, Some("msg_2q0Activated0001"), ts).unwrap();
    assert_eq!(ev.kind, EventKind::Purchase);
}
