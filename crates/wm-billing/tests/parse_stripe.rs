//! Stripe payloads → BillingEvent, from realistic fixtures (shapes follow Stripe's API reference,
//! both the 2024 layout and the 2025-03-31 "basil" layout).

use chrono::{DateTime, Utc};
use wm_billing::{Access, EventKind, ParseError, PlanMap, Provider, parse_stripe, sign_stripe, verify_stripe};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/stripe/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn at(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

#[test]
fn checkout_session_completed() {
    let ev = parse_stripe(&fixture("checkout_session_completed")).unwrap();
    assert_eq!(ev.provider, Provider::Stripe);
    assert_eq!(ev.event_id, "evt_1QxCheckout0001");
    assert_eq!(ev.event_type, "checkout.session.completed");
    assert_eq!(Some(ev.occurred_at), at(1_735_689_601));
    assert_eq!((ev.kind, ev.access), (EventKind::Purchase, Access::Grant));
    assert_eq!(ev.customer.provider_customer_id.as_deref(), Some("cus_RmAbCdEfGh1234"));
    assert_eq!(ev.customer.email.as_deref(), Some("ada@example.com"));
    assert_eq!(ev.client_reference_id.as_deref(), Some("usr_0192f3a4-b5c6-7d8e-9f00-112233445566"));
    assert_eq!(ev.subscription_ref.as_deref(), Some("sub_1QxYzAbCdEfGhIjK"));
    assert_eq!(ev.status.as_deref(), Some("paid"));
    assert_eq!(ev.livemode, Some(false));
    assert!(ev.product_refs.is_empty(), "webhooks do not include line items");
}

#[test]
fn unpaid_checkout_does_not_grant() {
    let body = String::from_utf8(fixture("checkout_session_completed"))
        .unwrap()
        .replace(r#""payment_status": "paid""#, r#""payment_status": "unpaid""#);
    let ev = parse_stripe(body.as_bytes()).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Purchase, Access::Unchanged));
}

#[test]
fn subscription_created_uses_item_period_and_price() {
    let ev = parse_stripe(&fixture("customer_subscription_created")).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Purchase, Access::Grant));
    assert_eq!(ev.subscription_ref.as_deref(), Some("sub_1QxYzAbCdEfGhIjK"));
    assert_eq!(ev.product_refs, ["price_1QxPro", "prod_RmWhiteMagicPro"]);
    assert_eq!(ev.product_ref(), Some("price_1QxPro"));
    assert_eq!(ev.period_end, at(1_738_368_000));
    assert_eq!(ev.cancel_at_period_end, Some(false));
    assert_eq!(ev.status.as_deref(), Some("active"));
    let plans = PlanMap::parse("stripe:price_1QxPro=pro").unwrap();
    assert_eq!(plans.resolve(&ev), Some("pro"));
}

#[test]
fn subscription_updated_cancel_at_period_end() {
    let ev = parse_stripe(&fixture("customer_subscription_updated_cancel")).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::CancellationScheduled, Access::Grant));
    assert_eq!(ev.cancel_at_period_end, Some(true));
    assert_eq!(ev.period_end, at(1_738_368_000));
}

#[test]
fn subscription_updated_uncancel() {
    let body = String::from_utf8(fixture("customer_subscription_updated_cancel"))
        .unwrap()
        .replace(r#""cancel_at_period_end": true"#, r#""cancel_at_period_end": false"#);
    let ev = parse_stripe(body.as_bytes()).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Uncancelled, Access::Grant));
}

#[test]
fn subscription_updated_plan_change() {
    let ev = parse_stripe(&fixture("customer_subscription_updated_plan_change")).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::PlanChange, Access::Grant));
    assert_eq!(ev.product_ref(), Some("price_1QxEnterprise"));
}

#[test]
fn subscription_updated_past_due_is_grace() {
    let ev = parse_stripe(&fixture("customer_subscription_updated_past_due")).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::PaymentFailed, Access::Grace));
    assert_eq!(ev.status.as_deref(), Some("past_due"));
}

