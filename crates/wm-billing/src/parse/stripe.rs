//! Stripe event payloads (`{"id","type","created","livemode","data":{"object":{...}}}`).

use serde_json::Value;

use super::json::{
    first_id, first_str, get, id_of, missing, opt_bool, opt_i64, opt_str, opt_time, parse_object, push_ref, req_str,
    time_from_secs,
};
use crate::event::{Access, BillingEvent, Customer, EventKind, ParseError, Provider};

const OBJ: &str = "data.object";

/// Parses a verified Stripe webhook body.
///
/// Understood: `checkout.session.completed`, `customer.subscription.created|updated|deleted`,
/// `invoice.paid`, `invoice.payment_failed`; any other type becomes [`EventKind::Other`].
/// Event id = `id`, time = `created`. Handles both the pre-2025 layout (`invoice.subscription`,
/// `lines.data[].price`, top-level `current_period_end`) and the 2025-03-31 "basil" layout
/// (`parent.subscription_details.subscription`, `pricing.price_details`, per-item periods).
pub fn parse_stripe(body: &[u8]) -> Result<BillingEvent, ParseError> {
    let root = parse_object(body)?;
    let created = opt_i64(&root, "created")?.ok_or_else(|| missing("created"))?;
    let mut ev = BillingEvent {
        provider: Provider::Stripe,
        event_id: req_str(&root, "id")?,
        event_type: req_str(&root, "type")?,
        occurred_at: time_from_secs(created, "created")?,
        kind: EventKind::Other,
        access: Access::Unchanged,
        customer: Customer::default(),
        subscription_ref: None,
        product_refs: Vec::new(),
        period_end: None,
        cancel_at_period_end: None,
        status: None,
        client_reference_id: None,
        livemode: opt_bool(&root, "livemode")?,
    };
    match ev.event_type.as_str() {
        "checkout.session.completed" => checkout(&root, &mut ev)?,
        "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted" => {
            subscription(&root, &mut ev)?
        }
        "invoice.paid" | "invoice.payment_failed" => invoice(&root, &mut ev)?,
        _ => {}
    }
    Ok(ev)
}

/// Access implied by a Stripe subscription status (DESIGN §4).
fn status_access(status: &str) -> Access {
    match status {
        "trialing" | "active" => Access::Grant,
        "past_due" => Access::Grace,
        "canceled" | "unpaid" | "incomplete_expired" => Access::Revoke,
        _ => Access::Unchanged, // incomplete, paused, unknown: wait for a decisive event
    }
}

fn object(root: &Value) -> Result<(), ParseError> {
    match get(root, OBJ) {
        Some(Value::Object(_)) => Ok(()),
        _ => Err(missing(OBJ)),
    }
}

fn checkout(root: &Value, ev: &mut BillingEvent) -> Result<(), ParseError> {
    object(root)?;
    ev.customer = Customer {
        provider_customer_id: id_of(root, "data.object.customer"),
        email: first_str(root, &["data.object.customer_details.email", "data.object.customer_email"]),
    };
    ev.client_reference_id = opt_str(root, "data.object.client_reference_id");
    if ev.customer.provider_customer_id.is_none() && ev.customer.email.is_none() && ev.client_reference_id.is_none() {
        return Err(missing("data.object.customer"));
    }
    ev.subscription_ref = id_of(root, "data.object.subscription");
    ev.status = opt_str(root, "data.object.payment_status");
    if let Some(items) = get(root, "data.object.line_items.data").and_then(Value::as_array) {
        collect_refs(items, &mut ev.product_refs);
    }
    ev.kind = EventKind::Purchase;
    // Async payment methods complete the session unpaid; access follows the later events.
    ev.access = match ev.status.as_deref() {
        Some("paid" | "no_payment_required") => Access::Grant,
        _ => Access::Unchanged,
    };
    Ok(())
}

