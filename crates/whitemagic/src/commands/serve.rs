//! `whitemagic serve`: migrate, bootstrap the admin, serve until SIGTERM/SIGINT, flush, exit.

use crate::config::Config;
use secrecy::ExposeSecret;
use std::time::Duration;
use wm_core::{Core, LimitsConfig};
use wm_domain::api_key::ApiKey;
use wm_domain::email::Email;
use wm_http::HttpSettings;
use wm_limits::{FallbackLimiter, LocalLimiter};

pub async fn run(config: Config) -> anyhow::Result<()> {
    let (limits, limiter) = rate_limits(&config).await?;
    let core =
        super::core(&config).await?.with_billing(super::billing::billing_config(&config)?).with_limits(limits, limiter);
    bootstrap_admin(&config, &core).await?;
    core.limits.catch_up_redis().await;
    if let Some(url) = &config.redis_url {
        crate::invalidation::spawn(url.expose_secret(), core.clone())?;
    }

    let settings = HttpSettings {
        body_limit: config.body_limit,
        request_timeout: Duration::from_secs(config.request_timeout_secs),
        allowed_origins: config.allowed_origins.clone(),
        webhooks: super::billing::webhook_settings(&config),
        rate_limit_headers: config.rate_limit_headers,
    };
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    tracing::info!(addr = %listener.local_addr()?, backend = core.store.kind(), version = wm_http::routes::health::VERSION, "whitemagic listening");

    let flusher =
        tokio::spawn(core.clone().run_flusher(Duration::from_secs(config.flush_interval_secs), std::future::pending()));
    let (stop_jobs, jobs_stopped) = tokio::sync::oneshot::channel::<()>();
    let jobs =
        tokio::spawn(core.billing.clone().run_jobs(Duration::from_secs(config.billing_job_interval_secs), async {
            let _ = jobs_stopped.await;
        }));
    wm_http::launch(wm_http::state(core.clone(), settings), listener, shutdown_signal()).await?;
    let _ = stop_jobs.send(());
    let _ = jobs.await;
    flusher.abort();
    core.flush_on_shutdown().await;
    core.store.close().await;
    tracing::info!("whitemagic stopped");
    Ok(())
}

/// Plan enforcement from the configuration: request limits shared through Redis when
/// `REDIS_URL` is set (in-process otherwise, or while Redis is unreachable).
async fn rate_limits(config: &Config) -> anyhow::Result<(LimitsConfig, FallbackLimiter)> {
    let limits = LimitsConfig {
        rate_limits: config.rate_limits,
        quotas: true,
        plan_cache_ttl: Duration::from_secs(config.key_cache_ttl_secs),
    };
    let local = LocalLimiter::new();
    let limiter = match &config.redis_url {
        Some(url) if config.rate_limits => {
            FallbackLimiter::connect(url.expose_secret(), local).await.map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?
        }
        _ => FallbackLimiter::local_only(local),
    };
    if !config.rate_limits {
        tracing::warn!("WM_RATE_LIMITS=off: requests are neither rate-limited nor metered");
    }
    Ok((limits, limiter))
}

/// Seed admin from the environment, or on an empty database print one generated admin key.
async fn bootstrap_admin(config: &Config, core: &Core) -> anyhow::Result<()> {
    match (&config.seed_admin_key, &config.seed_admin_email) {
        (Some(key), Some(email)) => {
            let key = ApiKey::parse_setting(key.expose_secret(), "WM_SEED_ADMIN_KEY")
                .map_err(|e| anyhow::anyhow!("{e} (expected wm_<prod|test|dev>_<32 letters/digits>)"))?;
            let email = Email::parse(email).map_err(|e| anyhow::anyhow!("WM_SEED_ADMIN_EMAIL: {}", e.message))?;
            let created = core.accounts.ensure_admin_key(&email, &key, "seed").await?;
            tracing::info!(admin.email = %email, created, "seed admin key ensured");
        }
        (Some(_), None) | (None, Some(_)) => {
            anyhow::bail!("WM_SEED_ADMIN_KEY and WM_SEED_ADMIN_EMAIL must be set together")
        }
        (None, None) => {
            if let Some(created) = core.accounts.bootstrap_if_empty().await? {
                // Printed once, to the terminal only: never through the logs.
                eprintln!(
                    "\nEmpty database: created admin {} with this API key (shown once, store it now):\n\n    {}\n",
                    wm_core::BOOTSTRAP_ADMIN_EMAIL,
                    created.key.expose()
                );
            }
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
