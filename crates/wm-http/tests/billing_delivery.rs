//! Key delivery and recovery, on both backends: a signed purchase → the email caught by a local
//! SMTP server → the claim page → the key → an authenticated call on the purchased plan; claim
//! links that are used, expired or unknown; email retries; a failed event replayed after its
//! cause is fixed.

mod billing_kit;
mod common;

use billing_kit::{Billing, payloads, smtp, smtp::SmtpSink, start, user_by_email};
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use wm_core::billing::SmtpMailer;
use wm_testkit::{Backend, backend_tests};

backend_tests!(
    signed_purchase_to_email_to_claimed_key_to_api_call,
    claim_links_used_expired_unknown_and_escaped,
    fetching_a_claim_link_does_not_use_it_up,
    failed_emails_are_retried_with_backoff,
    failed_event_is_listed_and_replayed_after_the_fix,
);

const PUBLIC_URL: &str = "https://whitemagic.example";

async fn with_smtp(b: Backend, refuse: usize) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start(refuse).await;
    let url = sink.url.clone();
    let app = start(b, move |c| {
        c.mailer = Some(Arc::new(SmtpMailer::new(&url, "WhiteMagic <billing@test.io>").unwrap()));
        c.public_url = PUBLIC_URL.into();
    })
    .await;
    (app, sink)
}

/// What a browser does with a claim link on the test server: GET the page, and when it offers the
/// button, submit its form (an empty POST to the same URL); the final page.
async fn open(app: &TestApp, link: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let (status, headers, page) = fetch(app, link).await;
    if !page.contains(REVEAL_FORM) {
        return (status, headers, page);
    }
    assert!(key_in(&page).is_none(), "the key is only shown after the button: {page}");
    let path = link.strip_prefix(PUBLIC_URL).unwrap_or(link);
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    (r.status(), r.headers().clone(), r.text().await.unwrap())
}

/// GET a claim link's path on the test server (what a mail scanner or link preview does).
async fn fetch(app: &TestApp, link: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let path = link.strip_prefix(PUBLIC_URL).unwrap_or(link);
    let r = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
    (r.status(), r.headers().clone(), r.text().await.unwrap())
}

const REVEAL_FORM: &str = r#"<form method="post"><button type="submit" id="reveal">"#;

fn key_in(page: &str) -> Option<String> {
    let start = page.find("<code id=\"api-key\">")? + "<code id=\"api-key\">".len();
    Some(page[start..start + page[start..].find('<')?].to_owned())
}

