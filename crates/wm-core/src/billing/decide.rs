//! The lifecycle rules (DESIGN §4), as one function from an event and the state it meets to the
//! complete write-set. No IO: the caller reads the state and the store applies the write.
//!
//! - grant (purchase, renewal, plan change, uncancel...): account found or created, plan set,
//!   subscription active (or trialing); a new account, or a purchase by one without a usable
//!   key, gets a key delivered by a claim link;
//! - grace (payment failed): `past_due` until `now + grace period` (kept on repeated failures),
//!   and a reminder;
//! - revoke (deleted, deactivated, expired): access ends now, or when a running grace period
//!   ends; then the account drops to its best other live plan, else `free` (and, with
//!   `WM_ON_CANCEL=revoke`, its keys are revoked);
//! - a scheduled cancellation keeps access until `period_end` (the billing job ends it).

use super::context::Ctx;
use super::{BillingConfig, OnCancel, claim, mail};
use crate::accounts::admin::BUILTIN_PLANS;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wm_billing::{Access, BillingEvent, EventKind};
use wm_domain::account::Role;
use wm_domain::api_key::KeyEnv;
use wm_domain::email::Email;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanName;
use wm_store::{
    BillingWrite, CustomerLink, InboxStatus, NewOutboxEmail, NewUser, Subscription, SubscriptionGuard,
    SubscriptionStatus,
};

/// The outcome of deciding.
#[derive(Debug)]
pub(crate) enum Decision {
    Write(Box<BillingWrite>),
    /// The event cannot be processed now (answer 5xx; the provider retries).
    Fail(String),
}

/// The best of several plans (built-in order free < starter < pro < enterprise; others rank lowest).
pub(crate) fn best_plan(plans: &[PlanName]) -> Option<PlanName> {
    let rank = |p: &PlanName| BUILTIN_PLANS.iter().position(|b| *b == p.as_str()).unwrap_or(0);
    plans.iter().max_by_key(|p| rank(p)).cloned()
}

/// Plan and key effects of access ending for `user`.
pub(crate) fn end_effects(
    cfg: &BillingConfig,
    user: UserId,
    other_live: &[PlanName],
) -> (Option<(UserId, PlanName)>, Option<UserId>) {
    match best_plan(other_live) {
        Some(p) => (Some((user, p)), None),
        None => (Some((user, PlanName::free())), (cfg.on_cancel == OnCancel::Revoke).then_some(user)),
    }
}

/// An outbox email to `to` at `at`.
pub(crate) fn email(to: &Email, text: mail::Text, at: DateTime<Utc>) -> NewOutboxEmail {
    NewOutboxEmail {
        id: Uuid::now_v7(),
        to: to.as_str().to_owned(),
        subject: text.subject,
        body: text.body,
        created_at: at,
    }
}

pub(crate) fn decide(cfg: &BillingConfig, env: KeyEnv, inbox_id: Uuid, ev: &BillingEvent, ctx: &Ctx) -> Decision {
    let ignore = |reason: String| {
        Decision::Write(Box::new(BillingWrite::finish(inbox_id, ctx.now, InboxStatus::Ignored, Some(reason))))
    };
    if ev.kind == EventKind::Other {
        return ignore(format!("event type `{}` does not change access", ev.event_type));
    }
    let mapped = cfg.plan_map.resolve(ev);
    if let Some(p) = mapped.filter(|_| !ctx.mapped_plan_exists) {
        return Decision::Fail(format!(
            "WM_PLAN_MAP maps this {} product to plan `{p}`, which does not exist: create the plan \
             (PUT /api/v1/admin/plans/{p}) or fix WM_PLAN_MAP, then replay",
            ev.provider
        ));
    }
    let plan = mapped.and_then(|p| PlanName::parse(p).ok()).or_else(|| ctx.sub.as_ref().map(|s| s.plan.clone()));
    let unmapped = !ev.product_refs.is_empty() && mapped.is_none();
    let mut w = BillingWrite::finish(inbox_id, ctx.now, InboxStatus::Processed, None);
    let decision = match ev.access {
        Access::Grant
            if unmapped && (matches!(ev.kind, EventKind::Purchase | EventKind::PlanChange) || ctx.sub.is_none()) =>
        {
            return ignore(format!(
                "no plan is mapped for {} ids [{}]: add `{}:<id>=<plan>` to WM_PLAN_MAP, then replay",
                ev.provider,
                ev.product_refs.join(", "),
                ev.provider
            ));
        }
        Access::Grant => grant(cfg, env, ev, ctx, plan, &mut w),
        Access::Grace => grace(cfg, ev, ctx, &mut w),
        Access::Revoke => revoke(cfg, ev, ctx, &mut w),
        Access::Unchanged => unchanged(ev, ctx, &mut w),
    };
    match decision {
        Ok(()) => Decision::Write(Box::new(w)),
        Err(Step::Ignore(reason)) => ignore(reason),
        Err(Step::Fail(reason)) => Decision::Fail(reason),
    }
}

