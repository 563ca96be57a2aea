-- Same name as PostgreSQL's 0008, which also tunes its search plans. Here:
-- `memories_user_hash` (user_id, content_hash) served no query (duplicates are grouped in Rust
-- during consolidation); dropping it takes one index write off every create.
DROP INDEX IF EXISTS memories_user_hash;
