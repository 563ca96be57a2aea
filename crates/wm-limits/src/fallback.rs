//! Redis when it answers, the in-process limiter when it does not.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::Client;
use uuid::Uuid;

use crate::redis::{address_of, open_client};
use crate::{
    Checked, Decision, LimitError, Limiter, Limits, LocalLimiter, RedisLimiter, RedisOptions, Seed, UsageSource,
};

/// Whether the shared Redis rate-limit state is in use (for `/health`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RedisStatus {
    /// Redis answers; limits are shared by all instances.
    Connected,
    /// Redis is configured but unreachable; limits are per instance (degraded).
    Disconnected,
    /// No Redis configured; in-process limits by design.
    NotConfigured,
}

impl RedisStatus {
    /// `connected`, `disconnected` or `not_configured`.
    pub fn as_str(self) -> &'static str {
        match self {
            RedisStatus::Connected => "connected",
            RedisStatus::Disconnected => "disconnected",
            RedisStatus::NotConfigured => "not_configured",
        }
    }
}

/// What [`FallbackLimiter::decide_in_process`] could do without waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InProcess {
    /// Decided (and counted) in process: no Redis in use.
    Decided(Decision),
    /// The in-process limiter decides, but has not seen the account's recorded usage yet: read
    /// it, [`seed`](LocalLimiter::seed) the [`local`](FallbackLimiter::local) limiter, then
    /// decide there. Nothing was counted.
    NeedsSeed,
    /// Redis decides: call [`FallbackLimiter::check_shared`].
    Shared,
}

/// Settings of [`FallbackLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FallbackOptions {
    /// Timeouts of the Redis calls; a check never waits longer than `call_timeout`
    /// for Redis before answering from the local limiter.
    pub redis: RedisOptions,
    /// While Redis is down, how often (at most) to try reaching it again (default 2 s).
    pub probe_interval: Duration,
}

impl Default for FallbackOptions {
    fn default() -> Self {
        Self { redis: RedisOptions::default(), probe_interval: Duration::from_secs(2) }
    }
}

/// Uses Redis while it answers and the [`LocalLimiter`] while it does not.
///
/// A failed or slow Redis call (see [`FallbackOptions::redis`]) is answered from the
/// local limiter and switches to degraded mode: checks go straight to the local
/// limiter, and a background probe (at most once per `probe_interval`, started by
/// incoming checks) reconnects; Redis is used again as soon as it answers. Checks
/// never fail. Transitions are logged once (`warn` on loss, `info` on recovery),
/// with the server address but never the URL's credentials.
///
/// The local state is not synchronised with Redis: while degraded, each instance counts on its
/// own, starting each account's daily and monthly counts from its recorded usage (the caller
/// seeds them: [`InProcess::NeedsSeed`]; every loss of Redis asks for fresh seeds). Redis
/// asks for a seed too when it has no count of an account for the month, and so does this
/// limiter for an account the local limiter counted while Redis was unreachable
/// ([`Checked::NeedsSeed`]): whether Redis comes back with its data or without, the requests
/// it had counted and those counted in process meanwhile all count. With a
/// [`UsageSource`](Self::set_usage_source), a connection to a server process that has not had
/// every account's recorded usage (restarted, restored from an older snapshot, replaced) is used
/// only once it has been given it (see [`RedisLimiter::catch_up`]). Cheap to clone.
#[derive(Clone)]
pub struct FallbackLimiter {
    local: LocalLimiter,
    redis: Option<Arc<RedisSide>>,
}

struct RedisSide {
    client: Client,
    address: String,
    options: FallbackOptions,
    /// The connection in use, tagged with a generation so that a failure seen on a
    /// replaced connection cannot mark a fresh one as lost.
    current: Mutex<Option<(u64, RedisLimiter)>>,
    generation: AtomicU64,
    connected: AtomicBool,
    probing: AtomicBool,
    /// Where a new Redis server process gets every account's recorded usage before it is used
    /// ([`FallbackLimiter::set_usage_source`]).
    source: Mutex<Option<Weak<dyn UsageSource>>>,
    /// Milliseconds since `started` before which no probe starts.
    next_probe_ms: AtomicU64,
    started: Instant,
}

impl std::fmt::Debug for FallbackLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackLimiter")
            .field("status", &self.status())
            .field("redis", &self.redis.as_ref().map(|r| r.address.as_str()))
            .finish_non_exhaustive()
    }
}

impl FallbackLimiter {
    /// Local limits only ([`RedisStatus::NotConfigured`]).
    pub fn local_only(local: LocalLimiter) -> Self {
        Self { local, redis: None }
    }

    /// Redis at `url` with default options, falling back to `local`.
    /// See [`connect_with`](Self::connect_with).
    pub async fn connect(url: &str, local: LocalLimiter) -> Result<Self, LimitError> {
        Self::connect_with(url, local, FallbackOptions::default()).await
    }

