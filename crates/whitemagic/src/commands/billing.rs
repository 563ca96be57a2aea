//! Billing settings from the configuration: webhook secrets for the HTTP layer, and the
//! billing use-cases' config (plan map, grace period, SMTP, the Whop API client).

use crate::config::{Config, OnCancel};
use secrecy::ExposeSecret;
use std::sync::Arc;
use wm_billing::{ClientConfig, PlanMap, ResilientClient, WhopApi};
use wm_core::billing::{BillingConfig, OnCancel as CoreOnCancel, SmtpMailer};
use wm_http::WebhookSettings;

/// The secrets `/webhooks/*` verify with.
pub fn webhook_settings(config: &Config) -> WebhookSettings {
    WebhookSettings {
        whop_secret: config.whop_webhook_secret.clone(),
        stripe_secret: config.stripe_webhook_secret.clone(),
        revenuecat_secret: config.revenuecat_webhook_secret.clone(),
        whop_legacy_signature: config.whop_legacy_signature,
    }
}

/// The billing use-cases' settings; fails on an unusable plan map, SMTP URL or sender.
pub fn billing_config(config: &Config) -> anyhow::Result<BillingConfig> {
    let plan_map = PlanMap::parse(&config.plan_map.join(",")).map_err(|e| anyhow::anyhow!("WM_PLAN_MAP: {e}"))?;
    let mailer = match &config.smtp_url {
        Some(url) => Some(Arc::new(
            SmtpMailer::new(url.expose_secret(), &config.mail_from)
                .map_err(|e| anyhow::anyhow!("SMTP_URL / WM_MAIL_FROM: {e}"))?,
        ) as Arc<dyn wm_core::billing::Mailer>),
        None => None,
    };
    let whop = match &config.whop_api_key {
        Some(key) => {
            let client = ResilientClient::new("whop", ClientConfig::new(&config.whop_api_base))
                .map_err(|e| anyhow::anyhow!("WM_WHOP_API_BASE: {e}"))?;
            Some(WhopApi::new(client, key.expose_secret()))
        }
        None => None,
    };
    Ok(BillingConfig {
        plan_map,
        grace_period: chrono::Duration::days(i64::from(config.grace_period_days)),
        on_cancel: match config.on_cancel {
            OnCancel::Downgrade => CoreOnCancel::Downgrade,
            OnCancel::Revoke => CoreOnCancel::Revoke,
        },
        public_url: config.public_url.trim_end_matches('/').to_owned(),
        mailer,
        whop,
        ..BillingConfig::default()
    })
}
