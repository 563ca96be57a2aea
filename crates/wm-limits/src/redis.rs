//! The Redis limiter: checks grouped into atomic Lua script calls (`limit.lua`),
//! shared by all instances, on the Redis server's clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::batch::{Detached, Entry, Queue, Request, Turn, copy_error, group};
use crate::gcra::{Gcra, TatState};
use crate::local::{self, Usage};
use crate::period::Periods;
use crate::{Decision, LimitError, Limiter, Limits, Seed};

/// What [`RedisLimiter::check_seeded`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Decided (and counted, when allowed) in Redis.
    Decided(Decision),
    /// Redis has no count of the account for this month (a new month, or Redis lost its data):
    /// read the account's recorded usage and check again with it as the seed. Nothing was
    /// counted.
    NeedsSeed,
}

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
    pub fn new(account: Uuid, unix_secs: u64) -> Self {
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

pub(crate) fn key_prefix(account: Uuid) -> String {
    format!("wm:rl:{{{account}}}")
}

/// Limiter shared by every instance through Redis.
///
/// Checks are sent by *group commit*: a check arriving while no call is in flight
/// yields once to the scheduler (other checks ready to run join it) and is sent as
/// one `EVALSHA` (the script is loaded automatically); checks
/// arriving while one is in flight wait for it, then go out together as the next
/// call (at most 256 per call), with concurrent checks of one account (and limits)
/// sent as one entry with a count. The script reads the server time once, decides
/// every entry atomically exactly as that many sequential checks would, writes the
/// limits only for the requests admitted, and returns the state each entry started
/// from; each check's own [`Decision`] is then derived from it with the same code
/// as [`LocalLimiter`](crate::LocalLimiter). When a call fails, every check in it
/// gets the error.
///
/// An account's counts in Redis start from its recorded usage: when Redis has no month
/// counter for it (a new month, or a Redis that restarted without persistence, was flushed
/// or failed over to an empty replica), [`check_seeded`](Self::check_seeded) asks for a
/// [`Seed`] instead of deciding from zero, so losing Redis's data hands out no new day's or
/// month's allowance. [`Limiter::check`] counts such an account from zero.
///
/// A check waits at most [`RedisOptions::call_timeout`] in all (queue included).
/// Connections go through a [`ConnectionManager`], which reconnects after failures.
/// Cheap to clone: clones share the connection and the queue.
#[derive(Clone)]
pub struct RedisLimiter {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) conn: ConnectionManager,
    pub(crate) script: Script,
    options: RedisOptions,
    address: String,
    queue: Arc<Queue>,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("address", &self.inner.address)
            .field("options", &self.inner.options)
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
        let script = Script::new(include_str!("limit.lua"));
        Ok(Self { inner: Arc::new(Inner { conn, script, options, address, queue: Arc::default() }) })
    }

    /// The server address (`host:port`), safe to log: never includes credentials.
    pub fn address(&self) -> &str {
        &self.inner.address
    }

    /// Sends `PING`; `Ok` when the server answered in time.
    pub async fn ping(&self) -> Result<(), LimitError> {
        let mut conn = self.inner.conn.clone();
        let cmd = redis::cmd("PING");
        self.inner.timed(cmd.query_async::<String>(&mut conn)).await?;
        Ok(())
    }
}

impl Inner {
    pub(crate) async fn timed<T>(&self, call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, LimitError> {
        let limit = self.options.call_timeout;
        Ok(tokio::time::timeout(limit, call).await.map_err(|_| LimitError::Timeout(limit))??)
    }

    /// Sends `first` (the batch of the check that took the `turn`), then hands the
    /// turn to a spawned driver if checks queued meanwhile: this check's caller is
    /// answered without waiting for theirs.
    async fn lead(self: Arc<Self>, mut first: Vec<Request>, turn: Turn) {
        // Let the other tasks that are ready to run (requests already read from their
        // sockets) queue their checks first: under load they go out in this call instead
        // of the next one. With nothing else to run this costs one poll, no waiting.
        tokio::task::yield_now().await;
        self.queue.gather(&mut first);
        self.send(first).await;
        let Some(next) = self.queue.next() else {
            return turn.done();
        };
        let driver = Arc::clone(&self).drive(next, turn);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(driver)),
            Err(_) => driver.await,
        }
    }

    /// Sends `batch`, then every batch queued after it, until the queue is empty.
    async fn drive(self: Arc<Self>, mut batch: Vec<Request>, turn: Turn) {
        loop {
            self.send(batch).await;
            tokio::task::yield_now().await;
            match self.queue.next() {
                Some(next) => batch = next,
                None => return turn.done(),
            }
        }
    }

    /// One script call for `batch`; answers every check in it.
    async fn send(&self, batch: Vec<Request>) {
        let entries = group(batch);
        match self.call(&entries).await.and_then(|reply| Replay::new(&entries, &reply)) {
            Ok(replay) => {
                for (entry, mut usage) in entries.into_iter().zip(replay.starts) {
                    for reply in entry.replies {
                        let checked = match &mut usage {
                            Some(usage) => {
                                Checked::Decided(local::decide(usage, &entry.limits, replay.now, &replay.periods))
                            }
                            None => Checked::NeedsSeed,
                        };
                        // The caller may have given up meanwhile.
                        let _ = reply.send(Ok(checked));
                    }
                }
            }
            Err(error) => {
                let mut replies = entries.into_iter().flat_map(|e| e.replies);
                let first = replies.next();
                for reply in replies {
                    let _ = reply.send(Err(copy_error(&error)));
                }
                if let Some(reply) = first {
                    let _ = reply.send(Err(error));
                }
            }
        }
    }

    async fn call(&self, entries: &[Entry]) -> Result<Vec<i64>, LimitError> {
        let mut invocation = self.script.arg("check");
        for entry in entries {
            let limits = &entry.limits;
            let prefix = key_prefix(entry.account);
            let (interval, window) =
                Gcra::per_minute(limits.per_minute).map_or((0, 0), |g| (g.interval_us(), g.window_us()));
            invocation
                .key(format!("{prefix}:m"))
                .arg(prefix)
                .arg(entry.replies.len())
                .arg(limits.per_minute.min(LUA_MAX_INT))
                .arg(interval)
                .arg(window)
                .arg(limits.daily.min(LUA_MAX_INT))
                .arg(limits.monthly.min(LUA_MAX_INT));
            match entry.seed {
                Some(seed) => invocation.arg(seed.stamp()).arg(seed.day_count).arg(seed.month_count),
                None => invocation.arg("").arg(0).arg(0),
            };
        }
        let mut conn = self.conn.clone();
        self.timed(invocation.invoke_async(&mut conn)).await
    }
}

