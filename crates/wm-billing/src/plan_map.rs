//! Mapping from provider product/price/plan ids to our plan names (configuration).

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::event::{BillingEvent, Provider};

/// Maps `(provider, product_ref)` to a plan name, parsed from
/// `provider:id=plan,provider:id=plan`, e.g.
/// `stripe:price_123=pro,whop:plan_abc=starter,revenuecat:pro_monthly=pro`.
///
/// The provider is everything before the first `:`, the plan everything after the last `=`,
/// so ids may themselves contain `:` (Google Play `product:base-plan`). Whitespace around
/// entries and parts is ignored, as are empty entries (a trailing comma).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanMap {
    entries: BTreeMap<(Provider, String), String>,
}

/// Why a plan map string was rejected. Each variant names the offending entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanMapError {
    /// The entry is not `provider:id=plan` (or one of its parts is empty / has bad characters).
    #[error("malformed plan map entry `{entry}`: {reason}")]
    Malformed {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The provider part is not `stripe`, `whop` or `revenuecat`.
    #[error("unknown provider `{provider}` in plan map entry `{entry}`")]
    UnknownProvider {
        /// The provider as written.
        provider: String,
        /// The entry as written.
        entry: String,
    },
    /// The same `provider:id` is mapped to two different plans.
    #[error("`{key}` is mapped to both `{first}` and `{second}`")]
    Conflict {
        /// `provider:id`.
        key: String,
        /// The plan from the earlier entry.
        first: String,
        /// The plan from the later entry.
        second: String,
    },
}

impl PlanMap {
    /// Parses the `provider:id=plan,...` syntax; an empty string gives an empty map.
    pub fn parse(spec: &str) -> Result<Self, PlanMapError> {
        let mut map = PlanMap::default();
        for raw in spec.split(',') {
            let entry = raw.trim();
            if entry.is_empty() {
                continue;
            }
            let malformed = |reason| PlanMapError::Malformed { entry: entry.to_owned(), reason };
            let (provider, rest) = entry.split_once(':').ok_or_else(|| malformed("expected `provider:id=plan`"))?;
            let (id, plan) = rest.rsplit_once('=').ok_or_else(|| malformed("expected `=plan` after the id"))?;
            let (provider, id, plan) = (provider.trim(), id.trim(), plan.trim());
            if id.is_empty() {
                return Err(malformed("empty id"));
            }
            if plan.is_empty() {
                return Err(malformed("empty plan"));
            }
            if !plan.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(malformed("plan must be ASCII letters, digits, `_` or `-`"));
            }
            let provider: Provider = provider.parse().map_err(|_| PlanMapError::UnknownProvider {
                provider: provider.to_owned(),
                entry: entry.to_owned(),
            })?;
            map.insert(provider, id, plan)?;
        }
        Ok(map)
    }

    /// Adds one mapping; re-adding the same mapping is fine, a different plan is a conflict.
    pub fn insert(&mut self, provider: Provider, id: &str, plan: &str) -> Result<(), PlanMapError> {
        let key = (provider, id.to_owned());
        match self.entries.get(&key) {
            Some(existing) if existing != plan => Err(PlanMapError::Conflict {
                key: format!("{provider}:{id}"),
                first: existing.clone(),
                second: plan.to_owned(),
            }),
            Some(_) => Ok(()),
            None => {
                self.entries.insert(key, plan.to_owned());
                Ok(())
            }
        }
    }

    /// The plan for one provider id (exact, case-sensitive match).
    pub fn lookup(&self, provider: Provider, product_ref: &str) -> Option<&str> {
        self.entries.get(&(provider, product_ref.to_owned())).map(String::as_str)
    }

    /// The plan for an event: the first of its `product_refs` that is mapped.
    pub fn resolve(&self, event: &BillingEvent) -> Option<&str> {
        event.product_refs.iter().find_map(|r| self.lookup(event.provider, r))
    }

    /// Number of mappings.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All mappings as `(provider, id, plan)`, ordered by provider then id.
    pub fn iter(&self) -> impl Iterator<Item = (Provider, &str, &str)> {
        self.entries.iter().map(|((p, id), plan)| (*p, id.as_str(), plan.as_str()))
    }
}

impl FromStr for PlanMap {
    type Err = PlanMapError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlanMap::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_looks_up() {
        let map = PlanMap::parse(
            " stripe:price_123=pro, whop:plan_abc=starter,revenuecat:pro_monthly=pro,\
             revenuecat:com.app.pro:monthly=enterprise,",
        )
        .unwrap();
        assert_eq!(map.len(), 4);
        assert_eq!(map.lookup(Provider::Stripe, "price_123"), Some("pro"));
        assert_eq!(map.lookup(Provider::Whop, "plan_abc"), Some("starter"));
        assert_eq!(map.lookup(Provider::RevenueCat, "pro_monthly"), Some("pro"));
        assert_eq!(map.lookup(Provider::RevenueCat, "com.app.pro:monthly"), Some("enterprise"));
        assert_eq!(map.lookup(Provider::Whop, "price_123"), None);
        assert_eq!(map.lookup(Provider::Stripe, "PRICE_123"), None);
    }

    #[test]
    fn empty_spec_is_empty_map() {
        assert!(PlanMap::parse("").unwrap().is_empty());
        assert!(PlanMap::parse(" , ").unwrap().is_empty());
    }

    #[test]
    fn provider_names_are_case_insensitive() {
        let map: PlanMap = "Stripe:price_1=pro".parse().unwrap();
        assert_eq!(map.lookup(Provider::Stripe, "price_1"), Some("pro"));
    }

    #[test]
    fn malformed_entries() {
        for (spec, reason) in [
            ("price_123=pro", "expected `provider:id=plan`"),
            ("stripe:price_123", "expected `=plan` after the id"),
            ("stripe:=pro", "empty id"),
            ("stripe:price_1=", "empty plan"),
            ("stripe:price_1=pro plan", "plan must be ASCII letters, digits, `_` or `-`"),
        ] {
            assert_eq!(PlanMap::parse(spec), Err(PlanMapError::Malformed { entry: spec.to_owned(), reason }), "{spec}");
        }
    }

    #[test]
    fn unknown_provider() {
        let err = PlanMap::parse("stripe:p=pro,paddle:pri_1=pro").unwrap_err();
        assert_eq!(err, PlanMapError::UnknownProvider { provider: "paddle".into(), entry: "paddle:pri_1=pro".into() });
        assert!(err.to_string().contains("paddle"));
    }

    #[test]
    fn duplicates_must_agree() {
        assert!(PlanMap::parse("stripe:p=pro,stripe:p=pro").is_ok());
        assert_eq!(
            PlanMap::parse("stripe:p=pro,stripe:p=starter"),
            Err(PlanMapError::Conflict { key: "stripe:p".into(), first: "pro".into(), second: "starter".into() })
        );
    }
}