fn subscription(root: &Value, ev: &mut BillingEvent) -> Result<(), ParseError> {
    object(root)?;
    ev.subscription_ref = Some(req_str(root, "data.object.id")?);
    ev.customer.provider_customer_id =
        Some(id_of(root, "data.object.customer").ok_or_else(|| missing("data.object.customer"))?);
    let status = req_str(root, "data.object.status")?;
    let items = get(root, "data.object.items.data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    collect_refs(items, &mut ev.product_refs);
    push_ref(&mut ev.product_refs, opt_str(root, "data.object.plan.id"));
    let mut period_end = None;
    for item in items {
        period_end = period_end.max(opt_time(item, "current_period_end")?);
    }
    ev.period_end = match period_end {
        Some(t) => Some(t),
        None => opt_time(root, "data.object.current_period_end")?,
    };
    ev.cancel_at_period_end = opt_bool(root, "data.object.cancel_at_period_end")?;
    ev.access = status_access(&status);
    ev.kind = match (ev.event_type.as_str(), ev.access) {
        ("customer.subscription.deleted", _) => {
            ev.access = Access::Revoke;
            EventKind::AccessEnded
        }
        (_, Access::Revoke) => EventKind::AccessEnded,
        (_, Access::Grace) => EventKind::PaymentFailed,
        ("customer.subscription.created", Access::Grant) => EventKind::Purchase,
        ("customer.subscription.updated", Access::Grant) => updated_kind(root, ev),
        _ => EventKind::SubscriptionUpdated,
    };
    ev.status = Some(status);
    Ok(())
}

/// Refines `customer.subscription.updated` using `data.previous_attributes`.
fn updated_kind(root: &Value, ev: &BillingEvent) -> EventKind {
    let prev = "data.previous_attributes";
    if get(root, &format!("{prev}.cancel_at_period_end")).is_some() {
        return match ev.cancel_at_period_end {
            Some(true) => EventKind::CancellationScheduled,
            _ => EventKind::Uncancelled,
        };
    }
    let mut old_refs = Vec::new();
    if let Some(items) = get(root, &format!("{prev}.items.data")).and_then(Value::as_array) {
        collect_prices(items, &mut old_refs);
    }
    push_ref(&mut old_refs, opt_str(root, &format!("{prev}.plan.id")));
    let mut new_refs = Vec::new();
    if let Some(items) = get(root, "data.object.items.data").and_then(Value::as_array) {
        collect_prices(items, &mut new_refs);
    }
    if !old_refs.is_empty() && old_refs.iter().any(|r| !new_refs.contains(r)) {
        return EventKind::PlanChange;
    }
    EventKind::SubscriptionUpdated
}

fn invoice(root: &Value, ev: &mut BillingEvent) -> Result<(), ParseError> {
    object(root)?;
    ev.customer = Customer {
        provider_customer_id: Some(id_of(root, "data.object.customer").ok_or_else(|| missing("data.object.customer"))?),
        email: opt_str(root, "data.object.customer_email"),
    };
    ev.subscription_ref =
        first_id(root, &["data.object.subscription", "data.object.parent.subscription_details.subscription"]);
    ev.status = opt_str(root, "data.object.status");
    let lines = get(root, "data.object.lines.data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    collect_refs(lines, &mut ev.product_refs);
    for line in lines {
        ev.period_end = ev.period_end.max(opt_time(line, "period.end")?);
    }
    let for_subscription = ev.subscription_ref.is_some();
    (ev.kind, ev.access) = if ev.event_type == "invoice.paid" {
        let renewal = opt_str(root, "data.object.billing_reason").as_deref() == Some("subscription_cycle");
        let kind = if renewal { EventKind::Renewal } else { EventKind::PaymentSucceeded };
        (kind, if for_subscription { Access::Grant } else { Access::Unchanged })
    } else {
        let access = if for_subscription { Access::Grace } else { Access::Unchanged };
        (EventKind::PaymentFailed, access)
    };
    Ok(())
}

/// Price ids of subscription items / invoice lines (old and "basil" layouts).
fn collect_prices(items: &[Value], refs: &mut Vec<String>) {
    for item in items {
        push_ref(refs, first_id(item, &["price", "pricing.price_details.price", "plan"]));
    }
}

/// Price ids first, then product ids, for plan mapping.
fn collect_refs(items: &[Value], refs: &mut Vec<String>) {
    collect_prices(items, refs);
    for item in items {
        push_ref(refs, first_id(item, &["price.product", "pricing.price_details.product", "plan.product"]));
    }
}
