//! The storage conformance suite, on SQLite.

use wm_store::Backend;
use wm_store_sqlite::SqliteStore;

async fn make_store() -> SqliteStore {
    let store = SqliteStore::connect(&wm_testkit::fresh_sqlite_url()).await.expect("open sqlite");
    store.migrate_up().await.expect("migrate");
    store
}

wm_store::conformance_tests!(make_store);
