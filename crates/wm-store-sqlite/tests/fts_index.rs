//! SQLite only: the full-text indexes keyed by owner (migration 0007) stay consistent with
//! `memories` through every kind of write, and survive the migration both ways with data.

use chrono::Utc;
use uuid::Uuid;
use wm_domain::account::Role;
use wm_domain::email::Email;
use wm_domain::ids::UserId;
use wm_domain::memory::{Memory, MemoryStatus, MemoryType, Metadata};
use wm_domain::plan::PlanName;
use wm_store::{AccountStore, Backend, MemoryStore, NewUser, SearchQuery};
use wm_store_sqlite::SqliteStore;

async fn store() -> SqliteStore {
    let store = SqliteStore::connect(&wm_testkit::fresh_sqlite_url()).await.expect("open sqlite");
    store.migrate_up().await.expect("migrate");
    store
}

async fn user(s: &SqliteStore, email: &str) -> UserId {
    let new = NewUser {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        role: Role::User,
        plan: PlanName::free(),
        now: Utc::now(),
    };
    s.create_user(new).await.unwrap().id
}

fn mem(title: &str, content: &str) -> Memory {
    let now = Utc::now();
    let mut m = Memory {
        id: Uuid::now_v7(),
        title: title.into(),
        content: content.into(),
        memory_type: MemoryType::ShortTerm,
        status: MemoryStatus::Active,
        tags: vec!["shared_tag".into()],
        metadata: Metadata::new(),
        scope: None,
        created_at: now,
        updated_at: now,
        accessed_at: now,
        archived_at: None,
        size_bytes: 0,
        content_hash: String::new(),
    };
    m.refresh_derived();
    m
}

/// FTS5's own check of both external-content indexes against their source rows.
async fn integrity_check(s: &SqliteStore) {
    for table in ["memories_fts", "memories_fts_prefix"] {
        sqlx::query(&format!("INSERT INTO {table} ({table}) VALUES ('integrity-check')"))
            .execute(s.pool())
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
}

async fn titles(s: &SqliteStore, owner: UserId, text: &str) -> Vec<String> {
    let q = SearchQuery { text: Some(text.into()), limit: 50, ..SearchQuery::default() };
    let mut t: Vec<_> = s.search_memories(owner, &q).await.unwrap().into_iter().map(|h| h.memory.title).collect();
    t.sort();
    t
}

#[tokio::test]
async fn indexes_follow_inserts_updates_deletes_and_account_deletion() {
    let s = store().await;
    let (a, b) = (user(&s, "a@example.com").await, user(&s, "b@example.com").await);
    let ms = vec![mem("Alpha one", "wombat burrow"), mem("Alpha two", "wombat den")];
    s.insert_memories(a, &ms, None).await.unwrap();
    s.insert_memories(b, &[mem("Beta one", "wombat burrow")], None).await.unwrap();
    integrity_check(&s).await;

    let mut changed = ms[0].clone();
    changed.title = "Alpha renamed".into();
    changed.content = "numbat burrow".into();
    changed.refresh_derived();
    assert!(s.update_memory(a, &changed, None).await.unwrap());
    assert!(s.delete_memory(a, ms[1].id).await.unwrap());
    integrity_check(&s).await;
    assert_eq!(titles(&s, a, "burrow").await, ["Alpha renamed"]);
    assert_eq!(titles(&s, a, "numb*").await, ["Alpha renamed"]);
    assert!(titles(&s, a, "wombat").await.is_empty());
    assert_eq!(titles(&s, b, "wombat").await, ["Beta one"]);

    sqlx::query("DELETE FROM users WHERE id = ?").bind(b.0).execute(s.pool()).await.unwrap();
    integrity_check(&s).await;
    assert!(titles(&s, b, "wombat").await.is_empty(), "cascaded deletes leave the index");
    let nobody = UserId::new();
    assert!(titles(&s, nobody, "burrow").await.is_empty(), "an account without memories");
}

#[tokio::test]
async fn migration_0007_rebuilds_both_ways_with_data() {
    let s = store().await;
    let (a, b) = (user(&s, "a@example.com").await, user(&s, "b@example.com").await);
    s.insert_memories(a, &[mem("Alpha", "quokka island"), mem("Alpha two", "quokka")], None).await.unwrap();
    s.insert_memories(b, &[mem("Beta", "quokka island")], None).await.unwrap();

    // Back to 0006: revert 0007 and every migration after it.
    let later = s.migration_status().await.unwrap().iter().filter(|m| m.applied && m.version >= 7).count();
    s.migrate_down(u32::try_from(later).unwrap()).await.unwrap();
    let owners: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'memory_owners'")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(owners, 0, "0007 reverted");
    integrity_check(&s).await;
    let old: i64 = sqlx::query_scalar("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH 'quokka'")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(old, 3, "0006's index rebuilt from the rows");

    s.migrate_up().await.unwrap();
    integrity_check(&s).await;
    assert_eq!(titles(&s, a, "quokka").await, ["Alpha", "Alpha two"]);
    assert_eq!(titles(&s, b, "isl*").await, ["Beta"]);
    // Writes after the migration go on with the owners numbered by it.
    s.insert_memories(b, &[mem("Beta two", "quokka")], None).await.unwrap();
    integrity_check(&s).await;
    assert_eq!(titles(&s, b, "quokka").await, ["Beta", "Beta two"]);
}
