//! `whitemagic memory ...`: one account's memories against the configured database, through
//! the same `wm_core` use-cases as the API. Structured results are printed as JSON on stdout;
//! `context` prints the markdown package (or JSON with `--json`).

use crate::config::Config;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::{Path, PathBuf};
use uuid::Uuid;
use wm_core::Core;
use wm_core::accounts::NewAccount;
use wm_core::memories::{ImportFile, ImportLimits, ListOrder, ListRequest, ListSort, ListStatus, SearchRequest};
use wm_domain::email::Email;
use wm_domain::ids::UserId;
use wm_domain::memory::{ConsolidateRequest, ContextRequest, CreateMemoryRequest, MemoryType};

/// The account a memory command works on.
#[derive(Debug, Args)]
pub struct Who {
    /// Email of the account (created by `add` and `import` when it does not exist yet).
    #[arg(long)]
    user: String,
}

/// `memory` subcommands.
#[derive(Debug, Subcommand)]
pub enum MemoryAction {
    /// Create a memory and print it.
    Add {
        #[command(flatten)]
        who: Who,
        #[arg(long)]
        title: String,
        /// The markdown content; `-` reads standard input.
        #[arg(long, default_value = "")]
        content: String,
        #[arg(long = "type", value_parser = memory_type)]
        memory_type: Option<MemoryType>,
        /// Repeatable.
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long)]
        scope: Option<String>,
        /// A JSON object.
        #[arg(long)]
        metadata: Option<String>,
    },
    /// Print one memory (moves its `accessed_at`).
    Get {
        #[command(flatten)]
        who: Who,
        id: Uuid,
    },
    /// Print a page of memories.
    List {
        #[command(flatten)]
        who: Who,
        #[arg(long = "type", value_parser = memory_type)]
        memory_type: Option<MemoryType>,
        /// Repeatable; all must match.
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long)]
        scope: Option<String>,
        /// Include archived memories.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        limit: Option<u32>,
        /// `next_cursor` of the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Full-text search, most relevant first.
    Search {
        #[command(flatten)]
        who: Who,
        query: Option<String>,
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long = "type", value_parser = memory_type)]
        memory_type: Option<MemoryType>,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        include_archived: bool,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Print a context package (markdown).
    Context {
        #[command(flatten)]
        who: Who,
        /// 0, 1 or 2.
        #[arg(long, default_value_t = 1)]
        tier: u8,
        #[arg(long)]
        query: Option<String>,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        max_tokens: Option<usize>,
        /// Print the whole package as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Consolidate (a dry run unless `--apply`) and print the report.
    Consolidate {
        #[command(flatten)]
        who: Who,
        /// Really do it (default: only report).
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        min_age_days: Option<u32>,
        /// Repeatable; replaces the default promote tags.
        #[arg(long = "promote-tag")]
        promote_tags: Vec<String>,
        /// Do not merge exact duplicates.
        #[arg(long)]
        no_merge: bool,
    },
    /// Write every memory to a zip file.
    Export {
        #[command(flatten)]
        who: Who,
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a zip (our export or a zipped 2.x tree) or a directory (e.g. a 2.x `memory/`).
    Import {
        #[command(flatten)]
        who: Who,
        path: PathBuf,
    },
}

fn memory_type(s: &str) -> Result<MemoryType, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| "must be short_term or long_term".to_owned())
}

