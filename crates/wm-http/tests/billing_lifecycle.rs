//! The subscription lifecycle with a fixed clock, on both backends: grace after a failed payment,
//! then downgrade (or revocation), cancellations that keep access until the period ends,
//! RevenueCat's CANCELLATION/EXPIRATION, plan changes and renewals, Whop memberships.

mod billing_kit;
mod common;

use billing_kit::{Billing, payloads, smtp::SmtpSink, start, user_by_email};
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use wm_core::billing::{OnCancel, SmtpMailer};
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    payment_failure_grace_then_downgrade,
    revoke_mode_revokes_keys_when_grace_ends,
    revenuecat_cancellation_keeps_access_until_expiration,
    cancel_at_period_end_ends_access_when_the_period_does,
    plan_change_and_renewal_show_in_my_subscription,
    whop_membership_activation_and_deactivation,
);

const DAY: i64 = 86_400;

/// Buy `price` through Stripe Checkout; returns the user's id and a key of theirs (issued by
/// the admin, since the purchased one is only revealed by its claim link).
async fn buy(app: &TestApp, n: &str, price: &str) -> (String, String) {
    let t = app.now_secs();
    let email = format!("{n}@example.com");
    let r = app
        .stripe(&payloads::checkout(
            &format!("evt_{n}_buy"),
            t,
            &format!("cus_{n}"),
            &email,
            &format!("sub_{n}"),
            Some(price),
        ))
        .await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    let user = user_by_email(app, &email).await.unwrap();
    let id = user["id"].as_str().unwrap().to_owned();
    let k = app.post(&format!("/api/v1/admin/users/{id}/keys"), &app.admin_key, json!({ "name": "test" })).await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
    (id, k.body["key"].as_str().unwrap().to_owned())
}

async fn subscription(app: &TestApp, key: &str) -> Value {
    let r = app.get("/api/v1/user/subscription", key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn payment_failure_grace_then_downgrade(b: Backend) {
    let mut sink = SmtpSink::start(0).await;
    let url = sink.url.clone();
    let app = start(b, move |c| c.mailer = Some(Arc::new(SmtpMailer::new(&url, "billing@test.io").unwrap()))).await;
    let (_, key) = buy(&app, "grace", "price_pro").await;
    assert_eq!(app.job().await.emails_sent, 1);
    assert!(sink.next().await.contains("Your WhiteMagic API key"));
    let failed_at = app.now_secs() + 60;
    app.advance(60);
    let r = app
        .stripe(&payloads::invoice(
            "payment_failed",
            "evt_grace_fail",
            failed_at,
            "cus_grace",
            "sub_grace",
            "price_pro",
            failed_at + 30 * DAY,
        ))
        .await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    let s = subscription(&app, &key).await;
    assert_eq!((s["plan"].as_str(), s["status"].as_str()), (Some("pro"), Some("past_due")), "{s}");
    let grace_until = chrono::DateTime::parse_from_rfc3339(s["grace_until"].as_str().unwrap()).unwrap().timestamp();
    assert_eq!(grace_until, failed_at + 3 * DAY, "WM_GRACE_PERIOD_DAYS defaults to 3");
    assert_eq!(app.job().await.emails_sent, 1);
    assert!(sink.next().await.contains("your payment failed"));

    // A second failure does not extend the grace period.
    app.advance(DAY);
    let again = app.now_secs();
    let r = app
        .stripe(&payloads::invoice(
            "payment_failed",
            "evt_grace_fail2",
            again,
            "cus_grace",
            "sub_grace",
            "price_pro",
            again + 30 * DAY,
        ))
        .await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    assert_eq!(subscription(&app, &key).await["grace_until"], s["grace_until"]);

    app.advance(2 * DAY - 1); // one second before grace ends
    assert_eq!(app.job().await.ended, 0, "still within grace");
    assert_eq!(subscription(&app, &key).await["plan"], "pro");
    app.advance(2);
    let report = app.job().await;
    assert_eq!(report.ended, 1);
    let s = subscription(&app, &key).await;
    assert_eq!((s["plan"].as_str(), s["status"].as_str()), (Some("free"), Some("expired")), "{s}");
    assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK, "downgrade keeps the keys");
    assert_eq!(app.job().await.ended, 0, "ended exactly once");
    app.stop().await;
}

async fn revoke_mode_revokes_keys_when_grace_ends(b: Backend) {
    let app = start(b, |c| c.on_cancel = OnCancel::Revoke).await;
    let (_, key) = buy(&app, "revoke", "price_pro").await;
    let t = app.now_secs();
    let r = app
        .stripe(&payloads::invoice(
            "payment_failed",
            "evt_revoke_fail",
            t,
            "cus_revoke",
            "sub_revoke",
            "price_pro",
            t + 30 * DAY,
        ))
        .await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK, "grace keeps access");
    app.advance(3 * DAY + 1);
    assert_eq!(app.job().await.ended, 1);
    let r = app.get("/api/v1/user/me", &key).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(r.text.contains("revoked"), "{}", r.text);
    assert_eq!(user_by_email(&app, "revoke@example.com").await.unwrap()["plan"], "free");
    app.stop().await;
}

