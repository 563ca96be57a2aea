//! Billing storage: the inbox, exactly-once application, guards, claim tokens, the outbox.

use crate::conformance::join_all;
use crate::{
    AccessEnd, ApplyOutcome, BillingLookupQuery, BillingWrite, ClaimOutcome, CustomerLink, InboxQuery, InboxStatus,
    NewApiKey, NewClaimToken, NewInboxEvent, NewOutboxEmail, NewUser, OutboxStatus, Recorded, Store, StoreError,
    Subscription, SubscriptionGuard, SubscriptionStatus,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;
use wm_domain::account::Role;
use wm_domain::api_key::{ApiKey, KeyEnv, KeyHash};
use wm_domain::email::Email;
use wm_domain::ids::{KeyId, UserId};
use wm_domain::plan::PlanName;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap() + Duration::microseconds(654_321)
}

fn plan(p: &str) -> PlanName {
    PlanName::parse(p).unwrap()
}

fn event(provider: &str, event_id: &str) -> NewInboxEvent {
    NewInboxEvent {
        id: Uuid::now_v7(),
        provider: provider.into(),
        event_id: event_id.into(),
        event_type: "checkout.session.completed".into(),
        occurred_at: t0(),
        received_at: t0() + Duration::seconds(1),
        payload: r#"{"id":"evt"}"#.into(),
        normalized: r#"{"kind":"purchase"}"#.into(),
    }
}

async fn list(s: &dyn Store, q: InboxQuery) -> Vec<crate::InboxEvent> {
    s.list_billing_events(&q).await.unwrap()
}

async fn recorded(s: &dyn Store, e: &NewInboxEvent) -> Uuid {
    match s.record_billing_event(e).await.unwrap() {
        Recorded::New(id) => id,
        other => panic!("expected a new row: {other:?}"),
    }
}

fn new_user(email: &str) -> NewUser {
    NewUser { id: UserId::new(), email: Email::parse(email).unwrap(), role: Role::User, plan: plan("pro"), now: t0() }
}

fn new_key(user: UserId) -> (ApiKey, NewApiKey) {
    let raw = ApiKey::generate(KeyEnv::Test);
    let k = NewApiKey {
        id: KeyId::new(),
        user_id: user,
        name: "stripe purchase".into(),
        prefix: raw.prefix().into(),
        hash: raw.hash(),
        created_at: t0(),
        expires_at: None,
    };
    (raw, k)
}

fn claim_for(k: &NewApiKey, token: &str, expires_at: DateTime<Utc>) -> NewClaimToken {
    NewClaimToken { token_hash: KeyHash::of(token), key_id: k.id, user_id: k.user_id, created_at: t0(), expires_at }
}

fn email(to: &str, at: DateTime<Utc>) -> NewOutboxEmail {
    NewOutboxEmail {
        id: Uuid::now_v7(),
        to: to.into(),
        subject: "Your key".into(),
        body: "link".into(),
        created_at: at,
    }
}

fn sub(user: UserId, id: &str, at: DateTime<Utc>) -> Subscription {
    Subscription {
        id: Uuid::now_v7(),
        provider: "stripe".into(),
        provider_subscription_id: id.into(),
        provider_customer_id: Some("cus_1".into()),
        provider_membership_id: None,
        user_id: user,
        plan: plan("pro"),
        status: SubscriptionStatus::Active,
        period_end: Some(at + Duration::days(30)),
        cancel_at_period_end: false,
        grace_until: None,
        access_ends_at: None,
        ended_at: None,
        last_event_at: at,
        created_at: at,
        updated_at: at,
    }
}

fn guard(id: &str, event_at: DateTime<Utc>, seen: Option<DateTime<Utc>>) -> SubscriptionGuard {
    SubscriptionGuard {
        provider: "stripe".into(),
        provider_subscription_id: id.into(),
        event_at,
        seen_last_event_at: seen,
    }
}