fn print_json(v: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Run a memory subcommand.
pub async fn run(config: &Config, action: MemoryAction) -> anyhow::Result<()> {
    let core = super::core(config).await?;
    let result = dispatch(&core, action).await;
    core.store.close().await;
    result
}

async fn dispatch(core: &Core, action: MemoryAction) -> anyhow::Result<()> {
    let m = &core.memories;
    match action {
        MemoryAction::Add { who, title, content, memory_type, tags, scope, metadata } => {
            let content = if content == "-" { std::io::read_to_string(std::io::stdin())? } else { content };
            let metadata = metadata.map(|s| serde_json::from_str(&s)).transpose().context("--metadata must be JSON")?;
            let req = CreateMemoryRequest { title, content, memory_type, tags, metadata, scope };
            print_json(&m.create(user(core, &who, true).await?, &req).await?)
        }
        MemoryAction::Get { who, id } => print_json(&m.get(user(core, &who, false).await?, id).await?),
        MemoryAction::List { who, memory_type, tags, scope, all, limit, cursor } => {
            let status = if all { ListStatus::All } else { ListStatus::Active };
            let req = ListRequest {
                memory_type,
                tags,
                scope,
                status,
                sort: ListSort::Created,
                order: ListOrder::Desc,
                limit,
                cursor,
            };
            print_json(&m.list(user(core, &who, false).await?, &req).await?)
        }
        MemoryAction::Search { who, query, tags, memory_type, scope, include_archived, limit } => {
            let req = SearchRequest { query, tags, memory_type, scope, include_archived, limit };
            print_json(&m.search(user(core, &who, false).await?, &req).await?)
        }
        MemoryAction::Context { who, tier, query, scope, max_tokens, json } => {
            let req = ContextRequest { tier: Some(tier), query, max_tokens, scope };
            let package = m.context(user(core, &who, false).await?, &req).await?;
            if json {
                return print_json(&package);
            }
            println!("{}", package.context);
            Ok(())
        }
        MemoryAction::Consolidate { who, apply, min_age_days, promote_tags, no_merge } => {
            let req = ConsolidateRequest {
                dry_run: Some(!apply),
                min_age_days,
                promote_tags: (!promote_tags.is_empty()).then_some(promote_tags),
                merge_duplicates: Some(!no_merge),
            };
            print_json(&m.consolidate(user(core, &who, false).await?, &req).await?)
        }
        MemoryAction::Export { who, out } => {
            let export = m.export(user(core, &who, false).await?).await?;
            std::fs::write(&out, &export.bytes).with_context(|| format!("writing {}", out.display()))?;
            eprintln!("Exported {} memories to {}", export.manifest.counts.total, out.display());
            print_json(&export.manifest.counts)
        }
        MemoryAction::Import { who, path } => {
            let owner = user(core, &who, true).await?;
            let report = if path.is_dir() {
                m.import_files(owner, read_dir(&path)?).await?
            } else {
                let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                m.import_zip(owner, bytes).await?
            };
            eprintln!("Created {}, skipped {}, failed {}", report.created, report.skipped, report.failed);
            print_json(&report)
        }
    }
}

/// The account for `--user`; created (plan `free`) when `create` and it does not exist.
async fn user(core: &Core, who: &Who, create: bool) -> anyhow::Result<UserId> {
    let email = Email::parse(&who.user).map_err(|e| anyhow::anyhow!("--user: {}", e.message))?;
    if let Some(u) = core.store.find_user_by_email(&email).await? {
        return Ok(u.id);
    }
    anyhow::ensure!(create, "no account with email {email}");
    let u = core.accounts.create_user(NewAccount { email: email.clone(), plan: None, role: None }).await?;
    eprintln!("Created account {email}");
    Ok(u.id)
}

/// Every file under `dir`, paths relative to it (prefixed `memory/` when `dir` is a 2.x
/// `memory` folder). Files over the import size bound are not read.
fn read_dir(dir: &Path) -> anyhow::Result<Vec<ImportFile>> {
    let limits = ImportLimits::default();
    let prefix = if dir.file_name().is_some_and(|n| n == "memory") { "memory/" } else { "" };
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
            .with_context(|| format!("reading {}", d.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries.into_iter().rev() {
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            anyhow::ensure!(
                out.len() < limits.max_files,
                "{} holds more than {} files",
                dir.display(),
                limits.max_files
            );
            let rel: Vec<String> =
                p.strip_prefix(dir)?.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let size = std::fs::metadata(&p)?.len();
            let data = if size > limits.max_file_bytes {
                Err(format!("larger than {} bytes", limits.max_file_bytes))
            } else {
                std::fs::read(&p).map_err(|e| e.to_string())
            };
            out.push(ImportFile { path: format!("{prefix}{}", rel.join("/")), data });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
