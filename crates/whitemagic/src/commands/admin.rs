//! `whitemagic admin ...`: operator tasks against the configured database.

use crate::cli::AdminAction;
use crate::config::Config;
use wm_domain::email::Email;

pub async fn run(config: &Config, action: AdminAction) -> anyhow::Result<()> {
    let core = super::core(config).await?;
    match action {
        AdminAction::CreateKey { email, label } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {}", e.message))?;
            let created = core.accounts.create_admin_key(&email, &label).await?;
            eprintln!("Admin key for {email} (shown once; store it now):");
            println!("{}", created.key.expose());
        }
    }
    core.store.close().await;
    Ok(())
}
