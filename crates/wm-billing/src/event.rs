//! The normalised billing event every provider payload is parsed into.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A billing provider we accept webhooks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Stripe (Checkout + Billing).
    Stripe,
    /// Whop (v1 webhooks, Standard Webhooks signatures).
    Whop,
    /// RevenueCat (mobile in-app purchases).
    #[serde(rename = "revenuecat")]
    RevenueCat,
}

impl Provider {
    /// All providers, in a stable order.
    pub const ALL: [Provider; 3] = [Provider::Stripe, Provider::Whop, Provider::RevenueCat];

    /// Lower-case name used in configuration, storage and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Whop => "whop",
            Provider::RevenueCat => "revenuecat",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not a known provider name (`stripe`, `whop`, `revenuecat`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown billing provider `{0}` (expected stripe, whop or revenuecat)")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}

/// What happened, in provider-neutral terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// New paid access: checkout completed, subscription created, membership activated.
    Purchase,
    /// A billing period renewed (recurring payment collected).
    Renewal,
    /// The product/price/plan changed (upgrade or downgrade).
    PlanChange,
    /// A subscription state sync with no more specific meaning (e.g. Stripe
    /// `customer.subscription.updated` for a status change): apply `access`, refs and period.
    SubscriptionUpdated,
    /// A payment succeeded (not identified as a renewal).
    PaymentSucceeded,
    /// A payment failed: start or continue the grace period.
    PaymentFailed,
    /// Cancellation requested; access continues until `period_end`.
    CancellationScheduled,
    /// A scheduled cancellation was withdrawn.
    Uncancelled,
    /// Access ended now (subscription deleted/deactivated/expired).
    AccessEnded,
    /// Anything else: the caller records it as ignored.
    Other,
}

impl EventKind {
    /// snake_case name for logs and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Purchase => "purchase",
            EventKind::Renewal => "renewal",
            EventKind::PlanChange => "plan_change",
            EventKind::SubscriptionUpdated => "subscription_updated",
            EventKind::PaymentSucceeded => "payment_succeeded",
            EventKind::PaymentFailed => "payment_failed",
            EventKind::CancellationScheduled => "cancellation_scheduled",
            EventKind::Uncancelled => "uncancelled",
            EventKind::AccessEnded => "access_ended",
            EventKind::Other => "other",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the event means for the customer's paid access after it is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Paid access (to the plan mapped from `product_refs`, or the current one) is on; clears
    /// any grace period. A scheduled cancellation still grants until `period_end`.
    Grant,
    /// Payment trouble: keep access during the configured grace period.
    Grace,
    /// Access ends now (then the account drops to `free`, or keys are revoked, by configuration).
    Revoke,
    /// No change to access (informational or ignored events).
    Unchanged,
}

/// Who the event is about, as the provider identifies them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Stripe `cus_...`, Whop `user_...`, RevenueCat `app_user_id`.
    pub provider_customer_id: Option<String>,
    /// Email when the payload carries one.
    pub email: Option<String>,
}

/// One provider webhook, verified and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingEvent {
    /// Which provider sent it.
    pub provider: Provider,
    /// Provider event id, unique per provider: the idempotency key `(provider, event_id)`.
    pub event_id: String,
    /// The provider's raw event type, e.g. `customer.subscription.updated`, `RENEWAL`.
    pub event_type: String,
    /// When the provider says the event happened; use it to drop out-of-order events.
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
    /// What it means for access.
    pub access: Access,
    /// Who it is about.
    pub customer: Customer,
    /// The provider's subscription/membership id (Stripe `sub_...`, Whop `mem_...`, RevenueCat
    /// `original_transaction_id`).
    pub subscription_ref: Option<String>,
    /// Ids to map to a plan, most specific first (Stripe price then product; Whop plan then
    /// product; RevenueCat product then entitlement ids). See [`crate::PlanMap::resolve`].
    pub product_refs: Vec<String>,
    /// End of the current paid period (access continues until then when cancelling).
    pub period_end: Option<DateTime<Utc>>,
    /// Whether the subscription is set to cancel at `period_end`, when the payload says.
    pub cancel_at_period_end: Option<bool>,
    /// The provider's raw subscription/payment status, when present (e.g. `past_due`).
    pub status: Option<String>,
    /// Our own user id when the provider echoes it back (Stripe Checkout `client_reference_id`).
    pub client_reference_id: Option<String>,
    /// `Some(false)` for test/sandbox events, `Some(true)` for live ones, `None` if unknown.
    pub livemode: Option<bool>,
}

impl BillingEvent {
    /// The most specific product reference, if any.
    pub fn product_ref(&self) -> Option<&str> {
        self.product_refs.first().map(String::as_str)
    }

    /// True for events the caller should record as ignored.
    pub fn is_ignored(&self) -> bool {
        self.kind == EventKind::Other
    }
}

/// A verified payload could not be normalised. Names the offending field (dotted JSON path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON (or not a JSON object).
    #[error("payload is not a JSON object: {0}")]
    InvalidJson(String),
    /// A field we need is absent, null or empty.
    #[error("missing required field `{0}`")]
    MissingField(String),
    /// A field is present with the wrong type or an unparsable value.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// Dotted JSON path.
        field: String,
        /// What was wrong.
        reason: &'static str,
    },
}
