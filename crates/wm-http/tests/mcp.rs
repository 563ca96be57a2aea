//! `/mcp` at the HTTP level, on both backends: keys are checked before any MCP processing (401
//! in the error envelope), a session belongs to the account that opened it, and there is no
//! server-to-client event stream (GET is 405). The protocol itself is tested with the official
//! SDK in `tests/interop/test_mcp_*.py`.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wm_testkit::{Backend, backend_tests};

backend_tests!(keys_are_checked_first, a_session_belongs_to_its_account);

const ACCEPT: &str = "application/json, text/event-stream";

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
}

async fn post(app: &TestApp, key: Option<&str>, session: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app.http.post(format!("{}/mcp", app.base)).header("accept", ACCEPT).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(s) = session {
        req = req.header("mcp-session-id", s).header("mcp-protocol-version", "2025-06-18");
    }
    req.send().await.unwrap()
}

async fn keys_are_checked_first(backend: Backend) {
    let app = TestApp::start(backend).await;
    let missing = TestApp::read(post(&app, None, None, &initialize()).await).await;
    assert_error(&missing, StatusCode::UNAUTHORIZED, "unauthorized");
    let bad =
        TestApp::read(post(&app, Some("wm_dev_00000000000000000000000000000000"), None, &initialize()).await).await;
    assert_error(&bad, StatusCode::UNAUTHORIZED, "unauthorized");
    let (_, key) = app.user("mcp@test.io").await;
    let ok = post(&app, Some(&key), None, &initialize()).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.headers().contains_key("mcp-session-id"));
    let stream = app.send(Method::GET, "/mcp", Some(&key), None).await;
    assert_error(&stream, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    app.stop().await;
}

async fn a_session_belongs_to_its_account(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, alice) = app.user("alice@test.io").await;
    let (_, bob) = app.user("bob@test.io").await;
    let opened = post(&app, Some(&alice), None, &initialize()).await;
    let session = opened.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let foreign = TestApp::read(post(&app, Some(&bob), Some(&session), &list).await).await;
    assert_error(&foreign, StatusCode::FORBIDDEN, "forbidden");
    let own = post(&app, Some(&alice), Some(&session), &list).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert!(own.text().await.unwrap().contains("create_memory"));
    let end = |key: String| {
        app.http.delete(format!("{}/mcp", app.base)).bearer_auth(key).header("mcp-session-id", &session).send()
    };
    assert_eq!(end(bob.clone()).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert!(end(alice.clone()).await.unwrap().status().is_success());
    app.stop().await;
}
