//! Proves each wm-testkit helper against the real services (run via `scripts/test`
//! or with the environment from `scripts/services up`).

use std::time::Duration;

use sqlx::{Connection, PgConnection, SqliteConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wm_testkit::{Backend, RedisServer, backend_tests};

/// Raw RESP PING to `redis://host:port/`; Ok(()) only on +PONG.
async fn ping(url: &str) -> Result<(), String> {
    let addr = url
        .strip_prefix("redis://")
        .and_then(|rest| rest.strip_suffix('/'))
        .ok_or_else(|| format!("unexpected redis url {url}"))?;
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.write_all(b"*1\r\n$4\r\nPING\r\n").await.map_err(|e| e.to_string())?;
        let mut buf = [0u8; 7];
        stream.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        if &buf == b"+PONG\r\n" { Ok(()) } else { Err(format!("unexpected reply {:?}", String::from_utf8_lossy(&buf))) }
    };
    tokio::time::timeout(Duration::from_secs(2), attempt).await.map_err(|_| "timed out".to_string())?
}

async fn table_count_pg(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetch_one(conn).await.unwrap()
}

#[tokio::test]
async fn fresh_postgres_databases_are_distinct_empty_and_usable() {
    let a = wm_testkit::fresh_postgres_url().await;
    let b = wm_testkit::fresh_postgres_url().await;
    assert_ne!(a, b);
    assert!(a.contains("/wm_t_"), "{a}");

    let mut conn_a = PgConnection::connect(&a).await.unwrap();
    let db: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&mut conn_a).await.unwrap();
    assert!(a.ends_with(&db), "{a} vs {db}");
    assert_eq!(table_count_pg(&mut conn_a).await, 0);
    sqlx::query("CREATE TABLE t (id int PRIMARY KEY)").execute(&mut conn_a).await.unwrap();
    sqlx::query("INSERT INTO t VALUES (1)").execute(&mut conn_a).await.unwrap();
    assert_eq!(table_count_pg(&mut conn_a).await, 1);

    // The other database did not see that table.
    let mut conn_b = PgConnection::connect(&b).await.unwrap();
    assert_eq!(table_count_pg(&mut conn_b).await, 0);
}

#[tokio::test]
async fn fresh_sqlite_databases_are_distinct_empty_and_usable() {
    let a = wm_testkit::fresh_sqlite_url();
    let b = wm_testkit::fresh_sqlite_url();
    assert_ne!(a, b);
    assert!(a.starts_with("sqlite:///"), "{a}");

    let mut conn = SqliteConnection::connect(&a).await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master").fetch_one(&mut conn).await.unwrap();
    assert_eq!(tables, 0);
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();

    let path = a.strip_prefix("sqlite://").unwrap();
    assert!(std::fs::metadata(path).unwrap().len() > 0);
}

#[tokio::test]
async fn shared_redis_answers() {
    ping(&wm_testkit::redis_url()).await.unwrap();
}

#[tokio::test]
async fn private_redis_can_be_killed_and_restarted_on_the_same_port() {
    let mut server = RedisServer::start().await;
    let url = server.url();
    assert!(url.starts_with("redis://127.0.0.1:") && url.ends_with('/'), "{url}");
    ping(&url).await.unwrap();

    server.kill().await;
    assert!(ping(&url).await.is_err(), "redis still answers after kill");
    server.kill().await; // idempotent

    server.restart().await;
    assert_eq!(server.url(), url);
    ping(&url).await.unwrap();

    drop(server);
    assert!(ping(&url).await.is_err(), "redis still answers after drop");
}

#[test]
fn free_ports_are_bindable() {
    let port = wm_testkit::free_port();
    std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
}

#[test]
fn backend_names() {
    assert_eq!(Backend::Sqlite.name(), "sqlite");
    assert_eq!(Backend::Postgres.name(), "postgres");
}

// `backend_tests!` itself: each function becomes sqlite::NAME and postgres::NAME.

async fn fresh_url_matches_backend(backend: Backend) {
    let url = backend.fresh_url().await;
    let scheme = match backend {
        Backend::Sqlite => "sqlite://",
        Backend::Postgres => "postgres://",
    };
    assert!(url.starts_with(scheme), "{url}");
    // A multi-thread runtime with 2 workers.
    assert_eq!(tokio::runtime::Handle::current().metrics().num_workers(), 2);
}

async fn fallible_tests_work_too(backend: Backend) -> Result<(), String> {
    if backend.fresh_url().await.is_empty() {
        return Err("empty url".into());
    }
    Ok(())
}

backend_tests!(fresh_url_matches_backend, fallible_tests_work_too);
