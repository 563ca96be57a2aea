//! The billing job: time-based transitions (grace over, cancelled period over) and the email
//! outbox. Safe with any number of instances: each end of access is claimed by one conditional
//! update inside its transaction, and each email by a lease.

use super::context::live_plans;
use super::decide::{email, end_effects};
use super::{Billing, mail};
use crate::CoreResult;
use chrono::Duration;
use std::future::Future;
use std::sync::Arc;
use wm_store::{AccessEnd, OutboxEmail, Subscription, SubscriptionStatus};

/// Due subscriptions handled per batch, and batches per run.
const BATCH: u32 = 100;
const MAX_BATCHES: usize = 20;
/// Emails claimed per run, and how long a claim holds.
const MAIL_BATCH: u32 = 50;
const MAIL_LEASE_SECS: i64 = 300;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    /// Subscriptions whose access this run ended.
    pub ended: u32,
    pub emails_sent: u32,
    /// Emails that failed and will be tried again later.
    pub emails_retried: u32,
    /// Emails given up on.
    pub emails_failed: u32,
}

impl Billing {
    /// One pass: end every access that is due, send due emails, publish breaker states.
    pub async fn run_jobs_once(&self) -> CoreResult<JobReport> {
        let mut report = JobReport::default();
        for _ in 0..MAX_BATCHES {
            let due = self.store.due_subscriptions(self.clock.now(), BATCH).await?;
            for sub in &due {
                if self.end_access(sub).await? {
                    report.ended += 1;
                }
            }
            if due.len() < BATCH as usize {
                break;
            }
        }
        if report.ended > 0 {
            self.accounts.invalidate_cached_keys();
        }
        self.send_outbox(&mut report).await?;
        for s in self.external_services() {
            metrics::gauge!("whitemagic_circuit_breaker_state", "service" => s.name)
                .set(f64::from(s.state.as_metric_value()));
        }
        Ok(report)
    }

    /// Run [`Billing::run_jobs_once`] every `every` until `shutdown` resolves.
    pub async fn run_jobs(self: Arc<Self>, every: std::time::Duration, shutdown: impl Future<Output = ()>) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.run_jobs_once().await {
                        tracing::warn!(error = %e, "billing job failed; will retry");
                    }
                }
                () = &mut shutdown => break,
            }
        }
    }

    async fn end_access(&self, sub: &Subscription) -> CoreResult<bool> {
        let now = self.clock.now();
        let user = self.store.get_user(sub.user_id).await?;
        let others = live_plans(&self.store.list_user_subscriptions(sub.user_id).await?, Some(sub));
        let (set_plan, revoke_keys_of) = end_effects(&self.config, sub.user_id, &others);
        let status = match sub.status {
            SubscriptionStatus::PastDue => SubscriptionStatus::Expired,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing => SubscriptionStatus::Canceled,
            done => done,
        };
        let emails = match (&self.config.mailer, &user) {
            (Some(_), Some(u)) => vec![email(&u.email, mail::access_ended(revoke_keys_of.is_some()), now)],
            _ => Vec::new(),
        };
        let end = AccessEnd { subscription_id: sub.id, status, at: now, set_plan, revoke_keys_of, emails };
        let ended = self.store.end_subscription_access(&end).await?;
        if ended {
            tracing::info!(user.id = %sub.user_id, subscription.provider = %sub.provider, status = status.as_str(), "paid access ended");
        }
        Ok(ended)
    }

    async fn send_outbox(&self, report: &mut JobReport) -> CoreResult<()> {
        let Some(mailer) = &self.config.mailer else { return Ok(()) };
        let now = self.clock.now();
        let batch = self.store.claim_outbox(now, now + Duration::seconds(MAIL_LEASE_SECS), MAIL_BATCH).await?;
        for e in batch {
            match mailer.send(&e.to, &e.subject, &e.body).await {
                Ok(()) => {
                    self.store.outbox_sent(e.id, self.clock.now()).await?;
                    report.emails_sent += 1;
                    metrics::counter!("whitemagic_emails_total", "outcome" => "sent").increment(1);
                }
                Err(err) if e.attempts >= self.config.mail_max_attempts => {
                    tracing::error!(email.id = %e.id, error = %err, "giving up on an email");
                    self.store.outbox_failed(e.id, &err).await?;
                    report.emails_failed += 1;
                    metrics::counter!("whitemagic_emails_total", "outcome" => "failed").increment(1);
                }
                Err(err) => {
                    tracing::warn!(email.id = %e.id, error = %err, attempts = e.attempts, "email not sent; will retry");
                    self.store.outbox_retry(e.id, now + backoff(&e), &err).await?;
                    report.emails_retried += 1;
                    metrics::counter!("whitemagic_emails_total", "outcome" => "retried").increment(1);
                }
            }
        }
        Ok(())
    }
}

/// 30 s after the first failure, doubling, at most an hour.
fn backoff(e: &OutboxEmail) -> Duration {
    let exp = e.attempts.saturating_sub(1).min(7);
    Duration::seconds((30_i64 << exp).min(3600))
}
