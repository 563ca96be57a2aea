//! A real server on a free port, over a fresh database of the chosen backend, with a fixed clock.
#![allow(dead_code)]

use chrono::{Duration, TimeZone, Utc};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use std::sync::Arc;
use wm_core::{AccountsConfig, Core};
use wm_domain::FixedClock;
use wm_domain::email::Email;
use wm_http::HttpSettings;
use wm_store::Store;
use wm_testkit::Backend;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub core: Core,
    pub clock: FixedClock,
    pub admin_key: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn open_store(backend: Backend) -> Arc<dyn Store> {
    let url = backend.fresh_url().await;
    let store: Arc<dyn Store> = match backend {
        Backend::Sqlite => Arc::new(wm_store_sqlite::SqliteStore::connect(&url).await.unwrap()),
        Backend::Postgres => Arc::new(wm_store_postgres::PostgresStore::connect(&url, 8).await.unwrap()),
    };
    store.migrate_up().await.unwrap();
    store
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, HttpSettings { body_limit: 64 * 1024, ..HttpSettings::default() }).await
    }

    pub async fn start_with(backend: Backend, settings: HttpSettings) -> Self {
        let store = open_store(backend).await;
        let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap());
        let core = Core::new(store, Arc::new(clock.clone()), AccountsConfig::default());
        let admin = core.accounts.create_admin_key(&Email::parse("admin@test.io").unwrap(), "test").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = wm_http::state(core.clone(), settings);
        let server = tokio::spawn(wm_http::launch(state, listener, async {
            let _ = stopped.await;
        }));
        Self {
            base,
            http: reqwest::Client::new(),
            core,
            clock,
            admin_key: admin.key.expose().to_owned(),
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn advance(&self, secs: i64) {
        self.clock.advance(Duration::seconds(secs));
    }

    pub async fn send(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.unwrap()).await
    }

    pub async fn read(res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.send(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(key), Some(body)).await
    }

    /// Create a user through the admin API and give them a key.
    pub async fn user(&self, email: &str) -> (String, String) {
        let u = self.post("/api/v1/admin/users", &self.admin_key, serde_json::json!({ "email": email })).await;
        assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
        let id = u.body["id"].as_str().unwrap().to_owned();
        let k = self.post(&format!("/api/v1/admin/users/{id}/keys"), &self.admin_key, serde_json::json!({ "name": "main" })).await;
        assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
        (id, k.body["key"].as_str().unwrap().to_owned())
    }

    /// Stop the server gracefully and wait for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.unwrap().unwrap();
        }
    }
}

/// Assert the error envelope and its code.
pub fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], code, "{}", r.text);
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
    let rid = r.headers.get("x-request-id").unwrap().to_str().unwrap();
    assert_eq!(r.body["error"]["request_id"], rid, "envelope carries the request id");
}
