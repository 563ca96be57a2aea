//! Provider payloads shaped like the providers' own (only the fields the parsers read, plus a
//! few realistic extras). Times are unix seconds unless named `_ms`.

use serde_json::{Value, json};

/// Stripe `checkout.session.completed` (paid), with its line item's price.
pub fn checkout(evt: &str, created: i64, customer: &str, email: &str, sub: &str, price: Option<&str>) -> Value {
    let items = price.map(|p| json!({ "data": [{ "price": { "id": p, "product": "prod_wm" }, "quantity": 1 }] }));
    json!({
        "id": evt, "object": "event", "type": "checkout.session.completed", "created": created, "livemode": false,
        "api_version": "2025-03-31.basil",
        "data": { "object": {
            "id": format!("cs_test_{evt}"), "object": "checkout.session", "mode": "subscription",
            "customer": customer, "customer_details": { "email": email }, "subscription": sub,
            "payment_status": "paid", "status": "complete", "line_items": items
        } }
    })
}

/// Stripe `customer.subscription.{kind}` (created, updated, deleted).
#[allow(clippy::too_many_arguments)]
pub fn subscription(
    kind: &str,
    evt: &str,
    created: i64,
    sub: &str,
    customer: &str,
    status: &str,
    price: &str,
    period_end: i64,
    cancel_at_period_end: bool,
    previous: Option<Value>,
) -> Value {
    json!({
        "id": evt, "object": "event", "type": format!("customer.subscription.{kind}"), "created": created,
        "livemode": false,
        "data": {
            "object": {
                "id": sub, "object": "subscription", "customer": customer, "status": status,
                "cancel_at_period_end": cancel_at_period_end,
                "items": { "object": "list", "data": [{
                    "id": "si_1", "price": { "id": price, "product": "prod_wm" }, "current_period_end": period_end
                }] }
            },
            "previous_attributes": previous
        }
    })
}

/// Stripe `invoice.{kind}` (paid, payment_failed) for a subscription's renewal.
pub fn invoice(kind: &str, evt: &str, created: i64, customer: &str, sub: &str, price: &str, period_end: i64) -> Value {
    json!({
        "id": evt, "object": "event", "type": format!("invoice.{kind}"), "created": created, "livemode": false,
        "data": { "object": {
            "id": format!("in_{evt}"), "object": "invoice", "customer": customer, "subscription": sub,
            "billing_reason": "subscription_cycle", "status": if kind == "paid" { "paid" } else { "open" },
            "lines": { "data": [{ "price": { "id": price, "product": "prod_wm" }, "period": { "end": period_end } }] }
        } }
    })
}

/// A RevenueCat event (`INITIAL_PURCHASE`, `CANCELLATION`, `EXPIRATION`...).
pub fn revenuecat(id: &str, kind: &str, app_user: &str, email: &str, expiration_ms: i64, at_ms: i64) -> Value {
    json!({
        "api_version": "1.0",
        "event": {
            "id": id, "type": kind, "app_user_id": app_user, "original_app_user_id": app_user,
            "original_transaction_id": "rc_txn_1000", "product_id": "rc_pro_monthly",
            "entitlement_ids": ["pro_access"], "period_type": "NORMAL", "store": "APP_STORE",
            "purchased_at_ms": at_ms, "expiration_at_ms": expiration_ms, "event_timestamp_ms": at_ms,
            "environment": "PRODUCTION",
            "subscriber_attributes": { "$email": { "value": email, "updated_at_ms": at_ms } }
        }
    })
}

/// A Whop v1 membership event.
pub fn whop_membership(kind: &str, at: &str, membership: &str, user: &str, email: &str, plan: &str) -> Value {
    json!({
        "id": format!("evt_{membership}_{kind}"), "api_version": "v1", "timestamp": at, "type": kind,
        "data": {
            "id": membership, "status": "active", "cancel_at_period_end": false,
            "user": { "id": user, "email": email, "username": "buyer" },
            "plan": { "id": plan }, "product": { "id": "prod_whitemagic" },
            "renewal_period_end": "2026-12-23T12:00:00Z"
        }
    })
}
