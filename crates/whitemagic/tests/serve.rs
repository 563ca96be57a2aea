//! The binary as an operator runs it: zero-config start, admin bootstrap, seed idempotency,
//! graceful shutdown with a final flush, configuration errors.

use reqwest::blocking::Client;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wm_testkit::{Backend, free_port};

const SEED_KEY: &str = "wm_test_SeedSeedSeedSeedSeedSeedSeed1234";

struct Server {
    child: Child,
    base: String,
    stderr: PathBuf,
}

fn workdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wm-serve-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bin(dir: &PathBuf, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_whitemagic"));
    cmd.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("LOG_LEVEL", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl Server {
    fn start(dir: &PathBuf, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let stderr = dir.join(format!("stderr-{port}.log"));
        let child = bin(dir, env)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let server = Server { child, base: format!("http://127.0.0.1:{port}"), stderr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Client::new().get(format!("{}/health", server.base)).send().is_err() {
            assert!(Instant::now() < deadline, "server did not start: {}", server.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn get(&self, path: &str, key: &str) -> (u16, Value) {
        let r = Client::new().get(format!("{}{}", self.base, path)).bearer_auth(key).send().unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    /// SIGTERM and wait; returns the exit status code.
    fn terminate(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = self.child.wait().unwrap();
        (status.code().unwrap_or(-1), self.log())
    }
}

/// A test that fails before `terminate` does not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bootstrap_key(log: &str) -> String {
    log.split_whitespace().find(|w| w.starts_with("wm_dev_")).expect("bootstrap key printed").to_owned()
}

#[test]
fn zero_config_start_bootstraps_one_admin_and_shuts_down_gracefully() {
    let dir = workdir();
    // No periodic write during the test: what the restart finds was written at shutdown.
    let env = [("WM_FLUSH_INTERVAL_SECS", "3600")];
    let s = Server::start(&dir, &env);
    let (status, health) = s.get("/health", "");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["backend"], "sqlite");
    assert!(dir.join("data/whitemagic.db").exists(), "SQLite file under ./data/");
    let key = bootstrap_key(&s.log());
    let (status, me) = s.get("/api/v1/user/me", &key);
    assert_eq!(status, 200);
    assert_eq!(me["role"], "admin");
    let (code, log) = s.terminate();
    assert_eq!(code, 0, "clean exit on SIGTERM: {log}");
    assert!(log.contains("whitemagic stopped"));
    assert!(!log.contains('\u{1b}'), "no colour codes when stderr is a file: {log:?}");
    assert!(!log.contains("\"level\":\"ERROR\"") && !log.contains(" ERROR "), "{log}");

    // Key usage and request counts buffered in memory were written on shutdown; a restart
    // prints no new key.
    let s = Server::start(&dir, &env);
    assert!(!s.log().contains("wm_dev_"), "no second bootstrap key: {}", s.log());
    let (_, keys) = s.get("/api/v1/user/keys", &key);
    assert!(keys["keys"][0]["last_used_at"].is_string(), "last_used_at flushed at shutdown: {keys}");
    let (_, usage) = s.get("/api/v1/user/usage?days=1", &key);
    let counted = (&usage["today"]["requests"], &usage["days"][0]["by_group"]);
    assert_eq!(counted, (&json!(2), &json!({ "account": 1, "keys": 1 })), "`/user/me` before the restart: {usage}");
    s.terminate();
}

fn seed_is_idempotent(backend: Backend) {
    let url = tokio::runtime::Runtime::new().unwrap().block_on(backend.fresh_url());
    let dir = workdir();
    let env =
        [("DATABASE_URL", url.as_str()), ("WM_SEED_ADMIN_KEY", SEED_KEY), ("WM_SEED_ADMIN_EMAIL", "ops@example.com")];
    for _ in 0..2 {
        let s = Server::start(&dir, &env);
        let (status, users) = s.get("/api/v1/admin/users?q=ops%40example.com", SEED_KEY);
        assert_eq!(status, 200, "{users}");
        assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
        let (_, all) = s.get("/api/v1/admin/users", SEED_KEY);
        assert_eq!(all["users"].as_array().unwrap().len(), 1, "no bootstrap admin besides the seed: {all}");
        let (_, keys) = s.get("/api/v1/user/keys", SEED_KEY);
        assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
        assert!(!s.log().contains(SEED_KEY), "the seed key never reaches the logs");
        s.terminate();
    }
}

#[test]
fn seed_admin_is_idempotent_on_sqlite() {
    seed_is_idempotent(Backend::Sqlite);
}

#[test]
fn seed_admin_is_idempotent_on_postgres() {
    seed_is_idempotent(Backend::Postgres);
}

/// Two instances on one database and one Redis, keys cached for 10 minutes: a key revoked on
/// one stops working on the other at once (pub/sub), not when the cache expires.
fn revocation_reaches_other_instances(backend: Backend) {
    let url = tokio::runtime::Runtime::new().unwrap().block_on(backend.fresh_url());
    let redis = wm_testkit::redis_url();
    let dir = workdir();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("WM_KEY_CACHE_TTL_SECS", "600"),
        ("WM_SEED_ADMIN_KEY", SEED_KEY),
        ("WM_SEED_ADMIN_EMAIL", "ops@example.com"),
    ];
    let (a, b) = (Server::start(&dir, &env), Server::start(&dir, &env));
    let http = Client::new();
    let user: Value = http
        .post(format!("{}/api/v1/admin/users", a.base))
        .bearer_auth(SEED_KEY)
        .json(&json!({"email": "moved@example.com"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let created: Value = http
        .post(format!("{}/api/v1/admin/users/{}/keys", a.base, user["id"].as_str().unwrap()))
        .bearer_auth(SEED_KEY)
        .json(&json!({"name": "laptop"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let key = created["key"].as_str().unwrap();
    assert_eq!(b.get("/api/v1/user/me", key).0, 200, "instance B has verified (and cached) the key");

    let revoked =
        http.delete(format!("{}/api/v1/user/keys/{}", a.base, created["id"].as_str().unwrap())).bearer_auth(key);
    assert_eq!(revoked.send().unwrap().status().as_u16(), 204);
    assert_eq!(a.get("/api/v1/user/me", key).0, 401, "the revoking instance refuses it on the next request");
    // Delivery is asynchronous: allow it a few seconds, far below the 600 s cache TTL.
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.get("/api/v1/user/me", key).0 != 401 {
        assert!(Instant::now() < deadline, "instance B still accepts the revoked key: {}", b.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    for s in [a, b] {
        let (code, log) = s.terminate();
        assert_eq!(code, 0, "{log}");
        assert!(!log.contains(key), "the key never reaches the logs");
    }
}

#[test]
fn revocation_reaches_other_instances_on_sqlite() {
    revocation_reaches_other_instances(Backend::Sqlite);
}

#[test]
fn revocation_reaches_other_instances_on_postgres() {
    revocation_reaches_other_instances(Backend::Postgres);
}

fn run(dir: &PathBuf, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = bin(dir, env).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn configuration_errors_are_clear_and_fatal() {
    let dir = workdir();
    let (code, _, err) = run(
        &dir,
        &[("WM_SEED_ADMIN_KEY", "wm_test_short"), ("WM_SEED_ADMIN_EMAIL", "a@b.io")],
        &["serve", "--bind", "127.0.0.1:0"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("WM_SEED_ADMIN_KEY"), "{err}");
    assert!(!err.contains("wm_test_short"), "the bad key is not echoed: {err}");
    let (code, _, err) =
        run(&dir, &[("WM_ENV", "production"), ("ALLOWED_ORIGINS", "*")], &["serve", "--bind", "127.0.0.1:0"]);
    assert_ne!(code, 0);
    assert!(err.contains("ALLOWED_ORIGINS"), "{err}");
    let (code, _, err) = run(&dir, &[("DATABASE_URL", "mysql://x")], &["migrate", "status"]);
    assert_ne!(code, 0);
    assert!(err.contains("DATABASE_URL"), "{err}");
    let (code, _, err) = run(&dir, &[("WM_BIND", "not-an-address")], &["config", "show"]);
    assert_ne!(code, 0);
    assert!(err.to_lowercase().contains("bind"), "{err}");
}

#[test]
fn config_show_masks_secrets_and_warns_on_unknown_vars() {
    let dir = workdir();
    std::fs::write(dir.join("wm.toml"), "request_timeout_secs = 77\nbody_limit = 123456\n").unwrap();
    let env = [
        ("DATABASE_URL", "postgres://app:hunter2@db.internal/wm"),
        ("WM_SEED_ADMIN_KEY", SEED_KEY),
        ("WM_BODY_LIMIT", "654321"),
        ("WM_TYPO_SETTING", "1"),
    ];
    let (code, out, err) = run(&dir, &env, &["--config", "wm.toml", "config", "show"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("hunter2") && !out.contains(SEED_KEY) && !err.contains("hunter2"), "{out}{err}");
    assert!(out.contains("postgres://app:********@db.internal/wm"), "{out}");
    assert!(out.contains("request_timeout_secs = 77"), "file layer applies: {out}");
    assert!(out.contains("body_limit = 654321"), "environment beats the file: {out}");
    assert!(err.contains("WM_TYPO_SETTING"), "unknown WM_ variable warned about: {err}");
}

#[test]
fn migrate_and_admin_commands() {
    let dir = workdir();
    let (code, out, err) = run(&dir, &[], &["migrate", "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pending"), "{out}");
    assert_eq!(run(&dir, &[], &["migrate", "up"]).0, 0);
    let (_, out, _) = run(&dir, &[], &["migrate", "status"]);
    assert!(out.contains("applied") && !out.contains("pending"), "{out}");
    assert_eq!(run(&dir, &[], &["migrate", "down", "--steps", "1"]).0, 0);
    let (_, out, _) = run(&dir, &[], &["migrate", "status"]);
    assert!(out.contains("pending"), "{out}");
    let (code, out, err) = run(&dir, &[], &["admin", "create-key", "--email", "Root@Example.com", "--label", "laptop"]);
    assert_eq!(code, 0, "{err}");
    let key = out.trim().to_owned();
    assert!(key.starts_with("wm_dev_") && key.len() == 39, "{out}");
    let s = Server::start(&dir, &[]);
    let (status, me) = s.get("/api/v1/user/me", &key);
    assert_eq!(status, 200);
    assert_eq!(me["email"], "root@example.com");
    assert_eq!(me["role"], "admin");
    assert!(!s.log().contains("wm_dev_"), "an admin exists, so no bootstrap key is printed");
    s.terminate();
}
