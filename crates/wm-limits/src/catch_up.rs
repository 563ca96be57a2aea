//! Catching a Redis server up with every account's recorded usage, once per server process.
//!
//! Seeds ([`Checked::NeedsSeed`](crate::Checked)) cover the accounts Redis has no month count
//! of. A Redis restored from an older snapshot (RDB), or failed over to a replica that lagged,
//! has counts for them, only lower ones, and a per-account check cannot tell. The server's
//! `run_id` can: Redis draws a new one at every start of the process. After catching a server
//! up, a limiter writes its run_id to [`CAUGHT_UP_KEY`]. A server whose run_id is not in that
//! key (a new server, a restarted one, one restored from a snapshot in which the key holds an
//! older run_id, a promoted replica) has not been given all the recorded usage: every
//! account's counts are raised to it (seeds never lower a count) before the server is used.
//!
//! One instance at a time does it: it holds [`CATCHING_UP_KEY`] meanwhile (expiring, in case it
//! dies), and the others wait for the mark (their fallback limiters keep deciding in process)
//! instead of each reading every account's usage from the database at the same moment.

use async_trait::async_trait;
use uuid::Uuid;

use crate::{LimitError, RedisLimiter, Seed};

/// The run_id of the last Redis server process given every account's recorded usage.
pub const CAUGHT_UP_KEY: &str = "wm:rl:caught-up";

/// Held by the instance catching a server up (a token of its own), for at most
/// [`CATCHING_UP_FOR_MS`].
pub const CATCHING_UP_KEY: &str = "wm:rl:catching-up";

/// Deletes [`CATCHING_UP_KEY`] only while it still holds the caller's token: a catch-up that
/// ran past the expiry must not release the lock another instance has taken since.
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/// How long [`CATCHING_UP_KEY`] is held at most: past it another instance may start over.
const CATCHING_UP_FOR_MS: u64 = 60_000;

/// Accounts per script call while catching up.
const CHUNK: usize = 500;

/// Where a limiter reads every account's recorded usage (see the module docs).
#[async_trait]
pub trait UsageSource: Send + Sync {
    /// A seed for every account with recorded usage this month (UTC): today's and this month's
    /// counts. `None` when the usage cannot be read (the source logs why).
    async fn all_seeds(&self) -> Option<Vec<(Uuid, Seed)>>;
}

impl RedisLimiter {
    /// The server process's `run_id` (from `INFO server`); `None` when the server refuses
    /// `INFO` (an ACL, a proxy) or does not report it: such a server is never caught up.
    pub async fn run_id(&self) -> Result<Option<String>, LimitError> {
        let mut conn = self.inner.conn.clone();
        let mut info = redis::cmd("INFO");
        info.arg("server");
        match self.inner.timed(info.query_async::<String>(&mut conn)).await {
            Ok(info) => Ok(info.lines().find_map(|l| l.strip_prefix("run_id:")).map(|id| id.trim().to_owned())),
            Err(LimitError::Redis(e)) if e.code().is_some() => {
                tracing::warn!(redis.addr = %self.address(), error = %e, "Redis refuses INFO: it is not caught up with the recorded usage after a restart");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Gives the server every account's recorded usage from `source` unless it has had it
    /// (see the module docs). The number of accounts seeded, `None` when nothing was due;
    /// [`LimitError::CatchingUp`] while another instance is doing it.
    pub async fn catch_up(&self, source: &dyn UsageSource) -> Result<Option<usize>, LimitError> {
        let Some(run_id) = self.run_id().await? else {
            return Ok(None);
        };
        let mut conn = self.inner.conn.clone();
        let mut caught_up = redis::cmd("GET");
        caught_up.arg(CAUGHT_UP_KEY);
        if self.inner.timed(caught_up.query_async::<Option<String>>(&mut conn)).await?.as_deref()
            == Some(run_id.as_str())
        {
            return Ok(None);
        }
        let token = Uuid::new_v4().to_string();
        let mut take = redis::cmd("SET");
        take.arg(CATCHING_UP_KEY).arg(&token).arg("NX").arg("PX").arg(CATCHING_UP_FOR_MS);
        if self.inner.timed(take.query_async::<Option<String>>(&mut conn)).await?.is_none() {
            return Err(LimitError::CatchingUp);
        }
        let seeded = self.seed_all(source, &run_id).await;
        let release = redis::Script::new(RELEASE);
        let mut release = release.key(CATCHING_UP_KEY);
        release.arg(&token);
        let released = self.inner.timed(release.invoke_async::<i64>(&mut conn)).await;
        let seeded = seeded?;
        released?;
        Ok(Some(seeded))
    }

    /// Seeds every account of `source`, then marks the server `run_id` as caught up.
    async fn seed_all(&self, source: &dyn UsageSource, run_id: &str) -> Result<usize, LimitError> {
        let seeds = source.all_seeds().await.ok_or(LimitError::UsageUnavailable)?;
        for chunk in seeds.chunks(CHUNK) {
            self.seed_accounts(chunk).await?;
        }
        let mut mark = redis::cmd("SET");
        mark.arg(CAUGHT_UP_KEY).arg(run_id);
        let mut conn = self.inner.conn.clone();
        self.inner.timed(mark.query_async::<()>(&mut conn)).await?;
        Ok(seeds.len())
    }

    /// Raises each account's daily and monthly counts to at least its seed, in one script call.
    async fn seed_accounts(&self, seeds: &[(Uuid, Seed)]) -> Result<(), LimitError> {
        let mut invocation = self.inner.script.arg("seed");
        for (account, seed) in seeds {
            let prefix = crate::redis::key_prefix(*account);
            invocation
                .key(format!("{prefix}:m"))
                .arg(prefix)
                .arg(seed.stamp())
                .arg(seed.day_count)
                .arg(seed.month_count);
        }
        let mut conn = self.inner.conn.clone();
        let _seeded: i64 = self.inner.timed(invocation.invoke_async(&mut conn)).await?;
        Ok(())
    }
}