    /// Redis at `url`, falling back to `local`. Fails only for an invalid URL: an
    /// unreachable server is logged and the limiter starts degraded, connecting
    /// later.
    pub async fn connect_with(url: &str, local: LocalLimiter, options: FallbackOptions) -> Result<Self, LimitError> {
        let client = open_client(url)?;
        let side = Arc::new(RedisSide {
            address: address_of(&client),
            client,
            options,
            current: Mutex::new(None),
            generation: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            source: Mutex::new(None),
            next_probe_ms: AtomicU64::new(0),
            started: Instant::now(),
        });
        match side.reconnect().await {
            Ok(()) => {
                tracing::info!(redis.addr = %side.address, "rate limits shared through Redis");
            }
            Err(error) => {
                side.schedule_probe();
                tracing::warn!(
                    redis.addr = %side.address, %error,
                    "Redis unreachable; rate limits are per instance until it answers"
                );
            }
        }
        Ok(Self { local, redis: Some(side) })
    }

    /// Whether Redis is in use right now.
    pub fn status(&self) -> RedisStatus {
        match &self.redis {
            None => RedisStatus::NotConfigured,
            Some(side) if side.connected.load(Ordering::Acquire) => RedisStatus::Connected,
            Some(_) => RedisStatus::Disconnected,
        }
    }

    /// Where to read every account's recorded usage for a Redis server process that has not
    /// had it (see [`UsageSource`]): from now on each connection to such a server (restarted,
    /// restored from a snapshot, replaced by a replica) first raises every account's counts to
    /// it; until that is done, the local limiter decides. Call [`catch_up`](Self::catch_up)
    /// for the connection already made.
    pub fn set_usage_source(&self, source: Weak<dyn UsageSource>) {
        if let Some(side) = &self.redis {
            *side.source.lock().unwrap_or_else(PoisonError::into_inner) = Some(source);
        }
    }

    /// Catches the Redis server in use up with every account's recorded usage, when it has
    /// not had it. When that fails, the local limiter takes over until a reconnection
    /// succeeds (catching up first).
    pub async fn catch_up(&self) {
        if let Some(side) = &self.redis
            && side.connected.load(Ordering::Acquire)
            && let Some((generation, redis)) = side.current()
            && let Err(error) = side.catch_up(&redis).await
        {
            self.redis_failed(side, generation, &error);
        }
    }

    /// The local limiter used while Redis is unavailable.
    pub fn local(&self) -> &LocalLimiter {
        &self.local
    }

    /// The decision, when it needs no call to Redis (none is configured, or it is down) and
    /// the account is seeded; see [`InProcess`] for the other cases.
    pub fn decide_in_process(&self, account: Uuid, limits: &Limits) -> InProcess {
        if let Some(side) = &self.redis {
            if side.connected.load(Ordering::Acquire) {
                return InProcess::Shared;
            }
            side.maybe_probe();
        }
        match self.local.decide_seeded(account, limits) {
            Some(decision) => InProcess::Decided(decision),
            None => InProcess::NeedsSeed,
        }
    }

    /// The check when Redis decides ([`InProcess::Shared`]): Redis's answer, or the local
    /// limiter's when Redis fails. [`Checked::NeedsSeed`] (nothing counted) when the account's
    /// recorded usage is needed first: Redis has no count of the account for this month (see
    /// [`RedisLimiter::check_seeded`]), or the local limiter counted it while Redis was
    /// unreachable (those requests must count in Redis too), or the local limiter decides and
    /// has not seen it since Redis was lost. Then read the usage and call
    /// [`seed_and_check`](Self::seed_and_check).
    pub async fn check_shared(&self, account: Uuid, limits: &Limits) -> Checked {
        if let Some(side) = &self.redis
            && side.connected.load(Ordering::Acquire)
            && let Some((generation, redis)) = side.current()
        {
            if self.local.contains(account) {
                return Checked::NeedsSeed;
            }
            match redis.check_seeded(account, limits, None).await {
                Ok(checked) => return checked,
                Err(error) => self.redis_failed(side, generation, &error),
            }
        }
        match self.local.decide_seeded(account, limits) {
            Some(decision) => Checked::Decided(decision),
            None => Checked::NeedsSeed,
        }
    }

    /// The check of an account that needed a seed, with `seed`, its recorded usage (`None`
    /// when that could not be read: Redis then counts from what it has, and the local limiter
    /// from what it sees, asking again next time). Once Redis has the seed, the local
    /// limiter's counts of the account are dropped. Never fails.
    pub async fn seed_and_check(&self, account: Uuid, limits: &Limits, seed: Option<Seed>) -> Decision {
        if let Some(side) = &self.redis
            && side.connected.load(Ordering::Acquire)
            && let Some((generation, redis)) = side.current()
        {
            match redis.check_seeded(account, limits, Some(seed.unwrap_or(Seed::EMPTY))).await {
                Ok(Checked::Decided(decision)) => {
                    self.local.forget(account);
                    return decision;
                }
                Ok(Checked::NeedsSeed) => {} // not with a seed
                Err(error) => self.redis_failed(side, generation, &error),
            }
        }
        if let Some(seed) = seed {
            self.local.seed(account, seed);
        }
        self.local.decide(account, limits)
    }

