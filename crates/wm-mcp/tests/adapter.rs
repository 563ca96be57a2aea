//! The MCP adapter in-process (an rmcp client over an in-memory pipe), on both backends: tools
//! answer exactly what the use-cases answer, failures are tool errors with the REST codes, and
//! resources page through the account.

use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, PaginatedRequestParams, ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};
use std::sync::Arc;
use wm_core::accounts::NewAccount;
use wm_core::memories::{ListRequest, SearchRequest};
use wm_core::{AccountsConfig, Core};
use wm_domain::SystemClock;
use wm_domain::account::Principal;
use wm_domain::email::Email;
use wm_domain::memory::CreateMemoryRequest;
use wm_domain::plan::PlanName;
use wm_mcp::{Caller, WhiteMagicMcp};
use wm_store::Store;
use wm_testkit::{Backend, backend_tests};

type Client = RunningService<RoleClient, ()>;

async fn core(backend: Backend) -> Core {
    let url = backend.fresh_url().await;
    let store: Arc<dyn Store> = match backend {
        Backend::Sqlite => Arc::new(wm_store_sqlite::SqliteStore::connect(&url).await.unwrap()),
        Backend::Postgres => Arc::new(wm_store_postgres::PostgresStore::connect(&url, 4, 2).await.unwrap()),
    };
    store.migrate_up().await.unwrap();
    Core::new(store, Arc::new(SystemClock), AccountsConfig::default())
}

/// A new account on the `pro` plan (quotas well above what the tests create).
async fn account(core: &Core, email: &str) -> Principal {
    let email = Email::parse(email).unwrap();
    let plan = Some(PlanName::parse("pro").unwrap());
    core.accounts.create_user(NewAccount { email: email.clone(), plan, role: None }).await.unwrap();
    core.accounts.local_principal(&email).await.unwrap()
}

/// A client connected to a server acting as `who`.
async fn connect(core: &Core, who: &Principal) -> Client {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = WhiteMagicMcp::new(core.clone(), Caller::Fixed(who.clone()));
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.unwrap()
}

async fn call(client: &Client, tool: &'static str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    client.call_tool(CallToolRequestParams::new(tool).with_arguments(args)).await.unwrap()
}

async fn ok(client: &Client, tool: &'static str, args: Value) -> Value {
    let r = call(client, tool, args).await;
    assert_eq!(r.is_error, Some(false), "{tool}: {:?}", r.content);
    r.structured_content.unwrap()
}

async fn failure(client: &Client, tool: &'static str, args: Value) -> Value {
    let r = call(client, tool, args).await;
    assert_eq!(r.is_error, Some(true), "{tool} succeeded");
    assert!(r.structured_content.is_none());
    let text = &r.content[0].as_text().unwrap().text;
    serde_json::from_str::<Value>(text).unwrap()["error"].clone()
}

fn text(contents: &ResourceContents) -> &str {
    match contents {
        ResourceContents::TextResourceContents { text, .. } => text,
        _ => panic!("not text"),
    }
}

async fn tools_answer_like_the_use_cases(backend: Backend) {
    let core = core(backend).await;
    let who = account(&core, "ada@example.com").await;
    let client = connect(&core, &who).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 11);
    for t in &tools {
        let hints = t.annotations.clone().unwrap();
        assert_eq!(hints.open_world_hint, Some(false), "{}", t.name);
        assert!(t.output_schema.is_some() && !t.input_schema.is_empty(), "{}", t.name);
    }

    let made =
        ok(&client, "create_memory", json!({"title": "Tea", "content": "Green tea at 80C", "tags": ["Drinks"]})).await;
    let id = made["id"].as_str().unwrap().parse().unwrap();
    let stored = core.memories.get(who.user_id, id).await.unwrap();
    assert_eq!(made["title"], stored.title);
    assert_eq!(made["tags"], json!(["drinks"]));
    let req =
        CreateMemoryRequest { title: "Coffee".into(), content: "Espresso, no sugar".into(), ..Default::default() };
    core.memories.create(who.user_id, &req).await.unwrap();

    let listed = ok(&client, "list_memories", json!({})).await;
    let direct = core.memories.list(who.user_id, &ListRequest::default()).await.unwrap();
    assert_eq!(listed, serde_json::to_value(&direct).unwrap());
    let found = ok(&client, "search_memories", json!({"query": "espresso"})).await;
    let search = SearchRequest { query: Some("espresso".into()), ..Default::default() };
    let direct = core.memories.search(who.user_id, &search).await.unwrap();
    assert_eq!(found, serde_json::to_value(direct).unwrap());
    assert_eq!(
        ok(&client, "list_tags", json!({})).await,
        serde_json::to_value(core.memories.tags(who.user_id).await.unwrap()).unwrap()
    );
    assert_eq!(
        ok(&client, "get_stats", json!({})).await,
        serde_json::to_value(core.memories.stats(who.user_id).await.unwrap()).unwrap()
    );
    let ctx = ok(&client, "get_context", json!({"tier": 0, "max_tokens": 200})).await;
    assert!(ctx["token_count"].as_u64().unwrap() <= 200);
    assert_eq!(ok(&client, "consolidate", json!({})).await["dry_run"], true);

    let changed = ok(&client, "update_memory", json!({"id": id, "content": "Green tea at 75C"})).await;
    assert_eq!(changed["content"], "Green tea at 75C");
    assert_eq!(ok(&client, "delete_memory", json!({"id": id})).await["outcome"], "archived");
    assert_eq!(ok(&client, "restore_memory", json!({"id": id})).await["status"], "active");
    assert_eq!(ok(&client, "delete_memory", json!({"id": id, "permanent": true})).await["outcome"], "deleted");
    assert!(core.memories.get(who.user_id, id).await.is_err());
    client.cancel().await.unwrap();
}

