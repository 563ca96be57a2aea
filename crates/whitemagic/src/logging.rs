//! Tracing setup: `LOG_FORMAT=json|pretty`, `LOG_LEVEL` as a filter.

use crate::config::{Config, LogFormat};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber (logs go to stderr; colours only when it is a terminal, so
/// files and log collectors get plain text).
pub fn init(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log_level)
        .map_err(|e| anyhow::anyhow!("invalid LOG_LEVEL {:?}: {e}", config.log_level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
        LogFormat::Pretty => builder.compact().init(),
    }
    Ok(())
}
