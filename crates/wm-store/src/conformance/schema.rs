use crate::Store;

/// All migrations apply, revert and re-apply cleanly.
pub async fn schema_migrations_round_trip(s: &dyn Store) {
    let status = s.migration_status().await.unwrap();
    assert!(!status.is_empty());
    assert!(status.iter().all(|m| m.applied), "fresh store is fully migrated: {status:?}");
    s.migrate_down(status.len() as u32).await.unwrap();
    assert!(s.migration_status().await.unwrap().iter().all(|m| !m.applied));
    s.migrate_up().await.unwrap();
    assert!(s.migration_status().await.unwrap().iter().all(|m| m.applied));
    s.ping().await.unwrap();
}
