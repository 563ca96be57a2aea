//! `whitemagic migrate up|down|status`.

use crate::cli::MigrateAction;
use crate::config::Config;

pub async fn run(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    let store = crate::store::open(config).await?;
    let fail = |e: wm_store::StoreError| anyhow::anyhow!("{e}");
    match action {
        MigrateAction::Up => {
            store.migrate_up().await.map_err(fail)?;
            println!("migrations applied");
        }
        MigrateAction::Down { steps } => {
            store.migrate_down(steps).await.map_err(fail)?;
            println!("reverted up to {steps} migration(s)");
        }
        MigrateAction::Status => {
            for m in store.migration_status().await.map_err(fail)? {
                let state = if m.applied { "applied" } else { "pending" };
                println!("{:>4}  {:<8} {}", m.version, state, m.description);
            }
        }
    }
    store.close().await;
    Ok(())
}
