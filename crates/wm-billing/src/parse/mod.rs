//! Provider payload → [`crate::BillingEvent`]. Call only after the signature check passed.
//!
//! Lenient about optional fields, strict about what the lifecycle needs: a missing required
//! field is a [`crate::ParseError::MissingField`] naming its dotted JSON path. Unknown event
//! types are never errors; they become [`crate::EventKind::Other`].

pub(crate) mod json;
mod revenuecat;
mod stripe;
mod whop;

pub use revenuecat::parse_revenuecat;
pub use stripe::parse_stripe;
pub use whop::parse_whop;
