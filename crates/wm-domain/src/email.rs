//! Email addresses: trimmed, lowercased, shape-checked.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// A normalised email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parse and normalise (trim, lowercase). Rejects anything not shaped `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_lowercase();
        let bad = |m: &str| Err(ValidationError::new("email", m));
        if s.is_empty() {
            return bad("must not be empty");
        }
        if s.len() > 254 {
            return bad("must be at most 254 characters");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return bad("must contain '@'");
        };
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return bad("has an invalid local part");
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-') && !l.starts_with('-'));
        if !domain.contains('.') || !labels_ok {
            return bad("has an invalid domain");
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("must not contain whitespace");
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_rejects() {
        assert_eq!(Email::parse("  Bob@Example.COM ").unwrap().as_str(), "bob@example.com");
        for bad in ["", "bob", "@x.com", "bob@", "bob@x", "a b@x.com", "bob@x..com", "a@b@c.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
