//! Command-line interface.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// WhiteMagic: memory for AI agents, as a metered API.
#[derive(Debug, Parser)]
#[command(name = "whitemagic", version, about)]
pub struct Cli {
    /// TOML configuration file (overridden by environment variables and flags).
    #[arg(long, global = true, env = "WM_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrations are applied first).
    Serve {
        /// Listen address, e.g. 127.0.0.1:8000.
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Database schema migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Show configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Operator tasks.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// One account's memories, against the configured database (local, single-operator use).
    Memory {
        #[command(subcommand)]
        action: crate::commands::memory::MemoryAction,
    },
    /// MCP server over stdio for one account (what an IDE launches); `mcp config` prints the
    /// snippet that registers WhiteMagic with an MCP client.
    Mcp(crate::commands::mcp::McpArgs),
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the newest migrations.
    Down {
        /// How many to revert.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration (secrets masked).
    Show,
}

#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Create an admin API key for EMAIL (creating or promoting the user) and print it once.
    CreateKey {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "admin")]
        label: String,
    },
}