    /// A call on the Redis connection of `generation` failed: the local limiter takes over,
    /// and its counts, stale while Redis counted, are seeded afresh.
    fn redis_failed(&self, side: &RedisSide, generation: u64, error: &LimitError) {
        if side.lost(generation, error) {
            self.local.unseed_all();
        }
    }
}

impl RedisSide {
    fn current(&self) -> Option<(u64, RedisLimiter)> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn schedule_probe(&self) {
        let interval = u64::try_from(self.options.probe_interval.as_millis()).unwrap_or(u64::MAX);
        self.next_probe_ms.store(self.elapsed_ms().saturating_add(interval), Ordering::Release);
    }

    /// Connects afresh and, when the server answers and has been caught up, makes it the
    /// connection in use.
    async fn reconnect(&self) -> Result<(), LimitError> {
        let limiter = RedisLimiter::connect_client(self.client.clone(), self.options.redis).await?;
        limiter.ping().await?;
        self.catch_up(&limiter).await?;
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some((generation, limiter));
        self.connected.store(true, Ordering::Release);
        Ok(())
    }

    /// See [`FallbackLimiter::catch_up`].
    async fn catch_up(&self, redis: &RedisLimiter) -> Result<(), LimitError> {
        let source = self.source.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(Weak::upgrade);
        let Some(source) = source else {
            return Ok(());
        };
        let started = Instant::now();
        if let Some(accounts) = redis.catch_up(source.as_ref()).await? {
            tracing::info!(
                redis.addr = %self.address, accounts, elapsed_ms = started.elapsed().as_millis(),
                "a new Redis server process (restarted, restored or replaced) was given every account's recorded usage"
            );
        }
        Ok(())
    }

    /// Records a failed call on the connection of `generation`; true when that call is what
    /// marked Redis as lost.
    fn lost(&self, generation: u64, error: &LimitError) -> bool {
        let current = self.generation.load(Ordering::Acquire);
        if current == generation && self.connected.swap(false, Ordering::AcqRel) {
            self.schedule_probe();
            tracing::warn!(
                redis.addr = %self.address, %error,
                "Redis unavailable; falling back to per-instance rate limits"
            );
            return true;
        }
        false
    }

    /// Starts a background reconnection attempt when one is due and none is running.
    fn maybe_probe(self: &Arc<Self>) {
        if self.elapsed_ms() < self.next_probe_ms.load(Ordering::Acquire) || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.probing.store(false, Ordering::Release);
            return;
        };
        self.schedule_probe();
        let side = Arc::clone(self);
        runtime.spawn(async move {
            match side.reconnect().await {
                Ok(()) => tracing::info!(
                    redis.addr = %side.address,
                    "Redis is back; rate limits are shared again"
                ),
                Err(error) => {
                    tracing::debug!(redis.addr = %side.address, %error, "Redis still unavailable");
                }
            }
            side.schedule_probe();
            side.probing.store(false, Ordering::Release);
        });
    }
}

#[async_trait]
impl Limiter for FallbackLimiter {
    /// Never fails: Redis errors are answered from the local limiter. Counts an account that
    /// neither limiter has a seed for from what it sees (callers that seed use
    /// [`decide_in_process`](FallbackLimiter::decide_in_process) and
    /// [`check_shared`](FallbackLimiter::check_shared)).
    async fn check(&self, account: Uuid, limits: &Limits) -> Result<Decision, LimitError> {
        let checked = match self.decide_in_process(account, limits) {
            InProcess::Decided(decision) => Checked::Decided(decision),
            InProcess::NeedsSeed => Checked::NeedsSeed,
            InProcess::Shared => self.check_shared(account, limits).await,
        };
        Ok(match checked {
            Checked::Decided(decision) => decision,
            Checked::NeedsSeed => self.seed_and_check(account, limits, None).await,
        })
    }

    /// Resets the local state and, when Redis is in use, the shared state; fails
    /// when Redis is configured but the reset did not reach it.
    async fn reset(&self, account: Uuid) -> Result<(), LimitError> {
        self.local.forget(account);
        let Some(side) = &self.redis else {
            return Ok(());
        };
        match side.current() {
            Some((generation, redis)) if side.connected.load(Ordering::Acquire) => {
                let result = redis.reset(account).await;
                if let Err(error) = &result {
                    self.redis_failed(side, generation, error);
                }
                result
            }
            _ => {
                side.maybe_probe();
                Err(LimitError::Unavailable)
            }
        }
    }
}