async fn revenuecat_cancellation_keeps_access_until_expiration(b: Backend) {
    let app = start(b, |_| {}).await;
    let t0 = app.now_secs() * 1000;
    let expires = t0 + 30 * DAY * 1000;
    let buy = payloads::revenuecat("rc_1", "INITIAL_PURCHASE", "rc_app_user_1", "mobile@example.com", expires, t0);
    let r = app.revenuecat(&buy).await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    assert_eq!(user_by_email(&app, "mobile@example.com").await.unwrap()["plan"], "pro");

    app.advance(DAY);
    let cancel =
        payloads::revenuecat("rc_2", "CANCELLATION", "rc_app_user_1", "mobile@example.com", expires, t0 + DAY * 1000);
    let r = app.revenuecat(&cancel).await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    let user = user_by_email(&app, "mobile@example.com").await.unwrap();
    assert_eq!(user["plan"], "pro", "cancelling keeps access");
    let id = wm_domain::ids::UserId(user["id"].as_str().unwrap().parse().unwrap());
    let sub = &app.core.billing.subscriptions(id).await.unwrap()[0];
    assert!(sub.cancel_at_period_end);
    assert_eq!(sub.access_ends_at.map(|t| t.timestamp_millis()), Some(expires));

    app.advance(28 * DAY);
    assert_eq!(app.job().await.ended, 0);
    assert_eq!(user_by_email(&app, "mobile@example.com").await.unwrap()["plan"], "pro", "until expiration_at_ms");

    app.advance(DAY);
    let expire = payloads::revenuecat("rc_3", "EXPIRATION", "rc_app_user_1", "mobile@example.com", expires, expires);
    let r = app.revenuecat(&expire).await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    assert_eq!(user_by_email(&app, "mobile@example.com").await.unwrap()["plan"], "free", "EXPIRATION ends it");
    let sub = &app.core.billing.subscriptions(id).await.unwrap()[0];
    assert_eq!(sub.status.as_str(), "expired");
    assert!(sub.ended_at.is_some());
    assert_eq!(app.job().await.ended, 0, "nothing left for the job");
    app.stop().await;
}

