//! Usage metering vocabulary: which part of the API a request used, and how it ended.

use crate::ValidationError;

/// The part of the API a metered request belongs to (usage is counted per group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointGroup {
    /// Memory CRUD (`/memories...`).
    Memories,
    /// Full-text search (`/search`).
    Search,
    /// Context packages (`/context`).
    Context,
    /// Consolidation runs and their log.
    Consolidate,
    /// Tag and memory statistics.
    Stats,
    /// Export and import.
    Io,
    /// The caller's own account and usage.
    Account,
    /// API key management.
    Keys,
    /// Operator routes.
    Admin,
    /// MCP tool calls that fit no other group.
    Mcp,
    /// Anything else.
    Other,
}

impl EndpointGroup {
    /// Every group.
    pub const ALL: [EndpointGroup; 11] = [
        Self::Memories,
        Self::Search,
        Self::Context,
        Self::Consolidate,
        Self::Stats,
        Self::Io,
        Self::Account,
        Self::Keys,
        Self::Admin,
        Self::Mcp,
        Self::Other,
    ];

    /// The stored and displayed name (`memories`, `search`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memories => "memories",
            Self::Search => "search",
            Self::Context => "context",
            Self::Consolidate => "consolidate",
            Self::Stats => "stats",
            Self::Io => "io",
            Self::Account => "account",
            Self::Keys => "keys",
            Self::Admin => "admin",
            Self::Mcp => "mcp",
            Self::Other => "other",
        }
    }

    /// The group named `name`.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == name)
            .ok_or_else(|| ValidationError::new("group", format!("unknown endpoint group '{name}'")))
    }
}

impl std::fmt::Display for EndpointGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a response status: 1 for `1xx` ... 5 for `5xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusClass(u8);

impl StatusClass {
    /// The class of an HTTP status code (codes outside 100-599 count as `5xx`).
    pub fn of(status: u16) -> Self {
        match status {
            100..=599 => Self((status / 100) as u8),
            _ => Self(5),
        }
    }

    /// The class from its digit (1-5).
    pub fn from_digit(digit: u8) -> Result<Self, ValidationError> {
        if (1..=5).contains(&digit) {
            Ok(Self(digit))
        } else {
            Err(ValidationError::new("status_class", "must be 1-5"))
        }
    }

    /// 1-5.
    pub fn digit(self) -> u8 {
        self.0
    }

    /// `1xx` ... `5xx`.
    pub fn as_str(self) -> &'static str {
        ["1xx", "2xx", "3xx", "4xx", "5xx"][usize::from(self.0.clamp(1, 5) - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_round_trip_and_classes_bucket() {
        for g in EndpointGroup::ALL {
            assert_eq!(EndpointGroup::parse(g.as_str()).unwrap(), g);
        }
        assert!(EndpointGroup::parse("nope").is_err());
        assert_eq!(StatusClass::of(200).as_str(), "2xx");
        assert_eq!(StatusClass::of(429).as_str(), "4xx");
        assert_eq!(StatusClass::of(999).as_str(), "5xx");
        assert!(StatusClass::from_digit(0).is_err());
    }
}