/// Why a rule stopped.
enum Step {
    Ignore(String),
    Fail(String),
}

fn grant(
    cfg: &BillingConfig,
    env: KeyEnv,
    ev: &BillingEvent,
    ctx: &Ctx,
    plan: Option<PlanName>,
    w: &mut BillingWrite,
) -> Result<(), Step> {
    let (user_id, address) = match &ctx.user {
        Some(u) => {
            if let Some(p) = plan.as_ref().filter(|p| **p != u.plan) {
                w.set_plan = Some((u.id, p.clone()));
            }
            (u.id, u.email.clone())
        }
        None => {
            let Some(email) = ev.customer.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
                return Err(Step::Fail(
                    "cannot identify the account: no known customer id or user id, and no email in this event \
                     (it succeeds on a retry once an event with the email has created the account)"
                        .into(),
                ));
            };
            let new = NewUser {
                id: UserId::new(),
                email: email.clone(),
                role: Role::User,
                plan: plan.clone().unwrap_or_else(PlanName::free),
                now: ctx.now,
            };
            let id = new.id;
            w.create_user = Some(new);
            (id, email)
        }
    };
    link(ev, ctx, user_id, w);
    if let (Some(sub_ref), Some(plan)) = (&ev.subscription_ref, &plan) {
        let prev = ctx.sub.as_ref();
        let cancel = match ev.kind {
            EventKind::CancellationScheduled => true,
            EventKind::Uncancelled => false,
            _ => ev.cancel_at_period_end.or(prev.map(|s| s.cancel_at_period_end)).unwrap_or(false),
        };
        let mut s = row(ev, ctx, sub_ref, user_id, plan);
        s.status = if ev.status.as_deref() == Some("trialing") {
            SubscriptionStatus::Trialing
        } else {
            SubscriptionStatus::Active
        };
        s.period_end = ev.period_end.or(s.period_end);
        s.cancel_at_period_end = cancel;
        s.grace_until = None;
        s.access_ends_at = if cancel { s.period_end } else { None };
        s.ended_at = None;
        guard(ev, ctx, w, s);
    }
    let created = w.create_user.is_some();
    if created || (ev.kind == EventKind::Purchase && !ctx.has_usable_key) {
        let issued = claim::issue(cfg, env, user_id, &format!("{} purchase", ev.provider), ctx.now);
        if cfg.mailer.is_some() {
            let text = mail::welcome(plan.as_ref().map(PlanName::as_str), &issued.link.url, issued.link.expires_at);
            w.emails.push(email(&address, text, ctx.now));
        } else {
            tracing::warn!(
                user.id = %user_id,
                "API key issued without SMTP: send the user a link from POST /api/v1/admin/users/{{id}}/claim-link"
            );
        }
        w.new_key = Some(issued.key);
        w.claim = Some(issued.claim);
    }
    Ok(())
}

fn grace(cfg: &BillingConfig, ev: &BillingEvent, ctx: &Ctx, w: &mut BillingWrite) -> Result<(), Step> {
    let (Some(prev), Some(user)) = (&ctx.sub, &ctx.user) else {
        return Err(Step::Ignore("a payment failed for a subscription we do not know".into()));
    };
    if prev.ended_at.is_some() {
        return Err(Step::Ignore("a payment failed for a subscription whose access already ended".into()));
    }
    let running = prev.grace_until.filter(|_| prev.status == SubscriptionStatus::PastDue);
    let grace_until = running.unwrap_or(ctx.now + cfg.grace_period);
    let mut s = row(ev, ctx, &prev.provider_subscription_id, user.id, &prev.plan);
    s.status = SubscriptionStatus::PastDue;
    s.period_end = ev.period_end.or(s.period_end);
    s.grace_until = Some(grace_until);
    s.access_ends_at = Some(grace_until);
    guard(ev, ctx, w, s);
    link(ev, ctx, user.id, w);
    if cfg.mailer.is_some() {
        w.emails.push(email(&user.email, mail::payment_failed(grace_until), ctx.now));
    }
    Ok(())
}