async fn failures_are_tool_errors_with_the_rest_codes(backend: Backend) {
    let core = core(backend).await;
    let who = account(&core, "bob@example.com").await;
    let client = connect(&core, &who).await;
    let missing = uuid::Uuid::now_v7();
    assert_eq!(
        failure(&client, "get_memory", json!({"id": missing})).await,
        json!({"code": "not_found", "message": "memory not found"})
    );
    let e = failure(&client, "create_memory", json!({"title": "", "content": "x"})).await;
    assert_eq!((e["code"].as_str(), e["details"]["field"].as_str()), (Some("validation_failed"), Some("title")));
    let e = failure(&client, "create_memory", json!({"title": "t", "content": "x", "extra": true})).await;
    assert_eq!(e["details"]["field"], "extra");
    let e = failure(&client, "search_memories", json!({"limit": "many"})).await;
    assert_eq!(e["details"]["field"], "limit");
    let made = ok(&client, "create_memory", json!({"title": "t", "content": "x"})).await;
    let e = failure(&client, "restore_memory", json!({"id": made["id"]})).await;
    assert_eq!(e, json!({"code": "conflict", "message": "this memory is not archived"}));
    // Another account's memory does not exist for this one.
    let other = account(&core, "eve@example.com").await;
    let theirs = connect(&core, &other).await;
    assert_eq!(failure(&theirs, "get_memory", json!({"id": made["id"]})).await["code"], "not_found");
    assert_eq!(ok(&client, "get_stats", json!({})).await["total"], 1, "the session still works");
    client.cancel().await.unwrap();
    theirs.cancel().await.unwrap();
}

async fn resources_page_through_the_account(backend: Backend) {
    let core = core(backend).await;
    let who = account(&core, "cy@example.com").await;
    for i in 0..53 {
        let req = CreateMemoryRequest { title: format!("m{i}"), content: format!("c{i}"), ..Default::default() };
        core.memories.create(who.user_id, &req).await.unwrap();
    }
    let client = connect(&core, &who).await;
    let first = client.list_resources(None).await.unwrap();
    assert_eq!(first.resources.len(), 4 + wm_mcp::RESOURCE_PAGE as usize);
    let cursor = first.next_cursor.clone().expect("a second page");
    let second =
        client.list_resources(Some(PaginatedRequestParams::default().with_cursor(Some(cursor)))).await.unwrap();
    assert_eq!((second.resources.len(), second.next_cursor), (3, None));

    let page: Value = serde_json::from_str(text(
        &client.read_resource(ReadResourceRequestParams::new("memory://short_term")).await.unwrap().contents[0],
    ))
    .unwrap();
    let next = page["next_uri"].as_str().unwrap().to_owned();
    let rest: Value = serde_json::from_str(text(
        &client.read_resource(ReadResourceRequestParams::new(next)).await.unwrap().contents[0],
    ))
    .unwrap();
    assert_eq!(page["memories"].as_array().unwrap().len() + rest["memories"].as_array().unwrap().len(), 53);
    let one = &first.resources[4].uri;
    let md = client.read_resource(ReadResourceRequestParams::new(one.clone())).await.unwrap();
    assert!(text(&md.contents[0]).starts_with("---\n"));
    assert!(client.read_resource(ReadResourceRequestParams::new("memory://nowhere")).await.is_err());
    client.cancel().await.unwrap();
}

backend_tests!(
    tools_answer_like_the_use_cases,
    failures_are_tool_errors_with_the_rest_codes,
    resources_page_through_the_account
);
