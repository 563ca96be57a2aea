//! Billing: the webhook inbox, customer links, subscriptions, key claim tokens and the email outbox.
//!
//! Exactly-once processing rests on [`BillingStore::apply_billing_event`]: the inbox row's move to
//! `processed` (or `ignored`) and every effect of the event are one transaction, and the move is
//! conditional on the row still being `received` or `failed`. Concurrent deliveries of one event
//! serialise on that row; all but one see it finished and get [`ApplyOutcome::Duplicate`].

use crate::{NewApiKey, NewUser, StoreResult};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wm_domain::account::User;
use wm_domain::api_key::KeyHash;
use wm_domain::ids::{KeyId, UserId};
use wm_domain::plan::PlanName;

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $variant),* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The stored (snake_case) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            /// Parses the stored name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)* _ => None }
            }
        }
    };
}

str_enum!(
    /// Where an inbox event stands.
    InboxStatus {
        /// Stored, not (yet) processed: in flight, or its processing was interrupted.
        Received = "received",
        /// Its effects are applied.
        Processed = "processed",
        /// Processing failed; the provider retries, or an operator replays it.
        Failed = "failed",
        /// Verified and stored, deliberately without effect (`last_error` says why).
        Ignored = "ignored",
    }
);

str_enum!(
    /// A subscription's state, normalised across providers.
    SubscriptionStatus {
        Trialing = "trialing",
        Active = "active",
        /// A payment failed: access continues until `grace_until`.
        PastDue = "past_due",
        Canceled = "canceled",
        Expired = "expired",
    }
);

str_enum!(
    /// Where an outbox email stands.
    OutboxStatus {
        Pending = "pending",
        /// Claimed by one instance until its lease ends.
        Sending = "sending",
        Sent = "sent",
        /// Gave up after the last attempt.
        Failed = "failed",
    }
);

/// The inbox note for an event ignored because a newer one was already applied (both backends).
pub fn stale_event_note(newer: DateTime<Utc>) -> String {
    format!("stale: an event from {} was already applied to this subscription", newer.to_rfc3339())
}

/// A verified webhook to record in the inbox.
#[derive(Debug, Clone)]
pub struct NewInboxEvent {
    pub id: Uuid,
    /// `stripe`, `whop` or `revenuecat`.
    pub provider: String,
    /// The provider's event id: `(provider, event_id)` is unique.
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The raw body, as received.
    pub payload: String,
    /// The normalised event (JSON text): what processing and replays read.
    pub normalized: String,
}

/// A stored inbox event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEvent {
    pub id: Uuid,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub payload: String,
    pub normalized: String,
    pub status: InboxStatus,
    /// Processing attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed, or why the event was ignored.
    pub last_error: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// What recording an event found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new row, status `received`.
    New(Uuid),
    /// `(provider, event_id)` was already there.
    Existing { id: Uuid, status: InboxStatus },
}

/// A page of inbox events, newest first; `before` is the last id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    pub status: Option<InboxStatus>,
    pub provider: Option<String>,
    pub limit: u32,
    pub before: Option<Uuid>,
}

/// Inbox and outbox health figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingStats {
    /// Inbox events per status (every status present, zeros included).
    pub inbox: Vec<(InboxStatus, u64)>,
    /// `received_at` of the oldest event still `received`.
    pub oldest_pending: Option<DateTime<Utc>>,
    /// The newest `processed_at` of a processed event.
    pub last_processed: Option<DateTime<Utc>>,
    /// Outbox emails per status (every status present, zeros included).
    pub outbox: Vec<(OutboxStatus, u64)>,
}

