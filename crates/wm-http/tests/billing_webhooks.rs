//! Billing webhooks over HTTP, on both backends: authentication on the raw body, exactly-once
//! effects under concurrent duplicate deliveries, ordering, and unmapped products.

mod billing_kit;
mod common;

use billing_kit::{Billing, STRIPE_SECRET, payloads, smtp::SmtpSink, start, user_by_email};
use common::{TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;
use wm_billing::{sign_standard, sign_stripe};
use wm_core::billing::SmtpMailer;
use wm_domain::ids::UserId;
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    rejected_webhooks_leave_only_a_log_line_and_a_metric,
    unconfigured_provider_has_no_endpoint_and_bodies_are_limited,
    fifty_concurrent_deliveries_have_exactly_one_effect,
    older_subscription_update_changes_nothing,
    unmapped_product_is_ignored_with_a_reason,
);

const REJECTED: &str = "whitemagic_webhooks_total";

async fn rejected(app: &TestApp, provider: &str, outcome: &str) -> f64 {
    app.metric(REJECTED, &[("provider", provider), ("outcome", outcome)]).await
}

async fn rejected_webhooks_leave_only_a_log_line_and_a_metric(b: Backend) {
    let app = start(b, |_| {}).await;
    let now = app.now_secs();
    let event = payloads::checkout("evt_bad", now, "cus_bad", "bad@example.com", "sub_bad", Some("price_pro"));
    let body = serde_json::to_vec(&event).unwrap();
    let (sig0, stale0, head0) = (
        rejected(&app, "stripe", "rejected_signature").await,
        rejected(&app, "stripe", "rejected_stale").await,
        rejected(&app, "stripe", "rejected_headers").await,
    );

    let wrong_secret = sign_stripe(&body, "whsec_not_the_secret", now);
    let r = app.deliver("/webhooks/stripe", body.clone(), vec![("stripe-signature", wrong_secret)]).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "invalid_signature");
    let good = sign_stripe(&body, STRIPE_SECRET, now);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'@').unwrap();
    tampered[at - 1] = b'X';
    let r = app.deliver("/webhooks/stripe", tampered, vec![("stripe-signature", good.clone())]).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "invalid_signature");
    let stale = sign_stripe(&body, STRIPE_SECRET, now - 301);
    let r = app.deliver("/webhooks/stripe", body.clone(), vec![("stripe-signature", stale)]).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "stale_webhook");
    let r = app.deliver("/webhooks/stripe", body.clone(), vec![]).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_webhook");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("stripe-signature"), "{}", r.text);
    let r = app.deliver("/webhooks/stripe", body.clone(), vec![("stripe-signature", "t=abc".into())]).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_webhook");
    // Authentic but not a usable event.
    let junk = br#"{"id":"evt_junk","type":"invoice.paid"}"#.to_vec();
    let sig = sign_stripe(&junk, STRIPE_SECRET, now);
    let r = app.deliver("/webhooks/stripe", junk, vec![("stripe-signature", sig)]).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_payload");

    assert_eq!(rejected(&app, "stripe", "rejected_signature").await - sig0, 2.0);
    assert_eq!(rejected(&app, "stripe", "rejected_stale").await - stale0, 1.0);
    assert_eq!(rejected(&app, "stripe", "rejected_headers").await - head0, 2.0);

    // Whop (Standard Webhooks) and RevenueCat (Authorization) refuse the same way.
    let wh = serde_json::to_vec(&payloads::whop_membership(
        "membership.activated",
        "2026-11-23T12:00:00Z",
        "mem_bad",
        "user_bad",
        "bad@example.com",
        "plan_pro",
    ))
    .unwrap();
    let sig = sign_standard("msg_bad", now, &wh, "ws_wrong").unwrap();
    let h =
        vec![("webhook-id", "msg_bad".to_owned()), ("webhook-timestamp", now.to_string()), ("webhook-signature", sig)];
    assert_error(&app.deliver("/webhooks/whop", wh.clone(), h).await, StatusCode::UNAUTHORIZED, "invalid_signature");
    let r = app.deliver("/api/v1/webhooks/whop", wh, vec![("webhook-id", "msg_bad".into())]).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_webhook");
    let rc =
        serde_json::to_vec(&payloads::revenuecat("rc_bad", "INITIAL_PURCHASE", "app_bad", "bad@example.com", 0, 0))
            .unwrap();
    let r = app.deliver("/webhooks/revenuecat", rc.clone(), vec![("authorization", "Bearer wrong".into())]).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "invalid_signature");
    assert_error(&app.deliver("/webhooks/revenuecat", rc, vec![]).await, StatusCode::BAD_REQUEST, "invalid_webhook");
    assert_eq!(rejected(&app, "whop", "rejected_signature").await, 1.0);
    assert_eq!(rejected(&app, "revenuecat", "rejected_headers").await, 1.0);

    // Nothing was stored: no inbox row, no account.
    assert!(app.inbox("limit=100").await.is_empty());
    assert!(user_by_email(&app, "bad@example.com").await.is_none());
    assert_eq!(app.core.store.count_users().await.unwrap(), 1, "only the admin");
    app.stop().await;
}

