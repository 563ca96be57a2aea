//! The storage conformance suite, on PostgreSQL.

use wm_store::Backend;
use wm_store_postgres::PostgresStore;

async fn make_store() -> PostgresStore {
    let url = wm_testkit::fresh_postgres_url().await;
    let store = PostgresStore::connect(&url, 4, 2).await.expect("connect postgres");
    store.migrate_up().await.expect("migrate");
    store
}

wm_store::conformance_tests!(make_store);
