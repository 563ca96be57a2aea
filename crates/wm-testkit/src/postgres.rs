//! Fresh PostgreSQL databases on the server at `WM_TEST_POSTGRES_URL`.

use sqlx::{Connection, Executor, PgConnection};

use crate::required_env;

/// URL of a brand-new, empty PostgreSQL database.
///
/// Runs `CREATE DATABASE wm_t_<uuid>` on the server at `WM_TEST_POSTGRES_URL`
/// and returns that URL with the new database name. Panics with instructions
/// when the variable is unset (tests never skip silently). The databases are not
/// dropped: the server is a throwaway one.
pub async fn fresh_postgres_url() -> String {
    let admin_url = required_env("WM_TEST_POSTGRES_URL");
    let name = format!("wm_t_{}", uuid::Uuid::new_v4().simple());

    let mut conn = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "wm-testkit: cannot connect to WM_TEST_POSTGRES_URL={admin_url}: {e}. \
             Is the test PostgreSQL running (`scripts/services up`)?"
        )
    });
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("wm-testkit: CREATE DATABASE {name} failed: {e}"));
    // Best effort: the database exists whatever happens to this connection.
    let _ = conn.close().await;

    with_database(&admin_url, &name)
}

/// `url` with its database (the path) replaced by `database`, query kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_and_keeps_the_rest() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(with_database("postgres://u:p@h:1", "x"), "postgres://u:p@h:1/x");
        assert_eq!(with_database("postgresql://h/db?sslmode=disable", "x"), "postgresql://h/x?sslmode=disable");
    }
}