async fn unconfigured_provider_has_no_endpoint_and_bodies_are_limited(b: Backend) {
    let plain = TestApp::start(b).await;
    for path in ["/webhooks/stripe", "/webhooks/whop", "/api/v1/webhooks/whop", "/webhooks/revenuecat"] {
        let r = plain.deliver(path, b"{}".to_vec(), vec![]).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    plain.stop().await;

    let app = start(b, |_| {}).await;
    let big = vec![b' '; 100 * 1024]; // over the test app's 64 KiB body limit
    let sig = sign_stripe(&big, STRIPE_SECRET, app.now_secs());
    // A client of its own: the server closes a connection whose body it did not read.
    let req = reqwest::Client::new().post(format!("{}/webhooks/stripe", app.base)).header("stripe-signature", sig);
    let r = TestApp::read(req.body(big).send().await.unwrap()).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(app.inbox("limit=10").await.is_empty());
    app.stop().await;
}

async fn fifty_concurrent_deliveries_have_exactly_one_effect(b: Backend) {
    let sink = SmtpSink::start(0).await;
    let url = sink.url.clone();
    let app = Arc::new(
        start(b, move |c| c.mailer = Some(Arc::new(SmtpMailer::new(&url, "WhiteMagic <billing@test.io>").unwrap())))
            .await,
    );
    let now = app.now_secs();
    let event = payloads::checkout("evt_once", now, "cus_once", "once@example.com", "sub_once", Some("price_pro"));
    let deliveries: Vec<_> = (0..50)
        .map(|_| {
            let (app, event) = (app.clone(), event.clone());
            tokio::spawn(async move { app.stripe(&event).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for d in deliveries {
        let r = d.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        statuses.push(r.body["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(statuses.iter().filter(|s| *s == "processed").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "duplicate").count(), 49, "{statuses:?}");

    let user = user_by_email(&app, "once@example.com").await.expect("the buyer's account");
    assert_eq!(user["plan"], "pro");
    let id = UserId(user["id"].as_str().unwrap().parse::<Uuid>().unwrap());
    assert_eq!(app.core.store.count_users().await.unwrap(), 2, "the admin and the buyer");
    assert_eq!(app.core.store.list_keys(id).await.unwrap().len(), 1, "one key");
    assert_eq!(app.core.billing.subscriptions(id).await.unwrap().len(), 1, "one subscription");
    let outbox = app.core.store.list_outbox(100).await.unwrap();
    assert_eq!(outbox.len(), 1, "one email");
    assert_eq!(outbox[0].to, "once@example.com");
    let inbox = app.inbox("limit=100").await;
    assert_eq!(inbox.len(), 1);
    assert_eq!((inbox[0]["status"].as_str(), inbox[0]["attempts"].as_u64()), (Some("processed"), Some(1)));
    let dups = app.metric("whitemagic_webhooks_total", &[("provider", "stripe"), ("outcome", "duplicate")]).await;
    assert_eq!(dups, 49.0);
    drop(sink);
    Arc::into_inner(app).unwrap().stop().await;
}

async fn older_subscription_update_changes_nothing(b: Backend) {
    let app = start(b, |_| {}).await;
    let t = app.now_secs();
    let period_end = t + 30 * 86_400;
    let r = app
        .stripe(&payloads::checkout("evt_c1", t, "cus_order", "order@example.com", "sub_order", Some("price_pro")))
        .await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    let newer = payloads::subscription(
        "updated",
        "evt_new",
        t + 20,
        "sub_order",
        "cus_order",
        "active",
        "price_starter",
        period_end,
        false,
        Some(json!({ "items": { "data": [{ "price": { "id": "price_pro" } }] } })),
    );
    let r = app.stripe(&newer).await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    let user = user_by_email(&app, "order@example.com").await.unwrap();
    assert_eq!(user["plan"], "starter", "the newer event downgraded the plan");

    let older = payloads::subscription(
        "updated",
        "evt_old",
        t + 10,
        "sub_order",
        "cus_order",
        "past_due",
        "price_pro",
        period_end,
        true,
        None,
    );
    let r = app.stripe(&older).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "ignored", "{}", r.text);
    assert!(r.body["reason"].as_str().unwrap().contains("stale"), "{}", r.text);
    assert_eq!(user_by_email(&app, "order@example.com").await.unwrap()["plan"], "starter");
    let id = UserId(user["id"].as_str().unwrap().parse::<Uuid>().unwrap());
    let subs = app.core.billing.subscriptions(id).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!((subs[0].status.as_str(), subs[0].plan.as_str()), ("active", "starter"));
    assert!(!subs[0].cancel_at_period_end && subs[0].grace_until.is_none());
    assert_eq!(subs[0].last_event_at.timestamp(), t + 20);
    let ignored = app.inbox("status=ignored").await;
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0]["event_id"], "evt_old");
    app.stop().await;
}

async fn unmapped_product_is_ignored_with_a_reason(b: Backend) {
    let app = start(b, |_| {}).await;
    let t = app.now_secs();
    let r = app
        .stripe(&payloads::checkout("evt_unmapped", t, "cus_u", "unmapped@example.com", "sub_u", Some("price_gold")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "ignored");
    let reason = r.body["reason"].as_str().unwrap();
    assert!(reason.contains("price_gold") && reason.contains("WM_PLAN_MAP"), "{reason}");
    assert!(user_by_email(&app, "unmapped@example.com").await.is_none(), "no account is guessed");
    let events = app.inbox("status=ignored&provider=stripe").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["last_error"], reason);
    // An event type that does not concern access is stored and ignored too.
    let other = json!({ "id": "evt_other", "object": "event", "type": "customer.created", "created": t, "data": { "object": {} } });
    let r = app.stripe(&other).await;
    assert_eq!(r.body["status"], "ignored", "{}", r.text);
    app.stop().await;
}