/// A provider subscription (or membership) and the access it gives one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: Uuid,
    pub provider: String,
    /// Stripe `sub_...`, Whop `mem_...`, RevenueCat `original_transaction_id`; unique per provider.
    pub provider_subscription_id: String,
    pub provider_customer_id: Option<String>,
    /// Whop membership id (`mem_...`), when the provider has memberships.
    pub provider_membership_id: Option<String>,
    pub user_id: UserId,
    pub plan: PlanName,
    pub status: SubscriptionStatus,
    pub period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub grace_until: Option<DateTime<Utc>>,
    /// When access ends unless a newer event says otherwise (`None`: open-ended). The billing job
    /// applies it once it has passed.
    pub access_ends_at: Option<DateTime<Utc>>,
    /// When the end of access was applied (plan dropped or keys revoked); `None` while it lasts.
    pub ended_at: Option<DateTime<Utc>>,
    /// `occurred_at` of the newest event applied; older events are ignored.
    pub last_event_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The subscription an event touches, and what the caller saw of it when it decided the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionGuard {
    pub provider: String,
    pub provider_subscription_id: String,
    /// The event's `occurred_at`: stale when the stored `last_event_at` is newer.
    pub event_at: DateTime<Utc>,
    /// The stored `last_event_at` the write was computed from (`None`: no row yet).
    pub seen_last_event_at: Option<DateTime<Utc>>,
}

/// A link from a provider's customer id to our user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerLink {
    pub provider: String,
    pub customer_id: String,
    pub user_id: UserId,
}

/// A one-time claim token for an issued key (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaimToken {
    pub token_hash: KeyHash,
    pub key_id: KeyId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a claim token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The token was unused and valid: it is now used and the key carries the new hash.
    Claimed {
        user_id: UserId,
        key_id: KeyId,
    },
    AlreadyUsed,
    Expired,
    /// The key was revoked before it was claimed.
    KeyRevoked,
    NotFound,
}

/// An email to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxEmail {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A queued email. The body is cleared once sent (it may hold a claim link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Everything one billing event writes, applied atomically with the inbox status change.
#[derive(Debug, Clone)]
pub struct BillingWrite {
    pub inbox_id: Uuid,
    pub at: DateTime<Utc>,
    /// `Processed`, or `Ignored` with `note` as the reason.
    pub status: InboxStatus,
    pub note: Option<String>,
    /// Checked first: a newer stored event makes this one stale (ignored, no effect); a change
    /// since `seen_last_event_at` makes the write [`ApplyOutcome::Changed`] (nothing written).
    pub guard: Option<SubscriptionGuard>,
    pub create_user: Option<NewUser>,
    pub link_customer: Option<CustomerLink>,
    pub set_plan: Option<(UserId, PlanName)>,
    /// Revoke every usable key of this user at `at`.
    pub revoke_keys_of: Option<UserId>,
    pub new_key: Option<NewApiKey>,
    pub claim: Option<NewClaimToken>,
    /// The subscription's full new state: inserted when the guard saw no row, else updated by
    /// `(provider, provider_subscription_id)`.
    pub subscription: Option<Subscription>,
    pub emails: Vec<NewOutboxEmail>,
}

impl BillingWrite {
    /// A write with no effect that finishes the event with `status` (and an optional note).
    pub fn finish(inbox_id: Uuid, at: DateTime<Utc>, status: InboxStatus, note: Option<String>) -> Self {
        Self {
            inbox_id,
            at,
            status,
            note,
            guard: None,
            create_user: None,
            link_customer: None,
            set_plan: None,
            revoke_keys_of: None,
            new_key: None,
            claim: None,
            subscription: None,
            emails: Vec::new(),
        }
    }
}

/// What deciding one event needs to read (all optional).
#[derive(Debug, Clone, Copy)]
pub struct BillingLookupQuery<'a> {
    pub provider: &'a str,
    /// The subscription the event names.
    pub subscription_id: Option<&'a str>,
    /// The provider's customer id.
    pub customer_id: Option<&'a str>,
    /// The email the event carries.
    pub email: Option<&'a wm_domain::email::Email>,
}

/// The answer to a [`BillingLookupQuery`], read in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingLookup {
    /// The subscription and its owner.
    pub subscription: Option<(Subscription, User)>,
    /// The user linked to the customer id.
    pub customer_user: Option<User>,
    /// The user with the email.
    pub email_user: Option<User>,
}

