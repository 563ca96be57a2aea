-- `memories_user_hash` (user_id, content_hash) served no query (duplicates are grouped in Rust
-- during consolidation); dropping it takes one index write off every create.
DROP INDEX IF EXISTS memories_user_hash;