/// A purchase: new user, customer link, key + claim, subscription, one email.
fn purchase(inbox_id: Uuid, mail: &str) -> (BillingWrite, UserId) {
    let u = new_user(mail);
    let user_id = u.id;
    let (_, key) = new_key(user_id);
    let mut w = BillingWrite::finish(inbox_id, t0(), InboxStatus::Processed, None);
    w.guard = Some(guard("sub_1", t0(), None));
    w.claim = Some(claim_for(&key, &format!("token-{mail}"), t0() + Duration::days(7)));
    w.new_key = Some(key);
    w.create_user = Some(u);
    w.link_customer = Some(CustomerLink { provider: "stripe".into(), customer_id: "cus_1".into(), user_id });
    w.subscription = Some(sub(user_id, "sub_1", t0()));
    w.emails = vec![email(mail, t0())];
    (w, user_id)
}

pub async fn billing_inbox_records_each_event_once(s: &dyn Store) {
    let e = event("stripe", "evt_1");
    let id = recorded(s, &e).await;
    let again = s.record_billing_event(&NewInboxEvent { id: Uuid::now_v7(), ..e.clone() }).await.unwrap();
    assert_eq!(again, Recorded::Existing { id, status: InboxStatus::Received });
    let other_provider = recorded(s, &event("whop", "evt_1")).await;
    let got = s.get_billing_event(id).await.unwrap().unwrap();
    assert_eq!((got.status, got.attempts, got.occurred_at), (InboxStatus::Received, 0, t0()));
    assert_eq!((got.payload.as_str(), got.normalized.as_str()), (e.payload.as_str(), e.normalized.as_str()));
    assert!(s.get_billing_event(Uuid::now_v7()).await.unwrap().is_none());

    let all = s.list_billing_events(&InboxQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [other_provider, id], "newest first");
    let page = list(s, InboxQuery { limit: 10, before: Some(other_provider), ..Default::default() }).await;
    assert_eq!(page.len(), 1);
    let whop = list(s, InboxQuery { provider: Some("whop".into()), limit: 10, ..Default::default() }).await;
    assert_eq!(whop.len(), 1);

    assert!(s.mark_billing_event_failed(id, "boom").await.unwrap());
    let failed = list(s, InboxQuery { status: Some(InboxStatus::Failed), limit: 10, ..Default::default() }).await;
    assert_eq!((failed.len(), failed[0].attempts, failed[0].last_error.as_deref()), (1, 1, Some("boom")));
    let stats = s.billing_stats().await.unwrap();
    assert!(stats.inbox.contains(&(InboxStatus::Failed, 1)) && stats.inbox.contains(&(InboxStatus::Received, 1)));
    assert!(stats.inbox.contains(&(InboxStatus::Processed, 0)), "every status is listed");
    assert_eq!(stats.oldest_pending, Some(t0() + Duration::seconds(1)));
    assert_eq!(stats.last_processed, None);
}

