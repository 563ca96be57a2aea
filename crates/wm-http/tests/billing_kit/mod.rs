//! Billing test support: an app with webhook secrets and a plan map, signed deliveries for each
//! provider (signed with the app's fixed clock), payload builders, and a local SMTP sink.
#![allow(dead_code)]

pub mod payloads;
pub mod smtp;

use crate::common::{Reply, TestApp, TestOptions};
use reqwest::StatusCode;
use serde_json::Value;
use wm_billing::{PlanMap, sign_standard, sign_stripe};
use wm_core::BillingConfig;
use wm_core::billing::JobReport;
use wm_http::{HttpSettings, WebhookSettings};
use wm_testkit::Backend;

pub const STRIPE_SECRET: &str = "whsec_test_stripe_endpoint_secret";
pub const WHOP_SECRET: &str = "ws_test_whop_webhook_secret";
pub const RC_SECRET: &str = "rc_test_webhook_secret";
pub const PLAN_MAP: &str = "stripe:price_pro=pro,stripe:price_starter=starter,stripe:price_platinum=platinum,\
                            whop:plan_pro=pro,revenuecat:rc_pro_monthly=pro";

/// HTTP settings with all three providers configured.
pub fn webhook_settings() -> HttpSettings {
    HttpSettings {
        body_limit: 64 * 1024,
        webhooks: WebhookSettings {
            whop_secret: Some(WHOP_SECRET.into()),
            stripe_secret: Some(STRIPE_SECRET.into()),
            revenuecat_secret: Some(RC_SECRET.into()),
            whop_legacy_signature: false,
        },
        ..HttpSettings::default()
    }
}

/// The billing config the tests start from: the plan map above, defaults otherwise.
pub fn billing_config() -> BillingConfig {
    BillingConfig { plan_map: PlanMap::parse(PLAN_MAP).unwrap(), ..BillingConfig::default() }
}

/// An app with webhooks on, and `configure` applied to the billing config.
pub async fn start(b: Backend, configure: impl FnOnce(&mut BillingConfig)) -> TestApp {
    let mut billing = billing_config();
    configure(&mut billing);
    let options = TestOptions { settings: webhook_settings(), billing: Some(billing), ..TestOptions::default() };
    TestApp::start_with_options(b, options).await
}

/// Signed deliveries and billing shortcuts.
#[allow(async_fn_in_trait)]
pub trait Billing {
    fn now_secs(&self) -> i64;
    async fn deliver(&self, path: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>) -> Reply;
    /// A Stripe event, signed now with the endpoint secret.
    async fn stripe(&self, event: &Value) -> Reply;
    /// A Whop v1 event, signed now (Standard Webhooks) under message id `msg_id`.
    async fn whop(&self, msg_id: &str, event: &Value) -> Reply;
    /// A RevenueCat event with the configured `Authorization`.
    async fn revenuecat(&self, event: &Value) -> Reply;
    /// One run of the billing job.
    async fn job(&self) -> JobReport;
    /// The value of the Prometheus series `name` carrying every label in `labels` (0 when absent).
    async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64;
    /// The admin's view of `/api/v1/admin/webhooks?{query}`.
    async fn inbox(&self, query: &str) -> Vec<Value>;
}

impl Billing for TestApp {
    fn now_secs(&self) -> i64 {
        use wm_domain::Clock;
        self.clock.now().timestamp()
    }

    async fn deliver(&self, path: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>) -> Reply {
        let mut req =
            self.http.post(format!("{}{path}", self.base)).header("content-type", "application/json").body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        TestApp::read(req.send().await.unwrap()).await
    }

    async fn stripe(&self, event: &Value) -> Reply {
        let body = serde_json::to_vec(event).unwrap();
        let sig = sign_stripe(&body, STRIPE_SECRET, self.now_secs());
        self.deliver("/webhooks/stripe", body, vec![("stripe-signature", sig)]).await
    }

    async fn whop(&self, msg_id: &str, event: &Value) -> Reply {
        let body = serde_json::to_vec(event).unwrap();
        let ts = self.now_secs();
        let sig = sign_standard(msg_id, ts, &body, WHOP_SECRET).unwrap();
        let headers =
            vec![("webhook-id", msg_id.to_owned()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
        self.deliver("/webhooks/whop", body, headers).await
    }

    async fn revenuecat(&self, event: &Value) -> Reply {
        let body = serde_json::to_vec(event).unwrap();
        self.deliver("/webhooks/revenuecat", body, vec![("authorization", format!("Bearer {RC_SECRET}"))]).await
    }

    async fn job(&self) -> JobReport {
        self.core.billing.run_jobs_once().await.unwrap()
    }

    async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let m = self.http.get(format!("{}/metrics", self.base)).send().await.unwrap().text().await.unwrap();
        m.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
            .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
            .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
            .sum()
    }

    async fn inbox(&self, query: &str) -> Vec<Value> {
        let r = self.get(&format!("/api/v1/admin/webhooks?{query}"), &self.admin_key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["events"].as_array().unwrap().clone()
    }
}

/// The user with this email, through the admin API (`None` if there is none).
pub async fn user_by_email(app: &TestApp, email: &str) -> Option<Value> {
    let r = app.get(&format!("/api/v1/admin/users?q={email}"), &app.admin_key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["users"].as_array().unwrap().iter().find(|u| u["email"] == email).cloned()
}
