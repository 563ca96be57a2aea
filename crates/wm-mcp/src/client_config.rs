//! The JSON snippets that register WhiteMagic with MCP clients, in each client's own shape:
//! `mcpServers` for Cursor, Claude Desktop and Windsurf, `servers` for VS Code's
//! `.vscode/mcp.json`. Keys are never written into the snippet: they come from the
//! environment (or, for VS Code, a password prompt).

use serde_json::{Map, Value, json};

/// The server's name in the client's configuration.
pub const SERVER_NAME: &str = "whitemagic";
/// The environment variable an HTTP snippet reads the API key from.
pub const KEY_ENV: &str = "WHITEMAGIC_API_KEY";
/// The environment variable `whitemagic mcp` reads an API key from.
pub const STDIO_KEY_ENV: &str = "WM_MCP_API_KEY";

/// An MCP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Cursor (`~/.cursor/mcp.json` or `.cursor/mcp.json`).
    Cursor,
    /// Claude Desktop (`claude_desktop_config.json`).
    ClaudeDesktop,
    /// VS Code (`.vscode/mcp.json`).
    Vscode,
    /// Windsurf (`~/.codeium/windsurf/mcp_config.json`).
    Windsurf,
}

impl Client {
    /// Every client, by command-line name.
    pub const ALL: [(&'static str, Client); 4] = [
        ("cursor", Client::Cursor),
        ("claude-desktop", Client::ClaudeDesktop),
        ("vscode", Client::Vscode),
        ("windsurf", Client::Windsurf),
    ];

    /// The client named `name` (`cursor`, `claude-desktop`, `vscode`, `windsurf`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    }

    /// Where the snippet goes.
    pub fn config_file(self) -> &'static str {
        match self {
            Client::Cursor => "~/.cursor/mcp.json (all projects) or .cursor/mcp.json (this project)",
            Client::ClaudeDesktop => {
                "claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\)"
            }
            Client::Vscode => ".vscode/mcp.json (this workspace)",
            Client::Windsurf => "~/.codeium/windsurf/mcp_config.json",
        }
    }
}

/// How the client reaches WhiteMagic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Launch `command mcp` (stdio) against a database.
    Stdio {
        /// The `whitemagic` executable.
        command: String,
        /// Act as this account (`--user`); without it the key comes from [`STDIO_KEY_ENV`].
        user: Option<String>,
        /// `DATABASE_URL` for the launched process, when not the default.
        database_url: Option<String>,
    },
    /// The streamable HTTP endpoint, e.g. `https://api.example.com/mcp`.
    Http {
        /// The endpoint URL.
        url: String,
    },
}

/// The snippet registering WhiteMagic with `client`.
pub fn snippet(client: Client, target: &Target) -> Value {
    let server = match target {
        Target::Stdio { command, user, database_url } => {
            stdio(client, command, user.as_deref(), database_url.as_deref())
        }
        Target::Http { url } => http(client, url),
    };
    let mut servers = Map::new();
    servers.insert(SERVER_NAME.into(), server);
    match (client, target) {
        (Client::Vscode, Target::Http { .. }) => json!({
            "servers": servers,
            "inputs": [{ "type": "promptString", "id": "whitemagic-api-key", "description": "WhiteMagic API key", "password": true }],
        }),
        (Client::Vscode, _) => json!({ "servers": servers }),
        _ => json!({ "mcpServers": servers }),
    }
}

fn stdio(client: Client, command: &str, user: Option<&str>, database_url: Option<&str>) -> Value {
    let mut args = vec![json!("mcp")];
    let mut env = Map::new();
    match user {
        Some(email) => args.extend([json!("--user"), json!(email)]),
        None => {
            env.insert(STDIO_KEY_ENV.into(), json!("<your WhiteMagic API key>"));
        }
    }
    if let Some(url) = database_url {
        env.insert("DATABASE_URL".into(), json!(url));
    }
    let mut server = json!({ "command": command, "args": args, "env": env });
    if client == Client::Vscode {
        server["type"] = json!("stdio");
    }
    server
}

fn http(client: Client, url: &str) -> Value {
    let bearer = |var: &str| json!({ "Authorization": format!("Bearer {var}") });
    match client {
        Client::Cursor => json!({ "url": url, "headers": bearer(&format!("${{env:{KEY_ENV}}}")) }),
        Client::Windsurf => json!({ "serverUrl": url, "headers": bearer(&format!("${{env:{KEY_ENV}}}")) }),
        Client::Vscode => json!({ "type": "http", "url": url, "headers": bearer("${input:whitemagic-api-key}") }),
        // Claude Desktop's config file launches local processes only: bridge with mcp-remote.
        Client::ClaudeDesktop => json!({
            "command": "npx",
            "args": ["-y", "mcp-remote", url, "--header", "Authorization:${WHITEMAGIC_AUTH}"],
            "env": { "WHITEMAGIC_AUTH": "Bearer <your WhiteMagic API key>" },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_its_own_shape() {
        let http = Target::Http { url: "https://wm.example.com/mcp".into() };
        let cursor = snippet(Client::Cursor, &http);
        assert_eq!(cursor["mcpServers"]["whitemagic"]["url"], "https://wm.example.com/mcp");
        assert_eq!(cursor["mcpServers"]["whitemagic"]["headers"]["Authorization"], "Bearer ${env:WHITEMAGIC_API_KEY}");
        assert_eq!(
            snippet(Client::Windsurf, &http)["mcpServers"]["whitemagic"]["serverUrl"],
            "https://wm.example.com/mcp"
        );
        let vscode = snippet(Client::Vscode, &http);
        assert_eq!(vscode["servers"]["whitemagic"]["type"], "http");
        assert_eq!(vscode["inputs"][0]["password"], true);
        assert_eq!(snippet(Client::ClaudeDesktop, &http)["mcpServers"]["whitemagic"]["command"], "npx");
    }

    #[test]
    fn stdio_uses_the_user_or_an_env_key() {
        let local = Target::Stdio {
            command: "/usr/bin/whitemagic".into(),
            user: Some("me@example.com".into()),
            database_url: None,
        };
        let s = snippet(Client::Vscode, &local);
        assert_eq!(s["servers"]["whitemagic"]["args"], json!(["mcp", "--user", "me@example.com"]));
        assert_eq!(s["servers"]["whitemagic"]["type"], "stdio");
        let keyed =
            Target::Stdio { command: "whitemagic".into(), user: None, database_url: Some("sqlite:///x.db".into()) };
        let s = snippet(Client::ClaudeDesktop, &keyed);
        assert!(s["mcpServers"]["whitemagic"]["env"][STDIO_KEY_ENV].is_string());
        assert_eq!(s["mcpServers"]["whitemagic"]["env"]["DATABASE_URL"], "sqlite:///x.db");
        assert_eq!(Client::parse("claude-desktop"), Some(Client::ClaudeDesktop));
        assert_eq!(Client::parse("emacs"), None);
    }
}
