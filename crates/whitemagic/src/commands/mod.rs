//! One module per subcommand.

mod admin;
mod billing;
pub mod mcp;
pub mod memory;
mod migrate;
mod serve;

use crate::cli::{Cli, Command, ConfigAction};
use crate::config::{Config, Environment, Overrides};
use std::sync::Arc;
use std::time::Duration;
use wm_core::{AccountsConfig, Core};
use wm_domain::SystemClock;
use wm_domain::api_key::KeyEnv;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let overrides = match &cli.command {
        Command::Serve { bind } => Overrides { bind: *bind },
        _ => Overrides::default(),
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    crate::logging::init(&config)?;
    for var in crate::config::unknown_wm_vars() {
        tracing::warn!(variable = %var, "unknown WM_ environment variable ignored");
    }
    match cli.command {
        Command::Serve { .. } => serve::run(config).await,
        Command::Migrate { action } => migrate::run(&config, action).await,
        Command::Config { action: ConfigAction::Show } => {
            let mut shown = config.redacted();
            if let Some(map) = shown.as_object_mut() {
                map.retain(|_, v| !v.is_null()); // TOML has no null: unset settings are left out
            }
            println!("{}", toml::to_string_pretty(&shown)?);
            Ok(())
        }
        Command::Admin { action } => admin::run(&config, action).await,
        Command::Memory { action } => memory::run(&config, action).await,
        Command::Mcp(args) => mcp::run(&config, args).await,
    }
}

/// Open and migrate the store, and build the use-cases over it.
async fn core(config: &Config) -> anyhow::Result<Core> {
    let store = crate::store::open(config).await?;
    store.migrate_up().await.map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
    let key_env = match config.env {
        Environment::Production => KeyEnv::Prod,
        Environment::Test => KeyEnv::Test,
        Environment::Development => KeyEnv::Dev,
    };
    let accounts = AccountsConfig {
        key_env,
        key_cache_ttl: Duration::from_secs(config.key_cache_ttl_secs),
        memory_limits: config.memory_limits(),
        ..AccountsConfig::default()
    };
    Ok(Core::new(store, Arc::new(SystemClock), accounts))
}
