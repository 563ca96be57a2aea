//! Backend selection: chosen once, from the database URL's scheme.

use crate::config::{Config, mask_url};
use std::sync::Arc;
use wm_store::Store;

/// Open the configured store (without migrating).
pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    let shown = mask_url(&url);
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(
            wm_store_sqlite::SqliteStore::connect(&url).await.map_err(|e| anyhow::anyhow!("opening {shown}: {e}"))?,
        )
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(
            wm_store_postgres::PostgresStore::connect(
                &url,
                config.database_max_connections,
                config.database_search_connections(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("connecting to {shown}: {e}"))?,
        )
    } else {
        anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:// (got {shown})");
    };
    Ok(store)
}