fn revoke(cfg: &BillingConfig, ev: &BillingEvent, ctx: &Ctx, w: &mut BillingWrite) -> Result<(), Step> {
    let (Some(prev), Some(user)) = (&ctx.sub, &ctx.user) else {
        return Err(Step::Ignore("access ended for a subscription we do not know".into()));
    };
    let mut s = row(ev, ctx, &prev.provider_subscription_id, user.id, &prev.plan);
    s.status = if ev.event_type == "EXPIRATION" || ev.status.as_deref() == Some("expired") {
        SubscriptionStatus::Expired
    } else {
        SubscriptionStatus::Canceled
    };
    s.cancel_at_period_end = false;
    s.period_end = ev.period_end.or(s.period_end);
    let grace_left = prev.grace_until.filter(|g| prev.status == SubscriptionStatus::PastDue && *g > ctx.now);
    if prev.ended_at.is_none() {
        if let Some(until) = grace_left {
            s.access_ends_at = Some(until);
        } else {
            s.access_ends_at = Some(ctx.now);
            s.ended_at = Some(ctx.now);
            (w.set_plan, w.revoke_keys_of) = end_effects(cfg, user.id, &ctx.other_live_plans);
            if cfg.mailer.is_some() {
                w.emails.push(email(&user.email, mail::access_ended(w.revoke_keys_of.is_some()), ctx.now));
            }
        }
    }
    guard(ev, ctx, w, s);
    Ok(())
}

fn unchanged(ev: &BillingEvent, ctx: &Ctx, w: &mut BillingWrite) -> Result<(), Step> {
    let (Some(prev), Some(user)) = (&ctx.sub, &ctx.user) else {
        return Err(Step::Ignore(format!("`{}` does not change access", ev.event_type)));
    };
    let mut s = row(ev, ctx, &prev.provider_subscription_id, user.id, &prev.plan);
    s.period_end = ev.period_end.or(s.period_end);
    s.cancel_at_period_end = ev.cancel_at_period_end.unwrap_or(s.cancel_at_period_end);
    if s.ended_at.is_none() && matches!(s.status, SubscriptionStatus::Active | SubscriptionStatus::Trialing) {
        s.access_ends_at = if s.cancel_at_period_end { s.period_end } else { None };
    }
    guard(ev, ctx, w, s);
    Ok(())
}

/// The subscription's row as it stands (or a new one), touched by this event.
fn row(ev: &BillingEvent, ctx: &Ctx, sub_ref: &str, user: UserId, plan: &PlanName) -> Subscription {
    let customer = ev.customer.provider_customer_id.clone();
    let membership = (ev.provider == wm_billing::Provider::Whop).then(|| sub_ref.to_owned());
    match &ctx.sub {
        Some(s) => Subscription {
            user_id: user,
            plan: plan.clone(),
            provider_customer_id: customer.or_else(|| s.provider_customer_id.clone()),
            last_event_at: ev.occurred_at,
            updated_at: ctx.now,
            ..s.clone()
        },
        None => Subscription {
            id: Uuid::now_v7(),
            provider: ev.provider.as_str().to_owned(),
            provider_subscription_id: sub_ref.to_owned(),
            provider_customer_id: customer,
            provider_membership_id: membership,
            user_id: user,
            plan: plan.clone(),
            status: SubscriptionStatus::Active,
            period_end: None,
            cancel_at_period_end: false,
            grace_until: None,
            access_ends_at: None,
            ended_at: None,
            last_event_at: ev.occurred_at,
            created_at: ctx.now,
            updated_at: ctx.now,
        },
    }
}

/// Writes `s`, guarded against older events and concurrent changes.
fn guard(ev: &BillingEvent, ctx: &Ctx, w: &mut BillingWrite, s: Subscription) {
    w.guard = Some(SubscriptionGuard {
        provider: s.provider.clone(),
        provider_subscription_id: s.provider_subscription_id.clone(),
        event_at: ev.occurred_at,
        seen_last_event_at: ctx.sub.as_ref().map(|p| p.last_event_at),
    });
    w.subscription = Some(s);
}

/// Links the provider customer id to the account, unless it already is.
fn link(ev: &BillingEvent, ctx: &Ctx, user: UserId, w: &mut BillingWrite) {
    if let Some(c) = ev.customer.provider_customer_id.as_ref().filter(|_| !ctx.linked) {
        w.link_customer =
            Some(CustomerLink { provider: ev.provider.as_str().to_owned(), customer_id: c.clone(), user_id: user });
    }
}