/// What [`BillingStore::apply_billing_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Effects applied, event finished.
    Applied,
    /// The event was already processed or ignored: nothing written.
    Duplicate,
    /// A newer event was already applied to the subscription: the event is now `ignored`.
    Stale,
    /// The subscription changed since the caller read it: nothing written; recompute and retry.
    Changed,
}

/// The end of a subscription's access, applied by exactly one caller.
#[derive(Debug, Clone)]
pub struct AccessEnd {
    pub subscription_id: Uuid,
    pub status: SubscriptionStatus,
    pub at: DateTime<Utc>,
    pub set_plan: Option<(UserId, PlanName)>,
    pub revoke_keys_of: Option<UserId>,
    pub emails: Vec<NewOutboxEmail>,
}

/// The billing aggregate.
#[async_trait::async_trait]
pub trait BillingStore: Send + Sync {
    /// Insert the event as `received`, or report the existing row for `(provider, event_id)`.
    async fn record_billing_event(&self, event: &NewInboxEvent) -> StoreResult<Recorded>;
    async fn get_billing_event(&self, id: Uuid) -> StoreResult<Option<InboxEvent>>;
    async fn list_billing_events(&self, query: &InboxQuery) -> StoreResult<Vec<InboxEvent>>;
    async fn billing_stats(&self) -> StoreResult<BillingStats>;
    /// Mark a `received`/`failed` event failed (attempts + 1); `false` if it is finished or absent.
    async fn mark_billing_event_failed(&self, id: Uuid, error: &str) -> StoreResult<bool>;
    /// In one transaction: finish the inbox event (if still `received`/`failed`), check the
    /// guard, apply every effect. `Conflict` (e.g. the new user's email was just taken) rolls
    /// everything back.
    async fn apply_billing_event(&self, write: &BillingWrite) -> StoreResult<ApplyOutcome>;

    /// The subscription, the customer's user and the email's user, in one read.
    async fn billing_lookup(&self, query: &BillingLookupQuery<'_>) -> StoreResult<BillingLookup>;
    /// The user a provider customer id is linked to.
    async fn find_user_by_customer(&self, provider: &str, customer_id: &str) -> StoreResult<Option<User>>;
    async fn get_subscription(
        &self,
        provider: &str,
        provider_subscription_id: &str,
    ) -> StoreResult<Option<Subscription>>;
    /// A user's subscriptions, most recently updated first.
    async fn list_user_subscriptions(&self, user: UserId) -> StoreResult<Vec<Subscription>>;
    /// Subscriptions whose access should have ended by `now` and has not, oldest first.
    async fn due_subscriptions(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Subscription>>;
    /// In one transaction: claim the end (only while not ended and due at `end.at`) and apply its
    /// effects. `false` if another caller already ended it or it is no longer due.
    async fn end_subscription_access(&self, end: &AccessEnd) -> StoreResult<bool>;

    /// Insert a key and its claim token together (a new claim link outside any event).
    async fn insert_claimable_key(&self, key: &NewApiKey, claim: &NewClaimToken) -> StoreResult<()>;
    /// Use a claim token once: atomically mark it used and give its key `new_hash`/`new_prefix`.
    async fn claim_key(
        &self,
        token_hash: &KeyHash,
        new_hash: &KeyHash,
        new_prefix: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<ClaimOutcome>;

    /// Claim up to `limit` emails due at `now` (pending, or sending with an expired lease) for
    /// this caller alone until `lease_until`; attempts + 1 each.
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxEmail>>;
    /// Sent: clear the body and record the time.
    async fn outbox_sent(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// Back to pending until `next_attempt_at`, with the error.
    async fn outbox_retry(&self, id: Uuid, next_attempt_at: DateTime<Utc>, error: &str) -> StoreResult<()>;
    /// Given up.
    async fn outbox_failed(&self, id: Uuid, error: &str) -> StoreResult<()>;
    /// The newest emails, any status.
    async fn list_outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEmail>>;
}
