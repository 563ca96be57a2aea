//! A real server on a free port, over a fresh database of the chosen backend, with a fixed clock.
#![allow(dead_code)]

use chrono::{Duration, TimeZone, Utc};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use std::sync::Arc;
use wm_core::LimitsConfig;
use wm_core::{AccountsConfig, Core};
use wm_domain::FixedClock;
use wm_domain::email::Email;
use wm_http::HttpSettings;
use wm_limits::{FallbackLimiter, LocalLimiter};
use wm_store::Store;
use wm_testkit::Backend;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub core: Core,
    pub clock: FixedClock,
    pub admin_key: String,
    /// The database URL (give it to [`TestOptions::database_url`] to share the database).
    pub db_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// How to start a [`TestApp`]. The default is what [`TestApp::start`] does: a fresh database,
/// in-process limiter, and no request limits, metering or quotas (suites of other features
/// make many requests from free accounts).
#[derive(Debug, Clone)]
pub struct TestOptions {
    pub settings: HttpSettings,
    /// Use this database (e.g. another app's [`TestApp::db_url`]) instead of a fresh one.
    pub database_url: Option<String>,
    /// Share rate limits through this Redis instead of deciding in-process.
    pub redis_url: Option<String>,
    pub limits: LimitsConfig,
    /// Billing settings (plan map, SMTP, Whop API...); the defaults when `None`.
    pub billing: Option<wm_core::BillingConfig>,
    /// The in-process limiter reads the app's fixed clock (days and months as the usage
    /// records see them) instead of the system clock (real seconds, e.g. to wait for a
    /// `Retry-After`).
    pub limiter_on_app_clock: bool,
    /// The app's fixed clock starts at the real time (the day Redis's clock is in) instead of
    /// 2026-11-23T12:00Z.
    pub real_date: bool,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            settings: HttpSettings { body_limit: 64 * 1024, ..HttpSettings::default() },
            database_url: None,
            redis_url: None,
            limits: LimitsConfig::off(),
            billing: None,
            limiter_on_app_clock: false,
            real_date: false,
        }
    }
}

impl TestOptions {
    /// Request limits, metering and quotas on (the production defaults), in-process.
    pub fn limited() -> Self {
        Self { limits: LimitsConfig::default(), ..Self::default() }
    }
}

/// The app's fixed clock, as the in-process limiter's clock.
struct LimiterClock(FixedClock);

impl wm_limits::Clock for LimiterClock {
    fn now_micros(&self) -> u64 {
        u64::try_from(wm_domain::Clock::now(&self.0).timestamp_micros()).unwrap_or(0)
    }
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
    open_store_at(backend, &backend.fresh_url().await).await
}

/// Open (and migrate) the database at `url`.
pub async fn open_store_at(backend: Backend, url: &str) -> Arc<dyn Store> {
    let url = url.to_owned();
    let store: Arc<dyn Store> = match backend {
        Backend::Sqlite => Arc::new(wm_store_sqlite::SqliteStore::connect(&url).await.unwrap()),
        Backend::Postgres => Arc::new(wm_store_postgres::PostgresStore::connect(&url, 8, 2).await.unwrap()),
    };
    store.migrate_up().await.unwrap();
    store
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, HttpSettings { body_limit: 64 * 1024, ..HttpSettings::default() }).await
    }

    pub async fn start_with(backend: Backend, settings: HttpSettings) -> Self {
        Self::start_with_options(backend, TestOptions { settings, ..TestOptions::default() }).await
    }

    /// Start with explicit options: shared database, Redis, limits (see [`TestOptions`]).
    pub async fn start_with_options(backend: Backend, options: TestOptions) -> Self {
        let db_url = match options.database_url {
            Some(url) => url,
            None => backend.fresh_url().await,
        };
        let store = open_store_at(backend, &db_url).await;
        let start = if options.real_date { Utc::now() } else { Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap() };
        let clock = FixedClock::new(start);
        let local = match options.limiter_on_app_clock {
            true => LocalLimiter::with_clock(Arc::new(LimiterClock(clock.clone()))),
            false => LocalLimiter::new(),
        };
        let limiter = match &options.redis_url {
            Some(url) => FallbackLimiter::connect(url, local).await.unwrap(),
            None => FallbackLimiter::local_only(local),
        };
        let core =
            Core::new(store, Arc::new(clock.clone()), AccountsConfig::default()).with_limits(options.limits, limiter);
        let core = match options.billing {
            Some(billing) => core.with_billing(billing),
            None => core,
        };
        core.limits.catch_up_redis().await; // as `serve` does before listening
        let settings = options.settings;
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
            db_url,
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
        let k = self
            .post(&format!("/api/v1/admin/users/{id}/keys"), &self.admin_key, serde_json::json!({ "name": "main" }))
            .await;
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

/// A response with its raw bytes (for binary bodies such as zip files).
#[derive(Debug)]
pub struct RawReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl TestApp {
    /// `PATCH`/`PUT`/`DELETE`... with an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, key: &str, body: Option<Value>) -> Reply {
        self.send(method, path, Some(key), body).await
    }

    /// Create a memory; asserts 201 and returns it.
    pub async fn memory(&self, key: &str, body: Value) -> Value {
        let r = self.post("/api/v1/memories", key, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    /// A request with a raw body and content type; the response read as bytes.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        key: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> RawReply {
        let mut req = self.http.request(method, format!("{}{}", self.base, path)).bearer_auth(key).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        RawReply { status: res.status(), headers: res.headers().clone(), bytes: res.bytes().await.unwrap().to_vec() }
    }

    /// `POST /api/v1/import` with a zip body; returns the parsed reply.
    pub async fn import_zip(&self, key: &str, zip: Vec<u8>) -> Reply {
        let r = self.raw(Method::POST, "/api/v1/import", key, Some("application/zip"), zip).await;
        let text = String::from_utf8_lossy(&r.bytes).into_owned();
        Reply { status: r.status, headers: r.headers, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
    }

    /// Every memory of the account behind `key` (any status), oldest first, without touching them.
    pub async fn all_memories(&self, key: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/v1/memories?status=all&order=asc&limit=100".to_owned();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let r = self.get(&path, key).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            out.extend(r.body["memories"].as_array().unwrap().iter().cloned());
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }
}