async fn signed_purchase_to_email_to_claimed_key_to_api_call(b: Backend) {
    let (app, mut sink) = with_smtp(b, 0).await;
    let t = app.now_secs();
    let r = app
        .stripe(&payloads::checkout("evt_e2e", t, "cus_e2e", "buyer@example.com", "sub_e2e", Some("price_pro")))
        .await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    let report = app.job().await;
    assert_eq!(report.emails_sent, 1, "{report:?}");
    let message = sink.next().await;
    assert!(message.contains("To: buyer@example.com"), "{message}");
    assert!(message.contains("Subject: Your WhiteMagic API key"), "{message}");
    let link = smtp::claim_link(&message);
    assert!(link.starts_with(&format!("{PUBLIC_URL}/claim/")), "{link}");
    let sent = app.core.store.list_outbox(10).await.unwrap();
    assert_eq!((sent[0].status.as_str(), sent[0].body.as_str()), ("sent", ""), "the link is not kept once sent");

    let (status, headers, page) = open(&app, &link).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let key = key_in(&page).expect("the key is on the page");
    assert!(key.starts_with("wm_dev_"), "{key}");
    let me = app.get("/api/v1/user/me", &key).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!((me.body["email"].as_str(), me.body["plan"].as_str()), (Some("buyer@example.com"), Some("pro")));
    let sub = app.get("/api/v1/user/subscription", &key).await;
    assert_eq!((sub.body["plan"].as_str(), sub.body["status"].as_str()), (Some("pro"), Some("active")), "{}", sub.text);

    let (status, _, again) = open(&app, &link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(again.contains("Already claimed") && key_in(&again).is_none(), "{again}");
    assert!(!again.contains(&key));
    assert_eq!(app.get("/api/v1/user/me", &key).await.status, StatusCode::OK, "the claimed key keeps working");
    app.stop().await;
}

async fn claim_links_used_expired_unknown_and_escaped(b: Backend) {
    let app = start(b, |c| c.public_url = PUBLIC_URL.into()).await;
    let u = app.post("/api/v1/admin/users", &app.admin_key, json!({ "email": "o<b>hara@example.com" })).await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let id = u.body["id"].as_str().unwrap();
    let link = app.post(&format!("/api/v1/admin/users/{id}/claim-link"), &app.admin_key, json!({})).await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text);
    let url = link.body["url"].as_str().unwrap().to_owned();
    let (_, _, page) = open(&app, &url).await;
    assert!(page.contains("o&#60;b&#62;hara@example.com") && !page.contains("o<b>hara"), "auto-escaped: {page}");
    assert!(key_in(&page).is_some());

    let link = app.post(&format!("/api/v1/admin/users/{id}/claim-link"), &app.admin_key, json!({})).await;
    let url = link.body["url"].as_str().unwrap().to_owned();
    app.advance(7 * 86_400);
    let (_, _, page) = open(&app, &url).await;
    assert!(page.contains("Link expired") && key_in(&page).is_none(), "{page}");
    for bogus in ["/claim/nope", "/claim/0123456789abcdefghijABCDEFGHIJ01", "/claim/%3Cscript%3E"] {
        let (status, _, page) = open(&app, bogus).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Unknown link") && !page.contains("<script>"), "{page}");
    }
    let r = app
        .send(
            Method::POST,
            "/api/v1/admin/users/0190f0f0-0000-7000-8000-000000000000/claim-link",
            Some(&app.admin_key),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

/// A user's complaint: "my mail provider's link scanner opened the link first, and then it said
/// the key was already claimed". Fetching the link must not use it up; only the button does.
async fn fetching_a_claim_link_does_not_use_it_up(b: Backend) {
    let app = start(b, |c| c.public_url = PUBLIC_URL.into()).await;
    let u = app.post("/api/v1/admin/users", &app.admin_key, json!({ "email": "scanned@example.com" })).await;
    let id = u.body["id"].as_str().unwrap();
    let link = app.post(&format!("/api/v1/admin/users/{id}/claim-link"), &app.admin_key, json!({})).await;
    let url = link.body["url"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let (status, headers, page) = fetch(&app, &url).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("form-action 'self'"));
        assert!(page.contains(REVEAL_FORM) && key_in(&page).is_none(), "{page}");
    }
    let (_, _, page) = open(&app, &url).await;
    let key = key_in(&page).expect("the button reveals the key after any number of fetches");
    assert_eq!(app.get("/api/v1/user/me", &key).await.body["email"], "scanned@example.com");
    let (_, _, again) = open(&app, &url).await;
    assert!(again.contains("Already claimed") && !again.contains(&key), "{again}");
    app.stop().await;
}

async fn failed_emails_are_retried_with_backoff(b: Backend) {
    let (app, mut sink) = with_smtp(b, 1).await;
    let t = app.now_secs();
    let r = app
        .stripe(&payloads::checkout("evt_retry", t, "cus_retry", "retry@example.com", "sub_retry", Some("price_pro")))
        .await;
    assert_eq!(r.body["status"], "processed", "{}", r.text);
    let first = app.job().await;
    assert_eq!((first.emails_sent, first.emails_retried), (0, 1), "{first:?}");
    let queued = app.core.store.list_outbox(10).await.unwrap();
    assert_eq!(queued[0].status.as_str(), "pending");
    assert!(queued[0].last_error.as_deref().unwrap().contains("SMTP"), "{:?}", queued[0].last_error);
    assert_eq!(app.job().await.emails_sent, 0, "not before the backoff");
    app.advance(30);
    assert_eq!(app.job().await.emails_sent, 1);
    assert!(smtp::claim_link(&sink.next().await).contains("/claim/"));
    let health = app.send(Method::GET, "/health/webhooks", None, None).await;
    assert_eq!(health.body["outbox"]["sent"], 1, "{}", health.text);
    app.stop().await;
}

async fn failed_event_is_listed_and_replayed_after_the_fix(b: Backend) {
    let app = start(b, |_| {}).await;
    let t = app.now_secs();
    // WM_PLAN_MAP maps price_platinum to `platinum`, a plan that does not exist (yet).
    let event =
        payloads::checkout("evt_fail", t, "cus_fail", "platinum@example.com", "sub_fail", Some("price_platinum"));
    let r = app.stripe(&event).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "webhook_processing_failed");
    assert!(!r.text.contains("platinum"), "no internal detail in the answer: {}", r.text);
    let r = app.stripe(&event).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "the provider's retry fails too");
    let failed = app.inbox("status=failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["attempts"], 2);
    assert!(failed[0]["last_error"].as_str().unwrap().contains("platinum"), "{}", failed[0]);
    let health = app.send(Method::GET, "/health/webhooks", None, None).await;
    assert_eq!((health.body["status"].as_str(), health.body["counts"]["failed"].as_u64()), (Some("degraded"), Some(1)));
    assert!(user_by_email(&app, "platinum@example.com").await.is_none());

    let plan = json!({ "per_minute": 600, "daily": 100000, "monthly": 2000000, "memories": 10000, "storage_bytes": 2000000000 });
    let r = app.send(Method::PUT, "/api/v1/admin/plans/platinum", Some(&app.admin_key), Some(plan)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = failed[0]["id"].as_str().unwrap();
    let r = app.post(&format!("/api/v1/admin/webhooks/{id}/replay"), &app.admin_key, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["outcome"].as_str(), r.body["event"]["status"].as_str()),
        (Some("processed"), Some("processed")),
        "{}",
        r.text
    );
    assert_eq!(r.body["event"]["attempts"], 3);
    assert_eq!(user_by_email(&app, "platinum@example.com").await.unwrap()["plan"], "platinum");
    let again = app.post(&format!("/api/v1/admin/webhooks/{id}/replay"), &app.admin_key, json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(app.stripe(&event).await.body["status"], "duplicate");
    assert!(app.inbox("status=failed").await.is_empty());
    let r =
        app.post("/api/v1/admin/webhooks/0190f0f0-0000-7000-8000-000000000000/replay", &app.admin_key, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.stop().await;
}