impl RedisLimiter {
    /// Checks all of `limits` for `account`, as [`Limiter::check`], or answers
    /// [`Checked::NeedsSeed`] (nothing counted) when Redis has no count of the account for
    /// this month and no `seed` is given. A `seed` (the account's recorded usage) first raises
    /// the account's daily and monthly counts to at least its own, for the parts of it in
    /// the current day and month (never lowering them).
    pub async fn check_seeded(
        &self,
        account: Uuid,
        limits: &Limits,
        seed: Option<Seed>,
    ) -> Result<Checked, LimitError> {
        let (reply, answer) = oneshot::channel();
        let request = Request { account, limits: *limits, seed, reply };
        let lead = self.inner.queue.push(request).map(|batch| {
            let turn = Turn::new(Arc::clone(&self.inner.queue));
            Detached::new(Arc::clone(&self.inner).lead(batch, turn))
        });
        let limit = self.inner.options.call_timeout;
        let check = async move {
            if let Some(lead) = lead {
                lead.await;
            }
            // Dropped unanswered only when the call's task was torn down.
            answer.await.unwrap_or(Err(LimitError::Unavailable))
        };
        tokio::time::timeout(limit, check).await.unwrap_or(Err(LimitError::Timeout(limit)))
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    /// An account Redis has no count of for this month is counted from zero.
    async fn check(&self, account: Uuid, limits: &Limits) -> Result<Decision, LimitError> {
        match self.check_seeded(account, limits, Some(Seed::EMPTY)).await? {
            Checked::Decided(decision) => Ok(decision),
            Checked::NeedsSeed => Err(LimitError::UnexpectedReply("unseeded despite a seed".into())),
        }
    }

    async fn reset(&self, account: Uuid) -> Result<(), LimitError> {
        let prefix = key_prefix(account);
        let mut invocation = self.inner.script.key(format!("{prefix}:m"));
        invocation.arg("reset").arg(&prefix);
        let mut conn = self.inner.conn.clone();
        let _deleted: i64 = self.inner.timed(invocation.invoke_async(&mut conn)).await?;
        Ok(())
    }
}

/// What the script's reply says: `now`, then per entry the state it started from
/// and the count it admitted (see `limit.lua`). The requests of an entry get their
/// decisions by replaying them one by one from that state with [`local::decide`],
/// the in-process limiter's code, which must admit the same count as the script.
struct Replay {
    now: i64,
    periods: Periods,
    /// The state each entry started from; `None` when it needs a seed.
    starts: Vec<Option<Usage>>,
}

impl Replay {
    fn new(entries: &[Entry], reply: &[i64]) -> Result<Replay, LimitError> {
        let unexpected = |what: String| LimitError::UnexpectedReply(what);
        let Some((&now, states)) = reply.split_first() else {
            return Err(unexpected("empty reply".into()));
        };
        if states.len() != entries.len() * 4 {
            return Err(unexpected(format!("{} values for {} entries", reply.len(), entries.len())));
        }
        let count = |v: i64| u64::try_from(v).map_err(|_| unexpected(format!("negative count {v}")));
        let periods = Periods::at(now);
        let mut starts = Vec::with_capacity(entries.len());
        for (entry, state) in entries.iter().zip(states.chunks_exact(4)) {
            let [tat, day_count, month_count, admitted] =
                <[i64; 4]>::try_from(state).map_err(|_| unexpected("short entry".into()))?;
            if admitted == -1 && entry.seed.is_none() {
                starts.push(None);
                continue;
            }
            // A TAT after `now` was computed with this entry's interval.
            let interval_us = Gcra::per_minute(entry.limits.per_minute).map_or(0, |g| g.interval_us());
            let start = Usage {
                tat: (tat > now).then_some(TatState { tat_us: tat, interval_us }),
                day_count: count(day_count)?,
                month_count: count(month_count)?,
            };
            // Requests at one instant are admitted up to the first refusal (which
            // changes nothing, so every later one is refused too).
            let mut usage = start;
            let allowed = entry
                .replies
                .iter()
                .take_while(|_| local::decide(&mut usage, &entry.limits, now, &periods).is_allowed())
                .count();
            if u64::try_from(allowed).ok() != Some(count(admitted)?) {
                let requests = entry.replies.len();
                return Err(unexpected(format!(
                    "the script admitted {admitted} of {requests}, replaying gives {allowed}"
                )));
            }
            starts.push(Some(start));
        }
        Ok(Replay { now, periods, starts })
    }