pub async fn billing_apply_is_exactly_once_under_concurrency(s: &dyn Store) {
    let inbox_id = recorded(s, &event("stripe", "evt_dup")).await;
    let (w, user_id) = purchase(inbox_id, "buyer@example.com");
    let tries: Vec<Pin<Box<dyn Future<Output = _> + Send + '_>>> =
        (0..12).map(|_| Box::pin(s.apply_billing_event(&w)) as Pin<Box<_>>).collect();
    let outcomes = join_all(tries).await;
    let applied = outcomes.iter().filter(|o| matches!(o, Ok(ApplyOutcome::Applied))).count();
    let dups = outcomes.iter().filter(|o| matches!(o, Ok(ApplyOutcome::Duplicate))).count();
    assert_eq!((applied, dups), (1, 11), "{outcomes:?}");
    assert_eq!(s.count_users().await.unwrap(), 1);
    assert_eq!(s.list_keys(user_id).await.unwrap().len(), 1);
    assert_eq!(s.list_user_subscriptions(user_id).await.unwrap().len(), 1);
    assert_eq!(s.list_outbox(10).await.unwrap().len(), 1);
    let email = Email::parse("BUYER@example.com").unwrap();
    let q = BillingLookupQuery {
        provider: "stripe",
        subscription_id: Some("sub_1"),
        customer_id: Some("cus_1"),
        email: Some(&email),
    };
    let look = s.billing_lookup(&q).await.unwrap();
    let (sub, owner) = look.subscription.expect("the subscription and its owner");
    assert_eq!((sub.provider_subscription_id.as_str(), owner.id), ("sub_1", user_id));
    assert_eq!(look.customer_user.map(|u| u.id), Some(user_id));
    assert_eq!(look.email_user.map(|u| u.id), Some(user_id));
    let none = BillingLookupQuery { provider: "whop", subscription_id: Some("sub_1"), customer_id: None, email: None };
    assert_eq!(s.billing_lookup(&none).await.unwrap(), Default::default());
    let found = s.find_user_by_customer("stripe", "cus_1").await.unwrap().unwrap();
    assert_eq!((found.id, found.plan.as_str()), (user_id, "pro"));
    assert!(s.find_user_by_customer("whop", "cus_1").await.unwrap().is_none());
    let done = s.get_billing_event(inbox_id).await.unwrap().unwrap();
    assert_eq!((done.status, done.attempts, done.processed_at), (InboxStatus::Processed, 1, Some(t0())));
    assert!(!s.mark_billing_event_failed(inbox_id, "late").await.unwrap(), "finished events stay finished");
    assert_eq!(s.apply_billing_event(&w).await.unwrap(), ApplyOutcome::Duplicate);
}

pub async fn billing_apply_rolls_back_everything_on_conflict(s: &dyn Store) {
    let first = recorded(s, &event("stripe", "evt_a")).await;
    let (w, _) = purchase(first, "taken@example.com");
    assert_eq!(s.apply_billing_event(&w).await.unwrap(), ApplyOutcome::Applied);
    let second = recorded(s, &event("stripe", "evt_b")).await;
    let (mut w2, user2) = purchase(second, "taken@example.com");
    w2.guard = None;
    w2.subscription = None;
    let err = s.apply_billing_event(&w2).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    let e = s.get_billing_event(second).await.unwrap().unwrap();
    assert_eq!((e.status, e.attempts), (InboxStatus::Received, 0), "the status change was rolled back too");
    assert!(s.list_keys(user2).await.unwrap().is_empty());
    assert_eq!(s.list_outbox(10).await.unwrap().len(), 1);
}

pub async fn billing_guard_ignores_stale_and_detects_changes(s: &dyn Store) {
    let first = recorded(s, &event("stripe", "evt_new")).await;
    let (mut w, user) = purchase(first, "guard@example.com");
    let newer = t0() + Duration::seconds(10);
    w.guard = Some(guard("sub_1", newer, None));
    w.subscription.as_mut().unwrap().last_event_at = newer;
    assert_eq!(s.apply_billing_event(&w).await.unwrap(), ApplyOutcome::Applied);

    let old = recorded(s, &event("stripe", "evt_old")).await;
    let mut stale = BillingWrite::finish(old, t0(), InboxStatus::Processed, None);
    stale.guard = Some(guard("sub_1", t0() + Duration::seconds(5), Some(newer)));
    stale.set_plan = Some((user, plan("starter")));
    assert_eq!(s.apply_billing_event(&stale).await.unwrap(), ApplyOutcome::Stale);
    let e = s.get_billing_event(old).await.unwrap().unwrap();
    assert_eq!(e.status, InboxStatus::Ignored);
    assert!(e.last_error.unwrap().contains("stale"));
    assert_eq!(s.get_user(user).await.unwrap().unwrap().plan.as_str(), "pro", "no effect");

    let racing = recorded(s, &event("stripe", "evt_race")).await;
    let mut changed = BillingWrite::finish(racing, t0(), InboxStatus::Processed, None);
    changed.guard = Some(guard("sub_1", newer + Duration::seconds(1), None));
    assert_eq!(s.apply_billing_event(&changed).await.unwrap(), ApplyOutcome::Changed);
    assert_eq!(s.get_billing_event(racing).await.unwrap().unwrap().status, InboxStatus::Received);

    let mut update = sub(user, "sub_1", newer + Duration::seconds(1));
    update.id = s.get_subscription("stripe", "sub_1").await.unwrap().unwrap().id;
    update.created_at = newer;
    update.status = SubscriptionStatus::PastDue;
    update.grace_until = Some(newer + Duration::days(3));
    update.access_ends_at = update.grace_until;
    changed.guard = Some(guard("sub_1", newer + Duration::seconds(1), Some(newer)));
    changed.subscription = Some(update.clone());
    assert_eq!(s.apply_billing_event(&changed).await.unwrap(), ApplyOutcome::Applied);
    assert_eq!(s.get_subscription("stripe", "sub_1").await.unwrap(), Some(update));
    let ignored = list(s, InboxQuery { status: Some(InboxStatus::Ignored), limit: 5, ..Default::default() }).await;
    assert_eq!(ignored.len(), 1);
}

