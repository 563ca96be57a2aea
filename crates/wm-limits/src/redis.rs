//! The Redis limiter: one atomic Lua script per check (`limit.lua`), shared by all
//! instances, on the Redis server's clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

use crate::gcra::Gcra;
use crate::period::Periods;
use crate::{Decision, LimitError, Limiter, Limits};

/// Timeouts of the Redis limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisOptions {
    /// Limit for establishing a connection (default 500 ms).
    pub connect_timeout: Duration,
    /// Limit for one check or reset, end to end (default 250 ms).
    pub call_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_millis(500), call_timeout: Duration::from_millis(250) }
    }
}

/// The keys the limiter uses for one account. The account id is wrapped in `{}`, a
/// Redis Cluster hash tag, so all keys of an account live in one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisKeys {
    /// Per-minute GCRA state: `wm:rl:{account}:m`.
    pub minute: String,
    /// Daily counter: `wm:rl:{account}:d:YYYY-MM-DD`.
    pub day: String,
    /// Monthly counter: `wm:rl:{account}:mo:YYYY-MM`.
    pub month: String,
}

impl RedisKeys {
    /// The keys of `account` at `unix_secs` (UTC).
    pub fn new(account: &str, unix_secs: u64) -> Self {
        let prefix = key_prefix(account);
        let micros = i64::try_from(unix_secs).ok().and_then(|s| s.checked_mul(1_000_000)).unwrap_or(i64::MAX);
        let periods = Periods::at(micros);
        Self {
            minute: format!("{prefix}:m"),
            day: format!("{prefix}:d:{}", periods.day_stamp()),
            month: format!("{prefix}:mo:{}", periods.month_stamp()),
        }
    }
}

/// Largest integer Lua (doubles) represents exactly; larger limits are capped to it
/// (they are unlimited in practice).
const LUA_MAX_INT: u64 = 1 << 53;

fn key_prefix(account: &str) -> String {
    format!("wm:rl:{{{account}}}")
}

/// Limiter shared by every instance through Redis.
///
/// Each check is one `EVALSHA` (the script is loaded automatically) that reads the
/// server time, evaluates all three limits, and writes them only when all allow
/// the request. Connections go through a [`ConnectionManager`], which reconnects
/// after failures. Cheap to clone.
#[derive(Clone)]
pub struct RedisLimiter {
    conn: ConnectionManager,
    script: Arc<Script>,
    options: RedisOptions,
    address: Arc<str>,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("address", &self.address)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Parses a Redis URL without connecting.
pub(crate) fn open_client(url: &str) -> Result<Client, LimitError> {
    Client::open(url).map_err(|_| LimitError::InvalidUrl)
}

/// `host:port` (or socket path) of a client: never the credentials.
pub(crate) fn address_of(client: &Client) -> String {
    client.get_connection_info().addr.to_string()
}

impl RedisLimiter {
    /// Connects to `url` (`redis://[:password@]host:port[/db]`) with default timeouts.
    pub async fn connect(url: &str) -> Result<Self, LimitError> {
        Self::connect_with(url, RedisOptions::default()).await
    }

    /// Connects to `url` with `options`. Fails when the URL is invalid or the server
    /// does not answer within `options.connect_timeout`.
    pub async fn connect_with(url: &str, options: RedisOptions) -> Result<Self, LimitError> {
        Self::connect_client(open_client(url)?, options).await
    }

    pub(crate) async fn connect_client(client: Client, options: RedisOptions) -> Result<Self, LimitError> {
        let address = address_of(&client);
        // No retry loop inside the manager: a failed reconnection surfaces as an error
        // at once, and the next call starts a new attempt.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(options.connect_timeout)
            .set_response_timeout(options.call_timeout)
            .set_number_of_retries(0);
        let conn = tokio::time::timeout(options.connect_timeout, ConnectionManager::new_with_config(client, config))
            .await
            .map_err(|_| LimitError::Timeout(options.connect_timeout))??;
        Ok(Self { conn, script: Arc::new(Script::new(include_str!("limit.lua"))), options, address: address.into() })
    }

    /// The server address (`host:port`), safe to log: never includes credentials.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Sends `PING`; `Ok` when the server answered in time.
    pub async fn ping(&self) -> Result<(), LimitError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("PING");
        self.timed(cmd.query_async::<String>(&mut conn)).await?;
        Ok(())
    }

    async fn timed<T>(&self, call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, LimitError> {
        let limit = self.options.call_timeout;
        Ok(tokio::time::timeout(limit, call).await.map_err(|_| LimitError::Timeout(limit))??)
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn check(&self, account: &str, limits: &Limits) -> Result<Decision, LimitError> {
        let prefix = key_prefix(account);
        let (interval, window) =
            Gcra::per_minute(limits.per_minute).map_or((0, 0), |g| (g.interval_us(), g.window_us()));
        let mut invocation = self.script.key(format!("{prefix}:m"));
        invocation
            .arg("check")
            .arg(&prefix)
            .arg(limits.per_minute.min(LUA_MAX_INT))
            .arg(interval)
            .arg(window)
            .arg(limits.daily.min(LUA_MAX_INT))
            .arg(limits.monthly.min(LUA_MAX_INT));
        let mut conn = self.conn.clone();
        let reply: Vec<i64> = self.timed(invocation.invoke_async(&mut conn)).await?;
        parse_reply(&reply, limits)
    }

    async fn reset(&self, account: &str) -> Result<(), LimitError> {
        let prefix = key_prefix(account);
        let mut invocation = self.script.key(format!("{prefix}:m"));
        invocation.arg("reset").arg(&prefix);
        let mut conn = self.conn.clone();
        let _deleted: i64 = self.timed(invocation.invoke_async(&mut conn)).await?;
        Ok(())
    }
}

fn parse_reply(reply: &[i64], limits: &Limits) -> Result<Decision, LimitError> {
    let &[allowed, now, m_left, m_reset, d_left, d_reset, mo_left, mo_reset] = reply else {
        return Err(LimitError::UnexpectedReply(format!("{} values", reply.len())));
    };
    let count = |v: i64| u64::try_from(v).map_err(|_| LimitError::UnexpectedReply(format!("negative count {v}")));
    Ok(Decision::from_parts(
        now,
        limits,
        allowed == 1,
        [(count(m_left)?, m_reset), (count(d_left)?, d_reset), (count(mo_left)?, mo_reset)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_account_as_a_hash_tag_and_the_utc_period() {
        // 2026-11-23T12:00:00Z
        let keys = RedisKeys::new("acct-1", 1_795_435_200);
        assert_eq!(keys.minute, "wm:rl:{acct-1}:m");
        assert_eq!(keys.day, "wm:rl:{acct-1}:d:2026-11-23");
        assert_eq!(keys.month, "wm:rl:{acct-1}:mo:2026-11");
        assert!(RedisKeys::new("a", u64::MAX).day.ends_with("9999-12-31"));
    }

    #[test]
    fn the_logged_address_has_no_credentials() {
        let client = open_client("redis://user:hunter2@cache.internal:6380/2").unwrap();
        assert_eq!(address_of(&client), "cache.internal:6380");
    }
}