    /// Every decision, per entry (for tests).
    #[cfg(test)]
    fn decisions(&self, entries: &[Entry]) -> Vec<Vec<Decision>> {
        entries
            .iter()
            .zip(&self.starts)
            .map(|(entry, &start)| {
                let mut usage = start.expect("seeded");
                entry
                    .replies
                    .iter()
                    .map(|_| local::decide(&mut usage, &entry.limits, self.now, &self.periods))
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LimitKind;

    #[test]
    fn keys_carry_the_account_as_a_hash_tag_and_the_utc_period() {
        // 2026-11-23T12:00:00Z
        let account = Uuid::from_u128(0x0196_a2b3_c4d5_7e6f_8a9b_0c1d_2e3f_4a5b);
        let keys = RedisKeys::new(account, 1_795_435_200);
        assert_eq!(keys.minute, "wm:rl:{0196a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b}:m");
        assert_eq!(keys.day, "wm:rl:{0196a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b}:d:2026-11-23");
        assert_eq!(keys.month, "wm:rl:{0196a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b}:mo:2026-11");
        assert!(RedisKeys::new(account, u64::MAX).day.ends_with("9999-12-31"));
    }

    fn entry(per_minute: u64, requests: usize) -> Entry {
        let replies = (0..requests).map(|_| oneshot::channel().0).collect();
        Entry {
            account: Uuid::from_u128(1),
            limits: Limits { per_minute, daily: 100, monthly: 1_000 },
            seed: None,
            replies,
        }
    }

    #[test]
    fn each_request_of_an_entry_gets_its_own_decision() {
        // 2026-11-23T12:00:00Z; 10 per minute, 4 used (TAT 24 s ahead), 40 today, 400 this month.
        let now = 1_795_435_200_000_000;
        let entries = [entry(10, 8)];
        let decisions = Replay::new(&entries, &[now, now + 24_000_000, 40, 400, 6]).unwrap().decisions(&entries);
        let remaining: Vec<_> =
            decisions[0].iter().map(|d| (d.is_allowed(), d.status(LimitKind::PerMinute).remaining)).collect();
        assert_eq!(
            remaining,
            [(true, 5), (true, 4), (true, 3), (true, 2), (true, 1), (true, 0), (false, 0), (false, 0)]
        );
        assert_eq!(decisions[0][5].status(LimitKind::Daily).remaining, 54);
        assert_eq!(decisions[0][7].denial.unwrap().retry_after, 6);
    }

    #[test]
    fn a_reply_the_replay_disagrees_with_is_refused() {
        let now = 1_795_435_200_000_000;
        let entries = [entry(10, 3), entry(0, 1)];
        assert!(Replay::new(&entries, &[now, now, 0, 0, 3, now, 0, 0, 0]).is_ok());
        for bad in
            [&[now, now, 0, 0, 2, now, 0, 0, 0][..], &[now, now, 0, 0, 3], &[now, now, -1, 0, 3, now, 0, 0, 0], &[]]
        {
            assert!(matches!(Replay::new(&entries, bad), Err(LimitError::UnexpectedReply(_))), "{bad:?}");
        }
    }

    #[test]
    fn only_an_entry_without_a_seed_may_be_answered_unseeded() {
        let now = 1_795_435_200_000_000;
        let mut seeded = entry(10, 1);
        seeded.seed = Some(Seed::EMPTY);
        let entries = [entry(10, 2), seeded];
        let replay = Replay::new(&entries, &[now, now, 0, 0, -1, now, 0, 0, 1]).unwrap();
        assert_eq!(replay.starts[0], None, "asks for a seed");
        assert!(replay.starts[1].is_some());
        let unseeded_despite_seed = [now, now, 0, 0, -1, now, 0, 0, -1];
        assert!(matches!(Replay::new(&entries, &unseeded_despite_seed), Err(LimitError::UnexpectedReply(_))));
    }

    #[test]
    fn the_logged_address_has_no_credentials() {
        let client = open_client("redis://user:hunter2@cache.internal:6380/2").unwrap();
        assert_eq!(address_of(&client), "cache.internal:6380");
    }
}
