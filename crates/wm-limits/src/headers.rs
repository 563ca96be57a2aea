//! Response headers for a [`Decision`]: the de-facto `X-RateLimit-*` trio, the IETF
//! `RateLimit-Policy` / `RateLimit` pair (draft-ietf-httpapi-ratelimit-headers-11:
//! Structured Field Lists of String items with `q`/`w` and `r`/`t` parameters), and
//! `Retry-After` on denial.

use crate::{Decision, LimitKind};

/// Largest Integer a Structured Field may carry (RFC 9651, 15 digits).
const SF_INTEGER_MAX: u64 = 999_999_999_999_999;

/// The header values for one decision, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `X-RateLimit-Limit`: the [tightest](Decision::tightest) limit's value.
    pub limit: u64,
    /// `X-RateLimit-Remaining`: requests left under the tightest limit.
    pub remaining: u64,
    /// `X-RateLimit-Reset`: Unix seconds when the tightest limit restores quota.
    pub reset: u64,
    /// `RateLimit-Policy`, e.g. `"per_minute";q=60;w=60, "daily";q=5000;w=86400, ...`.
    pub policy: String,
    /// `RateLimit`, e.g. `"per_minute";r=59;t=1, "daily";r=4999;t=36000, ...`.
    pub rate_limit: String,
    /// `Retry-After` (whole seconds, ≥ 1) when the request was denied.
    pub retry_after: Option<u64>,
}

impl RateLimitHeaders {
    /// Renders every header of `decision`.
    pub fn new(decision: &Decision) -> Self {
        let tightest = decision.tightest();
        Self {
            limit: tightest.limit,
            remaining: tightest.remaining,
            reset: tightest.reset_at,
            policy: policy_header(decision),
            rate_limit: rate_limit_header(decision),
            retry_after: decision.denial.map(|d| d.retry_after),
        }
    }

    /// `(name, value)` pairs to write, names in lowercase (as `http::HeaderName`
    /// requires); `retry-after` only on denial.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset.to_string()),
            ("ratelimit-policy", self.policy.clone()),
            ("ratelimit", self.rate_limit.clone()),
        ];
        if let Some(seconds) = self.retry_after {
            pairs.push(("retry-after", seconds.to_string()));
        }
        pairs
    }
}

/// The `RateLimit-Policy` value: one quota policy per limit, named after
/// [`LimitKind::as_str`], with quota `q` and nominal window `w` in seconds.
pub fn policy_header(decision: &Decision) -> String {
    let mut out = Vec::with_capacity(96);
    render(
        decision,
        |b| out.extend_from_slice(b),
        |put, status| {
            param(put, b";q=", sf_integer(status.limit));
            param(put, b";w=", status.kind.window().as_secs());
        },
    );
    into_string(out)
}

/// The `RateLimit` value: per policy, the remaining quota `r` and the seconds `t`
/// (rounded up) until more quota becomes available.
pub fn rate_limit_header(decision: &Decision) -> String {
    let mut out = Vec::with_capacity(96);
    write_rate_limit_header(decision, |b| out.extend_from_slice(b));
    into_string(out)
}

/// Writes the [`rate_limit_header`] value piece by piece to `put` (for callers that render
/// several header values into one buffer of their own).
pub fn write_rate_limit_header(decision: &Decision, put: impl FnMut(&[u8])) {
    render(decision, put, |put, status| {
        param(put, b";r=", sf_integer(status.remaining));
        param(put, b";t=", sf_integer(status.reset_after_secs()));
    });
}

fn render<P: FnMut(&[u8])>(decision: &Decision, mut put: P, params: impl Fn(&mut P, &crate::LimitStatus)) {
    for (i, kind) in LimitKind::ALL.into_iter().enumerate() {
        // Policy names are fixed ASCII tokens: no escaping needed inside the quotes.
        put(if i > 0 { b", \"" } else { b"\"" });
        put(kind.as_str().as_bytes());
        put(b"\"");
        params(&mut put, decision.status(kind));
    }
}

// One copy of the number formatting per renderer, not one per parameter: the request path is
// bound by instruction-cache misses more than by instructions (docs/PERFORMANCE.md).
#[inline(never)]
fn param(put: &mut impl FnMut(&[u8]), name: &[u8], value: u64) {
    put(name);
    put(itoa::Buffer::new().format(value).as_bytes());
}

fn into_string(bytes: Vec<u8>) -> String {
    // Only ASCII is written above.
    String::from_utf8(bytes).unwrap_or_default()
}

fn sf_integer(value: u64) -> u64 {
    value.min(SF_INTEGER_MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Denial, LimitStatus};

    fn status(kind: LimitKind, limit: u64, remaining: u64, reset_after: Duration) -> LimitStatus {
        LimitStatus { kind, limit, remaining, reset_after, reset_at: 1_700_000_000 + reset_after.as_secs() + 1 }
    }

    fn starter(remaining: [u64; 3], denial: Option<Denial>) -> Decision {
        Decision {
            statuses: [
                status(LimitKind::PerMinute, 60, remaining[0], Duration::from_millis(400)),
                status(LimitKind::Daily, 5000, remaining[1], Duration::from_secs(36_000)),
                status(LimitKind::Monthly, 100_000, remaining[2], Duration::from_secs(600_000)),
            ],
            denial,
        }
    }

    #[test]
    fn renders_the_ietf_pair() {
        let d = starter([59, 4999, 99_999], None);
        assert_eq!(
            policy_header(&d),
            r#""per_minute";q=60;w=60, "daily";q=5000;w=86400, "monthly";q=100000;w=2592000"#
        );
        assert_eq!(
            rate_limit_header(&d),
            r#""per_minute";r=59;t=1, "daily";r=4999;t=36000, "monthly";r=99999;t=600000"#
        );
    }

    #[test]
    fn x_headers_follow_the_tightest_limit() {
        let h = RateLimitHeaders::new(&starter([59, 4999, 99_999], None));
        assert_eq!((h.limit, h.remaining, h.reset), (60, 59, 1_700_000_001));
        assert_eq!(h.retry_after, None);
        assert_eq!(h.pairs().len(), 5);

        let h = RateLimitHeaders::new(&starter([59, 3, 99_999], None));
        assert_eq!((h.limit, h.remaining, h.reset), (5000, 3, 1_700_036_001));
    }

    #[test]
    fn denial_adds_retry_after_and_shows_the_denying_limit() {
        let denial = Denial { limit: LimitKind::Daily, retry_after: 36_000 };
        let h = RateLimitHeaders::new(&starter([0, 0, 99_999], Some(denial)));
        assert_eq!((h.limit, h.remaining), (5000, 0));
        let pairs = h.pairs();
        assert_eq!(pairs.last().unwrap(), &("retry-after", "36000".to_owned()));
        assert!(pairs.iter().all(|(name, _)| *name == name.to_ascii_lowercase()));
    }

    #[test]
    fn huge_values_stay_valid_structured_field_integers() {
        let mut d = starter([59, 4999, 99_999], None);
        d.statuses[2].limit = u64::MAX;
        assert!(policy_header(&d).ends_with(r#""monthly";q=999999999999999;w=2592000"#));
    }
}
