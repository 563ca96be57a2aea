//! Plan names. Plans themselves are data (a table); this only checks the name's shape.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// A plan name: 1–32 chars of `[a-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlanName(String);

impl PlanName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if ok {
            Ok(Self(s))
        } else {
            Err(ValidationError::new("plan", "must be 1-32 characters of a-z, 0-9, '_' or '-'"))
        }
    }

    /// The plan every new account starts on.
    pub fn free() -> Self {
        Self("free".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PlanName {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PlanName> for String {
    fn from(p: PlanName) -> String {
        p.0
    }
}

impl std::fmt::Display for PlanName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Largest value a plan limit may take (stored as a signed 64-bit integer).
pub const MAX_LIMIT: u64 = i64::MAX as u64;

/// A plan: request limits, quotas and feature flags. Plans are data (the `plans` table,
/// seeded with [`Plan::defaults`], editable by admins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub name: PlanName,
    /// Requests per minute (GCRA: also the largest burst).
    pub per_minute: u64,
    /// Requests per UTC day.
    pub daily: u64,
    /// Requests per UTC month.
    pub monthly: u64,
    /// Most memories an account may hold (active and archived).
    pub max_memories: u64,
    /// Most bytes (sum of memories' `size_bytes`) an account may hold.
    pub max_storage_bytes: u64,
    pub features: PlanFeatures,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Plan {
    /// Checks every limit fits the store (≤ [`MAX_LIMIT`]); names the first that does not.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let limits = [
            ("per_minute", self.per_minute),
            ("daily", self.daily),
            ("monthly", self.monthly),
            ("memories", self.max_memories),
            ("storage_bytes", self.max_storage_bytes),
        ];
        match limits.iter().find(|(_, v)| *v > MAX_LIMIT) {
            Some((field, _)) => Err(ValidationError::new(*field, format!("must be at most {MAX_LIMIT}"))),
            None => Ok(()),
        }
    }

    /// The four built-in plans (DESIGN §3), as the migrations seed them.
    pub fn defaults(at: chrono::DateTime<chrono::Utc>) -> Vec<Plan> {
        const MB: u64 = 1024 * 1024;
        let plan = |name: &str, per_minute, daily, monthly, max_memories, max_storage_bytes| Plan {
            name: PlanName(name.into()),
            per_minute,
            daily,
            monthly,
            max_memories,
            max_storage_bytes,
            features: PlanFeatures::standard(),
            updated_at: at,
        };
        vec![
            plan("free", 10, 100, 1_000, 50, 10 * MB),
            plan("starter", 60, 5_000, 100_000, 500, 100 * MB),
            plan("pro", 300, 50_000, 1_000_000, 5_000, 1024 * MB),
            plan("enterprise", 1_000, 1_000_000, 10_000_000, 50_000, 10 * 1024 * MB),
        ]
    }
}

/// Feature flags of a plan: `name → enabled`. A flag that is absent counts as enabled, so
/// a plan only lists what it takes away (e.g. `{"rest_api": false}` for an MCP-only plan).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PlanFeatures(std::collections::BTreeMap<String, bool>);

impl PlanFeatures {
    /// Access through the REST API.
    pub const REST_API: &'static str = "rest_api";
    /// Access through the MCP server.
    pub const MCP: &'static str = "mcp";
    const MAX_FLAGS: usize = 32;

    /// `{"rest_api": true, "mcp": true}`: what the built-in plans have.
    pub fn standard() -> Self {
        Self([(Self::REST_API.to_owned(), true), (Self::MCP.to_owned(), true)].into())
    }

    /// Parses a JSON object of booleans with `[a-z0-9_]{1,64}` names (at most 32).
    pub fn parse(value: &serde_json::Value) -> Result<Self, ValidationError> {
        let bad = |m: &str| ValidationError::new("features", m);
        let obj = value.as_object().ok_or_else(|| bad("must be an object of true/false flags"))?;
        if obj.len() > Self::MAX_FLAGS {
            return Err(bad("at most 32 flags"));
        }
        let mut flags = std::collections::BTreeMap::new();
        for (name, v) in obj {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err(ValidationError::new(format!("features.{name}"), "flag names are 1-64 of a-z, 0-9, '_'"));
            }
            let on =
                v.as_bool().ok_or_else(|| ValidationError::new(format!("features.{name}"), "must be true or false"))?;
            flags.insert(name.clone(), on);
        }
        Ok(Self(flags))
    }

    /// Whether `flag` is on (absent flags are on).
    pub fn allows(&self, flag: &str) -> bool {
        self.0.get(flag).copied().unwrap_or(true)
    }

    /// The flags as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn features_parse_and_default_to_enabled() {
        let f = PlanFeatures::parse(&json!({ "rest_api": false })).unwrap();
        assert!(!f.allows(PlanFeatures::REST_API));
        assert!(f.allows(PlanFeatures::MCP), "absent flags are on");
        assert_eq!(f.to_json(), json!({ "rest_api": false }));
        for bad in [json!([]), json!({ "x": 1 }), json!({ "Bad-Name": true }), json!({ "": true })] {
            assert_eq!(PlanFeatures::parse(&bad).unwrap_err().field.split('.').next(), Some("features"), "{bad}");
        }
    }

    #[test]
    fn defaults_follow_the_design_table_and_validate() {
        let plans = Plan::defaults(chrono::DateTime::UNIX_EPOCH);
        let free = &plans[0];
        assert_eq!((free.per_minute, free.daily, free.monthly, free.max_memories), (10, 100, 1_000, 50));
        assert_eq!(free.max_storage_bytes, 10 * 1024 * 1024);
        assert!(plans.iter().all(|p| p.validate().is_ok()));
        let huge = Plan { daily: u64::MAX, ..free.clone() };
        assert_eq!(huge.validate().unwrap_err().field, "daily");
    }
}
