use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use wm_store::{Backend, MigrationInfo, StoreError, StoreResult};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Bytes of the database file each connection maps (`PRAGMA mmap_size`; address space, not
/// memory: the pages live once, in the OS page cache).
const MMAP_SIZE: u64 = 1 << 30;

/// The SQLite store. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// Queues this process's memory writes (FIFO). SQLite runs one writer at a time anyway;
    /// waiting here wakes the next writer as soon as the previous one is done, where waiting on
    /// SQLite's lock polls with growing sleeps (1, 2, 5 … 100 ms) and left creates under
    /// concurrency with a p99 of ~60 ms and batches with a p95 of ~0.7 s.
    pub(crate) writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Creates waiting for their group commit (see `memories::group`).
    pub(crate) creates: std::sync::Arc<crate::memories::Creates>,
}

impl SqliteStore {
    /// Open (creating if missing) the database at a `sqlite://path` URL, in WAL mode.
    /// Creates the parent directory. Does not migrate.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Read the database through a shared memory map instead of `pread` into each
            // connection's 2 MB page cache: a full-text search touches a few hundred pages, and
            // copying them in was a quarter of a search's CPU time at 50,000 memories. Pages
            // still in the WAL are read as before; beyond this size, too.
            .pragma("mmap_size", MMAP_SIZE.to_string());
        if let Some(dir) = opts.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(db_err)?;
        Ok(Self { pool, writer: Default::default(), creates: Default::default() })
    }

    /// Holds the write queue (see `writer`) for one write: a transaction or a single statement.
    pub(crate) async fn write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writer.lock().await
    }

    /// The pool, for the backup command.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Backend for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
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
        self.pool.close().await;
    }
}

/// Applied migration versions, newest first (empty before the first migration).
async fn applied_versions(pool: &SqlitePool) -> StoreResult<Vec<i64>> {
    let exists: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_one(pool)
            .await
            .map_err(db_err)?;
    if exists == 0 {
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
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(v: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(v).ok_or_else(|| StoreError::Corrupt(format!("timestamp {v}")))
}
