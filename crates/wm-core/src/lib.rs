//! WhiteMagic use-cases over the storage traits. No HTTP, no SQL: the HTTP, MCP and CLI
//! adapters call these, and the backend is whatever `dyn Store` they were given.

pub mod accounts;
pub use accounts::admin::BOOTSTRAP_ADMIN_EMAIL;
mod error;

pub use accounts::{Accounts, AccountsConfig, CreatedKey};
pub use error::{AuthFailure, CoreError, CoreResult};

use std::sync::Arc;
use wm_domain::Clock;
use wm_store::Store;

/// Every use-case, over one store and one clock. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub accounts: Arc<Accounts>,
}

impl Core {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, accounts: AccountsConfig) -> Self {
        let accounts = Arc::new(Accounts::new(store.clone(), clock.clone(), accounts));
        Self { store, clock, accounts }
    }

    /// Write out everything buffered in memory (key usage stamps). Called periodically and on shutdown.
    pub async fn flush(&self) {
        if let Err(e) = self.accounts.flush_touches().await {
            tracing::warn!(error = %e, "flushing key usage failed; will retry");
        }
    }

    /// Flush buffered writes every `every` until `shutdown` resolves, then flush once more.
    pub async fn run_flusher(self, every: std::time::Duration, shutdown: impl std::future::Future<Output = ()>) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = tick.tick() => self.flush().await,
                () = &mut shutdown => break,
            }
        }
        self.flush().await;
    }
}
