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
