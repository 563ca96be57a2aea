//! Whop REST API (v1) over [`ResilientClient`].

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{BreakerState, ClientError, ResilientClient};
use crate::parse::json::{first_id, first_str, opt_bool, opt_str, opt_time};

/// Production Whop API base URL (paths add `/api/v1/...`).
pub const WHOP_API_BASE_URL: &str = "https://api.whop.com";

/// Whop API client holding the API key. `Debug` output redacts the key, and it is never logged.
#[derive(Clone)]
pub struct WhopApi {
    client: ResilientClient,
    api_key: String,
}

impl fmt::Debug for WhopApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhopApi").field("client", &self.client).field("api_key", &"[redacted]").finish()
    }
}

/// The parts of a Whop membership the billing lifecycle uses, plus the raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhopMembership {
    /// `mem_...`.
    pub id: String,
    /// `trialing`, `active`, `past_due`, `completed`, `canceled`, `expired`, ...
    pub status: Option<String>,
    /// `plan_...` (for plan mapping).
    pub plan_id: Option<String>,
    /// `prod_...`.
    pub product_id: Option<String>,
    /// `user_...`.
    pub user_id: Option<String>,
    /// The user's email when the key may read it.
    pub email: Option<String>,
    /// End of the current billing period.
    pub renewal_period_end: Option<DateTime<Utc>>,
    /// Whether it cancels at the end of the period.
    pub cancel_at_period_end: Option<bool>,
    /// The whole response body.
    pub raw: Value,
}

impl WhopApi {
    /// Wraps a client (its base URL is usually [`WHOP_API_BASE_URL`]) and an API key.
    pub fn new(client: ResilientClient, api_key: impl Into<String>) -> Self {
        WhopApi { client, api_key: api_key.into() }
    }

    /// The underlying client.
    pub fn client(&self) -> &ResilientClient {
        &self.client
    }

    /// Circuit-breaker state of the Whop client.
    pub fn breaker_state(&self) -> BreakerState {
        self.client.breaker_state()
    }

    /// `GET {base}/api/v1/memberships/{id}` with the bearer key.
    pub async fn membership(&self, id: &str) -> Result<WhopMembership, ClientError> {
        let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(ClientError::InvalidRequest("membership id must be ASCII letters, digits, `_` or `-`".into()));
        }
        let raw: Value = self.client.get_json(&format!("/api/v1/memberships/{id}"), Some(&self.api_key)).await?;
        membership_from_json(raw)
    }
}

fn membership_from_json(raw: Value) -> Result<WhopMembership, ClientError> {
    let decode = |e: crate::ParseError| ClientError::Decode(e.to_string());
    let id = opt_str(&raw, "id").ok_or_else(|| ClientError::Decode("missing field `id`".into()))?;
    Ok(WhopMembership {
        id,
        status: opt_str(&raw, "status"),
        plan_id: first_id(&raw, &["plan", "plan_id"]),
        product_id: first_id(&raw, &["product", "product_id"]),
        user_id: first_id(&raw, &["user", "user_id"]),
        email: first_str(&raw, &["user.email", "email"]),
        renewal_period_end: opt_time(&raw, "renewal_period_end").map_err(decode)?,
        cancel_at_period_end: opt_bool(&raw, "cancel_at_period_end").map_err(decode)?,
        raw,
    })
}
