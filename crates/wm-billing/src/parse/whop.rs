//! Whop payloads: v1 (`{"id","api_version":"v1","timestamp","type","data":{...}}`), legacy
//! (`{"action":"membership.went_valid","data":{...}}`) and the seed's
//! (`{"event":"subscription.created","data":{"user_id","plan","email"}}`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::json::{
    body_digest_id, first_id, first_str, get, missing, opt_bool, opt_str, opt_time, parse_object, push_ref,
    time_from_secs,
};
use crate::event::{Access, BillingEvent, Customer, EventKind, ParseError, Provider};

/// Parses a verified Whop webhook body.
///
/// `webhook_id` is the `webhook-id` header (preferred event id); otherwise the payload's `id`,
/// and for legacy payloads that carry neither, `sha256:<hex of body>` so identical retries
/// still deduplicate. `received_at` (unix seconds, e.g. the `webhook-timestamp` header) is the
/// event time only when the payload has no `timestamp`.
///
/// Types: `membership.activated`/`went_valid`/`subscription.created` → Purchase;
/// `membership.deactivated`/`went_invalid`/`subscription.canceled` → AccessEnded;
/// `membership.cancel_at_period_end_changed` → CancellationScheduled/Uncancelled;
/// `payment.succeeded` → PaymentSucceeded (Renewal when `billing_reason` is
/// `subscription_cycle`); `payment.failed` → PaymentFailed; `subscription.renewed` → Renewal;
/// `subscription.upgraded|downgraded` → PlanChange; anything else → Other.
pub fn parse_whop(body: &[u8], webhook_id: Option<&str>, received_at: i64) -> Result<BillingEvent, ParseError> {
    let root = parse_object(body)?;
    let event_type = first_str(&root, &["type", "action", "event"]).ok_or_else(|| missing("type"))?;
    let event_id = webhook_id
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| opt_str(&root, "id"))
        .unwrap_or_else(|| body_digest_id(body));
    let occurred_at = match opt_time(&root, "timestamp")? {
        Some(t) => t,
        None => time_from_secs(received_at, "webhook-timestamp")?,
    };
    let (kind, access) = classify(&event_type);
    let mut ev = BillingEvent {
        provider: Provider::Whop,
        event_id,
        event_type,
        occurred_at,
        kind,
        access,
        customer: Customer::default(),
        subscription_ref: None,
        product_refs: Vec::new(),
        period_end: None,
        cancel_at_period_end: None,
        status: None,
        client_reference_id: None,
        livemode: None,
    };
    if kind == EventKind::Other {
        return Ok(ev);
    }
    // Legacy v2 payloads nest the object under `body` instead of `data`.
    let data = match get(&root, "data").or_else(|| get(&root, "body")) {
        Some(v @ Value::Object(_)) => v,
        _ => return Err(missing("data")),
    };
    fill(data, &mut ev).map_err(prefix_data)?;
    Ok(ev)
}

fn classify(event_type: &str) -> (EventKind, Access) {
    match event_type {
        "membership.activated" | "membership.went_valid" | "subscription.created" => {
            (EventKind::Purchase, Access::Grant)
        }
        "membership.deactivated" | "membership.went_invalid" | "subscription.canceled" => {
            (EventKind::AccessEnded, Access::Revoke)
        }
        "membership.cancel_at_period_end_changed" => (EventKind::CancellationScheduled, Access::Grant),
        "payment.succeeded" => (EventKind::PaymentSucceeded, Access::Grant),
        "payment.failed" => (EventKind::PaymentFailed, Access::Grace),
        "subscription.renewed" => (EventKind::Renewal, Access::Grant),
        "subscription.upgraded" | "subscription.downgraded" => (EventKind::PlanChange, Access::Grant),
        _ => (EventKind::Other, Access::Unchanged),
    }
}

fn fill(data: &Value, ev: &mut BillingEvent) -> Result<(), ParseError> {
    let is_payment = ev.event_type.starts_with("payment.");
    ev.customer = Customer {
        provider_customer_id: first_id(data, &["user", "user_id"]),
        email: first_str(data, &["user.email", "email"]),
    };
    if ev.customer.provider_customer_id.is_none() && ev.customer.email.is_none() {
        return Err(missing("user.id"));
    }
    ev.subscription_ref = if is_payment {
        first_id(data, &["membership", "membership_id"])
    } else {
        first_str(data, &["membership_id", "id"])
    };
    if ev.subscription_ref.is_none() && ev.event_type.starts_with("membership.") {
        return Err(missing("id"));
    }
    push_ref(&mut ev.product_refs, first_id(data, &["plan", "plan_id"]));
    push_ref(&mut ev.product_refs, first_id(data, &["product", "product_id", "access_pass"]));
    ev.period_end = first_time(data, &["renewal_period_end", "expires_at"])?;
    ev.cancel_at_period_end = opt_bool(data, "cancel_at_period_end")?;
    ev.status = opt_str(data, "status");

    match ev.event_type.as_str() {
        "membership.cancel_at_period_end_changed" => {
            let flag = ev.cancel_at_period_end.ok_or_else(|| missing("cancel_at_period_end"))?;
            if !flag {
                ev.kind = EventKind::Uncancelled;
            }
            if let Some(access) = ev.status.as_deref().map(status_access) {
                ev.access = access;
            }
        }
        "payment.succeeded" if opt_str(data, "billing_reason").as_deref() == Some("subscription_cycle") => {
            ev.kind = EventKind::Renewal;
        }
        _ => {}
    }
    // A payment outside any membership (one-off purchase) does not change access.
    if is_payment && ev.subscription_ref.is_none() {
        ev.access = Access::Unchanged;
    }
    Ok(())
}

/// Access implied by a Whop membership status.
fn status_access(status: &str) -> Access {
    match status {
        "trialing" | "active" | "completed" => Access::Grant,
        "past_due" | "unresolved" => Access::Grace,
        "canceled" | "expired" => Access::Revoke,
        _ => Access::Unchanged,
    }
}

fn first_time(data: &Value, paths: &[&str]) -> Result<Option<DateTime<Utc>>, ParseError> {
    for path in paths {
        if let Some(t) = opt_time(data, path)? {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Field names inside `fill` are relative to `data`; make them full dotted paths.
fn prefix_data(err: ParseError) -> ParseError {
    match err {
        ParseError::InvalidField { field, reason } => {
            ParseError::InvalidField { field: format!("data.{field}"), reason }
        }
        ParseError::MissingField(f) => ParseError::MissingField(format!("data.{f}")),
        other => other,
    }
}