async fn cancel_at_period_end_ends_access_when_the_period_does(b: Backend) {
    let app = start(b, |_| {}).await;
    let (_, key) = buy(&app, "period", "price_pro").await;
    let t = app.now_secs();
    let period_end = t + 10 * DAY;
    let cancel = payloads::subscription(
        "updated",
        "evt_period_cancel",
        t + 5,
        "sub_period",
        "cus_period",
        "active",
        "price_pro",
        period_end,
        true,
        Some(json!({ "cancel_at_period_end": false })),
    );
    let r = app.stripe(&cancel).await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    let s = subscription(&app, &key).await;
    assert_eq!((s["status"].as_str(), s["cancel_at_period_end"].as_bool()), (Some("active"), Some(true)), "{s}");
    app.advance(10 * DAY - 10);
    assert_eq!(app.job().await.ended, 0);
    assert_eq!(subscription(&app, &key).await["plan"], "pro");
    app.advance(20);
    assert_eq!(app.job().await.ended, 1);
    let s = subscription(&app, &key).await;
    assert_eq!((s["plan"].as_str(), s["status"].as_str()), (Some("free"), Some("canceled")), "{s}");
    // Stripe's own `deleted` arriving afterwards changes nothing more.
    let now = app.now_secs();
    let deleted = payloads::subscription(
        "deleted",
        "evt_period_del",
        now,
        "sub_period",
        "cus_period",
        "canceled",
        "price_pro",
        period_end,
        false,
        None,
    );
    assert_eq!(app.stripe(&deleted).await.body["status"], "processed");
    assert_eq!(subscription(&app, &key).await["plan"], "free");
    app.stop().await;
}

async fn plan_change_and_renewal_show_in_my_subscription(b: Backend) {
    let app = start(b, |_| {}).await;
    let (_, key) = buy(&app, "change", "price_starter").await;
    let t = app.now_secs();
    let s = subscription(&app, &key).await;
    assert_eq!((s["plan"].as_str(), s["provider"].as_str()), (Some("starter"), Some("stripe")), "{s}");
    let upgrade = payloads::subscription(
        "updated",
        "evt_up",
        t + 1,
        "sub_change",
        "cus_change",
        "active",
        "price_pro",
        t + 30 * DAY,
        false,
        Some(json!({ "items": { "data": [{ "price": { "id": "price_starter" } }] } })),
    );
    assert_eq!(app.stripe(&upgrade).await.body["status"], "processed");
    let s = subscription(&app, &key).await;
    assert_eq!(s["plan"], "pro", "{s}");
    assert_eq!(app.get("/api/v1/user/me", &key).await.body["plan"], "pro", "the key cache saw the change");
    app.advance(30 * DAY);
    let now = app.now_secs();
    let renewal = payloads::invoice("paid", "evt_renew", now, "cus_change", "sub_change", "price_pro", now + 30 * DAY);
    assert_eq!(app.stripe(&renewal).await.body["status"], "processed");
    let s = subscription(&app, &key).await;
    let period_end = chrono::DateTime::parse_from_rfc3339(s["period_end"].as_str().unwrap()).unwrap().timestamp();
    assert_eq!(period_end, now + 30 * DAY, "renewal extends the period: {s}");
    assert_eq!(s["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(app.job().await.ended, 0);
    app.stop().await;
}

async fn whop_membership_activation_and_deactivation(b: Backend) {
    let app = start(b, |_| {}).await;
    let at = "2026-11-23T12:00:00Z";
    let activated =
        payloads::whop_membership("membership.activated", at, "mem_w1", "user_w1", "whop@example.com", "plan_pro");
    let r = app.whop("msg_w1", &activated).await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    assert_eq!(user_by_email(&app, "whop@example.com").await.unwrap()["plan"], "pro");
    // The same message id again is a duplicate, whatever the path.
    let body = serde_json::to_vec(&activated).unwrap();
    let ts = app.now_secs();
    let sig = wm_billing::sign_standard("msg_w1", ts, &body, billing_kit::WHOP_SECRET).unwrap();
    let h =
        vec![("webhook-id", "msg_w1".to_owned()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
    assert_eq!(app.deliver("/api/v1/webhooks/whop", body, h).await.body["status"], "duplicate");
    app.advance(60);
    let deactivated = payloads::whop_membership(
        "membership.deactivated",
        "2026-11-23T12:01:00Z",
        "mem_w1",
        "user_w1",
        "whop@example.com",
        "plan_pro",
    );
    let r = app.whop("msg_w2", &deactivated).await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    assert_eq!(user_by_email(&app, "whop@example.com").await.unwrap()["plan"], "free");
    app.stop().await;
}