pub async fn billing_access_ends_exactly_once(s: &dyn Store) {
    let inbox = recorded(s, &event("stripe", "evt_end")).await;
    let (mut w, user) = purchase(inbox, "ending@example.com");
    let ends = t0() + Duration::days(3);
    let sub = w.subscription.as_mut().unwrap();
    sub.status = SubscriptionStatus::PastDue;
    sub.grace_until = Some(ends);
    sub.access_ends_at = Some(ends);
    let sub_id = sub.id;
    assert_eq!(s.apply_billing_event(&w).await.unwrap(), ApplyOutcome::Applied);
    assert!(s.due_subscriptions(ends - Duration::seconds(1), 10).await.unwrap().is_empty());
    let due = s.due_subscriptions(ends, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), [sub_id]);

    let early = AccessEnd {
        subscription_id: sub_id,
        status: SubscriptionStatus::Expired,
        at: ends - Duration::seconds(1),
        set_plan: Some((user, PlanName::free())),
        revoke_keys_of: Some(user),
        emails: vec![email("ending@example.com", ends)],
    };
    assert!(!s.end_subscription_access(&early).await.unwrap(), "not due yet");
    let end = AccessEnd { at: ends + Duration::seconds(1), ..early };
    let tries: Vec<Pin<Box<dyn Future<Output = _> + Send + '_>>> =
        (0..6).map(|_| Box::pin(s.end_subscription_access(&end)) as Pin<Box<_>>).collect();
    let won: Vec<bool> = join_all(tries).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let after = s.get_subscription("stripe", "sub_1").await.unwrap().unwrap();
    assert_eq!((after.status, after.ended_at), (SubscriptionStatus::Expired, Some(end.at)));
    assert_eq!(s.get_user(user).await.unwrap().unwrap().plan.as_str(), "free");
    assert!(s.list_keys(user).await.unwrap().iter().all(|k| k.revoked_at == Some(end.at)));
    assert_eq!(s.list_outbox(10).await.unwrap().len(), 2);
    assert!(s.due_subscriptions(ends + Duration::days(1), 10).await.unwrap().is_empty());
}

