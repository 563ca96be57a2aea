//! `whitemagic mcp`: the MCP server over stdio for one account of the configured database
//! (what an IDE launches), and `whitemagic mcp config`: the snippet that registers it.
//! Standard output is the protocol: everything else (logs, notices) goes to standard error.

use crate::config::{Config, mask_url};
use clap::{Args, Subcommand};
use wm_core::CoreError;
use wm_core::accounts::NewAccount;
use wm_domain::api_key::ApiKey;
use wm_domain::email::Email;
use wm_mcp::Caller;
use wm_mcp::client_config::{Client, STDIO_KEY_ENV, Target, snippet};

/// `whitemagic mcp [--user EMAIL | --key KEY]`, or `whitemagic mcp config ...`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct McpArgs {
    #[command(subcommand)]
    pub action: Option<McpAction>,
    /// Act as the account with this email (created when it does not exist yet).
    #[arg(long, value_name = "EMAIL")]
    pub user: Option<String>,
    /// Act as the holder of this API key (checked on every request).
    #[arg(long, env = STDIO_KEY_ENV, hide_env_values = true, value_name = "KEY")]
    pub key: Option<String>,
}

/// `mcp` subcommands.
#[derive(Debug, Subcommand)]
pub enum McpAction {
    /// Print the JSON that registers WhiteMagic with an MCP client.
    Config {
        /// The client: cursor, claude-desktop, vscode or windsurf.
        #[arg(long, value_parser = ["cursor", "claude-desktop", "vscode", "windsurf"])]
        client: String,
        /// Connect to a server's streamable HTTP endpoint (e.g. https://wm.example.com/mcp)
        /// instead of launching `whitemagic mcp` locally.
        #[arg(long, value_name = "URL")]
        http: Option<String>,
        /// Local (stdio) only: act as this account; without it the client passes an API key
        /// in WM_MCP_API_KEY.
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
    },
}

/// Run `whitemagic mcp`.
pub async fn run(config: &Config, args: McpArgs) -> anyhow::Result<()> {
    match args.action {
        Some(McpAction::Config { client, http, user }) => print_config(config, &client, http, user),
        None => serve(config, args.user, args.key).await,
    }
}

async fn serve(config: &Config, user: Option<String>, key: Option<String>) -> anyhow::Result<()> {
    let core = super::core(config).await?;
    let caller = match (user, key) {
        (Some(email), _) => Caller::Fixed(local_principal(&core, &email).await?),
        (None, Some(raw)) => {
            let key =
                ApiKey::parse(raw.trim()).map_err(|_| anyhow::anyhow!("--key / {STDIO_KEY_ENV}: malformed API key"))?;
            let who = core.accounts.authenticate(key.expose()).await.map_err(|e| anyhow::anyhow!("--key: {e}"))?;
            tracing::info!(user.id = %who.user_id, "MCP over stdio for the key's account");
            Caller::Key(key)
        }
        (None, None) => anyhow::bail!("pass --user EMAIL, or an API key with --key or {STDIO_KEY_ENV}"),
    };
    let served = wm_mcp::serve_stdio(core.clone(), caller).await;
    core.flush_on_shutdown().await;
    core.store.close().await;
    Ok(served?)
}

/// The account `email`, created (plan `free`) when it does not exist yet.
async fn local_principal(core: &wm_core::Core, email: &str) -> anyhow::Result<wm_domain::account::Principal> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--user: {}", e.message))?;
    match core.accounts.local_principal(&email).await {
        Err(CoreError::NotFound(_)) => {
            core.accounts.create_user(NewAccount { email: email.clone(), plan: None, role: None }).await?;
            tracing::info!(user.email = %email, "created the account for MCP");
            Ok(core.accounts.local_principal(&email).await?)
        }
        other => Ok(other?),
    }
}

fn print_config(config: &Config, client: &str, http: Option<String>, user: Option<String>) -> anyhow::Result<()> {
    let client = Client::parse(client).ok_or_else(|| anyhow::anyhow!("unknown client {client}"))?;
    let target = match http {
        Some(url) => Target::Http { url },
        None => Target::Stdio {
            command: std::env::current_exe().map_or_else(|_| "whitemagic".into(), |p| p.display().to_string()),
            user,
            database_url: Some(absolute_database_url(config)),
        },
    };
    eprintln!("Add this to {}:", client.config_file());
    println!("{}", serde_json::to_string_pretty(&snippet(client, &target))?);
    Ok(())
}

/// The database URL an IDE-launched process (any working directory) must use: a relative
/// SQLite path made absolute; a password masked (fill it in, or use --http).
fn absolute_database_url(config: &Config) -> String {
    let url = config.database_url();
    let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return mask_url(&url);
    };
    let (file, query) = path.split_once('?').map_or((path, None), |(f, q)| (f, Some(q)));
    let absolute = std::path::absolute(file).map_or_else(|_| file.to_owned(), |p| p.display().to_string());
    match query {
        Some(q) => format!("sqlite://{absolute}?{q}"),
        None => format!("sqlite://{absolute}"),
    }
}
