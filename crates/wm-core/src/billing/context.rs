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
use wm_store::{BillingLookupQuery, Subscription, SubscriptionStatus};

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
    let customer = ev.customer.provider_customer_id.as_deref();
    let email = ev.customer.email.as_deref().and_then(|e| Email::parse(e).ok());
    let query = BillingLookupQuery {
        provider: ev.provider.as_str(),
        subscription_id: ev.subscription_ref.as_deref(),
        customer_id: customer,
        email: email.as_ref(),
    };
    let found = b.store.billing_lookup(&query).await?;
    let (sub, mut user, mut linked) = match found.subscription {
        Some((s, owner)) => {
            let linked = customer.is_none() || s.provider_customer_id.as_deref() == customer;
            (Some(s), Some(owner), linked)
        }
        None => (None, None, false),
    };
    if user.is_none() && found.customer_user.is_some() {
        user = found.customer_user;
        linked = true;
    }
    for echoed in [ev.client_reference_id.as_deref(), customer] {
        if user.is_none()
            && let Some(id) = echoed.and_then(|r| r.parse::<Uuid>().ok())
        {
            user = b.store.get_user(UserId(id)).await?;
        }
    }
    if user.is_none() {
        user = found.email_user;
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
        Some(Ok(plan)) => plan_exists(b, &plan).await?,
        Some(Err(_)) => false,
        None => true,
    };
    Ok(Ctx { now, sub, user, linked, has_usable_key, other_live_plans, mapped_plan_exists })
}

/// Whether a plan exists. Plans are never deleted, so a plan seen once is remembered (briefly);
/// a missing one is looked up every time, so creating it fixes the next event at once.
async fn plan_exists(b: &Billing, plan: &PlanName) -> CoreResult<bool> {
    if b.known_plans.contains_key(plan.as_str()) {
        return Ok(true);
    }
    let exists = b.store.get_plan(plan).await?.is_some();
    if exists {
        b.known_plans.insert(plan.as_str().to_owned(), ());
    }
    Ok(exists)
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