pub async fn billing_claim_tokens_are_single_use(s: &dyn Store) {
    let u = s.create_user(new_user("claim@example.com")).await.unwrap();
    let (placeholder, key) = new_key(u.id);
    let expires = t0() + Duration::days(7);
    s.insert_claimable_key(&key, &claim_for(&key, "tok-1", expires)).await.unwrap();
    let fresh = ApiKey::generate(KeyEnv::Test);
    let claim = |token: &'static str, at| {
        let fresh = fresh.clone();
        async move { s.claim_key(&KeyHash::of(token), &fresh.hash(), fresh.prefix(), at).await.unwrap() }
    };
    let at = t0() + Duration::hours(1);
    let tries: Vec<Pin<Box<dyn Future<Output = _> + Send + '_>>> =
        (0..5).map(|_| Box::pin(claim("tok-1", at)) as Pin<Box<_>>).collect();
    let outcomes = join_all(tries).await;
    let claimed: Vec<_> = outcomes.iter().filter(|o| matches!(o, ClaimOutcome::Claimed { .. })).collect();
    assert_eq!(claimed, [&ClaimOutcome::Claimed { user_id: u.id, key_id: key.id }], "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter(|o| **o != ClaimOutcome::Claimed { user_id: u.id, key_id: key.id })
            .all(|o| *o == ClaimOutcome::AlreadyUsed)
    );
    let (rec, _) = s.find_key_by_hash(&fresh.hash()).await.unwrap().unwrap();
    assert_eq!((rec.id, rec.prefix.as_str()), (key.id, fresh.prefix()));
    assert!(s.find_key_by_hash(&placeholder.hash()).await.unwrap().is_none(), "the placeholder hash is gone");
    assert_eq!(claim("nope", at).await, ClaimOutcome::NotFound);

    let (_, key2) = new_key(u.id);
    s.insert_claimable_key(&key2, &claim_for(&key2, "tok-2", expires)).await.unwrap();
    assert_eq!(claim("tok-2", expires).await, ClaimOutcome::Expired, "expiry is exclusive");
    let (_, key3) = new_key(u.id);
    s.insert_claimable_key(&key3, &claim_for(&key3, "tok-3", expires)).await.unwrap();
    s.revoke_key(u.id, key3.id, at).await.unwrap();
    assert_eq!(claim("tok-3", at).await, ClaimOutcome::KeyRevoked);
}

pub async fn billing_outbox_hands_each_email_to_one_worker(s: &dyn Store) {
    let inbox = recorded(s, &event("stripe", "evt_mail")).await;
    let mut w = BillingWrite::finish(inbox, t0(), InboxStatus::Processed, None);
    w.emails = (0..6).map(|i| email(&format!("m{i}@example.com"), t0() + Duration::seconds(i))).collect();
    assert_eq!(s.apply_billing_event(&w).await.unwrap(), ApplyOutcome::Applied);
    let now = t0() + Duration::minutes(1);
    let lease = now + Duration::minutes(5);
    let tries: Vec<Pin<Box<dyn Future<Output = _> + Send + '_>>> =
        (0..3).map(|_| Box::pin(s.claim_outbox(now, lease, 4)) as Pin<Box<_>>).collect();
    let batches: Vec<Vec<crate::OutboxEmail>> = join_all(tries).await.into_iter().map(Result::unwrap).collect();
    let mut ids: Vec<Uuid> = batches.iter().flatten().map(|e| e.id).collect();
    assert_eq!(ids.len(), 6, "{batches:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "no email went to two workers");
    assert!(batches.iter().flatten().all(|e| e.status == OutboxStatus::Sending && e.attempts == 1));
    assert!(s.claim_outbox(now, lease, 10).await.unwrap().is_empty(), "all leased");

    let all = s.list_outbox(10).await.unwrap();
    s.outbox_sent(all[0].id, now).await.unwrap();
    s.outbox_retry(all[1].id, now + Duration::minutes(2), "421 try later").await.unwrap();
    s.outbox_failed(all[2].id, "550 no such user").await.unwrap();
    let reclaimed = s.claim_outbox(lease, lease + Duration::minutes(5), 10).await.unwrap();
    assert_eq!(reclaimed.len(), 4, "the retry plus three expired leases");
    assert!(reclaimed.iter().all(|e| e.attempts == 2));
    let after = s.list_outbox(10).await.unwrap();
    let find = |id| after.iter().find(|e| e.id == id).unwrap();
    let sent = find(all[0].id);
    assert_eq!((sent.status, sent.body.as_str(), sent.sent_at), (OutboxStatus::Sent, "", Some(now)), "body cleared");
    let dead = find(all[2].id);
    assert_eq!((dead.status, dead.last_error.as_deref()), (OutboxStatus::Failed, Some("550 no such user")));
    let stats = s.billing_stats().await.unwrap();
    assert!(stats.outbox.contains(&(OutboxStatus::Sending, 4)) && stats.outbox.contains(&(OutboxStatus::Sent, 1)));
}
