use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::str::FromStr;
use std::time::Duration;
use wm_store::{Backend, MigrationInfo, StoreError, StoreResult};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The PostgreSQL store. Cheap to clone (two pool handles).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    /// Full-text searches only, on a few connections of their own (as many as the database
    /// server has cores; by default this host's CPUs): a search is CPU-bound in its backend, so
    /// the pool's first-come-first-served queue runs them a core each instead of time-slicing
    /// every search in flight, and a burst of them never takes the main pool's connections.
    /// See docs/PERFORMANCE.md (memory engine, ninth pass).
    pub(crate) search_pool: PgPool,
}

impl PostgresStore {
    /// Connect to a `postgres://` URL with a pool of `max_connections` and a search pool of
    /// `search_connections` (opened on first use). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32, search_connections: u32) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {}", redact(&e.to_string()))))?
            .application_name("whitemagic");
        let pool_options = |max: u32| PgPoolOptions::new().max_connections(max).acquire_timeout(Duration::from_secs(5));
        let pool = pool_options(max_connections).connect_with(opts.clone()).await.map_err(db_err)?;
        let search_pool = pool_options(search_connections.max(1)).connect_lazy_with(opts);
        Ok(Self { pool, search_pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Driver messages can quote the URL; never let a password through.
fn redact(msg: &str) -> String {
    if msg.contains('@') {
        "check the URL's form (details withheld: it may hold a password)".into()
    } else {
        msg.into()
    }
}

#[async_trait::async_trait]
impl Backend for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_err)?;
        Ok(())
    }

    async fn migrate_up(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Database(e.to_string()))
    }

    async fn migrate_down(&self, steps: u32) -> StoreResult<()> {
        let applied = applied_versions(&self.pool).await?;
        let target = applied.get(steps as usize).copied().unwrap_or(0);
        MIGRATOR.undo(&self.pool, target).await.map_err(|e| StoreError::Database(e.to_string()))
    }

    async fn migration_status(&self) -> StoreResult<Vec<MigrationInfo>> {
        let applied = applied_versions(&self.pool).await?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| MigrationInfo {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
            })
            .collect())
    }

    async fn close(&self) {
        self.search_pool.close().await;
        self.pool.close().await;
    }
}

/// Applied migration versions, newest first (empty before the first migration).
async fn applied_versions(pool: &PgPool) -> StoreResult<Vec<i64>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version DESC")
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}

/// Map a driver error onto the store's error.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(d.message().to_owned()),
        // Deadlock or serialization failure between concurrent writes (e.g. a create racing the
        // deletion of its account): transient, the request can be retried.
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")) => {
            StoreError::Unavailable("concurrent writes conflicted; retry".to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            StoreError::Unavailable(redact(&e.to_string()))
        }
        _ => StoreError::Database(redact(&e.to_string())),
    }
}