#[test]
fn subscription_status_mapping() {
    let base = String::from_utf8(fixture("customer_subscription_updated_past_due")).unwrap();
    for (status, kind, access) in [
        ("trialing", EventKind::SubscriptionUpdated, Access::Grant),
        ("active", EventKind::SubscriptionUpdated, Access::Grant),
        ("canceled", EventKind::AccessEnded, Access::Revoke),
        ("unpaid", EventKind::AccessEnded, Access::Revoke),
        ("incomplete_expired", EventKind::AccessEnded, Access::Revoke),
        ("incomplete", EventKind::SubscriptionUpdated, Access::Unchanged),
        ("paused", EventKind::SubscriptionUpdated, Access::Unchanged),
    ] {
        let body = base.replace(r#""status": "past_due""#, &format!(r#""status": "{status}""#));
        let ev = parse_stripe(body.as_bytes()).unwrap();
        assert_eq!((ev.kind, ev.access), (kind, access), "{status}");
    }
}

#[test]
fn subscription_deleted_old_layout_uses_top_level_period() {
    let ev = parse_stripe(&fixture("customer_subscription_deleted")).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::AccessEnded, Access::Revoke));
    assert_eq!(ev.period_end, at(1_738_368_000));
    assert_eq!(ev.product_refs, ["price_1QxPro", "prod_RmWhiteMagicPro"]);
}

#[test]
fn invoice_paid_cycle_is_renewal() {
    let ev = parse_stripe(&fixture("invoice_paid")).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Renewal, Access::Grant));
    assert_eq!(ev.subscription_ref.as_deref(), Some("sub_1QxYzAbCdEfGhIjK"));
    assert_eq!(ev.customer.email.as_deref(), Some("ada@example.com"));
    assert_eq!(ev.period_end, at(1_740_787_200));
    assert_eq!(ev.product_ref(), Some("price_1QxPro"));

    let first =
        String::from_utf8(fixture("invoice_paid")).unwrap().replace("subscription_cycle", "subscription_create");
    let ev = parse_stripe(first.as_bytes()).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::PaymentSucceeded, Access::Grant));
}

#[test]
fn invoice_payment_failed_basil_layout() {
    let ev = parse_stripe(&fixture("invoice_payment_failed")).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::PaymentFailed, Access::Grace));
    assert_eq!(ev.subscription_ref.as_deref(), Some("sub_1QxYzAbCdEfGhIjK"));
    assert_eq!(ev.product_refs, ["price_1QxPro", "prod_RmWhiteMagicPro"]);
    assert_eq!(ev.period_end, at(1_740_787_200));
    assert_eq!(ev.status.as_deref(), Some("open"));
}

#[test]
fn unknown_type_is_other_not_error() {
    let ev = parse_stripe(&fixture("customer_created")).unwrap();
    assert_eq!((ev.kind, ev.access), (EventKind::Other, Access::Unchanged));
    assert!(ev.is_ignored());
    assert_eq!(ev.event_id, "evt_1QxCustomer001");
}

#[test]
fn missing_fields_are_named() {
    let cases = [
        (r#"{"type":"invoice.paid","created":1}"#, "id"),
        (r#"{"id":"evt_1","created":1}"#, "type"),
        (r#"{"id":"evt_1","type":"invoice.paid"}"#, "created"),
        (r#"{"id":"evt_1","type":"invoice.paid","created":1}"#, "data.object"),
        (r#"{"id":"evt_1","type":"invoice.paid","created":1,"data":{"object":{}}}"#, "data.object.customer"),
        (
            r#"{"id":"e","type":"customer.subscription.updated","created":1,
                "data":{"object":{"id":"sub_1","customer":"cus_1"}}}"#,
            "data.object.status",
        ),
        (
            r#"{"id":"e","type":"checkout.session.completed","created":1,
                "data":{"object":{"id":"cs_1"}}}"#,
            "data.object.customer",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(parse_stripe(body.as_bytes()), Err(ParseError::MissingField(field.into())), "{body}");
    }
}

#[test]
fn bad_json_and_wrong_types() {
    assert!(matches!(parse_stripe(b"not json"), Err(ParseError::InvalidJson(_))));
    assert!(matches!(parse_stripe(b"[]"), Err(ParseError::InvalidJson(_))));
    let body = br#"{"id":"e","type":"x","created":"yesterday"}"#;
    assert_eq!(
        parse_stripe(body),
        Err(ParseError::InvalidField { field: "created".into(), reason: "expected an integer" })
    );
}

#[test]
fn verify_then_parse_round_trip() {
    let body = fixture("invoice_paid");
    let header = sign_stripe(&body, "whsec_round_trip", 1_738_368_100);
    verify_stripe(Some(&header), &body, "whsec_round_trip", 1_738_368_130).unwrap();
    assert_eq!(parse_stripe(&body).unwrap().kind, EventKind::Renewal);
}
