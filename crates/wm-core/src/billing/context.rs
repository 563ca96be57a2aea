//! What deciding an event needs to know: its subscription, the account it is about, and that
//! account's other live subscriptions. Read before the write; the store's guard catches changes
//! made in between.

use super::Billing;
use crate::CoreResult;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wm_billing::{Access, BillingEvent, EventKind};
use wm_domain::account::User;
use wm_domain::email::Email;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanName;
use wm_store::{Subscription, SubscriptionStatus};

/// The state an event is decided against.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub now: DateTime<Utc>,
    /// The stored subscription the event names, if any.
    pub sub: Option<Subscription>,
    /// The account: the subscription's owner, else the one linked to the provider customer id,
    /// else the user whose id the provider echoes back, else the one with the event's email.
    pub user: Option<User>,
    /// The provider customer id is already linked to `user`.
    pub linked: bool,
    /// The account has a key it can use (a purchase then issues no new one).
    pub has_usable_key: bool,
    /// Plans of the account's other subscriptions that still give access.
    pub other_live_plans: Vec<PlanName>,
    /// The plan `WM_PLAN_MAP` maps the event to exists (true when nothing is mapped).
    pub mapped_plan_exists: bool,
}

pub(crate) async fn load(b: &Billing, ev: &BillingEvent) -> CoreResult<Ctx> {
    let now = b.clock.now();
    let provider = ev.provider.as_str();
    let customer = ev.customer.provider_customer_id.as_deref();
    let sub = match &ev.subscription_ref {
        Some(r) => b.store.get_subscription(provider, r).await?,
        None => None,
    };
    let mut linked = false;
    let mut user = match &sub {
        Some(s) => {
            linked = customer.is_none() || s.provider_customer_id.as_deref() == customer;
            b.store.get_user(s.user_id).await?
        }
        None => None,
    };
    if user.is_none()
        && let Some(c) = customer
    {
        user = b.store.find_user_by_customer(provider, c).await?;
        linked = user.is_some();
    }
    for echoed in [ev.client_reference_id.as_deref(), customer] {
        if user.is_none()
            && let Some(id) = echoed.and_then(|r| r.parse::<Uuid>().ok())
        {
            user = b.store.get_user(UserId(id)).await?;
        }
    }
    if user.is_none()
        && let Some(email) = ev.customer.email.as_deref().and_then(|e| Email::parse(e).ok())
    {
        user = b.store.find_user_by_email(&email).await?;
    }
    let has_usable_key = match (&user, ev.kind) {
        (Some(u), EventKind::Purchase) => b.store.list_keys(u.id).await?.iter().any(|k| k.is_usable(now)),
        _ => false,
    };
    let other_live_plans = match (&user, ev.access) {
        (Some(u), Access::Revoke) => live_plans(&b.store.list_user_subscriptions(u.id).await?, sub.as_ref()),
        _ => Vec::new(),
    };
    let mapped_plan_exists = match b.config.plan_map.resolve(ev).map(PlanName::parse) {
        Some(Ok(plan)) => b.store.get_plan(&plan).await?.is_some(),
        Some(Err(_)) => false,
        None => true,
    };
    Ok(Ctx { now, sub, user, linked, has_usable_key, other_live_plans, mapped_plan_exists })
}

/// Plans of the subscriptions that still give access, other than `except`.
pub(crate) fn live_plans(subs: &[Subscription], except: Option<&Subscription>) -> Vec<PlanName> {
    subs.iter()
        .filter(|s| except.is_none_or(|e| e.id != s.id))
        .filter(|s| s.ended_at.is_none())
        .filter(|s| {
            matches!(s.status, SubscriptionStatus::Trialing | SubscriptionStatus::Active | SubscriptionStatus::PastDue)
        })
        .map(|s| s.plan.clone())
        .collect()
}
