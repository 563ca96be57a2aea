//! Cross-instance cache invalidation over Redis pub/sub (when `REDIS_URL` is set).
//!
//! Every instance caches verified keys and plans for `WM_KEY_CACHE_TTL_SECS`. A change made on
//! one instance (key revoked or rotated, user suspended or moved to another plan, plan edited)
//! clears that instance's cache at once and is published on [`CHANNEL`]; every other instance
//! drops its cache when the message arrives, so a revoked key stops working everywhere within
//! milliseconds instead of within the TTL. While Redis is unreachable the TTL still bounds
//! staleness, and after reconnecting an instance drops its caches once (it may have missed
//! messages).

use futures_util::StreamExt;
use std::time::Duration;
use wm_core::Core;

/// The pub/sub channel.
pub const CHANNEL: &str = "whitemagic:invalidate";
const ACCOUNTS: &str = "accounts";
const PLANS: &str = "plans";
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Publish this instance's changes and apply everyone else's, until the runtime stops.
pub fn spawn(url: &str, core: Core) -> anyhow::Result<()> {
    let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    // Messages carry the sender's id, so an instance skips its own.
    let me = uuid::Uuid::new_v4().simple().to_string();
    tokio::spawn(publish(client.clone(), core.clone(), me.clone()));
    tokio::spawn(subscribe(client, core, me));
    Ok(())
}

async fn publish(client: redis::Client, core: Core, me: String) {
    let mut accounts = core.accounts.changes();
    let mut plans = core.limits.plan_changes();
    let mut conn = None;
    loop {
        // A lagged receiver still means "something changed".
        let what = tokio::select! {
            r = accounts.recv() => match r { Err(tokio::sync::broadcast::error::RecvError::Closed) => return, _ => ACCOUNTS },
            r = plans.recv() => match r { Err(tokio::sync::broadcast::error::RecvError::Closed) => return, _ => PLANS },
        };
        if conn.is_none() {
            conn = client.get_multiplexed_async_connection().await.ok();
        }
        let Some(c) = conn.as_mut() else {
            tracing::warn!(what, "Redis unreachable: other instances see this change within the key cache TTL");
            continue;
        };
        let sent: redis::RedisResult<i64> =
            redis::cmd("PUBLISH").arg(CHANNEL).arg(format!("{me} {what}")).query_async(c).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, what, "publishing a cache invalidation failed");
            conn = None;
        }
    }
}

async fn subscribe(client: redis::Client, core: Core, me: String) {
    let mut backoff = Duration::from_millis(250);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                Ok(()) => {
                    backoff = Duration::from_millis(250);
                    // Whatever changed while we were not listening.
                    core.accounts.drop_cached();
                    core.limits.drop_cached_plans();
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(payload) = msg.get_payload::<String>() else { continue };
                        apply(&core, &me, &payload);
                    }
                    tracing::warn!("lost the Redis invalidation channel; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "subscribing to cache invalidations failed"),
            },
            Err(e) => tracing::debug!(error = %e, "Redis unreachable for cache invalidations"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One message, `<instance id> <accounts|plans>`.
fn apply(core: &Core, me: &str, payload: &str) {
    let Some((sender, what)) = payload.split_once(' ') else { return };
    if sender == me {
        return;
    }
    match what {
        ACCOUNTS => core.accounts.drop_cached(),
        PLANS => core.limits.drop_cached_plans(),
        _ => tracing::debug!(payload, "unknown cache invalidation"),
    }
}
