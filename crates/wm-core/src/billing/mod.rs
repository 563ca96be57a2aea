//! Billing: verified provider events in, access out.
//!
//! [`Billing::handle`] records an event in the inbox (`(provider, event_id)` unique), reads what
//! it needs (the subscription, the account), decides the whole write-set with the pure
//! [`decide`] step, and hands it to [`wm_store::BillingStore::apply_billing_event`], which
//! finishes the inbox row and applies every effect in one transaction. Duplicates therefore have
//! no effect, an older event for a subscription is ignored, and a failure leaves the event
//! `failed` for the provider's retry or an operator's [`Billing::replay`]. Time-based transitions
//! and email sending run in [`Billing::run_jobs_once`].

mod claim;
mod context;
mod decide;
mod jobs;
mod mail;
mod sync;

pub use claim::{ClaimLink, ClaimResult, well_formed as claim_token_well_formed};
pub use jobs::JobReport;
pub use mail::{Mailer, SmtpMailer};
pub use sync::SyncError;

use crate::{Accounts, CoreError, CoreResult};
use chrono::Duration;
use std::sync::Arc;
use uuid::Uuid;
use wm_billing::{BillingEvent, BreakerState, PlanMap, WhopApi};
use wm_domain::Clock;
use wm_domain::ids::UserId;
use wm_store::{
    ApplyOutcome, BillingStats, InboxEvent, InboxQuery, InboxStatus, NewInboxEvent, Recorded, Store, StoreError,
    Subscription,
};

/// What happens to an account when its paid access ends (`WM_ON_CANCEL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnCancel {
    /// Drop to the `free` plan; keys keep working.
    #[default]
    Downgrade,
    /// Drop to `free` and revoke every key.
    Revoke,
}

impl std::str::FromStr for OnCancel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "downgrade" => Ok(Self::Downgrade),
            "revoke" => Ok(Self::Revoke),
            other => Err(format!("`{other}` is not downgrade or revoke")),
        }
    }
}

/// Billing settings, built by the binary from its configuration.
#[derive(Clone)]
pub struct BillingConfig {
    /// Provider product/price/plan ids → our plans (`WM_PLAN_MAP`).
    pub plan_map: PlanMap,
    /// How long access continues after a failed payment (`WM_GRACE_PERIOD_DAYS`).
    pub grace_period: Duration,
    pub on_cancel: OnCancel,
    /// Base of claim links, without a trailing slash (`WM_PUBLIC_URL`).
    pub public_url: String,
    /// How long a claim link works.
    pub claim_ttl: Duration,
    /// Sends the outbox; `None` (no `SMTP_URL`): no emails are queued.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// Sending attempts before an email is marked failed.
    pub mail_max_attempts: u32,
    /// The Whop API client (`WHOP_API_KEY`), for membership re-syncs.
    pub whop: Option<WhopApi>,
}

impl Default for BillingConfig {
    fn default() -> Self {
        Self {
            plan_map: PlanMap::default(),
            grace_period: Duration::days(3),
            on_cancel: OnCancel::Downgrade,
            public_url: "http://localhost:8000".into(),
            claim_ttl: Duration::days(7),
            mailer: None,
            mail_max_attempts: 8,
            whop: None,
        }
    }
}

impl std::fmt::Debug for BillingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillingConfig")
            .field("plan_map", &self.plan_map)
            .field("grace_period", &self.grace_period)
            .field("on_cancel", &self.on_cancel)
            .field("public_url", &self.public_url)
            .field("mailer", &self.mailer.is_some())
            .field("whop", &self.whop.is_some())
            .finish_non_exhaustive()
    }
}

/// What processing an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandleOutcome {
    /// Its effects are applied.
    Processed,
    /// Already processed or ignored before: no effect.
    Duplicate,
    /// Recorded without effect, for this reason.
    Ignored(String),
    /// Recorded as failed, for this reason: answer 5xx so the provider retries.
    Failed(String),
}

impl HandleOutcome {
    /// `processed`, `duplicate`, `ignored` or `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate",
            Self::Ignored(_) => "ignored",
            Self::Failed(_) => "failed",
        }
    }
}

/// An outbound service and its circuit-breaker state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalService {
    pub name: &'static str,
    pub state: BreakerState,
    pub consecutive_failures: u32,
}

/// How long a plan seen to exist is remembered.
const KNOWN_PLAN_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// How often a write is recomputed after a concurrent change before the event is failed.
const MAX_TRIES: usize = 5;

/// The billing use-cases.
pub struct Billing {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    accounts: Arc<Accounts>,
    config: BillingConfig,
    /// Plans known to exist (checked for every mapped event).
    known_plans: moka::sync::Cache<String, ()>,
}

