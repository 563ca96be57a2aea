//! RevenueCat payloads (`{"api_version":"1.0","event":{...}}`).

use serde_json::Value;

use super::json::{
    body_digest_id, get, missing, opt_str, opt_time_ms, parse_object, push_ref, req_str, time_from_secs,
};
use crate::event::{Access, BillingEvent, Customer, EventKind, ParseError, Provider};

/// Parses a verified RevenueCat webhook body.
///
/// `INITIAL_PURCHASE` → Purchase, `RENEWAL` → Renewal, `PRODUCT_CHANGE` → PlanChange (product
/// = `new_product_id` when present), `UNCANCELLATION` → Uncancelled (all grant);
/// `CANCELLATION` → CancellationScheduled (access until `expiration_at_ms`); `BILLING_ISSUE` →
/// PaymentFailed (grace); `EXPIRATION` → AccessEnded (the only revoke); `TEST` and anything
/// else → Other. Known types require `event.id` and `event.app_user_id`; ignored ones may lack
/// them (the id then falls back to `sha256:<hex of body>`). `received_at` (unix seconds) is the
/// event time only when `event_timestamp_ms` is absent.
pub fn parse_revenuecat(body: &[u8], received_at: i64) -> Result<BillingEvent, ParseError> {
    let root = parse_object(body)?;
    let event = match get(&root, "event") {
        Some(v @ Value::Object(_)) => v,
        _ => return Err(missing("event")),
    };
    let event_type = req_str(event, "type").map_err(prefix)?;
    let (kind, access, cancel_flag) = classify(&event_type);
    let known = kind != EventKind::Other;
    let event_id = match opt_str(event, "id") {
        Some(id) => id,
        None if known => return Err(missing("event.id")),
        None => body_digest_id(body),
    };
    let app_user_id = opt_str(event, "app_user_id");
    if known && app_user_id.is_none() {
        return Err(missing("event.app_user_id"));
    }
    let occurred_at = match opt_time_ms(event, "event_timestamp_ms").map_err(prefix)? {
        Some(t) => t,
        None => time_from_secs(received_at, "received_at")?,
    };

    let mut product_refs = Vec::new();
    if kind == EventKind::PlanChange {
        push_ref(&mut product_refs, opt_str(event, "new_product_id"));
    }
    push_ref(&mut product_refs, opt_str(event, "product_id"));
    if let Some(ids) = get(event, "entitlement_ids").and_then(Value::as_array) {
        for id in ids.iter().filter_map(Value::as_str) {
            push_ref(&mut product_refs, Some(id.to_owned()));
        }
    }
    push_ref(&mut product_refs, opt_str(event, "entitlement_id"));

    Ok(BillingEvent {
        provider: Provider::RevenueCat,
        event_id,
        event_type,
        occurred_at,
        kind,
        access,
        customer: Customer {
            provider_customer_id: app_user_id,
            email: opt_str(event, "subscriber_attributes.$email.value"),
        },
        subscription_ref: opt_str(event, "original_transaction_id"),
        product_refs,
        period_end: opt_time_ms(event, "expiration_at_ms").map_err(prefix)?,
        cancel_at_period_end: cancel_flag,
        status: None,
        client_reference_id: None,
        livemode: opt_str(event, "environment").map(|env| env == "PRODUCTION"),
    })
}

/// Kind, access and the implied cancel-at-period-end flag for a RevenueCat event type.
fn classify(event_type: &str) -> (EventKind, Access, Option<bool>) {
    match event_type {
        "INITIAL_PURCHASE" => (EventKind::Purchase, Access::Grant, None),
        "RENEWAL" => (EventKind::Renewal, Access::Grant, None),
        "PRODUCT_CHANGE" => (EventKind::PlanChange, Access::Grant, None),
        "UNCANCELLATION" => (EventKind::Uncancelled, Access::Grant, Some(false)),
        "CANCELLATION" => (EventKind::CancellationScheduled, Access::Grant, Some(true)),
        "BILLING_ISSUE" => (EventKind::PaymentFailed, Access::Grace, None),
        "EXPIRATION" => (EventKind::AccessEnded, Access::Revoke, None),
        _ => (EventKind::Other, Access::Unchanged, None),
    }
}

/// Field names read relative to `event`; make them full dotted paths.
fn prefix(err: ParseError) -> ParseError {
    match err {
        ParseError::InvalidField { field, reason } => {
            ParseError::InvalidField { field: format!("event.{field}"), reason }
        }
        ParseError::MissingField(f) => ParseError::MissingField(format!("event.{f}")),
        other => other,
    }
}
