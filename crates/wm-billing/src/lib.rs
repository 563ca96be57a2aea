//! Billing provider adapters for WhiteMagic: Stripe, Whop and RevenueCat.
//!
//! Pure building blocks, no HTTP server and no database:
//! - [`signature`]: authenticate a webhook on its raw body bytes ([`verify_stripe`],
//!   [`verify_standard`] for Whop v1, [`verify_whop_legacy`], [`verify_revenuecat`]) and sign
//!   test payloads ([`sign_stripe`], [`sign_standard`]).
//! - [`parse`]: turn a verified payload into one normalised [`BillingEvent`]
//!   ([`parse_stripe`], [`parse_whop`], [`parse_revenuecat`]).
//! - [`PlanMap`]: provider product/price/plan ids → our plan names (configuration).
//! - [`client`]: [`ResilientClient`] for outbound provider API calls (timeouts, capped
//!   exponential backoff with full jitter, `Retry-After`, circuit breaker) and [`WhopApi`].
//!
//! Typical webhook flow: verify → parse → `(provider, event_id)` dedupe in the same transaction
//! as the effects → apply [`BillingEvent::access`] / [`BillingEvent::kind`], skipping events
//! older than the newest one seen for the subscription.

#![warn(missing_docs)]

pub mod client;
mod event;
pub mod parse;
mod plan_map;
pub mod signature;

pub use client::{BreakerState, CircuitBreaker, ClientConfig, ClientError, ResilientClient, WhopApi, WhopMembership};
pub use event::{Access, BillingEvent, Customer, EventKind, ParseError, Provider, UnknownProvider};
pub use parse::{parse_revenuecat, parse_stripe, parse_whop};
pub use plan_map::{PlanMap, PlanMapError};
pub use signature::{
    VerifyError, sign_standard, sign_stripe, sign_whop_legacy, verify_revenuecat, verify_standard, verify_stripe,
    verify_whop_legacy,
};