impl Billing {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, accounts: Arc<Accounts>, config: BillingConfig) -> Self {
        let known_plans = moka::sync::Cache::builder().max_capacity(1_000).time_to_live(KNOWN_PLAN_TTL).build();
        Self { store, clock, accounts, config, known_plans }
    }

    pub fn config(&self) -> &BillingConfig {
        &self.config
    }

    /// Record a verified event and process it (unless it already was). `raw` is the body as
    /// received. Store failures are errors; processing failures are [`HandleOutcome::Failed`].
    pub async fn handle(&self, event: &BillingEvent, raw: &[u8]) -> CoreResult<HandleOutcome> {
        let normalized = serde_json::to_string(event).map_err(|e| StoreError::Database(e.to_string()))?;
        let new = NewInboxEvent {
            id: Uuid::now_v7(),
            provider: event.provider.as_str().to_owned(),
            event_id: event.event_id.clone(),
            event_type: event.event_type.clone(),
            occurred_at: event.occurred_at,
            received_at: self.clock.now(),
            payload: String::from_utf8_lossy(raw).into_owned(),
            normalized,
        };
        match self.store.record_billing_event(&new).await? {
            Recorded::New(id) => self.process(id, event).await,
            Recorded::Existing { status: InboxStatus::Processed | InboxStatus::Ignored, .. } => {
                Ok(HandleOutcome::Duplicate)
            }
            Recorded::Existing { id, .. } => self.process(id, event).await,
        }
    }

    /// Process a stored event again (after its cause was fixed). Only `received` and `failed`
    /// events can be replayed; returns the outcome and the event as it now stands.
    pub async fn replay(&self, id: Uuid) -> CoreResult<(HandleOutcome, InboxEvent)> {
        let stored = self.store.get_billing_event(id).await?.ok_or(CoreError::NotFound("webhook event"))?;
        if matches!(stored.status, InboxStatus::Processed | InboxStatus::Ignored) {
            return Err(CoreError::Conflict(format!("this event is already {}", stored.status.as_str())));
        }
        let event: BillingEvent = serde_json::from_str(&stored.normalized)
            .map_err(|e| StoreError::Corrupt(format!("stored event {id}: {e}")))?;
        let outcome = self.process(id, &event).await?;
        let now = self.store.get_billing_event(id).await?.ok_or(CoreError::NotFound("webhook event"))?;
        Ok((outcome, now))
    }

    async fn process(&self, inbox_id: Uuid, event: &BillingEvent) -> CoreResult<HandleOutcome> {
        for _ in 0..MAX_TRIES {
            let ctx = match context::load(self, event).await {
                Ok(ctx) => ctx,
                Err(e) => return self.failed(inbox_id, e).await,
            };
            let write = match decide::decide(&self.config, self.accounts.key_env(), inbox_id, event, &ctx) {
                decide::Decision::Write(w) => w,
                decide::Decision::Fail(reason) => return self.fail_with(inbox_id, reason).await,
            };
            match self.store.apply_billing_event(&write).await {
                Ok(ApplyOutcome::Applied) => {
                    if write.set_plan.is_some() || write.revoke_keys_of.is_some() {
                        self.accounts.invalidate_cached_keys();
                    }
                    return Ok(match write.status {
                        InboxStatus::Ignored => HandleOutcome::Ignored(write.note.clone().unwrap_or_default()),
                        _ => HandleOutcome::Processed,
                    });
                }
                Ok(ApplyOutcome::Duplicate) => return Ok(HandleOutcome::Duplicate),
                Ok(ApplyOutcome::Stale) => {
                    return Ok(HandleOutcome::Ignored("stale: a newer event was already applied".into()));
                }
                // Another event changed the subscription or took the email meanwhile: decide again.
                Ok(ApplyOutcome::Changed) | Err(StoreError::Conflict(_)) => continue,
                Err(e) => return self.failed(inbox_id, e.into()).await,
            }
        }
        self.fail_with(inbox_id, "concurrent updates kept changing this subscription; retry".into()).await
    }

    /// Record a failure caused by an error: storage errors are logged in full and stored generically.
    async fn failed(&self, inbox_id: Uuid, e: CoreError) -> CoreResult<HandleOutcome> {
        tracing::error!(error = %e, webhook.inbox_id = %inbox_id, "billing event processing failed");
        let reason = match &e {
            CoreError::Store(_) => "storage error; see the server log".to_owned(),
            other => other.to_string(),
        };
        if let Err(mark) = self.store.mark_billing_event_failed(inbox_id, &reason).await {
            tracing::error!(error = %mark, webhook.inbox_id = %inbox_id, "could not mark the event failed");
        }
        match e {
            CoreError::Store(s) => Err(s.into()),
            _ => Ok(HandleOutcome::Failed(reason)),
        }
    }

    async fn fail_with(&self, inbox_id: Uuid, reason: String) -> CoreResult<HandleOutcome> {
        tracing::warn!(webhook.inbox_id = %inbox_id, reason = %reason, "billing event failed");
        self.store.mark_billing_event_failed(inbox_id, &reason).await?;
        Ok(HandleOutcome::Failed(reason))
    }

    /// Inbox events, newest first.
    pub async fn list_events(&self, query: &InboxQuery) -> CoreResult<Vec<InboxEvent>> {
        Ok(self.store.list_billing_events(query).await?)
    }

    /// Inbox and outbox figures for `/health/webhooks`.
    pub async fn stats(&self) -> CoreResult<BillingStats> {
        Ok(self.store.billing_stats().await?)
    }

    /// A user's subscriptions, most recently updated first.
    pub async fn subscriptions(&self, user: UserId) -> CoreResult<Vec<Subscription>> {
        Ok(self.store.list_user_subscriptions(user).await?)
    }

    /// The outbound clients and their breaker states (for `/health/external` and metrics).
    pub fn external_services(&self) -> Vec<ExternalService> {
        self.config
            .whop
            .iter()
            .map(|w| ExternalService {
                name: w.client().name(),
                state: w.breaker_state(),
                consecutive_failures: w.client().breaker().consecutive_failures(),
            })
            .collect()
    }
}
