//! Rate limiting and quota counters for WhiteMagic accounts.
//!
//! Every account has three limits ([`Limits`]): requests per minute (enforced with
//! GCRA, see [`gcra`]), per UTC day and per UTC month (counters keyed by period).
//! One [`Limiter::check`] decides all three at once and consumes all of them or
//! none: a request denied by one limit uses up nothing.
//!
//! Implementations:
//! - [`LocalLimiter`]: in-process, for a single instance (the zero-setup default); an
//!   account's daily and monthly counts start from a [`Seed`] of its recorded usage.
//! - [`RedisLimiter`]: shared by all instances, one atomic Lua script per batch of
//!   concurrent checks (group commit), using the Redis server's clock; an account it has no
//!   month count of (a new month, or Redis lost its data) starts from a [`Seed`] too, and a
//!   new Redis server process is first given every account's recorded usage (see
//!   [`UsageSource`]).
//! - [`FallbackLimiter`]: Redis when it answers, the local limiter when it does not;
//!   never fails a check because of Redis, and reports [`RedisStatus`] for `/health`.
//!
//! [`RateLimitHeaders`] renders a [`Decision`] into the response headers.

mod batch;
mod catch_up;
mod clock;
mod decision;
mod fallback;
pub mod gcra;
mod headers;
mod local;
mod period;
mod redis;

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

pub use catch_up::{CATCHING_UP_KEY, CAUGHT_UP_KEY, UsageSource};
pub use clock::{Clock, ManualClock, SystemClock};
pub use decision::{Decision, Denial, LimitKind, LimitStatus, Limits};
pub use fallback::{FallbackLimiter, FallbackOptions, InProcess, RedisStatus};
pub use headers::{RateLimitHeaders, policy_header, rate_limit_header, write_rate_limit_header};
pub use local::{LocalLimiter, Seed};
pub use redis::{Checked, RedisKeys, RedisLimiter, RedisOptions};

/// Why a limiter could not decide or reset. Checks of [`LocalLimiter`] and
/// [`FallbackLimiter`] never fail; [`RedisLimiter`] fails when Redis does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// The Redis URL could not be parsed (the URL itself is never echoed).
    #[error("invalid Redis URL")]
    InvalidUrl,
    /// Redis answered with an error, or the connection failed.
    #[error("Redis error: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// Redis did not answer within the configured time.
    #[error("Redis did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// Redis is configured but currently unreachable (see [`FallbackLimiter`]).
    #[error("Redis is unavailable")]
    Unavailable,
    /// Another instance is catching the Redis server up with the recorded usage.
    #[error("another instance is giving Redis the recorded usage")]
    CatchingUp,
    /// Every account's recorded usage was needed (to catch Redis up) and could not be read.
    #[error("the recorded usage could not be read")]
    UsageUnavailable,
    /// The rate-limit script answered something this crate does not understand.
    #[error("unexpected reply from the rate-limit script: {0}")]
    UnexpectedReply(String),
}

/// Decides whether an account (identified by its id) may make one more request, and consumes it.
#[async_trait]
pub trait Limiter: Send + Sync {
    /// Checks all of `limits` for `account` and, only if every one of them allows
    /// the request, consumes one unit of each. A denied request consumes nothing.
    ///
    /// The limits are passed on every call (they come from the account's plan), so a
    /// plan change takes effect on the next request.
    async fn check(&self, account: Uuid, limits: &Limits) -> Result<Decision, LimitError>;

    /// Forgets everything recorded for `account` (current minute, day and month),
    /// for tests and admin use.
    async fn reset(&self, account: Uuid) -> Result<(), LimitError>;
}

#[async_trait]
impl<L: Limiter + ?Sized> Limiter for Arc<L> {
    async fn check(&self, account: Uuid, limits: &Limits) -> Result<Decision, LimitError> {
        (**self).check(account, limits).await
    }

    async fn reset(&self, account: Uuid) -> Result<(), LimitError> {
        (**self).reset(account).await
    }
}
